/*  =========================================================================
    audit_outbox - the producer's durable outbox in one SQLite file

    Two tables: outbox_event (seq, topic, body), the events held, and
    outbox_meta (name, value): producer_id, last_seq, acked_seq. Trimming
    deletes a range of the rowid key, the cheapest delete SQLite has.
    ========================================================================= */

#include "audit_outbox.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  The statements, prepared once at open
typedef enum {
    S_BEGIN, S_COMMIT, S_ROLLBACK, S_INSERT, S_TRIM, S_SET_META, S_GET_META,
    S_EACH, S_COUNT, S_STMT_COUNT
} s_stmt_t;

static const char *s_sql [S_STMT_COUNT] = {
    [S_BEGIN]    = "BEGIN IMMEDIATE",
    [S_COMMIT]   = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_INSERT]   = "INSERT INTO outbox_event (seq, topic, body) VALUES (?1, ?2, ?3)",
    [S_TRIM]     = "DELETE FROM outbox_event WHERE seq <= ?1",
    [S_SET_META] = "INSERT INTO outbox_meta (name, value) VALUES (?1, ?2)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [S_GET_META] = "SELECT value FROM outbox_meta WHERE name = ?1",
    [S_EACH]     = "SELECT seq, topic, body FROM outbox_event WHERE seq > ?1"
                   " ORDER BY seq LIMIT ?2",
    [S_COUNT]    = "SELECT count(*) FROM outbox_event",
};

//  Run once at open, in this order, before the statements above exist
static const char *s_setup [] = {
    "PRAGMA locking_mode = EXCLUSIVE",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    //  Debian builds SQLite with secure delete on: every trim would write
    //  the freed pages over again. FAST still zeroes what a page keeps,
    //  at no extra I/O; the outbox holds nothing the service will not
    //  have too, and the file is the producer's own (0600, s_create)
    "PRAGMA secure_delete = FAST",
    "CREATE TABLE IF NOT EXISTS outbox_event (seq INTEGER PRIMARY KEY,"
    " topic TEXT NOT NULL, body BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS outbox_meta (name TEXT PRIMARY KEY, value)",
};

struct _audit_outbox_t {
    sqlite3 *db;
    sqlite3_stmt *stmt [S_STMT_COUNT];
    uint64_t last_seq;
    uint64_t acked_seq;
    uint64_t count;
};

//  One statement that returns no row we keep, made and run at once
static int
s_run_once (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        ;
    sqlite3_finalize (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

//  Step a prepared statement that returns no row, and reset it
static int
s_step (audit_outbox_t *self, s_stmt_t which)
{
    sqlite3_stmt *stmt = self->stmt [which];
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int
s_set_meta_int (audit_outbox_t *self, const char *name, uint64_t value)
{
    sqlite3_stmt *stmt = self->stmt [S_SET_META];
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) value);
    return s_step (self, S_SET_META);
}

//  A meta value as an integer, or as text into text (size bytes); a
//  missing row leaves both as they were
static void
s_get_meta (audit_outbox_t *self, const char *name, uint64_t *number, char *text, size_t size)
{
    sqlite3_stmt *stmt = self->stmt [S_GET_META];
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step (stmt) == SQLITE_ROW) {
        if (number)
            *number = (uint64_t) sqlite3_column_int64 (stmt, 0);
        if (text)
            snprintf (text, size, "%s", (const char *) sqlite3_column_text (stmt, 0));
    }
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
}

static int
s_prepare (audit_outbox_t *self)
{
    for (size_t index = 0; index < sizeof s_setup / sizeof s_setup [0]; index++)
        if (s_run_once (self->db, s_setup [index]))
            return -1;
    for (int which = 0; which < S_STMT_COUNT; which++)
        if (sqlite3_prepare_v2 (self->db, s_sql [which], -1, &self->stmt [which], NULL) != SQLITE_OK)
            return -1;
    return 0;
}

//  Read the state, and claim the file for producer_id: the write takes
//  the exclusive lock, which this connection then keeps until it closes
static int
s_claim (audit_outbox_t *self, const char *producer_id, char *reason, size_t size)
{
    char owner [256] = "";
    s_get_meta (self, "producer_id", NULL, owner, sizeof owner);
    if (*owner && strcmp (owner, producer_id) != 0) {
        snprintf (reason, size, "the outbox belongs to another producer_id");
        return -1;
    }
    s_get_meta (self, "last_seq", &self->last_seq, NULL, 0);
    s_get_meta (self, "acked_seq", &self->acked_seq, NULL, 0);
    sqlite3_stmt *stmt = self->stmt [S_COUNT];
    if (sqlite3_step (stmt) == SQLITE_ROW)
        self->count = (uint64_t) sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    sqlite3_stmt *set = self->stmt [S_SET_META];
    sqlite3_bind_text (set, 1, "producer_id", -1, SQLITE_STATIC);
    sqlite3_bind_text (set, 2, producer_id, -1, SQLITE_TRANSIENT);
    if (s_step (self, S_BEGIN) || s_step (self, S_SET_META) || s_step (self, S_COMMIT)) {
        s_step (self, S_ROLLBACK);
        snprintf (reason, size, "the outbox is in use by another process, or not writable");
        return -1;
    }
    return 0;
}

//  A new outbox is made 0600 whatever the umask: it holds events not yet
//  privacy-filtered by the service. SQLite gives its -wal and -shm the
//  mode of the file.
static void
s_create (const char *path)
{
    int fd = open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close (fd);
}

audit_outbox_t *
audit_outbox_open (const char *path, const char *producer_id, char *reason, size_t size)
{
    audit_outbox_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    s_create (path);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2 (path, &self->db, flags, NULL) != SQLITE_OK || s_prepare (self)) {
        bool busy = self->db && sqlite3_errcode (self->db) == SQLITE_BUSY;
        snprintf (reason, size, "cannot open the outbox: %s", busy
                  ? "in use by another process" : self->db ? sqlite3_errmsg (self->db)
                  : "out of memory");
        audit_outbox_destroy (&self);
        return NULL;
    }
    if (s_claim (self, producer_id, reason, size))
        audit_outbox_destroy (&self);
    return self;
}

void
audit_outbox_destroy (audit_outbox_t **self_p)
{
    audit_outbox_t *self = *self_p;
    if (!self)
        return;
    for (int which = 0; which < S_STMT_COUNT; which++)
        sqlite3_finalize (self->stmt [which]);
    sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

uint64_t
audit_outbox_last_seq (audit_outbox_t *self)
{
    return self->last_seq;
}

uint64_t
audit_outbox_acked_seq (audit_outbox_t *self)
{
    return self->acked_seq;
}

uint64_t
audit_outbox_count (audit_outbox_t *self)
{
    return self->count;
}

static int
s_insert (audit_outbox_t *self, const audit_outbox_entry_t *entry)
{
    sqlite3_stmt *stmt = self->stmt [S_INSERT];
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) entry->seq);
    sqlite3_bind_text (stmt, 2, entry->topic, -1, SQLITE_STATIC);
    sqlite3_bind_blob (stmt, 3, entry->body, (int) entry->size, SQLITE_STATIC);
    return s_step (self, S_INSERT);
}

//  The body of the transaction; counts what it added and removed
static int
s_write (audit_outbox_t *self, const audit_outbox_entry_t *entries, size_t count,
         uint64_t acked_seq, uint64_t *last_seq, uint64_t *trimmed)
{
    for (size_t index = 0; index < count; index++) {
        if (entries [index].seq <= *last_seq || s_insert (self, &entries [index]))
            return -1;
        *last_seq = entries [index].seq;
    }
    if (acked_seq > self->acked_seq) {
        sqlite3_bind_int64 (self->stmt [S_TRIM], 1, (sqlite3_int64) acked_seq);
        if (s_step (self, S_TRIM))
            return -1;
        *trimmed = (uint64_t) sqlite3_changes (self->db);
        if (s_set_meta_int (self, "acked_seq", acked_seq))
            return -1;
    }
    return count ? s_set_meta_int (self, "last_seq", *last_seq) : 0;
}

int
audit_outbox_write (audit_outbox_t *self, const audit_outbox_entry_t *entries,
                    size_t count, uint64_t acked_seq)
{
    if (count == 0 && acked_seq <= self->acked_seq)
        return 0;
    uint64_t last_seq = self->last_seq, trimmed = 0;
    if (s_step (self, S_BEGIN))
        return -1;
    if (s_write (self, entries, count, acked_seq, &last_seq, &trimmed) || s_step (self, S_COMMIT)) {
        s_step (self, S_ROLLBACK);
        return -1;
    }
    self->last_seq = last_seq;
    if (acked_seq > self->acked_seq)
        self->acked_seq = acked_seq;
    self->count = self->count + count - trimmed;
    return 0;
}

int
audit_outbox_each (audit_outbox_t *self, uint64_t after_seq, size_t limit,
                   audit_outbox_each_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = self->stmt [S_EACH];
    sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) after_seq);
    sqlite3_bind_int64 (stmt, 2, (sqlite3_int64) limit);
    int handed = 0, rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        audit_outbox_entry_t entry = {
            .seq = (uint64_t) sqlite3_column_int64 (stmt, 0),
            .topic = (const char *) sqlite3_column_text (stmt, 1),
            .body = sqlite3_column_blob (stmt, 2),
            .size = (size_t) sqlite3_column_bytes (stmt, 2),
        };
        handed++;
        if (fn (arg, &entry)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset (stmt);
    sqlite3_clear_bindings (stmt);
    return rc == SQLITE_DONE ? handed : -1;
}
