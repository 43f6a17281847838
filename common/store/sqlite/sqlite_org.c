/*  =========================================================================
    audit_store_org - an organisation's own settings in the store
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_org.h"
#include "audit_store_sql.h"

int
sqlite_org_retention (audit_store_t *self, const char *org_id, uint32_t *days)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (self, AUDIT_DB_AUDIT,
        "SELECT retention_days FROM org WHERE name = ?1");
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    *days = rc == SQLITE_ROW ? (uint32_t) sqlite3_column_int64 (stmt, 0)
                             : AUDIT_RETENTION_MAX_DAYS;
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}
