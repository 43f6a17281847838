/*  =========================================================================
    audit_tree - the organisation's Merkle tree in audit.db
    ========================================================================= */

#include "audit_tree.h"
#include "audit_log.h"
#include "audit_render.h"

#include <assert.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

//  One organisation's frontier, and the one it had when this transaction
//  first touched it
typedef struct {
    audit_merkle_frontier_t live;
    audit_merkle_frontier_t saved;
    bool touched;
} s_entry_t;

struct _audit_tree_t {
    sqlite3 *conn;
    sqlite3_stmt *leaf_insert;
    sqlite3_stmt *node_insert;
    sqlite3_stmt *leaves;
    sqlite3_stmt *nodes;
    zhashx_t *cache;                    //  org row id -> s_entry_t
    s_entry_t **touched;                //  the entries this transaction touched
    size_t touched_count, touched_max;
};

//  --------------------------------------------------------------------------
//  The cache is keyed by the org row id itself (> 0), not a string

static size_t
s_key_hash (const void *key)
{
    return (size_t) (((uint64_t) (uintptr_t) key) * 0x9E3779B97F4A7C15ULL >> 17);
}

static int
s_key_compare (const void *a, const void *b)
{
    return (uintptr_t) a < (uintptr_t) b? -1: (uintptr_t) a > (uintptr_t) b;
}

static void *
s_key_keep (const void *key)
{
    return (void *) key;
}

static void
s_key_drop (void **key)
{
    *key = NULL;
}

static void
s_entry_free (void **item)
{
    free (*item);
    *item = NULL;
}

static zhashx_t *
s_cache_new (void)
{
    zhashx_t *cache = zhashx_new ();
    if (cache) {
        zhashx_set_key_hasher (cache, s_key_hash);
        zhashx_set_key_comparator (cache, s_key_compare);
        zhashx_set_key_duplicator (cache, s_key_keep);
        zhashx_set_key_destructor (cache, s_key_drop);
        zhashx_set_destructor (cache, s_entry_free);
    }
    return cache;
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

audit_tree_t *
audit_tree_new (sqlite3 *conn)
{
    assert (conn);
    audit_tree_t *self = (audit_tree_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conn = conn;
    self->cache = s_cache_new ();
    if (!self->cache
    ||  s_prepare (conn, "INSERT INTO leaf (org, log_index, ts, hash) VALUES (?1, ?2, ?3, ?4)",
                   &self->leaf_insert)
    ||  s_prepare (conn, "INSERT INTO tree_node (org, level, idx, hash) VALUES (?1, ?2, ?3, ?4)",
                   &self->node_insert)
    ||  s_prepare (conn, AUDIT_TREE_SQL_LEAVES, &self->leaves)
    ||  s_prepare (conn, AUDIT_TREE_SQL_NODES, &self->nodes))
        audit_tree_destroy (&self);
    return self;
}

void
audit_tree_destroy (audit_tree_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_tree_t *self = *self_p;
    sqlite3_finalize (self->leaf_insert);
    sqlite3_finalize (self->node_insert);
    sqlite3_finalize (self->leaves);
    sqlite3_finalize (self->nodes);
    zhashx_destroy (&self->cache);
    free (self->touched);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Reading subtrees

//  The hashes of rows first .. first + count - 1 of the tile that stmt
//  reads, into hashes; -1 unless exactly count rows of 32 bytes came
static int
s_read_tile (sqlite3_stmt *stmt, uint64_t count, audit_merkle_hash_t *hashes)
{
    uint64_t got = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob (stmt, 0);
        if (got == count || !blob || sqlite3_column_bytes (stmt, 0) != AUDIT_MERKLE_HASH_SIZE)
            break;
        memcpy (hashes [got++], blob, AUDIT_MERKLE_HASH_SIZE);
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE && got == count? 0: -1;
}

//  Fold count (a power of two) adjacent subtree roots into their parent's
static void
s_fold (audit_merkle_hash_t *hashes, uint64_t count)
{
    for (uint64_t width = count; width > 1; width /= 2)
        for (uint64_t at = 0; at < width / 2; at++) {
            audit_merkle_hash_t parent;
            audit_merkle_node_hash (hashes [2 * at], hashes [2 * at + 1], parent);
            memcpy (hashes [at], parent, AUDIT_MERKLE_HASH_SIZE);
        }
}

int
audit_tree_subtree (void *arg, unsigned level, uint64_t index, audit_merkle_hash_t hash)
{
    audit_tree_reader_t *reader = (audit_tree_reader_t *) arg;
    unsigned base = level - level % AUDIT_TREE_TILE_LEVELS;
    unsigned width = level - base;
    if (level >= AUDIT_MERKLE_LEVELS || index > (UINT64_MAX >> width) >> 1)
        return -1;
    uint64_t count = 1ull << width, first = index << width;
    sqlite3_stmt *stmt = base == 0? reader->leaves: reader->nodes;
    int param = 1;
    sqlite3_bind_int64 (stmt, param++, reader->org);
    if (base > 0)
        sqlite3_bind_int (stmt, param++, (int) base);
    sqlite3_bind_int64 (stmt, param++, (int64_t) first);
    sqlite3_bind_int64 (stmt, param, (int64_t) (first + count));
    audit_merkle_hash_t tile [1u << (AUDIT_TREE_TILE_LEVELS - 1)];
    if (s_read_tile (stmt, count, tile) != 0)
        return -1;
    s_fold (tile, count);
    memcpy (hash, tile [0], AUDIT_MERKLE_HASH_SIZE);
    return 0;
}

//  --------------------------------------------------------------------------
//  Appending

int
audit_tree_leaf_hash (const audit_row_t *row, audit_merkle_hash_t hash)
{
    char leaf [AUDIT_RENDER_LINE_MAX];
    int size = audit_render_leaf (row, leaf, sizeof leaf);
    if (size < 0)
        return -1;
    audit_merkle_leaf_hash (leaf, (size_t) size, hash);
    return 0;
}

//  Remember that this transaction touched entry. 0 or -1.
static int
s_touch (audit_tree_t *self, s_entry_t *entry)
{
    if (entry->touched)
        return 0;
    if (self->touched_count == self->touched_max) {
        size_t max = self->touched_max? 2 * self->touched_max: 256;
        s_entry_t **touched = (s_entry_t **) realloc (self->touched, max * sizeof *touched);
        if (!touched)
            return -1;
        self->touched = touched;
        self->touched_max = max;
    }
    entry->saved = entry->live;
    entry->touched = true;
    self->touched [self->touched_count++] = entry;
    return 0;
}

//  The cached entry of org, or a new one (size unknown); NULL when out of
//  memory. Between transactions an overfull cache starts over.
static s_entry_t *
s_entry (audit_tree_t *self, int64_t org)
{
    void *key = (void *) (uintptr_t) org;
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->cache, key);
    if (entry)
        return entry;
    if (self->touched_count == 0 && zhashx_size (self->cache) >= AUDIT_TREE_CACHED_MAX)
        zhashx_purge (self->cache);
    entry = (s_entry_t *) calloc (1, sizeof *entry);
    if (!entry)
        return NULL;
    entry->live.size = UINT64_MAX;      //  read on first use
    if (zhashx_insert (self->cache, key, entry) != 0) {
        free (entry);
        return NULL;
    }
    return entry;
}

//  The frontier of org at size index, touched by this transaction
static audit_merkle_frontier_t *
s_frontier (audit_tree_t *self, int64_t org, uint64_t index)
{
    s_entry_t *entry = s_entry (self, org);
    if (!entry || s_touch (self, entry) != 0)
        return NULL;
    if (entry->live.size != index) {
        //  new here, or another process appended since: read it again
        audit_tree_reader_t reader = { self->leaves, self->nodes, org };
        if (audit_merkle_frontier_load (&entry->live, index, audit_tree_subtree, &reader) != 0) {
            audit_log_error ("msg=\"cannot read the organisation's tree\" org=%lld size=%llu",
                             (long long) org, (unsigned long long) index);
            entry->live.size = UINT64_MAX;
            return NULL;
        }
    }
    return &entry->live;
}

typedef struct {
    audit_tree_t *self;
    int64_t org;
} s_completed_t;

//  Keep a completed subtree when it is a tile's root (the leaves are kept
//  as they come)
static int
s_completed (void *arg, unsigned level, uint64_t index, const audit_merkle_hash_t hash)
{
    s_completed_t *at = (s_completed_t *) arg;
    if (level == 0 || level % AUDIT_TREE_TILE_LEVELS)
        return 0;
    sqlite3_stmt *stmt = at->self->node_insert;
    sqlite3_bind_int64 (stmt, 1, at->org);
    sqlite3_bind_int (stmt, 2, (int) level);
    sqlite3_bind_int64 (stmt, 3, (int64_t) index);
    sqlite3_bind_blob (stmt, 4, hash, AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  Append leaf hash at index of org; ts finds its event, NULL for none
static int
s_append (audit_tree_t *self, int64_t org, uint64_t index, const int64_t *ts,
          const audit_merkle_hash_t hash)
{
    audit_merkle_frontier_t *frontier = s_frontier (self, org, index);
    if (!frontier)
        return -1;
    sqlite3_stmt *stmt = self->leaf_insert;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) index);
    if (ts)
        sqlite3_bind_int64 (stmt, 3, *ts);
    else
        sqlite3_bind_null (stmt, 3);
    sqlite3_bind_blob (stmt, 4, hash, AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE)
        return -1;
    s_completed_t at = { self, org };
    return audit_merkle_frontier_append (frontier, hash, s_completed, &at);
}

int
audit_tree_append (audit_tree_t *self, int64_t org, const audit_row_t *row)
{
    assert (self);
    audit_merkle_hash_t hash;
    if (audit_tree_leaf_hash (row, hash) != 0)
        return -1;
    return s_append (self, org, row->log_index, &row->timestamp_ms, hash);
}

void
audit_tree_commit (audit_tree_t *self)
{
    assert (self);
    for (size_t at = 0; at < self->touched_count; at++)
        self->touched [at]->touched = false;
    self->touched_count = 0;
}

void
audit_tree_rollback (audit_tree_t *self)
{
    assert (self);
    for (size_t at = 0; at < self->touched_count; at++) {
        self->touched [at]->live = self->touched [at]->saved;
        self->touched [at]->touched = false;
    }
    self->touched_count = 0;
}

//  --------------------------------------------------------------------------
//  Schema step 5: the tree of the events stored before it

//  The columns of event at version 4, the resource fields in the
//  audit_field_t order of that version (nine, role by its name)
#define s_V4_FIELDS 9
#define s_SQL_V4_EVENTS "SELECT e.log_index, e.ts, e.type, e.actor, e.user, e.device, e.grp," \
                        " r.name, e.broadcast, e.recipient_count, e.file_ref, e.file_size," \
                        " e.retention_days, e.uuid FROM event e LEFT JOIN ident r" \
                        " ON r.id = e.role WHERE e.org = ?1 ORDER BY e.log_index"
#define s_COL_V4_UUID   (4 + s_V4_FIELDS)

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

//  Leaves of the empty text for the indices from *next up to end
static int
s_fill (audit_tree_t *self, int64_t org, uint64_t *next, uint64_t end)
{
    audit_merkle_hash_t empty;
    audit_merkle_leaf_hash ("", 0, empty);
    for (; *next < end; (*next)++)
        if (s_append (self, org, *next, NULL, empty) != 0)
            return -1;
    return 0;
}

static int
s_backfill_org (audit_tree_t *self, sqlite3_stmt *events, int64_t org, const char *name,
                uint64_t size)
{
    sqlite3_bind_int64 (events, 1, org);
    uint64_t next = 0;
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step (events)) == SQLITE_ROW) {
        audit_row_t row;
        s_v4_row (events, name, &row);
        rc = row.log_index < next? -1: s_fill (self, org, &next, row.log_index);
        if (rc == 0)
            rc = audit_tree_append (self, org, &row);
        next++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_reset (events);
    return rc == 0? s_fill (self, org, &next, size): -1;
}

int
audit_tree_backfill (sqlite3 *conn)
{
    audit_tree_t *self = audit_tree_new (conn);
    sqlite3_stmt *orgs = NULL, *events = NULL;
    int rc = self && s_prepare (conn, "SELECT id, name, next_index FROM org ORDER BY id", &orgs) == 0
          && s_prepare (conn, s_SQL_V4_EVENTS, &events) == 0? 0: -1;
    int step = SQLITE_DONE;
    while (rc == 0 && (step = sqlite3_step (orgs)) == SQLITE_ROW) {
        char name [AUDIT_IDENT_MAX + 1];
        snprintf (name, sizeof name, "%s", (const char *) sqlite3_column_text (orgs, 1));
        rc = s_backfill_org (self, events, sqlite3_column_int64 (orgs, 0), name,
                             (uint64_t) sqlite3_column_int64 (orgs, 2));
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = -1;
    sqlite3_finalize (orgs);
    sqlite3_finalize (events);
    audit_tree_destroy (&self);
    return rc;
}
