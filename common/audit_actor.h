/*  =========================================================================
    audit_actor - how a worker's actors start and say that they could not

    zactor_new cannot say that an actor's set-up failed: CZMQ drops the
    status of the handshake signal. So every actor here is made with
    audit_actor_new, and its handler reports its set-up with
    audit_actor_ready, a second signal whose status is read; an actor
    whose set-up failed is never handed out.

    The workers' main actors (ingest, query server, janitor) open their
    sockets and stores on a START command, which audit_worker sends with
    audit_actor_ask; the actor answers "i" 0 or -1 (the reason logged),
    and main exits non-zero on -1.
    ========================================================================= */

#ifndef AUDIT_ACTOR_H_INCLUDED
#define AUDIT_ACTOR_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Start an actor whose handler calls audit_actor_ready: the actor, or
//  NULL when its set-up failed (the handler has logged why).
zactor_t *
    audit_actor_new (zactor_fn handler, void *args);

//  What a handler calls once, when its set-up is done: rc 0 when it is
//  ready, else -1, after which the handler returns at once.
void
    audit_actor_ready (zsock_t *pipe, int rc);

//  Send command to the actor and wait for its "i" answer: the answer, or
//  -1 when none came.
int
    audit_actor_ask (zactor_t *actor, const char *command);

#ifdef __cplusplus
}
#endif

#endif
