/*  =========================================================================
    audit_subjects - the subject runs of audit.db (see the header)
    ========================================================================= */

#include "audit_subjects.h"
#include "audit_log.h"
#include "audit_proto.h"
#include "audit_tree.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A tile's events each name an actor and at most one user
#define s_ENTRIES_MAX   (2 * AUDIT_TREE_TILE_LEAVES)

typedef struct {
    const char *subject;                //  in the arena
    int64_t ts;
    int64_t log_index;
} s_entry_t;

struct _audit_subjects_t {
    sqlite3 *conn;
    sqlite3_stmt *events;               //  a tile's events: ts, log_index, actor, user
    sqlite3_stmt *insert;
    sqlite3_stmt *merge;                //  a block's runs into one of the level above
    sqlite3_stmt *merged;               //  and those runs deleted
    s_entry_t entries [s_ENTRIES_MAX];
    size_t count;
    char arena [s_ENTRIES_MAX][AUDIT_IDENT_MAX + 1];
};

//  --------------------------------------------------------------------------
//  The runs: their ids, first tile and level

#define s_SPAN(level)   (1ull << (AUDIT_SUBJECTS_FANOUT_BITS * (level)))

static int64_t
s_run_id (uint64_t first, unsigned level)
{
    return (int64_t) ((first << AUDIT_SUBJECTS_FANOUT_BITS) | level);
}

//  The largest aligned block of tiles that holds tile and is complete
int64_t
audit_subjects_run (uint64_t tile, uint64_t tiles)
{
    if (tile >= tiles)
        return AUDIT_SUBJECTS_NO_RUN;
    for (unsigned level = AUDIT_SUBJECTS_LEVELS - 1; level > 0; level--) {
        uint64_t first = tile / s_SPAN (level) * s_SPAN (level);
        if (tiles - first >= s_SPAN (level))
            return s_run_id (first, level);
    }
    return s_run_id (tile, 0);
}

//  tiles in base 16: at each level, a run for each unit of its digit
size_t
audit_subjects_runs (uint64_t tiles, int64_t *ids)
{
    size_t count = 0;
    for (unsigned level = 0; level < AUDIT_SUBJECTS_LEVELS && tiles >= s_SPAN (level);
         level++) {
        uint64_t above = s_SPAN (level + 1);
        uint64_t digit = (tiles % above) / s_SPAN (level);
        uint64_t base = tiles / above * above;
        while (digit-- > 0)
            ids [count++] = s_run_id (base + digit * s_SPAN (level), level);
    }
    return count;
}

//  --------------------------------------------------------------------------

static int
s_prepare (sqlite3 *conn, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v3 (conn, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) == SQLITE_OK)
        return 0;
    audit_log_error ("msg=\"cannot prepare statement\" file=audit.db reason=\"%s\"",
                     sqlite3_errmsg (conn));
    return -1;
}

audit_subjects_t *
audit_subjects_new (sqlite3 *conn)
{
    assert (conn);
    audit_subjects_t *self = (audit_subjects_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conn = conn;
    //  The user's column as the field table names it; the actor's is the
    //  event's own, outside the resource fields
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT ts, log_index, actor, %s FROM event WHERE org = ?1"
              " AND ts >= ?2 AND ts <= ?3 AND log_index >= ?4 AND log_index < ?5",
              audit_proto_field_info (AUDIT_FIELD_USER_ID)->column);
    if (s_prepare (conn, sql, &self->events) != 0
    ||  s_prepare (conn, "INSERT INTO subject_run (org, run, subject, ts, log_index)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)", &self->insert) != 0
    //  The SELECT is read whole before the first row goes in (the same
    //  table), and sorted, so that the new run's pages fill in order
    ||  s_prepare (conn, "INSERT INTO subject_run (org, run, subject, ts, log_index)"
                         " SELECT org, ?4, subject, ts, log_index FROM subject_run"
                         " WHERE org = ?1 AND run >= ?2 AND run < ?3"
                         " ORDER BY subject, ts, log_index", &self->merge) != 0
    ||  s_prepare (conn, "DELETE FROM subject_run WHERE org = ?1 AND run >= ?2"
                         " AND run < ?3 AND run <> ?4", &self->merged) != 0)
        audit_subjects_destroy (&self);
    return self;
}

void
audit_subjects_destroy (audit_subjects_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_subjects_t *self = *self_p;
    sqlite3_finalize (self->events);
    sqlite3_finalize (self->insert);
    sqlite3_finalize (self->merge);
    sqlite3_finalize (self->merged);
    free (self);
    *self_p = NULL;
}

//  One entry, its subject copied (the column's text lives until the next
//  step). A text that cannot be an identifier names no one and is left
//  out; false when the tile holds more entries than its events can make
//  (rows that share a log_index: a store changed by hand)
static bool
s_add (audit_subjects_t *self, const unsigned char *subject, int64_t ts, int64_t log_index)
{
    size_t length = subject? strlen ((const char *) subject): 0;
    if (length == 0 || length > AUDIT_IDENT_MAX)
        return true;
    if (self->count == s_ENTRIES_MAX)
        return false;
    char *copy = self->arena [self->count];
    memcpy (copy, subject, length + 1);
    self->entries [self->count++] = (s_entry_t) { copy, ts, log_index };
    return true;
}

//  The tile's events into entries: the actor's, and the user's when it is
//  another. Past the room for them, the rest are left out and logged: a
//  run that misses an entry is better than a log that cannot grow.
//  -1 on a store error.
static int
s_read (audit_subjects_t *self, int64_t org, uint64_t tile, int64_t min_ts, int64_t max_ts)
{
    sqlite3_stmt *stmt = self->events;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, min_ts <= max_ts? min_ts: INT64_MIN);
    sqlite3_bind_int64 (stmt, 3, min_ts <= max_ts? max_ts: INT64_MAX);
    sqlite3_bind_int64 (stmt, 4, (int64_t) (tile * AUDIT_TREE_TILE_LEAVES));
    sqlite3_bind_int64 (stmt, 5, (int64_t) ((tile + 1) * AUDIT_TREE_TILE_LEAVES));
    self->count = 0;
    bool room = true;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW && room) {
        int64_t ts = sqlite3_column_int64 (stmt, 0), log_index = sqlite3_column_int64 (stmt, 1);
        const unsigned char *actor = sqlite3_column_text (stmt, 2);
        room = s_add (self, actor, ts, log_index);
        const unsigned char *user = sqlite3_column_text (stmt, 3);
        if (room && user && (!actor || strcmp ((const char *) user, (const char *) actor)))
            room = s_add (self, user, ts, log_index);
    }
    sqlite3_reset (stmt);
    if (!room)
        audit_log_warn ("msg=\"a tile has more events than its indices\" org=%lld tile=%llu",
                        (long long) org, (unsigned long long) tile);
    return rc == SQLITE_DONE || (!room && rc == SQLITE_ROW)? 0: -1;
}

//  The key's order after (org, tile): subject, ts, log_index
static int
s_compare (const void *left, const void *right)
{
    const s_entry_t *a = (const s_entry_t *) left, *b = (const s_entry_t *) right;
    int order = strcmp (a->subject, b->subject);
    if (order)
        return order;
    if (a->ts != b->ts)
        return a->ts < b->ts? -1: 1;
    return a->log_index < b->log_index? -1: a->log_index > b->log_index;
}

static int
s_write (audit_subjects_t *self, int64_t org, uint64_t tile)
{
    sqlite3_stmt *stmt = self->insert;
    int rc = SQLITE_DONE;
    for (size_t at = 0; rc == SQLITE_DONE && at < self->count; at++) {
        sqlite3_bind_int64 (stmt, 1, org);
        sqlite3_bind_int64 (stmt, 2, s_run_id (tile, 0));
        sqlite3_bind_text (stmt, 3, self->entries [at].subject, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 4, self->entries [at].ts);
        sqlite3_bind_int64 (stmt, 5, self->entries [at].log_index);
        rc = sqlite3_step (stmt);
        sqlite3_reset (stmt);
    }
    return rc == SQLITE_DONE? 0: -1;
}

//  Run one of the merge's statements on the block of runs ids lo .. hi - 1
static int
s_merge_step (sqlite3_stmt *stmt, int64_t org, int64_t lo, int64_t hi, int64_t id)
{
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, lo);
    sqlite3_bind_int64 (stmt, 3, hi);
    sqlite3_bind_int64 (stmt, 4, id);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  With tiles complete, each level whose 16 runs now make a block is
//  merged into one run of the level above, from level 0 up. A block's
//  ids are its tiles' ids at every level: its runs are the only ones in
//  that range, as the levels below were merged first.
static int
s_merge (audit_subjects_t *self, int64_t org, uint64_t tiles)
{
    int rc = 0;
    for (unsigned level = 0; rc == 0 && level + 1 < AUDIT_SUBJECTS_LEVELS
         && tiles % s_SPAN (level + 1) == 0; level++) {
        uint64_t first = tiles - s_SPAN (level + 1);
        int64_t lo = s_run_id (first, 0), hi = s_run_id (tiles, 0);
        int64_t id = s_run_id (first, level + 1);
        rc = s_merge_step (self->merge, org, lo, hi, id)
          || s_merge_step (self->merged, org, lo, hi, id);
    }
    return rc;
}

int
audit_subjects_tile (void *handle, int64_t org, uint64_t tile, int64_t min_ts, int64_t max_ts)
{
    audit_subjects_t *self = (audit_subjects_t *) handle;
    assert (self);
    int rc = s_read (self, org, tile, min_ts, max_ts);
    if (rc == 0) {
        //  In key order, so that the inserts fill the new range's pages
        //  one after the other
        qsort (self->entries, self->count, sizeof *self->entries, s_compare);
        rc = s_write (self, org, tile) || s_merge (self, org, tile + 1)? -1: 0;
    }
    if (rc != 0)
        audit_log_error ("msg=\"subject run not written\" org=%lld tile=%llu reason=\"%s\"",
                         (long long) org, (unsigned long long) tile,
                         sqlite3_errmsg (self->conn));
    return rc;
}

//  --------------------------------------------------------------------------
//  Schema step 8

//  subject_run_of (tile, tiles): audit_subjects_run, for the step's SQL
static void
s_run_of (sqlite3_context *context, int argc, sqlite3_value **argv)
{
    (void) argc;
    sqlite3_int64 tile = sqlite3_value_int64 (argv [0]), tiles = sqlite3_value_int64 (argv [1]);
    if (tile < 0 || tiles < 0)
        sqlite3_result_null (context);
    else
        sqlite3_result_int64 (context, audit_subjects_run ((uint64_t) tile, (uint64_t) tiles));
}

int
audit_subjects_migrate_v8 (sqlite3 *conn)
{
    const char *user = audit_proto_field_info (AUDIT_FIELD_USER_ID)->column;
    char sql [1024];
    //  Every entry of a complete tile at once, sorted in key order
    snprintf (sql, sizeof sql,
              "INSERT INTO subject_run (org, run, subject, ts, log_index)"
              " SELECT e.org, subject_run_of (e.log_index >> 8, o.next_index >> 8), e.actor,"
              " e.ts, e.log_index FROM event e JOIN org o ON o.id = e.org"
              " WHERE e.log_index < o.next_index >> 8 << 8 AND e.actor <> ''"
              " UNION ALL"
              " SELECT e.org, subject_run_of (e.log_index >> 8, o.next_index >> 8), e.%s,"
              " e.ts, e.log_index FROM event e JOIN org o ON o.id = e.org"
              " WHERE e.log_index < o.next_index >> 8 << 8 AND e.%s IS NOT NULL"
              " AND e.%s <> '' AND e.%s <> e.actor ORDER BY 1, 2, 3, 4, 5",
              user, user, user, user);
    _Static_assert (AUDIT_TREE_TILE_LEVELS == 8, "the step's SQL shifts by a tile's levels");
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;
    if (sqlite3_create_function (conn, "subject_run_of", 2, flags, NULL, s_run_of, NULL,
                                 NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_exec (conn, sql, NULL, NULL, NULL) == SQLITE_OK? 0: -1;
    if (rc)
        audit_log_error ("msg=\"subject runs not made\" file=audit.db reason=\"%s\"",
                         sqlite3_errmsg (conn));
    sqlite3_create_function (conn, "subject_run_of", 2, flags, NULL, NULL, NULL, NULL);
    return rc;
}
