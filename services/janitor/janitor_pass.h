/*  =========================================================================
    janitor_pass - one pass of retention over the three stores

    Shaped like Redis's activeExpireCycle: the work is incremental and
    time-boxed, with its limits named in janitor_limits.h. A pass deletes expired rows
    store by store (audit events by each organisation's own retention,
    organisation after organisation: janitor_round.h; operational records
    after 30 days; queued
    messages 7 days after they were received), in batches that are each one
    short write transaction. The batch size adapts so that a batch holds
    the write lock about JANITOR_BATCH_TARGET_MS (janitor_limits.h), and after each batch the
    lock is left free for a pause, so the ingest worker never waits long.
    A pass that runs out of time stops after the current batch; the next
    one resumes where it stopped (the organisation included),
    so every organisation and every store gets its turn.

    Then the pass reclaims: incremental_vacuum gives free pages back (in
    bounded steps, keeping a small reserve that ingest reuses at once), and
    a TRUNCATE checkpoint empties each WAL, so that the old page images of
    deleted rows leave the files. secure_delete (set by audit_store on
    every connection) has already zeroed the rows in the pages themselves.

    Deletions are counted in the persistent counters janitor.deleted.audit,
    .ops and .queue (flushed at least every JANITOR_COUNTERS_FLUSH_MS), and
    every pass writes the time its deletes ended (audit_store_purge_last_pass)
    (just before the reclaim, so that the checkpoint leaves the WAL empty).

    The clock is a parameter: the cuts (janitor_cut) depend on now_ms only,
    so tests pass a clock instead of waiting days. Time boxes use the
    monotonic clock.
    ========================================================================= */

#ifndef JANITOR_PASS_H_INCLUDED
#define JANITOR_PASS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"
#include "janitor_limits.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Page cache of the janitor's connections, KiB. A batch dirties
//  neighbouring pages, a few hundred at most, so this only has to hold
//  them and the pages a batch's reads walk: bench-janitor deleted as fast
//  with 32 MiB as with 256 MiB (180,000-200,000 rows/s with ingest at
//  20,000/s, two runs each)
#define JANITOR_CACHE_KIB               (32 * 1024)
//  Counters reach audit.db at least this often during a long pass
#define JANITOR_COUNTERS_FLUSH_MS       1000
//  A full pass gives up after this many slices in a row that made no
//  progress (a reader that keeps the WAL busy, for instance)
#define JANITOR_FULL_STALLS_MAX         10

//  Upper bounds (ms) of the lock-hold histogram in janitor_report_t; the
//  last bucket takes every longer hold. 100 ms is the ingest worker's
//  budget for a commit, so a hold past it is what must never happen.
#define JANITOR_HOLD_BUCKETS            6
#define JANITOR_HOLD_BOUNDS_MS          { 10, 25, 50, 80, 100, 0 }

//  What one pass (or one full pass) did
typedef struct {
    int64_t deleted [AUDIT_DB_COUNT];   //  rows, per store
    int64_t batches;                    //  delete transactions
    int64_t rows_max;                   //  largest batch, rows deleted
    int64_t hold_max_us;                //  longest a batch held a lock
    int64_t holds [JANITOR_HOLD_BUCKETS];   //  batches per hold bucket
    int64_t hold_us;                    //  time the batches held locks
    int64_t wait_us;                    //  time they waited for them
    int64_t pause_us;                   //  time in pauses (checkpoints too)
    int64_t vacuumed_pages;             //  pages given back to the file system
    int64_t idents_swept;               //  orphan ident rows deleted
    int64_t orgs_swept;                 //  orphan org rows deleted
    int64_t purge_ms;                   //  the deletes
    int64_t sweep_ms;                   //  the orphan sweep
    int64_t reclaim_ms;                 //  vacuum and checkpoints
    int64_t elapsed_ms;
    int slices;                         //  time-boxed slices (full pass)
    bool purged;                        //  nothing expired is left
    bool reclaimed;                     //  free pages at the reserve, WALs empty
    bool swept;                         //  a requested orphan sweep completed
    bool stopped;                       //  the stop function asked to stop
} janitor_report_t;

//  Asked between batches; true makes the pass stop early
typedef bool (janitor_stop_fn) (void *arg);

typedef struct _janitor_pass_t janitor_pass_t;

//  A pass over store (borrowed; opened as AUDIT_STORE_MAINTAINER; it must
//  outlive the pass). limits NULL means the defaults. NULL on failure.
janitor_pass_t *
    janitor_pass_new (audit_store_t *store, const janitor_limits_t *limits);

//  Destroy; safe on NULL and twice.
void
    janitor_pass_destroy (janitor_pass_t **self_p);

//  Ask stop (with arg) between batches whether to end early.
void
    janitor_pass_set_stop (janitor_pass_t *self, janitor_stop_fn *stop, void *arg);

//  Run the orphan sweep (janitor_sweep) in the next pass that finds
//  nothing expired left.
void
    janitor_pass_request_sweep (janitor_pass_t *self);

//  One time-boxed pass with the clock at now_ms; it includes an orphan
//  sweep when one is due (see janitor_sweep). Logs one line. Returns 0
//  when it completed (purged, swept if requested, reclaimed), 1 when work
//  is left for the next pass, -1 when a store failed (logged).
int
    janitor_pass_run (janitor_pass_t *self, int64_t now_ms, janitor_report_t *report);

//  One full pass, as audit-janitor --once runs it: time-boxed slices with
//  the same clock until nothing is left, then an orphan sweep and the
//  reclaim; logs one line. 0 when it completed, 1 when stopped or stalled,
//  -1 on error.
int
    janitor_pass_full (janitor_pass_t *self, int64_t now_ms, janitor_report_t *report);

#ifdef __cplusplus
}
#endif

#endif
