/*  =========================================================================
    audit_actor - the one synchronous command every worker actor takes

    The workers' actors (ingest, query server, janitor) open their sockets
    and stores on a START command rather than in zactor_new, because
    zactor_new cannot say that start-up failed; the actor answers "i"
    0 or -1 and main exits non-zero on -1.
    ========================================================================= */

#ifndef AUDIT_ACTOR_H_INCLUDED
#define AUDIT_ACTOR_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Send command to the actor and wait for its "i" answer: the answer, or
//  -1 when none came.
int
    audit_actor_ask (zactor_t *actor, const char *command);

#ifdef __cplusplus
}
#endif

#endif
