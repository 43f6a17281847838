/*  =========================================================================
    audit_store_sweep - the store's side of the orphan sweep: the event
    references read in key order, the events stored since, and the deletes
    of identifiers and organisations nothing refers to

    An identifier (actor, user, device, group, role) is interned in ident;
    when retention deletes the last event that named it, the name would
    stay, a retained identifier beyond retention. The sweep (janitor_sweep)
    reads every event's references in short read chunks along the primary
    key (org, ts, log_index), then deletes in short write transactions.
    What was stored meanwhile is found through the organisations' logs:
    an event committed after the sweep read an organisation's next
    log_index has a log_index at or above it (indices only grow, and are
    never reused), wherever its key sorts.

    An organisation's row holds its log (org.next_index), so it is deleted
    only when no event of it was ever stored and its retention is the
    default: a row with its own retention is that organisation's setting,
    and a row whose log began must keep it, or a later event would take a
    log_index again.

    Every call that deletes ident or org rows is inside the caller's write
    transaction, which must also call audit_store_sweep_generation (see
    audit_store.h: writers drop their cached ids).
    ========================================================================= */

#ifndef AUDIT_STORE_SWEEP_H_INCLUDED
#define AUDIT_STORE_SWEEP_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Where a scan of the events is: after the event with this key
typedef struct {
    int64_t org;
    int64_t ts;
    int64_t log_index;
} audit_store_event_key_t;

//  Called with each ident id an event refers to
typedef void (audit_store_ident_fn) (int64_t ident, void *arg);

//  Called with each organisation and its next log_index; a return other
//  than 0 stops the walk
typedef int (audit_store_log_fn) (int64_t org, int64_t next_index, void *arg);

//  The key before every event: a scan from it starts at the first.
void
    audit_store_sweep_key_first (audit_store_event_key_t *key);

//  The highest ident id now (0 when there is none). 0 or -1.
int
    audit_store_sweep_ident_max (audit_store_t *store, int64_t *max);

//  Visit every organisation with its next log_index, by row id. 0 or -1.
int
    audit_store_sweep_logs (audit_store_t *store, audit_store_log_fn *fn, void *arg);

//  Up to limit events after *after, in key order: fn gets every ident id
//  they refer to, *after moves to the last one read, *rows gets how many
//  were read. Outside a transaction this is one short read snapshot. 0 or -1.
int
    audit_store_sweep_scan (audit_store_t *store, audit_store_event_key_t *after,
                            int limit, audit_store_ident_fn *fn, void *arg, int *rows);

//  The same for every event of org with log_index >= from_index (the ones
//  stored since its log was read); *rows (may be NULL) gets how many. 0 or -1.
int
    audit_store_sweep_since (audit_store_t *store, int64_t org, int64_t from_index,
                             audit_store_ident_fn *fn, void *arg, int64_t *rows);

//  The ident ids in (after, max], lowest first, at most limit of them,
//  into ids; *count gets how many. 0 or -1.
int
    audit_store_sweep_idents (audit_store_t *store, int64_t after, int64_t max, int limit,
                              int64_t *ids, int *count);

//  Inside the caller's write transaction: delete the ident rows ids[0..count).
//  *deleted gets how many went. 0 or -1.
int
    audit_store_sweep_ident_delete (audit_store_t *store, const int64_t *ids, int count,
                                    int64_t *deleted);

//  Inside the caller's write transaction: delete up to limit organisation
//  rows with the default retention and no event ever stored. 0 or -1.
int
    audit_store_sweep_orgs (audit_store_t *store, int limit, int64_t *deleted);

//  Inside the caller's write transaction: add 1 to meta 'ident_generation'.
//  0 or -1.
int
    audit_store_sweep_generation (audit_store_t *store);

//  When the last complete sweep ran (meta 'janitor_last_sweep');
//  *found is false when none has. 0 or -1.
int
    audit_store_sweep_last (audit_store_t *store, int64_t *ms, bool *found);

//  Remember that a sweep completed at ms. 0 or -1.
int
    audit_store_sweep_last_set (audit_store_t *store, int64_t ms);

#ifdef __cplusplus
}
#endif

#endif
