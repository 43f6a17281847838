/*  =========================================================================
    bench_raw - the raw PUB ceiling: a burst of bench_feed events on a plain
    PUB socket, no library and no acks, from a child process, timed until
    the worker has stored every one

    The child is the benchmark's own program run again (fork and exec of
    /proc/self/exe with "--raw-child ..."), so that it shares no thread,
    lock or ZeroMQ context with its parent and its memory is its own. A
    program that uses bench_raw_burst starts its main with
    `if (bench_raw_is_child (argc, argv)) return bench_raw_child (argv);`.
    ========================================================================= */

#ifndef BENCH_RAW_H_INCLUDED
#define BENCH_RAW_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "bench_monitor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_RAW_PRODUCER_ID   "bench-raw"

//  What one burst measured
typedef struct {
    double rate;                    //  events/s stored, first send to last row
    long loss;                      //  published - stored
    long rss_kib;                   //  the publisher's peak RSS
    double worker_us, publisher_us; //  CPU per event
} bench_raw_t;

//  True when argv is the command line bench_raw_burst gives its child.
bool
    bench_raw_is_child (int argc, char **argv);

//  The child's work, on that command line: its exit status.
int
    bench_raw_child (char **argv);

//  Publish events first .. first + count - 1 (seq first + 1 ..., producer_id
//  BENCH_RAW_PRODUCER_ID, salt as bench_feed_make takes it) from a child on
//  endpoint, once its subscription has reached the worker, and wait until
//  monitor (running, on the worker's data directory) has seen them all
//  stored, or nothing new for 5 s. 0, or -1 when the child failed.
int
    bench_raw_burst (const char *endpoint, bench_monitor_t *monitor, long first, long count,
                     uint64_t salt, bench_raw_t *raw);

#ifdef __cplusplus
}
#endif

#endif
