/*  =========================================================================
    audit_store_sweep - the store's side of the orphan sweep
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_sweep.h"
#include "audit_store_sql.h"

#include <assert.h>
#include "audit_proto.h"

#define s_SQL_IDENT_MAX     "SELECT coalesce (max (id), 0) FROM ident"
#define s_SQL_LOGS          "SELECT id, next_index FROM org ORDER BY id"
//  Every column of event that holds an ident id, after the key
//  (broadcast and file_ref hold their text: audit_schema.h)
#define s_SQL_SCAN          "SELECT org, ts, log_index, actor, user, device, grp, role" \
                            " FROM event WHERE (org, ts, log_index) > (?1, ?2, ?3)" \
                            " ORDER BY org, ts, log_index LIMIT ?4"
#define s_SCAN_IDENT_FIRST  3
//  The events from a log_index on are among the rows in the range of ts
//  of the tiles from its own on (audit_tree_span)
#define s_SQL_SINCE         "SELECT e.actor, e.user, e.device, e.grp, e.role FROM event e" \
                            " WHERE e.org = ?1 AND e.ts >= ?3 AND e.ts <= ?4" \
                            " AND e.log_index >= ?2"
#define s_IDENT_COLUMNS     5
#define s_SQL_IDENTS        "SELECT id FROM ident WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3"
#define s_SQL_IDENT_DELETE  "DELETE FROM ident WHERE id = ?1"
#define s_SQL_ORG_DELETE    "DELETE FROM org WHERE id IN (SELECT o.id FROM org o" \
                            " WHERE o.retention_days = ?1 AND o.next_index = 0" \
                            " AND NOT EXISTS (SELECT 1 FROM event e WHERE e.org = o.id)" \
                            " LIMIT ?2)"
#define s_SQL_GENERATION    "INSERT INTO meta (key, value) VALUES ('ident_generation', 1)" \
                            " ON CONFLICT (key) DO UPDATE SET value = value + 1"
#define s_SQL_LAST_GET      "SELECT value FROM meta WHERE key = 'janitor_last_sweep'"
#define s_SQL_LAST_SET      "INSERT INTO meta (key, value) VALUES ('janitor_last_sweep', ?1)" \
                            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"

int
sqlite_sweep_ident_max (audit_store_t *store, int64_t *max)
{
    assert (store);
    return audit_store_sql_int (store, AUDIT_DB_AUDIT, s_SQL_IDENT_MAX, max) == 0? 0: -1;
}

int
sqlite_sweep_logs (audit_store_t *store, audit_store_log_fn *fn, void *arg)
{
    assert (store);
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_LOGS);
    if (!stmt)
        return -1;
    int rc, stopped = 0;
    while (!stopped && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        stopped = fn (sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1), arg);
    if (!stopped && rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "organisation logs");
    audit_store_sql_free (stmt);
    return !stopped && rc == SQLITE_DONE? 0: -1;
}

//  The ident ids of the current row, columns first .. first + 5
static void
s_idents (sqlite3_stmt *stmt, int first, audit_store_ident_fn *fn, void *arg)
{
    for (int column = first; column < first + s_IDENT_COLUMNS; column++)
        if (sqlite3_column_type (stmt, column) == SQLITE_INTEGER)
            fn (sqlite3_column_int64 (stmt, column), arg);
}

int
sqlite_sweep_scan (audit_store_t *store, audit_store_event_key_t *after, int limit,
                        audit_store_ident_fn *fn, void *arg, int *rows)
{
    assert (store);
    *rows = 0;
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_SCAN);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, after->org);
    sqlite3_bind_int64 (stmt, 2, after->ts);
    sqlite3_bind_int64 (stmt, 3, after->log_index);
    sqlite3_bind_int (stmt, 4, limit);
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        s_idents (stmt, s_SCAN_IDENT_FIRST, fn, arg);
        after->org = sqlite3_column_int64 (stmt, 0);
        after->ts = sqlite3_column_int64 (stmt, 1);
        after->log_index = sqlite3_column_int64 (stmt, 2);
        (*rows)++;
    }
    if (rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "event scan");
    audit_store_sql_free (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

int
sqlite_sweep_since (audit_store_t *store, int64_t org, int64_t from_index,
                         audit_store_ident_fn *fn, void *arg, int64_t *rows)
{
    assert (store);
    audit_tree_reader_t reader;
    int64_t min, max;
    if (sqlite_tree_reader (store, org, NULL, &reader) != 0
    ||  audit_tree_span (&reader, from_index < 0? 0: (uint64_t) from_index, INT64_MAX,
                         &min, &max) != 0)
        return -1;
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_SINCE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, from_index);
    sqlite3_bind_int64 (stmt, 3, min);
    sqlite3_bind_int64 (stmt, 4, max);
    int64_t count = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        s_idents (stmt, 0, fn, arg);
        count++;
    }
    if (rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "events since");
    audit_store_sql_free (stmt);
    if (rows)
        *rows = count;
    return rc == SQLITE_DONE? 0: -1;
}

int
sqlite_sweep_idents (audit_store_t *store, int64_t after, int64_t max, int limit,
                          int64_t *ids, int *count)
{
    assert (store);
    *count = 0;
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_IDENTS);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, after);
    sqlite3_bind_int64 (stmt, 2, max);
    sqlite3_bind_int (stmt, 3, limit);
    int rc;
    while (*count < limit && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        ids [(*count)++] = sqlite3_column_int64 (stmt, 0);
    bool ok = *count == limit || rc == SQLITE_DONE;
    if (!ok)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "identifiers");
    audit_store_sql_free (stmt);
    return ok? 0: -1;
}

int
sqlite_sweep_ident_delete (audit_store_t *store, const int64_t *ids, int count,
                                int64_t *deleted)
{
    assert (store);
    *deleted = 0;
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_IDENT_DELETE);
    int rc = stmt? 0: -1;
    for (int index = 0; rc == 0 && index < count; index++) {
        int64_t changes = 0;
        sqlite3_bind_int64 (stmt, 1, ids [index]);
        rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, &changes);
        *deleted += changes;
    }
    audit_store_sql_free (stmt);
    return rc;
}

int
sqlite_sweep_orgs (audit_store_t *store, int limit, int64_t *deleted)
{
    assert (store);
    *deleted = 0;
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_ORG_DELETE);
    if (!stmt)
        return -1;
    sqlite3_bind_int (stmt, 1, AUDIT_RETENTION_MAX_DAYS);
    sqlite3_bind_int (stmt, 2, limit);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, deleted);
    audit_store_sql_free (stmt);
    return rc;
}

int
sqlite_sweep_generation (audit_store_t *store)
{
    assert (store);
    return audit_store_sql_exec (store, AUDIT_DB_AUDIT, s_SQL_GENERATION, NULL);
}

int
sqlite_sweep_last (audit_store_t *store, int64_t *ms, bool *found)
{
    assert (store);
    int rc = audit_store_sql_int (store, AUDIT_DB_AUDIT, s_SQL_LAST_GET, ms);
    *found = rc == 0;
    return rc < 0? -1: 0;
}

int
sqlite_sweep_last_set (audit_store_t *store, int64_t ms)
{
    assert (store);
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_LAST_SET);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, ms);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, NULL);
    audit_store_sql_free (stmt);
    return rc;
}
