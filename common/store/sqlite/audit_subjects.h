/*  =========================================================================
    audit_subjects - the subject runs of audit.db: who each tile's events
    are about, sorted, so that a data-subject page reads a few pages

    A DSAR page (`subject`, also `actor_id` or `user_id`) of a typical
    organisation matches a handful of its events, spread over its whole
    range: scanning it read some 130 pages, a random read each when the
    store is larger than memory (bench/RESULTS.md, issue 9). An index
    keyed by (org, subject) would cost every insert a random page of it;
    measured, half the ingest rate.

    So the index is written a tile at a time, when the tile's 256th event
    is stored (audit_tree's tile callback): its events are read back (the
    tile's range of ts, pages the batch just wrote), their actors and
    users (one entry when they are the same) sorted and appended under
    (org, tile, subject, ts, log_index). A tile's entries are a new key
    range at the end of its organisation's: a few fresh pages, not a
    random page an event. A page then seeks each of the organisation's
    tiles once, and scans the last, incomplete tile's range of the event
    table itself (org.tail_min_ts .. tail_max_ts, log_index past the
    complete tiles).

    Retention deletes a purged event's entries with it, in the same
    transaction (AUDIT_SUBJECTS_SQL_PURGE, per tile of the batch): the
    index holds identifiers, and keeps none past their events.
    ========================================================================= */

#ifndef AUDIT_SUBJECTS_H_INCLUDED
#define AUDIT_SUBJECTS_H_INCLUDED

#include <sqlite3.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The entries of tile ?2 of organisation ?1 at or before (ts ?3,
//  log_index ?4): those of the retention batch that ends there
#define AUDIT_SUBJECTS_SQL_PURGE    "DELETE FROM subject_run WHERE org = ?1 AND tile = ?2" \
                                    " AND (ts, log_index) <= (?3, ?4)"

typedef struct _audit_subjects_t audit_subjects_t;

//  The writer's side on conn (borrowed, audit.db). NULL when a statement
//  cannot be prepared (logged) or out of memory.
audit_subjects_t *
    audit_subjects_new (sqlite3 *conn);

//  Finalize; safe on NULL and twice.
void
    audit_subjects_destroy (audit_subjects_t **self_p);

//  Inside the write transaction: the entries of tile of organisation org,
//  complete now, whose events have a ts in min_ts .. max_ts (any ts when
//  min_ts > max_ts: a range not known). The signature of audit_tree's
//  tile callback. 0 or -1 (logged).
int
    audit_subjects_tile (void *self, int64_t org, uint64_t tile, int64_t min_ts,
                         int64_t max_ts);

#ifdef __cplusplus
}
#endif

#endif
