/*  =========================================================================
    audit_migrate - the migration steps of audit.db that need more than SQL
    ========================================================================= */

#include "audit_migrate.h"
#include "audit_log.h"
#include "audit_merkle.h"
#include "audit_proto.h"
#include "audit_render.h"
#include "audit_row.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

//  Levels of one tile in every layout so far
#define s_TILE_LEVELS   8
#define s_TILE_LEAVES   (1u << s_TILE_LEVELS)

static int
s_prepare (sqlite3 *conn, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v2 (conn, sql, -1, stmt, NULL) == SQLITE_OK)
        return 0;
    audit_log_error ("msg=\"cannot prepare statement\" file=audit.db reason=\"%s\"",
                     sqlite3_errmsg (conn));
    return -1;
}

static int
s_step_done (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  --------------------------------------------------------------------------
//  Step 5

//  The columns of event at version 4, the resource fields in the
//  audit_field_t order of that version (nine, role by its name)
#define s_V4_FIELDS 9
#define s_SQL_V4_EVENTS "SELECT e.log_index, e.ts, e.type, e.actor, e.user, e.device, e.grp," \
                        " r.name, e.broadcast, e.recipient_count, e.file_ref, e.file_size," \
                        " e.retention_days, e.uuid FROM event e LEFT JOIN ident r" \
                        " ON r.id = e.role WHERE e.org = ?1 ORDER BY e.log_index"
#define s_COL_V4_UUID   (4 + s_V4_FIELDS)

typedef struct {
    sqlite3_stmt *events, *leaf_insert, *node_insert;
    int64_t org;
    audit_merkle_frontier_t frontier;
} s_v5_t;

//  The row stmt (s_SQL_V4_EVENTS) is on, of organisation org_id
static void
s_v4_row (sqlite3_stmt *stmt, const char *org_id, audit_row_t *row)
{
    memset (row, 0, sizeof *row);
    row->log_index = (uint64_t) sqlite3_column_int64 (stmt, 0);
    row->timestamp_ms = sqlite3_column_int64 (stmt, 1);
    row->type = (audit_event_type_t) sqlite3_column_int (stmt, 2);
    row->org_id = org_id;
    row->actor_id = (const char *) sqlite3_column_text (stmt, 3);
    for (int field = 0; field < s_V4_FIELDS && field < AUDIT_FIELD_COUNT; field++) {
        int column = 4 + field;
        if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
            continue;
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT) {
            row->has_number [field] = true;
            row->number [field] = (uint64_t) sqlite3_column_int64 (stmt, column);
        }
        else
            row->text [field] = (const char *) sqlite3_column_text (stmt, column);
    }
    if (sqlite3_column_bytes (stmt, s_COL_V4_UUID) == AUDIT_UUID_SIZE)
        memcpy (row->event_id, sqlite3_column_blob (stmt, s_COL_V4_UUID), AUDIT_UUID_SIZE);
    if (!row->actor_id)
        row->actor_id = "";
}

//  Keep a completed subtree when it is a tile's root
static int
s_v5_completed (void *arg, unsigned level, uint64_t index, const audit_merkle_hash_t hash)
{
    s_v5_t *self = (s_v5_t *) arg;
    if (level == 0 || level % s_TILE_LEVELS)
        return 0;
    sqlite3_bind_int64 (self->node_insert, 1, self->org);
    sqlite3_bind_int (self->node_insert, 2, (int) level);
    sqlite3_bind_int64 (self->node_insert, 3, (int64_t) index);
    sqlite3_bind_blob (self->node_insert, 4, hash, AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    return s_step_done (self->node_insert);
}

//  The leaf at the frontier's size, ts NULL for none
static int
s_v5_append (s_v5_t *self, const int64_t *ts, const audit_merkle_hash_t hash)
{
    sqlite3_stmt *stmt = self->leaf_insert;
    sqlite3_bind_int64 (stmt, 1, self->org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) self->frontier.size);
    if (ts)
        sqlite3_bind_int64 (stmt, 3, *ts);
    else
        sqlite3_bind_null (stmt, 3);
    sqlite3_bind_blob (stmt, 4, hash, AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    if (s_step_done (stmt) != 0)
        return -1;
    return audit_merkle_frontier_append (&self->frontier, hash, s_v5_completed, self);
}

//  Leaves of the empty text up to end
static int
s_v5_fill (s_v5_t *self, uint64_t end)
{
    audit_merkle_hash_t empty;
    audit_merkle_leaf_hash ("", 0, empty);
    while (self->frontier.size < end)
        if (s_v5_append (self, NULL, empty) != 0)
            return -1;
    return 0;
}

static int
s_v5_org (s_v5_t *self, int64_t org, const char *name, uint64_t size)
{
    self->org = org;
    audit_merkle_frontier_init (&self->frontier);
    sqlite3_bind_int64 (self->events, 1, org);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (self->events)) == SQLITE_ROW) {
        audit_row_t row;
        s_v4_row (self->events, name, &row);
        rc = row.log_index < self->frontier.size? -1: s_v5_fill (self, row.log_index);
        char leaf [AUDIT_RENDER_LINE_MAX];
        int len = rc == 0? audit_render_leaf (&row, leaf, sizeof leaf): -1;
        audit_merkle_hash_t hash;
        if (len >= 0)
            audit_merkle_leaf_hash (leaf, (size_t) len, hash);
        rc = len < 0? -1: s_v5_append (self, &row.timestamp_ms, hash);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_reset (self->events);
    return rc == 0? s_v5_fill (self, size): -1;
}

int
audit_migrate_tree_v5 (sqlite3 *conn)
{
    s_v5_t self = { NULL };
    sqlite3_stmt *orgs = NULL;
    int rc = s_prepare (conn, "SELECT id, name, next_index FROM org ORDER BY id", &orgs)
          || s_prepare (conn, s_SQL_V4_EVENTS, &self.events)
          || s_prepare (conn, "INSERT INTO leaf (org, log_index, ts, hash)"
                              " VALUES (?1, ?2, ?3, ?4)", &self.leaf_insert)
          || s_prepare (conn, "INSERT INTO tree_node (org, level, idx, hash)"
                              " VALUES (?1, ?2, ?3, ?4)", &self.node_insert)? -1: 0;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step (orgs)) == SQLITE_ROW) {
        char name [AUDIT_IDENT_MAX + 1];
        snprintf (name, sizeof name, "%s", (const char *) sqlite3_column_text (orgs, 1));
        rc = s_v5_org (&self, sqlite3_column_int64 (orgs, 0), name,
                       (uint64_t) sqlite3_column_int64 (orgs, 2));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize (orgs);
    sqlite3_finalize (self.events);
    sqlite3_finalize (self.leaf_insert);
    sqlite3_finalize (self.node_insert);
    return rc;
}

//  --------------------------------------------------------------------------
//  Step 7

#define s_SQL_V7_TILES  "SELECT DISTINCT l.org, l.log_index / 256, o.next_index FROM leaf l" \
                        " JOIN org o ON o.id = l.org WHERE l.ts IS NULL"
#define s_SQL_V7_LEAVES "SELECT hash FROM leaf WHERE org = ?1 AND log_index >= ?2" \
                        " AND log_index < ?3 ORDER BY log_index"
#define s_SQL_V7_SAVE   "INSERT INTO leaf_tile (org, tile, hashes) VALUES (?1, ?2, ?3)"
#define s_SQL_V7_NODES  "SELECT org, idx FROM tree_node WHERE level = 8"
#define s_SQL_V7_INNER  "UPDATE tree_node SET subtrees = ?3 WHERE org = ?1 AND level = 8 AND idx = ?2"
#define s_INNER_LEVEL   4

//  The hashes of leaves [first, first + count) of org into hashes
static int
s_v7_read (sqlite3_stmt *leaves, int64_t org, int64_t first, int64_t count,
           audit_merkle_hash_t *hashes)
{
    sqlite3_bind_int64 (leaves, 1, org);
    sqlite3_bind_int64 (leaves, 2, first);
    sqlite3_bind_int64 (leaves, 3, first + count);
    int64_t got = 0;
    int rc;
    while ((rc = sqlite3_step (leaves)) == SQLITE_ROW && got < count
       &&  sqlite3_column_bytes (leaves, 0) == AUDIT_MERKLE_HASH_SIZE)
        memcpy (hashes [got++], sqlite3_column_blob (leaves, 0), AUDIT_MERKLE_HASH_SIZE);
    sqlite3_reset (leaves);
    return rc == SQLITE_DONE && got == count? 0: -1;
}

//  The hashes of tile of org, up to the log's size, into leaf_tile
static int
s_v7_tile (sqlite3_stmt *leaves, sqlite3_stmt *save, int64_t org, int64_t tile,
           int64_t size)
{
    static audit_merkle_hash_t hashes [s_TILE_LEAVES];
    int64_t first = tile * s_TILE_LEAVES;
    int64_t end = size < first + s_TILE_LEAVES? size: first + s_TILE_LEAVES;
    if (s_v7_read (leaves, org, first, end - first, hashes) != 0)
        return -1;                      //  a hole: schema 5 filled every index
    sqlite3_bind_int64 (save, 1, org);
    sqlite3_bind_int64 (save, 2, tile);
    sqlite3_bind_blob (save, 3, hashes, (int) ((end - first) * AUDIT_MERKLE_HASH_SIZE),
                       SQLITE_STATIC);
    return s_step_done (save);
}

//  A complete tile's 16 subtrees of level 4, folded from its leaves
static int
s_v7_inner (sqlite3_stmt *leaves, sqlite3_stmt *update, int64_t org, int64_t tile)
{
    static audit_merkle_hash_t hashes [s_TILE_LEAVES];
    audit_merkle_hash_t inner [s_TILE_LEAVES >> s_INNER_LEVEL];
    if (s_v7_read (leaves, org, tile * s_TILE_LEAVES, s_TILE_LEAVES, hashes) != 0)
        return -1;
    for (unsigned group = 0; group < s_TILE_LEAVES >> s_INNER_LEVEL; group++) {
        audit_merkle_hash_t *at = &hashes [group << s_INNER_LEVEL];
        for (unsigned width = 1u << s_INNER_LEVEL; width > 1; width /= 2)
            for (unsigned pair = 0; pair < width / 2; pair++)
                audit_merkle_node_hash (at [2 * pair], at [2 * pair + 1], at [pair]);
        memcpy (inner [group], at [0], AUDIT_MERKLE_HASH_SIZE);
    }
    sqlite3_bind_int64 (update, 1, org);
    sqlite3_bind_int64 (update, 2, tile);
    sqlite3_bind_blob (update, 3, inner, sizeof inner, SQLITE_STATIC);
    return s_step_done (update);
}

//  Every complete tile's inner subtrees
static int
s_v7_inners (sqlite3 *conn, sqlite3_stmt *leaves)
{
    sqlite3_stmt *nodes = NULL, *update = NULL;
    int rc = s_prepare (conn, s_SQL_V7_NODES, &nodes) || s_prepare (conn, s_SQL_V7_INNER, &update)
           ? -1: 0;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step (nodes)) == SQLITE_ROW)
        rc = s_v7_inner (leaves, update, sqlite3_column_int64 (nodes, 0),
                         sqlite3_column_int64 (nodes, 1));
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize (nodes);
    sqlite3_finalize (update);
    return rc;
}

int
audit_migrate_leaves_v7 (sqlite3 *conn)
{
    sqlite3_stmt *tiles = NULL, *leaves = NULL, *save = NULL;
    int rc = s_prepare (conn, s_SQL_V7_TILES, &tiles) || s_prepare (conn, s_SQL_V7_LEAVES, &leaves)
          || s_prepare (conn, s_SQL_V7_SAVE, &save)? -1: 0;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step (tiles)) == SQLITE_ROW)
        rc = s_v7_tile (leaves, save, sqlite3_column_int64 (tiles, 0),
                        sqlite3_column_int64 (tiles, 1), sqlite3_column_int64 (tiles, 2));
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    if (rc == 0)
        rc = s_v7_inners (conn, leaves);
    sqlite3_finalize (tiles);
    sqlite3_finalize (leaves);
    sqlite3_finalize (save);
    if (rc == 0 && sqlite3_exec (conn, "DROP TABLE leaf", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    return rc;
}
