/*  =========================================================================
    audit_conn - one SQLite connection of the store, and how it waits

    SQLite's own busy handler backs off to sleeps of 100 ms, and its
    automatic checkpoint runs inside whichever commit crossed the line;
    both made the ingest worker wait for work it did not ask for. So a
    connection here polls for locks, and a WRITER checkpoints by itself,
    after its commits, and only when the WAL has grown enough to be worth
    the pages it copies.
    ========================================================================= */

#include "audit_conn.h"
#include "audit_log.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Page size of a new file: SQLite's default. Measured with 1M events
//  stored, 1 KiB pages write a quarter of the WAL bytes but ingest no
//  faster: the cost is per page touched (system calls), not per byte.
#define s_PAGE_SIZE             4096
#define s_STR_(x)               #x
#define s_STR(x)                s_STR_ (x)
#define s_WRITER_CACHE_KIB      AUDIT_CONN_WRITER_CACHE_KIB
#define s_OTHER_CACHE_KIB       (8 * 1024)
//  The writer checkpoints after a commit that left the WAL over this size,
//  itself, not inside a commit: the WAL then peaks at about this plus one
//  batch. At 24 MiB it held two burst batches before each reset, and the
//  one in which many organisations complete tiles took it past 64 MiB.
//  Each checkpoint copies every page the batches since the last one
//  touched, once, so checkpointing every few batches rather than after each
//  one writes the hot pages (the tails of the indexes) less often; this is
//  worth a quarter of the ingest rate, measured.
#define s_CHECKPOINT_BYTES      (16 * 1024 * 1024)
//  A WAL this large means readers kept the checkpoint from resetting it,
//  or one batch was this large (a full batch of the burst writes about 20
//  MiB, and up to 55 when many organisations complete tiles in it, their
//  subject runs): then a RESTART checkpoint waits up to s_RESTART_WAIT_MS
//  for readers to leave (and for another process's checkpoint), so that the
//  next write starts the WAL over, and when they are still there tries
//  again after the next commit. Waiting longer stalls ingest for it: with
//  200 ms, commits waited that long behind the janitor's checkpoints
//  (bench-janitor). RESTART, not TRUNCATE: an emptied file is regrown by
//  the next batch, a block allocation and a zeroed page per frame, which
//  cost the ingest worker a tenth of its burst rate (bench/RESULTS.md);
//  s_JOURNAL_LIMIT_BYTES still cuts the file back at the reset. A failure
//  is logged at most every s_WARN_EVERY_MS.
#define s_WAL_HARD_BYTES        (40 * 1024 * 1024)
#define s_RESTART_WAIT_MS       20
#define s_WARN_EVERY_MS         10000
//  When a WAL is reset, its file is cut back to this size. Above a burst
//  batch's usual size (the peak, a batch that completes many tiles, is
//  larger), so that the file is not cut and regrown after every checkpoint
//  (measured: that costs a tenth of the rate), but it still gets rid of
//  what a burst or a long reader left behind.
#define s_JOURNAL_LIMIT_BYTES   (48 * 1024 * 1024)

struct _audit_conn_t {
    sqlite3 *handle;
    audit_db_t db;
    audit_store_mode_t mode;
    int64_t busy_limit_us;              //  a lock wait gives up after this
    int64_t busy_started_us;            //  of the current wait
    int64_t waited_us;                  //  slept in s_busy since last asked
    int64_t checkpoint_waited_us;       //  the part of it in checkpoint_maybe
    int64_t restart_warned_ms;          //  monotonic, 0: never
    int wal_pages;                      //  WAL frames after the last commit
    int checkpoint_pages;               //  s_CHECKPOINT_BYTES in pages
    int hard_pages;                     //  s_WAL_HARD_BYTES in pages
};

//  The busy handler: polling every AUDIT_STORE_BUSY_POLL_US takes a lock
//  within a poll of its coming free, where SQLite's own handler could
//  sleep on for up to 100 ms. Every sleep is added up.
static int
s_busy (void *arg, int count)
{
    audit_conn_t *self = (audit_conn_t *) arg;
    int64_t now = zclock_usecs ();
    if (count == 0)
        self->busy_started_us = now;
    int64_t left = self->busy_limit_us - (now - self->busy_started_us);
    if (left <= 0)
        return 0;
    usleep ((useconds_t) (left < AUDIT_STORE_BUSY_POLL_US? left: AUDIT_STORE_BUSY_POLL_US));
    self->waited_us += zclock_usecs () - now;
    return 1;
}

//  Run sql, and again while it fails on a lock. The first write of a
//  fresh file and the switch to WAL take their locks without calling the
//  busy handler (SQLite returns SQLITE_BUSY at once where waiting could
//  deadlock), so workers started together on a fresh directory failed
//  with "database is locked"; they wait here as they would for a
//  migration. The pragmas are the same whoever runs them first.
static int
s_exec_waiting (audit_conn_t *self, const char *sql, char *text, size_t size)
{
    int64_t deadline = zclock_mono () + AUDIT_STORE_MIGRATION_WAIT_MS;
    while (audit_schema_exec (self->handle, sql, text, size) != 0) {
        int code = sqlite3_errcode (self->handle) & 0xFF;
        if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || zclock_mono () >= deadline)
            return -1;
        int64_t before = zclock_usecs ();
        usleep (AUDIT_STORE_BUSY_POLL_US);
        self->waited_us += zclock_usecs () - before;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The files are the owner's only (0600), whatever the umask: the main file
//  is made here before SQLite opens it, and SQLite gives its -wal and -shm
//  the main file's mode. Files an older version left open to others are
//  made private, and the line says so; one that cannot be is refused.

static const char *s_companions [] = { "", "-wal", "-shm", "-journal" };

//  0 when path is absent or private (made so if need be), -1 otherwise
static int
s_make_private (const char *path, const char *name)
{
    struct stat info;
    if (stat (path, &info) != 0)
        return errno == ENOENT? 0: -1;
    mode_t mode = info.st_mode & 07777;
    if (mode == 0600)
        return 0;
    if (chmod (path, 0600) != 0 && errno != ENOENT) {
        audit_log_error ("msg=\"file open to others\" file=%s mode=0%o reason=\"%s\"",
                         name, (unsigned) mode, strerror (errno));
        return -1;
    }
    //  Less than 0600 (a umask of 0277, say) is only put right, not told
    if (mode & 077)
        audit_log_warn ("msg=file_made_private file=%s was=0%o now=0600", name, (unsigned) mode);
    return 0;
}

static int
s_files_private (const char *path, audit_db_t db, bool create)
{
    if (create) {
        int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
            return -1;
        close (fd);
    }
    for (size_t index = 0; index < sizeof s_companions / sizeof s_companions [0]; index++) {
        char companion [4096], name [64];
        snprintf (companion, sizeof companion, "%s%s", path, s_companions [index]);
        snprintf (name, sizeof name, "%s%s", audit_schema_file (db), s_companions [index]);
        if (s_make_private (companion, name) != 0)
            return -1;
    }
    return 0;
}

static int
s_configure (audit_conn_t *self)
{
    bool writable = self->mode != AUDIT_STORE_READER;
    char sql [512];
    //  page_size and auto_vacuum take effect only before the file's first
    //  page is written, so they come before journal_mode, which writes it.
    //  synchronous = FULL on every file, the writer's above all: an ack
    //  promises "durable on disk", and in WAL mode NORMAL would let a
    //  power loss take the last commits back after their ack was sent.
    //  FULL costs one fsync of the WAL per commit, and the writer commits
    //  one batch (up to AUDIT_INGEST_BATCH rows) per transaction, so that
    //  is one fsync per tens of thousands of events. queue.db must be
    //  FULL too: its rows commit before audit.db's acknowledgement of them.
    snprintf (sql, sizeof sql,
              "%s PRAGMA foreign_keys = OFF; PRAGMA secure_delete = ON;"
              " PRAGMA synchronous = FULL; PRAGMA cache_size = -%d;"
              " PRAGMA journal_size_limit = %d; PRAGMA query_only = %s;",
              writable? "PRAGMA page_size = " s_STR (s_PAGE_SIZE) ";"
                        " PRAGMA auto_vacuum = INCREMENTAL;": "",
              self->mode == AUDIT_STORE_WRITER && self->db == AUDIT_DB_AUDIT
              ? s_WRITER_CACHE_KIB: s_OTHER_CACHE_KIB,
              s_JOURNAL_LIMIT_BYTES, writable? "OFF": "ON");
    char journal [16] = "";
    if (s_exec_waiting (self, sql, NULL, 0) != 0
    ||  s_exec_waiting (self, "PRAGMA journal_mode = WAL", journal, sizeof journal) != 0)
        return -1;
    if (strcmp (journal, "wal") != 0) {
        audit_log_error ("msg=\"store not in WAL mode\" file=%s", audit_schema_file (self->db));
        return -1;
    }
    int64_t page_size = s_PAGE_SIZE;
    audit_schema_exec_int (self->handle, "PRAGMA page_size", &page_size);
    self->checkpoint_pages = (int) (s_CHECKPOINT_BYTES / page_size);
    self->hard_pages = (int) (s_WAL_HARD_BYTES / page_size);
    return 0;
}

audit_conn_t *
audit_conn_new (const char *data_dir, audit_db_t db, audit_store_mode_t mode)
{
    assert (data_dir);
    audit_conn_t *self = (audit_conn_t *) calloc (1, sizeof *self);
    char *path = zsys_sprintf ("%s/%s", data_dir, audit_schema_file (db));
    if (!self || !path) {
        free (self);
        zstr_free (&path);
        return NULL;
    }
    self->db = db;
    self->mode = mode;
    self->busy_limit_us = AUDIT_STORE_BUSY_TIMEOUT_MS * 1000LL;
    int flags = (mode == AUDIT_STORE_READER? SQLITE_OPEN_READONLY
                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
    int rc = s_files_private (path, db, mode != AUDIT_STORE_READER) == 0
           ? sqlite3_open_v2 (path, &self->handle, flags, NULL): SQLITE_CANTOPEN;
    zstr_free (&path);
    if (rc == SQLITE_OK && sqlite3_busy_handler (self->handle, s_busy, self) != SQLITE_OK)
        rc = SQLITE_MISUSE;
    if (rc != SQLITE_OK || s_configure (self) != 0) {
        audit_log_error ("msg=\"cannot open store\" file=%s reason=\"%s\"",
                         audit_schema_file (db), self->handle? sqlite3_errmsg (self->handle)
                                                             : sqlite3_errstr (rc));
        audit_conn_destroy (&self);
    }
    return self;
}

void
audit_conn_destroy (audit_conn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_conn_t *self = *self_p;
    sqlite3_close_v2 (self->handle);
    free (self);
    *self_p = NULL;
}

sqlite3 *
audit_conn_handle (audit_conn_t *self)
{
    assert (self);
    return self->handle;
}

void
audit_conn_busy_limit (audit_conn_t *self, int limit_ms)
{
    assert (self);
    self->busy_limit_us = (int64_t) limit_ms * 1000;
}

int64_t
audit_conn_lock_waited_us (audit_conn_t *self)
{
    assert (self);
    int64_t waited = self->waited_us;
    self->waited_us = 0;
    return waited;
}

int64_t
audit_conn_checkpoint_waited_us (audit_conn_t *self)
{
    assert (self);
    int64_t waited = self->checkpoint_waited_us;
    self->checkpoint_waited_us = 0;
    return waited;
}

//  Remembers the WAL size after each commit; installing it also replaces
//  SQLite's automatic checkpoint, which would run inside the commit
static int
s_wal_hook (void *arg, sqlite3 *handle, const char *schema, int pages)
{
    (void) handle;
    (void) schema;
    *(int *) arg = pages;
    return SQLITE_OK;
}

void
audit_conn_wal_watch (audit_conn_t *self)
{
    assert (self);
    self->wal_pages = 0;
    sqlite3_wal_hook (self->handle, s_wal_hook, &self->wal_pages);
}

int
audit_conn_wal_pages (audit_conn_t *self)
{
    assert (self);
    return self->wal_pages;
}

int
audit_conn_checkpoint (audit_conn_t *self)
{
    assert (self);
    int rc = sqlite3_wal_checkpoint_v2 (self->handle, NULL,
                                        SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    self->wal_pages = 0;
    return rc == SQLITE_OK? 0: -1;
}

//  True at most once every s_WARN_EVERY_MS for one *last_ms
static bool
s_warn_due (int64_t *last_ms)
{
    int64_t now = zclock_mono ();
    if (*last_ms && now - *last_ms < s_WARN_EVERY_MS)
        return false;
    *last_ms = now;
    return true;
}

//  Over s_CHECKPOINT_BYTES: a PASSIVE checkpoint, which never waits, and
//  the next write starts the WAL over from its beginning. A reader holding
//  an old snapshot keeps frames in use, so the WAL grows; past
//  s_WAL_HARD_BYTES a RESTART checkpoint waits a little for such readers,
//  and the next write starts the WAL over and cuts the file back to
//  s_JOURNAL_LIMIT_BYTES.
void
audit_conn_checkpoint_maybe (audit_conn_t *self)
{
    assert (self);
    if (self->mode != AUDIT_STORE_WRITER || self->wal_pages < self->checkpoint_pages)
        return;
    int64_t waited = self->waited_us;
    if (self->wal_pages < self->hard_pages)
        sqlite3_wal_checkpoint_v2 (self->handle, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    else {
        int64_t limit_us = self->busy_limit_us;
        self->busy_limit_us = s_RESTART_WAIT_MS * 1000LL;
        if (sqlite3_wal_checkpoint_v2 (self->handle, NULL, SQLITE_CHECKPOINT_RESTART,
                                       NULL, NULL) != SQLITE_OK
        &&  s_warn_due (&self->restart_warned_ms))
            audit_log_warn ("msg=wal_not_reset reason=\"readers or another checkpoint\""
                            " file=%s pages=%d", audit_schema_file (self->db), self->wal_pages);
        self->busy_limit_us = limit_us;
    }
    self->checkpoint_waited_us += self->waited_us - waited;
    self->waited_us = waited;
}
