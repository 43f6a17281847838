/*  =========================================================================
    audit_subjects - the subject runs of audit.db: who each part of an
    organisation's log is about, sorted, so that a data-subject page
    reads a few pages

    A DSAR page (`subject`, also `actor_id` or `user_id`) of a typical
    organisation matches a handful of its events, spread over its whole
    range: scanning it read some 130 pages, a random read each when the
    store is larger than memory (bench/RESULTS.md, issue 9). An index
    keyed by (org, subject) would cost every insert a random page of it;
    measured, half the ingest rate.

    So the index is written in runs, as a log-structured merge: when a
    tile's 256th event is stored (audit_tree's tile callback), its events
    are read back (the tile's range of ts: the organisation's last pages) and
    their actors and users (one entry when they are the same) appended,
    sorted, as a run of level 0. Each aligned block of 16 tiles is then
    merged into one run of level 1, and each block of 256 into one of
    level 2, the top: a merge above it would rewrite a million events'
    entries in one transaction. An entry is written once per level.

    A run is a row of subject_run (org, run, seq) and its entries rows of
    subject_entry (seq, subject, ts, log_index). Its seq is past every seq
    given before (meta subject_seq), so a run's entries go in at the very
    end of subject_entry, in key order: SQLite's cheapest insert, and pages
    filled whole. Keyed by (org, run, ...) instead (schema 8), each run
    went into the middle of the table, splitting its neighbours' pages:
    in the bare loop 1.26 us an entry against 0.81, and 15 MiB more WAL.

    A transaction merges at most AUDIT_SUBJECTS_MERGE_BUDGET entries: a
    feed spread evenly over many organisations brings them to a block in
    the same batch, and all their merges at once doubled that batch's WAL
    (bench/RESULTS.md). An organisation's org.subject_merged says how many
    of its tiles are merged (a multiple of 16); what it still owes is
    merged at its next tiles, or sooner by the writer's housekeeping
    (audit_subjects_owed, a budget of its own a call), which finds the
    organisations that owe through index org_subjects_owed: until then, a
    page seeks each of their runs of a tile (a feed that stayed ahead of
    the merges for long left most organisations of a 5,000,000-event store
    17 such seeks, not two). The other processes that write events (the
    query worker, the janitor) merge nothing: they leave it owed.

    The runs of an organisation are then: below subject_merged, the blocks
    of 256 and of 16 tiles; from it, a run per tile (a typical organisation
    of 17 tiles has two). A page seeks each run once, and scans the last,
    incomplete tile's range of the event table itself (org.tail_min_ts
    .. tail_max_ts, log_index past the complete tiles).

    Retention deletes a purged event's entries with it, in the same
    transaction (AUDIT_SUBJECTS_SQL_PURGE on each run of the batch): the
    index holds identifiers, and keeps none past their events.
    ========================================================================= */

#ifndef AUDIT_SUBJECTS_H_INCLUDED
#define AUDIT_SUBJECTS_H_INCLUDED

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Runs of a level merged into one of the level above: 2^4
#define AUDIT_SUBJECTS_FANOUT_BITS  4
//  Levels of runs: a tile, 16 tiles, 256 tiles (65,536 events)
#define AUDIT_SUBJECTS_LEVELS       3
//  Entries a transaction may merge: about 16 blocks of level 1, some
//  1,100 pages written and as many freed. It is checked before each block
//  of 16, so a transaction can go past it by one block's merges, which
//  are 131,072 entries more when a block of 256 ends there.
#define AUDIT_SUBJECTS_MERGE_BUDGET (16 * 16 * 2 * 256)
//  No run: a tile not yet complete
#define AUDIT_SUBJECTS_NO_RUN       (-1)

//  The entries of run ?2 of organisation ?1 at or before (ts ?3,
//  log_index ?4): those of the retention batch that ends there
#define AUDIT_SUBJECTS_SQL_PURGE    "DELETE FROM subject_entry WHERE seq =" \
                                    " (SELECT seq FROM subject_run WHERE org = ?1 AND run = ?2)" \
                                    " AND (ts, log_index) <= (?3, ?4)"

//  The id of the run that holds tile (its first tile and level, in the
//  key's run column), when tiles tiles are complete and the first merged
//  of them merged; AUDIT_SUBJECTS_NO_RUN when tile is not complete.
int64_t
    audit_subjects_run (uint64_t tile, uint64_t merged, uint64_t tiles);

//  The ids of the runs of an organisation of tiles complete tiles, merged
//  of them merged, into ids (up to max of them), newest first; their
//  count, also past max.
size_t
    audit_subjects_runs (uint64_t merged, uint64_t tiles, int64_t *ids, size_t max);

typedef struct _audit_subjects_t audit_subjects_t;

//  The side of a writing store on conn (borrowed, audit.db), whose write
//  transactions may merge budget entries each: AUDIT_SUBJECTS_MERGE_BUDGET
//  for the ingest writer; 0 for the other processes that write events
//  (the query worker's audit_access, the janitor's), whose merges are left
//  owed to the writer's housekeeping rather than delay a request. NULL
//  when a statement cannot be prepared (logged) or out of memory.
audit_subjects_t *
    audit_subjects_new (sqlite3 *conn, int64_t budget);

//  Finalize; safe on NULL and twice.
void
    audit_subjects_destroy (audit_subjects_t **self_p);

//  A write transaction begins: its merge budget is whole again.
void
    audit_subjects_begin (audit_subjects_t *self);

//  Inside the write transaction: the run of tile of organisation org,
//  complete now, whose events have a ts in min_ts .. max_ts (any ts when
//  min_ts > max_ts: a range not known), and the merges org owes, as far
//  as the transaction's budget goes. The
//  signature of audit_tree's tile callback. 0 or -1 (logged).
int
    audit_subjects_tile (void *self, int64_t org, uint64_t tile, int64_t min_ts,
                         int64_t max_ts);

//  1 when an organisation owes merges, 0 when none does, -1 on a store
//  error: one read of index org_subjects_owed, in a transaction or not.
int
    audit_subjects_owing (audit_subjects_t *self);

//  Inside a write transaction of the writer's housekeeping, begun after
//  the batches: the merges organisations owe, in the order of their ids
//  from where the last call stopped, as far as budget entries go. The
//  budget is checked before each block of 16, so a call can pass it by
//  that block's merges: some 131,072 entries more when a block of 256
//  ends there (once an organisation's 65,536 events). 1 when some are
//  owed still, 0 when none is, -1 on a store error (logged).
int
    audit_subjects_owed (audit_subjects_t *self, int64_t budget);

//  Schema step 8's hook: the runs of every organisation's complete tiles,
//  made from their events, as the writer would have made them. 0 or -1.
int
    audit_subjects_migrate_v8 (sqlite3 *conn);

#ifdef __cplusplus
}
#endif

#endif
