/*  =========================================================================
    ingest_batch - records decoded by the ingest actor, waiting to be
    written in one transaction by the writer

    The decoder writes each message into the batch's one scratch record
    (audit_record_t is large: a fixed slot per identifier field), and
    ingest_batch_commit packs it into the batch's byte arena: the scalars,
    then only the present texts, NUL-terminated, and any undelivered-message
    payload (the received frames are gone by the time it is written). So a
    batch of 65,536 typical events takes a few MiB, not 140. A batch also
    owns the counter deltas of the messages it covers, so that it carries
    everything the writer needs and the two threads share nothing else.
    ========================================================================= */

#ifndef INGEST_BATCH_H_INCLUDED
#define INGEST_BATCH_H_INCLUDED

#include <czmq.h>

#include "audit_counters.h"
#include "audit_ident.h"
#include "audit_record.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Room for packed records and mq payloads in one batch; a batch whose
//  arena would overflow is written first. Only the pages used count.
#define INGEST_BATCH_ARENA_SIZE (16 * 1024 * 1024)
//  Producers one batch settles events of, at most; events of more are
//  stored but settle in a later batch, when they are resent
#define INGEST_BATCH_PRODUCERS_MAX 1024

//  One message that settles a producer's seq, in arrival order: a kept
//  record (stored or a duplicate) or a rejection, which leaves no row
//  but is settled all the same and acknowledged with its reason
typedef struct {
    uint64_t seq;
    uint32_t producer;              //  index in the batch's producers
    uint8_t reason;                 //  INGEST_SETTLE_ACCEPTED, or why rejected
    char event_id [AUDIT_UUID_TEXT_LEN + 1];    //  "" unless it parsed (a
                                    //  run's seq 1 resent is known by it)
    const char *field;              //  the key that broke the rule (a static
                                    //  name from the proto tables) or NULL
} ingest_batch_settled_t;

typedef struct {
    audit_record_t scratch;         //  the record being decoded, or unpacked
    uint32_t *offsets;              //  where each packed record starts
    audit_store_outcome_t *outcomes;
    size_t count;
    size_t capacity;
    unsigned kinds;                 //  bit per audit_topic_kind_t present
    uint8_t *arena;                 //  packed records and mq payloads
    size_t arena_used;
    audit_counters_t *counters;     //  deltas of the messages in this batch
    int64_t received;               //  messages taken in, counted here and
                                    //  not by name: this is once per message
    int64_t first_ms;               //  when the first record arrived, 0 if none
    ingest_batch_settled_t *settled;    //  capacity of them
    size_t settled_count;
    audit_ident_t *producers;       //  INGEST_BATCH_PRODUCERS_MAX of them
    size_t producer_count;
    zhashx_t *producer_at;          //  producer_id -> index + 1
    //  Filled by the writer when the batch's transactions committed: each
    //  producer's settled seq, or INGEST_BATCH_UNFOLLOWED
    uint64_t *acked;
    bool committed;
} ingest_batch_t;

#define INGEST_BATCH_UNFOLLOWED UINT64_MAX

//  Create an empty batch of capacity records. NULL on allocation failure.
ingest_batch_t *
    ingest_batch_new (size_t capacity);

//  Destroy; safe on NULL and twice.
void
    ingest_batch_destroy (ingest_batch_t **self_p);

//  The scratch record to decode the next message into, or NULL when the
//  batch is full (of records, or of settling messages).
audit_record_t *
    ingest_batch_slot (ingest_batch_t *self);

//  Keep the record in the slot: packs it (and an mq payload) into the
//  arena. Returns 0, or -1 when the arena cannot hold it (the caller
//  writes the batch first, then commits the same record to a fresh one).
int
    ingest_batch_commit (ingest_batch_t *self, int64_t now_ms);

//  Unpack record index (< count) into the scratch record and return it;
//  valid until the next call on this batch. mq payloads point into the
//  arena.
const audit_record_t *
    ingest_batch_record (ingest_batch_t *self, size_t index);

//  Note a message of producer_id with seq that settles, after its record
//  was kept (ingest_batch_commit) or it was rejected (reason, event_id
//  text or "", field or NULL). Returns 0, or -1 when the batch follows
//  too many producers already (the message does not settle here).
int
    ingest_batch_settle (ingest_batch_t *self, const char *producer_id, uint64_t seq,
                         audit_reason_t reason, const char *event_id, const char *field);

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
