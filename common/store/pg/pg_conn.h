/*  =========================================================================
    pg_conn - one libpq connection of the PostgreSQL store, its prepared
    statements, and how it comes back after the server went away

    Private to the PostgreSQL engine (common/store/pg/). A store holds one
    connection; a store belongs to one thread, so this is one connection
    per worker thread. A module names each statement once, as a static
    pg_stmt_t (its name and SQL); the connection prepares it on first use
    and again after a reconnection, which loses every prepared statement.

    When the server goes away a call fails at once (-1, logged once), and
    the next call after the backoff tries to connect again: 100 ms at
    first, doubling to 5 s, so that a worker neither spins on a dead
    server nor waits long for one that came back. A transaction open when
    the connection broke is lost with it; its caller sees -1 and retries
    the whole of it, as after any failed write.

    A server that stops answering (a frozen process, a link that drops
    packets without a word) is given up after PG_CONN_REPLY_TIMEOUT_MS, as
    if it had gone away: no call waits longer for it, so the ingest
    writer's stop is bounded too. The server cancels a statement that runs
    longer than PG_CONN_STATEMENT_TIMEOUT_MS by itself; the wait here is a
    little longer, so that it fires only when the server cannot answer.
    ========================================================================= */

#ifndef PG_CONN_H_INCLUDED
#define PG_CONN_H_INCLUDED

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The first and the longest wait between two attempts to reconnect
#define PG_CONN_BACKOFF_FIRST_MS    100
#define PG_CONN_BACKOFF_MAX_MS      5000
//  How long one statement may run before the server cancels it
#define PG_CONN_STATEMENT_TIMEOUT_MS 60000
//  How long a call waits for the server's answer before it gives the
//  connection up; and for a connection to come up (libpq's
//  connect_timeout, in seconds; the URL's own connect_timeout wins)
#define PG_CONN_REPLY_TIMEOUT_MS    (PG_CONN_STATEMENT_TIMEOUT_MS + 5000)
#define PG_CONN_CONNECT_TIMEOUT_S   10

//  A statement a module runs: its name on the server (unique in the
//  engine) and its SQL, with $1.. parameters, all sent as text
typedef struct {
    const char *name;
    const char *sql;
} pg_stmt_t;

typedef struct _pg_conn_t pg_conn_t;

//  Connect to url (a libpq connection URI). read_only: every transaction
//  of the session is READ ONLY (a READER's). NULL, logged with a reason
//  that names no password, when the first connection fails.
pg_conn_t *
    pg_conn_new (const char *url, bool read_only);

//  Close; safe on NULL and twice.
void
    pg_conn_destroy (pg_conn_t **self_p);

//  How long each call waits for the server's answer from now on
//  (PG_CONN_REPLY_TIMEOUT_MS at first); a test shortens it.
void
    pg_conn_set_reply_timeout (pg_conn_t *self, int timeout_ms);

//  Which connection to the server this is: 1 for the first, one more for
//  each made again after one was lost. What a session holds (an advisory
//  lock) is gone when this moved.
uint64_t
    pg_conn_generation (pg_conn_t *self);

//  The libpq handle, or NULL while the connection is down and the backoff
//  has not passed. Reconnects when it may.
PGconn *
    pg_conn_handle (pg_conn_t *self);

//  Run stmt with count text parameters (NULL: SQL NULL). Returns the
//  result (PGRES_TUPLES_OK or PGRES_COMMAND_OK; the caller PQclear()s
//  it), or NULL on any failure (logged with the statement's name and
//  SQLSTATE; the connection is marked for a reconnection when it broke).
PGresult *
    pg_conn_run (pg_conn_t *self, const pg_stmt_t *stmt, int count,
                 const char *const *values);

//  The same, for a statement that returns no rows (or whose rows do not
//  matter): 0 or -1. *changed (when not NULL) gets the rows it affected.
int
    pg_conn_do (pg_conn_t *self, const pg_stmt_t *stmt, int count,
                const char *const *values, int64_t *changed);

//  Run SQL text that takes no parameters (BEGIN, COMMIT, a migration's
//  DDL: several statements may be in one text). 0 or -1, logged.
int
    pg_conn_exec (pg_conn_t *self, const char *sql);

//  Begin a transaction (REPEATABLE READ: one snapshot for all its reads,
//  a page's; else READ COMMITTED, a writer's), commit, roll back. The
//  rollback is safe when none is open, and on a broken connection.
int
    pg_conn_begin (pg_conn_t *self, bool repeatable_read);
int
    pg_conn_commit (pg_conn_t *self);
void
    pg_conn_rollback (pg_conn_t *self);

//  The SQLSTATE of the last failure ("" when none), e.g. "40P01" for a
//  deadlock, "53100" for a full disk.
const char *
    pg_conn_sqlstate (pg_conn_t *self);

//  Cell helpers for text results: a bigint, a bool ('t'), and a bytea in
//  hex form (\x...) into out (exactly size bytes: 0, else -1).
int64_t
    pg_conn_int (const PGresult *result, int row, int column);
int
    pg_conn_bytea (const PGresult *result, int row, int column, uint8_t *out, size_t size);

//  A bytea parameter in hex form ("\x" + 2 hex digits a byte) of data into
//  text (at least 2 * size + 3 bytes).
void
    pg_conn_hex (const uint8_t *data, size_t size, char *text);

#ifdef __cplusplus
}
#endif

#endif
