/*  =========================================================================
    ingest_writer - the one thread that writes to the stores
    ========================================================================= */

#include "ingest_writer.h"
#include "ingest_batch.h"
#include "ingest_settle.h"

#include "audit_actor.h"
#include "audit_ident.h"
#include "audit_log.h"
#include "audit_time.h"

typedef struct {
    zsock_t *pipe;
    audit_store_t *store;
    audit_counters_t *pending;      //  deltas of lost batches, not yet in audit.db
    ingest_settle_t *settle;        //  each producer's settled seq, as committed
    int64_t flushed_ms;
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        audit_counters_destroy (&self->pending);
        ingest_settle_destroy (&self->settle);
        audit_store_destroy (&self->store);
        free (self);
        *self_p = NULL;
    }
}

//  Gap counting and the acknowledged seqs go on from where they were
static void
s_load_producer (const audit_store_producer_t *producer, void *arg)
{
    if (ingest_settle_load ((ingest_settle_t *) arg, producer) != 0)
        audit_log_warn ("msg=producer_not_followed reason=too_many_producers producer=%s",
                        producer->producer_id);
}

static self_t *
s_self_new (zsock_t *pipe, audit_store_t *store)
{
    self_t *self = calloc (1, sizeof *self);
    if (!self) {
        audit_store_destroy (&store);
        return NULL;
    }
    self->pipe = pipe;
    self->store = store;
    self->pending = audit_counters_new ();
    self->settle = ingest_settle_new (INGEST_WRITER_PRODUCERS_MAX);
    self->flushed_ms = audit_time_now_ms ();
    //  A commit's checkpoint comes after its acks (s_handle_batch): a
    //  producer waits for its ack, not for our WAL housekeeping
    audit_store_housekeeping_defer (store);
    if (!self->pending || !self->settle
    ||  audit_store_producers_read (store, s_load_producer, self->settle) != 0)
        s_self_destroy (&self);
    return self;
}

static void
s_flush_counters (self_t *self)
{
    if (audit_counters_size (self->pending) > 0
    &&  audit_store_counters_flush (self->store, self->pending) != 0)
        audit_log_error ("msg=counters_not_saved retry_in_ms=%d", INGEST_WRITER_FLUSH_MS);
    self->flushed_ms = audit_time_now_ms ();
}

static const audit_record_t *
s_batch_next (void *arg, size_t index)
{
    return ingest_batch_record ((ingest_batch_t *) arg, index);
}

//  The batch's settling messages, in arrival order, into the producers'
//  tentative states; the gaps they reveal into the batch's counters
static void
s_settle (self_t *self, ingest_batch_t *batch)
{
    int64_t now_ms = audit_time_now_ms ();
    ingest_settle_begin (self->settle);
    for (size_t index = 0; index < batch->settled_count; index++) {
        const ingest_batch_settled_t *settled = &batch->settled [index];
        const char *producer = batch->producers [settled->producer];
        uint64_t missing = ingest_settle_event (self->settle, producer, settled->seq,
                                                (audit_reason_t) settled->reason,
                                                settled->event_id, now_ms);
        if (missing > 0)
            audit_counters_count_in (batch->counters, AUDIT_COUNTER_FAMILY_INGEST_GAPS,
                                     producer, missing > INT64_MAX? INT64_MAX: (int64_t) missing);
    }
}

//  What each of the batch's producers has settled now that it committed
static void
s_settled (self_t *self, ingest_batch_t *batch)
{
    ingest_settle_commit (self->settle);
    for (size_t index = 0; index < batch->producer_count; index++) {
        const audit_store_producer_t *state =
            ingest_settle_state (self->settle, batch->producers [index]);
        batch->acked [index] = state? state->acked_seq: INGEST_BATCH_UNFOLLOWED;
    }
    batch->committed = true;
}

//  Write with retries: a busy or full disk should not lose a batch at once
static int
s_write_batch (self_t *self, ingest_batch_t *batch)
{
    size_t changed;
    const audit_store_producer_t *producers = ingest_settle_changed (self->settle, &changed);
    for (int attempt = 0; attempt <= INGEST_WRITER_RETRIES; attempt++) {
        if (audit_store_write_each (self->store, s_batch_next, batch, batch->count,
                                    batch->kinds, batch->outcomes, batch->counters,
                                    producers, changed) == 0)
            return 0;
        audit_log_error ("msg=write_failed attempt=%d records=%zu", attempt + 1, batch->count);
        zclock_sleep (INGEST_WRITER_RETRY_MS);
    }
    return -1;
}

//  Log the duplicates the store found; the store counted them
static void
s_account (ingest_batch_t *batch)
{
    for (size_t index = 0; index < batch->count; index++) {
        if (batch->outcomes [index] == AUDIT_STORE_STORED)
            continue;
        const audit_record_t *record = ingest_batch_record (batch, index);
        char id [AUDIT_UUID_TEXT_LEN + 1] = "-";
        const char *producer = "-";
        if (record->kind == AUDIT_TOPIC_KIND_AUDIT) {
            audit_ident_uuid_format (record->u.event.event_id, id);
            if (record->u.event.producer_id [0])
                producer = record->u.event.producer_id;
        }
        else
        if (record->kind == AUDIT_TOPIC_KIND_MQ)
            audit_ident_uuid_format (record->u.mq.message_id, id);
        audit_log_warn ("msg=rejected reason=duplicate producer=%s event_id=%s", producer, id);
    }
}

//  The batch's counter deltas go in its own transactions, with its rows
//  and its producers' state, so that stats agrees with the rows after any
//  crash (issue 10: counters flushed a second apart undercounted by up to
//  a quarter after SIGKILLs). Only a batch given up for lost leaves its
//  deltas to the periodic flush.
static void
s_handle_batch (self_t *self, ingest_batch_t *batch)
{
    audit_counters_count (batch->counters, AUDIT_COUNTER_INGEST_RECEIVED, batch->received);
    s_settle (self, batch);
    if (s_write_batch (self, batch) == 0) {
        s_settled (self, batch);
        s_account (batch);
    }
    else {
        //  Nothing of it settles: the producers resend it all
        ingest_settle_abort (self->settle);
        audit_log_error ("msg=records_lost records=%zu", batch->count);
        audit_counters_merge (self->pending, batch->counters);
        audit_counters_count (self->pending, AUDIT_COUNTER_INGEST_WRITE_FAILED,
                              (int64_t) batch->count);
    }
    if (audit_time_now_ms () - self->flushed_ms >= INGEST_WRITER_FLUSH_MS)
        s_flush_counters (self);
    //  The actor acknowledges what it settled, then resets it for reuse
    zsock_send (self->pipe, "sp", "BATCH", batch);
    audit_store_housekeep (self->store);
}

static void
s_writer_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (audit_store_t *) args);
    if (!self)
        audit_log_error ("msg=cannot_start reason=out_of_memory");
    audit_actor_ready (pipe, self ? 0 : -1);
    if (!self)
        return;
    //  Wake at least once a flush period so that idle counters still land
    zsock_set_rcvtimeo (pipe, INGEST_WRITER_FLUSH_MS);
    bool terminated = false;
    while (!terminated) {
        char *command = NULL;
        void *batch = NULL;
        if (zsock_recv (pipe, "sp", &command, &batch) == -1) {
            s_flush_counters (self);        //  a quiet second
            audit_store_housekeep (self->store);
            continue;
        }
        if (streq (command, "$TERM"))
            terminated = true;
        else
        if (streq (command, "BATCH") && batch)
            s_handle_batch (self, (ingest_batch_t *) batch);
        zstr_free (&command);
    }
    s_flush_counters (self);
    s_self_destroy (&self);
}

zactor_t *
ingest_writer_new (audit_store_t **store_p)
{
    //  The store is the actor's from here, whether or not it starts
    zactor_t *actor = audit_actor_new (s_writer_actor, *store_p);
    *store_p = NULL;
    return actor;
}
