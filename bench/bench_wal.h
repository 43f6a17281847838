/*  =========================================================================
    bench_wal - watches the size of one store's WAL file from a thread, so
    that the peak a benchmark reports includes the middle of transactions,
    not only the state after commits
    ========================================================================= */

#ifndef BENCH_WAL_H_INCLUDED
#define BENCH_WAL_H_INCLUDED

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

//  How often the size is sampled
#define BENCH_WAL_SAMPLE_US 2000

typedef struct {
    pthread_t thread;
    char path [1024];
    atomic_bool stop;
    atomic_llong peak;
} bench_wal_t;

//  Start watching dir/audit.db-wal.
void
    bench_wal_start (bench_wal_t *self, const char *dir);

//  Stop watching; the largest size seen, in bytes.
int64_t
    bench_wal_stop (bench_wal_t *self);

//  The size of dir/file now, in bytes; 0 when it does not exist.
int64_t
    bench_wal_file_size (const char *dir, const char *file);

#endif
