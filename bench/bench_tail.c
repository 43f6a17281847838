/*  =========================================================================
    bench-tail - `list` while a thousand tails wait, and how soon a waiting
    tail hears of a new event (issue 14)

    1. A fresh data directory; the real audit-ingest and audit-query on it
       (127.0.0.1). E events (default 20,000) over 10 organisations are
       published and stored.
    2. The ceiling, in the same run: Q (default 2,000) `list` newest 100
       of a random one of the 10, over one REQ socket kept open, each with
       its org_admin token, after 50 not counted: p50/p99/max.
    3. T tails (default 1,000), each on its own DEALER connection, 100 to
       an organisation, `wait_ms` 30,000 from the next index: once they
       are parked, the same Q `list` requests again.
    4. W rounds (default 20): one event published to one organisation;
       the bench watches that organisation's log size through a read-only
       store of its own (every millisecond) to see the commit, then times
       each of the organisation's tails from the commit to its answer with
       the event. Publication to commit is said beside it: the ingest
       worker's --ingest-flush-ms F (default 1, -f) and its fsync. Each
       answered tail asks again from its next_index.
    Targets: `list` p99 <= 2 ms with the tails parked; a waiting tail has
    the event within 100 ms.

    Usage: bench-tail [-t TAILS] [-q REQUESTS] [-e EVENTS] [-w ROUNDS] [-f FLUSH_MS] [-d DIR]
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <msgpack.h>
#include <sys/resource.h>
#include <unistd.h>

#include "audit_store_log.h"
#include "audit_time.h"
#include "audit_token.h"
#include "bench_client.h"
#include "bench_feed.h"
#include "bench_worker.h"

#define s_ORGS          10
#define s_WARMUP        50
#define s_WAIT_MS       30000
#define s_SECRET        "bench-tail-secret-0123456789abcdef0123456789abcdef"

typedef struct {
    long tails, requests, events, rounds, flush_ms;
    char dir [512];
} s_options_t;

typedef struct {
    s_options_t options;
    char ingest [64], ack [64], query [64];
    pid_t ingest_pid;
    bench_client_t *client;
    zsock_t *pub;
    char *tokens [s_ORGS];
    audit_store_t *reader;          //  sees the commits
    zsock_t **tails;
    uint64_t *next_index;
    uint64_t published;
    msgpack_sbuffer body;
    uint64_t rng;
} s_bench_t;

static void
s_usage (void)
{
    fprintf (stderr, "usage: bench-tail [-t TAILS] [-q REQUESTS] [-e EVENTS] [-w ROUNDS]"
                     " [-f FLUSH_MS] [-d DIR]\n");
    exit (2);
}

static void
s_options (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { 1000, 2000, 20000, 20, 1, "" };
    snprintf (options->dir, sizeof options->dir, "/tmp/bench-tail-%d", getpid ());
    int opt;
    while ((opt = getopt (argc, argv, "t:q:e:w:f:d:")) != -1) {
        if (opt == 'd')
            snprintf (options->dir, sizeof options->dir, "%s", optarg);
        else
        if (strchr ("tqewf", opt)) {
            long value = strtol (optarg, NULL, 10);
            if (value <= 0)
                s_usage ();
            *(opt == 't'? &options->tails: opt == 'q'? &options->requests
            : opt == 'e'? &options->events: opt == 'w'? &options->rounds
            : &options->flush_ms) = value;
        }
        else
            s_usage ();
    }
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

//  p50, p99 and max of count values, sorted in place
static void
s_quantiles (double *values, long count, double *out)
{
    qsort (values, (size_t) count, sizeof *values, s_compare_double);
    out [0] = values [count / 2];
    out [1] = values [(long) ((double) count * 0.99)];
    out [2] = values [count - 1];
}

static void
s_pack_str (msgpack_packer *packer, const char *key, const char *value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_str_with_body (packer, value, strlen (value));
}

static void
s_pack_uint (msgpack_packer *packer, const char *key, uint64_t value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_uint64 (packer, value);
}

//  list newest 100 of org, or (from != NULL) tail of org from *from
static void
s_request (s_bench_t *self, int org, const uint64_t *from)
{
    char org_id [BENCH_FEED_TEXT];
    bench_feed_org_name (org, org_id);
    msgpack_sbuffer_clear (&self->body);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->body, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, from? 7: 5);
    s_pack_uint (&packer, "v", 1);
    s_pack_str (&packer, "op", from? "tail": "list");
    s_pack_str (&packer, "token", self->tokens [org]);
    s_pack_str (&packer, "org_id", org_id);
    s_pack_uint (&packer, "limit", 100);
    if (from) {
        s_pack_uint (&packer, "wait_ms", s_WAIT_MS);
        s_pack_uint (&packer, "from_index", *from);
    }
}

//  Publish count events of org (org < 0: spread over the organisations)
static void
s_publish (s_bench_t *self, int org, long count)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    for (long at = 0; at < count; at++) {
        bench_feed_t event;
        bench_feed_make (self->published, audit_time_now_ms (), self->rng, &event);
        event.org = org < 0? (int) (self->published % s_ORGS): org;
        bench_feed_pack (&event, ++self->published, &buffer);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, "audit");
        zmsg_addmem (msg, buffer.data, buffer.size);
        zmsg_send (&msg, self->pub);
    }
    msgpack_sbuffer_destroy (&buffer);
}

//  The service up, the events stored, the tokens minted
static int
s_start (s_bench_t *self)
{
    int port = 21001 + 3 * (getpid () % 9000);
    snprintf (self->ingest, sizeof self->ingest, "tcp://127.0.0.1:%d", port);
    snprintf (self->ack, sizeof self->ack, "tcp://127.0.0.1:%d", port + 1);
    snprintf (self->query, sizeof self->query, "tcp://127.0.0.1:%d", port + 2);
    if (zsys_dir_create ("%s", self->options.dir) != 0)
        return -1;
    self->ingest_pid = bench_worker_start (self->options.dir, self->ingest, self->ack, 32768,
                                           (int) self->options.flush_ms);
    self->pub = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (self->pub, 0);
    if (self->ingest_pid < 0 || zsock_connect (self->pub, "%s", self->ingest) != 0
    ||  bench_worker_wait_connected (self->pub, self->options.dir) != 0)
        return -1;
    for (int org = 0; org < s_ORGS; org++) {
        audit_claims_t claims = { .role = AUDIT_ROLE_ORG_ADMIN };
        bench_feed_org_name (org, claims.org);
        snprintf (claims.sub, sizeof claims.sub, "admin_%d", org);
        audit_token_mint ((const uint8_t *) s_SECRET, strlen (s_SECRET), &claims, NULL,
                          86400, audit_time_now_ms () / 1000, &self->tokens [org]);
    }
    s_publish (self, -1, self->options.events);
    for (int tries = 0; tries < 3000
         && bench_worker_stored (self->options.dir) < self->options.events; tries++)
        zclock_sleep (10);
    if (bench_worker_stored (self->options.dir) < self->options.events)
        return -1;
    self->client = bench_client_new (self->options.dir, s_SECRET);
    return self->client? bench_client_start (self->client, AUDIT_BIN_DIR, self->query): -1;
}

//  Q list requests over the REQ socket: p50, p99, max in ms
static int
s_list_latency (s_bench_t *self, double *out)
{
    long count = self->options.requests;
    double *ms = calloc ((size_t) count, sizeof *ms);
    int rc = ms? 0: -1;
    for (long index = -s_WARMUP; rc == 0 && index < count; index++) {
        self->rng = self->rng * 6364136223846793005ULL + 1442695040888963407ULL;
        s_request (self, (int) ((self->rng >> 33) % s_ORGS), NULL);
        bench_answer_t answer;
        int64_t took_ns = 0;
        rc = bench_client_ask (self->client, true, &self->body, &answer, &took_ns);
        if (rc == 0 && answer.events == 0)
            rc = -1;
        if (index >= 0)
            ms [index] = (double) took_ns / 1e6;
    }
    if (rc == 0)
        s_quantiles (ms, count, out);
    free (ms);
    return rc;
}

//  Send tail number at its request (from its next index)
static int
s_tail_ask (s_bench_t *self, long at)
{
    s_request (self, (int) (at % s_ORGS), &self->next_index [at]);
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, NULL, 0);
    zmsg_addmem (msg, self->body.data, self->body.size);
    return zmsg_send (&msg, self->tails [at]);
}

//  Open T DEALERs, each asking tail from the organisation's next index
static int
s_park (s_bench_t *self)
{
    long count = self->options.tails;
    self->tails = calloc ((size_t) count, sizeof *self->tails);
    self->next_index = calloc ((size_t) count, sizeof *self->next_index);
    if (!self->tails || !self->next_index)
        return -1;
    for (long at = 0; at < count; at++) {
        self->tails [at] = zsock_new (ZMQ_DEALER);
        self->next_index [at] = (uint64_t) (self->options.events / s_ORGS);
        if (self->tails [at])
            zsock_set_rcvtimeo (self->tails [at], 0);   //  read by turns, never waited on
        if (!self->tails [at] || zsock_connect (self->tails [at], "%s", self->query) != 0
        ||  s_tail_ask (self, at) != 0)
            return -1;
    }
    zclock_sleep (2000);            //  every one parked (each waits 30 s)
    return 0;
}

//  A tail's answer if one is there: its events and next_index; 1 when
//  none has come
static int
s_tail_answer (zsock_t *tail, uint32_t *events, uint64_t *next)
{
    zmsg_t *msg = zmsg_recv (tail);
    if (!msg)
        return 1;
    zframe_t *body = zmsg_last (msg);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    int rc = body && msgpack_unpack_next (&reply, (const char *) zframe_data (body),
                                          zframe_size (body), NULL) == MSGPACK_UNPACK_SUCCESS
          && reply.data.type == MSGPACK_OBJECT_MAP? 0: -1;
    *events = 0;
    for (uint32_t at = 0; rc == 0 && at < reply.data.via.map.size; at++) {
        const msgpack_object_kv *kv = &reply.data.via.map.ptr [at];
        if (kv->key.via.str.size == 6 && memcmp (kv->key.via.str.ptr, "events", 6) == 0)
            *events = kv->val.via.array.size;
        if (kv->key.via.str.size == 10 && memcmp (kv->key.via.str.ptr, "next_index", 10) == 0)
            *next = kv->val.via.u64;
    }
    msgpack_unpacked_destroy (&reply);
    zmsg_destroy (&msg);
    return rc;
}

//  The time org's log grew past size, in usecs; -1 after 5 s without
static int64_t
s_commit_seen (s_bench_t *self, int org, uint64_t size)
{
    char org_id [BENCH_FEED_TEXT];
    bench_feed_org_name (org, org_id);
    for (int64_t until = zclock_usecs () + 5000000; zclock_usecs () < until; zclock_sleep (1)) {
        uint64_t now_size = 0;
        if (audit_store_log_size (self->reader, org_id, &now_size) == 0 && now_size > size)
            return zclock_usecs ();
    }
    return -1;
}

//  One round: an event to org; the ms from its commit until each of its
//  tails answered, and publication to commit in *commit_ms. The org's
//  tails are read by turns without waiting (a poll over a thousand
//  sockets would cost more than what it measures).
static long
s_wake_round (s_bench_t *self, int org, double *ms, double *commit_ms)
{
    long tails = self->options.tails, woken = 0;
    bool *done = calloc ((size_t) tails, sizeof *done);
    int64_t start = zclock_usecs ();
    s_publish (self, org, 1);
    int64_t committed = s_commit_seen (self, org, self->next_index [org]);
    *commit_ms = (double) (committed - start) / 1000.0;
    int64_t until = zclock_usecs () + 5000000;
    while (done && committed >= 0 && woken < tails / s_ORGS && zclock_usecs () < until)
        for (long at = org; at < tails; at += s_ORGS) {
            uint32_t events = 0;
            if (done [at] || s_tail_answer (self->tails [at], &events, &self->next_index [at]))
                continue;
            if (events > 0) {
                ms [woken++] = (double) (zclock_usecs () - committed) / 1000.0;
                done [at] = true;
            }
            s_tail_ask (self, at);  //  a 30-s timeout answers empty: asked again
        }
    free (done);
    return committed >= 0? woken: -1;
}

static int
s_wake (s_bench_t *self, double *out, double *commit)
{
    long per_round = self->options.tails / s_ORGS, total = 0;
    double *ms = calloc ((size_t) (per_round * self->options.rounds), sizeof *ms);
    double *commit_ms = calloc ((size_t) self->options.rounds, sizeof *commit_ms);
    self->reader = audit_store_new (self->options.dir, AUDIT_STORE_READER);
    int rc = ms && commit_ms && self->reader? 0: -1;
    for (long round = 0; rc == 0 && round < self->options.rounds; round++) {
        long woken = s_wake_round (self, (int) (round % s_ORGS), ms + total, commit_ms + round);
        rc = woken == per_round? 0: -1;
        if (rc)
            fprintf (stderr, "bench-tail: round %ld: %ld of %ld tails answered\n", round, woken,
                     per_round);
        total += woken > 0? woken: 0;
        zclock_sleep (50);
    }
    if (rc == 0) {
        s_quantiles (ms, total, out);
        s_quantiles (commit_ms, self->options.rounds, commit);
    }
    audit_store_destroy (&self->reader);
    free (commit_ms);
    free (ms);
    return rc;
}

//  Stop everything; the directory goes only when keep is false
static void
s_stop (s_bench_t *self, bool keep)
{
    for (long at = 0; self->tails && at < self->options.tails; at++)
        zsock_destroy (&self->tails [at]);
    free (self->tails);
    free (self->next_index);
    bench_client_destroy (&self->client);
    zsock_destroy (&self->pub);
    if (self->ingest_pid > 0)
        bench_worker_stop (self->ingest_pid);
    for (int org = 0; org < s_ORGS; org++)
        free (self->tokens [org]);
    msgpack_sbuffer_destroy (&self->body);
    char command [600];
    snprintf (command, sizeof command, "rm -rf '%s'", self->options.dir);
    if (!keep && system (command) != 0)
        fprintf (stderr, "bench-tail: could not remove %s\n", self->options.dir);
}

//  A thousand connections: every one an fd here and in the worker
static void
s_raise_fd_limit (long tails)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
    zsys_set_max_sockets ((size_t) tails + 64);
}

int
main (int argc, char **argv)
{
    static s_bench_t self;
    s_options (argc, argv, &self.options);
    s_raise_fd_limit (self.options.tails);
    msgpack_sbuffer_init (&self.body);
    self.rng = (uint64_t) audit_time_now_ms ();
    double idle [3] = { 0 }, parked [3] = { 0 }, wake [3] = { 0 }, commit [3] = { 0 };
    double load [3] = { 0 };
    getloadavg (load, 3);
    int rc = s_start (&self);
    rc = rc? rc: s_list_latency (&self, idle);
    rc = rc? rc: s_park (&self);
    rc = rc? rc: s_list_latency (&self, parked);
    rc = rc? rc: s_wake (&self, wake, commit);
    s_stop (&self, rc != 0);
    if (rc != 0) {
        fprintf (stderr, "bench-tail: failed (see the logs in %s)\n", self.options.dir);
        return 1;
    }
    printf ("bench-tail: %ld events over %d organisations, %ld tails, ingest flush %ld ms,"
            " load %.2f at the start\n", self.options.events, s_ORGS, self.options.tails,
            self.options.flush_ms, load [0]);
    printf ("| list newest 100, no tail waiting (the ceiling) | p50 %.3f / p99 %.3f / max %.3f ms |\n",
            idle [0], idle [1], idle [2]);
    printf ("| list newest 100, %ld tails parked | p50 %.3f / p99 **%.3f** / max %.3f ms | p99 <= 2 ms %s |\n",
            self.options.tails, parked [0], parked [1], parked [2], parked [1] <= 2.0? "ok": "MISSED");
    printf ("| commit to a waiting tail's answer, %ld rounds x %ld tails | p50 %.1f / p99 **%.1f** / max %.1f ms | <= 100 ms %s |\n",
            self.options.rounds, self.options.tails / s_ORGS, wake [0], wake [1], wake [2],
            wake [2] <= 100.0? "ok": "MISSED");
    printf ("| publish to commit (beside it) | p50 %.1f / max %.1f ms | |\n", commit [0], commit [2]);
    return 0;
}
