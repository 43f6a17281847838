/*  =========================================================================
    janitor_round - the audit purge of one pass, organisation after
    organisation, in batches
    ========================================================================= */

#include "janitor_round.h"
#include "janitor_cut.h"

#include <czmq.h>

#include "audit_log.h"
#include "audit_store_purge.h"

typedef struct {
    int64_t id;
    int64_t cut_ms;
} s_org_t;

struct _janitor_round_t {
    audit_store_t *store;               //  borrowed
    s_org_t *orgs;
    size_t org_count, org_room;
    size_t org_index;                   //  the org the purge is at
    size_t batch_first;                 //  org_index when the batch began
    int64_t now_ms;                     //  of the load
};

janitor_round_t *
janitor_round_new (audit_store_t *store)
{
    assert (store);
    janitor_round_t *self = calloc (1, sizeof *self);
    if (self)
        self->store = store;
    return self;
}

void
janitor_round_destroy (janitor_round_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->orgs);
    free (*self_p);
    *self_p = NULL;
}

static int
s_org_add (int64_t org, int64_t stored_days, void *arg)
{
    janitor_round_t *self = (janitor_round_t *) arg;
    if (self->org_count == self->org_room) {
        size_t room = self->org_room? self->org_room * 2: 64;
        s_org_t *orgs = realloc (self->orgs, room * sizeof *orgs);
        if (!orgs)
            return -1;
        self->orgs = orgs;
        self->org_room = room;
    }
    bool clamped;
    int64_t days = janitor_cut_days (stored_days, &clamped);
    if (clamped)
        audit_log_warn ("msg=retention_clamped org_row=%" PRId64 " stored=%" PRId64
                        " used=%" PRId64, org, stored_days, days);
    self->orgs [self->org_count++] = (s_org_t) { org, janitor_cut_audit (self->now_ms, days) };
    return 0;
}

int
janitor_round_load (janitor_round_t *self, int64_t now_ms)
{
    assert (self);
    //  Where the last pass stopped: the org it was at, or the start
    int64_t first = self->org_index < self->org_count? self->orgs [self->org_index].id: 0;
    self->org_count = self->org_index = self->batch_first = 0;
    self->now_ms = now_ms;
    int rc = audit_store_purge_orgs (self->store, first, s_org_add, self);
    if (rc != 0) {
        audit_log_error ("msg=\"cannot read organisations\" file=audit.db");
        self->org_count = 0;
    }
    return rc;
}

int
janitor_round_delete (janitor_round_t *self, int size, int64_t until_us, int64_t *deleted,
                      bool *done)
{
    assert (self);
    *deleted = 0;
    self->batch_first = self->org_index;
    int rc = 0;
    while (rc == 0 && self->org_index < self->org_count && *deleted < size) {
        if (self->org_index > self->batch_first && zclock_usecs () >= until_us)
            break;
        const s_org_t *org = &self->orgs [self->org_index];
        int64_t gone = 0;
        bool more = false;
        rc = audit_store_purge_events (self->store, org->id, org->cut_ms, size - *deleted,
                                       &gone, &more);
        *deleted += gone;
        if (rc == 0 && !more)
            self->org_index++;
    }
    *done = rc == 0 && self->org_index >= self->org_count;
    return rc;
}

void
janitor_round_undo (janitor_round_t *self)
{
    self->org_index = self->batch_first;
}

size_t
janitor_round_orgs_left (janitor_round_t *self)
{
    return self->org_count - self->org_index;
}
