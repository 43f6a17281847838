/*  =========================================================================
    bench_preload - a data directory of bench_events, kept between runs
    ========================================================================= */

#include "bench_preload.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "audit_store.h"
#include "sqlite_store.h"

#define s_BATCH 65536           //  ~160 MiB of records; each commit rewrites an organisation's last pages once

typedef struct {
    long events, done;
    int orgs, heavy;
    long long epoch_ms;
} s_state_t;

static int64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static int
s_state_write (const char *dir, const s_state_t *state)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/bench-query.preload", dir);
    FILE *file = fopen (path, "w");
    int rc = file && fprintf (file, "%ld %d %d %lld %ld\n", state->events, state->orgs,
                              state->heavy, state->epoch_ms, state->done) > 0? 0: -1;
    if (file && fclose (file) != 0)
        rc = -1;
    return rc;
}

static bool
s_state_read (const char *dir, const bench_events_t *events, long count, s_state_t *state)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/bench-query.preload", dir);
    FILE *file = fopen (path, "r");
    bool ok = file && fscanf (file, "%ld %d %d %lld %ld", &state->events, &state->orgs,
                              &state->heavy, &state->epoch_ms, &state->done) == 5;
    if (file)
        fclose (file);
    return ok && state->events == count && state->orgs == events->orgs
        && state->heavy == events->heavy_per_mille;
}

static int
s_preload (const char *dir, const bench_events_t *events, s_state_t *state)
{
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    audit_record_t *records = calloc (s_BATCH, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (s_BATCH, sizeof *outcomes);
    int rc = store && records && outcomes ? 0 : -1;
    int64_t start = s_now_ns ();
    long from = state->done;
    while (rc == 0 && state->done < state->events) {
        size_t fill = 0;
        for (; fill < s_BATCH && state->done + (long) fill < state->events; fill++)
            bench_events_record (events, state->done + (long) fill, &records [fill]);
        rc = audit_store_write (store, records, fill, outcomes, NULL);
        state->done += rc == 0? (long) fill: 0;
        rc = rc? rc: s_state_write (dir, state);
        if (state->done % 500000 < s_BATCH)
            printf ("preload %ld / %ld, %.0f events/s\n", state->done, state->events,
                    (double) (state->done - from) * 1e9 / (double) (s_now_ns () - start));
    }
    rc = rc? rc: bench_preload_housekeep (store);
    if (store)
        audit_store_checkpoint (store, AUDIT_DB_AUDIT);
    audit_store_destroy (&store);
    free (records);
    free (outcomes);
    return rc;
}

int
bench_preload_housekeep (audit_store_t *store)
{
    int64_t start = s_now_ns ();
    long calls = 0;
    int rc;
    while ((rc = audit_store_housekeep (store)) == 1)
        calls++;
    if (calls > 0)
        printf ("housekeeping: %ld transactions of owed merges, %.1f s\n", calls + 1,
                (double) (s_now_ns () - start) / 1e9);
    return rc;
}

int
bench_preload_settle (const char *dir)
{
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    int rc = store? bench_preload_housekeep (store): -1;
    audit_store_destroy (&store);
    return rc;
}

int
bench_preload_ready (const char *dir, bench_events_t *events, long count, int64_t epoch_ms)
{
    s_state_t state;
    if (!s_state_read (dir, events, count, &state)) {
        char command [4096];
        snprintf (command, sizeof command, "rm -f '%s'/*.db '%s'/*.db-wal '%s'/*.db-shm",
                  dir, dir, dir);
        if (system (command) != 0)
            return -1;
        state = (s_state_t) { count, 0, events->orgs, events->heavy_per_mille, epoch_ms };
    }
    events->epoch_ms = state.epoch_ms;
    if (state.done >= count) {
        printf ("reusing %s: %ld events\n", dir, state.done);
        return bench_preload_settle (dir);
    }
    printf ("preloading events %ld .. %ld into %s\n", state.done, count, dir);
    int64_t start = s_now_ns ();
    int rc = s_preload (dir, events, &state);
    printf ("preload took %.1f s\n", (double) (s_now_ns () - start) / 1e9);
    return rc;
}
