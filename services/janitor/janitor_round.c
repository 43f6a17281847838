/*  =========================================================================
    janitor_round - one round of the audit purge
    ========================================================================= */

#include "janitor_round.h"

#include <czmq.h>

#include "audit_record.h"

//  Oldest first along event_org_ts, which holds id: no row is read
#define s_SQL_COLLECT       "SELECT id FROM event WHERE org = ?1 AND ts < ?2" \
                            " ORDER BY ts LIMIT ?3"
#define s_SQL_KEY_READ      "SELECT uuid FROM event WHERE id = ?1"
#define s_SQL_KEY_DELETE    "DELETE FROM event_key WHERE uuid = ?1"
//  The cut again: a row id freed by the purge may be taken by a new event
#define s_SQL_ROW_DELETE    "DELETE FROM event WHERE id = ?1 AND ts < ?2"
//  How often a delete loop looks at the clock, in rows
#define s_CLOCK_EVERY       64
//  Keys read per read transaction while sealing: one snapshot per chunk
//  rather than per row, and none held long enough to hold a checkpoint up
#define s_READ_CHUNK        8192

typedef struct {
    int64_t id;
    int64_t cut_ms;
} s_row_t;

typedef struct {
    uint8_t bytes [AUDIT_UUID_SIZE];
} s_key_t;

struct _janitor_round_t {
    janitor_db_t *db;                   //  audit.db, borrowed
    size_t rows_max;
    s_row_t *rows;                      //  in row id order once sealed
    size_t row_count, row_room, row_next;
    s_key_t *keys;                      //  in key order
    size_t key_count, key_next;
    bool sealed;
};

janitor_round_t *
janitor_round_new (janitor_db_t *audit, size_t rows_max)
{
    assert (audit);
    janitor_round_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->db = audit;
    self->rows_max = rows_max > 0? rows_max: 1;
    if (!janitor_db_stmt (audit, s_SQL_COLLECT) || !janitor_db_stmt (audit, s_SQL_KEY_READ)
    ||  !janitor_db_stmt (audit, s_SQL_KEY_DELETE) || !janitor_db_stmt (audit, s_SQL_ROW_DELETE))
        janitor_round_destroy (&self);
    return self;
}

void
janitor_round_destroy (janitor_round_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    janitor_round_t *self = *self_p;
    janitor_round_clear (self);
    free (self);
    *self_p = NULL;
}

void
janitor_round_clear (janitor_round_t *self)
{
    free (self->rows);
    free (self->keys);
    self->rows = NULL;
    self->keys = NULL;
    self->row_count = self->row_room = self->row_next = 0;
    self->key_count = self->key_next = 0;
    self->sealed = false;
}

//  --------------------------------------------------------------------------
//  Collecting and sealing

static int
s_row_room (janitor_round_t *self)
{
    if (self->row_count < self->row_room)
        return 0;
    size_t room = self->row_room? self->row_room * 2: 4096;
    room = room < self->rows_max? room: self->rows_max;
    s_row_t *rows = realloc (self->rows, room * sizeof *rows);
    if (!rows)
        return -1;
    self->rows = rows;
    self->row_room = room;
    return 0;
}

int
janitor_round_collect (janitor_round_t *self, int64_t org, int64_t cut_ms, bool *complete)
{
    assert (self);
    assert (!self->sealed);
    *complete = false;
    size_t room = self->rows_max - self->row_count;
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_COLLECT);
    if (!stmt || room == 0)
        return stmt? 0: -1;
    //  One more than fits, to know whether the org has more
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, cut_ms);
    sqlite3_bind_int64 (stmt, 3, (int64_t) room + 1);
    size_t found = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW && found < room) {
        if (s_row_room (self) != 0)
            break;
        self->rows [self->row_count++] = (s_row_t) { sqlite3_column_int64 (stmt, 0), cut_ms };
        found++;
    }
    *complete = rc == SQLITE_DONE;
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE || (rc == SQLITE_ROW && found == room)? 0: -1;
}

static int
s_row_compare (const void *a, const void *b)
{
    int64_t left = ((const s_row_t *) a)->id, right = ((const s_row_t *) b)->id;
    return (left > right) - (left < right);
}

static int
s_key_compare (const void *a, const void *b)
{
    return memcmp (a, b, AUDIT_UUID_SIZE);
}

//  The keys of rows [from, to), in one read transaction; a row that is
//  gone already (another janitor) has no key to delete
static int
s_keys_read (janitor_round_t *self, size_t from, size_t to)
{
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_KEY_READ);
    int rc = janitor_db_run (self->db, janitor_db_stmt (self->db, "BEGIN"), NULL);
    for (size_t index = from; rc == 0 && index < to; index++) {
        sqlite3_bind_int64 (stmt, 1, self->rows [index].id);
        int step = sqlite3_step (stmt);
        if (step == SQLITE_ROW && sqlite3_column_bytes (stmt, 0) == AUDIT_UUID_SIZE)
            memcpy (self->keys [self->key_count++].bytes, sqlite3_column_blob (stmt, 0),
                    AUDIT_UUID_SIZE);
        else
        if (step != SQLITE_ROW && step != SQLITE_DONE)
            rc = -1;
        sqlite3_reset (stmt);
    }
    return janitor_db_end (self->db, rc);
}

int
janitor_round_seal (janitor_round_t *self)
{
    assert (self);
    if (self->sealed || self->row_count == 0)
        return 0;
    qsort (self->rows, self->row_count, sizeof *self->rows, s_row_compare);
    self->keys = malloc (self->row_count * sizeof *self->keys);
    int rc = self->keys? 0: -1;
    //  In row order, so that the reads walk the table's pages in order
    for (size_t from = 0; rc == 0 && from < self->row_count; from += s_READ_CHUNK) {
        size_t to = from + s_READ_CHUNK < self->row_count? from + s_READ_CHUNK: self->row_count;
        rc = s_keys_read (self, from, to);
    }
    if (rc != 0) {
        janitor_round_clear (self);
        return -1;
    }
    qsort (self->keys, self->key_count, sizeof *self->keys, s_key_compare);
    self->sealed = true;
    return 0;
}

bool
janitor_round_collecting (janitor_round_t *self)
{
    return !self->sealed && self->row_count > 0;
}

size_t
janitor_round_keys_left (janitor_round_t *self)
{
    return self->sealed? self->key_count - self->key_next: 0;
}

size_t
janitor_round_rows_left (janitor_round_t *self)
{
    return self->sealed? self->row_count - self->row_next: 0;
}

//  --------------------------------------------------------------------------
//  Deleting

//  True when a delete loop that has done done rows must stop for the clock
static bool
s_late (int done, int64_t until_us)
{
    return done > 0 && done % s_CLOCK_EVERY == 0 && zclock_usecs () >= until_us;
}

int
janitor_round_delete_keys (janitor_round_t *self, int size, int64_t until_us,
                           int64_t *deleted)
{
    assert (self);
    *deleted = 0;
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_KEY_DELETE);
    int rc = stmt? 0: -1;
    for (int done = 0; rc == 0 && done < size && self->key_next < self->key_count
                       && !s_late (done, until_us); done++) {
        sqlite3_bind_blob (stmt, 1, self->keys [self->key_next].bytes, AUDIT_UUID_SIZE,
                           SQLITE_STATIC);
        int64_t changes = 0;
        rc = janitor_db_run (self->db, stmt, &changes);
        *deleted += changes;
        self->key_next += rc == 0;
    }
    return rc;
}

int
janitor_round_delete_rows (janitor_round_t *self, int size, int64_t until_us,
                           int64_t *deleted)
{
    assert (self);
    *deleted = 0;
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_ROW_DELETE);
    int rc = stmt? 0: -1;
    for (int done = 0; rc == 0 && done < size && self->row_next < self->row_count
                       && !s_late (done, until_us); done++) {
        sqlite3_bind_int64 (stmt, 1, self->rows [self->row_next].id);
        sqlite3_bind_int64 (stmt, 2, self->rows [self->row_next].cut_ms);
        int64_t changes = 0;
        rc = janitor_db_run (self->db, stmt, &changes);
        *deleted += changes;
        self->row_next += rc == 0;
    }
    if (rc == 0 && self->row_next == self->row_count)
        janitor_round_clear (self);     //  done: its memory goes back
    return rc;
}
