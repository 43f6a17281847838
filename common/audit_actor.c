/*  =========================================================================
    audit_actor - the one synchronous command every worker actor takes
    ========================================================================= */

#include "audit_actor.h"

int
audit_actor_ask (zactor_t *actor, const char *command)
{
    int rc = -1;
    if (zstr_send (actor, command) != 0 || zsock_recv (actor, "i", &rc) == -1)
        return -1;
    return rc;
}
