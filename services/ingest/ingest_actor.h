/*  =========================================================================
    ingest_actor - receives published events, validates them once, and
    hands them in batches to the writer

    Commands on its pipe:
      START        start the ZAP handler (with CURVE), bind the SUB and ack
                   sockets and open the stores; replies "i" 0 on success or
                   -1 (a reason has been logged)
      RELOAD       re-read the producers' certificates (SIGHUP)
      STOP         take in every message already received and commit them
                   (unless the disk is full: then give up the batches held,
                   unacknowledged, so their producers resend them); replies
                   "8" the records held and not stored
      $TERM        the same when no STOP came before, save the counters, stop
    ========================================================================= */

#ifndef INGEST_ACTOR_H_INCLUDED
#define INGEST_ACTOR_H_INCLUDED

#include <czmq.h>

#include "audit_signer.h"

#include "audit_curve.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Most messages taken from the socket in one wake-up, so that a burst does
//  not pay one poll per message and the pipe is still heard between bursts
#define INGEST_ACTOR_BURST          1024
//  Batches in flight: one filling, one being written
#define INGEST_ACTOR_BATCHES        2
//  Largest frame the socket accepts; libzmq drops a peer that sends more.
//  Well above the largest valid body so oversized ones arrive and are
//  counted as malformed instead of silently cutting the producer off
#define INGEST_ACTOR_MAXMSGSIZE     (1024 * 1024)
//  Longest the stop takes in what libzmq holds (more is not acknowledged,
//  so its producers resend it)
#define INGEST_ACTOR_DRAIN_MS       2000
//  The stop takes in messages until none came for this long (or the drain
//  time is up): what TCP delivered reaches the socket a little later
#define INGEST_ACTOR_DRAIN_QUIET_MS 100
//  Longest wait for the writer to give back its batches at STOP
#define INGEST_ACTOR_STOP_MS        5000
//  Producers the ack socket follows; more are answered seq 0 (the writer
//  follows as many for their settled seq and gaps)
#define INGEST_ACTOR_PRODUCERS_MAX  10000

typedef struct {
    const char *endpoint;           //  where the SUB socket binds
    const char *ack_endpoint;       //  where the acknowledgement ROUTER binds
    const char *data_dir;           //  where the stores live
    int rcvhwm;                     //  receive high-water mark, messages
    size_t max_connections;         //  on both sockets; 0: the fd limit's
    size_t memory_guard;            //  RSS bytes past which a peer is dropped; 0: none
    size_t batch_size;              //  records per transaction, at most
    int flush_ms;                   //  longest wait before a partial commit
    const audit_curve_t *curve;     //  the server's keys; NULL: plaintext
    const char *producer_keys_dir;  //  with curve: the producers' certificates
    bool allow_plaintext;           //  without curve: bind beyond loopback too
    const audit_signer_t *signer;   //  signs the checkpoints; NULL: none signed
    int checkpoint_interval_ms;     //  between two of a growing log
} ingest_options_t;

//  Create the actor; the options are copied before this returns. NULL
//  when its thread cannot set up (the reason is logged).
zactor_t *
    ingest_actor_new (const ingest_options_t *options);

#ifdef __cplusplus
}
#endif

#endif
