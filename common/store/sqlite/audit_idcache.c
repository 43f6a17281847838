/*  =========================================================================
    audit_idcache - one connection's cache of the org and ident tables of
    audit.db, both ways

    Per table, an array of entries (id, and the name's place in an arena
    of NUL-terminated names) with two open-addressing indexes over it, by
    name and by id (linear probing, at most half full so that probes stay
    short). A slot is taken when its epoch is the table's: clearing is a
    new epoch, O(1), and leaves the pages it did not use untouched.

    Every slot is checked against its entry, never trusted: a rollback
    cuts the entries back to where audit_idcache_begin found them, and
    the slots that pointed past the cut, or at an entry that since holds
    another name, simply fail to match. They count as taken until the
    next clear.
    ========================================================================= */

#include "audit_idcache.h"
#include "audit_log.h"
#include "audit_stmts.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define s_KIB           1024u
#define s_MIB           (1024u * 1024)
#define s_NAME_SIZE     (AUDIT_IDENT_MAX + 1)

//  The bounds of the header's table: entries as a power of two
static const struct {
    uint32_t entry_bits;
    uint32_t arena_size;
} s_bounds [2][AUDIT_IDCACHE_TABLES] = {
    [AUDIT_IDCACHE_READER] = {
        [AUDIT_IDCACHE_IDENT] = { 13, 512 * s_KIB }, [AUDIT_IDCACHE_ORG] = { 10, 64 * s_KIB }
    },
    [AUDIT_IDCACHE_WRITER] = {
        [AUDIT_IDCACHE_IDENT] = { 17, 8 * s_MIB }, [AUDIT_IDCACHE_ORG] = { 14, 1 * s_MIB }
    }
};

//  The room audit_idcache_row makes fits the smallest table
_Static_assert (AUDIT_IDCACHE_ROW_NAMES * s_NAME_SIZE <= 64 * s_KIB,
                "a row's names fit the smallest arena");
_Static_assert (AUDIT_IDCACHE_ROW_NAMES <= 1024, "a row's names fit the smallest table");

static const struct {
    const char *select_id, *select_name, *insert;
} s_sql [AUDIT_IDCACHE_TABLES] = {
    [AUDIT_IDCACHE_IDENT] = { "SELECT id FROM ident WHERE name = ?1",
                              "SELECT name FROM ident WHERE id = ?1",
                              "INSERT INTO ident (name) VALUES (?1)"
                              " ON CONFLICT (name) DO NOTHING" },
    [AUDIT_IDCACHE_ORG] = { "SELECT id FROM org WHERE name = ?1",
                            "SELECT name FROM org WHERE id = ?1",
                            "INSERT INTO org (name) VALUES (?1)"
                            " ON CONFLICT (name) DO NOTHING" }
};
#define s_SQL_GENERATION "SELECT value FROM meta WHERE key = 'ident_generation'"

typedef struct {
    int64_t id;
    uint32_t offset;                    //  of the name in the arena
    uint32_t len;
} s_entry_t;

typedef struct {
    uint32_t epoch;                     //  taken when the table's
    uint32_t tag;                       //  of the name's hash
    uint32_t entry;
} s_name_slot_t;

typedef struct {
    uint32_t epoch;
    uint32_t entry;
} s_id_slot_t;

typedef struct {
    uint32_t entry_bits, entries_max, arena_size;
    s_entry_t *entries;
    s_name_slot_t *by_name;             //  2 * entries_max slots each
    s_id_slot_t *by_id;
    char *arena;
    uint32_t count;                     //  entries that hold
    uint32_t filled;                    //  slots taken in each index
    uint32_t arena_used;
    uint32_t epoch;
    struct { uint32_t epoch, count, arena_used; } mark;    //  at begin
    sqlite3_stmt *select_id, *select_name, *insert;
} s_table_t;

struct _audit_idcache_t {
    sqlite3 *conn;
    audit_idcache_role_t role;
    s_table_t table [AUDIT_IDCACHE_TABLES];
    sqlite3_stmt *generation_select;
    int64_t generation;                 //  of the entries held
};

//  --------------------------------------------------------------------------
//  The tables

//  The same hash as CZMQ's zhashx (Bernstein's, over the bytes), which the
//  writer's hot path was measured with; it also gives the length
static uint64_t
s_hash (const char *name, uint32_t *len)
{
    uint64_t hash = 0;
    const char *at = name;
    while (*at)
        hash = 33 * hash ^ (uint8_t) *at++;
    *len = (uint32_t) (at - name);
    return hash;
}

//  First slot of a hash, with bits of index: the multiply spreads every
//  bit of the hash into the top ones
static uint32_t
s_slot_of (uint64_t hash, uint32_t bits)
{
    return (uint32_t) ((hash * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
}

static void
s_clear (s_table_t *t)
{
    if (++t->epoch == 0) {
        //  Every 2^32 clears: a slot of the old epoch 1 would look taken
        uint32_t slots = t->entries_max * 2;
        memset (t->by_name, 0, slots * sizeof *t->by_name);
        memset (t->by_id, 0, slots * sizeof *t->by_id);
        t->epoch = 1;
    }
    t->count = t->filled = t->arena_used = 0;
}

static bool
s_room (const s_table_t *t, uint32_t entries, uint32_t bytes)
{
    return t->filled + entries <= t->entries_max && t->arena_used + bytes <= t->arena_size;
}

static const s_entry_t *
s_by_name (const s_table_t *t, const char *name, uint32_t len, uint64_t hash)
{
    uint32_t mask = t->entries_max * 2 - 1, tag = (uint32_t) hash;
    for (uint32_t index = s_slot_of (hash, t->entry_bits + 1); ; index = (index + 1) & mask) {
        const s_name_slot_t *slot = &t->by_name [index];
        if (slot->epoch != t->epoch)
            return NULL;
        if (slot->tag != tag || slot->entry >= t->count)
            continue;
        const s_entry_t *entry = &t->entries [slot->entry];
        if (entry->len == len && memcmp (t->arena + entry->offset, name, len) == 0)
            return entry;
    }
}

static const s_entry_t *
s_by_id (const s_table_t *t, int64_t id)
{
    uint32_t mask = t->entries_max * 2 - 1;
    for (uint32_t index = s_slot_of ((uint64_t) id, t->entry_bits + 1); ;
         index = (index + 1) & mask) {
        const s_id_slot_t *slot = &t->by_id [index];
        if (slot->epoch != t->epoch)
            return NULL;
        if (slot->entry < t->count && t->entries [slot->entry].id == id)
            return &t->entries [slot->entry];
    }
}

//  Hold id and name (len bytes, at most s_NAME_SIZE - 1), clearing the
//  table first when it is full; the entry
static const s_entry_t *
s_add (s_table_t *t, int64_t id, const char *name, uint32_t len, uint64_t hash)
{
    if (!s_room (t, 1, len + 1))
        s_clear (t);
    uint32_t mask = t->entries_max * 2 - 1, number = t->count++;
    s_entry_t *entry = &t->entries [number];
    *entry = (s_entry_t) { id, t->arena_used, len };
    memcpy (t->arena + t->arena_used, name, len);
    t->arena [t->arena_used + len] = '\0';
    t->arena_used += len + 1;
    t->filled++;
    uint32_t index = s_slot_of (hash, t->entry_bits + 1);
    while (t->by_name [index].epoch == t->epoch)
        index = (index + 1) & mask;
    t->by_name [index] = (s_name_slot_t) { t->epoch, (uint32_t) hash, number };
    index = s_slot_of ((uint64_t) id, t->entry_bits + 1);
    while (t->by_id [index].epoch == t->epoch)
        index = (index + 1) & mask;
    t->by_id [index] = (s_id_slot_t) { t->epoch, number };
    return entry;
}

//  --------------------------------------------------------------------------
//  Construction

static int
s_table_init (audit_idcache_t *self, audit_idcache_table_t table)
{
    s_table_t *t = &self->table [table];
    t->entry_bits = s_bounds [self->role][table].entry_bits;
    t->entries_max = 1u << t->entry_bits;
    t->arena_size = s_bounds [self->role][table].arena_size;
    t->epoch = t->mark.epoch = 1;
    //  calloc: the pages stay untouched, and out of RSS, until used
    t->entries = (s_entry_t *) calloc (t->entries_max, sizeof *t->entries);
    t->by_name = (s_name_slot_t *) calloc (t->entries_max * 2, sizeof *t->by_name);
    t->by_id = (s_id_slot_t *) calloc (t->entries_max * 2, sizeof *t->by_id);
    t->arena = (char *) malloc (t->arena_size);
    if (!t->entries || !t->by_name || !t->by_id || !t->arena)
        return -1;
    if (audit_stmts_prepare (self->conn, s_sql [table].select_id, &t->select_id) != 0
    ||  audit_stmts_prepare (self->conn, s_sql [table].select_name, &t->select_name) != 0)
        return -1;
    if (self->role == AUDIT_IDCACHE_WRITER)
        return audit_stmts_prepare (self->conn, s_sql [table].insert, &t->insert);
    return 0;
}

audit_idcache_t *
audit_idcache_new (sqlite3 *conn, audit_idcache_role_t role)
{
    assert (conn);
    assert (role == AUDIT_IDCACHE_READER || role == AUDIT_IDCACHE_WRITER);
    audit_idcache_t *self = (audit_idcache_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conn = conn;
    self->role = role;
    bool ok = audit_stmts_prepare (self->conn, s_SQL_GENERATION, &self->generation_select) == 0;
    for (int table = 0; ok && table < AUDIT_IDCACHE_TABLES; table++)
        ok = s_table_init (self, (audit_idcache_table_t) table) == 0;
    if (!ok)
        audit_idcache_destroy (&self);
    return self;
}

void
audit_idcache_destroy (audit_idcache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_idcache_t *self = *self_p;
    for (int table = 0; table < AUDIT_IDCACHE_TABLES; table++) {
        s_table_t *t = &self->table [table];
        sqlite3_finalize (t->select_id);
        sqlite3_finalize (t->select_name);
        sqlite3_finalize (t->insert);
        free (t->entries);
        free (t->by_name);
        free (t->by_id);
        free (t->arena);
    }
    sqlite3_finalize (self->generation_select);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  The one invalidation rule

int
audit_idcache_begin (audit_idcache_t *self)
{
    assert (self);
    int64_t generation = 0;
    //  No row yet: nothing was ever deleted
    if (audit_stmts_int (self->generation_select, &generation) < 0)
        return -1;
    for (int table = 0; table < AUDIT_IDCACHE_TABLES; table++) {
        s_table_t *t = &self->table [table];
        if (generation != self->generation)
            s_clear (t);
        t->mark.epoch = t->epoch;
        t->mark.count = t->count;
        t->mark.arena_used = t->arena_used;
    }
    self->generation = generation;
    return 0;
}

void
audit_idcache_rollback (audit_idcache_t *self)
{
    assert (self);
    for (int table = 0; table < AUDIT_IDCACHE_TABLES; table++) {
        s_table_t *t = &self->table [table];
        if (t->mark.epoch != t->epoch)
            s_clear (t);                //  cleared since: all it holds is new
        else {
            t->count = t->mark.count;
            t->arena_used = t->mark.arena_used;
        }
    }
}

//  --------------------------------------------------------------------------
//  Names to ids

//  From the table: looked up, and inserted when missing and insert is
//  given. 0, 1 when absent, or -1.
static int
s_fetch_id (audit_idcache_t *self, s_table_t *t, const char *name, bool insert,
            int64_t *id)
{
    sqlite3_bind_text (t->select_id, 1, name, -1, SQLITE_STATIC);
    int rc = audit_stmts_int (t->select_id, id);
    if (rc != 1 || !insert)
        return rc;                      //  found, failed, or absent
    sqlite3_bind_text (t->insert, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step (t->insert);
    sqlite3_reset (t->insert);
    if (rc != SQLITE_DONE || sqlite3_changes (self->conn) == 0)
        return -1;                      //  failed, or neither there nor inserted
    *id = sqlite3_last_insert_rowid (self->conn);
    return 0;
}

static int
s_id (audit_idcache_t *self, audit_idcache_table_t table, const char *name, bool insert,
      int64_t *id)
{
    assert (self);
    assert (table < AUDIT_IDCACHE_TABLES);
    assert (name);
    s_table_t *t = &self->table [table];
    uint32_t len;
    uint64_t hash = s_hash (name, &len);
    const s_entry_t *entry = s_by_name (t, name, len, hash);
    if (entry) {
        *id = entry->id;
        return 0;
    }
    int rc = s_fetch_id (self, t, name, insert, id);
    //  A name longer than any stored is looked up, never held
    if (rc == 0 && len < s_NAME_SIZE)
        s_add (t, *id, name, len, hash);
    return rc;
}

int
audit_idcache_intern (audit_idcache_t *self, audit_idcache_table_t table, const char *name,
                      int64_t *id)
{
    assert (self && self->role == AUDIT_IDCACHE_WRITER);
    return s_id (self, table, name, true, id) == 0? 0: -1;
}

int
audit_idcache_find (audit_idcache_t *self, audit_idcache_table_t table, const char *name,
                    int64_t *id)
{
    return s_id (self, table, name, false, id);
}

//  --------------------------------------------------------------------------
//  Ids to names

void
audit_idcache_row (audit_idcache_t *self)
{
    assert (self);
    s_table_t *t = &self->table [AUDIT_IDCACHE_IDENT];
    if (!s_room (t, AUDIT_IDCACHE_ROW_NAMES, AUDIT_IDCACHE_ROW_NAMES * s_NAME_SIZE))
        s_clear (t);
}

//  Read a name from the store into the table. 0, 1 when the store has no
//  such id, or -1.
static int
s_fetch_name (s_table_t *t, int64_t id, const s_entry_t **entry)
{
    sqlite3_stmt *stmt = t->select_name;
    sqlite3_bind_int64 (stmt, 1, id);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text (stmt, 0);
        uint32_t len = (uint32_t) sqlite3_column_bytes (stmt, 0);
        //  Ingest never stores a longer name, nor one with a NUL in it:
        //  such a row is damage
        if (!name || len >= s_NAME_SIZE || memchr (name, '\0', len)) {
            audit_log_error ("msg=\"name damaged\" id=%lld", (long long) id);
            rc = SQLITE_CORRUPT;
        }
        else
            *entry = s_add (t, id, name, len, s_hash (name, &len));
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 0: rc == SQLITE_DONE? 1: -1;
}

int
audit_idcache_name (audit_idcache_t *self, audit_idcache_table_t table, int64_t id,
                    const char **name)
{
    assert (self);
    assert (table < AUDIT_IDCACHE_TABLES);
    *name = NULL;
    if (id <= 0)
        return 0;                       //  ids start at 1
    s_table_t *t = &self->table [table];
    const s_entry_t *entry = s_by_id (t, id);
    int rc = entry? 0: s_fetch_name (t, id, &entry);
    if (rc == 0)
        *name = t->arena + entry->offset;
    return rc < 0? -1: 0;
}
