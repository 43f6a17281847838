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
    s_entry_t entries [s_ENTRIES_MAX];
    size_t count;
    char arena [s_ENTRIES_MAX][AUDIT_IDENT_MAX + 1];
};

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
    ||  s_prepare (conn, "INSERT INTO subject_run (org, tile, subject, ts, log_index)"
                         " VALUES (?1, ?2, ?3, ?4, ?5)", &self->insert) != 0)
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
        sqlite3_bind_int64 (stmt, 2, (int64_t) tile);
        sqlite3_bind_text (stmt, 3, self->entries [at].subject, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 4, self->entries [at].ts);
        sqlite3_bind_int64 (stmt, 5, self->entries [at].log_index);
        rc = sqlite3_step (stmt);
        sqlite3_reset (stmt);
    }
    return rc == SQLITE_DONE? 0: -1;
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
        rc = s_write (self, org, tile);
    }
    if (rc != 0)
        audit_log_error ("msg=\"subject run not written\" org=%lld tile=%llu reason=\"%s\"",
                         (long long) org, (unsigned long long) tile,
                         sqlite3_errmsg (self->conn));
    return rc;
}
