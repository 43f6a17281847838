/*  =========================================================================
    pg_conn - one libpq connection of the PostgreSQL store (see pg_conn.h)
    ========================================================================= */

#include "pg_conn.h"
#include "audit_log.h"
#include "audit_store.h"
#include <czmq.h>

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Statements one connection prepares: every module's, with room to spare
#define s_PREPARED_MAX 256

struct _pg_conn_t {
    char *url;
    bool read_only;
    PGconn *handle;                     //  NULL while down
    int64_t retry_at_ms;                //  when down: the next attempt
    int backoff_ms;
    bool down_logged;                   //  "connection lost" said once a spell
    int reply_timeout_ms;               //  a call waits this long for the server
    uint64_t generation;                //  connections made so far
    bool timed_out;                     //  the last call gave the server up
    const pg_stmt_t *prepared [s_PREPARED_MAX];
    int prepared_count;                 //  on this handle
    char sqlstate [6];
};

static int s_exec (pg_conn_t *self, const char *what, const char *sql);

//  libpq's connection, within PG_CONN_CONNECT_TIMEOUT_S unless the URL
//  says otherwise (its values come after ours, and win), and non-blocking,
//  so that a call waits for the server only as long as s_result lets it
static PGconn *
s_open (const char *url)
{
    char timeout [16];
    snprintf (timeout, sizeof timeout, "%d", PG_CONN_CONNECT_TIMEOUT_S);
    const char *const keywords [] = { "connect_timeout", "dbname", NULL };
    const char *const values [] = { timeout, url, NULL };
    PGconn *handle = PQconnectdbParams (keywords, values, 1);
    if (handle && PQstatus (handle) == CONNECTION_OK)
        PQsetnonblocking (handle, 1);
    return handle;
}

//  Opens the handle and sets the session up: a READER's transactions are
//  READ ONLY, and no statement runs forever. 0 or -1 (the handle NULL).
static int
s_connect (pg_conn_t *self)
{
    self->handle = s_open (self->url);
    self->prepared_count = 0;
    if (PQstatus (self->handle) == CONNECTION_OK) {
        char setup [224];
        //  A writer's commit is durable whatever the server's default
        //  says: an acknowledged event must survive the server's crash
        snprintf (setup, sizeof setup, "SET statement_timeout = %d;"
                  " SET default_transaction_read_only = %s; SET client_min_messages = warning;"
                  " SET synchronous_commit = %s", PG_CONN_STATEMENT_TIMEOUT_MS,
                  self->read_only? "on": "off", self->read_only? "local": "on");
        if (s_exec (self, "setup", setup) == 0) {
            self->generation++;
            return 0;
        }
        if (!self->handle)
            return -1;                  //  given up by s_result, and said
    }
    char url [512];
    audit_store_redact (self->url, url, sizeof url);
    if (!self->down_logged) {
        char *reason = strdup (PQerrorMessage (self->handle));
        char *newline = reason? strchr (reason, '\n'): NULL;
        if (newline)
            *newline = '\0';
        audit_log_error ("msg=\"cannot connect\" engine=postgresql url=\"%s\" reason=\"%s\"",
                         url, reason? reason: "?");
        free (reason);
        self->down_logged = true;
    }
    PQfinish (self->handle);
    self->handle = NULL;
    return -1;
}

pg_conn_t *
pg_conn_new (const char *url, bool read_only)
{
    assert (url);
    pg_conn_t *self = (pg_conn_t *) calloc (1, sizeof *self);
    if (!self || !(self->url = strdup (url))) {
        free (self);
        return NULL;
    }
    self->read_only = read_only;
    self->backoff_ms = PG_CONN_BACKOFF_FIRST_MS;
    self->reply_timeout_ms = PG_CONN_REPLY_TIMEOUT_MS;
    if (s_connect (self) != 0)
        pg_conn_destroy (&self);
    return self;
}

void
pg_conn_destroy (pg_conn_t **self_p)
{
    assert (self_p);
    pg_conn_t *self = *self_p;
    if (!self)
        return;
    if (self->handle)
        PQfinish (self->handle);
    free (self->url);
    free (self);
    *self_p = NULL;
}

uint64_t
pg_conn_generation (pg_conn_t *self)
{
    assert (self);
    return self->generation;
}

void
pg_conn_set_reply_timeout (pg_conn_t *self, int timeout_ms)
{
    assert (self && timeout_ms > 0);
    self->reply_timeout_ms = timeout_ms;
}

//  The server went away: drop the handle, try again after the backoff
static void
s_lost (pg_conn_t *self)
{
    if (!self->down_logged)
        audit_log_warn ("msg=\"connection lost\" engine=postgresql retry_ms=%d",
                        self->backoff_ms);
    self->down_logged = true;
    PQfinish (self->handle);
    self->handle = NULL;
    self->retry_at_ms = zclock_mono () + self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 > PG_CONN_BACKOFF_MAX_MS
                     ? PG_CONN_BACKOFF_MAX_MS: self->backoff_ms * 2;
}

PGconn *
pg_conn_handle (pg_conn_t *self)
{
    assert (self);
    if (self->handle && PQstatus (self->handle) != CONNECTION_OK)
        s_lost (self);
    if (!self->handle && zclock_mono () >= self->retry_at_ms) {
        if (s_connect (self) == 0) {
            audit_log_info ("msg=reconnected engine=postgresql");
            self->down_logged = false;
            self->backoff_ms = PG_CONN_BACKOFF_FIRST_MS;
        }
        else
            s_lost (self);
    }
    return self->handle;
}

//  Waits until the connection's socket is ready for events, or deadline
//  (monotonic ms) passes: 0 ready, -1 not in time (or poll failed)
static int
s_ready (pg_conn_t *self, short events, int64_t deadline)
{
    struct pollfd item = { PQsocket (self->handle), events, 0 };
    if (item.fd < 0)
        return -1;                      //  libpq dropped it: nothing comes
    while (true) {
        int64_t left = deadline - zclock_mono ();
        if (left <= 0)
            return -1;
        int rc = poll (&item, 1, (int) left);
        if (rc > 0)
            return 0;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

//  While pending says so, waits for events and reads what came. pending
//  is PQflush (what was sent is not all out yet: a non-blocking connection
//  sends what the socket takes, and wants input read meanwhile) or
//  PQisBusy (no whole result yet). true done (or the connection broke:
//  PQgetResult says how), false when the server took or gave nothing in
//  time.
static bool
s_wait (pg_conn_t *self, int (*pending) (PGconn *), short events, int64_t deadline)
{
    while (pending (self->handle) == 1)
        if (s_ready (self, events, deadline) != 0)
            return false;
        else
        if (!PQconsumeInput (self->handle))
            return true;
    return true;
}

static bool
s_ok (const PGresult *result)
{
    ExecStatusType status = PQresultStatus (result);
    return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

//  A COPY state gives a result at every PQgetResult and never the end:
//  nothing here sends COPY, so one is taken as the (failed) answer
static bool
s_is_copy (const PGresult *result)
{
    ExecStatusType status = PQresultStatus (result);
    return status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH;
}

//  Every result of what was sent, as PQexec gives them: the first failed
//  one, else the last. A server that does not answer within the reply
//  timeout is given up, the connection dropped and logged: NULL, with
//  self->handle NULL.
static PGresult *
s_result (pg_conn_t *self)
{
    int64_t deadline = zclock_mono () + self->reply_timeout_ms;
    self->timed_out = false;
    bool in_time = s_wait (self, PQflush, POLLIN | POLLOUT, deadline);
    PGresult *kept = NULL, *result;
    while (in_time && (in_time = s_wait (self, PQisBusy, POLLIN, deadline))
       &&  (result = PQgetResult (self->handle)) != NULL) {
        bool copy = s_is_copy (result);
        if (kept && !s_ok (kept))
            PQclear (result);           //  the first failure is the answer
        else {
            PQclear (kept);
            kept = result;
        }
        if (copy)
            break;
    }
    if (in_time)
        return kept;
    self->timed_out = true;
    PQclear (kept);
    audit_log_warn ("msg=\"server did not answer\" engine=postgresql waited_ms=%d",
                    self->reply_timeout_ms);
    s_lost (self);
    return NULL;
}

//  Notes the SQLSTATE of a failed result, logs it, and notices a broken
//  connection
static void
s_failed (pg_conn_t *self, const char *what, PGresult *result)
{
    const char *state = result? PQresultErrorField (result, PG_DIAG_SQLSTATE): NULL;
    snprintf (self->sqlstate, sizeof self->sqlstate, "%s", state? state: "");
    const char *message = result? PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY): NULL;
    if (!message)
        message = PQerrorMessage (self->handle);
    //  A serialization failure or a deadlock is retried by the caller; a
    //  broken connection is said once by s_lost
    if (PQstatus (self->handle) != CONNECTION_OK)
        s_lost (self);
    else
        audit_log_warn ("msg=\"statement failed\" engine=postgresql statement=%s"
                        " sqlstate=%s reason=\"%.200s\"", what, self->sqlstate, message);
}

static bool
s_is_prepared (pg_conn_t *self, const pg_stmt_t *stmt)
{
    for (int index = 0; index < self->prepared_count; index++)
        if (self->prepared [index] == stmt)
            return true;
    return false;
}

static int
s_prepare (pg_conn_t *self, const pg_stmt_t *stmt)
{
    if (s_is_prepared (self, stmt))
        return 0;
    assert (self->prepared_count < s_PREPARED_MAX);
    PGresult *result = PQsendPrepare (self->handle, stmt->name, stmt->sql, 0, NULL)
                     ? s_result (self): NULL;
    if (!self->handle)
        return -1;                      //  given up by s_result
    bool ok = s_ok (result);
    if (ok)
        self->prepared [self->prepared_count++] = stmt;
    else
        s_failed (self, stmt->name, result);
    PQclear (result);
    return ok? 0: -1;
}

PGresult *
pg_conn_run (pg_conn_t *self, const pg_stmt_t *stmt, int count, const char *const *values)
{
    assert (self && stmt);
    self->sqlstate [0] = '\0';
    if (!pg_conn_handle (self) || s_prepare (self, stmt) != 0)
        return NULL;
    PGresult *result = PQsendQueryPrepared (self->handle, stmt->name, count, values,
                                            NULL, NULL, 0)
                     ? s_result (self): NULL;
    if (!self->handle)
        return NULL;                    //  given up by s_result
    if (s_ok (result))
        return result;
    s_failed (self, stmt->name, result);
    PQclear (result);
    return NULL;
}

int
pg_conn_do (pg_conn_t *self, const pg_stmt_t *stmt, int count, const char *const *values,
            int64_t *changed)
{
    PGresult *result = pg_conn_run (self, stmt, count, values);
    if (!result)
        return -1;
    if (changed)
        *changed = strtoll (PQcmdTuples (result), NULL, 10);
    PQclear (result);
    return 0;
}

//  Run sql on the handle there is: 0, or -1 logged as what
static int
s_exec (pg_conn_t *self, const char *what, const char *sql)
{
    PGresult *result = PQsendQuery (self->handle, sql)? s_result (self): NULL;
    if (!self->handle)
        return -1;                      //  given up by s_result
    bool ok = s_ok (result);
    if (!ok)
        s_failed (self, what, result);
    PQclear (result);
    return ok? 0: -1;
}

int
pg_conn_exec (pg_conn_t *self, const char *sql)
{
    assert (self && sql);
    self->sqlstate [0] = '\0';
    if (!pg_conn_handle (self))
        return -1;
    return s_exec (self, "exec", sql);
}

//  A connection found broken by a BEGIN: nothing of the transaction ran,
//  so a new one is tried at once, not after the backoff (else the first
//  request after the server came back failed, test_pg_outage)
int
pg_conn_begin (pg_conn_t *self, bool repeatable_read)
{
    const char *sql = repeatable_read? "BEGIN ISOLATION LEVEL REPEATABLE READ": "BEGIN";
    bool connected = self->handle != NULL;
    int rc = pg_conn_exec (self, sql);
    //  Not after a server that did not answer: that one waits the backoff,
    //  so that a call waits the reply timeout once, not twice
    if (rc != 0 && connected && !self->handle && !self->timed_out) {
        self->retry_at_ms = 0;
        rc = pg_conn_exec (self, sql);
    }
    return rc;
}

int
pg_conn_commit (pg_conn_t *self)
{
    return pg_conn_exec (self, "COMMIT");
}

void
pg_conn_rollback (pg_conn_t *self)
{
    assert (self);
    if (self->handle && PQtransactionStatus (self->handle) != PQTRANS_IDLE
    &&  PQsendQuery (self->handle, "ROLLBACK"))
        PQclear (s_result (self));
}

const char *
pg_conn_sqlstate (pg_conn_t *self)
{
    return self->sqlstate;
}

int64_t
pg_conn_int (const PGresult *result, int row, int column)
{
    return strtoll (PQgetvalue (result, row, column), NULL, 10);
}

static int
s_nibble (char c)
{
    return c >= '0' && c <= '9'? c - '0'
         : c >= 'a' && c <= 'f'? c - 'a' + 10
         : c >= 'A' && c <= 'F'? c - 'A' + 10: -1;
}

int
pg_conn_bytea (const PGresult *result, int row, int column, uint8_t *out, size_t size)
{
    const char *text = PQgetvalue (result, row, column);
    if (PQgetisnull (result, row, column) || strncmp (text, "\\x", 2) != 0
    ||  strlen (text) != 2 + 2 * size)
        return -1;
    for (size_t index = 0; index < size; index++) {
        int high = s_nibble (text [2 + 2 * index]), low = s_nibble (text [3 + 2 * index]);
        if (high < 0 || low < 0)
            return -1;
        out [index] = (uint8_t) (high << 4 | low);
    }
    return 0;
}

void
pg_conn_hex (const uint8_t *data, size_t size, char *text)
{
    static const char digits [] = "0123456789abcdef";
    text [0] = '\\';
    text [1] = 'x';
    for (size_t index = 0; index < size; index++) {
        text [2 + 2 * index] = digits [data [index] >> 4];
        text [3 + 2 * index] = digits [data [index] & 15];
    }
    text [2 + 2 * size] = '\0';
}
