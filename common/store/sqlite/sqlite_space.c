/*  =========================================================================
    audit_store_space - a maintainer's short write transactions, and giving
    the space and the WAL back
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_space.h"
#include "audit_store_sql.h"

#include <czmq.h>

//  SQLite's default wal_autocheckpoint (its SQLITE_DEFAULT_WAL_AUTOCHECKPOINT,
//  which sqlite3.h does not export), given back at detach
#define s_AUTOCHECKPOINT_PAGES  1000

int
sqlite_space_attach (audit_store_t *store, audit_db_t db, int cache_kib)
{
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA cache_size = -%d", cache_kib);
    if (audit_store_sql_once (store, db, sql) != 0
    ||  sqlite_space_durable (store, db, false) != 0)
        return -1;
    audit_store_wal_watch (store, db);
    return 0;
}

void
sqlite_space_detach (audit_store_t *store, audit_db_t db)
{
    sqlite3_wal_autocheckpoint (audit_store_db (store, db), s_AUTOCHECKPOINT_PAGES);
}

int
sqlite_space_begin (audit_store_t *store, audit_db_t db)
{
    return audit_store_sql_exec (store, db, "BEGIN IMMEDIATE", NULL);
}

int
sqlite_space_end (audit_store_t *store, audit_db_t db, int rc)
{
    if (rc == 0 && audit_store_sql_exec (store, db, "COMMIT", NULL) == 0)
        return 0;
    if (!sqlite3_get_autocommit (audit_store_db (store, db)))
        audit_store_sql_exec (store, db, "ROLLBACK", NULL);
    return -1;
}

static void
s_checkpoint (audit_store_t *store, audit_db_t db, int mode)
{
    sqlite3_wal_checkpoint_v2 (audit_store_db (store, db), NULL, mode, NULL, NULL);
}

//  True when the WAL is still AUDIT_STORE_SPACE_WAL_RESTART_BYTES long
static bool
s_wal_long (audit_store_t *store, audit_db_t db)
{
    int64_t page_size = 0;
    int pages = audit_store_wal_pages (store, db);
    return pages > 0
        && audit_store_sql_int (store, db, "PRAGMA page_size", &page_size) == 0
        && pages * page_size >= AUDIT_STORE_SPACE_WAL_RESTART_BYTES;
}

void
sqlite_space_pause (audit_store_t *store, audit_db_t db, int pause_ms)
{
    int64_t start = zclock_mono ();
    s_checkpoint (store, db, SQLITE_CHECKPOINT_PASSIVE);
    int64_t left = pause_ms - (zclock_mono () - start);
    if (left > 0)
        zclock_sleep ((int) left);
    //  What ingest committed meanwhile: with the WAL fully copied, our next
    //  transaction starts it over instead of growing it
    s_checkpoint (store, db, SQLITE_CHECKPOINT_PASSIVE);
    //  The two writers' commits kept the WAL from starting over: make it
    //  (the PASSIVE above left little to copy under the lock), or give up
    //  after AUDIT_STORE_SPACE_TRUNCATE_BUSY_MS if ingest holds the lock;
    //  the next pause tries again
    if (s_wal_long (store, db)) {
        audit_store_busy_limit (store, db, AUDIT_STORE_SPACE_TRUNCATE_BUSY_MS);
        s_checkpoint (store, db, SQLITE_CHECKPOINT_RESTART);
        audit_store_busy_limit (store, db, AUDIT_STORE_BUSY_TIMEOUT_MS);
    }
}

int
sqlite_space_durable (audit_store_t *store, audit_db_t db, bool durable)
{
    return audit_store_sql_exec (store, db, durable? "PRAGMA synchronous = FULL"
                                                   : "PRAGMA synchronous = NORMAL", NULL);
}

int
sqlite_space_free_pages (audit_store_t *store, audit_db_t db, int64_t *pages)
{
    return audit_store_sql_int (store, db, "PRAGMA freelist_count", pages) == 0? 0: -1;
}

int
sqlite_space_vacuum (audit_store_t *store, audit_db_t db, int pages, int64_t *freed)
{
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA incremental_vacuum (%d)", pages);
    int64_t before = 0, after = 0;
    //  incremental_vacuum frees its pages as it is stepped, inside the
    //  caller's transaction, so the lock is held for one bounded step
    int rc = sqlite_space_free_pages (store, db, &before);
    rc = rc? rc: audit_store_sql_once (store, db, sql);
    rc = rc? rc: sqlite_space_free_pages (store, db, &after);
    *freed = rc == 0? before - after: 0;
    return rc;
}

//  One TRUNCATE attempt after a PASSIVE one: the PASSIVE copies nearly all
//  without the write lock, so the TRUNCATE holds it only for the rest
static int
s_truncate_once (audit_store_t *store, audit_db_t db)
{
    s_checkpoint (store, db, SQLITE_CHECKPOINT_PASSIVE);
    audit_store_busy_limit (store, db, AUDIT_STORE_SPACE_TRUNCATE_BUSY_MS);
    int log_frames = -1, copied = -1;
    int rc = sqlite3_wal_checkpoint_v2 (audit_store_db (store, db), NULL,
                                        SQLITE_CHECKPOINT_TRUNCATE, &log_frames, &copied);
    audit_store_busy_limit (store, db, AUDIT_STORE_BUSY_TIMEOUT_MS);
    if (rc == SQLITE_OK && log_frames == 0)
        return 0;
    return rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED? 1: -1;
}

int
sqlite_space_truncate (audit_store_t *store, audit_db_t db)
{
    for (int attempt = 0; attempt < AUDIT_STORE_SPACE_TRUNCATE_ATTEMPTS; attempt++) {
        int rc = s_truncate_once (store, db);
        if (rc <= 0) {
            if (rc < 0)
                audit_store_sql_log (store, db, "checkpoint");
            return rc;
        }
        //  A writer or a reader was in the way: let it finish
        zclock_sleep (AUDIT_STORE_SPACE_TRUNCATE_BUSY_MS * (1 + attempt % 4));
    }
    return 1;
}

int
sqlite_maintainer_lock (audit_store_t *store, bool *held)
{
    (void) store;
    *held = true;                       //  see audit_store_space.h
    return 0;
}
