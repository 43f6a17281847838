/*  =========================================================================
    audit_store_purge - the retention deletes of the three stores, as
    bounded typed operations

    Each delete takes at most max_rows rows, the oldest first, inside the
    caller's write transaction (audit_store_space_begin/_end), and says
    whether expired rows remain. A row is expired when its time is strictly
    before the cut the caller computed (janitor_cut).

    audit.db keeps an organisation's events together, clustered on (org,
    ts, log_index) (audit_schema, version 3): its expired events are the
    front of its range, so a delete finds where a batch ends (one probe
    along the key) and deletes everything before it in one range, with no
    per-row lookups and neighbouring pages only, whatever order the
    timestamps arrived in.
    ========================================================================= */

#ifndef AUDIT_STORE_PURGE_H_INCLUDED
#define AUDIT_STORE_PURGE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Called once per organisation; a return other than 0 stops the walk
typedef int (audit_store_org_fn) (int64_t org, int64_t retention_days, void *arg);

//  Visit every organisation (its row id and stored retention, not
//  clamped), from first_org (a row id; 0: the lowest) to the end, then
//  from the lowest to before first_org. 0, or -1 when the store failed
//  or fn stopped the walk.
int
    audit_store_purge_orgs (audit_store_t *store, int64_t first_org,
                            audit_store_org_fn *fn, void *arg);

//  Delete org's oldest events with ts < cut_ms, at most max_rows of them.
//  *deleted gets how many went, *more whether expired events of org
//  remain. 0 or -1.
int
    audit_store_purge_events (audit_store_t *store, int64_t org, int64_t cut_ms,
                              int64_t max_rows, int64_t *deleted, bool *more);

//  The same for operational records with ts < cut_ms.
int
    audit_store_purge_ops (audit_store_t *store, int64_t cut_ms, int64_t max_rows,
                           int64_t *deleted, bool *more);

//  The same for queued messages received before cut_ms.
int
    audit_store_purge_queue (audit_store_t *store, int64_t cut_ms, int64_t max_rows,
                             int64_t *deleted, bool *more);

//  Write when the last pass's deletes ended (meta 'janitor_last_pass',
//  which stats reports). 0 or -1.
int
    audit_store_purge_last_pass (audit_store_t *store, int64_t ended_ms);

#ifdef __cplusplus
}
#endif

#endif
