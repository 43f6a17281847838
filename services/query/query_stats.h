/*  =========================================================================
    query_stats - the stats op: ingest counters, rows now, janitor totals

    The counters are the persistent totals in audit.db, which the ingest
    worker and the janitor add to at least once a second each.
    ========================================================================= */

#ifndef QUERY_STATS_H_INCLUDED
#define QUERY_STATS_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer stats: {ok, stats: {ingest, store, producers, janitor, query}}.
void
    query_stats_run (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
