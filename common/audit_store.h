/*  =========================================================================
    audit_store - the three SQLite stores of the data directory

      audit.db  audit events, organisations and their retention, counters
      ops.db    operational HTTP request records (no identity)
      queue.db  undelivered messages

    Separate files keep the stores apart, as the compliance page requires,
    and give each its own write lock. Every connection gets WAL,
    synchronous=FULL, secure_delete=ON, auto_vacuum=INCREMENTAL and a busy
    timeout; each file is migrated at open to this build's schema
    (audit_schema) by a WRITER or MAINTAINER, and a READER refuses any
    other version. All SQL is prepared once per connection. A store
    belongs to one thread at a time (its connections are opened without
    SQLite's mutexes).

    Writers cache interned ids (audit_intern). A process that deletes rows
    of ident or org must, in the same transaction, add 1 to meta
    'ident_generation' (INSERT ... ON CONFLICT DO UPDATE); every write
    transaction reads it and drops its caches when it changed.
    ========================================================================= */

#ifndef AUDIT_STORE_H_INCLUDED
#define AUDIT_STORE_H_INCLUDED

#include <sqlite3.h>

#include "audit_counters.h"
#include "audit_record.h"
#include "audit_schema.h"

#ifdef __cplusplus
extern "C" {
#endif

//  How long a connection waits for another's write lock
#define AUDIT_STORE_BUSY_TIMEOUT_MS 5000
//  How often a waiting connection tries the lock again
#define AUDIT_STORE_BUSY_POLL_US    1000
//  How long opening a store waits for another worker's schema migration,
//  which holds the write lock for as long as it copies (audit.db to
//  version 2: about 3 s per million events)
#define AUDIT_STORE_MIGRATION_WAIT_MS (10 * 60 * 1000)

typedef enum {
    AUDIT_STORE_WRITER,     //  creates and migrates the files; the ingest worker
    AUDIT_STORE_READER,     //  read-only connections; the query worker threads
    AUDIT_STORE_MAINTAINER  //  read-write, migrates too (the query worker may
                            //  start first); the janitor, query writes
} audit_store_mode_t;

//  What happened to each record of a written batch
typedef enum {
    AUDIT_STORE_STORED = 0,
    AUDIT_STORE_DUPLICATE = 1
} audit_store_outcome_t;

typedef struct _audit_store_t audit_store_t;

//  Open (and unless a READER create and migrate) the three stores in
//  data_dir, creating it (mode 0700) when missing. Returns NULL and logs a
//  one-line reason when that cannot be done.
audit_store_t *
    audit_store_new (const char *data_dir, audit_store_mode_t mode);

//  Close every connection; safe on NULL and twice.
void
    audit_store_destroy (audit_store_t **self_p);

//  Write a batch in one transaction per store it touches. outcomes[i] tells
//  what happened to records[i]. When counters is not NULL its deltas are
//  added to the persistent totals in the same audit.db transaction and then
//  cleared. The transactions are all opened before the first row and
//  committed after the last, so a failing row leaves nothing in any store.
//  Returns 0, or -1 when a store failed (nothing of it committed; only a
//  commit that fails after an earlier store committed leaves that one).
int
    audit_store_write (audit_store_t *self, const audit_record_t *records,
                       size_t count, audit_store_outcome_t *outcomes,
                       audit_counters_t *counters);

//  Add counter deltas to the persistent totals on their own. 0 or -1.
int
    audit_store_counters_flush (audit_store_t *self, audit_counters_t *counters);

//  Visit every persistent counter total. 0 or -1.
int
    audit_store_counters_read (audit_store_t *self, audit_counters_fn *fn, void *arg);

//  The connection of one store, for modules that prepare their own
//  statements on it (query handlers, the janitor).
sqlite3 *
    audit_store_db (audit_store_t *self, audit_db_t db);

//  Set an organisation's audit retention (1..365 days) and write event
//  (its retention_changed record) in one transaction, so that neither
//  lands without the other. 0 or -1.
int
    audit_store_retention_set (audit_store_t *self, const char *org_id, uint32_t days,
                               const audit_record_t *event);

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

//  Microseconds the store's connections slept waiting for locks since the
//  last call (or open), to begin or commit a transaction; the count starts
//  over.
int64_t
    audit_store_lock_waited_us (audit_store_t *self);

//  The same for the WRITER's own checkpoints after its commits (waiting
//  for another checkpoint, or, past the hard WAL size, for readers).
int64_t
    audit_store_checkpoint_waited_us (audit_store_t *self);

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

#ifdef __cplusplus
}
#endif

#endif
