/*  =========================================================================
    audit_store_stmt - the statements of the store's typed operations
    ========================================================================= */

#include "audit_store_stmt.h"

sqlite3_stmt *
audit_store_stmt_get (audit_store_t *self, audit_db_t db, const char *sql)
{
    return audit_stmts_get (audit_store_stmts (self, db), sql);
}

int
audit_store_stmt_run (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}
