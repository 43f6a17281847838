/*  =========================================================================
    audit_store_sql - the SQLite engine's statements: one statement of an
    operation, found, run and read; private to the engine's modules

    Statements come from the store's per-connection cache (audit_stmts,
    owned by the store): prepared on first use, kept for the connection's
    life, never per row or per batch. A text that varies (a pragma with a
    number in it) is prepared for the one call instead, so that it does
    not fill the cache.
    ========================================================================= */

#ifndef AUDIT_STORE_SQL_H_INCLUDED
#define AUDIT_STORE_SQL_H_INCLUDED

#include <sqlite3.h>
#include <stdint.h>

#include "sqlite_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The cached statement for sql on store db's connection, prepared on
//  first use, reset and unbound; NULL when SQLite refuses it (the cache
//  logs that once).
sqlite3_stmt *
    audit_store_sql_cached (audit_store_t *store, audit_db_t db, const char *sql);

//  Step stmt to its end and reset it, logging nothing. 0, or -1 when
//  SQLite failed.
int
    audit_store_sql_step (sqlite3_stmt *stmt);

//  The cached statement for sql on store db's connection, reset and
//  unbound; NULL when SQLite refuses it (logged).
sqlite3_stmt *
    audit_store_sql_prepare (audit_store_t *store, audit_db_t db, const char *sql);

//  Done with a statement from audit_store_sql_prepare: reset it (it stays
//  cached); safe on NULL.
void
    audit_store_sql_free (sqlite3_stmt *stmt);

//  Step stmt to its end and reset it; *changes (may be NULL) gets the rows
//  it changed. 0 or -1 (logged).
int
    audit_store_sql_run (audit_store_t *store, audit_db_t db, sqlite3_stmt *stmt,
                         int64_t *changes);

//  Run the cached statement for sql (a pragma, BEGIN). 0 or -1.
int
    audit_store_sql_exec (audit_store_t *store, audit_db_t db, const char *sql,
                          int64_t *changes);

//  Prepare, run and finalize sql, a text that varies, for this call only.
//  0 or -1.
int
    audit_store_sql_once (audit_store_t *store, audit_db_t db, const char *sql);

//  The first column of sql's first row. 0, 1 when there was no row, -1.
int
    audit_store_sql_int (audit_store_t *store, audit_db_t db, const char *sql,
                         int64_t *value);

//  Log that what failed on store db, with SQLite's reason.
void
    audit_store_sql_log (audit_store_t *store, audit_db_t db, const char *what);

#ifdef __cplusplus
}
#endif

#endif
