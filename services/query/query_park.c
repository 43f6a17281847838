/*  =========================================================================
    query_park - the tails the query server keeps while they wait
    ========================================================================= */

#include "query_park.h"

#include "audit_store_log.h"
#include "query_call.h"

struct _query_park_t {
    audit_store_t *store;           //  read-only: whose logs grew
    zlist_t *fresh;                 //  parked since the last look: checked at the next
    zlist_t *parked;                //  state, peer, envelope, body
    zlist_t *due;                   //  found due by the last look
    zhashx_t *sizes;                //  org_id -> log size + 1, within one look
    uint64_t version;               //  the store's log version at the last look
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
    self->fresh = zlist_new ();
    self->parked = zlist_new ();
    self->due = zlist_new ();
    self->sizes = zhashx_new ();
    if (!self->store || !self->fresh || !self->parked || !self->due || !self->sizes)
        query_park_destroy (&self);
    return self;
}

void
query_park_destroy (query_park_t **self_p)
{
    query_park_t *self = *self_p;
    if (self) {
        s_purge (self->fresh);
        s_purge (self->parked);
        s_purge (self->due);
        zlist_destroy (&self->fresh);
        zlist_destroy (&self->parked);
        zhashx_destroy (&self->sizes);
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
    if (zlist_size (self->parked) + zlist_size (self->fresh) >= QUERY_PARK_MAX) {
        s_state (*msg_p)->deadline_ms = 0;
        return false;
    }
    zlist_append (self->fresh, *msg_p);
    *msg_p = NULL;
    return true;
}

int
query_park_wait_ms (query_park_t *self, int64_t now)
{
    if (zlist_size (self->parked) == 0 && zlist_size (self->fresh) == 0
    &&  zlist_size (self->due) == 0)
        return -1;
    int64_t left = self->looked_ms + QUERY_PARK_POLL_MS - now;
    return left > 0? (int) left: 0;
}

//  Whether org_id's log holds more than from_index events: one read per
//  organisation in a look, however many tails wait on it
static bool
s_log_past (query_park_t *self, const char *org_id, uint64_t from_index)
{
    uintptr_t known = (uintptr_t) zhashx_lookup (self->sizes, org_id);
    uint64_t size = 0;
    if (!known) {
        if (audit_store_log_size (self->store, org_id, &size) != 0)
            return true;            //  answered now: the worker says what is wrong
        zhashx_insert (self->sizes, org_id, (void *) (uintptr_t) (size + 1));
    }
    else
        size = known - 1;
    return size > from_index;
}

//  Due when its wait is over or (grew: a commit since the last look) its
//  organisation's log reached its index
static bool
s_is_due (query_park_t *self, const query_tail_state_t *state, int64_t now, bool grew)
{
    return now >= state->deadline_ms || (grew && s_log_past (self, state->org_id,
                                                             state->from_index));
}

//  Move the due tails of from to due, the others to parked
static void
s_sort (query_park_t *self, zlist_t *from, int64_t now, bool grew)
{
    size_t count = zlist_size (from);
    for (size_t at = 0; at < count; at++) {
        zmsg_t *msg = (zmsg_t *) zlist_pop (from);
        zlist_append (s_is_due (self, s_state (msg), now, grew)? self->due: self->parked, msg);
    }
}

//  The parked tails are read only when the store's version moved; the
//  fresh ones always, as a commit may have come between their worker's
//  read and the version this park last saw
static void
s_look (query_park_t *self, int64_t now)
{
    uint64_t version = 0;
    bool grew = audit_store_log_version (self->store, &version) != 0 || version != self->version;
    self->version = version;
    self->looked_ms = now;
    zhashx_purge (self->sizes);
    s_sort (self, self->parked, now, grew);
    s_sort (self, self->fresh, now, true);
}

zmsg_t *
query_park_due (query_park_t *self, int64_t now)
{
    if (zlist_size (self->due) == 0
    &&  (zlist_size (self->parked) > 0 || zlist_size (self->fresh) > 0)
    &&  now - self->looked_ms >= QUERY_PARK_POLL_MS)
        s_look (self, now);
    return (zmsg_t *) zlist_pop (self->due);
}
