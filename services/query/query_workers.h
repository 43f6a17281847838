/*  =========================================================================
    query_workers - the ingest worker and the janitor as the query worker
    sees them through their heartbeats: health.workers ("up" or "down")
    and stats.workers ({last_seen})
    ========================================================================= */

#ifndef QUERY_WORKERS_H_INCLUDED
#define QUERY_WORKERS_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  true when worker's last heartbeat is recent enough at now_ms: within
//  its row's up_ms of audit_workers.def, or two of its own intervals.
bool
    query_workers_up (audit_store_t *store, audit_worker_id_t worker, int64_t now_ms);

//  Pack "workers": {<name>: "up" | "down"} (health).
void
    query_workers_pack_health (query_call_t *call);

//  Pack "workers": {<name>: {last_seen: str or nil}} (stats).
void
    query_workers_pack_stats (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
