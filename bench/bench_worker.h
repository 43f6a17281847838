/*  =========================================================================
    bench_worker - the real audit-ingest as the benchmarks run it: started
    on a data directory and two endpoints, probed until its subscription
    has reached a publisher, asked how many events its store holds, stopped

    The store is read through its own files (a read-only SQLite connection
    per question), never through the worker, so that what is counted is
    what was committed.
    ========================================================================= */

#ifndef BENCH_WORKER_H_INCLUDED
#define BENCH_WORKER_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Start audit-ingest on dir (its log in dir/ingest.log) with the ingest
//  SUB on endpoint, the ack ROUTER on ack_endpoint, --ingest-batch batch
//  and --ingest-flush-ms flush_ms (0: the worker's default). Its pid, or -1.
pid_t
    bench_worker_start (const char *dir, const char *endpoint, const char *ack_endpoint,
                        long batch, int flush_ms);

//  SIGTERM the worker and reap it; its exit status, -1 when it did not exit.
int
    bench_worker_stop (pid_t pid);

//  CPU time the process has used (user and system, every thread), in ms;
//  -1 when unknown.
int64_t
    bench_worker_cpu_ms (pid_t pid);

//  Publish one ops probe (a record of a topic the worker stores without
//  acks) of path (bench_worker_wait_connected's: "/probe") on pub; buffer
//  is the packing space.
void
    bench_worker_probe (zsock_t *pub, const char *path, msgpack_sbuffer *buffer);

//  Publish ops probes on pub until one is stored in dir/ops.db: the
//  worker's subscription has then reached this publisher (10 s at most).
//  0, or -1 when none arrived.
int
    bench_worker_wait_connected (zsock_t *pub, const char *dir);

//  The first column of the first row of sql on dir/file, read-only; -1
//  when the file, the table or the row is missing.
int64_t
    bench_worker_scalar (const char *dir, const char *file, const char *sql);

//  Events ever stored in dir's audit.db: every one took its organisation's
//  next log_index, so the sum of org.next_index counts them. -1 before
//  the worker has made the store.
int64_t
    bench_worker_stored (const char *dir);

#ifdef __cplusplus
}
#endif

#endif
