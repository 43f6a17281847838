/*  =========================================================================
    bench_bare - the ceiling of audit.db on its own schema: a bare loop of
    one prepared INSERT per event, in transactions of a batch, on a plain
    connection with the store's pragmas, page cache and checkpoint policy
    (no checkpoint inside a commit; a PASSIVE one after a commit that left
    the WAL over 24 MiB)

    Everything that is not SQLite's own work is done before the clock
    starts or costs nothing: the organisation and identifier names of the
    feed are resolved to their ids first (interned when missing), each
    organisation's next log_index is read once and counted in memory, and
    written back to org.next_index before each commit. The file is a
    store's layout, but not a valid log (no hashes, or filler ones): it is
    thrown away after the run. No duplicate check, no counters.

    With log_rows, the loop also writes the rows the organisation's log
    adds to the schema (audit_tree.h): each event's leaf_tag, a tree_node
    row each time an organisation's log completes a tile of 256 (or 2^16,
    ...), and the org row's tail columns at each commit; their bytes are
    filler, not hashes (a bare loop writes rows and computes nothing).
    Without it, leaf_tag is NULL and no tree row is written: the ceiling
    of the event rows alone, as before the log.
    ========================================================================= */

#ifndef BENCH_BARE_H_INCLUDED
#define BENCH_BARE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "bench_pcache.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _bench_bare_t bench_bare_t;

//  Open dir/audit.db (a store made by audit_store) and resolve the feed's
//  names; log_rows: write the log's rows too. NULL on failure (said on
//  stderr).
bench_bare_t *
    bench_bare_new (const char *dir, bool log_rows);

//  Close; safe on NULL and twice.
void
    bench_bare_destroy (bench_bare_t **self_p);

//  Insert feed events first .. first + count - 1, timestamped now, with
//  salt, batch rows per transaction. *seconds gets the time it took. 0 or -1.
int
    bench_bare_run (bench_bare_t *self, uint64_t first, long count, long batch,
                    uint64_t salt, double *seconds);

//  What the loop's page cache did in its runs (bench_pcache.h)
bench_pcache_t
    bench_bare_pcache (bench_bare_t *self);

#ifdef __cplusplus
}
#endif

#endif
