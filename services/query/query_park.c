/*  =========================================================================
    query_park - the tails the query server keeps while they wait
    ========================================================================= */

#include "query_park.h"

#include "audit_store_log.h"
#include "query_call.h"

struct _query_park_t {
    audit_store_t *store;           //  read-only: whose logs grew
    zlist_t *parked;                //  state, peer, envelope, body
    zlist_t *due;                   //  found due by the last look
    int64_t looked_ms;              //  monotonic
};

static void
s_purge (zlist_t *list)
{
    zmsg_t *msg;
    while (list && (msg = (zmsg_t *) zlist_pop (list)))
        zmsg_destroy (&msg);
}

query_park_t *
query_park_new (const char *data_dir)
{
    query_park_t *self = (query_park_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = audit_store_new (data_dir, AUDIT_STORE_READER);
    self->parked = zlist_new ();
    self->due = zlist_new ();
    if (!self->store || !self->parked || !self->due)
        query_park_destroy (&self);
    return self;
}

void
query_park_destroy (query_park_t **self_p)
{
    query_park_t *self = *self_p;
    if (self) {
        s_purge (self->parked);
        s_purge (self->due);
        zlist_destroy (&self->parked);
        zlist_destroy (&self->due);
        audit_store_destroy (&self->store);
        free (self);
        *self_p = NULL;
    }
}

static query_tail_state_t *
s_state (zmsg_t *msg)
{
    return (query_tail_state_t *) zframe_data (zmsg_first (msg));
}

bool
query_park_add (query_park_t *self, zmsg_t **msg_p)
{
    if (zlist_size (self->parked) >= QUERY_PARK_MAX) {
        s_state (*msg_p)->deadline_ms = 0;
        return false;
    }
    zlist_append (self->parked, *msg_p);
    *msg_p = NULL;
    return true;
}

int
query_park_wait_ms (query_park_t *self, int64_t now)
{
    if (zlist_size (self->parked) == 0 && zlist_size (self->due) == 0)
        return -1;
    int64_t left = self->looked_ms + QUERY_PARK_POLL_MS - now;
    return left > 0? (int) left: 0;
}

//  Due when its wait is over or its organisation's log reached its index
static bool
s_is_due (query_park_t *self, const query_tail_state_t *state, int64_t now)
{
    uint64_t size = 0;
    return now >= state->deadline_ms
        || audit_store_log_size (self->store, state->org_id, &size) != 0
        || size > state->from_index;
}

//  Move every due tail from parked to due
static void
s_look (query_park_t *self, int64_t now)
{
    self->looked_ms = now;
    size_t count = zlist_size (self->parked);
    for (size_t at = 0; at < count; at++) {
        zmsg_t *msg = (zmsg_t *) zlist_pop (self->parked);
        zlist_append (s_is_due (self, s_state (msg), now)? self->due: self->parked, msg);
    }
}

zmsg_t *
query_park_due (query_park_t *self, int64_t now)
{
    if (zlist_size (self->due) == 0 && zlist_size (self->parked) > 0
    &&  now - self->looked_ms >= QUERY_PARK_POLL_MS)
        s_look (self, now);
    return (zmsg_t *) zlist_pop (self->due);
}
