/*  =========================================================================
    audit_subjects - the subject runs of audit.db (see the header)
    ========================================================================= */

#include "audit_subjects.h"
#include "audit_log.h"
#include "audit_stmts.h"
#include "audit_proto.h"
#include "audit_tree.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

//  A new run's seq: past every seq ever given, so that its entries go in
//  at the end of subject_entry, and no entry left behind can be taken for
//  a new run's
#define s_SQL_SEQ       "INSERT INTO meta (key, value) VALUES ('subject_seq', 1)" \
                        " ON CONFLICT (key) DO UPDATE SET value = value + 1 RETURNING value"
#define s_SQL_RUN       "INSERT INTO subject_run (org, run, seq) VALUES (?1, ?2, ?3)"
//  A tile's entries under seq ?6: the actor of each of its events (those
//  of organisation ?1 with a ts in ?2 .. ?3 and a log_index in ?4 .. ?5 -
//  1), and the user (the column %s) when it is another, sorted, in one
//  statement: its cursor stays at the end of subject_entry, where each
//  row goes, so that no insert seeks from the root (measured against a
//  row a statement, bench/RESULTS.md). An empty text names no one.
#define s_SQL_TILE_ARM  " FROM event WHERE org = ?1 AND ts >= ?2 AND ts <= ?3" \
                        " AND log_index >= ?4 AND log_index < ?5"
#define s_SQL_TILE      "INSERT INTO subject_entry (seq, subject, ts, log_index)" \
                        " SELECT ?6, actor, ts, log_index" s_SQL_TILE_ARM " AND actor <> ''" \
                        " UNION ALL SELECT ?6, %s, ts, log_index" s_SQL_TILE_ARM \
                        " AND %s IS NOT NULL AND %s <> '' AND %s <> actor" \
                        " ORDER BY 2, 3, 4"
//  A block's runs (?2 .. ?3 - 1) into a new one, ?4. The SELECT is read
//  whole before the first row goes in (the same table), and sorted, so
//  that the new run's pages fill in order.
#define s_SQL_MERGE     "INSERT INTO subject_entry (seq, subject, ts, log_index)" \
                        " SELECT ?4, e.subject, e.ts, e.log_index FROM subject_run AS r" \
                        " CROSS JOIN subject_entry AS e ON e.seq = r.seq" \
                        " WHERE r.org = ?1 AND r.run >= ?2 AND r.run < ?3" \
                        " ORDER BY e.subject, e.ts, e.log_index"
//  and those runs deleted, entries first
#define s_SQL_MERGED    "DELETE FROM subject_entry WHERE seq IN (SELECT seq FROM subject_run" \
                        " WHERE org = ?1 AND run >= ?2 AND run < ?3)"
#define s_SQL_UNRUN     "DELETE FROM subject_run WHERE org = ?1 AND run >= ?2 AND run < ?3"
#define s_SQL_MERGED_GET "SELECT subject_merged FROM org WHERE id = ?1"
#define s_SQL_MERGED_SET "UPDATE org SET subject_merged = ?2 WHERE id = ?1"
//  The first organisation past id ?1 that owes a block of 16 tiles, and
//  its complete tiles. The term is the WHERE of index org_subjects_owed
//  (schema step 9), word for word: SQLite reads a partial index only for
//  a query that implies its WHERE, and INDEXED BY makes a term that no
//  longer does fail to prepare, not scan every org row.
#define s_SQL_OWED      "SELECT id, next_index >> 8 FROM org INDEXED BY org_subjects_owed" \
                        " WHERE (next_index >> 8) - subject_merged >= 16 AND id > ?1" \
                        " ORDER BY id LIMIT 1"
_Static_assert (AUDIT_TREE_TILE_LEVELS == 8 && AUDIT_SUBJECTS_FANOUT_BITS == 4,
                "s_SQL_OWED shifts by a tile's levels and counts a block's tiles");

struct _audit_subjects_t {
    sqlite3 *conn;
    sqlite3_stmt *seq;                  //  a new run's
    sqlite3_stmt *run;                  //  its row
    sqlite3_stmt *tile;                 //  a tile's entries
    sqlite3_stmt *merge;                //  a block's runs into one of the level above
    sqlite3_stmt *merged;               //  and those runs deleted: entries
    sqlite3_stmt *unrun;                //  and rows
    sqlite3_stmt *merged_get;           //  org.subject_merged
    sqlite3_stmt *merged_set;
    sqlite3_stmt *owed;                 //  the next organisation that owes merges
    int64_t budget;                     //  entries this transaction may still merge
    int64_t budget_whole;               //  and each transaction's
    int64_t owed_after;                 //  where the housekeeping's last merges were
};

//  --------------------------------------------------------------------------
//  The runs: their ids, first tile and level

#define s_SPAN(level)   (1ull << (AUDIT_SUBJECTS_FANOUT_BITS * (level)))

static int64_t
s_run_id (uint64_t first, unsigned level)
{
    return (int64_t) ((first << AUDIT_SUBJECTS_FANOUT_BITS) | level);
}

//  Below merged, the largest aligned block that holds tile, up to the top
//  level; from merged on, the tile's own run
int64_t
audit_subjects_run (uint64_t tile, uint64_t merged, uint64_t tiles)
{
    if (tile >= tiles)
        return AUDIT_SUBJECTS_NO_RUN;
    for (unsigned level = AUDIT_SUBJECTS_LEVELS - 1; tile < merged && level > 0; level--) {
        uint64_t first = tile / s_SPAN (level) * s_SPAN (level);
        if (merged - first >= s_SPAN (level))
            return s_run_id (first, level);
    }
    return s_run_id (tile, 0);
}

//  The runs of one level from first to end (aligned to it), newest first;
//  past max, only counted
static size_t
s_level_runs (uint64_t first, uint64_t end, unsigned level, int64_t *ids, size_t count,
              size_t max)
{
    for (uint64_t at = end; at > first; at -= s_SPAN (level), count++)
        if (count < max)
            ids [count] = s_run_id (at - s_SPAN (level), level);
    return count;
}

size_t
audit_subjects_runs (uint64_t merged, uint64_t tiles, int64_t *ids, size_t max)
{
    if (merged > tiles)
        merged = tiles;                 //  not so, but for a store changed by hand
    uint64_t top = s_SPAN (AUDIT_SUBJECTS_LEVELS - 1);
    uint64_t tops = merged / top * top;
    size_t count = s_level_runs (merged, tiles, 0, ids, 0, max);
    count = s_level_runs (tops, merged / s_SPAN (1) * s_SPAN (1), 1, ids, count, max);
    return s_level_runs (0, tops, AUDIT_SUBJECTS_LEVELS - 1, ids, count, max);
}

//  --------------------------------------------------------------------------

audit_subjects_t *
audit_subjects_new (sqlite3 *conn, int64_t budget)
{
    assert (conn);
    audit_subjects_t *self = (audit_subjects_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conn = conn;
    self->budget = self->budget_whole = budget;
    self->owed_after = INT64_MIN;
    //  The user's column as the field table names it; the actor's is the
    //  event's own, outside the resource fields
    const char *user = audit_proto_field_info (AUDIT_FIELD_USER_ID)->column;
    char sql [1024];
    snprintf (sql, sizeof sql, s_SQL_TILE, user, user, user, user);
    if (audit_stmts_prepare (conn, sql, &self->tile) != 0
    ||  audit_stmts_prepare (conn, s_SQL_SEQ, &self->seq) != 0
    ||  audit_stmts_prepare (conn, s_SQL_RUN, &self->run) != 0
    ||  audit_stmts_prepare (conn, s_SQL_MERGE, &self->merge) != 0
    ||  audit_stmts_prepare (conn, s_SQL_MERGED, &self->merged) != 0
    ||  audit_stmts_prepare (conn, s_SQL_UNRUN, &self->unrun) != 0
    ||  audit_stmts_prepare (conn, s_SQL_MERGED_GET, &self->merged_get) != 0
    ||  audit_stmts_prepare (conn, s_SQL_MERGED_SET, &self->merged_set) != 0
    ||  audit_stmts_prepare (conn, s_SQL_OWED, &self->owed) != 0)
        audit_subjects_destroy (&self);
    return self;
}

void
audit_subjects_destroy (audit_subjects_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_subjects_t *self = *self_p;
    sqlite3_finalize (self->tile);
    sqlite3_finalize (self->seq);
    sqlite3_finalize (self->run);
    sqlite3_finalize (self->merge);
    sqlite3_finalize (self->merged);
    sqlite3_finalize (self->unrun);
    sqlite3_finalize (self->merged_get);
    sqlite3_finalize (self->merged_set);
    sqlite3_finalize (self->owed);
    free (self);
    *self_p = NULL;
}

//  The next seq into *seq; 0 or -1
static int
s_seq_next (audit_subjects_t *self, int64_t *seq)
{
    int rc = sqlite3_step (self->seq);
    *seq = rc == SQLITE_ROW? sqlite3_column_int64 (self->seq, 0): 0;
    sqlite3_reset (self->seq);
    return rc == SQLITE_ROW? 0: -1;
}

//  Run id of organisation org is seq's; 0 or -1
static int
s_run_add (audit_subjects_t *self, int64_t org, int64_t id, int64_t seq)
{
    sqlite3_bind_int64 (self->run, 1, org);
    sqlite3_bind_int64 (self->run, 2, id);
    sqlite3_bind_int64 (self->run, 3, seq);
    int rc = sqlite3_step (self->run);
    sqlite3_reset (self->run);
    return rc == SQLITE_DONE? 0: -1;
}

//  The tile's run: its entries under a new seq (s_SQL_TILE), then its
//  row. A tile with no entry has no run.
static int
s_write (audit_subjects_t *self, int64_t org, uint64_t tile, int64_t min_ts, int64_t max_ts)
{
    int64_t seq;
    if (s_seq_next (self, &seq) != 0)
        return -1;
    sqlite3_stmt *stmt = self->tile;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, min_ts <= max_ts? min_ts: INT64_MIN);
    sqlite3_bind_int64 (stmt, 3, min_ts <= max_ts? max_ts: INT64_MAX);
    sqlite3_bind_int64 (stmt, 4, (int64_t) (tile * AUDIT_TREE_TILE_LEAVES));
    sqlite3_bind_int64 (stmt, 5, (int64_t) ((tile + 1) * AUDIT_TREE_TILE_LEAVES));
    sqlite3_bind_int64 (stmt, 6, seq);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE)
        return -1;
    return sqlite3_changes64 (self->conn) == 0? 0: s_run_add (self, org, s_run_id (tile, 0), seq);
}

void
audit_subjects_begin (audit_subjects_t *self)
{
    assert (self);
    self->budget = self->budget_whole;
}

//  Run one of the merge's statements on the block of run ids lo .. hi - 1
//  (and the new run's seq, for the one that takes it); the rows it
//  changed, or -1
static int64_t
s_merge_step (audit_subjects_t *self, sqlite3_stmt *stmt, int64_t org, int64_t lo,
              int64_t hi, int64_t seq)
{
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, lo);
    sqlite3_bind_int64 (stmt, 3, hi);
    if (sqlite3_bind_parameter_count (stmt) == 4)
        sqlite3_bind_int64 (stmt, 4, seq);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? (int64_t) sqlite3_changes64 (self->conn): -1;
}

//  The runs of the block of level - 1 that ends at tile end, merged into
//  one run of level: its ids are its tiles' at every level, and the runs
//  of the levels below were merged first, so its runs are the only ones
//  in that range. Its row goes in last, once the block's are gone. The
//  entries merged, or -1.
static int64_t
s_merge_block (audit_subjects_t *self, int64_t org, uint64_t end, unsigned level)
{
    uint64_t first = end - s_SPAN (level);
    int64_t lo = s_run_id (first, 0), hi = s_run_id (end, 0), seq;
    if (s_seq_next (self, &seq) != 0)
        return -1;
    int64_t merged = s_merge_step (self, self->merge, org, lo, hi, seq);
    if (merged < 0 || s_merge_step (self, self->merged, org, lo, hi, seq) < 0
    ||  s_merge_step (self, self->unrun, org, lo, hi, seq) < 0)
        return -1;
    if (merged > 0 && s_run_add (self, org, s_run_id (first, level), seq) != 0)
        return -1;
    return merged;
}

static int
s_merged_get (audit_subjects_t *self, int64_t org, uint64_t *merged)
{
    sqlite3_bind_int64 (self->merged_get, 1, org);
    int rc = sqlite3_step (self->merged_get);
    int64_t value = rc == SQLITE_ROW? sqlite3_column_int64 (self->merged_get, 0): -1;
    sqlite3_reset (self->merged_get);
    *merged = value > 0? (uint64_t) value: 0;
    return value < 0? -1: 0;
}

static int
s_merged_set (audit_subjects_t *self, int64_t org, uint64_t merged)
{
    sqlite3_bind_int64 (self->merged_set, 1, org);
    sqlite3_bind_int64 (self->merged_set, 2, (int64_t) merged);
    int rc = sqlite3_step (self->merged_set);
    sqlite3_reset (self->merged_set);
    return rc == SQLITE_DONE? 0: -1;
}

//  The merges org owes with tiles complete, from its subject_merged on, a
//  block of level 1 at a time (and of level 2 when one ends there), while
//  the transaction's budget lasts: what is left waits for org's next tile,
//  or the writer's housekeeping (audit_subjects_owed). So a batch in which
//  many organisations reach a block (a feed spread evenly over them)
//  writes a bounded part of its merges, not all.
static int
s_catch_up (audit_subjects_t *self, int64_t org, uint64_t tiles)
{
    uint64_t merged, was;
    if (self->budget <= 0)
        return 0;                       //  a maintainer's, or a budget spent
    if (s_merged_get (self, org, &merged) != 0)
        return -1;
    was = merged;
    while (self->budget > 0 && merged <= tiles && tiles - merged >= s_SPAN (1)) {
        merged += s_SPAN (1);
        int64_t entries = s_merge_block (self, org, merged, 1);
        for (unsigned level = 2; entries >= 0 && level < AUDIT_SUBJECTS_LEVELS
             && merged % s_SPAN (level) == 0; level++) {
            int64_t more = s_merge_block (self, org, merged, level);
            entries = more < 0? -1: entries + more;
        }
        if (entries < 0)
            return -1;
        self->budget -= entries;
    }
    return merged == was? 0: s_merged_set (self, org, merged);
}

int
audit_subjects_tile (void *handle, int64_t org, uint64_t tile, int64_t min_ts, int64_t max_ts)
{
    audit_subjects_t *self = (audit_subjects_t *) handle;
    assert (self);
    int rc = s_write (self, org, tile, min_ts, max_ts) || s_catch_up (self, org, tile + 1)? -1: 0;
    if (rc != 0)
        audit_log_error ("msg=\"subject run not written\" org=%lld tile=%llu reason=\"%s\"",
                         (long long) org, (unsigned long long) tile,
                         sqlite3_errmsg (self->conn));
    return rc;
}

//  --------------------------------------------------------------------------
//  The merges owed

//  The first organisation past *org that owes merges: 1 and *org, *tiles
//  its id and complete tiles; 0 when none does; -1
static int
s_owed_next (audit_subjects_t *self, int64_t *org, uint64_t *tiles)
{
    sqlite3_stmt *stmt = self->owed;
    sqlite3_bind_int64 (stmt, 1, *org);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        *org = sqlite3_column_int64 (stmt, 0);
        *tiles = (uint64_t) sqlite3_column_int64 (stmt, 1);
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 1: rc == SQLITE_DONE? 0: -1;
}

int
audit_subjects_owing (audit_subjects_t *self)
{
    assert (self);
    int64_t org = INT64_MIN;
    uint64_t tiles;
    return s_owed_next (self, &org, &tiles);
}

//  The next organisation that owes, from where the last call stopped and
//  round to the lowest id once; 1, 0 when none does, -1
static int
s_owed_round (audit_subjects_t *self, int64_t *org, uint64_t *tiles, bool *wrapped)
{
    int rc = s_owed_next (self, org, tiles);
    if (rc == 0 && !*wrapped) {
        *wrapped = true;
        *org = INT64_MIN;
        rc = s_owed_next (self, org, tiles);
    }
    return rc;
}

int
audit_subjects_owed (audit_subjects_t *self, int64_t budget)
{
    assert (self);
    self->budget = budget;
    //  Each call goes on past the organisation the last one reached, so
    //  that a few low ids that owe again and again cannot take every call
    int64_t org = self->owed_after;
    uint64_t tiles;
    bool wrapped = org == INT64_MIN;
    int rc = 0;
    //  The budget is checked before each block, so an organisation left
    //  with blocks owed is the last one this call reaches
    while (self->budget > 0 && (rc = s_owed_round (self, &org, &tiles, &wrapped)) == 1) {
        if (s_catch_up (self, org, tiles) != 0) {
            audit_log_error ("msg=\"subject runs not merged\" org=%lld reason=\"%s\"",
                             (long long) org, sqlite3_errmsg (self->conn));
            return -1;
        }
        self->owed_after = org;
    }
    return self->budget > 0? (rc < 0? -1: 0): audit_subjects_owing (self);
}

//  --------------------------------------------------------------------------
//  Schema step 8

//  subject_run_of (tile, merged, tiles): audit_subjects_run, for the
//  step's SQL
static void
s_run_of (sqlite3_context *context, int argc, sqlite3_value **argv)
{
    (void) argc;
    sqlite3_int64 tile = sqlite3_value_int64 (argv [0]), merged = sqlite3_value_int64 (argv [1]);
    sqlite3_int64 tiles = sqlite3_value_int64 (argv [2]);
    if (tile < 0 || merged < 0 || tiles < 0)
        sqlite3_result_null (context);
    else
        sqlite3_result_int64 (context, audit_subjects_run ((uint64_t) tile, (uint64_t) merged,
                                                           (uint64_t) tiles));
}

int
audit_subjects_migrate_v8 (sqlite3 *conn)
{
    const char *user = audit_proto_field_info (AUDIT_FIELD_USER_ID)->column;
    //  Every organisation's blocks of level 1 merged: its complete tiles
    //  rounded down to a block. Then every entry of a complete tile at
    //  once, sorted in key order.
    char sql [1400];
    _Static_assert (AUDIT_TREE_TILE_LEVELS == 8 && AUDIT_SUBJECTS_FANOUT_BITS == 4,
                    "the step's SQL shifts by a tile's levels and a block's");
    snprintf (sql, sizeof sql,
              "UPDATE org SET subject_merged = next_index >> 12 << 4;"
              "INSERT INTO subject_run (org, run, subject, ts, log_index)"
              " SELECT e.org, subject_run_of (e.log_index >> 8, o.subject_merged,"
              " o.next_index >> 8), e.actor, e.ts, e.log_index FROM event e"
              " JOIN org o ON o.id = e.org"
              " WHERE e.log_index < o.next_index >> 8 << 8 AND e.actor <> ''"
              " UNION ALL"
              " SELECT e.org, subject_run_of (e.log_index >> 8, o.subject_merged,"
              " o.next_index >> 8), e.%s, e.ts, e.log_index FROM event e"
              " JOIN org o ON o.id = e.org"
              " WHERE e.log_index < o.next_index >> 8 << 8 AND e.%s IS NOT NULL"
              " AND e.%s <> '' AND e.%s <> e.actor ORDER BY 1, 2, 3, 4, 5",
              user, user, user, user);
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
    if (sqlite3_create_function (conn, "subject_run_of", 3, flags, NULL, s_run_of, NULL,
                                 NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_exec (conn, sql, NULL, NULL, NULL) == SQLITE_OK? 0: -1;
    if (rc)
        audit_log_error ("msg=\"subject runs not made\" file=audit.db reason=\"%s\"",
                         sqlite3_errmsg (conn));
    sqlite3_create_function (conn, "subject_run_of", 3, flags, NULL, NULL, NULL, NULL);
    return rc;
}
