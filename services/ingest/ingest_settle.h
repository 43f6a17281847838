/*  =========================================================================
    ingest_settle - each producer's settled seq (contract:
    "Acknowledgements"), its runs, gaps and rejections

    Owned by the writer thread. A producer's watermark W is the highest
    seq with 1..W all settled: stored, a duplicate, or rejected. Memory is
    a few numbers per producer: an event above W + 1 is stored but does
    not move W; the producer resends everything above W and those arrive
    as duplicates, which settle then. Each batch's changes are tentative
    (begin, event..., then commit when its transaction committed, or
    abort), so the state held is always what audit.db holds.
    ========================================================================= */

#ifndef INGEST_SETTLE_H_INCLUDED
#define INGEST_SETTLE_H_INCLUDED

#include "audit_store_producers.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A reason that means "not rejected" (stored or a duplicate)
#define INGEST_SETTLE_ACCEPTED  AUDIT_REASON_COUNT

typedef struct _ingest_settle_t ingest_settle_t;

//  Follow at most producers_max producers; events of others are stored
//  and counted but not followed, so made-up ids cannot grow memory.
//  NULL on allocation failure.
ingest_settle_t *
    ingest_settle_new (size_t producers_max);

//  Destroy; safe on NULL and twice.
void
    ingest_settle_destroy (ingest_settle_t **self_p);

//  Take a producer's committed state (at start, from the store). 0, or -1
//  when full or out of memory.
int
    ingest_settle_load (ingest_settle_t *self, const audit_store_producer_t *producer);

//  Start a batch's tentative changes, dropping any that were not ended.
void
    ingest_settle_begin (ingest_settle_t *self);

//  One message of producer with seq, in arrival order: reason is
//  INGEST_SETTLE_ACCEPTED or why it was rejected; event_id its id as text,
//  "" when it did not parse. Returns the seqs it found missing (a gap, 0
//  when none) for the gaps counter.
uint64_t
    ingest_settle_event (ingest_settle_t *self, const char *producer_id, uint64_t seq,
                         audit_reason_t reason, const char *event_id, int64_t now_ms);

//  The states the batch changed, *count of them, for its transaction;
//  valid until the next begin, commit or abort.
const audit_store_producer_t *
    ingest_settle_changed (ingest_settle_t *self, size_t *count);

//  The batch's transaction committed: its changes are the state now.
void
    ingest_settle_commit (ingest_settle_t *self);

//  The batch's transaction failed: forget its changes.
void
    ingest_settle_abort (ingest_settle_t *self);

//  The committed state of a producer, or NULL when it is not followed.
const audit_store_producer_t *
    ingest_settle_state (ingest_settle_t *self, const char *producer_id);

#ifdef __cplusplus
}
#endif

#endif
