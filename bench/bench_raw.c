/*  =========================================================================
    bench_raw - the raw PUB ceiling, from a child process
    ========================================================================= */

#include "bench_raw.h"

#include <czmq.h>
#include <msgpack.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "audit_time.h"
#include "bench_feed.h"
#include "bench_keys.h"
#include "bench_worker.h"

#define s_FLAG  "--raw-child"

bool
bench_raw_is_child (int argc, char **argv)
{
    return argc == 9 && strcmp (argv [1], s_FLAG) == 0;
}

//  Its command line: s_FLAG ENDPOINT DATA FIRST COUNT SALT IN OUT
//  The child: connect, wait for the subscription, say so and wait for the
//  go, say when the burst starts, publish, say when it was sent, then
//  linger until it is out
int
bench_raw_child (char **argv)
{
    const char *endpoint = argv [2], *data = argv [3];
    uint64_t first = strtoull (argv [4], NULL, 10), count = strtoull (argv [5], NULL, 10);
    uint64_t salt = strtoull (argv [6], NULL, 10);
    int in = atoi (argv [7]), out = atoi (argv [8]);
    zsock_t *pub = zsock_new (ZMQ_PUB);
    if (!pub)
        return 1;
    zsock_set_sndhwm (pub, 0);
    //  CURVE when the benchmark turned it on (bench_keys_use)
    if (bench_keys_apply (pub) != 0)
        return 1;
    zsock_connect (pub, "%s", endpoint);
    char go = 0;
    if (bench_worker_wait_connected (pub, data) != 0
    ||  write (out, &go, 1) != 1 || read (in, &go, 1) != 1)
        return 1;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int64_t start = audit_time_now_ms ();
    if (write (out, &start, sizeof start) != sizeof start)
        return 1;
    void *handle = zsock_resolve (pub);
    for (uint64_t index = 0; index < count; index++) {
        bench_feed_t event;
        bench_feed_make (first + index, audit_time_now_ms (), salt, &event);
        bench_feed_pack_as (&event, BENCH_RAW_PRODUCER_ID, first + index + 1, &buffer);
        zmq_send (handle, "audit", 5, ZMQ_SNDMORE);
        zmq_send (handle, buffer.data, buffer.size, 0);
    }
    int64_t sent = audit_time_now_ms ();
    int rc = write (out, &sent, sizeof sent) == sizeof sent ? 0 : 1;
    msgpack_sbuffer_destroy (&buffer);
    zsock_set_linger (pub, -1);
    zsock_destroy (&pub);
    zsys_shutdown ();               //  returns when every message is sent
    return rc;
}

//  Start the child on events first .. first + count - 1; its pid, or -1.
//  up: what it says, down: the go
static pid_t
s_start (const char *endpoint, const char *data, long first, long count, uint64_t salt,
         int *up, int *down)
{
    if (pipe (up) != 0 || pipe (down) != 0)
        return -1;
    pid_t child = fork ();
    if (child == 0) {
        char numbers [5][32];
        snprintf (numbers [0], 32, "%ld", first);
        snprintf (numbers [1], 32, "%ld", count);
        snprintf (numbers [2], 32, "%llu", (unsigned long long) salt);
        snprintf (numbers [3], 32, "%d", down [0]);
        snprintf (numbers [4], 32, "%d", up [1]);
        close (up [0]);
        close (down [1]);
        execl ("/proc/self/exe", "bench-raw", s_FLAG, endpoint, data, numbers [0],
               numbers [1], numbers [2], numbers [3], numbers [4], (char *) NULL);
        _exit (127);
    }
    close (up [1]);
    close (down [0]);
    return child;
}

int
bench_raw_burst (const char *endpoint, bench_monitor_t *monitor, long first_event, long count,
                 uint64_t salt, bench_raw_t *raw)
{
    int up [2], down [2];
    pid_t child = s_start (endpoint, monitor->dir, first_event, count, salt, up, down);
    int64_t start = 0, sent = 0;
    char go = 0;
    long first = atomic_load (&monitor->seen);
    int64_t worker_ms = bench_worker_cpu_ms (monitor->worker);
    bool started = child > 0 && read (up [0], &go, 1) == 1
                && write (down [1], &go, 1) == 1
                && read (up [0], &start, sizeof start) == sizeof start;
    if (started) {
        atomic_store (&monitor->last_seen_ms, start);
        bench_monitor_wait (monitor, first + count);
    }
    long stored = atomic_load (&monitor->seen) - first;
    double seconds = (double) (atomic_load (&monitor->last_seen_ms) - start) / 1000.0;
    worker_ms = bench_worker_cpu_ms (monitor->worker) - worker_ms;
    if (!started || read (up [0], &sent, sizeof sent) != sizeof sent)
        sent = start;
    close (up [0]);
    close (down [1]);
    int status = -1;
    struct rusage usage = { 0 };
    if (child > 0 && wait4 (child, &status, 0, &usage) != child)
        status = -1;
    raw->rate = started && seconds > 0 ? (double) stored / seconds : 0;
    raw->loss = count - stored;
    raw->rss_kib = usage.ru_maxrss;
    raw->worker_us = stored > 0 ? (double) worker_ms * 1000.0 / (double) stored : 0;
    raw->publisher_us = (double) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e6
                      + (double) (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    raw->publisher_us /= (double) count;
    printf ("raw PUB:    %ld published in %.2f s, %ld stored in %.2f s: %.0f events/s stored,"
            " loss %ld (publisher peak RSS %.1f MiB); CPU per event: worker %.1f us,"
            " publisher %.1f us\n", count, (double) (sent - start) / 1000.0, stored,
            seconds, raw->rate, raw->loss, (double) raw->rss_kib / 1024.0, raw->worker_us,
            raw->publisher_us);
    return started && WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : -1;
}
