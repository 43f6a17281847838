/*  =========================================================================
    audit_store_stmt - the statements of the store's typed operations
    (audit_store_org, _mq, _opslog, _stats, _health), prepared once per
    connection and finalized when that connection closes

    Private to common/: the operation modules ask for a statement by its
    text and get the one prepared on that store's connection the first
    time. The cache is tied to the connection, not to a caller, so every
    thread's store (and the shared maintainer) keeps its own, and nothing
    outside the store has to create or destroy it. It is found through a
    process-wide table of connections and freed by SQLite's close trace
    (SQLITE_TRACE_CLOSE), which runs before the connection checks for
    unfinalized statements: so the connection still closes for good.
    Nothing else may set a trace callback on a store's connections.
    ========================================================================= */

#ifndef AUDIT_STORE_STMT_H_INCLUDED
#define AUDIT_STORE_STMT_H_INCLUDED

#include <sqlite3.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The statement for sql on store db of self, prepared on first use, reset
//  and with no bindings. NULL when it cannot be prepared (logged).
sqlite3_stmt *
    audit_store_stmt_get (audit_store_t *self, audit_db_t db, const char *sql);

//  Step stmt to its end and reset it. 0, or -1 when SQLite failed.
int
    audit_store_stmt_run (sqlite3_stmt *stmt);

#ifdef __cplusplus
}
#endif

#endif
