/*  =========================================================================
    audit_tree - the organisation's Merkle tree in audit.db
    ========================================================================= */

#include "audit_tree.h"
#include "audit_log.h"
#include "audit_stmts.h"
#include "audit_proto.h"

#include <assert.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

//  The columns of the leaves' statement: the key and the tag, the
//  envelope, the resource fields in audit_field_t order, the uuid
#define s_COL_TAG       1
#define s_COL_FIELDS    6
#define s_COL_UUID      (s_COL_FIELDS + AUDIT_FIELD_COUNT)

static char s_leaves_sql [1024];

const char *audit_tree_sql [AUDIT_TREE_Q_COUNT] = {
    [AUDIT_TREE_Q_LEAVES] = s_leaves_sql, [AUDIT_TREE_Q_SAVED] = AUDIT_TREE_SQL_SAVED,
    [AUDIT_TREE_Q_RANGE] = AUDIT_TREE_SQL_RANGE, [AUDIT_TREE_Q_TAIL] = AUDIT_TREE_SQL_TAIL,
    [AUDIT_TREE_Q_NODES] = AUDIT_TREE_SQL_NODES, [AUDIT_TREE_Q_SPAN] = AUDIT_TREE_SQL_SPAN
};

//  A field held as the id of its ident row is read as its name: the
//  leaf is made of the text (a handful of names, a page that stays hot)
__attribute__ ((constructor)) static void
s_leaves_sql_build (void)
{
    char columns [768] = "";
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        size_t at = strlen (columns);
        if (info->stored == AUDIT_STORED_NAME)
            snprintf (columns + at, sizeof columns - at,
                      " (SELECT name FROM ident WHERE id = e.%s),", info->column);
        else
            snprintf (columns + at, sizeof columns - at, " e.%s,", info->column);
    }
    snprintf (s_leaves_sql, sizeof s_leaves_sql,
              "SELECT e.log_index, e.leaf_tag, e.ts, e.received, e.type, e.actor,%s e.uuid"
              " FROM event e WHERE e.org = ?1 AND e.ts >= ?2 AND e.ts <= ?3"
              " AND e.log_index >= ?4 AND e.log_index < ?5", columns);
}

//  The ts range of a tile's events; empty when min > max
typedef struct {
    int64_t min, max;
} s_range_t;

static const s_range_t s_EMPTY = { INT64_MAX, INT64_MIN };

//  One organisation's frontier and last tile's range, and what they were
//  when this transaction first touched them. What every append reads
//  comes first: a batch meets its organisations in random order, and
//  each entry is a cache miss (measured: a third of the log's CPU when
//  the flag sat behind the two frontiers, 4 KiB away)
//  The last tile's subtrees of level 4 so far, for its row once complete;
//  ok false when one of them could not be made (the row then has none)
typedef struct {
    audit_merkle_hash_t node [AUDIT_TREE_INNER_COUNT];
    bool ok;
} s_inner_t;

typedef struct {
    int64_t org;
    bool touched;
    s_range_t tail, tail_saved;
    audit_merkle_frontier_t live;
    s_inner_t inner;
    audit_merkle_frontier_t saved;
    s_inner_t inner_saved;
} s_entry_t;

//  The cache: open addressing from org row id (> 0; 0 is a free slot) to
//  its entry, kept at most half full; it grows past AUDIT_TREE_CACHED_MAX
//  only within a transaction that touches more organisations than that
typedef struct {
    int64_t org;
    s_entry_t *entry;
} s_slot_t;

#define s_SLOTS_MIN 1024                //  a power of two: 16 KiB, a core's cache

struct _audit_tree_t {
    sqlite3 *conn;
    sqlite3_stmt *node_insert;
    sqlite3_stmt *tail_update;
    audit_tree_reader_t reader;         //  its org set per use
    s_slot_t *slots;                    //  the cache of entries
    size_t capacity, cached;
    s_entry_t **touched;                //  the entries this transaction touched
    size_t touched_count, touched_max;
    audit_tree_tile_fn *on_tile;        //  NULL: no one asked
    void *on_tile_arg;
};

//  The slot of org in slots, or the free slot where it belongs
static s_slot_t *
s_find (s_slot_t *slots, size_t capacity, int64_t org)
{
    size_t at = (size_t) (((uint64_t) org * 0x9E3779B97F4A7C15ULL) >> 32) & (capacity - 1);
    while (slots [at].org != 0 && slots [at].org != org)
        at = (at + 1) & (capacity - 1);
    return &slots [at];
}

//  Room for one more entry: twice the slots when half full. 0 or -1.
static int
s_cache_grow (audit_tree_t *self)
{
    if (self->slots && 2 * (self->cached + 1) <= self->capacity)
        return 0;
    size_t capacity = self->slots? 2 * self->capacity: s_SLOTS_MIN;
    s_slot_t *slots = (s_slot_t *) calloc (capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t at = 0; self->slots && at < self->capacity; at++)
        if (self->slots [at].org)
            *s_find (slots, capacity, self->slots [at].org) = self->slots [at];
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

static void
s_cache_purge (audit_tree_t *self)
{
    for (size_t at = 0; self->slots && at < self->capacity; at++)
        free (self->slots [at].entry);
    free (self->slots);
    self->slots = NULL;
    self->capacity = self->cached = 0;
}

//  --------------------------------------------------------------------------

audit_tree_t *
audit_tree_new (sqlite3 *conn)
{
    assert (conn);
    audit_tree_t *self = (audit_tree_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conn = conn;
    int rc = audit_stmts_prepare (conn, "INSERT INTO tree_node (org, level, idx, hash,"
                                        " min_ts, max_ts, subtrees)"
                                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                  &self->node_insert)
          || audit_stmts_prepare (conn, "UPDATE org SET tail_min_ts = ?2, tail_max_ts = ?3,"
                                        " tail_nodes = ?4, next_index = ?5 WHERE id = ?1",
                                  &self->tail_update);
    for (int query = 0; rc == 0 && query < AUDIT_TREE_Q_COUNT; query++)
        rc = audit_stmts_prepare (conn, audit_tree_sql [query], &self->reader.stmt [query]);
    if (rc)
        audit_tree_destroy (&self);
    return self;
}

void
audit_tree_destroy (audit_tree_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_tree_t *self = *self_p;
    sqlite3_finalize (self->node_insert);
    sqlite3_finalize (self->tail_update);
    for (int query = 0; query < AUDIT_TREE_Q_COUNT; query++)
        sqlite3_finalize (self->reader.stmt [query]);
    s_cache_purge (self);
    free (self->touched);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Reading subtrees

//  The hashes of rows first .. first + count - 1 of the nodes stmt reads,
//  into hashes; -1 unless exactly count rows of 32 bytes came
static int
s_read_nodes (sqlite3_stmt *stmt, uint64_t count, audit_merkle_hash_t *hashes)
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

//  Step stmt (its parameters bound) to its one row, if any: 1 a row, 0 none, -1
static int
s_row (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    return rc == SQLITE_ROW? 1: rc == SQLITE_DONE? 0: -1;
}

//  The saved hashes of tile, those in [first, end), into hashes and found
static int
s_saved (audit_tree_reader_t *reader, uint64_t tile, uint64_t first, uint64_t end,
         audit_merkle_hash_t *hashes, uint8_t *found)
{
    sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_SAVED];
    sqlite3_bind_int64 (stmt, 1, reader->org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) tile);
    int rc = s_row (stmt);
    if (rc == 1) {
        const uint8_t *blob = (const uint8_t *) sqlite3_column_blob (stmt, 0);
        uint64_t base = tile * AUDIT_TREE_TILE_LEAVES;
        uint64_t held = base + (uint64_t) sqlite3_column_bytes (stmt, 0) / AUDIT_MERKLE_HASH_SIZE;
        for (uint64_t index = first; blob && index < end && index < held; index++) {
            memcpy (hashes [index - first], blob + (index - base) * AUDIT_MERKLE_HASH_SIZE,
                    AUDIT_MERKLE_HASH_SIZE);
            found [index - first] = AUDIT_TREE_FROM_SAVED;
        }
    }
    sqlite3_reset (stmt);
    return rc < 0? -1: 0;
}

//  The ts range of tile's events: a complete tile's node row has it, the
//  last tile's is in the org row. NULL (no events left) is empty.
static int
s_tile_range (audit_tree_reader_t *reader, uint64_t tile, s_range_t *range)
{
    *range = s_EMPTY;
    sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_RANGE];
    sqlite3_bind_int64 (stmt, 1, reader->org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) tile);
    int rc = s_row (stmt);
    if (rc == 0) {
        sqlite3_reset (stmt);
        stmt = reader->stmt [AUDIT_TREE_Q_TAIL];
        sqlite3_bind_int64 (stmt, 1, reader->org);
        rc = s_row (stmt);
    }
    if (rc == 1 && sqlite3_column_type (stmt, 0) != SQLITE_NULL
    &&  sqlite3_column_type (stmt, 1) != SQLITE_NULL)
        *range = (s_range_t) { sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1) };
    sqlite3_reset (stmt);
    return rc < 0? -1: 0;
}

//  The event stmt is on, as the leaf reads it
static void
s_event_row (sqlite3_stmt *stmt, const char *org_id, audit_row_t *row)
{
    row->log_index = (uint64_t) sqlite3_column_int64 (stmt, 0);
    row->timestamp_ms = sqlite3_column_int64 (stmt, 2);
    row->received_ms = sqlite3_column_int64 (stmt, 3);
    row->type = (audit_event_type_t) sqlite3_column_int (stmt, 4);
    row->org_id = org_id;
    row->actor_id = (const char *) sqlite3_column_text (stmt, 5);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        sqlite3_value *value = sqlite3_column_value (stmt, s_COL_FIELDS + field);
        bool number = audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT;
        bool null = sqlite3_value_type (value) == SQLITE_NULL;
        row->has_number [field] = number && !null;
        row->number [field] = number && !null? (uint64_t) sqlite3_value_int64 (value): 0;
        row->text [field] = number || null? NULL: (const char *) sqlite3_value_text (value);
    }
    const void *uuid = sqlite3_column_blob (stmt, s_COL_UUID);
    if (uuid && sqlite3_column_bytes (stmt, s_COL_UUID) == AUDIT_UUID_SIZE)
        memcpy (row->event_id, uuid, AUDIT_UUID_SIZE);
    else
        memset (row->event_id, 0, AUDIT_UUID_SIZE);
    if (!row->actor_id)
        row->actor_id = "";
}

//  The leaf of the event stmt is on, into hash; CHANGED when its tag is
//  not that leaf's, else 0
static int
s_event_leaf (sqlite3_stmt *stmt, const char *org_id, audit_merkle_hash_t hash)
{
    audit_row_t row;
    s_event_row (stmt, org_id, &row);
    if (audit_row_leaf_hash (&row, hash) != 0)
        return AUDIT_TREE_CHANGED;
    const void *tag = sqlite3_column_blob (stmt, s_COL_TAG);
    return tag && sqlite3_column_bytes (stmt, s_COL_TAG) == AUDIT_TREE_TAG_SIZE
        && memcmp (tag, hash, AUDIT_TREE_TAG_SIZE) == 0? 0: AUDIT_TREE_CHANGED;
}

//  The leaves of the events in range with an index in [first, end)
static int
s_events (audit_tree_reader_t *reader, s_range_t range, uint64_t first, uint64_t end,
          audit_merkle_hash_t *hashes, uint8_t *found)
{
    sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_LEAVES];
    sqlite3_bind_int64 (stmt, 1, reader->org);
    sqlite3_bind_int64 (stmt, 2, range.min);
    sqlite3_bind_int64 (stmt, 3, range.max);
    sqlite3_bind_int64 (stmt, 4, (int64_t) first);
    sqlite3_bind_int64 (stmt, 5, (int64_t) end);
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        uint64_t at = (uint64_t) sqlite3_column_int64 (stmt, 0) - first;
        if (at >= end - first || (found [at] & AUDIT_TREE_FROM_EVENT))
            continue;                   //  a second event at one index: changed
        if (found [at] & AUDIT_TREE_FROM_SAVED) {
            found [at] |= AUDIT_TREE_FROM_EVENT;
            continue;                   //  the saved hash is the tree's
        }
        found [at] = AUDIT_TREE_FROM_EVENT
                   | (uint8_t) s_event_leaf (stmt, reader->org_id, hashes [at]);
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  Widen range by the org row's last tile's
static int
s_tail_widen (audit_tree_reader_t *reader, s_range_t *range)
{
    sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_TAIL];
    sqlite3_bind_int64 (stmt, 1, reader->org);
    int rc = s_row (stmt);
    if (rc == 1 && sqlite3_column_type (stmt, 0) != SQLITE_NULL
    &&  sqlite3_column_type (stmt, 1) != SQLITE_NULL) {
        int64_t min = sqlite3_column_int64 (stmt, 0), max = sqlite3_column_int64 (stmt, 1);
        range->min = min < range->min? min: range->min;
        range->max = max > range->max? max: range->max;
    }
    sqlite3_reset (stmt);
    return rc < 0? -1: 0;
}

int
audit_tree_span (audit_tree_reader_t *reader, uint64_t first, uint64_t end,
                 int64_t *min, int64_t *max)
{
    assert (reader);
    s_range_t range = s_EMPTY;
    uint64_t from = first / AUDIT_TREE_TILE_LEAVES;
    uint64_t to = end / AUDIT_TREE_TILE_LEAVES + (end % AUDIT_TREE_TILE_LEAVES != 0);
    sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_SPAN];
    sqlite3_bind_int64 (stmt, 1, reader->org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) from);
    sqlite3_bind_int64 (stmt, 3, (int64_t) to);
    int rc = s_row (stmt);
    int64_t complete = rc == 1? sqlite3_column_int64 (stmt, 0): 0;
    if (rc == 1 && sqlite3_column_type (stmt, 1) != SQLITE_NULL)
        range = (s_range_t) { sqlite3_column_int64 (stmt, 1), sqlite3_column_int64 (stmt, 2) };
    sqlite3_reset (stmt);
    //  A tile without its node row is the last one (or past the log)
    if (rc == 1 && (uint64_t) complete < to - from)
        rc = s_tail_widen (reader, &range) == 0? 1: -1;
    *min = range.min;
    *max = range.max;
    return rc < 0? -1: 0;
}

int
audit_tree_leaves (audit_tree_reader_t *reader, uint64_t first, uint64_t count,
                   audit_merkle_hash_t *hashes, uint8_t *found)
{
    assert (reader);
    if (count == 0)
        return 0;
    memset (found, 0, count);
    uint64_t end = first + count;
    s_range_t joint = s_EMPTY;
    for (uint64_t tile = first / AUDIT_TREE_TILE_LEAVES; tile * AUDIT_TREE_TILE_LEAVES < end;
         tile++) {
        uint64_t base = tile * AUDIT_TREE_TILE_LEAVES;
        uint64_t from = base > first? base: first;
        uint64_t to = base + AUDIT_TREE_TILE_LEAVES < end? base + AUDIT_TREE_TILE_LEAVES: end;
        s_range_t range;
        if (s_saved (reader, tile, from, to, hashes + (from - first), found + (from - first)) != 0
        ||  s_tile_range (reader, tile, &range) != 0)
            return -1;
        joint.min = range.min < joint.min? range.min: joint.min;
        joint.max = range.max > joint.max? range.max: joint.max;
    }
    if (joint.min > joint.max)
        return 0;
    return s_events (reader, joint, first, end, hashes, found);
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

//  The stored subtrees of level 4 of tile into the reader, once a tile
static int
s_inner_read (audit_tree_reader_t *reader, uint64_t tile)
{
    if (reader->has_inner && reader->inner_tile == tile)
        return 0;
    reader->has_inner = reader->inner_ok = false;
    sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_RANGE];
    sqlite3_bind_int64 (stmt, 1, reader->org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) tile);
    int rc = s_row (stmt);
    if (rc == 1 && sqlite3_column_bytes (stmt, 2) == sizeof reader->inner) {
        memcpy (reader->inner, sqlite3_column_blob (stmt, 2), sizeof reader->inner);
        reader->inner_ok = true;
    }
    sqlite3_reset (stmt);
    reader->has_inner = rc >= 0;
    reader->inner_tile = tile;
    return rc < 0? -1: 0;
}

//  The leaves first .. first + count - 1 (in one tile) into hashes: read
//  with the rest of their 16 when the tile keeps its subtrees of level 4, else
//  with the whole tile, and kept for the next call
static int
s_leaves_read (audit_tree_reader_t *reader, uint64_t first, uint64_t count,
               audit_merkle_hash_t *hashes)
{
    uint64_t unit = reader->inner_ok? AUDIT_TREE_INNER_COUNT: AUDIT_TREE_TILE_LEAVES;
    uint64_t from = first - first % unit;
    if (!reader->has_leaves || first < reader->leaf_first
    ||  first + count > reader->leaf_first + reader->leaf_count) {
        reader->has_leaves = false;
        if (audit_tree_leaves (reader, from, unit, reader->leaf_hashes, reader->leaf_found) != 0)
            return -1;
        reader->has_leaves = true;
        reader->leaf_first = from;
        reader->leaf_count = unit;
    }
    //  A changed row's leaf is its own: the proofs made with it fail, as
    //  they should; the writer's reader refuses it
    uint64_t start = first - reader->leaf_first;
    for (uint64_t at = start; at < start + count; at++)
        if (!reader->leaf_found [at]
        ||  (reader->strict && (reader->leaf_found [at] & AUDIT_TREE_CHANGED)))
            return -1;                  //  a leaf the store lost: changed
    memcpy (hashes, reader->leaf_hashes [start], count * AUDIT_MERKLE_HASH_SIZE);
    return 0;
}

//  The org row's tail nodes into the reader, once
static void
s_tail_read (audit_tree_reader_t *reader)
{
    reader->has_tail = true;
    reader->tail_size = 0;
    sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_TAIL];
    sqlite3_bind_int64 (stmt, 1, reader->org);
    if (s_row (stmt) == 1 && sqlite3_column_type (stmt, 3) == SQLITE_BLOB) {
        uint64_t size = (uint64_t) sqlite3_column_int64 (stmt, 2);
        int count = __builtin_popcountll (size % AUDIT_TREE_TILE_LEAVES);
        const void *blob = sqlite3_column_blob (stmt, 3);
        if (size > 0 && sqlite3_column_bytes (stmt, 3) == count * AUDIT_MERKLE_HASH_SIZE) {
            if (count)
                memcpy (reader->tail_nodes, blob, (size_t) count * AUDIT_MERKLE_HASH_SIZE);
            reader->tail_size = size;
        }
    }
    sqlite3_reset (stmt);
}

//  1 and the hash when the subtree (level < 8, index) is one of the last
//  tile's complete subtrees at the log's size, else 0
static int
s_tail_node (audit_tree_reader_t *reader, unsigned level, uint64_t index,
             audit_merkle_hash_t hash)
{
    if (!reader->has_tail)
        s_tail_read (reader);
    uint64_t size = reader->tail_size;
    uint64_t start = size - size % AUDIT_TREE_TILE_LEAVES;
    int at = 0;
    for (int bit = AUDIT_TREE_TILE_LEVELS - 1; size && bit >= 0; bit--) {
        if (!(size & (1ull << bit)))
            continue;
        if ((unsigned) bit == level && start >> bit == index) {
            memcpy (hash, reader->tail_nodes [at], AUDIT_MERKLE_HASH_SIZE);
            return 1;
        }
        start += 1ull << bit;
        at++;
    }
    return 0;
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
    audit_merkle_hash_t tile [1u << (AUDIT_TREE_TILE_LEVELS - 1)];
    if (base == 0 && s_tail_node (reader, level, index, hash) != 0)
        return 0;
    if (base == 0 && s_inner_read (reader, first / AUDIT_TREE_TILE_LEAVES) != 0)
        return -1;
    if (base == 0 && reader->inner_ok && level >= AUDIT_TREE_INNER_LEVEL) {
        count >>= AUDIT_TREE_INNER_LEVEL;
        uint64_t at = (first % AUDIT_TREE_TILE_LEAVES) >> AUDIT_TREE_INNER_LEVEL;
        memcpy (tile, reader->inner [at], count * AUDIT_MERKLE_HASH_SIZE);
    }
    else
    if (base == 0) {
        if (s_leaves_read (reader, first, count, tile) != 0)
            return -1;
    }
    else {
        sqlite3_stmt *stmt = reader->stmt [AUDIT_TREE_Q_NODES];
        sqlite3_bind_int64 (stmt, 1, reader->org);
        sqlite3_bind_int (stmt, 2, (int) base);
        sqlite3_bind_int64 (stmt, 3, (int64_t) first);
        sqlite3_bind_int64 (stmt, 4, (int64_t) (first + count));
        if (s_read_nodes (stmt, count, tile) != 0)
            return -1;
    }
    s_fold (tile, count);
    memcpy (hash, tile [0], AUDIT_MERKLE_HASH_SIZE);
    return 0;
}

//  --------------------------------------------------------------------------
//  Appending


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
    entry->tail_saved = entry->tail;
    entry->inner_saved = entry->inner;
    entry->touched = true;
    self->touched [self->touched_count++] = entry;
    return 0;
}

//  The cached entry of org, or a new one (size unknown); NULL when out of
//  memory. Between transactions an overfull cache starts over.
static s_entry_t *
s_entry (audit_tree_t *self, int64_t org)
{
    if (self->slots) {
        s_slot_t *slot = s_find (self->slots, self->capacity, org);
        if (slot->org)
            return slot->entry;
    }
    if (self->touched_count == 0 && self->cached >= AUDIT_TREE_CACHED_MAX)
        s_cache_purge (self);
    if (s_cache_grow (self) != 0)
        return NULL;
    s_entry_t *entry = (s_entry_t *) calloc (1, sizeof *entry);
    if (!entry)
        return NULL;
    entry->live.size = UINT64_MAX;      //  read on first use
    entry->org = org;
    *s_find (self->slots, self->capacity, org) = (s_slot_t) { org, entry };
    self->cached++;
    return entry;
}

//  The last tile's subtrees of level 4 below index, made from its leaves;
//  a tile whose leaves cannot all be made gets none (its proofs make them)
static void
s_inner_load (audit_tree_t *self, s_entry_t *entry, uint64_t index)
{
    entry->inner.ok = true;
    uint64_t first = index - index % AUDIT_TREE_TILE_LEAVES;
    for (uint64_t group = first; entry->inner.ok && group + AUDIT_TREE_INNER_COUNT <= index;
         group += AUDIT_TREE_INNER_COUNT) {
        uint64_t at = (group % AUDIT_TREE_TILE_LEAVES) / AUDIT_TREE_INNER_COUNT;
        entry->inner.ok = audit_tree_subtree (&self->reader, AUDIT_TREE_INNER_LEVEL,
                                              group >> AUDIT_TREE_INNER_LEVEL,
                                              entry->inner.node [at]) == 0;
    }
}

//  Read org's frontier at size index, and its last tile's range, into entry
static int
s_load (audit_tree_t *self, s_entry_t *entry, int64_t org, const char *org_id, uint64_t index)
{
    self->reader.org = org;
    self->reader.org_id = org_id;
    self->reader.strict = true;
    self->reader.has_leaves = self->reader.has_tail = self->reader.has_inner = false;
    entry->tail = s_EMPTY;
    int rc = audit_merkle_frontier_load (&entry->live, index, audit_tree_subtree, &self->reader);
    if (rc == 0 && index % AUDIT_TREE_TILE_LEAVES)
        rc = s_tile_range (&self->reader, index / AUDIT_TREE_TILE_LEAVES, &entry->tail);
    if (rc == 0)
        s_inner_load (self, entry, index);
    if (rc == 0)
        return 0;
    audit_log_error ("msg=\"cannot read the organisation's tree\" org=%lld size=%llu",
                     (long long) org, (unsigned long long) index);
    entry->live.size = UINT64_MAX;
    return -1;
}

//  The entry of org at size index, touched by this transaction
static s_entry_t *
s_frontier (audit_tree_t *self, int64_t org, const char *org_id, uint64_t index)
{
    s_entry_t *entry = s_entry (self, org);
    if (!entry || s_touch (self, entry) != 0)
        return NULL;
    //  new here, or another process appended since: read it again
    if (entry->live.size != index && s_load (self, entry, org, org_id, index) != 0)
        return NULL;
    return entry;
}

typedef struct {
    audit_tree_t *self;
    s_entry_t *entry;
} s_completed_t;

//  Keep a completed subtree when it is a tile's root, with the range of
//  its events when it is a tile of leaves (the leaves are in their rows)
static int
s_completed (void *arg, unsigned level, uint64_t index, const audit_merkle_hash_t hash)
{
    audit_tree_t *self = ((s_completed_t *) arg)->self;
    s_entry_t *entry = ((s_completed_t *) arg)->entry;
    if (level == AUDIT_TREE_INNER_LEVEL)
        memcpy (entry->inner.node [index % AUDIT_TREE_INNER_COUNT], hash, AUDIT_MERKLE_HASH_SIZE);
    if (level == 0 || level % AUDIT_TREE_TILE_LEVELS)
        return 0;
    sqlite3_stmt *stmt = self->node_insert;
    sqlite3_bind_int64 (stmt, 1, entry->org);
    sqlite3_bind_int (stmt, 2, (int) level);
    sqlite3_bind_int64 (stmt, 3, (int64_t) index);
    sqlite3_bind_blob (stmt, 4, hash, AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    bool leaves = level == AUDIT_TREE_TILE_LEVELS && entry->tail.min <= entry->tail.max;
    if (leaves) {
        sqlite3_bind_int64 (stmt, 5, entry->tail.min);
        sqlite3_bind_int64 (stmt, 6, entry->tail.max);
    }
    else {
        sqlite3_bind_null (stmt, 5);
        sqlite3_bind_null (stmt, 6);
    }
    if (leaves && entry->inner.ok)
        sqlite3_bind_blob (stmt, 7, entry->inner.node, sizeof entry->inner.node, SQLITE_STATIC);
    else
        sqlite3_bind_null (stmt, 7);
    int rc = sqlite3_step (stmt) == SQLITE_DONE? 0: -1;
    sqlite3_reset (stmt);
    if (rc == 0 && level == AUDIT_TREE_TILE_LEVELS && self->on_tile)
        rc = self->on_tile (self->on_tile_arg, entry->org, index, entry->tail.min,
                            entry->tail.max);
    if (level == AUDIT_TREE_TILE_LEVELS) {
        entry->tail = s_EMPTY;          //  the next leaf starts a tile
        entry->inner.ok = true;
    }
    return rc;
}

void
audit_tree_on_tile (audit_tree_t *self, audit_tree_tile_fn *fn, void *arg)
{
    assert (self);
    self->on_tile = fn;
    self->on_tile_arg = arg;
}

void
audit_tree_prefetch (void **handle)
{
    assert (handle);
    //  The entry's head and the frontier's first hashes, which an append
    //  of a log up to 2^20 reads and writes
    for (size_t line = 0; *handle && line < 12; line++)
        __builtin_prefetch ((const char *) *handle + 64 * line, 1);
}

int
audit_tree_append (audit_tree_t *self, void **handle, int64_t org, const char *org_id,
                   uint64_t index, int64_t ts, const audit_merkle_hash_t hash)
{
    assert (self);
    assert (handle);
    s_entry_t *entry = (s_entry_t *) *handle;
    if (!entry || entry->live.size != index)
        entry = s_frontier (self, org, org_id, index);
    if (!entry)
        return -1;
    *handle = entry;                    //  touched in this transaction
    entry->tail.min = ts < entry->tail.min? ts: entry->tail.min;
    entry->tail.max = ts > entry->tail.max? ts: entry->tail.max;
    s_completed_t at = { self, entry };
    return audit_merkle_frontier_append (&entry->live, hash, s_completed, &at);
}

int
audit_tree_flush (audit_tree_t *self)
{
    assert (self);
    sqlite3_stmt *stmt = self->tail_update;
    int rc = 0;
    for (size_t at = 0; rc == 0 && at < self->touched_count; at++) {
        const s_entry_t *entry = self->touched [at];
        sqlite3_bind_int64 (stmt, 1, entry->org);
        if (entry->tail.min <= entry->tail.max) {
            sqlite3_bind_int64 (stmt, 2, entry->tail.min);
            sqlite3_bind_int64 (stmt, 3, entry->tail.max);
        }
        else {
            sqlite3_bind_null (stmt, 2);
            sqlite3_bind_null (stmt, 3);
        }
        //  The frontier's subtrees below a tile: its last hashes
        int count = __builtin_popcountll (entry->live.size);
        int low = __builtin_popcountll (entry->live.size % AUDIT_TREE_TILE_LEAVES);
        sqlite3_bind_blob (stmt, 4, entry->live.hashes [count - low],
                           low * AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 5, (int64_t) entry->live.size);
        rc = sqlite3_step (stmt) == SQLITE_DONE && sqlite3_changes (self->conn) == 1? 0: -1;
        sqlite3_reset (stmt);
    }
    return rc;
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
        self->touched [at]->tail = self->touched [at]->tail_saved;
        self->touched [at]->inner = self->touched [at]->inner_saved;
        self->touched [at]->touched = false;
    }
    self->touched_count = 0;
}
