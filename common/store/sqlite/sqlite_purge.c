/*  =========================================================================
    audit_store_purge - the retention deletes of the three stores
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_purge.h"
#include "audit_store_sql.h"
#include "audit_subjects.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_log.h"

//  From where the last pass stopped (?1) to the end, then from the start
#define s_SQL_ORGS          "SELECT id, retention_days FROM org ORDER BY id < ?1, id"
//  The key of the batch's last row, and whether one more follows: a walk
//  along the primary key that reads the pages the DELETE then changes
#define s_SQL_PROBE         "SELECT ts, log_index FROM event WHERE org = ?1 AND ts < ?2" \
                            " ORDER BY ts, log_index LIMIT 2 OFFSET ?3"
#define s_SQL_RANGE         "DELETE FROM event WHERE org = ?1" \
                            " AND (ts, log_index) <= (?2, ?3)"
#define s_SQL_ALL           "DELETE FROM event WHERE org = ?1 AND ts < ?2"
//  Before each: the tiles of those events keep their leaf hashes in
//  leaf_tile (the proofs of the events kept need them, and they tell
//  nothing), up to the log's size; a tile saved whole before is not saved
//  again, a tile saved in part (the log's last, then) is
#define s_SQL_TILES_RANGE   "SELECT DISTINCT log_index / 256 FROM event WHERE org = ?1" \
                            " AND (ts, log_index) <= (?2, ?3) ORDER BY 1"
#define s_SQL_TILES_ALL     "SELECT DISTINCT log_index / 256 FROM event WHERE org = ?1" \
                            " AND ts < ?2 ORDER BY 1"
#define s_SQL_TILE_HELD     "SELECT length (hashes) FROM leaf_tile WHERE org = ?1 AND tile = ?2"
#define s_SQL_ORG           "SELECT name, next_index, subject_merged FROM org WHERE id = ?1"
#define s_SQL_TILE_SAVE     "INSERT INTO leaf_tile (org, tile, hashes) VALUES (?1, ?2, ?3)" \
                            " ON CONFLICT (org, tile) DO UPDATE SET hashes = excluded.hashes"
#define s_SQL_OPS           "DELETE FROM ops WHERE id IN (SELECT id FROM ops" \
                            " WHERE ts < ?1 ORDER BY ts LIMIT ?2)"
#define s_SQL_QUEUE         "DELETE FROM message WHERE id IN (SELECT id FROM message" \
                            " WHERE received < ?1 ORDER BY received LIMIT ?2)"
#define s_SQL_LAST_PASS     "INSERT INTO meta (key, value) VALUES ('janitor_last_pass', ?1)" \
                            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"

int
sqlite_purge_orgs (audit_store_t *store, int64_t first_org, audit_store_org_fn *fn,
                        void *arg)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_ORGS);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, first_org);
    int rc, stopped = 0;
    while (!stopped && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        stopped = fn (sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1), arg);
    if (!stopped && rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "organisations");
    audit_store_sql_free (stmt);
    return !stopped && rc == SQLITE_DONE? 0: -1;
}

//  The (ts, log_index) of org's expired event number max_rows (counted
//  from 1), in *ts and *index: 0 found (*more: another follows), 1 when
//  org has fewer expired events, -1 on error
static int
s_probe (audit_store_t *store, int64_t org, int64_t cut_ms, int64_t max_rows,
         int64_t *ts, int64_t *index, bool *more)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_PROBE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, cut_ms);
    sqlite3_bind_int64 (stmt, 3, max_rows - 1);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_ROW? 0: step == SQLITE_DONE? 1: -1;
    if (rc == 0) {
        *ts = sqlite3_column_int64 (stmt, 0);
        *index = sqlite3_column_int64 (stmt, 1);
        step = sqlite3_step (stmt);
        *more = step == SQLITE_ROW;
        rc = step == SQLITE_ROW || step == SQLITE_DONE? 0: -1;
    }
    if (rc < 0)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "purge probe");
    audit_store_sql_free (stmt);
    return rc;
}

//  Run sql (org ?1 and either the cut or the last key) and count its rows
static int
s_delete (audit_store_t *store, const char *sql, int64_t org, int64_t second,
          const int64_t *third, int64_t *deleted)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, second);
    if (third)
        sqlite3_bind_int64 (stmt, 3, *third);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, deleted);
    audit_store_sql_free (stmt);
    return rc;
}

//  Tiles whose leaves are read in one scan (audit_tree_leaves): with
//  timestamps out of order every tile's events span the organisation's
//  range, and a scan per tile read it all again for each one (bench-janitor
//  -S did not finish in six minutes)
#define s_SPAN_TILES        32
#define s_SPAN_LEAVES       (s_SPAN_TILES * AUDIT_TREE_TILE_LEAVES)

typedef struct {
    audit_store_t *store;
    audit_tree_reader_t reader;
    char org_id [AUDIT_IDENT_MAX + 1];
    uint64_t size;
    uint64_t merged;                    //  its tiles in merged subject runs
    uint64_t tiles [s_SPAN_TILES];      //  to save, ascending, within one span
    size_t count;
    audit_merkle_hash_t hashes [s_SPAN_LEAVES];
    uint8_t found [s_SPAN_LEAVES];
} s_saver_t;

//  True when tile is saved whole already: its leaves cannot change
static bool
s_tile_held (s_saver_t *self, uint64_t tile)
{
    if ((tile + 1) * AUDIT_TREE_TILE_LEAVES > self->size)
        return false;                   //  the log's last tile, still growing
    sqlite3_stmt *stmt = audit_store_sql_cached (self->store, AUDIT_DB_AUDIT, s_SQL_TILE_HELD);
    if (!stmt)
        return false;
    sqlite3_bind_int64 (stmt, 1, self->reader.org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) tile);
    bool held = sqlite3_step (stmt) == SQLITE_ROW
             && sqlite3_column_int64 (stmt, 0) == AUDIT_TREE_TILE_LEAVES * AUDIT_MERKLE_HASH_SIZE;
    sqlite3_reset (stmt);
    return held;
}

//  The leaves of one tile of the span read, as the tree has them, into
//  leaf_tile. A leaf the store lost or whose row was changed is saved as a
//  zero hash: the changed row is never made the tree's, and the check
//  names it.
static int
s_tile_save (s_saver_t *self, uint64_t tile)
{
    uint64_t first = tile * AUDIT_TREE_TILE_LEAVES;
    uint64_t count = self->size - first < AUDIT_TREE_TILE_LEAVES? self->size - first
                                                                : AUDIT_TREE_TILE_LEAVES;
    size_t offset = (size_t) (tile - self->tiles [0]) * AUDIT_TREE_TILE_LEAVES;
    audit_merkle_hash_t *hashes = self->hashes + offset;
    for (uint64_t at = 0; at < count; at++)
        if (!self->found [offset + at] || (self->found [offset + at] & AUDIT_TREE_CHANGED)) {
            audit_log_warn ("msg=\"a leaf saved for retention is not the tree's\" org=%s"
                            " log_index=%llu", self->org_id, (unsigned long long) (first + at));
            memset (hashes [at], 0, AUDIT_MERKLE_HASH_SIZE);
        }
    sqlite3_stmt *stmt = audit_store_sql_prepare (self->store, AUDIT_DB_AUDIT, s_SQL_TILE_SAVE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, self->reader.org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) tile);
    sqlite3_bind_blob (stmt, 3, hashes, (int) (count * AUDIT_MERKLE_HASH_SIZE), SQLITE_STATIC);
    int rc = audit_store_sql_run (self->store, AUDIT_DB_AUDIT, stmt, NULL);
    audit_store_sql_free (stmt);
    return rc;
}

//  The tiles gathered: their leaves in one read, then each tile's row
static int
s_span_save (s_saver_t *self)
{
    if (self->count == 0)
        return 0;
    uint64_t first = self->tiles [0] * AUDIT_TREE_TILE_LEAVES;
    uint64_t end = (self->tiles [self->count - 1] + 1) * AUDIT_TREE_TILE_LEAVES;
    if (end > self->size)
        end = self->size;
    int rc = audit_tree_leaves (&self->reader, first, end - first, self->hashes, self->found);
    for (size_t at = 0; rc == 0 && at < self->count; at++)
        rc = s_tile_save (self, self->tiles [at]);
    self->count = 0;
    return rc;
}

//  Gather tile (they come in ascending order) unless there is nothing to
//  save; a tile past the span's room saves the span first
static int
s_tile_gather (s_saver_t *self, uint64_t tile)
{
    if (tile * AUDIT_TREE_TILE_LEAVES >= self->size || s_tile_held (self, tile))
        return 0;                       //  past the log (not the tree's), or saved
    int rc = 0;
    if (self->count > 0 && tile - self->tiles [0] >= s_SPAN_TILES)
        rc = s_span_save (self);
    self->tiles [self->count++] = tile;
    return rc;
}

//  The organisation's name and log size, and its tree's reader
static int
s_saver_open (s_saver_t *self, audit_store_t *store, int64_t org)
{
    self->store = store;
    sqlite3_stmt *stmt = audit_store_sql_cached (store, AUDIT_DB_AUDIT, s_SQL_ORG);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        snprintf (self->org_id, sizeof self->org_id, "%s",
                  (const char *) sqlite3_column_text (stmt, 0));
        self->size = (uint64_t) sqlite3_column_int64 (stmt, 1);
        self->merged = (uint64_t) sqlite3_column_int64 (stmt, 2);
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? sqlite_tree_reader (store, org, self->org_id, &self->reader): -1;
}

//  The subject run entries (audit_subjects) of tile's events up to the
//  batch's last key: deleted with the events, never kept past them. The
//  tiles come in order, so the run of the tile before is done: *last.
static int
s_subjects_delete (s_saver_t *saver, uint64_t tile, int64_t last_ts, int64_t last_index,
                   int64_t *last)
{
    int64_t run = audit_subjects_run (tile, saver->merged, saver->size / AUDIT_TREE_TILE_LEAVES);
    if (run == AUDIT_SUBJECTS_NO_RUN || run == *last)
        return 0;
    *last = run;
    sqlite3_stmt *stmt = audit_store_sql_cached (saver->store, AUDIT_DB_AUDIT,
                                                 AUDIT_SUBJECTS_SQL_PURGE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, saver->reader.org);
    sqlite3_bind_int64 (stmt, 2, run);
    sqlite3_bind_int64 (stmt, 3, last_ts);
    sqlite3_bind_int64 (stmt, 4, last_index);
    return audit_store_sql_step (stmt);
}

//  Save every tile of the events sql (org ?1, then second, then *third)
//  selects, and delete their subject entries: those of the events up to
//  (second, *third), or before second without third
static int
s_tiles_save (audit_store_t *store, const char *sql, int64_t org, int64_t second,
              const int64_t *third)
{
    int64_t last_ts = third? second: second - 1, last_index = third? *third: INT64_MAX;
    int64_t last_run = AUDIT_SUBJECTS_NO_RUN;
    s_saver_t *saver = (s_saver_t *) calloc (1, sizeof *saver);
    sqlite3_stmt *stmt = saver && s_saver_open (saver, store, org) == 0
                       ? audit_store_sql_prepare (store, AUDIT_DB_AUDIT, sql): NULL;
    int rc = stmt? 0: -1, step = SQLITE_DONE;
    if (stmt) {
        sqlite3_bind_int64 (stmt, 1, org);
        sqlite3_bind_int64 (stmt, 2, second);
        if (third)
            sqlite3_bind_int64 (stmt, 3, *third);
    }
    while (rc == 0 && (step = sqlite3_step (stmt)) == SQLITE_ROW) {
        uint64_t tile = (uint64_t) sqlite3_column_int64 (stmt, 0);
        rc = s_subjects_delete (saver, tile, last_ts, last_index, &last_run)
          || s_tile_gather (saver, tile);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    if (rc == 0)
        rc = s_span_save (saver);
    if (rc != 0)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "tiles kept for retention");
    audit_store_sql_free (stmt);
    free (saver);
    return rc;
}

int
sqlite_purge_events (audit_store_t *store, int64_t org, int64_t cut_ms,
                          int64_t max_rows, int64_t *deleted, bool *more)
{
    assert (store);
    *deleted = 0;
    *more = false;
    if (max_rows < 1)
        return 0;
    int64_t ts = 0, index = 0;
    int rc = s_probe (store, org, cut_ms, max_rows, &ts, &index, more);
    if (rc < 0)
        return -1;
    if (rc == 1)                        //  all of them fit
        return s_tiles_save (store, s_SQL_TILES_ALL, org, cut_ms, NULL)
            || s_delete (store, s_SQL_ALL, org, cut_ms, NULL, deleted)? -1: 0;
    return s_tiles_save (store, s_SQL_TILES_RANGE, org, ts, &index)
        || s_delete (store, s_SQL_RANGE, org, ts, &index, deleted)? -1: 0;
}

static int
s_simple (audit_store_t *store, audit_db_t db, const char *sql, int64_t cut_ms,
          int64_t max_rows, int64_t *deleted, bool *more)
{
    *deleted = 0;
    *more = false;
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, db, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, cut_ms);
    sqlite3_bind_int64 (stmt, 2, max_rows);
    int rc = audit_store_sql_run (store, db, stmt, deleted);
    audit_store_sql_free (stmt);
    *more = rc == 0 && *deleted >= max_rows;
    return rc;
}

int
sqlite_purge_ops (audit_store_t *store, int64_t cut_ms, int64_t max_rows,
                       int64_t *deleted, bool *more)
{
    assert (store);
    return s_simple (store, AUDIT_DB_OPS, s_SQL_OPS, cut_ms, max_rows, deleted, more);
}

int
sqlite_purge_queue (audit_store_t *store, int64_t cut_ms, int64_t max_rows,
                         int64_t *deleted, bool *more)
{
    assert (store);
    return s_simple (store, AUDIT_DB_QUEUE, s_SQL_QUEUE, cut_ms, max_rows, deleted, more);
}

int
sqlite_purge_last_pass (audit_store_t *store, int64_t ended_ms)
{
    assert (store);
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_LAST_PASS);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, ended_ms);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, NULL);
    audit_store_sql_free (stmt);
    return rc;
}
