/*  =========================================================================
    audit_sender - the producer's background thread (a CZMQ zactor): the
    group commit into the outbox, the sends and resends, the hellos and
    the acks

    It owns the outbox and both sockets once started. Publishing threads
    wake it through its pipe (a signal, sent under the handoff's mutex, so
    the pipe is used by one thread at a time); "$TERM" stops it after a
    last commit of what is queued.
    ========================================================================= */

#ifndef AUDIT_SENDER_H_INCLUDED
#define AUDIT_SENDER_H_INCLUDED

#include <czmq.h>

#include "audit_handoff.h"
#include "audit_outbox.h"
#include "audit_producer.h"
#include "audit_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

//  What the thread is given; it owns outbox, pub and dealer from then on
//  and destroys them when it stops. The struct outlives the thread.
typedef struct {
    audit_handoff_t *handoff;
    audit_outbox_t *outbox;
    zsock_t *pub;                   //  an XPUB connected to the ingest endpoint
    zsock_t *dealer;                //  a DEALER connected to the ack endpoint
    char producer_id [AUDIT_IDENT_MAX + 1];
    audit_producer_options_t options;
} audit_sender_args_t;

//  The actor's body, for zactor_new (audit_sender_actor, args).
void
    audit_sender_actor (zsock_t *pipe, void *args);

#ifdef __cplusplus
}
#endif

#endif
