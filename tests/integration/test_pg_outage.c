/*  =========================================================================
    test_pg_outage - the service survives its PostgreSQL server going away
    (issue 15: one connection per worker thread, reconnection with backoff).

    The workers run on a private cluster of this test (scripts/pg-cluster
    in a fresh directory under /tmp), never on AUDIT_TEST_DATABASE_URL's,
    which tests running in parallel share: this test stops its server.
    Producers with acknowledgements (libaudit-producer, a durable outbox
    each) publish a steady stream; mid-stream the server is stopped for
    about 3 seconds (pg_ctl stop -m fast, which ends every session) and
    started again. Then: neither worker exited, the ingest worker said it
    lost the connection and got it back, every event is stored exactly
    once and acknowledged, the organisation's log_index is contiguous, the
    query worker lists again, and a janitor --once succeeds.

    PostgreSQL only: skipped unless AUDIT_TEST_DATABASE_URL is set.
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit_producer.h"
#include "test_feed.h"
#include "test_keys.h"
#include "test_log_view.h"

#define S_PRODUCERS     2
#define S_EVENTS        6000            //  per producer
#define S_RATE          800             //  events/s per producer: 7.5 s of traffic
#define S_BEFORE_MS     2000            //  traffic before the server stops
#define S_DOWN_MS       3000            //  how long it stays down
#define S_TAG           0xb1000000

static test_service_t *s;
static char s_top [64];                 //  the private cluster's parent, mkdtemp'd
static char s_cluster [80];             //  its directory, s_top/c
static char s_cluster_log [96];         //  what pg-cluster said

//  Run scripts/pg-cluster command on the private cluster; its exit status
static int
s_pg_cluster (const char *command)
{
    char line [512];
    snprintf (line, sizeof line, "'%s/scripts/pg-cluster' %s '%s' >>'%s' 2>&1",
              AUDIT_SOURCE_DIR, command, s_cluster, s_cluster_log);
    int status = system (line);
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

//  The private cluster's base URL (pg-cluster url), into url
static void
s_cluster_url (char *url, size_t size)
{
    char line [512];
    snprintf (line, sizeof line, "'%s/scripts/pg-cluster' url '%s'", AUDIT_SOURCE_DIR,
              s_cluster);
    FILE *pipe = popen (line, "r");
    cr_assert_not_null (pipe);
    bool read = fgets (url, (int) size, pipe) != NULL;
    pclose (pipe);
    cr_assert (read, "pg-cluster url %s", s_cluster);
    url [strcspn (url, "\n")] = 0;
}

static void
s_setup (void)
{
    if (!test_pg_on ())
        return;
    //  Under /tmp directly, open to the cluster's owner (audit-pg, as root)
    snprintf (s_top, sizeof s_top, "/tmp/audit-outage-XXXXXX");
    cr_assert_not_null (mkdtemp (s_top));
    cr_assert_eq (chmod (s_top, 0755), 0);
    snprintf (s_cluster, sizeof s_cluster, "%s/c", s_top);
    snprintf (s_cluster_log, sizeof s_cluster_log, "%s/pg-cluster.log", s_top);
    cr_assert_eq (s_pg_cluster ("start"), 0, "a private cluster: see %s", s_cluster_log);
    //  Every database test_pg makes from here on is the private cluster's:
    //  the workers' (AUDIT_DATABASE_URL), the counts', the janitor's
    char url [256];
    s_cluster_url (url, sizeof url);
    setenv ("AUDIT_TEST_DATABASE_URL", url, 1);
    s = test_service_start ("pg-outage", true);
}

static void
s_teardown (void)
{
    //  The service's database goes with it, while the server still runs
    test_service_destroy (&s);
    if (*s_cluster) {
        s_pg_cluster ("stop");
        char line [160];
        snprintf (line, sizeof line, "rm -rf '%s'", s_top);
        if (system (line) != 0)
            fprintf (stderr, "could not remove %s\n", s_top);
    }
}

TestSuite (pg_outage, .init = s_setup, .fini = s_teardown, .timeout = 240);

//  A count on the store, asked again while test_pg's own connection finds
//  out that the server it had went away (-1 once, then it reconnects)
static int64_t
s_rows (const char *sql)
{
    int64_t value = -1;
    for (int attempt = 0; attempt < 100 && value < 0; attempt++)
        if ((value = test_service_count (s, "audit.db", sql)) < 0)
            zclock_sleep (50);
    return value;
}

//  Rows of feed tag: all of them, and distinct event ids
static void
s_feed_rows (uint32_t tag, int64_t *rows, int64_t *distinct)
{
    char like [32], sql [256];
    test_feed_like (tag, like, sizeof like);
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE hex (uuid) LIKE '%s'", like);
    *rows = s_rows (sql);
    snprintf (sql, sizeof sql, "SELECT count(DISTINCT uuid) FROM event WHERE hex (uuid) LIKE '%s'",
              like);
    *distinct = s_rows (sql);
}

//  True while the worker pid has not ended (reaped here if it has)
static bool
s_alive (pid_t pid, int *status)
{
    return pid > 0 && waitpid (pid, status, WNOHANG) == 0;
}

//  Lines of the file at path that hold text
static int
s_log_count (const char *path, const char *text)
{
    int count = 0;
    FILE *file = fopen (path, "r");
    char line [4096];
    while (file && fgets (line, sizeof line, file))
        count += strstr (line, text) != NULL;
    if (file)
        fclose (file);
    return count;
}

//  --------------------------------------------------------------------------
//  Producers in threads of the test, each with its outbox, publishing the
//  feed at a steady rate

typedef struct {
    audit_producer_t *producer;
    char producer_id [32];
    uint32_t tag;
    int64_t base_ms;
    uint64_t refused;
    pthread_t thread;
} s_feeder_t;

static void *
s_feed (void *arg)
{
    s_feeder_t *self = (s_feeder_t *) arg;
    int64_t started = zclock_mono ();
    for (uint64_t index = 1; index <= S_EVENTS; index++) {
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        test_feed_event (&body, self->tag, index, self->base_ms);
        audit_producer_receipt_t receipt;
        if (audit_producer_publish (self->producer, "audit", body.data, body.size, &receipt)
        ||  receipt.seq != index)
            self->refused++;
        msgpack_sbuffer_destroy (&body);
        if (index % 20 == 0)
            test_feed_pace (started, index, S_RATE);
    }
    return NULL;
}

static void
s_feeders_start (s_feeder_t *feeders)
{
    for (int index = 0; index < S_PRODUCERS; index++) {
        s_feeder_t *self = &feeders [index];
        *self = (s_feeder_t) { .tag = S_TAG + (uint32_t) index,
                               .base_ms = test_now_ms () - 3600 * 1000 };
        snprintf (self->producer_id, sizeof self->producer_id, "outage-%d", index + 1);
        char outbox [512];
        snprintf (outbox, sizeof outbox, "%s/outbox-%s.db", s->dir, self->producer_id);
        audit_producer_options_t options;
        audit_producer_options_init (&options);
        options.curve_server_key = test_keys_server_key ();
        options.curve_client_cert = test_service_client_cert (s, self->producer_id);
        self->producer = audit_producer_new_with (s->ingest_endpoint, s->ack_endpoint,
                                                  self->producer_id, outbox, &options);
        cr_assert_not_null (self->producer);
        cr_assert_eq (pthread_create (&self->thread, NULL, s_feed, self), 0);
    }
}

//  Events published and acknowledged so far, over every producer
static uint64_t
s_published_now (s_feeder_t *feeders, uint64_t *acked)
{
    uint64_t published = 0;
    *acked = 0;
    for (int index = 0; index < S_PRODUCERS; index++) {
        audit_producer_stats_t stats;
        audit_producer_stats (feeders [index].producer, &stats);
        published += stats.published;
        *acked += stats.acked;
    }
    return published;
}

//  Join the threads, wait until every event is acknowledged, and check
//  that each producer's events are stored exactly once
static void
s_feeders_finish (s_feeder_t *feeders, uint64_t *resent)
{
    *resent = 0;
    for (int index = 0; index < S_PRODUCERS; index++)
        pthread_join (feeders [index].thread, NULL);
    for (int index = 0; index < S_PRODUCERS; index++) {
        s_feeder_t *self = &feeders [index];
        cr_expect_eq (self->refused, 0, "%s: nothing refused at the call", self->producer_id);
        int flushed = audit_producer_flush (self->producer, 60000);
        audit_producer_stats_t stats;
        audit_producer_stats (self->producer, &stats);
        cr_expect_eq (flushed, 0, "%s acknowledged up to %" PRIu64 " of %d",
                      self->producer_id, stats.acked_seq, S_EVENTS);
        cr_expect_eq (stats.acked, S_EVENTS, "%s: every event acknowledged", self->producer_id);
        cr_expect_eq (stats.rejected, 0, "%s: none rejected", self->producer_id);
        *resent += stats.resent;
        audit_producer_destroy (&self->producer);
        int64_t rows, distinct;
        s_feed_rows (self->tag, &rows, &distinct);
        cr_expect_eq (rows, S_EVENTS, "%s: %" PRId64 " rows of %d (none lost)",
                      self->producer_id, rows, S_EVENTS);
        cr_expect_eq (distinct, S_EVENTS, "%s: %" PRId64 " distinct of %d (none twice)",
                      self->producer_id, distinct, S_EVENTS);
    }
}

//  list answers ok within timeout_ms (the query worker's connection broke
//  with the server: its first statement after the outage finds that out,
//  and a later one, past the backoff, reconnects); the failed attempts
static int
s_list_until_ok (const char *token, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    int failed = 0;
    while (true) {
        test_pack_t *request = test_pack_new ();
        test_pack_map (request, 5);
        test_pack_kv_uint (request, "v", 1);
        test_pack_kv_str (request, "op", "list");
        test_pack_kv_str (request, "token", token);
        test_pack_kv_str (request, "org_id", "org-feed");
        test_pack_kv_uint (request, "limit", 10);
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        int rc = test_request (zsock_resolve (s->req), request, &reply);
        test_pack_destroy (&request);
        bool ok = rc == 0 && !*test_reply_code (&reply)
               && test_obj_get (&reply.data, "events");
        if (!ok)
            fprintf (stderr, "pg_outage: list failed (%s), again\n",
                     rc == 0? test_reply_code (&reply): "no reply");
        msgpack_unpacked_destroy (&reply);
        if (ok)
            return failed;
        failed++;
        if (rc != 0)
            test_service_reconnect (s);     //  a REQ that timed out is stuck
        cr_assert_lt (zclock_mono (), deadline, "the query worker lists again after the outage");
        zclock_sleep (200);
    }
}

Test (pg_outage, the_service_survives_the_database_server_going_away_for_three_seconds)
{
    if (!test_pg_on ())
        cr_skip_test ("the PostgreSQL store only (AUDIT_TEST_DATABASE_URL)");
    char ingest_log [512], query_log [512];
    snprintf (ingest_log, sizeof ingest_log, "%s.audit-ingest.log", s->dir);
    snprintf (query_log, sizeof query_log, "%s.audit-query.log", s->dir);
    char *token = test_token (TEST_SECRET, "org_admin", "org-feed", NULL, 3600);
    int64_t started = zclock_mono ();
    s_feeder_t feeders [S_PRODUCERS];
    s_feeders_start (feeders);
    zclock_sleep (S_BEFORE_MS);             //  the schedule: traffic first

    uint64_t acked_at_stop, acked_down, acked_late;
    uint64_t before = s_published_now (feeders, &acked_at_stop);
    cr_assert_gt (acked_at_stop, 0, "events were acknowledged before the outage");
    cr_assert_eq (s_pg_cluster ("stop-server"), 0, "the server stops: see %s", s_cluster_log);
    int64_t down_since = zclock_mono ();
    //  An ack of a commit made just before the stop may still be on its way
    zclock_sleep (500);
    s_published_now (feeders, &acked_down);
    zclock_sleep (S_DOWN_MS - 500);
    uint64_t during = s_published_now (feeders, &acked_late) - before;
    cr_expect_eq (acked_late, acked_down, "nothing is acknowledged while the server is down");
    int status = 0;
    cr_assert (s_alive (s->ingest_pid, &status), "audit-ingest exited during the outage"
               " (status %d): see %s", status, ingest_log);
    cr_assert (s_alive (s->query_pid, &status), "audit-query exited during the outage"
               " (status %d): see %s", status, query_log);
    cr_assert_eq (s_pg_cluster ("start"), 0, "the server starts again: see %s", s_cluster_log);
    double down_s = (double) (zclock_mono () - down_since) / 1000;
    cr_expect_geq (during, (uint64_t) S_PRODUCERS * S_RATE * S_DOWN_MS / 1000 / 2,
                   "the producers went on publishing: %" PRIu64, during);

    //  The query worker first: its REQ is idle, the producers are not
    int failed_lists = s_list_until_ok (token, 20000);
    uint64_t resent;
    s_feeders_finish (feeders, &resent);

    cr_expect (s_alive (s->ingest_pid, &status), "audit-ingest exited (status %d): see %s",
               status, ingest_log);
    cr_expect (s_alive (s->query_pid, &status), "audit-query exited (status %d): see %s",
               status, query_log);
    //  pg_conn's lines: the loss said once, the reconnection after it
    int lost = s_log_count (ingest_log, "msg=\"connection lost\" engine=postgresql");
    int reconnected = s_log_count (ingest_log, "msg=reconnected engine=postgresql");
    cr_expect_geq (lost, 1, "audit-ingest logged the lost connection: see %s", ingest_log);
    cr_expect_geq (reconnected, 1, "audit-ingest logged the reconnection: see %s", ingest_log);
    cr_expect_geq (s_log_count (ingest_log, "msg=resumed"), 1,
                   "audit-ingest resumed its intake: see %s", ingest_log);
    cr_expect_geq (s_log_count (query_log, "msg=reconnected engine=postgresql"), 1,
                   "audit-query logged its reconnection: see %s", query_log);

    //  The organisation's log, as the query worker lists it: 0 .. n-1, each once
    test_log_t log = { 0 };
    test_log_walk (s, &log, token, "org-feed");
    test_log_expect_contiguous (&log, (size_t) S_PRODUCERS * S_EVENTS, "org-feed");
    test_log_clear (&log);
    int64_t total = s_rows ("SELECT count(*) FROM event");
    cr_expect_eq (total, (int64_t) S_PRODUCERS * S_EVENTS, "no other event stored: %" PRId64,
                  total);

    int janitor = test_service_janitor_once (s, NULL, 60000);
    char janitor_log [512];
    snprintf (janitor_log, sizeof janitor_log, "%s.audit-janitor.log", s->dir);
    cr_expect_eq (janitor, 0, "audit-janitor --once after the outage: see %s", janitor_log);
    cr_expect (s_alive (s->ingest_pid, &status) && s_alive (s->query_pid, &status),
               "both workers still run at the end");
    fprintf (stderr, "pg_outage: producers=%d events_each=%d rate_each=%d down_s=%.1f"
             " acked_at_stop=%" PRIu64 " published_while_down=%" PRIu64 " resent=%" PRIu64
             " lost_lines=%d reconnected_lines=%d failed_lists=%d seconds=%.1f\n",
             S_PRODUCERS, S_EVENTS, S_RATE, down_s, acked_at_stop, during, resent, lost,
             reconnected, failed_lists, (double) (zclock_mono () - started) / 1000);
    free (token);
}
