/*  =========================================================================
    janitor_sweep - deletes the identifiers and organisations that no
    event references any more

    Identifiers (actor, user, device... names) are interned in table ident
    and organisations in table org. When retention deletes the last event
    that named someone, the name itself would stay: a retained identifier
    beyond retention. The sweep deletes such ident rows, and org rows that
    never had an event and keep the default retention (an org row with its
    own retention is that organisation's setting, and one whose log began
    holds its next log_index, which must never be given out again: both
    stay; audit_store_sweep.h).

    Finding an orphan needs every event's references: only (org, ...)
    keys exist, and role has none, so the sweep reads the whole event
    table once, along its key (org, ts, log_index), in chunks of short read
    transactions (readers never block the ingest writer), into a bitmap of
    the ident ids in use. Before it reads, it notes every organisation's
    next log_index. It then deletes in short write transactions, each of
    which first marks the idents of the events stored since: those have a
    log_index at or above what was noted, wherever their key sorts
    (audit_store_sweep.h). Each transaction that deletes adds 1 to meta
    'ident_generation', so that writers drop their cached ids.

    It costs a full scan, so it runs rarely (JANITOR_SWEEP_INTERVAL_MS,
    remembered in meta 'janitor_last_sweep' across restarts) and in every
    --once, after the retention deletes: never on the path of a batch.
    ========================================================================= */

#ifndef JANITOR_SWEEP_H_INCLUDED
#define JANITOR_SWEEP_H_INCLUDED

#include "audit_store.h"
#include "janitor_pass.h"

#ifdef __cplusplus
extern "C" {
#endif

//  How often the timer runs a sweep
#define JANITOR_SWEEP_INTERVAL_MS       (24LL * 3600 * 1000)
//  Events read per read transaction of the scan
#define JANITOR_SWEEP_SCAN_ROWS         20000
//  ident rows examined per write transaction, at most
#define JANITOR_SWEEP_IDENT_ROWS        5000
//  org rows deleted per write transaction, at most
#define JANITOR_SWEEP_ORG_ROWS          1000

typedef struct {
    int64_t events_scanned;
    int64_t events_caught_up;           //  stored after the scan began
    int64_t idents_checked;
    int64_t idents_deleted;
    int64_t orgs_deleted;
    int64_t scan_ms;                    //  reading the event table
    int64_t delete_ms;                  //  the write transactions and pauses
    int64_t hold_max_us;                //  longest write transaction
} janitor_sweep_report_t;

typedef struct _janitor_sweep_t janitor_sweep_t;

//  A sweep on store (borrowed) with the pauses of limits (copied).
janitor_sweep_t *
    janitor_sweep_new (audit_store_t *store, const janitor_limits_t *limits);

//  Destroy; safe on NULL and twice.
void
    janitor_sweep_destroy (janitor_sweep_t **self_p);

//  Whether a sweep is due at now_ms (none yet, or the last one is at least
//  JANITOR_SWEEP_INTERVAL_MS old). 0 or -1.
int
    janitor_sweep_due (janitor_sweep_t *self, int64_t now_ms, bool *due);

//  Run one whole sweep; stop (may be NULL) is asked between transactions.
//  On completion writes now_ms to meta 'janitor_last_sweep'. Returns 0
//  when it completed, 1 when stopped, -1 on error (logged).
int
    janitor_sweep_run (janitor_sweep_t *self, int64_t now_ms, janitor_stop_fn *stop,
                       void *arg, janitor_sweep_report_t *report);

#ifdef __cplusplus
}
#endif

#endif
