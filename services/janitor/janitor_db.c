/*  =========================================================================
    janitor_db - the janitor's hold on one store connection
    ========================================================================= */

#include "janitor_db.h"

#include <czmq.h>

#include "audit_log.h"
#include "audit_stmts.h"
#include "audit_store.h"

//  SQLite's default wal_autocheckpoint (its SQLITE_DEFAULT_WAL_AUTOCHECKPOINT,
//  which sqlite3.h does not export), given back when the janitor lets go
#define s_AUTOCHECKPOINT_PAGES  1000

struct _janitor_db_t {
    audit_store_t *store;               //  borrowed
    audit_db_t db;
    sqlite3 *conn;
    audit_stmts_t *stmts;
    char *name;
    int restart_pages;                  //  JANITOR_DB_WAL_RESTART_BYTES in pages
};

//  The janitor's own settings on the store's connection: its page cache,
//  and its checkpoints taken out of its commits
static int
s_configure (janitor_db_t *self)
{
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA cache_size = -%d", JANITOR_DB_CACHE_KIB);
    int64_t page_size = 0;
    int rc = janitor_db_run (self, janitor_db_stmt (self, sql), NULL);
    rc = rc? rc: janitor_db_int (self, janitor_db_stmt (self, "PRAGMA page_size"), &page_size);
    if (rc != 0 || page_size <= 0)
        return -1;
    self->restart_pages = (int) (JANITOR_DB_WAL_RESTART_BYTES / page_size);
    audit_store_wal_watch (self->store, self->db);
    return 0;
}

janitor_db_t *
janitor_db_new (audit_store_t *store, audit_db_t db)
{
    assert (store);
    janitor_db_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->db = db;
    self->conn = audit_store_db (store, db);
    self->stmts = audit_stmts_new (self->conn);
    self->name = strdup (audit_schema_file (db));
    if (!self->stmts || !self->name || janitor_db_durable (self, false) != 0
    ||  s_configure (self) != 0)
        janitor_db_destroy (&self);
    return self;
}

void
janitor_db_destroy (janitor_db_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    janitor_db_t *self = *self_p;
    //  Gives the borrowed connection SQLite's automatic checkpoint back
    sqlite3_wal_autocheckpoint (self->conn, s_AUTOCHECKPOINT_PAGES);
    audit_stmts_destroy (&self->stmts);
    free (self->name);
    free (self);
    *self_p = NULL;
}

const char *
janitor_db_name (janitor_db_t *self)
{
    return self->name;
}

sqlite3 *
janitor_db_conn (janitor_db_t *self)
{
    return self->conn;
}

sqlite3_stmt *
janitor_db_stmt (janitor_db_t *self, const char *sql)
{
    return audit_stmts_get (self->stmts, sql);
}

static void
s_log_error (janitor_db_t *self, const char *what)
{
    audit_log_error ("msg=\"%s failed\" file=%s reason=\"%s\"", what, self->name,
                     sqlite3_errmsg (self->conn));
}

int
janitor_db_run (janitor_db_t *self, sqlite3_stmt *stmt, int64_t *changes)
{
    if (!stmt)
        return -1;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        ;                               //  a pragma's rows: nothing to read
    if (rc != SQLITE_DONE)
        s_log_error (self, "statement");
    else
    if (changes)
        *changes = sqlite3_changes64 (self->conn);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

int
janitor_db_int (janitor_db_t *self, sqlite3_stmt *stmt, int64_t *value)
{
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64 (stmt, 0);
    else
    if (rc != SQLITE_DONE)
        s_log_error (self, "query");
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 0: rc == SQLITE_DONE? 1: -1;
}

int
janitor_db_begin (janitor_db_t *self)
{
    return janitor_db_run (self, janitor_db_stmt (self, "BEGIN IMMEDIATE"), NULL);
}

int
janitor_db_end (janitor_db_t *self, int rc)
{
    if (rc == 0 && janitor_db_run (self, janitor_db_stmt (self, "COMMIT"), NULL) == 0)
        return 0;
    if (!sqlite3_get_autocommit (self->conn))
        janitor_db_run (self, janitor_db_stmt (self, "ROLLBACK"), NULL);
    return -1;
}

void
janitor_db_pause (janitor_db_t *self, int pause_ms)
{
    int64_t start = zclock_mono ();
    sqlite3_wal_checkpoint_v2 (self->conn, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    int64_t left = pause_ms - (zclock_mono () - start);
    if (left > 0)
        zclock_sleep ((int) left);
    //  What ingest committed meanwhile: with the WAL fully copied, our next
    //  transaction starts it over instead of growing it
    sqlite3_wal_checkpoint_v2 (self->conn, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    //  The two writers' commits kept the WAL from starting over: make it
    //  (the PASSIVE above left little to copy under the lock), or give up
    //  after JANITOR_DB_TRUNCATE_BUSY_MS if ingest holds the lock; the
    //  next pause tries again
    if (audit_store_wal_pages (self->store, self->db) >= self->restart_pages) {
        audit_store_busy_limit (self->store, self->db, JANITOR_DB_TRUNCATE_BUSY_MS);
        sqlite3_wal_checkpoint_v2 (self->conn, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
        audit_store_busy_limit (self->store, self->db, AUDIT_STORE_BUSY_TIMEOUT_MS);
    }
}

int
janitor_db_durable (janitor_db_t *self, bool durable)
{
    return janitor_db_run (self, janitor_db_stmt (self, durable? "PRAGMA synchronous = FULL"
                                                          : "PRAGMA synchronous = NORMAL"), NULL);
}

int
janitor_db_free_pages (janitor_db_t *self, int64_t *pages)
{
    return janitor_db_int (self, janitor_db_stmt (self, "PRAGMA freelist_count"), pages)
           == 0? 0: -1;
}

int
janitor_db_vacuum (janitor_db_t *self, int pages, int64_t *freed)
{
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA incremental_vacuum (%d)", pages);
    int64_t before = 0, after = 0;
    //  incremental_vacuum frees its pages as it is stepped, inside the
    //  caller's transaction, so the lock is held for one bounded step
    int rc = janitor_db_free_pages (self, &before);
    rc = rc? rc: janitor_db_run (self, janitor_db_stmt (self, sql), NULL);
    rc = rc? rc: janitor_db_free_pages (self, &after);
    *freed = rc == 0? before - after: 0;
    return rc;
}

//  One TRUNCATE attempt after a PASSIVE one: the PASSIVE copies nearly all
//  without the write lock, so the TRUNCATE holds it only for the rest
static int
s_truncate_once (janitor_db_t *self)
{
    sqlite3_wal_checkpoint_v2 (self->conn, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    audit_store_busy_limit (self->store, self->db, JANITOR_DB_TRUNCATE_BUSY_MS);
    int log_frames = -1, copied = -1;
    int rc = sqlite3_wal_checkpoint_v2 (self->conn, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                        &log_frames, &copied);
    audit_store_busy_limit (self->store, self->db, AUDIT_STORE_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK && log_frames == 0)
        return 0;
    return rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED? 1: -1;
}

int
janitor_db_truncate (janitor_db_t *self)
{
    for (int attempt = 0; attempt < JANITOR_DB_TRUNCATE_ATTEMPTS; attempt++) {
        int rc = s_truncate_once (self);
        if (rc <= 0) {
            if (rc < 0)
                s_log_error (self, "checkpoint");
            return rc;
        }
        //  A writer or a reader was in the way: let it finish
        zclock_sleep (JANITOR_DB_TRUNCATE_BUSY_MS * (1 + attempt % 4));
    }
    return 1;
}
