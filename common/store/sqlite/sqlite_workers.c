/*  =========================================================================
    audit_store_workers - heartbeats, two rows of meta per worker:
    'heartbeat.<name>' (ms since the epoch) and 'heartbeat_interval.<name>'
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_workers.h"
#include "audit_store_sql.h"

#include <assert.h>
#include <stdio.h>

#define s_SQL_BEAT  "INSERT INTO meta (key, value) VALUES (?1, ?2), (?3, ?4)" \
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
#define s_SQL_READ  "SELECT value FROM meta WHERE key = ?1"

static void
s_keys (audit_worker_id_t worker, char *beat, char *interval, size_t size)
{
    snprintf (beat, size, "heartbeat.%s", audit_proto_worker_name (worker));
    snprintf (interval, size, "heartbeat_interval.%s", audit_proto_worker_name (worker));
}

int
sqlite_heartbeat (audit_store_t *store, audit_worker_id_t worker, int64_t now_ms,
                  int64_t interval_ms)
{
    assert (store);
    char beat [64], interval [64];
    s_keys (worker, beat, interval, sizeof beat);
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_BEAT);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, beat, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (stmt, 2, now_ms);
    sqlite3_bind_text (stmt, 3, interval, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (stmt, 4, interval_ms);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, NULL);
    audit_store_sql_free (stmt);
    return rc;
}

//  The integer at key of meta: *known false without one
static int
s_read (audit_store_t *store, const char *key, bool *known, int64_t *value)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (store, AUDIT_DB_AUDIT, s_SQL_READ);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    *known = rc == SQLITE_ROW && sqlite3_column_type (stmt, 0) == SQLITE_INTEGER;
    *value = *known? sqlite3_column_int64 (stmt, 0): 0;
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE? 0: -1;
}

int
sqlite_heartbeat_read (audit_store_t *store, audit_worker_id_t worker, bool *known,
                       int64_t *last_ms, int64_t *interval_ms)
{
    assert (store);
    char beat [64], interval [64];
    s_keys (worker, beat, interval, sizeof beat);
    bool has_interval;
    if (s_read (store, beat, known, last_ms) != 0
    ||  s_read (store, interval, &has_interval, interval_ms) != 0)
        return -1;
    return 0;
}
