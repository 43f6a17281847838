/*  =========================================================================
    janitor_cut - where retention cuts each store, as a pure function of
    the clock it is given

    A row is expired when its time is strictly before the cut: an event
    exactly retention_days old (ts == cut) is kept, one a millisecond older
    is deleted. "Older than the retention" reads that way, and it makes the
    boundary testable to the millisecond.

    Times are ms since the epoch, UTC, so a day is always 86,400,000 ms:
    no time zone, daylight saving or calendar month moves a cut. Days are
    clamped to 1..AUDIT_RETENTION_MAX_DAYS so that a corrupt or hand-edited
    org row can shorten retention but never extend it past 12 months.
    ========================================================================= */

#ifndef JANITOR_CUT_H_INCLUDED
#define JANITOR_CUT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  retention_days forced into 1..AUDIT_RETENTION_MAX_DAYS. *clamped (may
//  be NULL) tells whether the value had to move.
int64_t
    janitor_cut_days (int64_t retention_days, bool *clamped);

//  Audit events of an org with retention_days: those with ts < this go.
int64_t
    janitor_cut_audit (int64_t now_ms, int64_t retention_days);

//  Operational records: those with ts < this go (30 days).
int64_t
    janitor_cut_ops (int64_t now_ms);

//  Queued messages: those received before this go (7 days).
int64_t
    janitor_cut_queue (int64_t now_ms);

//  True when a row at time ts is past the cut (the one comparison every
//  delete of the janitor makes, spelled once for the tests).
bool
    janitor_cut_expired (int64_t ts, int64_t cut);

#ifdef __cplusplus
}
#endif

#endif
