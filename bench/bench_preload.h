/*  =========================================================================
    bench_preload - a data directory of bench_events, kept between runs

    The preload's own record, DIR/bench-query.preload, holds the
    generator's settings, its epoch and how many events are committed. A
    directory whose record matches is reused, or completed when cut short
    (a batch committed before a crash is offered again: the store finds
    it stored); without a matching record, the directory's audit.db,
    ops.db and queue.db are deleted and built again.

    Its batches are far larger than the ingest worker's, so they leave
    most of the subject runs' merges owed (audit_subjects.h); the writer's
    housekeeping does them all before a store is used, as the worker's
    quiet seconds would: a benchmark of a store so owed measured 17 seeks
    a DSAR where a store kept by the worker seeks two.
    ========================================================================= */

#ifndef BENCH_PRELOAD_H_INCLUDED
#define BENCH_PRELOAD_H_INCLUDED

#include "audit_store.h"
#include "bench_events.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Make dir hold events 0 .. count - 1 of *events (its step_ms set),
//  written through audit_store_write in large batches. Sets
//  events->epoch_ms: the record's, or epoch_ms for a new store. 0 or -1.
int
    bench_preload_ready (const char *dir, bench_events_t *events, long count, int64_t epoch_ms);

//  The writer's housekeeping on store until nothing more is due, timed
//  on stdout. 0 or -1.
int
    bench_preload_housekeep (audit_store_t *store);

//  A store reused: opened as the WRITER (so migrated when of an older
//  schema), its housekeeping done (merges an older build left owed), and
//  closed. 0 or -1.
int
    bench_preload_settle (const char *dir);

#ifdef __cplusplus
}
#endif

#endif
