/*  =========================================================================
    audit_store_sql - the SQLite engine's statements, found, run and read
    ========================================================================= */

#include "audit_store_sql.h"
#include "audit_log.h"

void
audit_store_sql_log (audit_store_t *store, audit_db_t db, const char *what)
{
    audit_log_error ("msg=\"%s failed\" file=%s reason=\"%s\"", what,
                     audit_schema_file (db), sqlite3_errmsg (audit_store_db (store, db)));
}

sqlite3_stmt *
audit_store_sql_cached (audit_store_t *store, audit_db_t db, const char *sql)
{
    return audit_stmts_get (audit_store_stmts (store, db), sql);
}

int
audit_store_sql_step (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW? 0: -1;
}

sqlite3_stmt *
audit_store_sql_prepare (audit_store_t *store, audit_db_t db, const char *sql)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (store, db, sql);
    if (!stmt)
        audit_store_sql_log (store, db, "prepare");
    return stmt;
}

void
audit_store_sql_free (sqlite3_stmt *stmt)
{
    if (stmt)
        sqlite3_reset (stmt);
}

int
audit_store_sql_once (audit_store_t *store, audit_db_t db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (audit_store_db (store, db), sql, -1, &stmt, NULL) != SQLITE_OK) {
        audit_store_sql_log (store, db, "prepare");
        sqlite3_finalize (stmt);
        return -1;
    }
    int rc = audit_store_sql_run (store, db, stmt, NULL);
    sqlite3_finalize (stmt);
    return rc;
}

int
audit_store_sql_run (audit_store_t *store, audit_db_t db, sqlite3_stmt *stmt,
                     int64_t *changes)
{
    if (!stmt)
        return -1;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        ;                               //  a pragma's rows: nothing to read
    if (rc != SQLITE_DONE)
        audit_store_sql_log (store, db, "statement");
    else
    if (changes)
        *changes = sqlite3_changes64 (audit_store_db (store, db));
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

int
audit_store_sql_exec (audit_store_t *store, audit_db_t db, const char *sql, int64_t *changes)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, db, sql);
    int rc = audit_store_sql_run (store, db, stmt, changes);
    audit_store_sql_free (stmt);
    return rc;
}

int
audit_store_sql_int (audit_store_t *store, audit_db_t db, const char *sql, int64_t *value)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, db, sql);
    if (!stmt)
        return -1;
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64 (stmt, 0);
    else
    if (rc != SQLITE_DONE)
        audit_store_sql_log (store, db, "query");
    audit_store_sql_free (stmt);
    return rc == SQLITE_ROW? 0: rc == SQLITE_DONE? 1: -1;
}
