/*  =========================================================================
    bench_monitor - what the ingest worker has committed, and how late,
    seen from a thread that polls audit.db as a reader

    Every stored event takes its organisation's next log_index, so the sum
    of org.next_index counts the rows stored (BENCH_MONITOR_COUNT: that
    alone, every 5 ms, cheap enough for a burst). BENCH_MONITOR_ROWS reads
    each organisation's new rows by log_index (event_org_index) every 2 ms
    and notes now - timestamp for each: publish-to-stored, when the
    timestamp was the publish time. Each poll also samples the WAL's size
    and the worker's RSS.
    ========================================================================= */

#ifndef BENCH_MONITOR_H_INCLUDED
#define BENCH_MONITOR_H_INCLUDED

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MONITOR_ROWS_MS     2
//  How far back in ts the row reader looks for the rows an organisation gained
#define BENCH_MONITOR_LOOKBACK_MS 10000
#define BENCH_MONITOR_COUNT_MS    5
#define BENCH_MONITOR_WINDOW      100000    //  sustained: the slowest such stretch
#define BENCH_MONITOR_WINDOWS_MAX 1024

typedef enum { BENCH_MONITOR_COUNT, BENCH_MONITOR_ROWS } bench_monitor_mode_t;

//  What the monitor thread sees; the caller sets dir, worker, latency
//  and latency_capacity, and frees latency, last and now_index after the stop
typedef struct {
    pthread_t thread;
    char dir [600];
    pid_t worker;
    atomic_bool stop;
    atomic_int mode;
    atomic_long seen;               //  rows committed since the start
    atomic_llong last_seen_ms;
    atomic_llong wal_peak;
    atomic_long rss_peak_kib;
    int64_t base_total;             //  the sum of next_index at the start
    int64_t *last;                  //  next_index per org id, as last read
    int64_t *now_index;
    int64_t org_room;
    int64_t *latency;               //  ms, per row of the latency phase
    atomic_long latency_count;
    long latency_capacity;
    int64_t window_ms [BENCH_MONITOR_WINDOWS_MAX];  //  when seen first reached k windows
    long window_base;               //  seen at the start of the burst
    atomic_bool windows_on;
} bench_monitor_t;

//  Start the thread on dir/audit.db; the rows stored before are the base.
void
    bench_monitor_start (bench_monitor_t *self);

//  Stop the thread.
void
    bench_monitor_stop (bench_monitor_t *self);

//  The slowest BENCH_MONITOR_WINDOW-row stretch since windows_on was set
//  (at start, ms), in events/s; 0 when none completed.
double
    bench_monitor_slowest (bench_monitor_t *self, int64_t start);

//  Wait until seen reaches want, or nothing new was seen for 5 s (from
//  last_seen_ms, which the caller may set to the start of its phase).
void
    bench_monitor_wait (bench_monitor_t *self, long want);

//  A "Vm...:" field of /proc/PID/status in KiB, -1 when unknown.
long
    bench_monitor_status_kib (pid_t pid, const char *field);

#endif
