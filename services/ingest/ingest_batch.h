/*  =========================================================================
    ingest_batch - records decoded by the ingest actor, waiting to be
    written in one transaction by the writer

    A batch owns copies of the undelivered-message payloads (the received
    frames are gone by the time it is written) and the counter deltas of
    the messages it covers, so that a batch carries everything the writer
    needs and the two threads share nothing else.
    ========================================================================= */

#ifndef INGEST_BATCH_H_INCLUDED
#define INGEST_BATCH_H_INCLUDED

#include "audit_counters.h"
#include "audit_record.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Room for undelivered-message payloads in one batch; a batch whose
//  payloads would overflow it is written first
#define INGEST_BATCH_ARENA_SIZE (8 * 1024 * 1024)

typedef struct {
    audit_record_t *records;
    audit_store_outcome_t *outcomes;
    size_t count;
    size_t capacity;
    uint8_t *arena;                 //  copies of mq payloads
    size_t arena_used;
    audit_counters_t *counters;     //  deltas of the messages in this batch
    int64_t received;               //  messages taken in, counted here and
                                    //  not by name: this is once per message
    int64_t first_ms;               //  when the first record arrived, 0 if none
} ingest_batch_t;

//  Create an empty batch of capacity records. NULL on allocation failure.
ingest_batch_t *
    ingest_batch_new (size_t capacity);

//  Destroy; safe on NULL and twice.
void
    ingest_batch_destroy (ingest_batch_t **self_p);

//  The next free record slot, or NULL when the batch is full.
audit_record_t *
    ingest_batch_slot (ingest_batch_t *self);

//  Keep the record in the slot: copies an mq payload into the arena.
//  Returns 0, or -1 when the arena cannot hold the payload (the caller
//  writes the batch first, then commits the same slot to a fresh one).
int
    ingest_batch_commit (ingest_batch_t *self, int64_t now_ms);

//  True when the batch has records or counter deltas worth writing.
bool
    ingest_batch_has_work (ingest_batch_t *self);

//  Empty the batch for reuse (counter deltas included).
void
    ingest_batch_reset (ingest_batch_t *self);

#ifdef __cplusplus
}
#endif

#endif
