/*  =========================================================================
    ingest_writer - the one thread that writes to the stores
    ========================================================================= */

#include "ingest_writer.h"
#include "ingest_batch.h"

#include "audit_actor.h"
#include "audit_ident.h"
#include "audit_log.h"
#include "audit_time.h"

typedef struct {
    zsock_t *pipe;
    audit_store_t *store;
    audit_counters_t *pending;      //  deltas not yet in audit.db
    int64_t flushed_ms;
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        audit_counters_destroy (&self->pending);
        audit_store_destroy (&self->store);
        free (self);
        *self_p = NULL;
    }
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
    self->flushed_ms = audit_time_now_ms ();
    if (!self->pending)
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

//  Write with retries: a busy or full disk should not lose a batch at once
static int
s_write_batch (self_t *self, ingest_batch_t *batch)
{
    for (int attempt = 0; attempt <= INGEST_WRITER_RETRIES; attempt++) {
        if (audit_store_write_each (self->store, s_batch_next, batch, batch->count,
                                    batch->kinds, batch->outcomes, batch->counters,
                                    NULL, 0) == 0)
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
    if (s_write_batch (self, batch) == 0)
        s_account (batch);
    else {
        audit_log_error ("msg=records_lost records=%zu", batch->count);
        audit_counters_merge (self->pending, batch->counters);
        audit_counters_count (self->pending, AUDIT_COUNTER_INGEST_WRITE_FAILED,
                              (int64_t) batch->count);
    }
    if (audit_time_now_ms () - self->flushed_ms >= INGEST_WRITER_FLUSH_MS)
        s_flush_counters (self);
    ingest_batch_reset (batch);
    zsock_send (self->pipe, "sp", "BATCH", batch);
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
