/*  =========================================================================
    audit_names - the names of interned identifiers, cached per worker

    An open-addressing table of ids (linear probing, at most half full so
    that probes stay short) over an arena of NUL-terminated names. Ident
    ids start at 1, so id 0 marks a free slot.
    ========================================================================= */

#include "audit_names.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "audit_log.h"
#include "audit_proto.h"

#define s_SLOT_BITS     14
#define s_SLOTS         (1u << s_SLOT_BITS)
#define s_ENTRIES_MAX   (s_SLOTS / 2)
#define s_ARENA_SIZE    (512u * 1024)
#define s_NAME_SIZE     (AUDIT_IDENT_MAX + 1)
//  A row names its actor and at most every resource field
#define s_ROW_NAMES     (1 + AUDIT_FIELD_COUNT)

#define s_SQL_GENERATION "SELECT value FROM meta WHERE key = 'ident_generation'"
#define s_SQL_NAME       "SELECT name FROM ident WHERE id = ?1"

typedef struct {
    int64_t id;                     //  0: free
    uint32_t offset;                //  of the name in the arena
} s_slot_t;

struct _audit_names_t {
    s_slot_t slots [s_SLOTS];
    uint32_t entries;
    uint32_t arena_used;
    int64_t generation;
    bool synced;                    //  generation has been read
    char arena [s_ARENA_SIZE];
};

audit_names_t *
audit_names_new (void)
{
    return (audit_names_t *) calloc (1, sizeof (audit_names_t));
}

void
audit_names_destroy (audit_names_t **self_p)
{
    if (self_p && *self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_clear (audit_names_t *self)
{
    memset (self->slots, 0, sizeof self->slots);
    self->entries = 0;
    self->arena_used = 0;
}

int
audit_names_sync (audit_names_t *self, audit_stmts_t *stmts)
{
    sqlite3_stmt *stmt = audit_stmts_get (stmts, s_SQL_GENERATION);
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    //  No row yet: nothing was ever deleted
    int64_t generation = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
    sqlite3_reset (stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    if (!self->synced || generation != self->generation)
        s_clear (self);
    self->generation = generation;
    self->synced = true;
    return 0;
}

void
audit_names_row (audit_names_t *self)
{
    if (self->entries + s_ROW_NAMES > s_ENTRIES_MAX
    ||  self->arena_used + s_ROW_NAMES * s_NAME_SIZE > s_ARENA_SIZE)
        s_clear (self);
}

static uint32_t
s_slot_of (int64_t id)
{
    return (uint32_t) (((uint64_t) id * 0x9E3779B97F4A7C15ULL) >> (64 - s_SLOT_BITS));
}

//  Read a name from the store into the arena and its slot. 0, 1 when the
//  store has no such id, or -1.
static int
s_fetch (audit_names_t *self, audit_stmts_t *stmts, s_slot_t *slot, int64_t id)
{
    sqlite3_stmt *stmt = audit_stmts_get (stmts, s_SQL_NAME);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, id);
    int rc = sqlite3_step (stmt);
    const char *name = rc == SQLITE_ROW ? (const char *) sqlite3_column_text (stmt, 0) : NULL;
    size_t len = name ? (size_t) sqlite3_column_bytes (stmt, 0) : 0;
    //  Ingest never stores a longer identifier: such a row is damage
    if (len >= s_NAME_SIZE) {
        audit_log_error ("msg=ident_too_long id=%lld", (long long) id);
        rc = SQLITE_CORRUPT;
    }
    if (rc == SQLITE_ROW) {
        //  audit_names_row made room for the row, or the caller skipped it
        assert (self->entries < s_ENTRIES_MAX && self->arena_used + s_NAME_SIZE <= s_ARENA_SIZE);
        memcpy (self->arena + self->arena_used, name, len + 1);
        *slot = (s_slot_t) { id, self->arena_used };
        self->arena_used += (uint32_t) len + 1;
        self->entries++;
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int
audit_names_get (audit_names_t *self, audit_stmts_t *stmts, int64_t id, const char **name)
{
    *name = NULL;
    if (id <= 0)
        return 0;
    uint32_t index = s_slot_of (id);
    while (self->slots [index].id != 0 && self->slots [index].id != id)
        index = (index + 1) & (s_SLOTS - 1);
    s_slot_t *slot = &self->slots [index];
    int rc = slot->id == id ? 0 : s_fetch (self, stmts, slot, id);
    if (rc == 0)
        *name = self->arena + slot->offset;
    return rc < 0 ? -1 : 0;
}
