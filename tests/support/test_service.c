/*  =========================================================================
    test_service - the real workers of one test
    ========================================================================= */

#include "sqlite_store.h"
#include "test_keys.h"
#include "test_service.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "audit_ident.h"
#include "audit_time.h"

static int s_file_count (const char *path, const char *text);

static void
s_send_ops_probe (test_service_t *self)
{
    test_pack_t *pack = test_pack_ops_probe ("/probe");
    test_service_publish (self, "ops", pack);
    test_pack_destroy (&pack);
}

//  A port picked free (test_free_port) is taken only when the worker
//  binds it, and another test's socket can take it first: the worker then
//  says cannot_bind ("Address already in use") and exits, as tests
//  running in parallel saw now and then. Such a start is made again on
//  new ports, up to this many times.
#define s_START_ATTEMPTS    5

//  True when pid has exited: reaped here
static bool
s_exited (pid_t pid)
{
    int status;
    return pid > 0 && waitpid (pid, &status, WNOHANG) == pid;
}

//  A PUB socket only sends once the subscription has travelled back to
//  it: probe until one more than probes (the ops rows before) is stored,
//  so no test event is lost to that. 1 stored, 0 the ingest worker exited
//  first (reaped), -1 not in 10 s
static int
s_connected (test_service_t *self, int64_t probes)
{
    for (int attempt = 0; attempt < 200; attempt++) {
        s_send_ops_probe (self);
        if (test_service_wait_count (self, "ops.db", "SELECT count(*) FROM ops", probes + 1, 50)
            > probes)
            return 1;
        if (s_exited (self->ingest_pid))
            return 0;
    }
    return -1;
}

static void
s_endpoint_pick (char *endpoint, size_t size)
{
    snprintf (endpoint, size, "tcp://127.0.0.1:%d", test_free_port ());
}

static pid_t
s_start_env (test_service_t *self, const char *program, const char *flag,
             const char *endpoint, const char *const *extra)
{
    char log_path [512];
    snprintf (log_path, sizeof log_path, "%s.%s.log", self->dir, program);
    //  The ack endpoint too: no two tests share the default port
    const char *args [] = { flag, endpoint, "--data-dir", self->dir,
                            streq (program, "audit-ingest")? "--ack-endpoint": NULL,
                            self->ack_endpoint, NULL };
    const char *env [8] = { "AUDIT_JWT_SECRET=" TEST_SECRET };
    for (int index = 0; extra && extra [index] && index < 6; index++)
        env [index + 1] = extra [index];
    pid_t pid = test_worker_start (program, args, env, log_path);
    cr_assert_gt (pid, 0);
    return pid;
}

static pid_t
s_start (test_service_t *self, const char *program, const char *flag, const char *endpoint)
{
    return s_start_env (self, program, flag, endpoint, NULL);
}

void
test_service_reconnect (test_service_t *self)
{
    zsock_destroy (&self->req);
    self->req = zsock_new (ZMQ_REQ);
    test_keys_apply (self->req, NULL);
    zsock_set_rcvtimeo (self->req, 10000);
    zsock_set_linger (self->req, 0);
    cr_assert_eq (zsock_connect (self->req, "%s", self->query_endpoint), 0);
}

static pid_t s_start (test_service_t *self, const char *program, const char *flag,
                      const char *endpoint);

//  The ingest worker on new endpoints until one start binds them
static void
s_ingest_up (test_service_t *self)
{
    for (int attempt = 1; ; attempt++) {
        s_endpoint_pick (self->ingest_endpoint, sizeof self->ingest_endpoint);
        s_endpoint_pick (self->ack_endpoint, sizeof self->ack_endpoint);
        self->ingest_pid = s_start (self, "audit-ingest", "--ingest-endpoint",
                                    self->ingest_endpoint);
        self->pub = zsock_new (ZMQ_PUB);
        zsock_set_sndhwm (self->pub, 0);
        test_keys_apply (self->pub, NULL);
        cr_assert_eq (zsock_connect (self->pub, "%s", self->ingest_endpoint), 0);
        int connected = s_connected (self, 0);
        if (connected == 1)
            return;
        cr_assert (connected == 0 && attempt < s_START_ATTEMPTS,
                   "the ingest worker never stored a probe");
        self->ingest_pid = -1;
        zsock_destroy (&self->pub);
    }
}

//  Until the query worker's log says it listens (a start that failed to
//  bind says no such line): true, or true after 10 s without it (the
//  worker is left to the test), false when it exited first (reaped)
static bool
s_query_listening (test_service_t *self, const char *log)
{
    int64_t deadline = zclock_mono () + 10000;
    while (s_file_count (log, "msg=listening") == 0 && zclock_mono () < deadline)
        if (s_exited (self->query_pid)) {
            self->query_pid = -1;
            return false;
        }
        else
            zclock_sleep (10);
    return true;
}

//  The query worker on a new endpoint until one start says it listens
static void
s_query_up (test_service_t *self)
{
    char log [512];
    snprintf (log, sizeof log, "%s.audit-query.log", self->dir);
    for (int attempt = 1; ; attempt++) {
        s_endpoint_pick (self->query_endpoint, sizeof self->query_endpoint);
        self->query_pid = s_start (self, "audit-query", "--query-endpoint", self->query_endpoint);
        if (s_query_listening (self, log))
            break;
        cr_assert (attempt < s_START_ATTEMPTS, "the query worker did not start: see %s", log);
    }
    test_service_reconnect (self);
}

test_service_t *
test_service_start (const char *tag, bool with_query)
{
    test_service_t *self = calloc (1, sizeof *self);
    self->dir = test_tmpdir_new (tag);
    s_ingest_up (self);
    if (with_query)
        s_query_up (self);
    //  The CURVE mode is what ran: the listening line says so
    char log [512];
    snprintf (log, sizeof log, "%s.audit-ingest.log", self->dir);
    cr_assert_eq (s_file_count (log, " curve=on") > 0, test_keys_on (),
                  "ingest runs with CURVE %s", test_keys_on () ? "on" : "off");
    return self;
}

void
test_service_restart_query (test_service_t *self)
{
    test_service_restart_query_env (self, NULL);
}

void
test_service_restart_query_env (test_service_t *self, const char *const *env)
{
    if (self->query_pid > 0)
        test_worker_stop (self->query_pid, SIGTERM, 5000);
    self->query_pid = s_start_env (self, "audit-query", "--query-endpoint", self->query_endpoint,
                                   env);
    test_service_reconnect (self);
}

void
test_service_restart_ingest (test_service_t *self)
{
    test_service_restart_ingest_env (self, NULL);
}

int
test_service_kill_ingest (test_service_t *self, int sig)
{
    int status = self->ingest_pid > 0? test_worker_stop (self->ingest_pid, sig, 5000): -1;
    self->ingest_pid = -1;
    return status;
}

//  The routes' PUBs go with the worker: a new one waits for the new
//  worker's subscriptions before it sends
static void
s_routes_close (test_service_t *self)
{
    for (int index = 0; index < self->route_count; index++)
        zsock_destroy (&self->routes [index].pub);
    self->route_count = 0;
}

void
test_service_restart_ingest_env (test_service_t *self, const char *const *env)
{
    test_service_kill_ingest (self, SIGKILL);
    s_routes_close (self);
    int64_t probes = test_service_count (self, "ops.db", "SELECT count(*) FROM ops");
    self->ingest_pid = s_start_env (self, "audit-ingest", "--ingest-endpoint",
                                    self->ingest_endpoint, env);
    //  The PUB socket reconnects by itself; a probe stored says it has
    cr_assert_eq (s_connected (self, probes), 1,
                  "the restarted ingest worker never stored a probe");
}

void
test_service_stop (test_service_t *self)
{
    test_service_kill_ingest (self, SIGTERM);
    if (self->query_pid > 0)
        test_worker_stop (self->query_pid, SIGTERM, 5000);
    self->query_pid = -1;
}

void
test_service_resume (test_service_t *self)
{
    test_service_restart_ingest (self);
    self->query_pid = s_start (self, "audit-query", "--query-endpoint", self->query_endpoint);
    test_service_reconnect (self);
}

void
test_service_destroy (test_service_t **self_p)
{
    test_service_t *self = *self_p;
    if (!self)
        return;
    s_routes_close (self);
    zsock_destroy (&self->pub);
    zsock_destroy (&self->req);
    if (self->ingest_pid > 0)
        test_worker_stop (self->ingest_pid, SIGKILL, 2000);
    if (self->query_pid > 0)
        test_worker_stop (self->query_pid, SIGKILL, 2000);
    const char *programs [] = { "audit-ingest", "audit-query", "audit-janitor" };
    for (int index = 0; index < 3; index++) {
        char log_path [512];
        snprintf (log_path, sizeof log_path, "%s.%s.log", self->dir, programs [index]);
        unlink (log_path);
    }
    test_tmpdir_destroy (&self->dir);
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  CURVE mode: producers by certificate

//  Occurrences of text in the file at path
static int
s_file_count (const char *path, const char *text)
{
    int count = 0;
    FILE *file = fopen (path, "r");
    char line [4096];
    while (file && fgets (line, sizeof line, file))
        if (strstr (line, text))
            count++;
    if (file)
        fclose (file);
    return count;
}

//  SIGHUP the ingest worker and wait until it has read its keys again
static void
s_reload_ingest (test_service_t *self)
{
    char log [512];
    snprintf (log, sizeof log, "%s.audit-ingest.log", self->dir);
    int loads = s_file_count (log, "msg=keys_loaded");
    cr_assert_eq (kill (self->ingest_pid, SIGHUP), 0);
    for (int waited = 0; waited < 10000; waited += 20) {
        if (s_file_count (log, "msg=keys_loaded") > loads)
            return;
        zclock_sleep (20);
    }
    cr_assert_fail ("the ingest worker did not reload its keys on SIGHUP");
}

void
test_service_allow_producer (test_service_t *self, const char *producer_id)
{
    if (!test_keys_on ())
        return;
    bool made = false;
    test_keys_client (producer_id, &made);
    if (made && self->ingest_pid > 0)
        s_reload_ingest (self);
}

void
test_service_keys (test_service_t *self, zsock_t *socket, const char *producer_id)
{
    test_service_allow_producer (self, producer_id);
    test_keys_apply (socket, producer_id);
}

const char *
test_service_client_cert (test_service_t *self, const char *producer_id)
{
    if (!test_keys_on ())
        return NULL;
    test_service_allow_producer (self, producer_id);
    return test_keys_client (producer_id, NULL);
}

//  An XPUB with producer's certificate, once the worker has subscribed:
//  the subscription says the handshake passed, so nothing sent is lost
static zsock_t *
s_route_pub (test_service_t *self, const char *producer)
{
    zsock_t *pub = zsock_new (ZMQ_XPUB);
    zsock_set_sndhwm (pub, 0);
    zsock_set_linger (pub, 0);
    zsock_set_rcvtimeo (pub, 10000);
    test_service_keys (self, pub, producer);
    cr_assert_eq (zsock_connect (pub, "%s", self->ingest_endpoint), 0);
    //  ingest subscribes to audit, ops and mq
    for (int subscriptions = 0; subscriptions < 3; subscriptions++) {
        zframe_t *frame = zframe_recv (pub);
        cr_assert_not_null (frame, "ingest never subscribed through %s's certificate", producer);
        zframe_destroy (&frame);
    }
    return pub;
}

//  The socket for a body: the route of the producer_id it names, in CURVE
//  mode; else the one PUB
static zsock_t *
s_route (test_service_t *self, const void *data, size_t size)
{
    if (!test_keys_on ())
        return self->pub;
    msgpack_unpacked body;
    msgpack_unpacked_init (&body);
    char producer [132] = "";
    if (msgpack_unpack_next (&body, data, size, NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *id = test_obj_get (&body.data, "producer_id");
        if (id && id->type == MSGPACK_OBJECT_STR && id->via.str.size < sizeof producer
        &&  audit_ident_is_valid (id->via.str.ptr, id->via.str.size))
            snprintf (producer, sizeof producer, "%.*s", (int) id->via.str.size, id->via.str.ptr);
    }
    msgpack_unpacked_destroy (&body);
    if (!*producer || streq (producer, TEST_KEYS_PRODUCER))
        return self->pub;
    for (int index = 0; index < self->route_count; index++)
        if (streq (self->routes [index].producer, producer))
            return self->routes [index].pub;
    cr_assert_lt (self->route_count, 16, "at most 16 producers per test");
    snprintf (self->routes [self->route_count].producer, sizeof producer, "%s", producer);
    self->routes [self->route_count].pub = s_route_pub (self, producer);
    return self->routes [self->route_count++].pub;
}

void
test_service_publish_raw (test_service_t *self, const char *topic, const void *data, size_t size)
{
    zsock_t *pub = s_route (self, data, size);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, topic);
    zmsg_addmem (msg, data, size);
    cr_assert_eq (zmsg_send (&msg, pub), 0);
}

void
test_service_publish (test_service_t *self, const char *topic, test_pack_t *body)
{
    test_service_publish_raw (self, topic, test_pack_data (body), test_pack_size (body));
}

//  The PostgreSQL schema of one of the stores' files, or NULL
static const char *
s_schema (const char *db_name)
{
    return streq (db_name, "audit.db")? "audit"
         : streq (db_name, "ops.db")? "ops"
         : streq (db_name, "queue.db")? "queue": NULL;
}

int64_t
test_service_count (test_service_t *self, const char *db_name, const char *sql)
{
    //  On PostgreSQL the stores are schemas of the test's database; any
    //  other file (a producer's outbox) is SQLite's still
    if (test_pg_on () && s_schema (db_name))
        return test_pg_int (self->dir, s_schema (db_name), sql);
    char path [512];
    snprintf (path, sizeof path, "%s/%s", self->dir, db_name);
    sqlite3 *db = NULL;
    int64_t count = -1;
    if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_busy_timeout (db, 2000);
        sqlite3_stmt *stmt = NULL;
        if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK
        &&  sqlite3_step (stmt) == SQLITE_ROW)
            count = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    sqlite3_close (db);
    return count;
}

int64_t
test_service_wait_count (test_service_t *self, const char *db, const char *sql,
                         int64_t want, int timeout_ms)
{
    int64_t count = -1;
    for (int waited = 0; waited < timeout_ms; waited += 20) {
        count = test_service_count (self, db, sql);
        if (count >= want)
            break;
        zclock_sleep (20);
    }
    return count;
}

int64_t
test_service_wait_count_moving (test_service_t *self, const char *db, const char *sql,
                                int64_t want, int stall_ms)
{
    int64_t count = test_service_count (self, db, sql), last = count;
    int64_t moved = zclock_mono ();
    while (count < want && zclock_mono () - moved < stall_ms) {
        zclock_sleep (20);
        count = test_service_count (self, db, sql);
        if (count > last) {
            last = count;
            moved = zclock_mono ();
        }
    }
    return count;
}

int64_t
test_service_counter (test_service_t *self, const char *name, int64_t want)
{
    char sql [512];
    snprintf (sql, sizeof sql,
              "SELECT coalesce (sum (value), 0) FROM counter WHERE name = '%s'", name);
    //  Counters reach audit.db at least once a second
    return test_service_wait_count (self, "audit.db", sql, want, 5000);
}

void
test_service_call (test_service_t *self, const char *op, const char *token, uint32_t pairs,
                   void (*fill) (test_pack_t *, void *), void *arg, msgpack_unpacked *reply)
{
    test_pack_t *request = test_pack_new ();
    test_pack_map (request, 2 + (token ? 1 : 0) + pairs);
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", op);
    if (token)
        test_pack_kv_str (request, "token", token);
    if (fill)
        fill (request, arg);
    int rc = test_request (self->req, request, reply);
    test_pack_destroy (&request);
    cr_assert_eq (rc, 0, "no reply to %s", op);
}

//  --------------------------------------------------------------------------
//  The janitor

int
test_service_janitor_once (test_service_t *self, const char *const *env, int timeout_ms)
{
    char log_path [512];
    snprintf (log_path, sizeof log_path, "%s.audit-janitor.log", self->dir);
    const char *args [] = { "--once", "--data-dir", self->dir, NULL };
    pid_t pid = test_worker_start ("audit-janitor", args, env, log_path);
    cr_assert_gt (pid, 0);
    return test_worker_stop (pid, 0, timeout_ms);
}

bool
test_faketime_env (const char *offset, const char **env)
{
    //  The multi-threaded variant: the janitor runs an actor thread
    static const char *libraries [] = {
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1"
    };
    static char preload [256], faketime [64], asan [512];
    const char *library = NULL;
    for (size_t index = 0; !library && index < sizeof libraries / sizeof *libraries; index++)
        if (access (libraries [index], R_OK) == 0)
            library = libraries [index];
    if (!library)
        return false;
    snprintf (preload, sizeof preload, "LD_PRELOAD=%s", library);
    snprintf (faketime, sizeof faketime, "FAKETIME=%s", offset);
    //  A sanitizer build refuses a preloaded library ahead of its runtime
    const char *current = getenv ("ASAN_OPTIONS");
    snprintf (asan, sizeof asan, "ASAN_OPTIONS=%s%sverify_asan_link_order=0",
              current ? current : "", current && *current ? ":" : "");
    env [0] = preload;
    env [1] = faketime;
    env [2] = asan;
    env [3] = NULL;
    return true;
}
