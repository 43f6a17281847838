/*  The real audit-ingest on a 20 MiB tmpfs that the test fills (issue 12,
    "Disk full"): events published through the producer library while the
    disk is full are neither dropped nor acknowledged; ingest says it is
    degraded, stops reading, and resumes by itself within 5 s of space
    returning, every event then stored exactly once. SIGTERM on a full
    disk exits within 10 s with a non-zero status, and nothing it held is
    lost: the producer resends it to the next run. Mounting needs root:
    the tests skip with a message otherwise. */

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_producer.h"
#include "test_keys.h"
#include "test_service.h"

#define s_EVENTS    3000

typedef struct {
    char *dir;                      //  outbox and logs, on the real disk
    char data [512];                //  the tmpfs mount point
    char filler [600];
    char ingest_endpoint [64];
    char ack_endpoint [64];
    char log_path [600];
    pid_t ingest_pid;
    bool mounted;
    audit_producer_t *producer;
} s_fixture_t;

static s_fixture_t s;

static void
s_start_ingest (void)
{
    const char *args [] = { "--ingest-endpoint", s.ingest_endpoint, "--data-dir", s.data,
                            "--ack-endpoint", s.ack_endpoint, NULL };
    const char *env [] = { "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    s.ingest_pid = test_worker_start ("audit-ingest", args, env, s.log_path);
    cr_assert_gt (s.ingest_pid, 0);
}

static void
s_setup (void)
{
    memset (&s, 0, sizeof s);
    if (geteuid () != 0)
        return;
    s.dir = test_tmpdir_new ("diskfull");
    snprintf (s.data, sizeof s.data, "%s/data", s.dir);
    snprintf (s.filler, sizeof s.filler, "%s/filler", s.data);
    snprintf (s.log_path, sizeof s.log_path, "%s/ingest.log", s.dir);
    cr_assert_eq (mkdir (s.data, 0700), 0);
    s.mounted = mount ("tmpfs", s.data, "tmpfs", 0, "size=20m,mode=0700") == 0;
    cr_assert (s.mounted, "mount tmpfs: %s", strerror (errno));
    snprintf (s.ingest_endpoint, sizeof s.ingest_endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (s.ack_endpoint, sizeof s.ack_endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    //  CURVE mode: the producer's certificate is in before ingest starts
    if (test_keys_on ())
        test_keys_client ("svc-disk", NULL);
    s_start_ingest ();
}

static void
s_teardown (void)
{
    audit_producer_destroy (&s.producer);
    if (s.ingest_pid > 0)
        test_worker_stop (s.ingest_pid, SIGKILL, 2000);
    if (s.mounted)
        umount2 (s.data, MNT_DETACH);
    test_tmpdir_destroy (&s.dir);
}

TestSuite (diskfull, .init = s_setup, .fini = s_teardown, .timeout = 60);

static void
s_need_root (void)
{
    if (geteuid () != 0)
        cr_skip_test ("needs root to mount a tmpfs (mount -t tmpfs -o size=20m)");
}

//  A REQ to the query worker at endpoint (CURVE mode: with keys)
static zsock_t *
s_req (const char *endpoint)
{
    zsock_t *req = zsock_new (ZMQ_REQ);
    test_keys_apply (req, NULL);
    cr_assert_eq (zsock_connect (req, "%s", endpoint), 0);
    return req;
}

//  Events of audit.db, and of them distinct ones; -1 when unreadable
static int64_t
s_stored (int64_t *distinct)
{
    char path [600];
    snprintf (path, sizeof path, "%s/audit.db", s.data);
    sqlite3 *db = NULL;
    int64_t count = -1;
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
    &&  sqlite3_prepare_v2 (db, "SELECT count(*), count(DISTINCT uuid) FROM event", -1,
                            &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW) {
        count = sqlite3_column_int64 (stmt, 0);
        if (distinct)
            *distinct = sqlite3_column_int64 (stmt, 1);
    }
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return count;
}

//  Write the filler until the disk refuses; again later, because what
//  ingest frees (its checkpoints) must not let it store more
static void
s_fill (void)
{
    int fd = open (s.filler, O_WRONLY | O_CREAT | O_APPEND, 0600);
    cr_assert_geq (fd, 0);
    static char block [64 * 1024];
    while (write (fd, block, sizeof block) > 0)
        ;
    while (write (fd, block, 512) > 0)
        ;
    close (fd);
}

static bool
s_file_has (const char *path, const char *text)
{
    char *log = NULL;
    size_t size = 0;
    FILE *file = fopen (path, "r");
    if (!file)
        return false;
    bool found = getdelim (&log, &size, '\0', file) > 0 && strstr (log, text);
    free (log);
    fclose (file);
    return found;
}

static bool
s_log_has (const char *text)
{
    return s_file_has (s.log_path, text);
}

//  Wait for text in the ingest log, filling the disk meanwhile
static bool
s_wait_log (const char *text, int timeout_ms, bool fill)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (s_log_has (text))
            return true;
        if (fill)
            s_fill ();
        usleep (50 * 1000);
    }
    return s_log_has (text);
}

static void
s_producer_new (void)
{
    char outbox [600];
    snprintf (outbox, sizeof outbox, "%s/outbox.db", s.dir);
    audit_producer_options_t options;
    audit_producer_options_init (&options);
    options.retry_ms = 500;
    options.curve_server_key = test_keys_server_key ();
    options.curve_client_cert = test_keys_on () ? test_keys_client ("svc-disk", NULL) : NULL;
    s.producer = audit_producer_new_with (s.ingest_endpoint, s.ack_endpoint, "svc-disk",
                                          outbox, &options);
    cr_assert_not_null (s.producer);
}

static void
s_publish (int count)
{
    for (int index = 0; index < count; index++) {
        test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "org-disk", "actor-1", 0,
                                             NULL);
        cr_assert_eq (audit_producer_publish (s.producer, "audit", test_pack_data (pack),
                                              test_pack_size (pack), NULL), 0);
        test_pack_destroy (&pack);
    }
    cr_assert_eq (audit_producer_sync (s.producer, 10000), 0);
}

static uint64_t
s_acked (void)
{
    audit_producer_stats_t stats;
    audit_producer_stats (s.producer, &stats);
    return stats.acked_seq;
}

//  The producer up and one event acknowledged, then the disk full and
//  s_EVENTS more published: ingest says it is degraded and acks none
static void
s_fill_and_publish (void)
{
    s_producer_new ();
    s_publish (1);
    cr_assert_eq (audit_producer_flush (s.producer, 10000), 0, "ingest is up");
    s_fill ();
    s_publish (s_EVENTS);
    cr_assert (s_wait_log ("failed\" file=", 15000, true), "a commit failed");
    cr_expect (s_wait_log ("msg=degraded reason=disk_full", 2000, true),
               "ingest says it is degraded, and why");
    for (int waited = 0; waited < 1000; waited += 100) {
        s_fill ();
        usleep (100 * 1000);
    }
    cr_expect_eq (waitpid (s.ingest_pid, NULL, WNOHANG), 0, "ingest still runs");
    cr_expect_lt (s_acked (), (uint64_t) s_EVENTS + 1, "nothing acknowledged that is not stored");
    int64_t stored = s_stored (NULL);
    cr_expect_geq (stored, (int64_t) s_acked (), "everything acknowledged is stored");
}

//  Every event once, and every one acknowledged
static void
s_expect_all_stored (int timeout_ms)
{
    cr_expect_eq (audit_producer_flush (s.producer, timeout_ms), 0, "every event acknowledged");
    int64_t distinct = 0;
    cr_expect_eq (s_stored (&distinct), s_EVENTS + 1, "every event stored");
    cr_expect_eq (distinct, s_EVENTS + 1, "each once");
    cr_expect_eq (s_acked (), (uint64_t) s_EVENTS + 1);
}

//  Only 3 MiB of the 20 come back: enough, since the failed retries did not
//  keep the WAL full
static void
s_free_3_mib (void)
{
    struct stat info;
    cr_assert_eq (stat (s.filler, &info), 0);
    cr_assert_gt (info.st_size, 3 << 20);
    cr_assert_eq (truncate (s.filler, info.st_size - (3 << 20)), 0);
}

Test (diskfull, nothing_is_dropped_and_ingest_resumes_within_5_s_of_space_returning)
{
    s_need_root ();
    s_fill_and_publish ();
    int64_t before = zclock_mono ();
    s_free_3_mib ();
    cr_expect (s_wait_log ("msg=resumed", 5000, false), "resumed within 5 s");
    cr_expect_leq (zclock_mono () - before, 5000);
    s_expect_all_stored (20000);
    cr_expect_not (s_log_has ("records_not_stored"), "no batch given up");
    cr_expect_eq (test_worker_stop (s.ingest_pid, SIGTERM, 10000), 0, "a clean stop: 0");
    s.ingest_pid = 0;
}

Test (diskfull, sigterm_on_a_full_disk_exits_within_10_s_non_zero_and_loses_nothing)
{
    s_need_root ();
    s_fill_and_publish ();
    int64_t before = zclock_mono ();
    int status = test_worker_stop (s.ingest_pid, SIGTERM, 10000);
    s.ingest_pid = 0;
    cr_expect_leq (zclock_mono () - before, 10000, "stopped within 10 s");
    cr_expect_eq (status, 3, "non-zero: it held events it could not store");
    cr_expect (s_log_has ("msg=records_not_stored records="), "and says how many");
    //  They were never acknowledged: the producer resends them to the next run
    cr_assert_eq (unlink (s.filler), 0);
    s_start_ingest ();
    s_expect_all_stored (30000);
}

//  Run a worker on the data directory until it says line or ends; true
//  when it said it, still runs, and said it is degraded
static bool
s_worker_says (const char *program, const char *const *args, const char *line)
{
    char log_path [600];
    snprintf (log_path, sizeof log_path, "%s/%s.log", s.dir, program);
    const char *env [] = { "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    pid_t pid = test_worker_start (program, args, env, log_path);
    cr_assert_gt (pid, 0);
    char saved [600];
    snprintf (saved, sizeof saved, "%s", s.log_path);
    snprintf (s.log_path, sizeof s.log_path, "%s", log_path);
    bool said = s_wait_log (line, 5000, false) && waitpid (pid, NULL, WNOHANG) == 0
             && s_log_has ("msg=degraded reason=disk_full");
    snprintf (s.log_path, sizeof s.log_path, "%s", saved);
    test_worker_stop (pid, SIGTERM, 10000);
    return said;
}

Test (diskfull, workers_start_on_a_full_disk_and_say_they_are_degraded)
{
    s_need_root ();
    s_producer_new ();
    s_publish (1);
    cr_assert_eq (audit_producer_flush (s.producer, 10000), 0, "ingest is up");
    cr_assert_eq (test_worker_stop (s.ingest_pid, SIGTERM, 10000), 0);
    s.ingest_pid = 0;
    s_fill ();
    const char *ingest [] = { "--ingest-endpoint", s.ingest_endpoint, "--data-dir", s.data,
                              "--ack-endpoint", s.ack_endpoint, NULL };
    cr_expect (s_worker_says ("audit-ingest", ingest, "msg=listening"), "ingest starts");
    char query_endpoint [64];
    snprintf (query_endpoint, sizeof query_endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    const char *query [] = { "--query-endpoint", query_endpoint, "--data-dir", s.data, NULL };
    cr_expect (s_worker_says ("audit-query", query, "msg=listening"), "query starts");
}

Test (diskfull, a_janitor_pass_completes_on_a_full_disk)
{
    s_need_root ();
    s_producer_new ();
    s_publish (1);
    cr_assert_eq (audit_producer_flush (s.producer, 10000), 0, "ingest is up");
    s_fill ();
    char log_path [600];
    snprintf (log_path, sizeof log_path, "%s/janitor.log", s.dir);
    const char *args [] = { "--once", "--data-dir", s.data, NULL };
    pid_t pid = test_worker_start ("audit-janitor", args, NULL, log_path);
    cr_assert_gt (pid, 0);
    cr_expect_eq (test_worker_stop (pid, 0, 30000), 0, "the pass completes");
    cr_expect (s_file_has (log_path, "msg=reserve_released"), "in the reserve");
    char reserve [600];
    snprintf (reserve, sizeof reserve, "%s/.reserve", s.data);
    cr_expect_neq (access (reserve, F_OK), 0, "no room to make it again yet");
    cr_assert_eq (unlink (s.filler), 0);
    pid = test_worker_start ("audit-janitor", args, NULL, log_path);
    cr_expect_eq (test_worker_stop (pid, 0, 30000), 0);
    cr_expect_eq (access (reserve, F_OK), 0, "made again once space returned");
}

//  {v: 1, op, token?} to query; the reply's map under key (the reply
//  itself when key is NULL)
static const msgpack_object *
s_ask (zsock_t *req, const char *op, const char *token, msgpack_unpacked *reply)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, token? 3: 2);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", op);
    if (token)
        test_pack_kv_str (pack, "token", token);
    cr_assert_eq (test_request (zsock_resolve (req), pack, reply), 0, "%s answered", op);
    test_pack_destroy (&pack);
    const msgpack_object *ok = test_obj_get (&reply->data, "ok");
    cr_assert (ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean, "%s: ok", op);
    return &reply->data;
}

static bool
s_degraded_is (const msgpack_object *map, const char *reason_key, const char *reason)
{
    const msgpack_object *degraded = test_obj_get (map, "degraded");
    const msgpack_object *why = test_obj_get (map, reason_key);
    return degraded && degraded->type == MSGPACK_OBJECT_BOOLEAN
        && degraded->via.boolean == (reason != NULL) && why
        && (reason? test_obj_str_eq (why, reason): why->type == MSGPACK_OBJECT_NIL);
}

Test (diskfull, health_and_stats_show_the_degraded_state)
{
    s_need_root ();
    char endpoint [64], log_path [600];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (log_path, sizeof log_path, "%s/query.log", s.dir);
    const char *args [] = { "--query-endpoint", endpoint, "--data-dir", s.data, NULL };
    const char *env [] = { "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    pid_t query = test_worker_start ("audit-query", args, env, log_path);
    zsock_t *req = s_req (endpoint);
    zsock_set_rcvtimeo (req, 10000);
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_expect (s_degraded_is (s_ask (req, "health", NULL, &reply), "degraded_reason", NULL));
    s_fill_and_publish ();
    cr_expect (s_degraded_is (s_ask (req, "health", NULL, &reply), "degraded_reason",
                              "disk_full"), "health: ok, and degraded for the disk");
    const msgpack_object *stats = test_obj_get (s_ask (req, "stats", token, &reply), "stats");
    cr_expect (s_degraded_is (test_obj_get (stats, "disk"), "reason", "disk_full"));
    cr_assert_eq (unlink (s.filler), 0);
    s_expect_all_stored (20000);
    stats = test_obj_get (s_ask (req, "stats", token, &reply), "stats");
    cr_expect (s_degraded_is (test_obj_get (stats, "disk"), "reason", NULL));
    const msgpack_object *ingest = test_obj_get (stats, "ingest");
    cr_expect_geq (test_obj_get (ingest, "degraded")->via.u64, 1, "counted with the batch");
    cr_expect_geq (test_obj_get (ingest, "write_retried")->via.u64, 1);
    msgpack_unpacked_destroy (&reply);
    free (token);
    zsock_destroy (&req);
    test_worker_stop (query, SIGTERM, 10000);
}

//  With no reserve left to release a worker cannot open; it says why
Test (diskfull, without_a_reserve_a_worker_that_cannot_open_says_why)
{
    s_need_root ();
    s_producer_new ();
    s_publish (1);
    cr_assert_eq (audit_producer_flush (s.producer, 10000), 0, "ingest is up");
    cr_assert_eq (test_worker_stop (s.ingest_pid, SIGTERM, 10000), 0);
    s.ingest_pid = 0;
    char path [600];
    snprintf (path, sizeof path, "%s/.reserve", s.data);
    cr_assert_eq (unlink (path), 0, "ingest had made its reserve");
    s_fill ();
    const char *args [] = { "--ingest-endpoint", s.ingest_endpoint, "--data-dir", s.data,
                            "--ack-endpoint", s.ack_endpoint, NULL };
    pid_t pid = test_worker_start ("audit-ingest", args, NULL, s.log_path);
    cr_expect_eq (test_worker_stop (pid, 0, 10000), 1, "it cannot start");
    cr_expect (s_log_has ("msg=cannot_open reason=disk_full"), "and says why");
}
