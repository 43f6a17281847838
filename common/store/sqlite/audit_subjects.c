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

//  Organisations that owe runs, oldest first; past the room, one is left
//  out (its next tile adds it again, and its pages scan what it owes)
#define s_QUEUE_MAX     65536

//  What an organisation's row says of its runs in this transaction
typedef struct {
    uint64_t tiles;                     //  complete: next_index / 256
    uint64_t indexed;                   //  with a run of level 0, or merged
    uint64_t merged;                    //  merged into blocks
} s_state_t;

struct _audit_subjects_t {
    sqlite3 *conn;
    sqlite3_stmt *events;               //  a tile's events: ts, log_index, actor, user
    sqlite3_stmt *insert;
    sqlite3_stmt *merge;                //  a block's runs into one of the level above
    sqlite3_stmt *merged;               //  and those runs deleted
    sqlite3_stmt *state_get;            //  the s_state_t of an org row
    sqlite3_stmt *state_set;
    sqlite3_stmt *range;                //  a tile's range of ts (tree_node)
    int64_t budget;                     //  entries this transaction may still write
    int64_t *queue;                     //  organisations owing runs: a ring
    size_t queue_head, queue_count, queue_max;
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

//  Below merged, the largest aligned block that holds tile, up to the top
//  level; from merged on, the tile's own run
int64_t
audit_subjects_run (uint64_t tile, uint64_t merged, uint64_t indexed)
{
    if (tile >= indexed)
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
audit_subjects_runs (uint64_t merged, uint64_t indexed, int64_t *ids, size_t max)
{
    if (merged > indexed)
        merged = indexed;               //  not so, but for a store changed by hand
    uint64_t top = s_SPAN (AUDIT_SUBJECTS_LEVELS - 1);
    uint64_t tops = merged / top * top;
    size_t count = s_level_runs (merged, indexed, 0, ids, 0, max);
    count = s_level_runs (tops, merged / s_SPAN (1) * s_SPAN (1), 1, ids, count, max);
    return s_level_runs (0, tops, AUDIT_SUBJECTS_LEVELS - 1, ids, count, max);
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
    self->budget = AUDIT_SUBJECTS_BUDGET;
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
                         " AND run < ?3 AND run <> ?4", &self->merged) != 0
    ||  s_prepare (conn, "SELECT next_index, subject_indexed, subject_merged FROM org"
                         " WHERE id = ?1", &self->state_get) != 0
    ||  s_prepare (conn, "UPDATE org SET subject_indexed = ?2, subject_merged = ?3"
                         " WHERE id = ?1", &self->state_set) != 0
    ||  s_prepare (conn, "SELECT min_ts, max_ts FROM tree_node WHERE org = ?1 AND level = 8"
                         " AND idx = ?2", &self->range) != 0)
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
    sqlite3_finalize (self->state_get);
    sqlite3_finalize (self->state_set);
    sqlite3_finalize (self->range);
    free (self->queue);
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

void
audit_subjects_begin (audit_subjects_t *self)
{
    assert (self);
    self->budget = AUDIT_SUBJECTS_BUDGET;
}

//  Run one of the merge's statements on the block of run ids lo .. hi - 1;
//  the rows it changed, or -1
static int64_t
s_merge_step (audit_subjects_t *self, sqlite3_stmt *stmt, int64_t org, int64_t lo,
              int64_t hi, int64_t id)
{
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, lo);
    sqlite3_bind_int64 (stmt, 3, hi);
    sqlite3_bind_int64 (stmt, 4, id);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? (int64_t) sqlite3_changes64 (self->conn): -1;
}

//  The runs of the block of level - 1 that ends at tile end, merged into
//  one run of level: its ids are its tiles' at every level, and the runs
//  of the levels below were merged first, so its runs are the only ones
//  in that range. The entries merged, or -1.
static int64_t
s_merge_block (audit_subjects_t *self, int64_t org, uint64_t end, unsigned level)
{
    uint64_t first = end - s_SPAN (level);
    int64_t lo = s_run_id (first, 0), hi = s_run_id (end, 0), id = s_run_id (first, level);
    int64_t merged = s_merge_step (self, self->merge, org, lo, hi, id);
    if (merged < 0 || s_merge_step (self, self->merged, org, lo, hi, id) < 0)
        return -1;
    return merged;
}

//  The next block of level 1 merged, and of level 2 when one ends there.
//  The entries written, or -1.
static int64_t
s_merge_next (audit_subjects_t *self, int64_t org, s_state_t *state)
{
    state->merged += s_SPAN (1);
    int64_t entries = s_merge_block (self, org, state->merged, 1);
    for (unsigned level = 2; entries >= 0 && level < AUDIT_SUBJECTS_LEVELS
         && state->merged % s_SPAN (level) == 0; level++) {
        int64_t more = s_merge_block (self, org, state->merged, level);
        entries = more < 0? -1: entries + more;
    }
    return entries;
}

//  The range of ts of tile's events, from its tree_node row (any ts when
//  the row has none: a tile of before the ranges)
static int
s_tile_range (audit_subjects_t *self, int64_t org, uint64_t tile, int64_t *min, int64_t *max)
{
    sqlite3_bind_int64 (self->range, 1, org);
    sqlite3_bind_int64 (self->range, 2, (int64_t) tile);
    int rc = sqlite3_step (self->range);
    bool known = rc == SQLITE_ROW && sqlite3_column_type (self->range, 0) != SQLITE_NULL;
    *min = known? sqlite3_column_int64 (self->range, 0): INT64_MIN;
    *max = known? sqlite3_column_int64 (self->range, 1): INT64_MAX;
    sqlite3_reset (self->range);
    return rc == SQLITE_ROW || rc == SQLITE_DONE? 0: -1;
}

//  The next tile's run of level 0: its events read back, sorted in key
//  order (so that the inserts fill the new range's pages one after the
//  other) and written. The entries written, or -1.
static int64_t
s_index_next (audit_subjects_t *self, int64_t org, s_state_t *state)
{
    int64_t min, max;
    uint64_t tile = state->indexed++;
    if (s_tile_range (self, org, tile, &min, &max) != 0
    ||  s_read (self, org, tile, min, max) != 0)
        return -1;
    qsort (self->entries, self->count, sizeof *self->entries, s_compare);
    return s_write (self, org, tile) == 0? (int64_t) self->count: -1;
}

//  0, 1 when there is no such row (its transaction rolled back), or -1
static int
s_state_get (audit_subjects_t *self, int64_t org, s_state_t *state)
{
    sqlite3_stmt *stmt = self->state_get;
    sqlite3_bind_int64 (stmt, 1, org);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *state = (s_state_t) {
            (uint64_t) sqlite3_column_int64 (stmt, 0) / AUDIT_TREE_TILE_LEAVES,
            (uint64_t) sqlite3_column_int64 (stmt, 1), (uint64_t) sqlite3_column_int64 (stmt, 2)
        };
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 0: rc == SQLITE_DONE? 1: -1;
}

static int
s_state_set (audit_subjects_t *self, int64_t org, const s_state_t *state)
{
    sqlite3_stmt *stmt = self->state_set;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) state->indexed);
    sqlite3_bind_int64 (stmt, 3, (int64_t) state->merged);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  What org owes, in order, while the budget lasts: each complete tile's
//  run, and each block of 16 once its tiles have theirs. 1 when it owes
//  nothing more, 0 when the budget ran out first, -1.
static int
s_serve (audit_subjects_t *self, int64_t org)
{
    s_state_t state, was;
    int found = s_state_get (self, org, &state);
    if (found != 0)
        return found > 0? 1: -1;
    was = state;
    int64_t written = 0;
    while (written >= 0 && self->budget > 0) {
        if (state.merged + s_SPAN (1) <= state.indexed)
            written = s_merge_next (self, org, &state);
        else
        if (state.indexed < state.tiles)
            written = s_index_next (self, org, &state);
        else
            break;
        self->budget -= written;
    }
    if (written < 0)
        return -1;
    if ((state.indexed != was.indexed || state.merged != was.merged)
    &&  s_state_set (self, org, &state) != 0)
        return -1;
    return state.indexed == state.tiles && state.merged + s_SPAN (1) > state.indexed;
}

int
audit_subjects_tile (void *handle, int64_t org, uint64_t tile)
{
    audit_subjects_t *self = (audit_subjects_t *) handle;
    assert (self);
    (void) tile;
    if (self->queue_count == self->queue_max) {
        size_t max = self->queue_max? 2 * self->queue_max: 256;
        int64_t *queue = max <= s_QUEUE_MAX? (int64_t *) malloc (max * sizeof *queue): NULL;
        if (!queue)
            return 0;                   //  left out: see s_QUEUE_MAX
        for (size_t at = 0; at < self->queue_count; at++)
            queue [at] = self->queue [(self->queue_head + at) % self->queue_max];
        free (self->queue);
        self->queue = queue;
        self->queue_head = 0;
        self->queue_max = max;
    }
    self->queue [(self->queue_head + self->queue_count++) % self->queue_max] = org;
    return 0;
}

int
audit_subjects_flush (audit_subjects_t *self)
{
    assert (self);
    int rc = 1;
    while (self->queue_count > 0 && self->budget > 0) {
        int64_t org = self->queue [self->queue_head];
        if ((rc = s_serve (self, org)) < 0)
            break;
        if (rc == 1) {                  //  it owes nothing: off the queue
            self->queue_head = (self->queue_head + 1) % self->queue_max;
            self->queue_count--;
        }
    }
    if (rc < 0)
        audit_log_error ("msg=\"subject runs not written\" reason=\"%s\"",
                         sqlite3_errmsg (self->conn));
    return rc < 0? -1: 0;
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
    //  Every organisation's complete tiles indexed, and its blocks of level
    //  1 merged: its complete tiles rounded down to a block. Then every
    //  entry of a complete tile at once, sorted in key order.
    char sql [1400];
    _Static_assert (AUDIT_TREE_TILE_LEVELS == 8 && AUDIT_SUBJECTS_FANOUT_BITS == 4,
                    "the step's SQL shifts by a tile's levels and a block's");
    snprintf (sql, sizeof sql,
              "UPDATE org SET subject_indexed = next_index >> 8,"
              " subject_merged = next_index >> 12 << 4;"
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
