/*  =========================================================================
    bench_pcache - what a connection's page cache did: pages written,
    spilled and missed

    A transaction whose dirty pages outgrow the cache spills some to the
    WAL before its commit (and writes them again when it changes them
    after), and a page evicted for it is read again later: both are work
    a bigger cache, or fewer pages a commit, would save. SQLite counts
    them per connection (sqlite3_db_status); these are the counts, so
    that a benchmark can print them beside its rates: unlike a rate, they
    do not move with the machine's speed.
    ========================================================================= */

#ifndef BENCH_PCACHE_H_INCLUDED
#define BENCH_PCACHE_H_INCLUDED

#include <sqlite3.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    long written;                       //  pages written (commits and spills)
    long spilled;                       //  of them, written before a commit
    long missed;                        //  pages read, not found in the cache
} bench_pcache_t;

//  The counts of db since it was opened.
void
    bench_pcache_read (sqlite3 *db, bench_pcache_t *counts);

//  after - before
bench_pcache_t
    bench_pcache_since (bench_pcache_t after, bench_pcache_t before);

//  "written W, spilled S, missed M pages (per 1,000 events: ...)" into text
void
    bench_pcache_format (bench_pcache_t counts, long events, char *text, size_t size);

#ifdef __cplusplus
}
#endif

#endif
