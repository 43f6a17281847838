/*  Two audit-ingest workers on one PostgreSQL database (issue 15), each
    with its own producers, writing the same organisations at once: every
    organisation's log_index stays contiguous (0 .. n-1, each once), and
    its tree and signed checkpoints stay exact, as `auditctl verify --db`
    recomputes them from every stored leaf with the workers stopped. And
    of two janitors on it, one holds the maintainer lock, and one whose
    connection was made again mid-pass runs no batch without it.
    SQLite has one ingest worker per data directory: skipped there. */

#include <criterion/criterion.h>
#include <signal.h>

#include "audit_note.h"
#include "audit_store.h"
#include "audit_store_purge.h"
#include "audit_store_space.h"
#include "audit_time.h"
#include "test_keys.h"
#include "pg_schema.h"
#include "test_log_view.h"

#define S_ORGS          4
#define S_PUBLISHED     4000            //  over both workers
#define S_BURST         50              //  events to one worker before the other's turn

static test_service_t *s;
static pid_t s_second = -1;             //  the second ingest worker
static zsock_t *s_second_pub;
static char s_second_endpoint [64];

static void
s_setup (void)
{
    if (test_pg_on ())
        s = test_service_start ("writers", true);
}

static void
s_teardown (void)
{
    zsock_destroy (&s_second_pub);
    if (s_second > 0)
        test_worker_stop (s_second, SIGKILL, 5000);
    test_service_destroy (&s);
}

TestSuite (writers, .init = s_setup, .fini = s_teardown, .timeout = 180);

//  The second worker on the same data directory, so its database, with
//  endpoints of its own; a PUB connected to it, probed until it stores
static void
s_second_start (void)
{
    char ack [64], log [512];
    snprintf (s_second_endpoint, sizeof s_second_endpoint, "tcp://127.0.0.1:%d",
              test_free_port ());
    snprintf (ack, sizeof ack, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (log, sizeof log, "%s.second-ingest.log", s->dir);
    const char *args [] = { "--ingest-endpoint", s_second_endpoint, "--ack-endpoint", ack,
                            "--data-dir", s->dir, NULL };
    //  It signs checkpoints each second, while the first worker commits
    const char *env [] = { "AUDIT_JWT_SECRET=" TEST_SECRET, "AUDIT_CHECKPOINT_INTERVAL=1", NULL };
    s_second = test_worker_start ("audit-ingest", args, env, log);
    cr_assert_gt (s_second, 0);
    s_second_pub = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (s_second_pub, 0);
    test_keys_apply (s_second_pub, NULL);
    cr_assert_eq (zsock_connect (s_second_pub, "%s", s_second_endpoint), 0);
    //  Its own probes: the first worker's may still be on their way
    const char *sql = "SELECT count(*) FROM ops WHERE path = '/second-probe'";
    for (int attempt = 0; attempt < 200; attempt++) {
        test_pack_t *probe = test_pack_ops_probe ("/second-probe");
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, "ops");
        zmsg_addmem (msg, test_pack_data (probe), test_pack_size (probe));
        zmsg_send (&msg, s_second_pub);
        test_pack_destroy (&probe);
        if (test_service_wait_count (s, "ops.db", sql, 1, 50) >= 1)
            return;
    }
    cr_assert_fail ("the second ingest worker never stored a probe");
}

//  The actor says which worker it went to
static test_pack_t *
s_login (const char *org, int seq, bool second)
{
    char id [40], actor [32], when [AUDIT_TIME_TEXT_SIZE];
    test_uuid (id);
    snprintf (actor, sizeof actor, "%s-%d", second? "second": "first", seq % 17);
    //  Out of publish order: a late event's timestamp is not its log order
    audit_time_format (test_now_ms () - (seq % 7) * 60000, when);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", id);
    test_pack_kv_str (pack, "event_type", "user_login");
    test_pack_kv_str (pack, "timestamp", when);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", actor);
    return pack;
}

//  Bursts to one worker, then the other, over every organisation, for
//  long enough (about 3 s) that checkpoints are signed while both write
static void
s_publish_all (char org [S_ORGS][16], int *published)
{
    for (int seq = 0; seq < S_PUBLISHED; seq++) {
        if (seq % S_BURST == 0)
            zclock_sleep (40);
        int at = seq % S_ORGS;
        bool second = (seq / S_BURST) % 2 == 1;
        test_pack_t *pack = s_login (org [at], seq, second);
        if (!second)
            test_service_publish (s, "audit", pack);
        else {
            zmsg_t *msg = zmsg_new ();
            zmsg_addstr (msg, "audit");
            zmsg_addmem (msg, test_pack_data (pack), test_pack_size (pack));
            zmsg_send (&msg, s_second_pub);
        }
        test_pack_destroy (&pack);
        published [at]++;
    }
}

static void
s_log_key (char *key, size_t size)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "log_key", NULL, 0, NULL, NULL, &reply);
    const msgpack_object *text = test_obj_get (&reply.data, "key");
    cr_assert (text && text->type == MSGPACK_OBJECT_STR && text->via.str.size < size);
    memcpy (key, text->via.str.ptr, text->via.str.size);
    key [text->via.str.size] = 0;
    msgpack_unpacked_destroy (&reply);
}

//  The newest checkpoint of org, within a few seconds, is of its whole log
static void
s_expect_signed (const char *token, const char *org, uint64_t size)
{
    uint64_t signed_size = 0;
    for (int attempt = 0; attempt < 100 && signed_size != size; attempt++) {
        test_args_t args = { { "org_id" }, { org } };
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        test_call_ok (s, "checkpoint", token, &args, &reply);
        const msgpack_object *note = test_obj_get (&reply.data, "checkpoint");
        cr_assert (note && note->type == MSGPACK_OBJECT_STR);
        //  The note's second line is its size (C2SP tlog-checkpoint)
        const char *line = memchr (note->via.str.ptr, '\n', note->via.str.size);
        signed_size = line? strtoull (line + 1, NULL, 10): 0;
        msgpack_unpacked_destroy (&reply);
        if (signed_size != size)
            zclock_sleep (100);
    }
    cr_expect_eq (signed_size, size, "%s: a checkpoint of its %" PRIu64 " events", org, size);
}

Test (writers, two_ingest_workers_keep_each_log_contiguous_and_its_checkpoints_verifiable)
{
    if (!test_pg_on ())
        cr_skip_test ("the PostgreSQL store only: a SQLite data directory has one ingest worker");
    s_second_start ();
    char org [S_ORGS][16];
    int published [S_ORGS] = { 0 };
    for (int at = 0; at < S_ORGS; at++)
        snprintf (org [at], sizeof org [at], "org-w%d", at);
    s_publish_all (org, published);
    int64_t stored = test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                              S_PUBLISHED, 30000);
    cr_assert_eq (stored, S_PUBLISHED, "every event stored once, by one worker or the other:"
                  " %" PRId64 " of %d, %" PRId64 " by the second", stored, S_PUBLISHED,
                  test_service_count (s, "audit.db",
                                      "SELECT count(*) FROM event WHERE actor LIKE 'second-%'"));
    for (int at = 0; at < S_ORGS; at++) {
        char *token = test_token (TEST_SECRET, "org_admin", org [at], NULL, 600);
        test_log_t log = { 0 };
        test_log_walk (s, &log, token, org [at]);
        test_log_expect_contiguous (&log, (size_t) published [at], org [at]);
        test_log_clear (&log);
        s_expect_signed (token, org [at], (uint64_t) published [at]);
        free (token);
    }
    //  Checkpoints of every organisation, signed while both workers wrote,
    //  and the trees they sign, recomputed from the leaves
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    s_log_key (key, sizeof key);
    cr_assert_eq (test_worker_stop (s_second, SIGTERM, 10000), 0, "the second worker stops cleanly");
    s_second = -1;
    test_service_stop (s);
    char out [512];
    snprintf (out, sizeof out, "%s.verify.out", s->dir);
    const char *args [] = { "verify", "--db", test_store_location (s->dir), "--key", key, NULL };
    pid_t verify = test_worker_start ("auditctl", args, NULL, out);
    cr_assert_gt (verify, 0);
    cr_expect_eq (test_worker_stop (verify, 0, 60000), 0, "verify --db: see %s", out);
}

//  Whether store holds the maintainer lock, asked for until it is as want
//  or two seconds passed (a session the server ends lets go a little later)
static bool
s_lock_becomes (audit_store_t *store, bool want)
{
    bool held = !want;
    for (int attempt = 0; attempt < 40 && held != want; attempt++) {
        if (attempt > 0)
            zclock_sleep (50);
        cr_assert_eq (audit_store_maintainer_lock (store, &held), 0);
    }
    return held;
}

//  A janitor whose connection was made again mid-pass holds no lock any
//  more (a session's advisory lock goes with it), and the standby may
//  hold it by then: the first's next batch is refused, until its next
//  pass asks for the lock again
Test (writers, a_janitor_whose_connection_was_made_again_stops_its_pass)
{
    if (!test_pg_on ())
        cr_skip_test ("the PostgreSQL store only: SQLite's maintainer lock is the files' own");
    const char *url = test_store_location (s->dir);
    audit_store_t *first = audit_store_new (url, AUDIT_STORE_MAINTAINER);
    audit_store_t *standby = audit_store_new (url, AUDIT_STORE_MAINTAINER);
    cr_assert (first && standby);
    cr_assert (s_lock_becomes (first, true));
    cr_expect_not (s_lock_becomes (standby, true), "one janitor at a time");
    cr_assert_eq (audit_store_space_begin (first, AUDIT_DB_AUDIT), 0);
    cr_assert_eq (audit_store_space_end (first, AUDIT_DB_AUDIT, 0), 0);
    //  The first's session ends, as when its link breaks
    char sql [256];
    //  pg_locks is the cluster's: this database's lock only, not another
    //  test's janitor
    snprintf (sql, sizeof sql, "SELECT pg_terminate_backend (pid) FROM pg_catalog.pg_locks"
              " WHERE locktype = 'advisory' AND classid = 0 AND objid = %d AND objsubid = 1"
              " AND granted AND database = (SELECT oid FROM pg_catalog.pg_database"
              " WHERE datname = current_database ())", PG_SCHEMA_LOCK_JANITOR);
    cr_assert_eq (test_pg_exec (s->dir, sql), 1, "the first's session held the lock");
    cr_expect (s_lock_becomes (standby, true), "the standby takes over");
    cr_expect_eq (audit_store_space_begin (first, AUDIT_DB_AUDIT), -1,
                  "a batch on the connection made again is refused");
    cr_expect_eq (audit_store_purge_last_pass (first, audit_time_now_ms ()), -1,
                  "and so is the pass's end, where months are dropped");
    cr_expect_not (s_lock_becomes (first, true), "the next pass finds the standby's lock");
    audit_store_destroy (&standby);
    cr_expect (s_lock_becomes (first, true), "and takes it once the standby is gone");
    cr_expect_eq (audit_store_space_begin (first, AUDIT_DB_AUDIT), 0);
    cr_expect_eq (audit_store_space_end (first, AUDIT_DB_AUDIT, 0), 0);
    audit_store_destroy (&first);
}
