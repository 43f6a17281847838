/*  =========================================================================
    bench_wal - watches the size of one store's WAL file from a thread
    ========================================================================= */

#include "bench_wal.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void *
s_run (void *arg)
{
    bench_wal_t *self = (bench_wal_t *) arg;
    while (!atomic_load (&self->stop)) {
        struct stat info;
        if (stat (self->path, &info) == 0 && info.st_size > atomic_load (&self->peak))
            atomic_store (&self->peak, (long long) info.st_size);
        usleep (BENCH_WAL_SAMPLE_US);
    }
    return NULL;
}

void
bench_wal_start (bench_wal_t *self, const char *dir)
{
    snprintf (self->path, sizeof self->path, "%s/audit.db-wal", dir);
    atomic_store (&self->stop, false);
    atomic_store (&self->peak, 0);
    pthread_create (&self->thread, NULL, s_run, self);
}

int64_t
bench_wal_stop (bench_wal_t *self)
{
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
    return atomic_load (&self->peak);
}

int64_t
bench_wal_file_size (const char *dir, const char *file)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    struct stat info;
    return stat (path, &info) == 0? (int64_t) info.st_size: 0;
}
