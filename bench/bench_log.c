/*  =========================================================================
    bench-log - what does the organisation's log cost the writer, and how
    fast are its proofs?

    1. A base of N0 events (default 5,000,000; bench_events over 1,000
       organisations) in DIR/base, kept between runs (bench_preload).
    2. Two copies of it, "on" and "off" (audit_store_tree_off: no leaves,
       no nodes). M more events (default 1,000,000) go into each through
       the store's batch writer (audit_store_write, 32,768 a transaction,
       as the ingest writer commits them), in alternating rounds so that
       both see the same machine: events/s of each, and on / off.
    3. On the "on" copy, through a read-only store as the query worker
       reads: PROOFS (default 20,000) inclusion proofs of random events of
       random organisations at their log's size, and as many consistency
       proofs from a random earlier size: p50, p99, max in microseconds;
       the same for the one large organisation (-w, its share per mille).

    -r ROUNDS (default 8, at most 64): the alternating rounds; each round's
    on / off is printed too, and their median. -o on / -o off writes one
    copy only (no ratio), for a profiler.

    Usage: bench-log [-n N0] [-m M] [-p PROOFS] [-w PER_MILLE] [-r ROUNDS] [-o on|off] [-d DIR]
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_store.h"
#include "audit_store_log.h"
#include "bench_events.h"
#include "bench_pcache.h"
#include "bench_preload.h"
#include "sqlite_store.h"

#define S_BATCH     32768
#define S_ROUNDS_MAX 64
#define S_EPOCH_MS  1795000000000LL

typedef struct {
    long preload, more, proofs;
    int heavy;
    int only;                           //  -o: 0 both, 1 only on, 2 only off
    int rounds;                         //  -r
    char dir [512];
} s_options_t;

static bench_events_t s_events = { 1000, 0, S_EPOCH_MS, 1 };

static int
s_shell (const char *format, const char *a, const char *b)
{
    char command [2048];
    snprintf (command, sizeof command, format, a, b, a);
    return system (command) == 0? 0: -1;
}

//  Events first .. first + count - 1 into store, in batches: seconds taken
static double
s_write (audit_store_t *store, long first, long count, audit_record_t *records,
         audit_store_outcome_t *outcomes)
{
    int64_t start = zclock_usecs ();
    for (long at = 0; at < count; at += S_BATCH) {
        long batch = count - at < S_BATCH? count - at: S_BATCH;
        for (long index = 0; index < batch; index++)
            bench_events_record (&s_events, first + at + index, &records [index]);
        if (audit_store_write (store, records, (size_t) batch, outcomes, NULL) != 0) {
            fprintf (stderr, "bench-log: a batch failed\n");
            exit (1);
        }
    }
    return (double) (zclock_usecs () - start) / 1e6;
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y? -1: x > y;
}

//  p50 / p99 / max of count timings (us), printed as one line
static void
s_print_timings (const char *what, int64_t *us, long count)
{
    qsort (us, (size_t) count, sizeof *us, s_compare);
    printf ("| %s | p50 %lld us, **p99 %lld us**, max %lld us (%ld) | p99 <= 1 ms |\n", what,
            (long long) us [count / 2], (long long) us [count * 99 / 100],
            (long long) us [count - 1], count);
}

//  count proofs of organisation org (-1: a random one each), inclusion or
//  consistency, timed one by one
static void
s_proofs (audit_store_t *reader, long count, int org, bool consistency, const char *what)
{
    int64_t *us = calloc ((size_t) count, sizeof *us);
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX];
    uint64_t seed = 42;
    for (long at = 0; at < count; at++) {
        seed = bench_events_mix (seed);
        char name [BENCH_EVENTS_NAME_SIZE];
        bench_events_org_name (org >= 0? org: (int) (seed % (uint64_t) s_events.orgs), name);
        uint64_t size = 0;
        audit_store_log_size (reader, name, &size);
        uint64_t pick = bench_events_mix (seed) % (size? size: 1);
        size_t hashes = 0;
        int64_t start = zclock_usecs ();
        int rc = consistency
               ? audit_store_log_consistency (reader, name, pick + 1, size, proof, &hashes)
               : audit_store_log_inclusion (reader, name, pick, size, proof, &hashes);
        us [at] = zclock_usecs () - start;
        if (rc != 0) {
            fprintf (stderr, "bench-log: no proof of %s at %llu\n", name, (unsigned long long) pick);
            exit (1);
        }
    }
    s_print_timings (what, us, count);
    free (us);
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

//  Each round's on / off (the same events into each copy, one after the
//  other): a burst of another process's work moves one round, not the median
static void
s_print_ratios (double *ratios, int count)
{
    printf ("| on / off of each round, median (min - max) | ");
    double sorted [S_ROUNDS_MAX];
    memcpy (sorted, ratios, (size_t) count * sizeof *sorted);
    qsort (sorted, (size_t) count, sizeof *sorted, s_compare_double);
    double median = count % 2? sorted [count / 2]: (sorted [count / 2 - 1] + sorted [count / 2]) / 2;
    printf ("**%.1f %%** (%.1f - %.1f %%):", 100 * median, 100 * sorted [0], 100 * sorted [count - 1]);
    for (int round = 0; round < count; round++)
        printf (" %.0f", 100 * ratios [round]);
    printf (" | |\n");
}

//  The rate of each copy written, and on / off when both were (-o writes
//  one: the other's time is 0)
static void
s_print_rates (const s_options_t *options, double on_rate, double off_rate,
               double *ratios)
{
    if (options->only != 2)
        printf ("| writer, log on | %.0f events/s | |\n", on_rate);
    if (options->only != 1)
        printf ("| writer, log off, same run | %.0f events/s | the ceiling |\n", off_rate);
    if (options->only != 0)
        return;
    printf ("| on / off | **%.1f %%** | >= 90 %% |\n", 100.0 * on_rate / off_rate);
    s_print_ratios (ratios, options->rounds);
}

static void
s_usage (void)
{
    fprintf (stderr, "usage: bench-log [-n N0] [-m M] [-p PROOFS] [-w PER_MILLE] [-r ROUNDS]"
             " [-o on|off] [-d DIR]\n");
    exit (2);
}

static void
s_options (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { 5000000, 1000000, 20000, 0, 0, 8, "/tmp/bench-log" };
    int c;
    while ((c = getopt (argc, argv, "n:m:p:w:o:r:d:")) != -1) {
        if (c == 'n') options->preload = atol (optarg);
        else if (c == 'm') options->more = atol (optarg);
        else if (c == 'p') options->proofs = atol (optarg);
        else if (c == 'w') options->heavy = atoi (optarg);
        else if (c == 'r') options->rounds = atoi (optarg);
        else if (c == 'o') options->only = streq (optarg, "on")? 1: streq (optarg, "off")? 2: -1;
        else if (c == 'd') snprintf (options->dir, sizeof options->dir, "%s", optarg);
        else s_usage ();
    }
    if (options->preload < 0 || options->rounds < 2 || options->rounds > S_ROUNDS_MAX
    ||  options->more < options->rounds || options->proofs < 100
    ||  options->only < 0)
        s_usage ();
    s_events.heavy_per_mille = options->heavy;
}

//  The two copies written in alternating rounds: seconds of each in all,
//  and on / off of each round into ratios
static void
s_phase_write (const s_options_t *options, const char *on_dir, const char *off_dir,
               double *on_s, double *off_s, double *ratios, bench_pcache_t *pcache)
{
    audit_store_t *on = audit_store_new (on_dir, AUDIT_STORE_WRITER);
    audit_store_t *off = audit_store_new (off_dir, AUDIT_STORE_WRITER);
    if (!on || !off)
        exit (1);
    audit_store_tree_off (off);
    bench_pcache_t before [2];
    bench_pcache_read (audit_store_db (on, AUDIT_DB_AUDIT), &before [0]);
    bench_pcache_read (audit_store_db (off, AUDIT_DB_AUDIT), &before [1]);
    audit_record_t *records = calloc (S_BATCH, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (S_BATCH, sizeof *outcomes);
    long round_size = options->more / options->rounds;
    *on_s = *off_s = 1e-9;
    for (int round = 0; round < options->rounds; round++) {
        double seconds [2] = { 1e-9, 1e-9 };      //  on, off
        long first = options->preload + round * round_size;
        for (int turn = 0; turn < 2; turn++) {
            bool is_on = (turn + round) % 2 == 0;
            if (options->only == (is_on? 2: 1))
                continue;
            seconds [!is_on] = s_write (is_on? on: off, first, round_size, records, outcomes);
            *(is_on? on_s: off_s) += seconds [!is_on];
        }
        ratios [round] = seconds [1] / seconds [0];
    }
    for (int copy = 0; copy < 2; copy++) {
        bench_pcache_read (audit_store_db (copy? off: on, AUDIT_DB_AUDIT), &pcache [copy]);
        pcache [copy] = bench_pcache_since (pcache [copy], before [copy]);
    }
    free (records);
    free (outcomes);
    audit_store_destroy (&on);
    audit_store_destroy (&off);
}

int
main (int argc, char **argv)
{
    s_options_t options;
    s_options (argc, argv, &options);
    char base [600], on_dir [600], off_dir [600];
    snprintf (base, sizeof base, "%s/base", options.dir);
    snprintf (on_dir, sizeof on_dir, "%s/on", options.dir);
    snprintf (off_dir, sizeof off_dir, "%s/off", options.dir);
    if (s_shell ("mkdir -p '%s'%s", base, "") != 0
    ||  bench_preload_ready (base, &s_events, options.preload, S_EPOCH_MS) != 0
    ||  s_shell ("rm -rf '%s' && cp -r '%s' '%s'", on_dir, base) != 0
    ||  s_shell ("rm -rf '%s' && cp -r '%s' '%s'", off_dir, base) != 0)
        return 1;
    //  The copies' pages written back before the clock starts, not during
    //  the first rounds (where they slowed whichever copy's commits met them)
    sync ();
    double on_s, off_s, ratios [S_ROUNDS_MAX];
    bench_pcache_t pcache [2];          //  audit.db of on, of off
    s_phase_write (&options, on_dir, off_dir, &on_s, &off_s, ratios, pcache);
    long written = options.more / options.rounds * options.rounds;
    double on_rate = (double) written / on_s, off_rate = (double) written / off_s;
    double load [3] = { 0 };
    getloadavg (load, 3);
    printf ("\n----- summary (bench-log) -----\n");
    printf ("machine: %ld cores; load average at the end %.2f %.2f %.2f\n",
            sysconf (_SC_NPROCESSORS_ONLN), load [0], load [1], load [2]);
    printf ("store: %ld events preloaded over %d organisations (org_000 %d per mille),"
            " %ld more into each copy in %d alternating rounds of batches of %d\n\n",
            options.preload, s_events.orgs, options.heavy, written, options.rounds, S_BATCH);
    printf ("| figure | measured | issue 13 target |\n|---|---|---|\n");
    s_print_rates (&options, on_rate, off_rate, ratios);
    for (int copy = 0; copy < 2; copy++) {
        char text [160];
        bench_pcache_format (pcache [copy], written, text, sizeof text);
        if (options.only != (copy? 1: 2))
            printf ("| writer's page cache, log %s | %s | |\n", copy? "off": "on", text);
    }
    audit_store_t *reader = audit_store_new (on_dir, AUDIT_STORE_READER);
    if (!reader)
        return 1;
    s_proofs (reader, options.proofs, -1, false, "inclusion proof, random organisation");
    s_proofs (reader, options.proofs, -1, true, "consistency proof, random organisation");
    if (options.heavy)
        s_proofs (reader, options.proofs, 0, false, "inclusion proof, org_000");
    audit_store_destroy (&reader);
    s_shell ("rm -rf '%s' '%s'", on_dir, off_dir);
    return 0;
}
