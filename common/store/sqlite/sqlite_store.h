/*  =========================================================================
    sqlite_store - the SQLite engine of the store, private to it

    Three files in the data directory, one per store (audit.db, ops.db,
    queue.db), each with its own connection and write lock. Every
    connection gets WAL, synchronous=FULL, secure_delete=ON,
    auto_vacuum=INCREMENTAL and a polling busy handler (audit_conn); each
    file is migrated at open to this build's schema (audit_schema) by a
    WRITER or MAINTAINER, and a READER refuses any other version. All SQL
    is prepared once per connection, and only here.

    Each store caches audit.db's org and ident rows, names to ids and ids
    to names (audit_idcache). A process that deletes rows of ident or org
    must, in the same transaction, add 1 to meta 'ident_generation'
    (INSERT ... ON CONFLICT DO UPDATE); every transaction that uses the
    cache reads it and drops the cache when it changed.

    This header is for the engine's own modules (sqlite_*.c), its tests and
    the benchmarks: the accessors below hand out its connections.
    ========================================================================= */

#ifndef SQLITE_STORE_H_INCLUDED
#define SQLITE_STORE_H_INCLUDED

#include <sqlite3.h>

#include "audit_idcache.h"
#include "audit_schema.h"
#include "audit_stmts.h"
#include "audit_tree.h"
#include "audit_store_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The engine's implementation of every row of audit_store_ops.def:
//  sqlite_<op>, put together in its table by sqlite_store.c
#define AUDIT_STORE_OP(type, function, op, params, args) type sqlite_##op params;
#define AUDIT_STORE_VOID_OP(function, op, params, args) void sqlite_##op params;
#define AUDIT_STORE_FREE(function, op, type) void sqlite_##op (type **self_p);
#include "audit_store_ops.def"
#undef AUDIT_STORE_OP
#undef AUDIT_STORE_VOID_OP
#undef AUDIT_STORE_FREE

//  The connection of one store, for the engine's modules.
sqlite3 *
    audit_store_db (audit_store_t *self, audit_db_t db);

//  The statement cache of store db's connection (owned by the store).
audit_stmts_t *
    audit_store_stmts (audit_store_t *self, audit_db_t db);

//  The store's cache of audit.db's org and ident rows (owned by the
//  store): the writer interns through it, a page resolves names and ids.
audit_idcache_t *
    audit_store_idcache (audit_store_t *self);

//  Checkpoint the WAL of one store and truncate it. 0 or -1.
int
    audit_store_checkpoint (audit_store_t *self, audit_db_t db);

//  How long a connection of store db waits for another's write lock (or,
//  in a checkpoint, for readers) before it gives up with SQLITE_BUSY:
//  AUDIT_STORE_BUSY_TIMEOUT_MS from open. It tries again every
//  AUDIT_STORE_BUSY_POLL_US, where SQLite's busy_timeout sleeps up to
//  100 ms at a time.
void
    audit_store_busy_limit (audit_store_t *self, audit_db_t db, int limit_ms);

//  For bench-log only: from now on this WRITER stores its events without
//  their leaves and nodes (the organisation's log off), so that the cost
//  of the log is measured in the same run as the store without it. A
//  store written so has no tree, nor subject runs (audit_subjects): never
//  use it for anything else.
void
    audit_store_tree_off (audit_store_t *self);

//  Take SQLite's automatic checkpoint out of the commits of store db's
//  connection, and remember instead the WAL's size after each commit, for
//  a writer that checkpoints by itself, outside its commits. A WRITER's
//  connections do this at open; SQLite's sqlite3_wal_autocheckpoint undoes
//  it.
void
    audit_store_wal_watch (audit_store_t *self, audit_db_t db);

//  WAL frames after the last commit on store db's connection while it is
//  watched (audit_store_wal_watch).
int
    audit_store_wal_pages (audit_store_t *self, audit_db_t db);

//  The reader of organisation org's tree (audit_tree; org_id its name,
//  borrowed) on the store's audit.db connection, its statements from the
//  store's cache. 0 or -1.
int
    sqlite_tree_reader (audit_store_t *self, int64_t org, const char *org_id,
                        audit_tree_reader_t *reader);

//  The SQL of each page shape (one per order and set of filter terms), so
//  that a test can check its query plan.
int
    sqlite_page_shape_count (void);
const char *
    sqlite_page_shape_sql (int shape);

#ifdef __cplusplus
}
#endif

#endif
