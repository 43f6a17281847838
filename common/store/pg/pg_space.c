/*  =========================================================================
    pg_space - a maintainer's short transactions on the PostgreSQL store,
    and the one janitor at a time (the same calls as the SQLite engine's
    sqlite_space.c, with PostgreSQL's meaning)

    The three stores are schemas of one database on one connection, so
    every call is the same whatever store it names. A batch is a plain
    READ COMMITTED transaction: PostgreSQL's writers do not exclude each
    other, so the pause after it is a sleep, for the server's I/O and the
    writers' row locks (an org row a sweep deletes) rather than for a
    write lock. As on SQLite, the maintainer's commits are not waited for
    on disk (synchronous_commit off: a delete lost to a crash is made
    again by the next pass, and the batch holds nothing while it waits),
    and the counters' commit is (audit_store_space_durable); the WAL is
    flushed in order, so that commit makes every earlier one durable too
    and stats never count a delete a crash undid.

    Space is PostgreSQL's own: autovacuum makes deleted rows' room
    reusable (VACUUM cannot run in the caller's transaction anyway), the
    server recycles its WAL, and whole months go as partitions
    (pg_purge.c). So the free pages are 0, a vacuum frees nothing, and
    the WAL is already what the janitor wants (truncate: 0); the
    janitor's reclaim then completes at once.

    The maintainer lock is a session advisory lock, PG_SCHEMA_LOCK_JANITOR:
    held by the janitor's connection from its first pass to its end, and
    given up by the server when that connection goes, so a standby
    janitor on another host takes over at its next pass. A connection made
    again mid-pass holds no lock, and the standby may hold it by then: a
    batch that would begin on it fails instead, and so does the rest of
    the pass, until the next pass asks for the lock again.
    ========================================================================= */

#include "pg_core.h"
#include "audit_log.h"

#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

//  Whether this session holds the lock already (a second
//  pg_try_advisory_lock would stack another hold on it), else try it
static const pg_stmt_t s_lock = { "space_maintainer_lock",
    "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory'"
    " AND pid = pg_backend_pid () AND classid = 0 AND objid = $1::bigint AND objsubid = 1"
    " AND granted) THEN true ELSE pg_try_advisory_lock ($1::bigint) END" };

int
pg_space_attach (audit_store_t *store, audit_db_t db, int cache_kib)
{
    (void) cache_kib;                   //  the server's shared_buffers
    return pg_space_durable (store, db, false);
}

void
pg_space_detach (audit_store_t *store, audit_db_t db)
{
    (void) db;
    pg_conn_exec (pg_core_self (store)->conn, "RESET synchronous_commit");
}

//  lock_generation once the lock was lost: refused until the next pass
//  asks for the lock again (pg_maintainer_lock)
#define s_LOCK_LOST     UINT64_MAX

bool
pg_space_lock_kept (pg_store_t *self)
{
    if (self->lock_generation == 0
    ||  self->lock_generation == pg_conn_generation (self->conn))
        return true;
    if (self->lock_generation != s_LOCK_LOST)
        audit_log_warn ("msg=\"maintainer lock lost\" engine=postgresql"
                        " reason=\"connection made again\" note=\"the pass stops here\"");
    self->lock_generation = s_LOCK_LOST;
    return false;
}

int
pg_space_begin (audit_store_t *store, audit_db_t db)
{
    (void) db;
    pg_store_t *self = pg_core_self (store);
    //  BEGIN may connect again: the lock is checked after it
    if (pg_conn_begin (self->conn, false) != 0)
        return -1;
    if (pg_space_lock_kept (self))
        return 0;
    pg_conn_rollback (self->conn);
    return -1;
}

int
pg_space_end (audit_store_t *store, audit_db_t db, int rc)
{
    (void) db;
    pg_conn_t *conn = pg_core_self (store)->conn;
    //  COMMIT of a transaction a failed statement aborted rolls it back
    //  and says COMMAND_OK: only an open, healthy one is committed
    PGconn *handle = pg_conn_handle (conn);
    bool healthy = handle && PQtransactionStatus (handle) == PQTRANS_INTRANS;
    if (rc == 0 && healthy && pg_conn_commit (conn) == 0)
        return 0;
    pg_conn_rollback (conn);
    return -1;
}

void
pg_space_pause (audit_store_t *store, audit_db_t db, int pause_ms)
{
    (void) store;
    (void) db;
    if (pause_ms > 0)
        zclock_sleep (pause_ms);
}

int
pg_space_durable (audit_store_t *store, audit_db_t db, bool durable)
{
    (void) db;
    return pg_conn_exec (pg_core_self (store)->conn, durable? "SET synchronous_commit = on"
                                                            : "SET synchronous_commit = off");
}

int
pg_space_free_pages (audit_store_t *store, audit_db_t db, int64_t *pages)
{
    (void) store;
    (void) db;
    *pages = 0;
    return 0;
}

int
pg_space_vacuum (audit_store_t *store, audit_db_t db, int pages, int64_t *freed)
{
    (void) store;
    (void) db;
    (void) pages;
    *freed = 0;
    return 0;
}

int
pg_space_truncate (audit_store_t *store, audit_db_t db)
{
    (void) store;
    (void) db;
    return 0;
}

int
pg_maintainer_lock (audit_store_t *store, bool *held)
{
    assert (store && held);
    *held = false;
    char key [24];
    snprintf (key, sizeof key, "%d", PG_SCHEMA_LOCK_JANITOR);
    const char *values [] = { key };
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_lock, 1, values);
    if (!result)
        return -1;
    *held = PQntuples (result) == 1 && strcmp (PQgetvalue (result, 0, 0), "t") == 0;
    PQclear (result);
    pg_store_t *self = pg_core_self (store);
    self->lock_generation = *held? pg_conn_generation (self->conn): 0;
    return 0;
}
