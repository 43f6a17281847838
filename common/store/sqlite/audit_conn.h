/*  =========================================================================
    audit_conn - one SQLite connection of the store, and how it waits

    Private to audit_store, which holds one per store file. A connection
    opens its file with the pragmas of its mode, waits for locks by polling
    (and counts what it waited), and, on a WRITER, checkpoints the WAL by
    itself after commits instead of inside them.
    ========================================================================= */

#ifndef AUDIT_CONN_H_INCLUDED
#define AUDIT_CONN_H_INCLUDED

#include "sqlite_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The writer's page cache, KiB. It must hold the pages every commit
//  touches: the tail leaf of each organisation's range of event, the rows
//  of its log (tree_node, the org row's tail), and the interior pages
//  above them. A commit that outgrows it spills pages to the WAL before
//  its end, and writes them again when it changes them after. Measured
//  (bench-log, 5M stored, 1,000 organisations, 32,768-event commits,
//  SQLite's own counts, per 1,000 events): at 24 MiB the log's rows made
//  22 pages spill and 44 miss (the events alone 6.6 and 17.5); at 28 MiB
//  none spill, and 36 still miss (the events alone 14). bench-ingest's
//  worker then peaks at 60.1 MiB RSS, under the 64 MiB bound (32 MiB of
//  cache: 64.2). audit.db's writer only: ops.db and queue.db, whose
//  commits touch a few tail pages, keep the 8 MiB of every other
//  connection, so that the writer's three caches stay within 44 MiB.
#define AUDIT_CONN_WRITER_CACHE_KIB 28672        //  a literal: SQL is built from it

typedef struct _audit_conn_t audit_conn_t;

//  Open store file db in data_dir with the pragmas of mode (not migrated
//  yet). Returns NULL and logs a one-line reason on failure.
audit_conn_t *
    audit_conn_new (const char *data_dir, audit_db_t db, audit_store_mode_t mode);

//  Close the connection; safe twice.
void
    audit_conn_destroy (audit_conn_t **self_p);

//  The SQLite handle, owned by the connection.
sqlite3 *
    audit_conn_handle (audit_conn_t *self);

//  How long a lock is waited for before SQLITE_BUSY (see audit_store.h).
void
    audit_conn_busy_limit (audit_conn_t *self, int limit_ms);

//  Microseconds slept waiting for locks outside checkpoint_maybe since
//  the last call; the count starts over.
int64_t
    audit_conn_lock_waited_us (audit_conn_t *self);

//  The same for checkpoint_maybe's own waits.
int64_t
    audit_conn_checkpoint_waited_us (audit_conn_t *self);

//  Take SQLite's automatic checkpoint out of the commits and remember the
//  WAL's size after each commit instead (see audit_store_wal_watch).
void
    audit_conn_wal_watch (audit_conn_t *self);

//  WAL frames after the last commit, while watched.
int
    audit_conn_wal_pages (audit_conn_t *self);

//  Checkpoint the WAL and truncate it, now. 0 or -1.
int
    audit_conn_checkpoint (audit_conn_t *self);

//  After a WRITER's commit: checkpoint when the WAL has grown enough to be
//  worth it; never waits long. Nothing for other modes.
void
    audit_conn_checkpoint_maybe (audit_conn_t *self);

#ifdef __cplusplus
}
#endif

#endif
