/*  =========================================================================
    test_service - the real workers of one test, on 127.0.0.1 ports of
    their own and a fresh data directory, with a PUB socket connected to
    ingest and a REQ socket connected to query. On PostgreSQL (test_pg)
    the workers get the data directory's database as AUDIT_DATABASE_URL
    (test_worker_start), and test_service_count reads it.
    ========================================================================= */

#ifndef TEST_SERVICE_H_INCLUDED
#define TEST_SERVICE_H_INCLUDED

#include <czmq.h>

#include "test_support.h"

#define TEST_SECRET "integration-test-secret-0123456789abcdef"

typedef struct {
    char *dir;
    char ingest_endpoint [64];
    char query_endpoint [64];
    char ack_endpoint [64];
    pid_t ingest_pid;
    pid_t query_pid;
    zsock_t *pub;
    zsock_t *req;
    //  CURVE mode: one PUB per producer_id events name (the service takes
    //  the producer from the connection's certificate)
    struct {
        char producer [132];
        zsock_t *pub;
    } routes [16];
    int route_count;
} test_service_t;

//  Start audit-ingest (and audit-query when with_query), connect, and wait
//  until a probe published on ops is stored. Asserts on failure.
test_service_t *test_service_start (const char *tag, bool with_query);

//  SIGKILL audit-ingest (when it runs) and start it again on the same
//  endpoints and data directory; waits until a probe is stored.
void test_service_restart_ingest (test_service_t *self);

//  The same, with extra "NAME=value" environment entries for the new
//  worker (NULL-terminated, at most 6, may be NULL): e.g. test_faketime_env's.
void test_service_restart_ingest_env (test_service_t *self, const char *const *env);

//  Stop audit-query (SIGTERM), start it again on the same endpoint and
//  connect a fresh REQ socket to it.
void test_service_restart_query (test_service_t *self);

//  The same, with extra "NAME=value" environment entries (NULL-terminated,
//  at most 6, may be NULL).
void test_service_restart_query_env (test_service_t *self, const char *const *env);

//  Send sig to audit-ingest (when it runs) and wait until it has ended
//  (SIGKILLed after 5 s); it is then not running until a restart. Returns
//  its exit status as test_worker_stop does, -1 when it did not run.
int test_service_kill_ingest (test_service_t *self, int sig);

//  Stop audit-ingest and audit-query with SIGTERM and wait until they
//  ended: the data directory is then at rest, for a test to change it.
void test_service_stop (test_service_t *self);

//  Start both again on the same endpoints and data directory (after
//  test_service_stop); waits until ingest stores a probe.
void test_service_resume (test_service_t *self);

//  SIGKILL whatever still runs, remove the directory and the logs.
void test_service_destroy (test_service_t **self_p);

//  CURVE mode (test_keys): let producer_id's certificate in, SIGHUPing a
//  running ingest worker when it is new and waiting until it has reloaded.
//  Nothing when the mode is off.
void test_service_allow_producer (test_service_t *self, const char *producer_id);

//  CURVE mode: make socket (before it connects) a client with
//  producer_id's certificate, let in (NULL: the default producer's).
void test_service_keys (test_service_t *self, zsock_t *socket, const char *producer_id);

//  CURVE mode: producer_id's certificate file, let in; NULL when off.
const char *test_service_client_cert (test_service_t *self, const char *producer_id);

//  Publish [topic, packed body]. In CURVE mode a body that names a
//  producer_id goes out on a PUB with that producer's certificate.
void test_service_publish (test_service_t *self, const char *topic, test_pack_t *body);

//  Publish [topic, raw bytes].
void test_service_publish_raw (test_service_t *self, const char *topic,
                               const void *data, size_t size);

//  One integer from a query on one of the stores ("audit.db"...), or -1.
//  On PostgreSQL audit.db, ops.db and queue.db are the database's schemas
//  audit, ops and queue (test_pg_int); other files are SQLite's still.
int64_t test_service_count (test_service_t *self, const char *db, const char *sql);

//  Poll the query until it answers at least want or timeout_ms passes.
int64_t test_service_wait_count (test_service_t *self, const char *db, const char *sql,
                                 int64_t want, int timeout_ms);

//  Poll the query until it answers at least want, or its answer has not
//  grown for stall_ms: for a store that takes many rows at a rate no test
//  should assume (a loaded machine, PostgreSQL), where a fixed time would
//  fail one that is slow but still storing.
int64_t test_service_wait_count_moving (test_service_t *self, const char *db, const char *sql,
                                        int64_t want, int stall_ms);

//  A persistent counter's total once it reaches want (or after 5 s).
int64_t test_service_counter (test_service_t *self, const char *name, int64_t want);

//  A fresh REQ socket to the query worker (a REQ that timed out is stuck).
void test_service_reconnect (test_service_t *self);

//  Send a request built as {v: 1, op, token?, ...pairs} and decode the
//  reply; pairs are packed by fill (may be NULL). Asserts a reply came.
void test_service_call (test_service_t *self, const char *op, const char *token,
                        uint32_t pairs, void (*fill) (test_pack_t *, void *),
                        void *arg, msgpack_unpacked *reply);

#endif

//  --- The janitor ------------------------------------------------------------

//  Run audit-janitor --once on the data directory, with extra "NAME=value"
//  environment entries (NULL-terminated, may be NULL); returns its exit
//  status, or -1 when it did not end within timeout_ms.
int test_service_janitor_once (test_service_t *self, const char *const *env, int timeout_ms);

//  Fill env (room for 4 entries and the NULL) with what runs a worker on a
//  clock moved by offset (libfaketime's form, e.g. "+8d"). Returns false
//  when libfaketime (Debian package faketime) is not installed.
bool test_faketime_env (const char *offset, const char **env);
