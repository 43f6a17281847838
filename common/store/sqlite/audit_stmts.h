/*  =========================================================================
    audit_stmts - the prepared statements of one connection, prepared on
    first use and kept for the connection's life

    Query handlers build their SQL from a few fixed shapes (one per index a
    filter set drives); each shape is prepared once per connection here,
    never per request or per row.
    ========================================================================= */

#ifndef AUDIT_STMTS_H_INCLUDED
#define AUDIT_STMTS_H_INCLUDED

#include <sqlite3.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Shapes one connection keeps, at most; past that the least useful
//  (all of them: the cache is simply emptied) are finalized. Room for
//  every page shape of today's filters (256, sqlite_page.c) and the
//  store's other statements, so that a client that walks through the
//  filters does not empty it.
#define AUDIT_STMTS_MAX 512

typedef struct _audit_stmts_t audit_stmts_t;

//  A cache for the connection db (borrowed: it must outlive the cache).
audit_stmts_t *
    audit_stmts_new (sqlite3 *db);

//  Finalize every statement; safe on NULL and twice.
void
    audit_stmts_destroy (audit_stmts_t **self_p);

//  The statement for sql, reset and with no bindings, ready to bind.
//  NULL when SQLite refuses the text (logged once).
sqlite3_stmt *
    audit_stmts_get (audit_stmts_t *self, const char *sql);

//  Step stmt (any statement, cached or not) once for a one-row answer and
//  reset it: *value gets its first column. 0, 1 when there was no row, or
//  -1 when SQLite failed.
int
    audit_stmts_int (sqlite3_stmt *stmt, int64_t *value);

#ifdef __cplusplus
}
#endif

#endif
