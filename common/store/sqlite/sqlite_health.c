/*  =========================================================================
    audit_store_health - whether a store answers at all
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_health.h"
#include "audit_store_sql.h"

int
sqlite_health_probe (audit_store_t *self)
{
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        sqlite3_stmt *stmt = audit_store_sql_cached (self, (audit_db_t) db,
            "SELECT count(*) FROM sqlite_master");
        int rc = stmt ? sqlite3_step (stmt) : SQLITE_ERROR;
        if (stmt)
            sqlite3_reset (stmt);
        if (rc != SQLITE_ROW)
            return -1;
    }
    return 0;
}
