/*  =========================================================================
    audit_store - the three stores of the service, behind one interface

      audit     audit events, organisations and their retention, counters
      ops       operational HTTP request records (no identity)
      queue     undelivered messages

    The stores are kept apart, as the compliance page requires, and each
    has its own write lock. This header and its siblings in common/store/
    (audit_store_org, _mq, _opslog, _stats, _health, _purge, _sweep,
    _space, audit_page) are the whole of what services and tools see of
    the stores: typed operations, no SQL and no engine types. Each call
    goes through the operations table of the engine the store was opened
    with (audit_store_engine.h, one row per operation in
    audit_store_ops.def); the engines are SQLite, three files in the data
    directory (common/store/sqlite/), and PostgreSQL, three schemas of a
    database (common/store/pg/), chosen by the location a store is
    opened with.

    A store belongs to one thread at a time. A WRITER (the ingest worker)
    creates and migrates the stores; a READER (a query worker thread) only
    reads; a MAINTAINER (the janitor, the query worker's own writes) reads
    and writes and may migrate too, since workers start in any order.
    ========================================================================= */

#ifndef AUDIT_STORE_H_INCLUDED
#define AUDIT_STORE_H_INCLUDED

#include "audit_counters.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

//  How long a write waits for another's write lock
#define AUDIT_STORE_BUSY_TIMEOUT_MS 5000
//  How often a waiting write tries the lock again
#define AUDIT_STORE_BUSY_POLL_US    1000
//  How long opening a store waits for another worker's schema migration,
//  which holds the write lock for as long as it copies (audit.db to
//  version 3: a few seconds per million events)
#define AUDIT_STORE_MIGRATION_WAIT_MS (10 * 60 * 1000)

//  The three stores
typedef enum {
    AUDIT_DB_AUDIT,
    AUDIT_DB_OPS,
    AUDIT_DB_QUEUE,
    AUDIT_DB_COUNT
} audit_db_t;

typedef enum {
    AUDIT_STORE_WRITER,     //  creates and migrates the stores; the ingest worker
    AUDIT_STORE_READER,     //  read-only; the query worker threads
    AUDIT_STORE_MAINTAINER  //  read-write, migrates too (the query worker may
                            //  start first); the janitor, query writes
} audit_store_mode_t;

//  What happened to each record of a written batch
typedef enum {
    AUDIT_STORE_STORED = 0,
    AUDIT_STORE_DUPLICATE = 1
} audit_store_outcome_t;

typedef struct _audit_store_t audit_store_t;
//  A producer's acknowledgement state (audit_store_producers.h)
typedef struct _audit_store_producer_t audit_store_producer_t;

//  Open (and unless a READER create and migrate) the stores of data_dir,
//  creating it (mode 0700) when missing; or, when data_dir is a
//  postgresql:// URL (AUDIT_DATABASE_URL, audit_store_is_url), the three
//  schemas of that database (common/store/pg/). Returns NULL and logs a
//  one-line reason when that cannot be done.
audit_store_t *
    audit_store_new (const char *data_dir, audit_store_mode_t mode);

//  True when location names a database (postgresql:// or postgres://),
//  not a data directory.
bool
    audit_store_is_url (const char *location);

//  location for a log line: a URL's password (user:password@, or a
//  password= parameter) replaced by "***"; a directory as it is.
void
    audit_store_redact (const char *location, char *out, size_t size);

//  Whether data_dir already holds the audit store (what the ingest worker
//  creates): the query worker and the janitor start only on one that
//  does, so that a typo in AUDIT_DATA_DIR is not an empty, healthy service.
bool
    audit_store_exists (const char *data_dir);

//  Close the stores; safe on NULL and twice.
void
    audit_store_destroy (audit_store_t **self_p);

//  Write a batch in one transaction per store it touches. outcomes[i] tells
//  what happened to records[i]. Every stored audit event gets its
//  organisation's next log_index, in commit order. A duplicate is an
//  event_id the organisation already holds at the same timestamp, or a
//  message_id the queue holds. When counters is not NULL its deltas are
//  added to the persistent totals in the same audit transaction and then
//  cleared. The transactions are all opened before the first row and
//  committed after the last, so a failing row leaves nothing in any store.
//  Returns 0, or -1 when a store failed (nothing of it committed; only a
//  commit that fails after an earlier store committed leaves that one).
int
    audit_store_write (audit_store_t *self, const audit_record_t *records,
                       size_t count, audit_store_outcome_t *outcomes,
                       audit_counters_t *counters);

//  Record index (< count) of a batch that audit_store_write_each takes one
//  by one; the record stays valid until the next call.
typedef const audit_record_t *audit_store_next_fn (void *arg, size_t index);

//  The same as audit_store_write, for a batch that is not an array (the
//  ingest batch holds its records packed): next gives records 0..count-1
//  in order, and kinds has bit (1u << kind) set for every topic kind among
//  them, so that the transactions can all be opened before the first row.
//  When counters is not NULL, the batch's stored and duplicate outcomes
//  are added to ingest.stored and ingest.duplicate in the same audit
//  transaction as its other deltas. producers (producer_count of them,
//  may be 0) are rows of audit_store_producers.h written, as they are, in
//  that transaction too. audit.db commits last, after ops.db and
//  queue.db: a crash between leaves rows that are not yet acknowledged
//  (resent, they are duplicates), never an acknowledgement ahead of them.
//  committed, when not NULL, has bit (1u << db) set for each store whose
//  part of this same batch already committed in an earlier call: its
//  records are skipped (their outcomes kept), so that a batch retried
//  after a half commit is stored once; on return it has the bits of every
//  store committed so far. Start a batch with *committed = 0.
int
    audit_store_write_each (audit_store_t *self, audit_store_next_fn *next, void *arg,
                            size_t count, unsigned kinds, audit_store_outcome_t *outcomes,
                            audit_counters_t *counters,
                            const audit_store_producer_t *producers, size_t producer_count,
                            unsigned *committed);

//  After a failed write: empty each store's WAL (a TRUNCATE checkpoint),
//  so that the retries do not refill the disk, and set *full when the
//  failure was for lack of space (SQLITE_FULL, or an I/O error of ENOSPC).
//  0 when every checkpoint ran, else -1.
int
    audit_store_recover (audit_store_t *self, bool *full);

//  Add counter deltas to the persistent totals on their own. 0 or -1.
int
    audit_store_counters_flush (audit_store_t *self, audit_counters_t *counters);

//  Visit every persistent counter total. 0 or -1.
int
    audit_store_counters_read (audit_store_t *self, audit_counters_fn *fn, void *arg);

//  Set an organisation's audit retention (1..365 days) and write event
//  (its retention_changed record) in one transaction, so that neither
//  lands without the other. 0 or -1.
int
    audit_store_retention_set (audit_store_t *self, const char *org_id, uint32_t days,
                               const audit_record_t *event);

//  Microseconds the store waited for other writers' locks since the last
//  call (or open), to begin or commit a transaction; the count starts over.
int64_t
    audit_store_lock_waited_us (audit_store_t *self);

//  The same for the WRITER's own housekeeping after its commits (for the
//  SQLite engine: WAL checkpoints).
int64_t
    audit_store_checkpoint_waited_us (audit_store_t *self);

//  From now on the WRITER's writes leave their housekeeping (for the SQLite
//  engine: the WAL checkpoint after a commit) to audit_store_housekeep, so
//  that the caller can answer for a commit (the ingest worker's acks)
//  before it pays for that.
void
    audit_store_housekeeping_defer (audit_store_t *self);

//  Run the housekeeping the writes since the last call left due (for the
//  SQLite engine: the WAL checkpoints, and a bounded part of the subject
//  runs' merges that batches left owed). 0 when done, 1 when more is due,
//  for a caller with time to spare (the ingest writer when no batch
//  waits), -1 on a store error.
int
    audit_store_housekeep (audit_store_t *self);

#ifdef __cplusplus
}
#endif

#endif
