/*  =========================================================================
    audit_store_stats - rows held now and the janitor's last pass
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_stats.h"
#include "audit_store_sql.h"

//  The first column of a one-row query into *value, *known false for no
//  row or NULL. 0 or -1.
static int
s_scalar (audit_store_t *self, audit_db_t db, const char *sql, bool *known, int64_t *value)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (self, db, sql);
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    *known = rc == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL;
    *value = *known ? sqlite3_column_int64 (stmt, 0) : 0;
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int
s_count (audit_store_t *self, audit_db_t db, const char *sql, uint64_t *count)
{
    bool known;
    int64_t value;
    if (s_scalar (self, db, sql, &known, &value) != 0 || !known || value < 0)
        return -1;
    *count = (uint64_t) value;
    return 0;
}

int
sqlite_stats_rows (audit_store_t *self, audit_store_stats_rows_t *rows)
{
    if (s_count (self, AUDIT_DB_AUDIT, "SELECT count(*) FROM event", &rows->audit_events) != 0
    ||  s_count (self, AUDIT_DB_OPS, "SELECT count(*) FROM ops", &rows->ops_records) != 0
    ||  s_count (self, AUDIT_DB_QUEUE, "SELECT count(*) FROM message",
                 &rows->queued_messages) != 0)
        return -1;
    return 0;
}

int
sqlite_stats_last_pass (audit_store_t *self, bool *known, int64_t *when_ms)
{
    return s_scalar (self, AUDIT_DB_AUDIT,
                     "SELECT value FROM meta WHERE key = 'janitor_last_pass'", known, when_ms);
}
