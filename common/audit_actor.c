/*  =========================================================================
    audit_actor - how a worker's actors start and say that they could not
    ========================================================================= */

#include "audit_actor.h"

zactor_t *
audit_actor_new (zactor_fn handler, void *args)
{
    zactor_t *actor = zactor_new (handler, args);
    //  zactor_new has taken the handshake; the set-up's own status follows
    if (actor && zsock_wait (actor) != 0)
        zactor_destroy (&actor);
    return actor;
}

void
audit_actor_ready (zsock_t *pipe, int rc)
{
    zsock_signal (pipe, 0);             //  zactor_new's handshake
    zsock_signal (pipe, rc == 0 ? 0 : 1);
}

int
audit_actor_ask (zactor_t *actor, const char *command)
{
    int rc = -1;
    if (zstr_send (actor, command) != 0 || zsock_recv (actor, "i", &rc) == -1)
        return -1;
    return rc;
}
