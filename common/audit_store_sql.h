/*  =========================================================================
    audit_store_sql - private to the store's maintenance modules
    (audit_store_space, audit_store_purge, audit_store_sweep): one
    statement of a call, run and read

    A call of those modules is one batch (milliseconds of work over many
    rows): it prepares each statement it uses once, steps it over all its
    rows, and finalizes it at the end, never per row. audit_store_t keeps
    no statements for other modules yet; when it does (a per-connection
    cache, or an engine's operations table), audit_store_sql_prepare and
    audit_store_sql_free are the one place that changes.
    ========================================================================= */

#ifndef AUDIT_STORE_SQL_H_INCLUDED
#define AUDIT_STORE_SQL_H_INCLUDED

#include <sqlite3.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  sql prepared on store db's connection; NULL when SQLite refuses it (logged).
sqlite3_stmt *
    audit_store_sql_prepare (audit_store_t *store, audit_db_t db, const char *sql);

//  Let go of a statement from audit_store_sql_prepare; safe on NULL.
void
    audit_store_sql_free (sqlite3_stmt *stmt);

//  Step stmt to its end and reset it; *changes (may be NULL) gets the rows
//  it changed. 0 or -1 (logged).
int
    audit_store_sql_run (audit_store_t *store, audit_db_t db, sqlite3_stmt *stmt,
                         int64_t *changes);

//  Prepare, run and free sql in one go (a pragma, BEGIN). 0 or -1.
int
    audit_store_sql_exec (audit_store_t *store, audit_db_t db, const char *sql,
                          int64_t *changes);

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
