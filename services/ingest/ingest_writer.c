/*  =========================================================================
    ingest_writer - the one thread that writes to the stores
    ========================================================================= */

#include "ingest_writer.h"
#include "ingest_batch.h"
#include "ingest_settle.h"

#include "audit_actor.h"
#include "audit_ident.h"
#include "audit_log.h"
#include "audit_logsign.h"
#include "audit_store_workers.h"
#include "audit_time.h"

typedef struct {
    zsock_t *pipe;
    audit_store_t *store;
    audit_counters_t *pending;      //  deltas of lost batches, not yet in audit.db
    ingest_settle_t *settle;        //  each producer's settled seq, as committed
    int64_t flushed_ms;
    ingest_batch_t *queued;         //  handed over while another was retried
    bool degraded;                  //  a commit failed and is being retried
    bool stopping;                  //  STOP heard: what cannot commit now is given up
    uint64_t unstored;              //  records given up at STOP
    bool terminated;                //  $TERM heard, maybe during a retry
    const audit_signer_t *signer;   //  NULL: no checkpoints signed
    int interval_ms;                //  between two checkpoints of a log
    int64_t sign_round_ms;          //  when due checkpoints were last looked for
    int64_t beat_ms;                //  when the last heartbeat was written
    bool housekeeping_due;          //  a batch was written since the last
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

typedef struct {
    audit_store_t *store;
    const audit_signer_t *signer;
    int interval_ms;
} s_args_t;

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

//  The checkpoints due, a bounded round of them, at most once a second
static void
s_sign_due (self_t *self)
{
    int64_t now = audit_time_now_ms ();
    if (!self->signer || self->degraded || now - self->sign_round_ms < INGEST_WRITER_SIGN_MS)
        return;
    self->sign_round_ms = now;
    size_t count = 0;
    if (audit_logsign_due (self->store, self->signer, now - self->interval_ms,
                           INGEST_WRITER_SIGN_MAX, &count) != 0)
        audit_log_error ("msg=checkpoints_not_signed signed=%zu", count);
}

//  The heartbeat the query worker's health reads; not while degraded (a
//  full disk takes no write), which health says on its own
static void
s_beat (self_t *self)
{
    int64_t now = audit_time_now_ms ();
    if (self->degraded || now - self->beat_ms < INGEST_WRITER_BEAT_MS)
        return;
    self->beat_ms = now;
    if (audit_store_heartbeat (self->store, AUDIT_WORKER_INGEST, now, INGEST_WRITER_BEAT_MS) != 0)
        audit_log_warn ("msg=heartbeat_not_written");
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

//  Tell the actor, so that it stops or starts reading its SUB socket
static void
s_tell (self_t *self, const char *command)
{
    zsock_send (self->pipe, "sp8", command, NULL, (uint64_t) 0);
}

//  A commit failed: empty the WAL so that the retries do not refill the
//  disk; the first failure of a run logs one line and stops the intake
static void
s_degrade (self_t *self, ingest_batch_t *batch)
{
    bool full = false;
    audit_store_recover (self->store, &full);
    audit_counters_count (batch->counters, AUDIT_COUNTER_INGEST_WRITE_RETRIED, 1);
    if (self->degraded)
        return;
    self->degraded = true;
    audit_counters_count (batch->counters, AUDIT_COUNTER_INGEST_DEGRADED, 1);
    audit_log_warn ("msg=degraded reason=%s records=%zu retry_max_ms=%d",
                    full? "disk_full": "write_failed", batch->count,
                    INGEST_WRITER_RETRY_MAX_MS);
    s_tell (self, "DEGRADED");
}

static void
s_resume (self_t *self)
{
    if (!self->degraded)
        return;
    self->degraded = false;
    audit_log_info ("msg=resumed");
    s_tell (self, "RESUMED");
}

//  Wait before the next attempt, hearing the pipe: a batch handed over in
//  the meantime waits its turn; STOP or $TERM ends the retries
static void
s_backoff (self_t *self, int wait_ms)
{
    int64_t until = audit_time_now_ms () + wait_ms;
    zmq_pollitem_t item = { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
    while (!self->stopping) {
        int64_t left = until - audit_time_now_ms ();
        if (left <= 0 || zmq_poll (&item, 1, (long) left) != 1)
            break;
        char *command = NULL;
        void *batch = NULL;
        if (zsock_recv (self->pipe, "sp", &command, &batch) == 0) {
            if (streq (command, "BATCH") && batch && !self->queued)
                self->queued = (ingest_batch_t *) batch;
            else
            if (streq (command, "STOP") || streq (command, "$TERM"))
                self->stopping = true;
            self->terminated |= streq (command, "$TERM");
        }
        zstr_free (&command);
    }
}

//  Write until it commits: a validated batch is never dropped. Each store
//  commits once (committed), so a half-committed batch is not stored twice.
//  -1 only when told to stop before it could commit.
static int
s_write_batch (self_t *self, ingest_batch_t *batch)
{
    size_t changed;
    const audit_store_producer_t *producers = ingest_settle_changed (self->settle, &changed);
    unsigned committed = 0;
    int wait_ms = INGEST_WRITER_RETRY_MS;
    while (true) {
        if (audit_store_write_each (self->store, s_batch_next, batch, batch->count,
                                    batch->kinds, batch->outcomes, batch->counters,
                                    producers, changed, &committed) == 0) {
            s_resume (self);
            return 0;
        }
        s_degrade (self, batch);
        if (self->stopping)
            return -1;
        s_backoff (self, wait_ms);
        wait_ms = wait_ms * 2 < INGEST_WRITER_RETRY_MAX_MS? wait_ms * 2
                                                           : INGEST_WRITER_RETRY_MAX_MS;
    }
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
//  a quarter after SIGKILLs). A batch is retried until it commits; only
//  STOP on a disk that stays full gives it up, unsettled and unacknowledged
//  (its producers resend it), and counted for the exit status.
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
        ingest_settle_abort (self->settle);
        self->unstored += batch->count;
    }
    if (!self->degraded && audit_time_now_ms () - self->flushed_ms >= INGEST_WRITER_FLUSH_MS)
        s_flush_counters (self);
    //  The actor acknowledges what it settled, then resets it for reuse
    zsock_send (self->pipe, "sp8", "BATCH", batch, (uint64_t) 0);
    self->housekeeping_due = true;
    s_sign_due (self);
    s_beat (self);
}

//  The WAL's checkpoint after the batches written, once readers have had
//  INGEST_WRITER_QUIET_MS to leave the snapshot before the last commit. A
//  checkpoint copies only what every reader's snapshot holds, and one
//  made right after a commit stopped at the commit before it, where a
//  reader that polls (a portal, a SIEM tail, bench-ingest's) still was:
//  the WAL was then never wholly copied, never started over, and grew by
//  each commit past its bound (bench-ingest at 5M: 95.7 MiB at 10,000
//  events/s). A batch that arrives meanwhile ends the wait: it is written
//  after the checkpoint, as it was before.
static void
s_housekeep (self_t *self)
{
    if (!self->housekeeping_due)
        return;
    //  Returns at once when a batch is already waiting
    zmq_pollitem_t item = { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
    zmq_poll (&item, 1, INGEST_WRITER_QUIET_MS);
    audit_store_housekeep (self->store);
    self->housekeeping_due = false;
}

//  A quiet second: the housekeeping, and more of it for as long as the
//  store says more is due (the subject runs' merges a burst left owed)
//  and no command waits. Each call is one short transaction (longer, some
//  240 ms, the one that merges an organisation's block of 256 tiles, once
//  its 65,536 events), so a batch that arrives meanwhile waits for that
//  one only.
static void
s_housekeep_idle (self_t *self)
{
    zmq_pollitem_t item = { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
    while (audit_store_housekeep (self->store) == 1 && zmq_poll (&item, 1, 0) == 0)
        ;
}

//  Every batch handed over is written or, once stopping, given back
static void
s_handle_command (self_t *self, const char *command, ingest_batch_t *batch)
{
    if (streq (command, "BATCH") && batch)
        s_handle_batch (self, batch);
    while (self->queued) {
        ingest_batch_t *next = self->queued;
        self->queued = NULL;
        audit_store_housekeep (self->store);
        s_handle_batch (self, next);
    }
    if (streq (command, "STOP"))
        self->stopping = true;
    if (self->stopping && !streq (command, "$TERM"))
        zsock_send (self->pipe, "sp8", "STOPPED", NULL, self->unstored);
}

static void
s_writer_actor (zsock_t *pipe, void *arg)
{
    s_args_t *args = (s_args_t *) arg;
    self_t *self = s_self_new (pipe, args->store);
    if (self) {
        self->signer = args->signer;
        self->interval_ms = args->interval_ms;
    }
    if (!self)
        audit_log_error ("msg=cannot_start reason=out_of_memory");
    audit_actor_ready (pipe, self ? 0 : -1);
    if (!self)
        return;
    s_beat (self);                      //  up from the start
    //  Wake at least once a flush period so that idle counters still land
    zsock_set_rcvtimeo (pipe, INGEST_WRITER_FLUSH_MS);
    while (!self->terminated) {
        char *command = NULL;
        void *batch = NULL;
        s_housekeep (self);
        if (zsock_recv (pipe, "sp", &command, &batch) == -1) {
            s_flush_counters (self);        //  a quiet second
            s_housekeep_idle (self);
            s_sign_due (self);
            s_beat (self);
            continue;
        }
        if (streq (command, "$TERM"))
            self->terminated = true;
        else
            s_handle_command (self, command, (ingest_batch_t *) batch);
        zstr_free (&command);
    }
    s_flush_counters (self);
    s_self_destroy (&self);
}

zactor_t *
ingest_writer_new (audit_store_t **store_p, const audit_signer_t *signer, int interval_ms)
{
    //  The store is the actor's from here, whether or not it starts; the
    //  arguments are read before audit_actor_new returns
    s_args_t args = { *store_p, signer, interval_ms };
    zactor_t *actor = audit_actor_new (s_writer_actor, &args);
    *store_p = NULL;
    return actor;
}
