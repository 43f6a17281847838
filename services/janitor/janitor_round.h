/*  =========================================================================
    janitor_round - the audit purge of one pass, organisation after
    organisation, in batches

    The organisations and their retention are read when a pass starts;
    each batch (one write transaction of janitor_pass) then deletes up to
    its size of expired events, the oldest of the current organisation
    first (audit_store_purge_events: the front of its range of the
    clustered table), and goes on to the next organisation while the batch
    has room and time, so that ten thousand small organisations do not
    cost ten thousand transactions. A pass that runs out of time resumes
    at the organisation it stopped at in the next pass, so every
    organisation gets its turn.

    A round spans one pass: its cuts are those of the retention read when
    the pass started, so a retention changed meanwhile applies from the
    next pass on.
    ========================================================================= */

#ifndef JANITOR_ROUND_H_INCLUDED
#define JANITOR_ROUND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _janitor_round_t janitor_round_t;

//  A round on store (borrowed). NULL on allocation failure.
janitor_round_t *
    janitor_round_new (audit_store_t *store);

//  Destroy; safe on NULL and twice.
void
    janitor_round_destroy (janitor_round_t **self_p);

//  Outside any transaction: read the organisations and their retention
//  (clamped, janitor_cut_days), from where the last pass stopped, with the
//  cuts of now_ms. 0 or -1 (logged).
int
    janitor_round_load (janitor_round_t *self, int64_t now_ms);

//  Inside the caller's write transaction: delete up to size expired
//  events, organisation after organisation, and start no further
//  organisation after zclock_usecs () reaches until_us. *deleted gets how
//  many went, *done whether every organisation is purged. 0 or -1.
int
    janitor_round_delete (janitor_round_t *self, int size, int64_t until_us,
                          int64_t *deleted, bool *done);

//  After a batch that failed (and was rolled back): its organisations
//  are visited again.
void
    janitor_round_undo (janitor_round_t *self);

//  Organisations loaded and not yet purged.
size_t
    janitor_round_orgs_left (janitor_round_t *self);

#ifdef __cplusplus
}
#endif

#endif
