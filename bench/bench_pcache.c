/*  =========================================================================
    bench_pcache - what a connection's page cache did
    ========================================================================= */

#include "bench_pcache.h"

#include <stdio.h>

static long
s_status (sqlite3 *db, int op)
{
    int current = 0, highest = 0;
    return sqlite3_db_status (db, op, &current, &highest, 0) == SQLITE_OK? current: -1;
}

void
bench_pcache_read (sqlite3 *db, bench_pcache_t *counts)
{
    counts->written = s_status (db, SQLITE_DBSTATUS_CACHE_WRITE);
    counts->spilled = s_status (db, SQLITE_DBSTATUS_CACHE_SPILL);
    counts->missed = s_status (db, SQLITE_DBSTATUS_CACHE_MISS);
}

bench_pcache_t
bench_pcache_since (bench_pcache_t after, bench_pcache_t before)
{
    return (bench_pcache_t) { after.written - before.written, after.spilled - before.spilled,
                              after.missed - before.missed };
}

void
bench_pcache_format (bench_pcache_t counts, long events, char *text, size_t size)
{
    double per = events > 0? 1000.0 / (double) events: 0;
    snprintf (text, size, "pages written %ld, spilled %ld, missed %ld"
              " (per 1,000 events %.0f, %.1f, %.1f)", counts.written, counts.spilled,
              counts.missed, (double) counts.written * per, (double) counts.spilled * per,
              (double) counts.missed * per);
}
