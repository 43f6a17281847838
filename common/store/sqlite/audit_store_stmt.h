/*  =========================================================================
    audit_store_stmt - the statements of the store's typed operations,
    private to common/

    The operation modules (audit_store_org, _mq, _opslog, _stats, _health,
    audit_page, ...) ask for a statement by its text and get the one
    prepared on that store's connection the first time: every store (one
    per query thread, the shared maintainer, the janitor's) owns one cache
    per connection and finalizes it before the connection closes.
    ========================================================================= */

#ifndef AUDIT_STORE_STMT_H_INCLUDED
#define AUDIT_STORE_STMT_H_INCLUDED

#include <sqlite3.h>

#include "sqlite_store.h"

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
