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
//  the page shapes a worker meets (sqlite_page.c can build 1,024, and
//  a client walks through a few dozen) and the store's other statements.
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

//  A statement of its own on db, outside any cache, for a module that
//  keeps its statements for the connection's life (prepared as
//  persistent); its failure is logged with SQLite's reason. 0 or -1.
int
    audit_stmts_prepare (sqlite3 *db, const char *sql, sqlite3_stmt **stmt);

//  Step stmt (any statement, cached or not) once for a one-row answer and
//  reset it: *value gets its first column. 0, 1 when there was no row, or
//  -1 when SQLite failed.
int
    audit_stmts_int (sqlite3_stmt *stmt, int64_t *value);

#ifdef __cplusplus
}
#endif

#endif
