/*  =========================================================================
    audit_store_space - a maintainer's short write transactions on one
    store file, and giving the space and the WAL back

    The janitor's writes are short transactions that take the file's write
    lock (BEGIN IMMEDIATE on SQLite), each followed by a pause with the
    lock free, so that the ingest worker, whose commits wait in the store's
    busy handler (a retry every AUDIT_STORE_BUSY_POLL_US), finds it free
    at one of its retries. The pause is not idle: it copies the WAL into
    the file (a PASSIVE checkpoint, which takes no write lock), once right
    after the commit and once more just before the next BEGIN, so that the
    next transaction finds the WAL fully copied and starts it over from its
    beginning: the WAL stays about one batch long, and no ingest commit
    pays for checkpointing the janitor's pages.

    A maintained connection does not checkpoint inside COMMIT (SQLite's
    automatic checkpoint is replaced by the WAL watch): that copied the
    batch's pages and synced while the batch was still timed as holding
    the lock, so batches shrank to a third of the rows for nothing. Its
    commits are not synced (synchronous = NORMAL): a delete lost to a power
    cut is simply made again by the next pass, and the lock is held for
    the work alone; the checkpoint syncs, outside the lock. Counter updates
    are synced (audit_store_space_durable), and a synced commit makes every
    earlier one in the WAL durable too, so stats never count a delete that
    a crash undid.

    Another engine implements the same calls with its own meaning of a
    transaction, a pause and giving space back (PostgreSQL: plain
    transactions, a sleep, VACUUM; no WAL to truncate: 0).
    ========================================================================= */

#ifndef AUDIT_STORE_SPACE_H_INCLUDED
#define AUDIT_STORE_SPACE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A TRUNCATE checkpoint holds the write lock while it waits for readers;
//  it waits this long at most per attempt, so that it can never stall a
//  writer for long, and is tried this many times per call
#define AUDIT_STORE_SPACE_TRUNCATE_BUSY_MS  10
#define AUDIT_STORE_SPACE_TRUNCATE_ATTEMPTS 20
//  A WAL that is still this long after our commit did not start over
//  (ingest committed between our checkpoint and our BEGIN): the pause then
//  forces it with a RESTART checkpoint that waits for the lock at most
//  AUDIT_STORE_SPACE_TRUNCATE_BUSY_MS (bench-janitor with ingest at 20k/s:
//  WAL peaks of 180-390 MiB with it, 650-760 MiB without, at about the
//  same deletion rate)
#define AUDIT_STORE_SPACE_WAL_RESTART_BYTES (16 * 1024 * 1024)

//  Make store db's connection a maintainer's: a page cache of cache_kib
//  KiB, unsynced commits, no checkpoint inside a commit. 0 or -1.
int
    audit_store_space_attach (audit_store_t *store, audit_db_t db, int cache_kib);

//  Give the connection its automatic checkpoint back.
void
    audit_store_space_detach (audit_store_t *store, audit_db_t db);

//  Begin a write transaction (waits in the busy handler for the lock). 0 or -1.
int
    audit_store_space_begin (audit_store_t *store, audit_db_t db);

//  Commit when rc is 0, else roll back. Returns rc, or -1 when the commit
//  failed (then rolled back).
int
    audit_store_space_end (audit_store_t *store, audit_db_t db, int rc);

//  The pause between two transactions: a PASSIVE checkpoint, sleep what is
//  left of pause_ms, another PASSIVE checkpoint; a short RESTART when the
//  WAL is still over AUDIT_STORE_SPACE_WAL_RESTART_BYTES.
void
    audit_store_space_pause (audit_store_t *store, audit_db_t db, int pause_ms);

//  Sync the commits from now on (true) or not (false, after attach). 0 or -1.
int
    audit_store_space_durable (audit_store_t *store, audit_db_t db, bool durable);

//  Pages on the freelist now. 0 or -1.
int
    audit_store_space_free_pages (audit_store_t *store, audit_db_t db, int64_t *pages);

//  Inside the caller's transaction: give back up to pages free pages to
//  the file system; *freed gets how many went. 0 or -1.
int
    audit_store_space_vacuum (audit_store_t *store, audit_db_t db, int pages,
                              int64_t *freed);

//  Copy the WAL into the file and cut it to zero bytes, so that no old
//  page image (a deleted row) stays in it. Never waits long for the lock
//  or readers. 0 when the WAL is empty now, 1 when readers or writers kept
//  it busy every attempt, -1 on error.
int
    audit_store_space_truncate (audit_store_t *store, audit_db_t db);

//  One janitor at a time: take, or keep, the store's maintainer lock,
//  which this store holds until it is destroyed or its connection is lost
//  (then the next call takes it again, unless another took it meanwhile).
//  *held says whether this store holds it now; a janitor that does not
//  skips its pass. PostgreSQL: a session advisory lock, so that janitors
//  on several hosts take turns, never run passes together. SQLite: always
//  held (the files' write lock already serialises two janitors' batches,
//  and two hosts never share the files). 0, or -1 when it cannot be told.
int
    audit_store_maintainer_lock (audit_store_t *store, bool *held);

#ifdef __cplusplus
}
#endif

#endif
