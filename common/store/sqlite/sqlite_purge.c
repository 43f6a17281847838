/*  =========================================================================
    audit_store_purge - the retention deletes of the three stores
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_purge.h"
#include "audit_store_sql.h"

#include <assert.h>

//  From where the last pass stopped (?1) to the end, then from the start
#define s_SQL_ORGS          "SELECT id, retention_days FROM org ORDER BY id < ?1, id"
//  The key of the batch's last row, and whether one more follows: a walk
//  along the primary key that reads the pages the DELETE then changes
#define s_SQL_PROBE         "SELECT ts, log_index FROM event WHERE org = ?1 AND ts < ?2" \
                            " ORDER BY ts, log_index LIMIT 2 OFFSET ?3"
#define s_SQL_RANGE         "DELETE FROM event WHERE org = ?1" \
                            " AND (ts, log_index) <= (?2, ?3)"
#define s_SQL_ALL           "DELETE FROM event WHERE org = ?1 AND ts < ?2"
//  Before each: the leaves of those events forget their time (their hash
//  stays: the proofs of the events kept need it, and it tells nothing)
#define s_SQL_LEAF_RANGE    "UPDATE leaf SET ts = NULL WHERE org = ?1 AND log_index IN" \
                            " (SELECT log_index FROM event WHERE org = ?1" \
                            " AND (ts, log_index) <= (?2, ?3))"
#define s_SQL_LEAF_ALL      "UPDATE leaf SET ts = NULL WHERE org = ?1 AND log_index IN" \
                            " (SELECT log_index FROM event WHERE org = ?1 AND ts < ?2)"
#define s_SQL_OPS           "DELETE FROM ops WHERE id IN (SELECT id FROM ops" \
                            " WHERE ts < ?1 ORDER BY ts LIMIT ?2)"
#define s_SQL_QUEUE         "DELETE FROM message WHERE id IN (SELECT id FROM message" \
                            " WHERE received < ?1 ORDER BY received LIMIT ?2)"
#define s_SQL_LAST_PASS     "INSERT INTO meta (key, value) VALUES ('janitor_last_pass', ?1)" \
                            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"

int
sqlite_purge_orgs (audit_store_t *store, int64_t first_org, audit_store_org_fn *fn,
                        void *arg)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_ORGS);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, first_org);
    int rc, stopped = 0;
    while (!stopped && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        stopped = fn (sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1), arg);
    if (!stopped && rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "organisations");
    audit_store_sql_free (stmt);
    return !stopped && rc == SQLITE_DONE? 0: -1;
}

//  The (ts, log_index) of org's expired event number max_rows (counted
//  from 1), in *ts and *index: 0 found (*more: another follows), 1 when
//  org has fewer expired events, -1 on error
static int
s_probe (audit_store_t *store, int64_t org, int64_t cut_ms, int64_t max_rows,
         int64_t *ts, int64_t *index, bool *more)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_PROBE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, cut_ms);
    sqlite3_bind_int64 (stmt, 3, max_rows - 1);
    int step = sqlite3_step (stmt);
    int rc = step == SQLITE_ROW? 0: step == SQLITE_DONE? 1: -1;
    if (rc == 0) {
        *ts = sqlite3_column_int64 (stmt, 0);
        *index = sqlite3_column_int64 (stmt, 1);
        step = sqlite3_step (stmt);
        *more = step == SQLITE_ROW;
        rc = step == SQLITE_ROW || step == SQLITE_DONE? 0: -1;
    }
    if (rc < 0)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "purge probe");
    audit_store_sql_free (stmt);
    return rc;
}

//  Run sql (org ?1 and either the cut or the last key) and count its rows
static int
s_delete (audit_store_t *store, const char *sql, int64_t org, int64_t second,
          const int64_t *third, int64_t *deleted)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, second);
    if (third)
        sqlite3_bind_int64 (stmt, 3, *third);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, deleted);
    audit_store_sql_free (stmt);
    return rc;
}

int
sqlite_purge_events (audit_store_t *store, int64_t org, int64_t cut_ms,
                          int64_t max_rows, int64_t *deleted, bool *more)
{
    assert (store);
    *deleted = 0;
    *more = false;
    if (max_rows < 1)
        return 0;
    int64_t ts = 0, index = 0;
    int rc = s_probe (store, org, cut_ms, max_rows, &ts, &index, more);
    if (rc < 0)
        return -1;
    int64_t forgotten = 0;
    if (rc == 1)                        //  all of them fit
        return s_delete (store, s_SQL_LEAF_ALL, org, cut_ms, NULL, &forgotten)
            || s_delete (store, s_SQL_ALL, org, cut_ms, NULL, deleted)? -1: 0;
    return s_delete (store, s_SQL_LEAF_RANGE, org, ts, &index, &forgotten)
        || s_delete (store, s_SQL_RANGE, org, ts, &index, deleted)? -1: 0;
}

static int
s_simple (audit_store_t *store, audit_db_t db, const char *sql, int64_t cut_ms,
          int64_t max_rows, int64_t *deleted, bool *more)
{
    *deleted = 0;
    *more = false;
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, db, sql);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, cut_ms);
    sqlite3_bind_int64 (stmt, 2, max_rows);
    int rc = audit_store_sql_run (store, db, stmt, deleted);
    audit_store_sql_free (stmt);
    *more = rc == 0 && *deleted >= max_rows;
    return rc;
}

int
sqlite_purge_ops (audit_store_t *store, int64_t cut_ms, int64_t max_rows,
                       int64_t *deleted, bool *more)
{
    assert (store);
    return s_simple (store, AUDIT_DB_OPS, s_SQL_OPS, cut_ms, max_rows, deleted, more);
}

int
sqlite_purge_queue (audit_store_t *store, int64_t cut_ms, int64_t max_rows,
                         int64_t *deleted, bool *more)
{
    assert (store);
    return s_simple (store, AUDIT_DB_QUEUE, s_SQL_QUEUE, cut_ms, max_rows, deleted, more);
}

int
sqlite_purge_last_pass (audit_store_t *store, int64_t ended_ms)
{
    assert (store);
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_LAST_PASS);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, ended_ms);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, NULL);
    audit_store_sql_free (stmt);
    return rc;
}
