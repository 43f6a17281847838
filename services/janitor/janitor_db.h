/*  =========================================================================
    janitor_db - the janitor's hold on one store connection: its prepared
    statements, short write transactions, and giving the space and the WAL
    back

    Every write the janitor makes is a short BEGIN IMMEDIATE transaction
    followed by a pause with the lock released, so that the ingest worker,
    whose commits wait in the store's busy handler (a retry every
    millisecond, audit_store.h), finds the lock free at one of its retries. The pause is not idle: it copies the WAL into the file
    (a PASSIVE checkpoint, which takes no write lock), once right after the
    commit and once more just before the next BEGIN, so that the next
    transaction finds the WAL fully copied and starts it over from its
    beginning: the WAL stays about one batch long, and no ingest commit pays
    for checkpointing the janitor's pages.

    The janitor's connections do not checkpoint inside COMMIT (SQLite's
    automatic checkpoint is replaced by a WAL hook): that copied the
    batch's pages and synced while the batch was still timed as holding
    the lock, so batches shrank to a third of the rows for nothing.

    The janitor's commits are not synced (synchronous = NORMAL on its own
    connections): a delete lost to a power cut is simply made again by the
    next pass, and the write lock is then held for the work alone, not for
    an fsync; the checkpoint syncs, outside the lock. Its counter updates
    are synced (janitor_db_durable), and a synced commit makes every
    earlier one in the WAL durable too, so stats never count a delete that
    a crash undid.
    ========================================================================= */

#ifndef JANITOR_DB_H_INCLUDED
#define JANITOR_DB_H_INCLUDED

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A TRUNCATE checkpoint holds the write lock while it waits for readers;
//  it waits this long at most per attempt, so that it can never stall a
//  writer for long, and is tried this many times per reclaim
#define JANITOR_DB_TRUNCATE_BUSY_MS     10
#define JANITOR_DB_TRUNCATE_ATTEMPTS    20
//  Page cache of the janitor's connections, KiB. A batch of a round
//  (janitor_round.h) dirties neighbouring pages, a few hundred at most, so
//  this only has to hold them and the pages a round's reads walk:
//  bench-janitor deleted as fast with 32 MiB as with 256 MiB (180,000-
//  200,000 rows/s with ingest at 20,000/s, two runs each)
#define JANITOR_DB_CACHE_KIB            (32 * 1024)
//  A WAL that is still this long after our commit did not start over
//  (ingest committed between our checkpoint and our BEGIN): the pause then
//  forces it with a RESTART checkpoint that waits for the lock at most
//  JANITOR_DB_TRUNCATE_BUSY_MS (bench-janitor with ingest at 20k/s: WAL
//  peaks of 180-390 MiB with it, 650-760 MiB without, at about the same
//  deletion rate)
#define JANITOR_DB_WAL_RESTART_BYTES    (16 * 1024 * 1024)

typedef struct _janitor_db_t janitor_db_t;

//  Wrap the connection of store db (store borrowed; it must outlive this).
//  NULL on allocation failure.
janitor_db_t *
    janitor_db_new (audit_store_t *store, audit_db_t db);

//  Finalize the statements; safe on NULL and twice.
void
    janitor_db_destroy (janitor_db_t **self_p);

//  The store file's name, e.g. "audit.db".
const char *
    janitor_db_name (janitor_db_t *self);

//  The connection.
sqlite3 *
    janitor_db_conn (janitor_db_t *self);

//  The prepared statement for sql (prepared once per connection), reset
//  and unbound; NULL when SQLite refuses it (logged).
sqlite3_stmt *
    janitor_db_stmt (janitor_db_t *self, const char *sql);

//  Step stmt to its end and reset it; *changes (may be NULL) gets the rows
//  it changed. 0 or -1 (logged).
int
    janitor_db_run (janitor_db_t *self, sqlite3_stmt *stmt, int64_t *changes);

//  The first column of a one-row statement, reset after. 0, 1 when there
//  was no row, or -1 (logged).
int
    janitor_db_int (janitor_db_t *self, sqlite3_stmt *stmt, int64_t *value);

//  BEGIN IMMEDIATE (waits in the busy handler for the write lock). 0 or -1.
int
    janitor_db_begin (janitor_db_t *self);

//  COMMIT when rc is 0, else ROLLBACK. Returns rc, or -1 when the commit
//  failed (then rolled back).
int
    janitor_db_end (janitor_db_t *self, int rc);

//  The pause between two batches: a PASSIVE checkpoint, sleep what is
//  left of pause_ms, and another PASSIVE checkpoint; a short RESTART when
//  the WAL is still over JANITOR_DB_WAL_RESTART_BYTES.
void
    janitor_db_pause (janitor_db_t *self, int pause_ms);

//  Sync the commits from now on (true) or not (false, the default). 0 or -1.
int
    janitor_db_durable (janitor_db_t *self, bool durable);

//  Pages on the freelist now. 0 or -1.
int
    janitor_db_free_pages (janitor_db_t *self, int64_t *pages);

//  Inside the caller's transaction: give back up to pages free pages to
//  the file system; *freed gets how many went. 0 or -1.
int
    janitor_db_vacuum (janitor_db_t *self, int pages, int64_t *freed);

//  Copy the WAL into the file and cut it to zero bytes, so that no old
//  page image (a deleted row) stays in it. Never waits long for the lock
//  or readers (see above). 0 when the WAL is empty now, 1 when readers or
//  writers kept it busy every attempt, -1 on error.
int
    janitor_db_truncate (janitor_db_t *self);

#ifdef __cplusplus
}
#endif

#endif
