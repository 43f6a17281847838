/*  =========================================================================
    audit_idcache - one connection's cache of the org and ident tables of
    audit.db, both ways: names to ids (looked up, or interned by a writer)
    and ids to names (for the rows of a page)

    Events carry small integer keys; every organisation and identifier
    name is stored once. The writer turns the names of each event into
    ids, and a page turns the ids of each row back into names, and both
    see the same few thousand actors, users, devices and groups again and
    again, so each store keeps one cache for its audit.db connection.

    One rule keeps the cache true. Only a process that, in the same
    transaction, adds 1 to meta 'ident_generation' deletes rows of ident
    or org (the janitor's sweep), and SQLite may then give a deleted id to
    a new name: audit_idcache_begin, called inside every transaction that
    uses the cache, read or write, reads the generation and forgets
    everything when it changed. And the ids a writer interned in a
    transaction that rolls back are gone with it: audit_idcache_rollback
    forgets what the cache learned since audit_idcache_begin.

    Memory is bounded and allocated once, by audit_idcache_new; nothing is
    allocated per name or row. Each table holds at most the entries and
    bytes of names below; a table that is full is cleared, not evicted:
    simple, memory stays flat, and a miss costs one indexed read. Pages
    are touched only as the cache fills.

                          entries     bytes of names   memory, at most
        WRITER  ident     131072      8 MiB            15 MiB
                org        16384      1 MiB             2 MiB
        READER  ident       8192    512 KiB           0.9 MiB
                org         1024     64 KiB           0.1 MiB
    ========================================================================= */

#ifndef AUDIT_IDCACHE_H_INCLUDED
#define AUDIT_IDCACHE_H_INCLUDED

#include <sqlite3.h>
#include <stdint.h>

#include "audit_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    AUDIT_IDCACHE_IDENT,
    AUDIT_IDCACHE_ORG,
    AUDIT_IDCACHE_TABLES
} audit_idcache_table_t;

typedef enum {
    AUDIT_IDCACHE_READER,               //  looks up only, small bounds
    AUDIT_IDCACHE_WRITER                //  interns too, large bounds
} audit_idcache_role_t;

//  The names one row of a page asks for, at most: its actor and every
//  resource field. audit_idcache_row makes room for them.
#define AUDIT_IDCACHE_ROW_NAMES (1 + AUDIT_FIELD_COUNT)

typedef struct _audit_idcache_t audit_idcache_t;

//  An empty cache on conn (borrowed, audit.db; it must outlive the cache).
//  NULL when a statement cannot be prepared (logged) or out of memory.
audit_idcache_t *
    audit_idcache_new (sqlite3 *conn, audit_idcache_role_t role);

//  Finalize the statements and free the cache; safe on NULL and twice.
void
    audit_idcache_destroy (audit_idcache_t **self_p);

//  Inside each transaction, before the cache is used in it: forget
//  everything when the ident generation changed. 0 or -1.
int
    audit_idcache_begin (audit_idcache_t *self);

//  After the transaction rolled back: forget what was learned since
//  audit_idcache_begin, the ids interned in it among them.
void
    audit_idcache_rollback (audit_idcache_t *self);

//  The id of name in table, inserted when missing (a WRITER only, in a
//  write transaction). 0 or -1.
int
    audit_idcache_intern (audit_idcache_t *self, audit_idcache_table_t table,
                          const char *name, int64_t *id);

//  The id of name in table: 0 and *id, 1 when the table has no such name,
//  or -1 on a store error. Never inserts.
int
    audit_idcache_find (audit_idcache_t *self, audit_idcache_table_t table,
                        const char *name, int64_t *id);

//  Make room for the names of one row (clearing the ident table when it
//  is full): the names audit_idcache_name returned before are no longer
//  valid.
void
    audit_idcache_row (audit_idcache_t *self);

//  The name of id in table into *name (NULL when the table has no such
//  id); 0, or -1 on a store error. The name stays valid until the next
//  call on the cache other than audit_idcache_name, for the first
//  AUDIT_IDCACHE_ROW_NAMES names after audit_idcache_row: a name asked
//  beyond those may clear the table and end the earlier names.
int
    audit_idcache_name (audit_idcache_t *self, audit_idcache_table_t table,
                        int64_t id, const char **name);

#ifdef __cplusplus
}
#endif

#endif
