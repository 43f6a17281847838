/*  =========================================================================
    bench-curve - what CURVE costs (issue 11): ingest events/s and `list`
    p99, plaintext and CURVE in the same run, alternating

    1. Keys (bench_keys): a service certificate and a producer certificate
       for bench_raw's producer_id, in DIR/keys.
    2. Ingest, ROUNDS rounds (default 3): in each, a fresh audit-ingest
       (its defaults) on an empty data directory per mode, and a burst of
       M events (default 300,000) from bench_raw's child publisher on a
       raw PUB socket, timed until the worker has stored every one
       (bench_monitor): events/s stored, loss, the worker's CPU per event.
       The mode that goes first alternates from round to round, so that a
       drift of the machine's load falls on both.
    3. Query: one store of N events (default 200,000) over 100
       organisations (bench_events, bench_preload; kept in DIR/query and
       reused). Per round and mode a fresh audit-query, one REQ socket kept
       open (as the portal keeps it), 50 requests not counted, then Q
       (default 2,000) `list` newest 100 of a random organisation, each with
       its org_admin token: p50/p99/max; and as many `health` requests, the
       round trip alone.
    The summary at the end is a block for bench/RESULTS.md: per mode the
    median of the rounds, and CURVE's rate as a share of plaintext's
    (target: at least 85 %).

    Usage: bench-curve [-m EVENTS] [-r ROUNDS] [-n STORED] [-q REQUESTS] [-d DIR]
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <msgpack.h>
#include <sqlite3.h>
#include <unistd.h>

#include "audit_time.h"
#include "audit_token.h"
#include "bench_client.h"
#include "bench_events.h"
#include "bench_keys.h"
#include "bench_monitor.h"
#include "bench_preload.h"
#include "bench_raw.h"
#include "bench_worker.h"

#define s_ROUNDS_MAX    16
#define s_BATCH         32768       //  the worker's default (AUDIT_INGEST_BATCH)
#define s_ORGS          100
#define s_SPAN_DAYS     300
#define s_WARMUP        50
#define s_SECRET        "bench-curve-secret-0123456789abcdef0123456789abcdef"

typedef struct {
    long events, stored, requests;
    int rounds;
    char dir [512];
} s_options_t;

//  One mode's figures per round: ingest, list and health
typedef struct {
    double rate [s_ROUNDS_MAX], cpu_us [s_ROUNDS_MAX];
    long loss [s_ROUNDS_MAX];
    double p50 [s_ROUNDS_MAX], p99 [s_ROUNDS_MAX], max [s_ROUNDS_MAX];
    double ping_p99 [s_ROUNDS_MAX];
} s_mode_t;

static const char *s_mode_names [2] = { "plaintext", "CURVE" };

static void
s_usage (void)
{
    fprintf (stderr, "usage: bench-curve [-m EVENTS] [-r ROUNDS] [-n STORED] [-q REQUESTS]"
                     " [-d DIR]\n");
    exit (2);
}

static void
s_options (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { 300000, 200000, 2000, 3, "/tmp/bench-curve" };
    int option;
    while ((option = getopt (argc, argv, "m:r:n:q:d:h")) != -1) {
        if (option == 'm')
            options->events = atol (optarg);
        else if (option == 'r')
            options->rounds = atoi (optarg);
        else if (option == 'n')
            options->stored = atol (optarg);
        else if (option == 'q')
            options->requests = atol (optarg);
        else if (option == 'd')
            snprintf (options->dir, sizeof options->dir, "%s", optarg);
        else
            s_usage ();
    }
    if (options->events < 1 || options->stored < 1000 || options->requests < 1
    ||  options->rounds < 1 || options->rounds > s_ROUNDS_MAX)
        s_usage ();
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

//  The median of count figures (sorted in place)
static double
s_median (double *values, int count)
{
    qsort (values, (size_t) count, sizeof *values, s_compare_double);
    return count % 2 ? values [count / 2] : (values [count / 2 - 1] + values [count / 2]) / 2;
}

//  --------------------------------------------------------------------------
//  Ingest

//  One burst on a fresh worker in dir; 0 or -1
static int
s_ingest_round (const s_options_t *options, const char *dir, uint64_t salt, bench_raw_t *raw)
{
    char command [1600], endpoint [64], ack_endpoint [64];
    snprintf (command, sizeof command, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system (command) != 0)
        return -1;
    int port = 20001 + 2 * (getpid () % 10000);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (ack_endpoint, sizeof ack_endpoint, "tcp://127.0.0.1:%d", port + 1);
    static bench_monitor_t monitor;
    memset (&monitor, 0, sizeof monitor);
    snprintf (monitor.dir, sizeof monitor.dir, "%s", dir);
    monitor.worker = bench_worker_start (dir, endpoint, ack_endpoint, s_BATCH, 0);
    for (int tries = 0; tries < 500 && bench_worker_stored (dir) < 0; tries++)
        zclock_sleep (10);
    bench_monitor_start (&monitor);
    zclock_sleep (4 * BENCH_MONITOR_COUNT_MS);     //  the reader's baseline is now
    int rc = bench_raw_burst (endpoint, &monitor, 0, options->events, salt, raw);
    bench_monitor_stop (&monitor);
    if (bench_worker_stop (monitor.worker) != 0)
        rc = -1;
    free (monitor.last);
    free (monitor.now_index);
    snprintf (command, sizeof command, "rm -rf '%s'", dir);
    if (system (command) != 0)
        rc = -1;
    return rc;
}

//  --------------------------------------------------------------------------
//  Query

typedef struct {
    bench_events_t events;
    char *tokens [s_ORGS];
    msgpack_sbuffer body;
    uint64_t rng;
} s_query_t;

static void
s_pack_str (msgpack_packer *packer, const char *key, const char *value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_str_with_body (packer, value, strlen (value));
}

//  list newest 100 of a random organisation, or health
static void
s_request (s_query_t *self, bool list)
{
    msgpack_sbuffer_clear (&self->body);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->body, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, list ? 5 : 2);
    msgpack_pack_str_with_body (&packer, "v", 1);
    msgpack_pack_uint8 (&packer, 1);
    s_pack_str (&packer, "op", list ? "list" : "health");
    if (!list)
        return;
    self->rng = bench_events_mix (self->rng);
    int org = (int) (self->rng % s_ORGS);
    char org_id [BENCH_EVENTS_NAME_SIZE];
    bench_events_org_name (org, org_id);
    s_pack_str (&packer, "token", self->tokens [org] ? self->tokens [org] : "");
    s_pack_str (&packer, "org_id", org_id);
    msgpack_pack_str_with_body (&packer, "limit", 5);
    msgpack_pack_uint8 (&packer, 100);
}

//  count requests of one kind after the warm-up: p50, p99, max in ms
static int
s_latency (s_query_t *self, bench_client_t *client, bool list, long count, double *out)
{
    double *ms = calloc ((size_t) count, sizeof *ms);
    int rc = ms ? 0 : -1;
    for (long index = -s_WARMUP; rc == 0 && index < count; index++) {
        s_request (self, list);
        bench_answer_t answer;
        int64_t took_ns = 0;
        rc = bench_client_ask (client, true, &self->body, &answer, &took_ns);
        if (rc == 0 && list && answer.events == 0)
            rc = -1;                //  every organisation holds events
        if (index >= 0)
            ms [index] = (double) took_ns / 1e6;
    }
    if (rc == 0) {
        qsort (ms, (size_t) count, sizeof *ms, s_compare_double);
        out [0] = ms [count / 2];
        out [1] = ms [(long) ((double) count * 0.99)];
        out [2] = ms [count - 1];
    }
    free (ms);
    return rc;
}

//  One round of one mode on a fresh audit-query
static int
s_query_round (s_query_t *self, const char *dir, long requests, s_mode_t *mode, int round)
{
    bench_client_t *client = bench_client_new (dir, s_SECRET);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", 40001 + getpid () % 10000);
    int rc = client ? bench_client_start (client, AUDIT_BIN_DIR, endpoint) : -1;
    double list [3] = { 0 }, ping [3] = { 0 };
    rc = rc ? rc : s_latency (self, client, true, requests, list);
    rc = rc ? rc : s_latency (self, client, false, requests, ping);
    bench_client_destroy (&client);
    mode->p50 [round] = list [0];
    mode->p99 [round] = list [1];
    mode->max [round] = list [2];
    mode->ping_p99 [round] = ping [1];
    return rc;
}

//  The store, reused when the preload record matches, and the tokens
static int
s_query_ready (s_query_t *self, const s_options_t *options, const char *dir)
{
    self->events = (bench_events_t) { s_ORGS, 0, 0, 1 };
    self->events.step_ms = s_SPAN_DAYS * AUDIT_MS_PER_DAY / options->stored;
    msgpack_sbuffer_init (&self->body);
    self->rng = (uint64_t) audit_time_now_ms ();
    for (int org = 0; org < s_ORGS; org++) {
        audit_claims_t claims = { .role = AUDIT_ROLE_ORG_ADMIN };
        bench_events_org_name (org, claims.org);
        snprintf (claims.sub, sizeof claims.sub, "admin_%03d", org);
        audit_token_mint ((const uint8_t *) s_SECRET, strlen (s_SECRET), &claims, NULL,
                          86400, audit_time_now_ms () / 1000, &self->tokens [org]);
    }
    if (zsys_dir_create ("%s", dir) != 0)
        return -1;
    return bench_preload_ready (dir, &self->events, options->stored,
                                audit_time_now_ms () - s_SPAN_DAYS * AUDIT_MS_PER_DAY);
}

static void
s_query_destroy (s_query_t *self)
{
    for (int org = 0; org < s_ORGS; org++)
        free (self->tokens [org]);
    msgpack_sbuffer_destroy (&self->body);
}

//  --------------------------------------------------------------------------
//  The run

static void
s_summary (const s_options_t *options, s_mode_t *modes, double load_start)
{
    double load [3] = { 0 };
    getloadavg (load, 3);
    double rate [2], cpu [2], p50 [2], p99 [2], max [2], ping [2];
    for (int on = 0; on < 2; on++) {
        s_mode_t *mode = &modes [on];
        rate [on] = s_median (mode->rate, options->rounds);
        cpu [on] = s_median (mode->cpu_us, options->rounds);
        p50 [on] = s_median (mode->p50, options->rounds);
        p99 [on] = s_median (mode->p99, options->rounds);
        max [on] = s_median (mode->max, options->rounds);
        ping [on] = s_median (mode->ping_p99, options->rounds);
    }
    printf ("\n--- summary (bench-curve -m %ld -r %d -n %ld -q %ld) ---\n", options->events,
            options->rounds, options->stored, options->requests);
    printf ("machine: %ld cores; SQLite %s; libzmq %d.%d.%d; load average at the start %.2f,"
            " at the end %.2f %.2f %.2f\n", sysconf (_SC_NPROCESSORS_ONLN),
            sqlite3_libversion (), ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH,
            load_start, load [0], load [1], load [2]);
    printf ("| figure (median of %d rounds) | plaintext | CURVE | CURVE / plaintext |\n",
            options->rounds);
    printf ("|---|---|---|---|\n");
    printf ("| ingest, events/s stored | %.0f | %.0f | **%.0f %%** (target >= 85 %%) |\n",
            rate [0], rate [1], 100 * rate [1] / rate [0]);
    printf ("| ingest, worker CPU per event | %.1f us | %.1f us | %.2fx |\n", cpu [0], cpu [1],
            cpu [1] / cpu [0]);
    printf ("| `list` newest 100, p50 / p99 / max | %.3f / %.3f / %.3f ms | %.3f / %.3f / %.3f ms"
            " | p99 %.2fx |\n", p50 [0], p99 [0], max [0], p50 [1], p99 [1], max [1],
            p99 [1] / p99 [0]);
    printf ("| `health` (the round trip), p99 | %.3f ms | %.3f ms | %.2fx |\n", ping [0], ping [1],
            ping [1] / ping [0]);
    for (int on = 0; on < 2; on++) {
        printf ("%s rounds: events/s", s_mode_names [on]);
        for (int round = 0; round < options->rounds; round++)
            printf (" %.0f (loss %ld)", modes [on].rate [round], modes [on].loss [round]);
        printf ("; list p99 ms");
        for (int round = 0; round < options->rounds; round++)
            printf (" %.3f", modes [on].p99 [round]);
        printf ("\n");
    }
}

//  Every round of both phases, each mode in turn, the first alternating
static int
s_run (const s_options_t *options, const char *keys, s_mode_t *modes)
{
    uint64_t salt = (uint64_t) audit_time_now_ms () << 20;
    int rc = 0;
    for (int round = 0; rc == 0 && round < options->rounds; round++)
        for (int turn = 0; rc == 0 && turn < 2; turn++) {
            int on = (turn + round) % 2;
            bench_keys_use (keys, on);
            printf ("ingest round %d, %s: ", round + 1, s_mode_names [on]);
            char dir [560];
            snprintf (dir, sizeof dir, "%s/ingest", options->dir);
            bench_raw_t raw = { 0 };
            rc = s_ingest_round (options, dir, salt + (uint64_t) (round * 2 + on) * 100000000, &raw);
            modes [on].rate [round] = raw.rate;
            modes [on].cpu_us [round] = raw.worker_us;
            modes [on].loss [round] = raw.loss;
        }
    static s_query_t query;
    char dir [700];
    snprintf (dir, sizeof dir, "%s/query", options->dir);
    rc = rc ? rc : s_query_ready (&query, options, dir);
    for (int round = 0; rc == 0 && round < options->rounds; round++)
        for (int turn = 0; rc == 0 && turn < 2; turn++) {
            int on = (turn + round) % 2;
            bench_keys_use (keys, on);
            rc = s_query_round (&query, dir, options->requests, &modes [on], round);
            printf ("query round %d, %s: list p50 %.3f p99 %.3f max %.3f ms, health p99 %.3f ms\n",
                    round + 1, s_mode_names [on], modes [on].p50 [round], modes [on].p99 [round],
                    modes [on].max [round], modes [on].ping_p99 [round]);
        }
    bench_keys_use (keys, false);
    s_query_destroy (&query);
    return rc;
}

int
main (int argc, char **argv)
{
    if (bench_raw_is_child (argc, argv))
        return bench_raw_child (argv);
    s_options_t options;
    s_options (argc, argv, &options);
    setvbuf (stdout, NULL, _IOLBF, 0);
    double load [3];
    double load_start = getloadavg (load, 3) > 0 ? load [0] : -1;
    char keys [700];
    snprintf (keys, sizeof keys, "%s/keys", options.dir);
    if (zsys_dir_create ("%s", keys) != 0 || bench_keys_make (keys, BENCH_RAW_PRODUCER_ID) != 0) {
        fprintf (stderr, "bench-curve: cannot make the keys in %s\n", keys);
        return 1;
    }
    static s_mode_t modes [2];
    int rc = s_run (&options, keys, modes);
    if (rc == 0)
        s_summary (&options, modes, load_start);
    else
        fprintf (stderr, "bench-curve: a phase failed (see above and the workers' logs)\n");
    return rc == 0 ? 0 : 1;
}
