/*  =========================================================================
    bench-producer - one producer through libaudit-producer against one
    real audit-ingest, and the raw PUB ceiling of the same worker, in one run

    1. A fresh data directory (DIR/data, DIR emptied first) and the real
       audit-ingest on it (bench_worker), its SUB and its ack ROUTER on
       127.0.0.1.
    2. The ceiling: a child process (this program again, exec'd, so that it
       shares no thread, lock or ZeroMQ context with us, and its memory is
       not counted as the producer's) publishes N events (bench_feed:
       random version-4 ids over 1,000 organisations, producer_id and seq
       set) on a plain PUB, no library and no acks, as fast as it can; time
       from its first send until every one is stored (the sum of
       org.next_index, bench_monitor). Run once before the library's
       phases and once after them, on a store that is N + RATE x SECONDS
       and 2N + RATE x SECONDS events larger: the store slows as it grows,
       and the library's burst sits between the two; their mean is the
       ceiling.
    3. Latency: RATE events/s (default 10,000) for SECONDS (default 10)
       through audit_producer_publish, paced in 1 ms steps. Each publish is
       timed (monotonic, us) just before the call. The library has no
       per-seq ack notification, so a watcher thread reads
       audit_producer_stats every 250 us and notes, for each seq that
       acked_seq (and durable_seq) passed since its last read, the time of
       that read: the figure is late by at most one poll interval plus the
       watcher's wake-up delay, never early. It is when the application
       can see the ack (flush and stats); the store's own rows give
       publish-to-stored alongside (bench_monitor: 2 ms polls, ms stamps).
    4. The library, flat out: N events without producer_id and seq (the
       library validates, stamps, writes its SQLite outbox with one fsync
       per group, sends, trims); time from the first publish until every
       one is durable in the outbox (audit_producer_sync), stored (the
       store's rows) and acknowledged (audit_producer_flush). An
       outbox_full refusal is retried after 1 ms and counted. The CPU each
       process and thread spent, per event (/proc/PID/stat, getrusage).
    5. The outbox's size (file and WAL) sampled every 5 ms throughout 3 and
       4, its size when everything is acknowledged and trimmed, and after
       close (pages in use, free pages, rows); the worker's peak RSS
       (VmHWM) and this process's (getrusage: the library, and the
       benchmark's monitor and watcher threads, whose share is the figure
       before the producer was made), after the paced phase and at the end.

    Usage: bench-producer [-n N] [-r RATE] [-s SECONDS] [-b BATCH] [-w WINDOW] [-f MS] [-d DIR] [-h]
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <msgpack.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "audit_producer.h"
#include "audit_time.h"
#include "bench_feed.h"
#include "bench_monitor.h"
#include "bench_raw.h"
#include "bench_wal.h"
#include "bench_worker.h"

#define s_MIB           1048576.0
#define s_WATCH_US      250         //  the ack watcher's poll while timing
#define s_SIZE_MS       5           //  the outbox's size, sampled
#define s_LIB_ID        "bench-lib"

typedef struct {
    long events, rate, seconds, batch, window, flush_ms;
    char dir [512];
    bool keep;
} s_options_t;

typedef struct {
    bench_raw_t raw [2];            //  before and after the library's burst
    double raw_rate;                //  their mean: the ceiling
    double ready_ms, call_rate, durable_rate, stored_rate, acked_rate;
    long full_waits, lib_loss;
    double worker_us, caller_us, rest_us;   //  CPU per event, flat out
    uint64_t sent, resent, rejected;
    int64_t ack [3], durable [3], stored [3];   //  p50, p99, max: us, us, ms
    long timed;
    int64_t outbox_peak, outbox_acked, outbox_used, outbox_free, outbox_rows;
    uint64_t held_peak;
    long worker_hwm_kib, self_base_kib, self_paced_kib, self_kib;
    double load_start;
} s_results_t;

static uint64_t s_salt;

static int64_t
s_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

//  CPU time of the process (RUSAGE_SELF) or the calling thread, in us
static int64_t
s_cpu_us (int who)
{
    struct rusage usage;
    if (getrusage (who, &usage) != 0)
        return 0;
    return (int64_t) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000
         + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static long
s_self_rss_kib (void)
{
    struct rusage usage;
    return getrusage (RUSAGE_SELF, &usage) == 0 ? usage.ru_maxrss : -1;
}

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

//  p50, p99 and max of values (sorted in place)
static void
s_percentiles (int64_t *values, long count, int64_t *out)
{
    out [0] = out [1] = out [2] = -1;
    if (count <= 0)
        return;
    qsort (values, (size_t) count, sizeof *values, s_compare);
    out [0] = values [count / 2];
    out [1] = values [count * 99 / 100];
    out [2] = values [count - 1];
}

//  --------------------------------------------------------------------------
//  The watcher: the outbox's size, and when each timed seq became durable
//  and acknowledged as audit_producer_stats shows it

typedef struct {
    pthread_t thread;
    audit_producer_t *producer;
    char dir [512];                 //  of outbox.db
    atomic_bool stop, timing;
    atomic_llong size_peak;
    atomic_ullong held_peak;
    uint64_t first, count;          //  the timed seqs: first .. first + count - 1
    uint64_t acked_upto, durable_upto;
    int64_t *acked_us, *durable_us;
} s_watch_t;

//  The outbox file and its WAL, in bytes
static int64_t
s_outbox_size (const char *dir)
{
    return bench_wal_file_size (dir, "outbox.db") + bench_wal_file_size (dir, "outbox.db-wal");
}

//  Note now for each timed seq in (*upto, seq]
static void
s_watch_mark (s_watch_t *self, uint64_t *upto, uint64_t seq, int64_t *times, int64_t now)
{
    uint64_t last = self->first + self->count - 1;
    for (uint64_t at = *upto + 1; at <= seq && at <= last; at++)
        if (at >= self->first)
            times [at - self->first] = now;
    if (seq > *upto)
        *upto = seq;
}

static void *
s_watch_run (void *arg)
{
    s_watch_t *self = arg;
    int64_t sampled = 0;
    while (!atomic_load (&self->stop)) {
        audit_producer_stats_t stats;
        audit_producer_stats (self->producer, &stats);
        int64_t now = s_now_us ();
        if (atomic_load (&self->timing)) {
            s_watch_mark (self, &self->durable_upto, stats.durable_seq, self->durable_us, now);
            s_watch_mark (self, &self->acked_upto, stats.acked_seq, self->acked_us, now);
        }
        if (stats.held > atomic_load (&self->held_peak))
            atomic_store (&self->held_peak, stats.held);
        if (now - sampled >= s_SIZE_MS * 1000) {
            int64_t size = s_outbox_size (self->dir);
            if (size > atomic_load (&self->size_peak))
                atomic_store (&self->size_peak, size);
            sampled = now;
        }
        usleep (atomic_load (&self->timing) ? s_WATCH_US : s_SIZE_MS * 1000);
    }
    return NULL;
}

//  --------------------------------------------------------------------------
//  The library

static long s_full_waits;

//  Publish event number n now; an outbox_full refusal waits 1 ms and tries
//  again. The seq it got, or 0 when refused for another reason.
static uint64_t
s_publish (audit_producer_t *producer, uint64_t n, msgpack_sbuffer *buffer)
{
    bench_feed_t event;
    bench_feed_make (n, audit_time_now_ms (), s_salt, &event);
    bench_feed_pack_as (&event, NULL, 0, buffer);
    audit_producer_receipt_t receipt;
    while (audit_producer_publish (producer, "audit", buffer->data, buffer->size, &receipt)) {
        if (strcmp (receipt.reason, "outbox_full") != 0) {
            fprintf (stderr, "publish refused: %s %s\n", receipt.reason, receipt.field);
            return 0;
        }
        s_full_waits++;
        zclock_sleep (1);
    }
    return receipt.seq;
}

static int
s_phase_flat (audit_producer_t *producer, bench_monitor_t *monitor,
              const s_options_t *options, uint64_t base, s_results_t *results)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    long first = atomic_load (&monitor->seen);
    int64_t start = audit_time_now_ms (), start_us = s_now_us ();
    int64_t worker_ms = bench_worker_cpu_ms (monitor->worker);
    int64_t self_us = s_cpu_us (RUSAGE_SELF), caller_us = s_cpu_us (RUSAGE_THREAD);
    atomic_store (&monitor->last_seen_ms, start);
    int rc = 0;
    for (long index = 0; rc == 0 && index < options->events; index++)
        rc = s_publish (producer, base + (uint64_t) index, &buffer) ? 0 : -1;
    double called = (double) (s_now_us () - start_us) / 1e6;
    rc = rc ? rc : audit_producer_sync (producer, 120000);
    double durable = (double) (s_now_us () - start_us) / 1e6;
    rc = rc ? rc : audit_producer_flush (producer, 120000);
    double acked = (double) (s_now_us () - start_us) / 1e6;
    bench_monitor_wait (monitor, first + options->events);
    long stored = atomic_load (&monitor->seen) - first;
    double stored_s = (double) (atomic_load (&monitor->last_seen_ms) - start) / 1000.0;
    results->call_rate = (double) options->events / called;
    results->durable_rate = (double) options->events / durable;
    results->acked_rate = rc == 0 ? (double) options->events / acked : 0;
    results->stored_rate = (double) stored / stored_s;
    results->lib_loss = options->events - stored;
    results->full_waits = s_full_waits;
    double events = (double) options->events;
    results->worker_us = (double) (bench_worker_cpu_ms (monitor->worker) - worker_ms) * 1000.0 / events;
    caller_us = s_cpu_us (RUSAGE_THREAD) - caller_us;
    results->caller_us = (double) caller_us / events;
    results->rest_us = (double) (s_cpu_us (RUSAGE_SELF) - self_us - caller_us) / events;
    printf ("library:    %ld published in %.2f s (%.0f calls/s, %ld outbox_full waits of 1 ms),"
            " durable %.2f s (%.0f/s), stored %ld in %.2f s (%.0f/s), acknowledged in %.2f s"
            " (%.0f/s)%s\n", options->events, called, results->call_rate, s_full_waits, durable,
            results->durable_rate, stored, stored_s, results->stored_rate, acked,
            results->acked_rate, rc ? ": FLUSH TIMED OUT" : "");
    printf ("library:    CPU per event: worker %.1f us, publishing thread %.1f us, the rest of this"
            " process (the library's thread, the monitor, the watcher) %.1f us\n",
            results->worker_us, results->caller_us, results->rest_us);
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

//  Paced in 1 ms steps, each publish timed just before the call
static int
s_phase_latency (audit_producer_t *producer, bench_monitor_t *monitor, s_watch_t *watch,
                 const s_options_t *options, uint64_t base, s_results_t *results)
{
    long total = options->rate * options->seconds;
    int64_t *published = calloc ((size_t) total, sizeof *published);
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    watch->first = stats.last_seq + 1;
    watch->count = (uint64_t) total;
    watch->acked_upto = watch->durable_upto = stats.last_seq;
    atomic_store (&watch->timing, true);
    atomic_store (&monitor->mode, BENCH_MONITOR_ROWS);
    zclock_sleep (4 * BENCH_MONITOR_COUNT_MS);     //  the reader's baseline is now
    long first = atomic_load (&monitor->seen);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int64_t start = s_now_us ();
    int rc = 0;
    for (long index = 0; rc == 0 && index < total; ) {
        long due = (long) ((s_now_us () - start) * options->rate / 1000000);
        for (; rc == 0 && index < due && index < total; index++) {
            published [index] = s_now_us ();
            rc = s_publish (producer, base + (uint64_t) index, &buffer)
                 == watch->first + (uint64_t) index ? 0 : -1;
        }
        zclock_sleep (1);
    }
    rc = rc ? rc : audit_producer_flush (producer, 60000);
    zclock_sleep (10 * s_WATCH_US / 1000 + 2);
    atomic_store (&watch->timing, false);
    bench_monitor_wait (monitor, first + total);
    zclock_sleep (4 * BENCH_MONITOR_ROWS_MS);
    atomic_store (&monitor->mode, BENCH_MONITOR_COUNT);
    for (long index = 0; index < total; index++) {
        watch->acked_us [index] -= published [index];
        watch->durable_us [index] -= published [index];
    }
    s_percentiles (watch->acked_us, total, results->ack);
    s_percentiles (watch->durable_us, total, results->durable);
    long rows = atomic_load (&monitor->latency_count);
    s_percentiles (monitor->latency, rows < monitor->latency_capacity ? rows : monitor->latency_capacity,
                   results->stored);
    results->timed = total;
    printf ("latency:    %ld events at %ld/s, %ld stored%s\n", total, options->rate,
            atomic_load (&monitor->seen) - first, rc ? ": NOT ALL ACKNOWLEDGED" : "");
    printf ("latency:    publish-to-ack p50 %.1f ms, p99 %.1f ms, max %.1f ms;"
            " publish-to-durable p50 %.1f ms, p99 %.1f ms; publish-to-stored p50 %lld ms,"
            " p99 %lld ms, max %lld ms\n", results->ack [0] / 1e3, results->ack [1] / 1e3,
            results->ack [2] / 1e3, results->durable [0] / 1e3, results->durable [1] / 1e3,
            (long long) results->stored [0], (long long) results->stored [1],
            (long long) results->stored [2]);
    msgpack_sbuffer_destroy (&buffer);
    free (published);
    return rc;
}

//  Wait until the producer is subscribed and answered (the slow joiner)
static int
s_wait_ready (audit_producer_t *producer, s_results_t *results)
{
    int64_t start = s_now_us ();
    audit_producer_stats_t stats = { .ready = false };
    while (!stats.ready && s_now_us () - start < 10000000) {
        zclock_sleep (1);
        audit_producer_stats (producer, &stats);
    }
    results->ready_ms = (double) (s_now_us () - start) / 1e3;
    printf ("library:    ready (subscribed, hello answered) after %.1f ms\n", results->ready_ms);
    return stats.ready ? 0 : -1;
}

//  The outbox file after close: pages in use and free, rows left
static void
s_outbox_after (const char *dir, s_results_t *results)
{
    const char *path = "outbox.db";
    int64_t page = bench_worker_scalar (dir, path, "PRAGMA page_size");
    results->outbox_used = page * bench_worker_scalar (dir, path, "PRAGMA page_count");
    results->outbox_free = page * bench_worker_scalar (dir, path, "PRAGMA freelist_count");
    results->outbox_rows = bench_worker_scalar (dir, path, "SELECT count(*) FROM outbox_event");
}

static void
s_on_rejected (void *arg, const audit_producer_rejection_t *rejection)
{
    (void) arg;
    fprintf (stderr, "rejected: seq %llu %s %s\n", (unsigned long long) rejection->seq,
             rejection->reason, rejection->field);
}

//  Make the producer, run phases 3 and 4 with the watcher, close it
static int
s_phase_library (const s_options_t *options, const char *endpoint, const char *ack_endpoint,
                 bench_monitor_t *monitor, s_results_t *results)
{
    static s_watch_t watch;
    char outbox [600];
    snprintf (watch.dir, sizeof watch.dir, "%s", options->dir);
    snprintf (outbox, sizeof outbox, "%s/outbox.db", options->dir);
    long total = options->rate * options->seconds;
    watch.acked_us = calloc ((size_t) total, sizeof (int64_t));
    watch.durable_us = calloc ((size_t) total, sizeof (int64_t));
    audit_producer_options_t settings;
    audit_producer_options_init (&settings);
    settings.window = (uint64_t) options->window;
    settings.on_rejected = s_on_rejected;
    results->self_base_kib = s_self_rss_kib ();
    watch.producer = audit_producer_new_with (endpoint, ack_endpoint, s_LIB_ID, outbox,
                                              &settings);
    if (!watch.producer)
        return -1;
    pthread_create (&watch.thread, NULL, s_watch_run, &watch);
    int rc = s_wait_ready (watch.producer, results);
    long events = options->events;
    rc = rc ? rc : s_phase_latency (watch.producer, monitor, &watch, options, (uint64_t) events,
                                    results);
    results->self_paced_kib = s_self_rss_kib ();
    rc = rc ? rc : s_phase_flat (watch.producer, monitor, options, (uint64_t) (events + total),
                                 results);
    rc = rc ? rc : bench_raw_burst (endpoint, monitor, 2 * events + total, events, s_salt,
                                    &results->raw [1]);
    atomic_store (&watch.stop, true);
    pthread_join (watch.thread, NULL);
    results->outbox_acked = s_outbox_size (watch.dir);
    results->outbox_peak = atomic_load (&watch.size_peak);
    results->held_peak = atomic_load (&watch.held_peak);
    audit_producer_stats_t stats;
    audit_producer_stats (watch.producer, &stats);
    results->sent = stats.sent;
    results->resent = stats.resent;
    results->rejected = stats.rejected;
    results->self_kib = s_self_rss_kib ();
    audit_producer_destroy (&watch.producer);
    s_outbox_after (watch.dir, results);
    printf ("library:    sent %llu (resent %llu), rejected %llu; outbox peak %.1f MiB (%llu events"
            " held at most), %.1f MiB when all acknowledged; after close %.1f MiB of which %.1f MiB"
            " free pages, %lld rows\n", (unsigned long long) stats.sent,
            (unsigned long long) stats.resent, (unsigned long long) stats.rejected,
            (double) results->outbox_peak / s_MIB, (unsigned long long) results->held_peak,
            (double) results->outbox_acked / s_MIB, (double) results->outbox_used / s_MIB,
            (double) results->outbox_free / s_MIB, (long long) results->outbox_rows);
    free (watch.acked_us);
    free (watch.durable_us);
    return rc;
}

//  --------------------------------------------------------------------------
//  Main

static void
s_usage (FILE *out)
{
    fprintf (out,
        "usage: bench-producer [-n N] [-r RATE] [-s SECONDS] [-b BATCH] [-w WINDOW] [-f MS] [-d DIR] [-h]\n"
        "  one real audit-ingest on a fresh DIR/data; in one run:\n"
        "  the ceiling (N events on a raw PUB), N events through libaudit-producer flat out\n"
        "  (durable, stored, acknowledged), then RATE events/s for SECONDS through the\n"
        "  library: publish-to-ack p50/p99/max; the outbox's size; both peak RSS\n"
        "  -n N        events in each burst (default 1000000)\n"
        "  -r RATE     events/s of the latency phase (default 10000)\n"
        "  -s SECONDS  length of the latency phase (default 10)\n"
        "  -b BATCH    the worker's --ingest-batch (default 32768)\n"
        "  -w WINDOW   the library's window, events in flight (default 100000)\n"
        "  -f MS       the worker's --ingest-flush-ms (default: the worker's, 50)\n"
        "  -d DIR      work in DIR (emptied first, kept after); default a new /tmp dir, removed\n");
}

static void
s_options (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { 1000000, 10000, 10, 32768, 100000, 0, "", false };
    int opt;
    while ((opt = getopt (argc, argv, "n:r:s:b:w:f:d:h")) != -1)
        switch (opt) {
            case 'n': options->events = atol (optarg); break;
            case 'r': options->rate = atol (optarg); break;
            case 's': options->seconds = atol (optarg); break;
            case 'b': options->batch = atol (optarg); break;
            case 'w': options->window = atol (optarg); break;
            case 'f': options->flush_ms = atol (optarg); break;
            case 'd': snprintf (options->dir, sizeof options->dir, "%s", optarg); break;
            case 'h': s_usage (stdout); exit (0);
            default: s_usage (stderr); exit (2);
        }
    if (options->events <= 0 || options->rate <= 0 || options->seconds <= 0
    ||  options->batch <= 0 || options->batch > 65536 || options->window <= 0
    ||  options->flush_ms < 0 || options->flush_ms > 1000) {
        s_usage (stderr);
        exit (2);
    }
    options->keep = options->dir [0] != 0;
    if (!options->keep) {
        snprintf (options->dir, sizeof options->dir, "/tmp/bench-producer-XXXXXX");
        if (!mkdtemp (options->dir))
            exit (1);
    }
}

static const char *
s_mark (bool met)
{
    return met ? "✓" : "✗";
}

static void
s_summary (const s_options_t *options, const s_results_t *results)
{
    double load [3] = { 0, 0, 0 };
    getloadavg (load, 3);
    printf ("\n----- summary (bench-producer) -----\n");
    printf ("machine: %ld cores; SQLite %s; load average at the start %.2f, at the end %.2f %.2f %.2f\n",
            sysconf (_SC_NPROCESSORS_ONLN), sqlite3_libversion (), results->load_start,
            load [0], load [1], load [2]);
    printf ("one audit-ingest on a fresh store, --ingest-batch %ld; bursts of %ld; library window"
            " %ld\n\n", options->batch, options->events, options->window);
    bool enough = results->acked_rate >= 50000, close = results->acked_rate * 2 >= results->raw_rate;
    printf ("| figure | measured | issue 10 target |\n|---|---|---|\n");
    printf ("| raw PUB, events/s stored (no library, no acks), before / after the library's burst |"
            " %.0f / %.0f (mean %.0f), loss %ld / %ld | the ceiling |\n", results->raw [0].rate,
            results->raw [1].rate, results->raw_rate, results->raw [0].loss, results->raw [1].loss);
    printf ("| library flat out, events/s stored and acknowledged | **%.0f** acknowledged (%.0f stored,"
            " %.0f durable in the outbox), loss %ld, resent %llu | >= 50,000 %s |\n", results->acked_rate,
            results->stored_rate, results->durable_rate, results->lib_loss,
            (unsigned long long) results->resent, s_mark (enough));
    printf ("| library / raw PUB | %.1f %% (raw / library %.2fx) | within 2x %s |\n",
            results->raw_rate > 0 ? 100.0 * results->acked_rate / results->raw_rate : 0,
            results->acked_rate > 0 ? results->raw_rate / results->acked_rate : 0, s_mark (close));
    printf ("| publish-to-ack at %ld/s (%ld events) | p50 %.1f ms, **p99 %.1f ms**, max %.1f ms"
            " (durable p99 %.1f ms; stored p99 %lld ms) | p99 <= 100 ms %s |\n", options->rate,
            results->timed, results->ack [0] / 1e3, results->ack [1] / 1e3, results->ack [2] / 1e3,
            results->durable [1] / 1e3, (long long) results->stored [1],
            s_mark (results->ack [1] >= 0 && results->ack [1] <= 100000));
    printf ("| outbox on disk | peak %.1f MiB (%llu events held); all acknowledged %.1f MiB; after"
            " close %.1f MiB, %.1f MiB of it free pages, %lld rows | |\n",
            (double) results->outbox_peak / s_MIB, (unsigned long long) results->held_peak,
            (double) results->outbox_acked / s_MIB, (double) results->outbox_used / s_MIB,
            (double) results->outbox_free / s_MIB, (long long) results->outbox_rows);
    printf ("| peak RSS: worker (VmHWM) / producer process (getrusage) | %.1f MiB / %.1f MiB"
            " after the flat-out burst, %.1f MiB after the paced phase, %.1f MiB before the producer"
            " was made | |\n", (double) results->worker_hwm_kib / 1024.0,
            (double) results->self_kib / 1024.0, (double) results->self_paced_kib / 1024.0,
            (double) results->self_base_kib / 1024.0);
}

int
main (int argc, char **argv)
{
    if (bench_raw_is_child (argc, argv))
        return bench_raw_child (argv);
    s_options_t options;
    s_options (argc, argv, &options);
    setvbuf (stdout, NULL, _IOLBF, 0);
    s_salt = (uint64_t) audit_time_now_ms () << 20;
    s_results_t results = { 0 };
    double load [3];
    results.load_start = getloadavg (load, 3) > 0 ? load [0] : -1;
    static bench_monitor_t monitor;
    snprintf (monitor.dir, sizeof monitor.dir, "%s/data", options.dir);
    char command [1300], endpoint [64], ack_endpoint [64];
    //  The whole directory: an outbox left by another run would continue
    //  a run this fresh store never saw (acknowledged seq 0 for ever)
    snprintf (command, sizeof command, "rm -rf '%s' && mkdir -p '%s'", options.dir, monitor.dir);
    if (system (command) != 0)
        return 1;
    int port = 20001 + 2 * (getpid () % 10000);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    snprintf (ack_endpoint, sizeof ack_endpoint, "tcp://127.0.0.1:%d", port + 1);
    monitor.latency_capacity = options.rate * options.seconds + 1000;
    monitor.latency = calloc ((size_t) monitor.latency_capacity, sizeof *monitor.latency);
    monitor.worker = bench_worker_start (monitor.dir, endpoint, ack_endpoint, options.batch,
                                         (int) options.flush_ms);
    for (int tries = 0; tries < 500 && bench_worker_stored (monitor.dir) < 0; tries++)
        zclock_sleep (10);
    printf ("worker:     audit-ingest pid %d on %s, acks on %s, data %s\n", (int) monitor.worker,
            endpoint, ack_endpoint, monitor.dir);
    bench_monitor_start (&monitor);
    zclock_sleep (4 * BENCH_MONITOR_COUNT_MS);     //  the reader's baseline is now
    int rc = bench_raw_burst (endpoint, &monitor, 0, options.events, s_salt, &results.raw [0]);
    rc = rc ? rc : s_phase_library (&options, endpoint, ack_endpoint, &monitor, &results);
    results.raw_rate = (results.raw [0].rate + results.raw [1].rate) / 2;
    results.worker_hwm_kib = bench_monitor_status_kib (monitor.worker, "VmHWM:");
    bench_monitor_stop (&monitor);
    int status = bench_worker_stop (monitor.worker);
    int64_t stored = bench_worker_stored (monitor.dir);
    int64_t acked = bench_worker_scalar (monitor.dir, "audit.db",
                                         "SELECT acked_seq FROM producer WHERE name = '" s_LIB_ID "'");
    long want = 3 * options.events + options.rate * options.seconds;
    printf ("worker:     peak RSS (VmHWM) %.1f MiB, exit %d; store holds %lld events (%ld published),"
            " the library's acknowledged seq there %lld\n", (double) results.worker_hwm_kib / 1024.0,
            status, (long long) stored, want, (long long) acked);
    if (rc == 0)
        s_summary (&options, &results);
    free (monitor.latency);
    free (monitor.last);
    free (monitor.now_index);
    snprintf (command, sizeof command, "rm -rf '%s'", options.dir);
    if (!options.keep && system (command) != 0)
        rc = -1;
    return rc == 0 && stored == want ? 0 : 1;
}
