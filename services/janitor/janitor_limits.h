/*  =========================================================================
    janitor_limits - the named limits of the janitor's time-boxed passes

    Every number that bounds what a pass does, with why it is what it is:
    how long a pass runs, how long one batch may hold a store's write lock,
    how a batch's size adapts toward that, and how long the lock is left
    free after it. A janitor_limits_t carries them into a pass, so that
    tests and the benchmark can change them; these are the defaults.
    ========================================================================= */

#ifndef JANITOR_LIMITS_H_INCLUDED
#define JANITOR_LIMITS_H_INCLUDED

#include <stdint.h>

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
//  Since batches delete neighbouring rows (audit_store_purge.h) their size
//  hardly changes the rate: bench-janitor deleted 180,000 rows/s at 30 ms
//  and 170,000-220,000 at 40 and 50 ms, where the longest commit wait was
//  40 ms at 30 ms and 60-80 ms at 40 and 50 ms
#define JANITOR_BATCH_TARGET_MS         30
//  Rows of a store's first batch, and the bounds the size adapts within
#define JANITOR_BATCH_ROWS_START        1000
#define JANITOR_BATCH_ROWS_MIN          16
#define JANITOR_BATCH_ROWS_MAX          50000
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
//  The limits of a pass; tests and the benchmark change them
typedef struct {
    int64_t budget_ms;              //  <= 0: one batch per store, no more
    int batch_target_ms;
    int batch_rows_start;
    int batch_rows_min;
    int batch_rows_max;
    int pause_margin_ms;
    int pause_min_ms;
    int pause_max_ms;
    int vacuum_pages;
    int64_t free_pages_keep;
} janitor_limits_t;

//  Fill limits with the defaults above.
void
    janitor_limits_default (janitor_limits_t *limits);

//  The pause limits ask for after a transaction, ms.
int
    janitor_limits_pause_ms (const janitor_limits_t *limits);

//  The size of the next batch (rows or pages), after one of size rows that
//  did count of them and held the lock held_us: toward the size that holds
//  it limits->batch_target_ms, at most halving or doubling, within min..max.
//  It shrinks after a batch that took too long, and grows only after one
//  that was full and quick.
int
    janitor_limits_adapt (const janitor_limits_t *limits, int size, int64_t count,
                          int64_t held_us, int min, int max);

#ifdef __cplusplus
}
#endif

#endif
