/*  =========================================================================
    ingest_acks - the acknowledgement ROUTER (contract: "Acknowledgements")

    Lives on the ingest actor's thread. A producer's DEALER says hello
    for its producer_id and is answered at once with the seq settled so
    far; after every committed batch that settled events of that producer,
    each connection that said hello for it gets an ack with the settled
    seq and the batch's rejections of it (AUDIT_ACK_REJECTED_MAX per
    message, more messages when there are more; each but the last carries
    the seq just below the next rejection, so that a producer that has
    heard seq N has heard every rejection up to N). A connection is
    forgotten when a send finds it gone. A message that is not a hello
    is counted (ingest.ack_malformed), logged once, and answered with
    nothing.
    ========================================================================= */

#ifndef INGEST_ACKS_H_INCLUDED
#define INGEST_ACKS_H_INCLUDED

#include <czmq.h>

#include "audit_counters.h"
#include "audit_zap.h"
#include "ingest_batch.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Connections that said hello for one producer, at most; a hello past
//  that is answered but gets no later acks
#define INGEST_ACKS_PEERS_MAX   16
//  Messages the ROUTER queues for one connection before acks to it are
//  dropped (the producer says hello again after a second of silence)
#define INGEST_ACKS_SNDHWM      10000

typedef struct _ingest_acks_t ingest_acks_t;

//  Bind the ROUTER at endpoint, following at most producers_max
//  producers, a CURVE server with curve (else plaintext, beyond loopback
//  only when allow_plaintext). NULL when it cannot bind (the reason is
//  logged).
ingest_acks_t *
    ingest_acks_new (const char *endpoint, size_t producers_max, const audit_curve_t *curve,
                     bool allow_plaintext);

//  With CURVE: a hello is answered only when the certificate of its
//  connection, in zap, names the producer it says hello for; any other
//  is counted (ingest.ack_refused) and answered with nothing.
void
    ingest_acks_guard (ingest_acks_t *self, audit_zap_t *zap);

//  Close the socket; safe on NULL and twice.
void
    ingest_acks_destroy (ingest_acks_t **self_p);

//  The socket, for the actor's poller.
zsock_t *
    ingest_acks_socket (ingest_acks_t *self);

//  A producer's acknowledged seq as committed (at start, from the store).
void
    ingest_acks_load (ingest_acks_t *self, const char *producer_id, uint64_t acked);

//  Take what the socket holds: answer each hello, count into counters
//  what is not one.
void
    ingest_acks_recv (ingest_acks_t *self, audit_counters_t *counters);

//  batch committed (batch->committed): acknowledge each producer it
//  settled to every connection that said hello for it.
void
    ingest_acks_batch (ingest_acks_t *self, const ingest_batch_t *batch);

#ifdef __cplusplus
}
#endif

#endif
