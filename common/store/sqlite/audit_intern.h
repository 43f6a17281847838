/*  =========================================================================
    audit_intern - names to ids: the org and ident tables of audit.db

    Events carry small integer keys; every organisation and identifier name
    is stored once and looked up through a bounded cache. Used inside the
    owner's write transactions on its own audit.db connection.

    A process that deletes rows of ident or org must, in the same
    transaction, add 1 to meta 'ident_generation'; audit_intern_begin reads
    it under the write lock and drops the caches when it changed.
    ========================================================================= */

#ifndef AUDIT_INTERN_H_INCLUDED
#define AUDIT_INTERN_H_INCLUDED

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    AUDIT_INTERN_IDENT,
    AUDIT_INTERN_ORG,
    AUDIT_INTERN_TABLES
} audit_intern_table_t;

typedef struct _audit_intern_t audit_intern_t;

//  Interning on conn (borrowed, audit.db; it must outlive this). NULL when
//  a statement cannot be prepared (logged) or out of memory.
audit_intern_t *
    audit_intern_new (sqlite3 *conn);

//  Finalize the statements; safe on NULL and twice.
void
    audit_intern_destroy (audit_intern_t **self_p);

//  The id of name in table, inserted when missing. 0 or -1.
int
    audit_intern_id (audit_intern_t *self, audit_intern_table_t table,
                     const char *name, int64_t *id);

//  At the start of a write transaction: drop the caches when another
//  process deleted rows since the last one. 0 or -1.
int
    audit_intern_begin (audit_intern_t *self);

//  After a rollback: the ids interned in it are gone, and the caches too.
void
    audit_intern_forget (audit_intern_t *self);

#ifdef __cplusplus
}
#endif

#endif
