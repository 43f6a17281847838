/*  =========================================================================
    janitor_pass - one pass of retention over the three stores

    Every write goes through s_batch: one write transaction whose
    body deletes (or vacuums) at most the current batch size, then the size
    adapts to the time the lock was held, then a pause leaves the lock free
    for the ingest worker. A batch of the audit purge (janitor_round) goes
    on from one organisation to the next while it has room, so that ten
    thousand small orgs do not cost ten thousand transactions.
    ========================================================================= */

#include "janitor_pass.h"
#include "janitor_cut.h"
#include "janitor_round.h"
#include "janitor_sweep.h"

#include <czmq.h>

#include "audit_counters.h"
#include "audit_log.h"
#include "audit_store_purge.h"
#include "audit_store_space.h"

static const audit_counter_t s_counters [AUDIT_DB_COUNT] = {
    [AUDIT_DB_AUDIT] = AUDIT_COUNTER_JANITOR_DELETED_AUDIT,
    [AUDIT_DB_OPS]   = AUDIT_COUNTER_JANITOR_DELETED_OPS,
    [AUDIT_DB_QUEUE] = AUDIT_COUNTER_JANITOR_DELETED_QUEUE
};

//  The stores with one cut for every row: their delete and their cut
typedef int (s_purge_fn) (audit_store_t *store, int64_t cut_ms, int64_t max_rows,
                          int64_t *deleted, bool *more);
static const struct {
    s_purge_fn *purge;
    int64_t (*cut) (int64_t now_ms);
} s_simple [AUDIT_DB_COUNT] = {
    [AUDIT_DB_OPS] = { audit_store_purge_ops, janitor_cut_ops },
    [AUDIT_DB_QUEUE] = { audit_store_purge_queue, janitor_cut_queue }
};

static inline int64_t s_min (int64_t a, int64_t b) { return a < b? a: b; }
static inline int64_t s_max (int64_t a, int64_t b) { return a > b? a: b; }

//  What a batch does: delete expired rows, give free pages back
typedef enum { s_PURGE, s_VACUUM, s_WORKS } s_work_t;

struct _janitor_pass_t {
    audit_store_t *store;
    bool attached [AUDIT_DB_COUNT];     //  audit_store_space_attach done
    janitor_sweep_t *sweep;
    janitor_round_t *round;             //  the audit purge
    janitor_limits_t limits;
    int size [s_WORKS][AUDIT_DB_COUNT]; //  rows or pages per batch, adapting
    audit_counters_t *counters;         //  deletions not yet in audit.db
    int64_t flushed_ms;                 //  monotonic
    bool sweep_requested;
    janitor_stop_fn *stop;
    void *stop_arg;
};

//  One pass (or one slice of a full pass)
typedef struct {
    int64_t now_ms;                     //  the clock the cuts use
    int64_t started_ms;                 //  monotonic
    janitor_report_t *report;
    bool done [s_WORKS][AUDIT_DB_COUNT];
} s_run_t;

typedef int (s_body_fn) (janitor_pass_t *self, s_run_t *run, audit_db_t store,
                         int size, int64_t locked_us, int64_t *count, bool *done);

//  --------------------------------------------------------------------------
//  Construction

janitor_pass_t *
janitor_pass_new (audit_store_t *store, const janitor_limits_t *limits)
{
    assert (store);
    janitor_pass_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    if (limits)
        self->limits = *limits;
    else
        janitor_limits_default (&self->limits);
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        self->size [s_PURGE][db] = self->limits.batch_rows_start;
        self->size [s_VACUUM][db] = (int) s_min (JANITOR_VACUUM_PAGES_START,
                                                 self->limits.vacuum_pages);
    }
    bool ok = (self->counters = audit_counters_new ()) != NULL;
    for (int db = 0; ok && db < AUDIT_DB_COUNT; db++)
        ok = self->attached [db] = audit_store_space_attach (store, (audit_db_t) db,
                                                             JANITOR_CACHE_KIB) == 0;
    ok = ok && (self->sweep = janitor_sweep_new (store, &self->limits));
    ok = ok && (self->round = janitor_round_new (store));
    if (!ok)
        janitor_pass_destroy (&self);
    else
        self->flushed_ms = zclock_mono ();
    return self;
}

void
janitor_pass_destroy (janitor_pass_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    janitor_pass_t *self = *self_p;
    janitor_sweep_destroy (&self->sweep);
    janitor_round_destroy (&self->round);
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        if (self->attached [db])
            audit_store_space_detach (self->store, (audit_db_t) db);
    audit_counters_destroy (&self->counters);
    free (self);
    *self_p = NULL;
}

void
janitor_pass_set_stop (janitor_pass_t *self, janitor_stop_fn *stop, void *arg)
{
    self->stop = stop;
    self->stop_arg = arg;
}

void
janitor_pass_request_sweep (janitor_pass_t *self)
{
    self->sweep_requested = true;
}

//  --------------------------------------------------------------------------
//  Batches

static bool
s_stopping (janitor_pass_t *self, s_run_t *run)
{
    if (!run->report->stopped && self->stop && self->stop (self->stop_arg))
        run->report->stopped = true;
    return run->report->stopped;
}

//  The counters go in synced, so that a crash cannot leave a count of
//  deletes it undid
static void
s_flush (janitor_pass_t *self)
{
    if (audit_counters_size (self->counters) > 0) {
        int rc = audit_store_space_durable (self->store, AUDIT_DB_AUDIT, true);
        rc = rc? rc: audit_store_counters_flush (self->store, self->counters);
        if (audit_store_space_durable (self->store, AUDIT_DB_AUDIT, false) != 0 || rc != 0)
            audit_log_warn ("msg=\"janitor counters not saved\" retry=next_batch");
    }
    self->flushed_ms = zclock_mono ();
}

static const int s_hold_bounds_ms [JANITOR_HOLD_BUCKETS] = JANITOR_HOLD_BOUNDS_MS;

static void
s_account (janitor_pass_t *self, s_run_t *run, s_work_t work, audit_db_t store,
           int64_t count, int64_t held_us)
{
    janitor_report_t *report = run->report;
    report->hold_max_us = s_max (report->hold_max_us, held_us);
    int bucket = 0;
    while (bucket < JANITOR_HOLD_BUCKETS - 1 && held_us > s_hold_bounds_ms [bucket] * 1000)
        bucket++;
    report->holds [bucket]++;
    report->hold_us += held_us;
    if (work == s_VACUUM) {
        report->vacuumed_pages += count;
        return;
    }
    report->batches++;
    report->rows_max = s_max (report->rows_max, count);
    report->deleted [store] += count;
    if (count > 0)
        audit_counters_count (self->counters, s_counters [store], count);
    if (zclock_mono () - self->flushed_ms >= JANITOR_COUNTERS_FLUSH_MS)
        s_flush (self);
}

//  One write transaction running body, then the size adapts and the lock
//  is left free for a pause
static int
s_batch (janitor_pass_t *self, s_run_t *run, s_work_t work, audit_db_t store,
         s_body_fn *body)
{
    int *size = &self->size [work][store];
    int64_t count = 0;
    int64_t asked = zclock_usecs ();
    if (audit_store_space_begin (self->store, store) != 0)
        return -1;
    int64_t locked = zclock_usecs ();
    run->report->wait_us += locked - asked;
    int rc = body (self, run, store, *size, locked, &count, &run->done [work][store]);
    rc = audit_store_space_end (self->store, store, rc);
    int64_t held = zclock_usecs () - locked;
    if (rc == 0)
        s_account (self, run, work, store, count, held);
    else
        run->done [work][store] = false;
    const janitor_limits_t *limits = &self->limits;
    if (work != s_VACUUM)
        *size = janitor_limits_adapt (limits, *size, count, held,
                                      limits->batch_rows_min, limits->batch_rows_max);
    else
        *size = janitor_limits_adapt (limits, *size, count, held, 1, limits->vacuum_pages);
    int64_t paused = zclock_usecs ();
    audit_store_space_pause (self->store, store, janitor_limits_pause_ms (&self->limits));
    run->report->pause_us += zclock_usecs () - paused;
    return rc;
}

//  --------------------------------------------------------------------------
//  Bodies: what one transaction does

//  The next expired events, organisation after organisation
static int
s_audit_body (janitor_pass_t *self, s_run_t *run, audit_db_t store, int size,
              int64_t locked_us, int64_t *count, bool *done)
{
    (void) run;
    (void) store;
    int64_t until = locked_us + (int64_t) self->limits.batch_target_ms * 1000;
    return janitor_round_delete (self->round, size, until, count, done);
}

static int
s_simple_body (janitor_pass_t *self, s_run_t *run, audit_db_t store, int size,
               int64_t locked_us, int64_t *count, bool *done)
{
    (void) locked_us;
    bool more = false;
    int rc = s_simple [store].purge (self->store, s_simple [store].cut (run->now_ms), size,
                                     count, &more);
    *done = rc == 0 && !more;
    return rc;
}

static int
s_vacuum_body (janitor_pass_t *self, s_run_t *run, audit_db_t store, int size,
               int64_t locked_us, int64_t *count, bool *done)
{
    (void) run;
    (void) locked_us;
    int64_t free_pages = 0;
    int rc = audit_store_space_free_pages (self->store, store, &free_pages);
    int64_t extra = free_pages - self->limits.free_pages_keep;
    if (rc == 0 && extra > 0)
        rc = audit_store_space_vacuum (self->store, store, (int) s_min (extra, size), count);
    *done = rc == 0 && free_pages - *count <= self->limits.free_pages_keep;
    return rc;
}

//  --------------------------------------------------------------------------
//  A pass: purge, sweep, reclaim

//  One batch of the audit purge; a batch that failed was rolled back, so
//  its organisations are visited again
static int
s_audit_step (janitor_pass_t *self, s_run_t *run)
{
    int rc = s_batch (self, run, s_PURGE, AUDIT_DB_AUDIT, s_audit_body);
    if (rc != 0)
        janitor_round_undo (self->round);
    return rc;
}

static int
s_step (janitor_pass_t *self, s_run_t *run, s_work_t work, audit_db_t store)
{
    if (work == s_PURGE && store == AUDIT_DB_AUDIT)
        return s_audit_step (self, run);
    return s_batch (self, run, work, store, work == s_VACUUM? s_vacuum_body: s_simple_body);
}

//  Runs work on every store, each until done or until its share of the
//  time box is gone (unused time passes on to the next store); every store
//  gets at least one step, so none is starved by another's backlog
static int
s_work (janitor_pass_t *self, s_run_t *run, s_work_t work, int64_t from_ms, int64_t until_ms)
{
    int rc = 0;
    for (int store = 0; rc == 0 && store < AUDIT_DB_COUNT; store++) {
        int64_t deadline = from_ms + (until_ms - from_ms) * (store + 1) / AUDIT_DB_COUNT;
        bool first = true;
        while (rc == 0 && !run->done [work][store] && !s_stopping (self, run)) {
            if (!first && zclock_mono () >= deadline)
                break;
            rc = s_step (self, run, work, (audit_db_t) store);
            first = false;
        }
    }
    return rc;
}

static int
s_purge (janitor_pass_t *self, s_run_t *run)
{
    int rc = janitor_round_load (self->round, run->now_ms);
    run->done [s_PURGE][AUDIT_DB_AUDIT] = janitor_round_orgs_left (self->round) == 0;
    int64_t until = run->started_ms + s_max (self->limits.budget_ms, 0);
    rc = rc? rc: s_work (self, run, s_PURGE, run->started_ms, until);
    run->report->purged = rc == 0;
    for (int store = 0; store < AUDIT_DB_COUNT; store++)
        run->report->purged &= run->done [s_PURGE][store];
    return rc;
}

static int
s_sweep (janitor_pass_t *self, s_run_t *run)
{
    janitor_sweep_report_t swept = { 0 };
    int rc = janitor_sweep_run (self->sweep, run->now_ms, self->stop, self->stop_arg, &swept);
    run->report->idents_swept += swept.idents_deleted;
    run->report->orgs_swept += swept.orgs_deleted;
    run->report->hold_max_us = s_max (run->report->hold_max_us, swept.hold_max_us);
    if (rc == 0) {
        self->sweep_requested = false;
        run->report->swept = true;
    }
    return rc < 0? -1: 0;
}

//  Vacuum within what is left of the time box (at least one step per
//  store), then empty every WAL
static int
s_reclaim (janitor_pass_t *self, s_run_t *run)
{
    int64_t until = run->started_ms + s_max (self->limits.budget_ms, 0);
    int rc = s_work (self, run, s_VACUUM, zclock_mono (), s_max (until, zclock_mono ()));
    bool reclaimed = rc == 0;
    for (int store = 0; store < AUDIT_DB_COUNT; store++) {
        reclaimed &= run->done [s_VACUUM][store];
        int truncated = rc == 0? audit_store_space_truncate (self->store, (audit_db_t) store): -1;
        reclaimed &= truncated == 0;
        rc = truncated < 0? -1: rc;
    }
    run->report->reclaimed = reclaimed;
    return rc;
}

//  Counters, and the end of the deletes in meta (now_ms moved on by the
//  time they took, on the same clock as the cuts)
static int
s_finish (janitor_pass_t *self, s_run_t *run)
{
    s_flush (self);
    return audit_store_purge_last_pass (self->store,
                                        run->now_ms + zclock_mono () - run->started_ms);
}

//  One time-boxed slice: 0 complete, 1 work left, -1 error
static int
s_slice (janitor_pass_t *self, int64_t now_ms, janitor_report_t *report)
{
    memset (report, 0, sizeof *report);
    s_run_t run = { .now_ms = now_ms, .started_ms = zclock_mono (), .report = report };
    int rc = s_purge (self, &run);
    int64_t mark = zclock_mono ();
    report->purge_ms = mark - run.started_ms;
    if (rc == 0 && report->purged && self->sweep_requested && !report->stopped)
        rc = s_sweep (self, &run);
    report->sweep_ms = zclock_mono () - mark;
    //  Before the reclaim, so that its checkpoint leaves the WAL empty
    if (s_finish (self, &run) != 0)
        rc = -1;
    mark = zclock_mono ();
    //  While a backlog is left, the PASSIVE checkpoints keep the WAL short
    //  and ingest reuses the free pages: reclaim once it is gone
    if (rc == 0 && report->purged && !report->stopped)
        rc = s_reclaim (self, &run);
    report->reclaim_ms = zclock_mono () - mark;
    report->elapsed_ms = zclock_mono () - run.started_ms;
    report->slices = 1;
    if (rc != 0)
        return -1;
    bool complete = report->purged && report->reclaimed && !self->sweep_requested
                 && !report->stopped;
    return complete? 0: 1;
}

static void
s_log (const char *what, const janitor_report_t *report, int rc)
{
    audit_log_info ("msg=%s deleted_audit=%" PRId64 " deleted_ops=%" PRId64
                    " deleted_queue=%" PRId64 " batches=%" PRId64 " largest_batch=%" PRId64
                    " longest_hold_ms=%.1f vacuumed_pages=%" PRId64 " idents_swept=%" PRId64
                    " orgs_swept=%" PRId64 " slices=%d ms=%" PRId64 " outcome=%s",
                    what, report->deleted [AUDIT_DB_AUDIT], report->deleted [AUDIT_DB_OPS],
                    report->deleted [AUDIT_DB_QUEUE], report->batches, report->rows_max,
                    report->hold_max_us / 1000.0, report->vacuumed_pages,
                    report->idents_swept, report->orgs_swept, report->slices,
                    report->elapsed_ms, rc < 0? "error": report->stopped? "stopped"
                                      : rc == 0? "complete": "work_left");
}

int
janitor_pass_run (janitor_pass_t *self, int64_t now_ms, janitor_report_t *report)
{
    assert (self);
    bool due = false;
    if (janitor_sweep_due (self->sweep, now_ms, &due) == 0 && due)
        self->sweep_requested = true;
    int rc = s_slice (self, now_ms, report);
    s_log ("pass", report, rc);
    return rc;
}

static void
s_report_add (janitor_report_t *total, const janitor_report_t *slice)
{
    for (int store = 0; store < AUDIT_DB_COUNT; store++)
        total->deleted [store] += slice->deleted [store];
    total->batches += slice->batches;
    total->rows_max = s_max (total->rows_max, slice->rows_max);
    total->hold_max_us = s_max (total->hold_max_us, slice->hold_max_us);
    total->hold_us += slice->hold_us;
    for (int bucket = 0; bucket < JANITOR_HOLD_BUCKETS; bucket++)
        total->holds [bucket] += slice->holds [bucket];
    total->wait_us += slice->wait_us;
    total->pause_us += slice->pause_us;
    total->vacuumed_pages += slice->vacuumed_pages;
    total->idents_swept += slice->idents_swept;
    total->orgs_swept += slice->orgs_swept;
    total->purge_ms += slice->purge_ms;
    total->sweep_ms += slice->sweep_ms;
    total->reclaim_ms += slice->reclaim_ms;
    total->elapsed_ms += slice->elapsed_ms;
    total->slices += slice->slices;
    total->purged = slice->purged;
    total->reclaimed = slice->reclaimed;
    total->swept |= slice->swept;
    total->stopped = slice->stopped;
}

int
janitor_pass_full (janitor_pass_t *self, int64_t now_ms, janitor_report_t *report)
{
    assert (self);
    memset (report, 0, sizeof *report);
    janitor_pass_request_sweep (self);
    int rc, stalls = 0;
    do {
        janitor_report_t slice;
        rc = s_slice (self, now_ms, &slice);
        s_report_add (report, &slice);
        bool progress = slice.batches > 0 && (slice.deleted [AUDIT_DB_AUDIT]
                      + slice.deleted [AUDIT_DB_OPS] + slice.deleted [AUDIT_DB_QUEUE]) > 0;
        progress |= slice.vacuumed_pages > 0 || slice.swept;
        stalls = progress? 0: stalls + 1;
    } while (rc == 1 && !report->stopped && stalls < JANITOR_FULL_STALLS_MAX);
    s_log ("full_pass", report, rc);
    return rc;
}
