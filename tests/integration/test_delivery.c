/*  =========================================================================
    test_delivery - libaudit-producer against the real workers: audit-ingest
    SIGKILLed at random moments and stopped for 5 seconds while producers
    publish, and a producer process SIGKILLed mid-stream and restarted on
    its outbox. Every event is stored exactly once. (The rejections are in
    test_rejections.c.)

    The sizes come from the environment, so that tests/soak/acks-soak.sh
    runs these very tests at full size (the defaults are CI's):
      AUDIT_SOAK_EVENTS           events per producer, ingest killed (20000)
      AUDIT_SOAK_KILLS            SIGKILLs of audit-ingest (3)
      AUDIT_SOAK_RESTART_DELAY_MS how long it stays down after each (0)
      AUDIT_SOAK_RATE             events/s per producer meanwhile (3000)
      AUDIT_SOAK_OUTAGE_EVENTS    events per producer, 5-s outage (20000)
      AUDIT_SOAK_PRODUCER_EVENTS  events of the killed producer (20000)
      AUDIT_SOAK_PRODUCER_KILLS   its SIGKILLs (2)
      AUDIT_SOAK_SEED             the seed of the random moments (the time)
    Each test says one "soak: ..." line on stderr with its figures.
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include "audit_producer.h"
#include "test_feed.h"
#include "test_keys.h"
#include "test_service.h"

static test_service_t *s;
static char *s_token;

static void
s_setup (void)
{
    s = test_service_start ("delivery", true);
    s_token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 3600);
}

static void
s_teardown (void)
{
    free (s_token);
    s_token = NULL;
    test_service_destroy (&s);
}

//  Long enough for the full-size runs (Criterion's --timeout only lowers
//  it); in CI, ctest's limit on the whole suite and every wait's own
//  timeout bound it
TestSuite (delivery, .init = s_setup, .fini = s_teardown, .timeout = 1200);

static uint64_t
s_env (const char *name, uint64_t fallback)
{
    const char *value = getenv (name);
    return value && *value? strtoull (value, NULL, 10): fallback;
}

static int64_t
s_rows (const char *sql)
{
    return test_service_count (s, "audit.db", sql);
}

//  True when audit.db passes PRAGMA integrity_check as it lies on disk
static bool
s_integrity_ok (const char *db)
{
    return test_service_count (s, db,
        "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1;
}

//  Rows of feed tag: all of them, and distinct event ids
static void
s_feed_rows (uint32_t tag, int64_t *rows, int64_t *distinct)
{
    char like [32], sql [256];
    test_feed_like (tag, like, sizeof like);
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE hex (uuid) LIKE '%s'", like);
    *rows = s_rows (sql);
    snprintf (sql, sizeof sql, "SELECT count(DISTINCT uuid) FROM event WHERE hex (uuid) LIKE '%s'", like);
    *distinct = s_rows (sql);
}

//  --------------------------------------------------------------------------
//  stats, through a query REQ

static uint64_t
s_uint (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = map? test_obj_get (map, key): NULL;
    cr_assert (value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER, "stats: %s", key);
    return value->via.u64;
}

//  The sum of a map of counters (rejected: {reason: n})
static uint64_t
s_sum (const msgpack_object *map)
{
    cr_assert (map && map->type == MSGPACK_OBJECT_MAP);
    uint64_t sum = 0;
    for (uint32_t index = 0; index < map->via.map.size; index++)
        sum += map->via.map.ptr [index].val.via.u64;
    return sum;
}

//  stats, read into reply (initialised by the caller)
static const msgpack_object *
s_stats (msgpack_unpacked *reply)
{
    test_service_call (s, "stats", s_token, 0, NULL, NULL, reply);
    const msgpack_object *stats = test_obj_get (&reply->data, "stats");
    cr_assert_not_null (stats, "a stats reply");
    return stats;
}

//  --------------------------------------------------------------------------
//  Producers in threads of the test, each with its outbox, publishing the
//  feed at a rate

#define s_PRODUCERS 3

typedef struct {
    audit_producer_t *producer;
    char producer_id [32];
    uint32_t tag;
    uint64_t count, rate;
    int64_t base_ms;
    uint64_t refused;
    audit_producer_stats_t stats;       //  after the flush
    pthread_t thread;
} s_feeder_t;

static void *
s_feed (void *arg)
{
    s_feeder_t *self = (s_feeder_t *) arg;
    int64_t started = zclock_mono ();
    for (uint64_t index = 1; index <= self->count; index++) {
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        test_feed_event (&body, self->tag, index, self->base_ms);
        audit_producer_receipt_t receipt;
        if (audit_producer_publish (self->producer, "audit", body.data, body.size, &receipt)
        ||  receipt.seq != index)
            self->refused++;
        msgpack_sbuffer_destroy (&body);
        if (index % 50 == 0)
            test_feed_pace (started, index, self->rate);
    }
    return NULL;
}

static void
s_feeders_start (s_feeder_t *feeders, const char *name, uint32_t tag, uint64_t count,
                 uint64_t rate)
{
    for (int index = 0; index < s_PRODUCERS; index++) {
        s_feeder_t *self = &feeders [index];
        *self = (s_feeder_t) { .tag = tag + (uint32_t) index, .count = count, .rate = rate,
                               .base_ms = test_now_ms () - 3600 * 1000 };
        snprintf (self->producer_id, sizeof self->producer_id, "%s-%d", name, index + 1);
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

//  Join the threads and wait until every producer is acknowledged
static void
s_feeders_finish (s_feeder_t *feeders, int timeout_ms)
{
    for (int index = 0; index < s_PRODUCERS; index++)
        pthread_join (feeders [index].thread, NULL);
    for (int index = 0; index < s_PRODUCERS; index++) {
        s_feeder_t *self = &feeders [index];
        cr_expect_eq (self->refused, 0, "%s: nothing refused at the call", self->producer_id);
        int flushed = audit_producer_flush (self->producer, timeout_ms);
        audit_producer_stats (self->producer, &self->stats);
        cr_assert_eq (flushed, 0, "%s acknowledged up to %" PRIu64 " of %" PRIu64,
                      self->producer_id, self->stats.acked_seq, self->count);
        audit_producer_destroy (&self->producer);
    }
}

static uint64_t
s_published_now (s_feeder_t *feeders, uint64_t *acked)
{
    uint64_t published = 0;
    *acked = 0;
    for (int index = 0; index < s_PRODUCERS; index++) {
        audit_producer_stats_t stats;
        audit_producer_stats (feeders [index].producer, &stats);
        published += stats.published;
        *acked += stats.acked;
    }
    return published;
}

//  The figures of a run, for its "soak:" line
typedef struct {
    uint64_t published, resent, gaps, duplicates;
    int64_t stored, distinct;
} s_tally_t;

//  One feeder's events stored exactly once, and its state in stats as
//  published: acknowledged to its last seq in one run, no rejection, no
//  more gaps than the library resent
static void
s_check_feeder (const s_feeder_t *self, const msgpack_object *stats, s_tally_t *tally)
{
    int64_t rows, distinct;
    s_feed_rows (self->tag, &rows, &distinct);
    cr_expect_eq (rows, (int64_t) self->count, "%s: %" PRId64 " rows of %" PRIu64,
                  self->producer_id, rows, self->count);
    cr_expect_eq (distinct, rows, "%s: nothing stored twice", self->producer_id);
    cr_expect_eq (self->stats.acked, self->count);
    cr_expect_eq (self->stats.rejected, 0);
    cr_expect_eq (self->stats.held, 0);
    const msgpack_object *producer = test_obj_get (test_obj_get (stats, "producers"),
                                                   self->producer_id);
    cr_assert_not_null (producer, "stats.producers.%s", self->producer_id);
    cr_expect_eq (s_uint (producer, "acked_seq"), self->count, "%s", self->producer_id);
    cr_expect_eq (s_uint (producer, "runs"), 0);
    cr_expect_eq (s_sum (test_obj_get (producer, "rejected")), 0);
    uint64_t gaps = s_uint (producer, "gaps");
    cr_expect_leq (gaps, self->stats.resent, "%s: a seq missed was resent", self->producer_id);
    const msgpack_object *ingest_gaps = test_obj_get (test_obj_get (test_obj_get (
        stats, "ingest"), "gaps"), self->producer_id);
    cr_expect_eq (ingest_gaps? ingest_gaps->via.u64: 0, gaps, "ingest.gaps = producers.gaps");
    tally->published += self->stats.published;
    tally->resent += self->stats.resent;
    tally->gaps += gaps;
    tally->stored += rows;
    tally->distinct += distinct;
}

//  The ingest counters consistent with each other and with the rows
static void
s_check_counters (const msgpack_object *stats, s_tally_t *tally)
{
    const msgpack_object *ingest = test_obj_get (stats, "ingest");
    tally->duplicates = s_uint (ingest, "duplicate");
    cr_expect_leq (tally->duplicates, tally->resent, "every duplicate is a resent event");
    uint64_t received = s_uint (ingest, "received"), stored = s_uint (ingest, "stored"),
             rejected = s_sum (test_obj_get (ingest, "rejected"));
    //  ingest.rejected counts the duplicates too, under its reason
    cr_expect_eq (s_uint (test_obj_get (ingest, "rejected"), "duplicate"), tally->duplicates);
    cr_expect_eq (received, stored + rejected, "received %" PRIu64 " = stored %" PRIu64
                  " + rejected %" PRIu64, received, stored, rejected);
    //  ingest.stored counts the ops probes too, whose ops.db commits come
    //  first (one may be on disk without its count after a kill): between
    //  the events and the events with every probe, never fewer than the events
    int64_t events = s_rows ("SELECT count(*) FROM event");
    int64_t probes = test_service_count (s, "ops.db", "SELECT count(*) FROM ops");
    cr_expect_eq ((int64_t) s_uint (test_obj_get (stats, "store"), "audit_events"), events);
    cr_expect (events <= (int64_t) stored && (int64_t) stored <= events + probes,
               "ingest.stored %" PRIu64 " counts the %" PRId64 " events (and up to %" PRId64
               " probes)", stored, events, probes);
}

//  Every event of every feeder stored exactly once, and stats agree
static s_tally_t
s_check (s_feeder_t *feeders)
{
    s_tally_t tally = { 0 };
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    const msgpack_object *stats = s_stats (&reply);
    for (int index = 0; index < s_PRODUCERS; index++)
        s_check_feeder (&feeders [index], stats, &tally);
    s_check_counters (stats, &tally);
    msgpack_unpacked_destroy (&reply);
    return tally;
}

//  --------------------------------------------------------------------------

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return (a > b) - (a < b);
}

//  SIGKILL audit-ingest at kills random moments within span_ms from now,
//  check audit.db while it is down, and restart it delay_ms later; the
//  count of checks that passed, and when the last kill came
static int
s_kill_at_random (int kills, int64_t span_ms, unsigned seed, int delay_ms, int64_t *last_ms)
{
    int64_t moments [64];
    cr_assert_leq (kills, 64);
    for (int kill = 0; kill < kills; kill++)
        moments [kill] = span_ms / 20 + (int64_t) (rand_r (&seed) % (unsigned) (span_ms * 9 / 10));
    qsort (moments, (size_t) kills, sizeof *moments, s_compare);
    int64_t started = zclock_mono ();
    int ok = 0;
    for (int kill = 0; kill < kills; kill++) {
        int64_t now = zclock_mono ();
        if (started + moments [kill] > now)
            zclock_sleep ((int) (started + moments [kill] - now));     //  the schedule
        cr_assert_eq (test_service_kill_ingest (s, SIGKILL), 128 + SIGKILL);
        bool intact = s_integrity_ok ("audit.db");
        cr_expect (intact, "integrity_check after kill %d", kill + 1);
        ok += intact;
        *last_ms = zclock_mono () - started;
        zclock_sleep (delay_ms);        //  an outage of that length
        test_service_restart_ingest (s);
    }
    return ok;
}

//  3 producers x AUDIT_SOAK_EVENTS while audit-ingest is SIGKILLed
//  AUDIT_SOAK_KILLS times and restarted
Test (delivery, ingest_killed_at_random_moments_loses_nothing_and_stores_nothing_twice)
{
    uint64_t count = s_env ("AUDIT_SOAK_EVENTS", 20000), rate = s_env ("AUDIT_SOAK_RATE", 3000);
    int kills = (int) s_env ("AUDIT_SOAK_KILLS", 3);
    unsigned seed = (unsigned) s_env ("AUDIT_SOAK_SEED", (uint64_t) time (NULL));
    int delay_ms = (int) s_env ("AUDIT_SOAK_RESTART_DELAY_MS", 0);
    int64_t started = zclock_mono (), last_kill_ms = 0;
    s_feeder_t feeders [s_PRODUCERS];
    s_feeders_start (feeders, "killed", 0xa1000000, count, rate);
    int intact = s_kill_at_random (kills, (int64_t) (count * 1000 / rate), seed, delay_ms,
                                   &last_kill_ms);
    s_feeders_finish (feeders, 60000 + (int) (count / 2));
    bool final_ok = s_integrity_ok ("audit.db");
    cr_expect (final_ok);
    s_tally_t tally = s_check (feeders);
    fprintf (stderr, "soak: test=ingest_killed producers=%d events_each=%" PRIu64
             " rate_each=%" PRIu64 " published=%" PRIu64 " stored=%" PRId64 " distinct=%" PRId64
             " duplicates=%" PRIu64 " resent=%" PRIu64 " gaps=%" PRIu64 " kills=%d"
             " restart_delay_ms=%d last_kill_s=%.1f publishing_s=%.1f integrity_ok=%d/%d"
             " seed=%u seconds=%.1f\n", s_PRODUCERS, count, rate, tally.published,
             tally.stored, tally.distinct, tally.duplicates, tally.resent, tally.gaps, kills,
             delay_ms, (double) last_kill_ms / 1000, (double) count / (double) rate,
             intact + final_ok, kills + 1, seed, (double) (zclock_mono () - started) / 1000);
}

//  audit-ingest stopped (SIGTERM: not running) for 5 seconds while 3
//  producers keep publishing at 2,000 events/s each
Test (delivery, ingest_down_for_five_seconds_loses_nothing)
{
    const uint64_t rate = 2000;
    //  10 s of traffic: 2 s before the stop, up to 2 s of the stop's drain
    //  (producers still sending keep the socket busy to its end), 5 s down
    uint64_t count = s_env ("AUDIT_SOAK_OUTAGE_EVENTS", 20000);
    int64_t started = zclock_mono ();
    s_feeder_t feeders [s_PRODUCERS];
    s_feeders_start (feeders, "outage", 0xa2000000, count, rate);
    zclock_sleep (2000);                //  the schedule: 2 s of traffic first
    cr_assert_eq (test_service_kill_ingest (s, SIGTERM), 0, "a clean stop");
    uint64_t acked_before, acked_after, acked_at_stop;
    uint64_t before = s_published_now (feeders, &acked_at_stop);
    int64_t down_since = zclock_mono ();
    //  the outage itself; an ack the worker sent as it stopped may still be
    //  on its way at first
    zclock_sleep (500);
    s_published_now (feeders, &acked_before);
    zclock_sleep (4500);
    uint64_t during = s_published_now (feeders, &acked_after) - before;
    cr_expect_eq (acked_after, acked_before, "nothing is acknowledged while ingest is down");
    test_service_restart_ingest (s);
    double down_s = (double) (zclock_mono () - down_since) / 1000;
    cr_expect_geq (during, s_PRODUCERS * rate * 5 * 3 / 4, "the producers went on: %" PRIu64,
                   during);
    s_feeders_finish (feeders, 60000);
    s_tally_t tally = s_check (feeders);
    fprintf (stderr, "soak: test=ingest_down producers=%d events_each=%" PRIu64
             " rate_each=%" PRIu64 " down_s=%.1f acked_at_stop=%" PRIu64
             " published_while_down=%" PRIu64
             " published=%" PRIu64 " stored=%" PRId64 " distinct=%" PRId64 " duplicates=%" PRIu64
             " resent=%" PRIu64 " gaps=%" PRIu64 " seconds=%.1f\n", s_PRODUCERS, count, rate,
             down_s, acked_at_stop, during, tally.published, tally.stored, tally.distinct, tally.duplicates,
             tally.resent, tally.gaps, (double) (zclock_mono () - started) / 1000);
}

//  --------------------------------------------------------------------------
//  A producer process, SIGKILLed mid-stream and restarted on its outbox

//  The size of file in bytes; 0 when there is none yet
static long
s_file_size (const char *file)
{
    struct stat info;
    return stat (file, &info) == 0 ? (long) info.st_size : 0;
}

static pid_t
s_publisher_start (const char *outbox, const char *log, uint64_t count, int64_t base_ms)
{
    char count_text [32], base_text [32];
    snprintf (count_text, sizeof count_text, "%" PRIu64, count);
    snprintf (base_text, sizeof base_text, "%" PRId64, base_ms);
    const char *args [] = { s->ingest_endpoint, s->ack_endpoint, "publisher-1", outbox,
                            "a3000000", count_text, "4000", base_text, NULL };
    //  CURVE mode: publisher-1's certificate, not the default producer's
    static char cert [800];
    const char *client_cert = test_service_client_cert (s, "publisher-1");
    snprintf (cert, sizeof cert, "AUDIT_CURVE_CLIENT_CERT=%s", client_cert ? client_cert : "");
    const char *env [] = { cert, NULL };
    pid_t pid = test_worker_start ("../tests/test_publisher", args, env, log);
    cr_assert_gt (pid, 0);
    return pid;
}

//  The figure key= of the last line of the log, from byte from on, that
//  starts with prefix: false when there is no such line, or it has no
//  such key. Each run of the publisher appends to the same log.
static bool
s_publisher_last (const char *log, long from, const char *prefix, const char *key,
                  uint64_t *value)
{
    FILE *file = fopen (log, "r");
    if (!file)
        return false;
    if (fseek (file, from, SEEK_SET) != 0) {
        fclose (file);
        return false;
    }
    char line [512], last [512] = "";
    while (fgets (line, sizeof line, file))
        if (strncmp (line, prefix, strlen (prefix)) == 0)
            snprintf (last, sizeof last, "%s", line);
    fclose (file);
    char pattern [64];
    snprintf (pattern, sizeof pattern, " %s=", key);
    const char *at = strstr (last, pattern);
    if (at)
        *value = strtoull (at + strlen (pattern), NULL, 10);
    return at != NULL;
}

//  The figure key= of the last "publisher: done" line of the log
static uint64_t
s_publisher_said (const char *log, const char *key)
{
    uint64_t value = 0;
    cr_assert (s_publisher_last (log, 0, "publisher: done ", key, &value),
               "the publisher said %s when done", key);
    return value;
}

//  Waits up to timeout_ms for the publisher to say it published seq want.
//  A kill is timed from the publisher's own progress, not the store's: a
//  store lagging under load (PostgreSQL in CI) once let the whole stream
//  be published before the count it waited for was stored.
static bool
s_publisher_reached (const char *log, long from, uint64_t want, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    uint64_t seq = 0;
    while (!s_publisher_last (log, from, "publisher: published ", "seq", &seq) || seq < want) {
        if (zclock_mono () >= deadline)
            return false;
        zclock_sleep (10);
    }
    return true;
}

Test (delivery, producer_killed_mid_stream_and_restarted_on_its_outbox)
{
    uint64_t count = s_env ("AUDIT_SOAK_PRODUCER_EVENTS", 20000);
    int kills = (int) s_env ("AUDIT_SOAK_PRODUCER_KILLS", 2);
    int64_t started = zclock_mono (), base_ms = test_now_ms () - 3600 * 1000;
    char outbox [512], log [512], like [32], sql [256];
    snprintf (outbox, sizeof outbox, "%s/outbox-publisher.db", s->dir);
    snprintf (log, sizeof log, "%s/publisher.log", s->dir);
    test_feed_like (0xa3000000, like, sizeof like);
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE hex (uuid) LIKE '%s'", like);
    int outbox_ok = 0;
    for (int kill = 0; kill < kills; kill++) {
        long from = s_file_size (log);  //  this run's lines come after
        pid_t pid = s_publisher_start (outbox, log, count, base_ms);
        //  Mid-stream: once the publisher has published its share of this
        //  stretch, and the service holds some of it
        uint64_t want = count * (uint64_t) (kill + 1) / (uint64_t) (kills + 1);
        cr_assert (s_publisher_reached (log, from, want, 30000),
                   "the publisher reached seq %" PRIu64, want);
        cr_assert_gt (test_service_wait_count (s, "audit.db", sql, 1, 30000), 0);
        cr_assert_eq (test_worker_stop (pid, SIGKILL, 5000), 128 + SIGKILL);
        outbox_ok += s_integrity_ok ("outbox-publisher.db");
    }
    cr_expect_eq (outbox_ok, kills, "the outbox is intact after each kill");
    pid_t pid = s_publisher_start (outbox, log, count, base_ms);
    cr_assert_eq (test_worker_stop (pid, 0, 100000), 0, "the last run acknowledged all");
    uint64_t resumed = s_publisher_said (log, "resumed_from");
    cr_expect_gt (resumed, 0, "the last run continued the killed one's seqs");
    cr_expect_lt (resumed, count, "the kills were mid-stream");
    int64_t rows, distinct;
    s_feed_rows (0xa3000000, &rows, &distinct);
    cr_expect_eq (rows, (int64_t) count, "nothing lost: %" PRId64 " of %" PRIu64, rows, count);
    cr_expect_eq (distinct, rows, "nothing stored twice");
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    const msgpack_object *stats = s_stats (&reply);
    const msgpack_object *producer = test_obj_get (test_obj_get (stats, "producers"),
                                                   "publisher-1");
    cr_expect_eq (s_uint (producer, "acked_seq"), count);
    cr_expect_eq (s_uint (producer, "runs"), 0, "one run across the restarts");
    uint64_t duplicates = s_uint (test_obj_get (stats, "ingest"), "duplicate");
    fprintf (stderr, "soak: test=producer_killed events=%" PRIu64 " kills=%d resumed_from=%"
             PRIu64 " stored=%" PRId64 " distinct=%" PRId64 " duplicates=%" PRIu64
             " outbox_integrity_ok=%d/%d seconds=%.1f\n", count, kills, resumed, rows, distinct,
             duplicates, outbox_ok, kills, (double) (zclock_mono () - started) / 1000);
    msgpack_unpacked_destroy (&reply);
}
