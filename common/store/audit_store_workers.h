/*  =========================================================================
    audit_store_workers - the heartbeats of the ingest worker and the
    janitor, kept in audit.db so that the query worker can tell whether
    they run (contract: "health", stats.workers)
    ========================================================================= */

#ifndef AUDIT_STORE_WORKERS_H_INCLUDED
#define AUDIT_STORE_WORKERS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_proto.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  worker ran at now_ms and beats again within interval_ms: one write of
//  its own. 0 or -1.
int
    audit_store_heartbeat (audit_store_t *self, audit_worker_id_t worker, int64_t now_ms,
                           int64_t interval_ms);

//  worker's last heartbeat and the interval it gave: *known false when it
//  never beat in this data directory. 0 or -1.
int
    audit_store_heartbeat_read (audit_store_t *self, audit_worker_id_t worker, bool *known,
                                int64_t *last_ms, int64_t *interval_ms);

#ifdef __cplusplus
}
#endif

#endif
