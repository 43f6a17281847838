/*  =========================================================================
    janitor_pass - one pass of retention over the three stores

    Shaped like Redis's activeExpireCycle: the work is incremental and
    time-boxed, with its limits named below. A pass deletes expired rows
    store by store (audit events by each organisation's own retention, in
    rounds: janitor_round.h; operational records after 30 days; queued
    messages 7 days after they were received), in batches that are each one
    short BEGIN IMMEDIATE transaction. The batch size adapts so that a batch holds
    the write lock about JANITOR_BATCH_TARGET_MS, and after each batch the
    lock is left free for a pause, so the ingest worker never waits long.
    A pass that runs out of time stops after the current batch; the next
    one resumes where it stopped (the round and the organisation included),
    so every organisation and every store gets its turn.

    Then the pass reclaims: incremental_vacuum gives free pages back (in
    bounded steps, keeping a small reserve that ingest reuses at once), and
    a TRUNCATE checkpoint empties each WAL, so that the old page images of
    deleted rows leave the files. secure_delete (set by audit_store on
    every connection) has already zeroed the rows in the pages themselves.

    Deletions are counted in the persistent counters janitor.deleted.audit,
    .ops and .queue (flushed at least every JANITOR_COUNTERS_FLUSH_MS), and
    every pass writes the time its deletes ended to meta 'janitor_last_pass'
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

#ifdef __cplusplus
extern "C" {
#endif

//  Time box of one pass; a backlog is taken over several passes
#define JANITOR_PASS_BUDGET_MS          5000
//  How long one batch should hold a store's write lock; the batch size
//  grows or shrinks (at most doubling or halving per batch) toward it, and
//  a batch overshoots it by up to half when ingest's checkpoints compete
//  for the disk. A writer that asks for the lock during a batch waits
//  about as long as the batch, inside the ingest worker's 100 ms budget.
//  Since batches delete neighbouring rows (janitor_round.h) their size
//  hardly changes the rate: bench-janitor deleted 180,000 rows/s at 30 ms
//  and 170,000-220,000 at 40 and 50 ms, where the longest commit wait was
//  40 ms at 30 ms and 60-80 ms at 40 and 50 ms
#define JANITOR_BATCH_TARGET_MS         30
//  Rows of a store's first batch, and the bounds the size adapts within
#define JANITOR_BATCH_ROWS_START        1000
#define JANITOR_BATCH_ROWS_MIN          16
#define JANITOR_BATCH_ROWS_MAX          50000
//  Expired audit events per round (janitor_round.h), 32 bytes each while
//  the round lasts. A round's keys are spread over the whole event_key
//  index, so the larger the round, the more of its keys share a page: at
//  1,000,000 and about 150 keys a page, a round deletes from an index of
//  up to 150 million keys with less than one dirty page per key
#define JANITOR_ROUND_ROWS              1000000
//  Pause after a batch, with the lock free. A writer that waits for the
//  lock (the ingest worker, through audit_store) tries again every
//  AUDIT_STORE_BUSY_POLL_US, so the pause is one try plus MARGIN, within
//  MIN and MAX
#define JANITOR_PAUSE_MARGIN_MS         2
#define JANITOR_PAUSE_MIN_MS            2
#define JANITOR_PAUSE_MAX_MS            55
//  Free pages incremental_vacuum gives back per transaction: the first
//  one, and the bound the size adapts within. Each page it frees moves a
//  page from the end of the file and rewrites its parent, 20 to 70 us a
//  page here, and one step cannot stop half way: 2,048 pages held the lock
//  157 ms, and on a 900 MiB file just rewritten 1,484 pages held it 77 ms
#define JANITOR_VACUUM_PAGES_START      256
#define JANITOR_VACUUM_PAGES            1024
//  Free pages a store keeps: ingest reuses them at once, so giving them
//  back would only grow the file again. secure_delete zeroed them.
#define JANITOR_FREE_PAGES_KEEP         1024
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

//  The limits of a pass; tests and the benchmark change them
typedef struct {
    int64_t budget_ms;              //  <= 0: one batch per store, no more
    int batch_target_ms;
    int batch_rows_start;
    int batch_rows_min;
    int batch_rows_max;
    int64_t round_rows;
    int pause_margin_ms;
    int pause_min_ms;
    int pause_max_ms;
    int vacuum_pages;
    int64_t free_pages_keep;
} janitor_limits_t;

//  What one pass (or one full pass) did
typedef struct {
    int64_t deleted [AUDIT_DB_COUNT];   //  rows, per store
    int64_t batches;                    //  delete transactions
    int64_t rows_max;                   //  largest batch, rows deleted
    int64_t collected;                  //  expired events put in rounds
    int64_t keys_deleted;               //  event_key rows of expired events
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

//  Fill limits with the defaults above.
void
    janitor_limits_default (janitor_limits_t *limits);

//  The pause limits ask for after a transaction, ms.
int
    janitor_limits_pause_ms (const janitor_limits_t *limits);

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
