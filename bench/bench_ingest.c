/*  =========================================================================
    bench-ingest - the ingest worker end to end, as producers see it, and
    the ceiling it is held to, in one run

    1. Preload N0 events (default 5,000,000; bench_feed: random version-4
       ids over 1,000 organisations) through audit_store_write in large
       batches into DIR/base, in time order, so the run starts from a
       populated store. With -d DIR, a base of N0 events
       already there is reused (another N0: it is built again).
    2. The ceiling: copy the base to DIR/ceiling and insert M events
       (default 1,000,000) by the bare prepared-statement loop (bench_bare)
       in transactions of B rows (default 32768, the worker's default
       --ingest-batch; the worker below gets --ingest-batch B too). Twice,
       each on a fresh copy: the event rows alone, as before the
       organisation's log, then with the rows the log adds to the schema
       (leaf_tag, tree rows, the org row's tail): the rows the worker
       writes, and so the ceiling its rate is held to.
       Both loops stay open through the next phase's burst, in R rounds
       (-R, default 4) after a warm-up of 20,000 events that none of the
       three counts: each round writes M/R events by each loop, then
       the worker's burst of the same M/R, so that the machine's drift
       (the bare loop moved 120-210k events/s between runs minutes apart)
       falls on a round of all three, not on the ratio.
    3. Copy the base to DIR/run, start the real audit-ingest on 127.0.0.1
       and connect a PUB socket. Throughput: in each round, publish M/R
       events as fast as one publisher can and time until every one is
       stored (the sum of
       org.next_index, which the worker raises in each commit). Loss =
       published - stored. The worker's rate against the ceiling's is the
       issue's "worker at 80% of the bare loop".
    4. Latency: publish at R events/s (default 10,000) for S seconds; each
       event's timestamp is its publish time, and a reader polling audit.db
       every 2 ms reads each organisation's new rows, by (org, ts) from ten
       seconds back, then log_index: now - timestamp is publish-to-stored.
    Throughout 3 and 4 the WAL size and the worker's RSS are sampled; the
    peak RSS is the kernel's VmHWM at the end. Both copies are removed.

    Usage: bench-ingest [-n N0] [-m M] [-b B] [-r RATE] [-R ROUNDS] [-s SECONDS] [-d DIR] [-D]
      -D: only the decoder on M of the same bodies (ns per event)
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <msgpack.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit_decode.h"
#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_time.h"
#include "bench_bare.h"
#include "bench_feed.h"
#include "bench_preload.h"
#include "bench_monitor.h"
#include "bench_wal.h"
#include "bench_worker.h"

#define s_PRELOAD_BATCH 65536       //  ~160 MiB of records; fewer rewrites of each org's last pages
#define s_PRELOAD_STEP  10          //  ms between preloaded events
#define s_MIB           1048576.0
#define s_WARMUP_EVENTS 20000       //  before the rounds, not counted: 20 an organisation

typedef struct {
    long preload, events, batch, rate, seconds;
    int rounds;                     //  -R: the burst and its ceilings, interleaved
    char dir [512];
    bool keep, decode_only;         //  keep: -d given, the base stays
} s_options_t;

static uint64_t s_seq;
static uint64_t s_run_salt;             //  differs per run: ids never repeat

//  --------------------------------------------------------------------------
//  Files

static int
s_shell (const char *format, const char *one, const char *two)
{
    char command [2048];
    snprintf (command, sizeof command, format, one, two);
    return system (command) == 0? 0: -1;
}

//  A fresh copy of the directory from as to
static int
s_copy_dir (const char *from, const char *to)
{
    char command [2048];
    snprintf (command, sizeof command, "rm -rf '%s' && cp -r '%s' '%s'", to, from, to);
    if (system (command) != 0)
        return -1;
    //  The copy's pages written back now, not during the phase it is for
    sync ();
    return 0;
}

//  Preload through the store itself: decode generated bodies, write batches
static int
s_preload (const char *dir, long count)
{
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    audit_record_t *records = calloc (s_PRELOAD_BATCH, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (s_PRELOAD_BATCH, sizeof *outcomes);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int64_t now = audit_time_now_ms (), start = zclock_mono ();
    int rc = store && records && outcomes? 0: -1;
    for (long done = 0; rc == 0 && done < count; ) {
        size_t fill = 0;
        for (; rc == 0 && fill < s_PRELOAD_BATCH && done < count; fill++, done++) {
            bench_feed_t event;
            audit_decode_info_t info;
            bench_feed_make ((uint64_t) done, now - (count - done) * s_PRELOAD_STEP, 0, &event);
            bench_feed_pack (&event, (uint64_t) done + 1, &buffer);
            rc = audit_decode_record (AUDIT_TOPIC_KIND_AUDIT, buffer.data, buffer.size, now,
                                      &records [fill], &info);
        }
        rc = rc? rc: audit_store_write (store, records, fill, outcomes, NULL);
        if (done % 1000000 < s_PRELOAD_BATCH || done == count)
            printf ("  preload %ld / %ld, %.0f events/s\n", done, count,
                    (double) done * 1000.0 / (double) (zclock_mono () - start + 1));
    }
    rc = rc || !store? -1: bench_preload_housekeep (store);
    if (store)
        audit_store_checkpoint (store, AUDIT_DB_AUDIT);
    msgpack_sbuffer_destroy (&buffer);
    free (records);
    free (outcomes);
    audit_store_destroy (&store);
    return rc;
}

//  DIR/base with exactly N0 events, built when it holds another number
static int
s_base_ready (const s_options_t *options, const char *base)
{
    int64_t have = bench_worker_stored (base);
    if (have == options->preload) {
        printf ("reusing %s: %lld events\n", base, (long long) have);
        //  A base of an older schema is migrated here, once: the bare
        //  loops open their copies with SQLite alone; and its merges owed
        //  by an older build are done
        return bench_preload_settle (base) == 0 && bench_worker_stored (base) == have? 0: -1;
    }
    printf ("preloading %ld events into %s (it held %lld) ...\n", options->preload, base,
            (long long) (have < 0? 0: have));
    int64_t start = zclock_mono ();
    if (s_shell ("rm -rf '%s' && mkdir -p '%s'", base, base) != 0
    ||  s_preload (base, options->preload) != 0)
        return -1;
    printf ("preload took %.1f s; audit.db %.1f MiB\n", (double) (zclock_mono () - start) / 1000.0,
            (double) bench_wal_file_size (base, "audit.db") / s_MIB);
    return 0;
}

//  --------------------------------------------------------------------------
//  The worker and its feed

static void
s_publish (zsock_t *pub, uint64_t n, int64_t ms, msgpack_sbuffer *buffer)
{
    bench_feed_t event;
    bench_feed_make (n, ms, s_run_salt, &event);
    bench_feed_pack (&event, ++s_seq, buffer);
    zmq_send (zsock_resolve (pub), "audit", 5, ZMQ_SNDMORE);
    zmq_send (zsock_resolve (pub), buffer->data, buffer->size, 0);
}

//  --------------------------------------------------------------------------
//  The phases

#define s_ROUNDS_MAX 32

typedef struct {
    double bare_rate, bare_wal_mib;     //  the event rows alone
    double log_bare_rate, log_bare_wal_mib;  //  and the log's rows too
    double ratios [s_ROUNDS_MAX];       //  worker / log_bare of each round
    double rate, sustained;
    long loss, latency_loss;
    int64_t p50, p99, max;
    long rss_hwm_kib;
    double wal_peak_mib;
} s_results_t;

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

//  The two bare loops, each on its own copy of the base, open through
//  the rounds: [0] the event rows alone, [1] with the log's rows
typedef struct {
    bench_bare_t *bare [2];
    bench_wal_t watch [2];
    char dir [2][600];
    double seconds [2];
} s_ceilings_t;

static int
s_ceilings_open (const s_options_t *options, const char *base, s_ceilings_t *self)
{
    memset (self, 0, sizeof *self);
    for (int log_rows = 0; log_rows < 2; log_rows++) {
        snprintf (self->dir [log_rows], sizeof self->dir [0], "%s/ceiling-%d", options->dir,
                  log_rows);
        if (s_copy_dir (base, self->dir [log_rows]) != 0
        ||  !(self->bare [log_rows] = bench_bare_new (self->dir [log_rows], log_rows)))
            return -1;
        bench_wal_start (&self->watch [log_rows], self->dir [log_rows]);
    }
    return 0;
}

//  count events from first into each bare loop; the seconds of the log's
//  rows' loop in *log_seconds
static int
s_ceilings_round (s_ceilings_t *self, const s_options_t *options, long first, long count,
                  double *log_seconds)
{
    for (int log_rows = 0; log_rows < 2; log_rows++) {
        double seconds = 0;
        sync ();                        //  the phase before's pages, untimed
        if (bench_bare_run (self->bare [log_rows], (uint64_t) first, count, options->batch,
                            s_run_salt, &seconds) != 0)
            return -1;
        if (log_seconds) {              //  NULL: the warm-up, not counted
            self->seconds [log_rows] += seconds;
            *log_seconds = seconds;
        }
    }
    return 0;
}

static int
s_ceilings_close (s_ceilings_t *self, long written, s_results_t *results)
{
    for (int log_rows = 0; log_rows < 2; log_rows++) {
        double wal_mib = self->bare [log_rows]
                       ? (double) bench_wal_stop (&self->watch [log_rows]) / s_MIB: 0;
        char pcache [160] = "";
        if (self->bare [log_rows])
            bench_pcache_format (bench_bare_pcache (self->bare [log_rows]), written, pcache,
                                 sizeof pcache);
        bench_bare_destroy (&self->bare [log_rows]);
        double rate = self->seconds [log_rows] > 0? (double) written / self->seconds [log_rows]: 0;
        *(log_rows? &results->log_bare_rate: &results->bare_rate) = rate;
        *(log_rows? &results->log_bare_wal_mib: &results->bare_wal_mib) = wal_mib;
        printf ("bare loop:  %s, %ld events in %.2f s: %.0f events/s, WAL peak %.1f MiB\n"
                "            its cache: %s\n", log_rows? "with the log's rows": "event rows alone",
                written, self->seconds [log_rows], rate, wal_mib, pcache);
        if (self->dir [log_rows][0] && s_shell ("rm -rf '%s'%s", self->dir [log_rows], "") != 0)
            return -1;
    }
    return 0;
}

typedef struct {
    long stored;
    double seconds, slowest;
} s_burst_t;

//  Publish count events from first as fast as one publisher can, and time
//  until every one is stored
static void
s_burst (zsock_t *pub, bench_monitor_t *monitor, long first_event, long count,
         msgpack_sbuffer *buffer, s_burst_t *burst)
{
    long first = atomic_load (&monitor->seen);
    int64_t start = audit_time_now_ms ();
    monitor->window_base = first;
    memset (monitor->window_ms, 0, sizeof monitor->window_ms);     //  the burst before's
    atomic_store (&monitor->windows_on, true);
    atomic_store (&monitor->last_seen_ms, start);
    for (long index = 0; index < count; index++)
        s_publish (pub, (uint64_t) (first_event + index), audit_time_now_ms (), buffer);
    bench_monitor_wait (monitor, first + count);
    atomic_store (&monitor->windows_on, false);
    burst->stored = atomic_load (&monitor->seen) - first;
    burst->seconds = (double) (atomic_load (&monitor->last_seen_ms) - start) / 1000.0;
    burst->slowest = bench_monitor_slowest (monitor, start);
}

//  The rounds: each bare loop, then the worker's burst, on the same
//  events, so that the machine's drift moves a round, not the ratio; each
//  phase starts after a sync, so that none is timed writing back the
//  pages of the phase before
static int
s_phase_throughput (zsock_t *pub, bench_monitor_t *monitor, s_ceilings_t *ceilings,
                    const s_options_t *options, s_results_t *results)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    long round_size = options->events / options->rounds, stored = 0;
    double seconds = 0;
    results->sustained = 0;
    //  The warm-up, by the loops and the worker alike, not counted: a
    //  worker just started fills its caches of each organisation (names,
    //  its tree's last tile) from the store as its first events arrive,
    //  where the loops load theirs when they open
    s_burst_t warm;
    int rc = s_ceilings_round (ceilings, options, options->preload, s_WARMUP_EVENTS, NULL);
    if (rc == 0) {
        sync ();
        s_burst (pub, monitor, options->preload, s_WARMUP_EVENTS, &buffer, &warm);
        rc = warm.stored == s_WARMUP_EVENTS? 0: -1;
    }
    for (int round = 0; rc == 0 && round < options->rounds; round++) {
        long first = options->preload + s_WARMUP_EVENTS + round * round_size;
        double log_seconds = 0;
        rc = s_ceilings_round (ceilings, options, first, round_size, &log_seconds);
        if (rc != 0)
            break;
        sync ();
        s_burst_t burst;
        s_burst (pub, monitor, first, round_size, &buffer, &burst);
        stored += burst.stored;
        seconds += burst.seconds;
        results->ratios [round] = log_seconds / burst.seconds;
        if (round == 0 || burst.slowest < results->sustained)
            results->sustained = burst.slowest;
    }
    long written = round_size * options->rounds;
    results->rate = (double) stored / seconds;
    results->loss = written - stored;
    printf ("worker:     %ld published in %d bursts, %ld stored in %.2f s: %.0f events/s stored"
            " (slowest %d-event stretch %.0f/s), loss %ld\n", written, options->rounds, stored,
            seconds, results->rate, BENCH_MONITOR_WINDOW, results->sustained, results->loss);
    msgpack_sbuffer_destroy (&buffer);
    int closed = s_ceilings_close (ceilings, written, results);
    return rc == 0? closed: -1;
}

static void
s_percentiles (bench_monitor_t *monitor, s_results_t *results)
{
    long count = atomic_load (&monitor->latency_count);
    count = count < monitor->latency_capacity? count: monitor->latency_capacity;
    if (count <= 0)
        return;
    qsort (monitor->latency, (size_t) count, sizeof (int64_t), s_compare);
    results->p50 = monitor->latency [count / 2];
    results->p99 = monitor->latency [count * 99 / 100];
    results->max = monitor->latency [count - 1];
    printf ("latency:    publish-to-stored p50 %lld ms, p99 %lld ms, max %lld ms (%ld events)\n",
            (long long) results->p50, (long long) results->p99, (long long) results->max, count);
}

//  Paced in 1 ms steps so the rate is even, not bursts once a second
static void
s_phase_latency (zsock_t *pub, bench_monitor_t *monitor, const s_options_t *options,
                 s_results_t *results)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    atomic_store (&monitor->mode, BENCH_MONITOR_ROWS);
    zclock_sleep (4 * BENCH_MONITOR_COUNT_MS);     //  the reader's baseline is now
    long first = atomic_load (&monitor->seen);
    long total = options->rate * options->seconds;
    int64_t start = audit_time_now_ms ();
    //  past the warm-up and the bursts
    uint64_t base = (uint64_t) (options->preload + s_WARMUP_EVENTS + options->events);
    for (long index = 0; index < total; ) {
        long due = (long) ((audit_time_now_ms () - start) * options->rate / 1000);
        for (; index < due && index < total; index++)
            s_publish (pub, base + (uint64_t) index, audit_time_now_ms (), &buffer);
        zclock_sleep (1);
    }
    bench_monitor_wait (monitor, first + total);
    zclock_sleep (4 * BENCH_MONITOR_ROWS_MS);
    long stored = atomic_load (&monitor->seen) - first;
    results->latency_loss = total - stored;
    printf ("latency:    %ld events at %ld/s, %ld stored, loss %ld\n", total, options->rate,
            stored, results->latency_loss);
    s_percentiles (monitor, results);
    msgpack_sbuffer_destroy (&buffer);
}

//  Copy the base (for the ceilings and for the worker), start the worker,
//  run the two phases, stop it
static int
s_phase_worker (const s_options_t *options, const char *base, s_results_t *results)
{
    static bench_monitor_t monitor;
    s_ceilings_t ceilings;
    if (s_ceilings_open (options, base, &ceilings) != 0) {
        s_ceilings_close (&ceilings, 0, results);
        return -1;
    }
    snprintf (monitor.dir, sizeof monitor.dir, "%s/run", options->dir);
    if (s_copy_dir (base, monitor.dir) != 0) {
        s_ceilings_close (&ceilings, 0, results);
        return -1;
    }
    char endpoint [64], ack_endpoint [64];
    int port = 20000 + 2 * (getpid () % 10000);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (ack_endpoint, sizeof ack_endpoint, "tcp://127.0.0.1:%d", port + 1);
    monitor.latency_capacity = options->rate * options->seconds + 1000;
    monitor.latency = calloc ((size_t) monitor.latency_capacity, sizeof *monitor.latency);
    monitor.worker = bench_worker_start (monitor.dir, endpoint, ack_endpoint, options->batch, 0);
    zsock_t *pub = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (pub, 0);
    zsock_connect (pub, "%s", endpoint);
    bench_worker_wait_connected (pub, monitor.dir);
    bench_monitor_start (&monitor);
    zclock_sleep (50);
    printf ("worker:     audit-ingest pid %d on %s, store holds %lld events\n",
            (int) monitor.worker, endpoint, (long long) bench_worker_stored (monitor.dir));
    int rc = s_phase_throughput (pub, &monitor, &ceilings, options, results);
    if (rc == 0)
        s_phase_latency (pub, &monitor, options, results);
    results->rss_hwm_kib = bench_monitor_status_kib (monitor.worker, "VmHWM:");
    results->wal_peak_mib = (double) atomic_load (&monitor.wal_peak) / s_MIB;
    bench_monitor_stop (&monitor);
    int status = bench_worker_stop (monitor.worker);
    printf ("worker:     peak RSS (VmHWM) %.1f MiB (largest sampled %.1f MiB), WAL peak %.1f MiB,"
            " gaps it counted %lld, exit %d\n", (double) results->rss_hwm_kib / 1024.0,
            (double) atomic_load (&monitor.rss_peak_kib) / 1024.0, results->wal_peak_mib,
            (long long) bench_worker_scalar (monitor.dir, "audit.db", "SELECT coalesce (sum (value), 0)"
                                  " FROM counter WHERE name LIKE 'ingest.gaps.%'"),
            status);
    zsock_destroy (&pub);
    free (monitor.latency);
    free (monitor.last);
    free (monitor.now_index);
    return s_shell ("rm -rf '%s'%s", monitor.dir, "") == 0? rc: -1;
}

//  -D: the decoder alone, on the bodies the other phases publish: the
//  share of an event's ingest cost spent validating it. Bodies are packed
//  first (a pool that fits in cache, as a burst does); each round decodes
//  them all, and the best of the rounds is reported.
#define s_DECODE_POOL    4096
#define s_DECODE_ROUNDS  5

static int
s_phase_decode (long count)
{
    msgpack_sbuffer *pool = calloc (s_DECODE_POOL, sizeof *pool);
    audit_record_t record;
    audit_decode_info_t info;
    int64_t now = audit_time_now_ms ();
    for (int index = 0; index < s_DECODE_POOL; index++) {
        bench_feed_t event;
        msgpack_sbuffer_init (&pool [index]);
        bench_feed_make ((uint64_t) index, now - 1000, s_run_salt, &event);
        bench_feed_pack (&event, (uint64_t) index + 1, &pool [index]);
    }
    double best_ns = 0;
    int64_t refused = 0;
    for (int round = 0; round < s_DECODE_ROUNDS; round++) {
        int64_t start = zclock_usecs ();
        for (long done = 0; done < count; done++) {
            msgpack_sbuffer *body = &pool [done % s_DECODE_POOL];
            refused += audit_decode_record (AUDIT_TOPIC_KIND_AUDIT, body->data, body->size,
                                            now, &record, &info) != 0;
        }
        double ns = (double) (zclock_usecs () - start) * 1000.0 / (double) count;
        best_ns = round == 0 || ns < best_ns? ns: best_ns;
    }
    printf ("decode: %ld bodies x %d rounds, best %.0f ns/event (%.0f events/s on one core),"
            " refused %lld\n", count, s_DECODE_ROUNDS, best_ns, 1e9 / best_ns, (long long) refused);
    for (int index = 0; index < s_DECODE_POOL; index++)
        msgpack_sbuffer_destroy (&pool [index]);
    free (pool);
    return refused == 0? 0: 1;
}

//  --------------------------------------------------------------------------
//  Main

static void
s_options (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { 5000000, 1000000, 32768, 10000, 10, 4, "", false, false };
    int opt;
    while ((opt = getopt (argc, argv, "n:m:b:r:R:s:d:D")) != -1)
        switch (opt) {
            case 'D': options->decode_only = true; break;
            case 'n': options->preload = atol (optarg); break;
            case 'm': options->events = atol (optarg); break;
            case 'b': options->batch = atol (optarg); break;
            case 'r': options->rate = atol (optarg); break;
            case 'R': options->rounds = atoi (optarg); break;
            case 's': options->seconds = atol (optarg); break;
            case 'd': snprintf (options->dir, sizeof options->dir, "%s", optarg); break;
            default:
                fprintf (stderr, "usage: bench-ingest [-n N0] [-m M] [-b B] [-r RATE]"
                         " [-R ROUNDS] [-s SECONDS] [-d DIR] [-D]\n");
                exit (2);
        }
    if (options->preload < 0 || options->events <= 0 || options->batch <= 0 || options->batch > 65536
    ||  options->rate <= 0 || options->seconds <= 0 || options->rounds < 1
    ||  options->rounds > s_ROUNDS_MAX || options->events < options->rounds)
        exit (2);
    options->keep = options->dir [0] != 0;
    if (!options->keep && !options->decode_only) {
        snprintf (options->dir, sizeof options->dir, "/tmp/bench-ingest-XXXXXX");
        if (!mkdtemp (options->dir))
            exit (1);
    }
}

static int
s_compare_double (const void *left, const void *right)
{
    double a = *(const double *) left, b = *(const double *) right;
    return a < b ? -1 : a > b;
}

//  Each round's worker / bare loop, and their median
static void
s_print_ratios (const s_options_t *options, const s_results_t *results)
{
    double sorted [s_ROUNDS_MAX];
    int count = options->rounds;
    memcpy (sorted, results->ratios, (size_t) count * sizeof *sorted);
    qsort (sorted, (size_t) count, sizeof *sorted, s_compare_double);
    double median = count % 2? sorted [count / 2]: (sorted [count / 2 - 1] + sorted [count / 2]) / 2;
    printf ("| worker / bare loop of each round, median (min - max) | %.1f %% (%.1f - %.1f %%):",
            100 * median, 100 * sorted [0], 100 * sorted [count - 1]);
    for (int round = 0; round < count; round++)
        printf (" %.0f", 100 * results->ratios [round]);
    printf (" | |\n");
}

static void
s_summary (const s_options_t *options, const s_results_t *results)
{
    double load [3] = { 0, 0, 0 };
    if (getloadavg (load, 3) < 0)
        load [0] = -1;
    printf ("\n----- summary (bench-ingest) -----\n");
    printf ("machine: %ld cores; SQLite %s; load average at the end %.2f %.2f %.2f\n",
            sysconf (_SC_NPROCESSORS_ONLN), sqlite3_libversion (), load [0], load [1], load [2]);
    printf ("store: %ld events preloaded, %d organisations, random version-4 ids;"
            " burst %ld; batch %ld (bare loop and --ingest-batch)\n\n", options->preload, BENCH_FEED_ORGS,
            options->events, options->batch);
    printf ("| figure | measured | issue 9 target |\n|---|---|---|\n");
    printf ("| worker, events/s stored over the burst | **%.0f** (slowest %d: %.0f), loss %ld |"
            " >= 100,000 at 5M stored, >= 80,000 at 20M, zero loss |\n", results->rate, BENCH_MONITOR_WINDOW,
            results->sustained, results->loss);
    printf ("| bare prepared-statement loop, same run, the rows the worker writes (events"
            " and the log's) | %.0f | the ceiling |\n", results->log_bare_rate);
    printf ("| worker / bare loop | **%.1f %%** | >= 80 %% |\n",
            results->log_bare_rate > 0? 100.0 * results->rate / results->log_bare_rate: 0);
    s_print_ratios (options, results);
    printf ("| bare loop of the event rows alone (no leaf_tag, no tree rows), same run | %.0f"
            " | |\n", results->bare_rate);
    printf ("| worker / that loop | %.1f %% | |\n",
            results->bare_rate > 0? 100.0 * results->rate / results->bare_rate: 0);
    printf ("| publish-to-stored at %ld/s | p50 %lld ms, **p99 %lld ms**, max %lld ms, loss %ld |"
            " p99 < 100 ms at 10,000/s |\n", options->rate, (long long) results->p50,
            (long long) results->p99, (long long) results->max, results->latency_loss);
    printf ("| worker peak RSS (VmHWM) | %.1f MiB | < 64 MiB |\n", (double) results->rss_hwm_kib / 1024.0);
    printf ("| WAL peak (worker) | %.1f MiB | < 64 MiB |\n", results->wal_peak_mib);
}

int
main (int argc, char **argv)
{
    s_options_t options;
    s_options (argc, argv, &options);
    setvbuf (stdout, NULL, _IOLBF, 0);
    s_run_salt = (uint64_t) audit_time_now_ms () << 20;
    if (options.decode_only)
        return s_phase_decode (options.events);
    zsys_init ();
    char base [600];
    snprintf (base, sizeof base, "%s/base", options.dir);
    s_results_t results = { 0 };
    int rc = s_base_ready (&options, base);
    rc = rc? rc: s_phase_worker (&options, base, &results);
    if (rc == 0)
        s_summary (&options, &results);
    if (!options.keep && s_shell ("rm -rf '%s'%s", options.dir, "") != 0)
        rc = -1;
    return rc == 0? 0: 1;
}
