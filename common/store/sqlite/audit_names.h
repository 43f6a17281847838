/*  =========================================================================
    audit_names - the names of interned identifiers, cached per worker

    Events hold ids of table ident; a page needs their names. Joining
    ident once per identifier column costs a B-tree search per column and
    row, and the same few thousand actors, users, devices and groups come
    back in every page of an organisation, so a worker keeps the names it
    has read (see query_filter for which columns go through here).

    The cache is bounded, and cleared rather than evicted when full: it is
    simple, memory stays flat, and a miss costs one indexed read. It is
    also cleared when meta 'ident_generation' changes, because the janitor
    deletes identifiers nothing refers to and SQLite may hand a deleted id
    to a new name. The generation must be read in the same read
    transaction as the page, so that every id the page holds is an id of
    the names cached.
    ========================================================================= */

#ifndef AUDIT_NAMES_H_INCLUDED
#define AUDIT_NAMES_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_stmts.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _audit_names_t audit_names_t;

//  An empty cache; NULL on allocation failure.
audit_names_t *
    audit_names_new (void);

//  Free the cache; safe on NULL and twice.
void
    audit_names_destroy (audit_names_t **self_p);

//  Clear the cache when the store's ident generation is not the one it
//  was filled under. Call inside the page's read transaction. 0 or -1.
int
    audit_names_sync (audit_names_t *self, audit_stmts_t *stmts);

//  Make room for the names of one row (clearing the cache when it is
//  full): the names audit_names_get returned before are no longer valid.
void
    audit_names_row (audit_names_t *self);

//  The name of ident id into *name (NULL when the store has no such id).
//  Valid until the next audit_names_row or audit_names_sync. 0 or -1 on
//  a store error.
int
    audit_names_get (audit_names_t *self, audit_stmts_t *stmts, int64_t id,
                     const char **name);

#ifdef __cplusplus
}
#endif

#endif
