/*  =========================================================================
    query_fair - what each connection of the query socket has outstanding,
    and the order requests are run in
    ========================================================================= */

#include "query_fair.h"

#include <errno.h>

//  Bytes held for all peers together, in peer_bytes: a few peers that do
//  not read are held for, the rest of their replies are dropped
#define S_HELD_TOTAL_PEERS  4

typedef struct {
    zmsg_t *msg;
    size_t bytes;
    int64_t since_ms;
    bool admitted;
} s_held_t;

typedef struct {
    char *key;                      //  the routing id in hex
    size_t outstanding;
    zlist_t *waiting;               //  requests, oldest first
    zlist_t *held;                  //  s_held_t, oldest first
    size_t held_bytes;
    bool in_ring, holding;
} s_peer_t;

struct _query_fair_t {
    zsock_t *router;
    size_t peer_requests, peer_bytes;
    zhashx_t *peers;                //  s_peer_t by key
    zlist_t *ring;                  //  peers with requests waiting, in turn
    zlist_t *holding;               //  peers with replies held
    size_t waiting, waiting_bytes, held_bytes, dropped;
};

static void
s_peer_destroy (void **item)
{
    s_peer_t *peer = (s_peer_t *) *item;
    if (!peer)
        return;
    while (peer->waiting && zlist_size (peer->waiting)) {
        zmsg_t *msg = (zmsg_t *) zlist_pop (peer->waiting);
        zmsg_destroy (&msg);
    }
    while (peer->held && zlist_size (peer->held)) {
        s_held_t *held = (s_held_t *) zlist_pop (peer->held);
        zmsg_destroy (&held->msg);
        free (held);
    }
    zlist_destroy (&peer->waiting);
    zlist_destroy (&peer->held);
    free (peer->key);
    free (peer);
    *item = NULL;
}

query_fair_t *
query_fair_new (zsock_t *router, size_t peer_requests, size_t peer_bytes)
{
    query_fair_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->router = router;
    self->peer_requests = peer_requests ? peer_requests : 1;
    self->peer_bytes = peer_bytes;
    self->peers = zhashx_new ();
    self->ring = zlist_new ();
    self->holding = zlist_new ();
    if (!self->peers || !self->ring || !self->holding) {
        query_fair_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->peers, s_peer_destroy);
    return self;
}

void
query_fair_destroy (query_fair_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    query_fair_t *self = *self_p;
    zlist_destroy (&self->ring);
    zlist_destroy (&self->holding);
    zhashx_destroy (&self->peers);
    free (self);
    *self_p = NULL;
}

//  The peer of routing_id, made when new; NULL when out of memory
static s_peer_t *
s_peer (query_fair_t *self, zframe_t *routing_id)
{
    char *key = routing_id ? zframe_strhex (routing_id) : strdup ("");
    s_peer_t *peer = key ? (s_peer_t *) zhashx_lookup (self->peers, key) : NULL;
    if (peer || !key) {
        free (key);
        return peer;
    }
    peer = calloc (1, sizeof *peer);
    if (peer && (peer->waiting = zlist_new ()) && (peer->held = zlist_new ())) {
        peer->key = key;
        zhashx_insert (self->peers, key, peer);
        return peer;
    }
    void *item = peer;
    s_peer_destroy (&item);
    free (key);
    return NULL;
}

//  A peer with nothing outstanding, waiting or held is forgotten
static void
s_forget_idle (query_fair_t *self, s_peer_t *peer)
{
    if (peer->outstanding || zlist_size (peer->waiting) || zlist_size (peer->held)
    ||  peer->in_ring || peer->holding)
        return;
    zhashx_delete (self->peers, peer->key);
}

bool
query_fair_admit (query_fair_t *self, zmsg_t *msg)
{
    s_peer_t *peer = s_peer (self, zmsg_first (msg));
    if (!peer)
        return false;
    if (peer->outstanding >= self->peer_requests) {
        s_forget_idle (self, peer);
        return false;
    }
    peer->outstanding++;
    return true;
}

void
query_fair_enqueue (query_fair_t *self, zframe_t *routing_id, zmsg_t **msg_p)
{
    s_peer_t *peer = s_peer (self, routing_id);
    if (!peer) {
        zmsg_destroy (msg_p);
        return;
    }
    self->waiting_bytes += zmsg_content_size (*msg_p);
    zlist_append (peer->waiting, *msg_p);
    *msg_p = NULL;
    self->waiting++;
    if (!peer->in_ring) {
        peer->in_ring = true;
        zlist_append (self->ring, peer);
    }
}

zmsg_t *
query_fair_next (query_fair_t *self)
{
    s_peer_t *peer = (s_peer_t *) zlist_pop (self->ring);
    if (!peer)
        return NULL;
    zmsg_t *msg = (zmsg_t *) zlist_pop (peer->waiting);
    self->waiting--;
    self->waiting_bytes -= zmsg_content_size (msg);
    if (zlist_size (peer->waiting))
        zlist_append (self->ring, peer);
    else
        peer->in_ring = false;
    return msg;
}

size_t
query_fair_waiting (query_fair_t *self)
{
    return self->waiting;
}

size_t
query_fair_waiting_bytes (query_fair_t *self)
{
    return self->waiting_bytes;
}

//  Every frame without waiting: 0, or the errno of the first frame
//  (EAGAIN: the peer's pipe is full; EHOSTUNREACH: it is gone). The
//  frames are kept (libzmq shares their data, nothing is copied).
static int
s_try_send (zsock_t *router, zmsg_t *msg)
{
    size_t left = zmsg_size (msg);
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg)) {
        int flags = ZFRAME_REUSE | ZFRAME_DONTWAIT | (--left ? ZFRAME_MORE : 0);
        if (zframe_send (&frame, router, flags) != 0 && left + 1 == zmsg_size (msg))
            return zmq_errno ();
    }
    return 0;
}

static void
s_done (s_peer_t *peer, bool admitted)
{
    if (admitted && peer && peer->outstanding)
        peer->outstanding--;
}

//  Hold msg for peer when there is room, else drop it
static query_fair_outcome_t
s_hold (query_fair_t *self, s_peer_t *peer, zmsg_t **msg_p, bool admitted)
{
    size_t bytes = zmsg_content_size (*msg_p);
    s_held_t *held = NULL;
    bool room = peer->held_bytes + bytes <= self->peer_bytes
             && self->held_bytes + bytes <= S_HELD_TOTAL_PEERS * self->peer_bytes;
    if (room && (held = calloc (1, sizeof *held))) {
        *held = (s_held_t) { *msg_p, bytes, zclock_mono (), admitted };
        zlist_append (peer->held, held);
        peer->held_bytes += bytes;
        self->held_bytes += bytes;
        *msg_p = NULL;
        if (!peer->holding) {
            peer->holding = true;
            zlist_append (self->holding, peer);
        }
        return QUERY_FAIR_HELD;
    }
    self->dropped++;
    zmsg_destroy (msg_p);
    s_done (peer, admitted);
    return QUERY_FAIR_DROPPED;
}

query_fair_outcome_t
query_fair_send (query_fair_t *self, zmsg_t **msg_p, bool admitted)
{
    s_peer_t *peer = s_peer (self, zmsg_first (*msg_p));
    //  Behind what is held for the peer already: replies keep their order
    if (peer && zlist_size (peer->held))
        return s_hold (self, peer, msg_p, admitted);
    int error = s_try_send (self->router, *msg_p);
    if (error == EAGAIN && peer)
        return s_hold (self, peer, msg_p, admitted);
    zmsg_destroy (msg_p);
    s_done (peer, admitted);
    if (peer)
        s_forget_idle (self, peer);
    return error ? QUERY_FAIR_DROPPED : QUERY_FAIR_SENT;
}

void
query_fair_release (query_fair_t *self, zframe_t *routing_id)
{
    s_peer_t *peer = s_peer (self, routing_id);
    if (peer) {
        s_done (peer, true);
        s_forget_idle (self, peer);
    }
}

static void
s_unhold (query_fair_t *self, s_peer_t *peer, s_held_t *held)
{
    zlist_pop (peer->held);
    peer->held_bytes -= held->bytes;
    self->held_bytes -= held->bytes;
    zmsg_destroy (&held->msg);
    s_done (peer, held->admitted);
    free (held);
}

//  The peer's held replies, oldest first, until libzmq refuses one; true
//  when none is left
static bool
s_retry_peer (query_fair_t *self, s_peer_t *peer, int64_t now_ms, size_t *dropped)
{
    s_held_t *held;
    while ((held = (s_held_t *) zlist_first (peer->held))) {
        int error = 0;
        if (now_ms - held->since_ms > QUERY_FAIR_HOLD_MS)
            (*dropped)++;
        else
        if ((error = s_try_send (self->router, held->msg)) == EAGAIN)
            return false;
        s_unhold (self, peer, held);
    }
    return true;
}

size_t
query_fair_retry (query_fair_t *self, int64_t now_ms)
{
    size_t dropped = 0;
    size_t count = zlist_size (self->holding);
    //  ZMQ_EVENTS takes in libzmq's commands without its send-side
    //  throttle: among them, that the I/O thread read a peer's pipe
    if (count)
        zsock_events (self->router);
    for (size_t index = 0; index < count; index++) {
        s_peer_t *peer = (s_peer_t *) zlist_pop (self->holding);
        if (!s_retry_peer (self, peer, now_ms, &dropped))
            zlist_append (self->holding, peer);
        else {
            peer->holding = false;
            s_forget_idle (self, peer);
        }
    }
    self->dropped += dropped;
    return dropped;
}

int
query_fair_wait_ms (query_fair_t *self)
{
    return zlist_size (self->holding) ? QUERY_FAIR_RETRY_MS : -1;
}

size_t
query_fair_take_dropped (query_fair_t *self)
{
    size_t dropped = self->dropped;
    self->dropped = 0;
    return dropped;
}

size_t
query_fair_peers (query_fair_t *self)
{
    return zhashx_size (self->peers);
}

size_t
query_fair_held_bytes (query_fair_t *self)
{
    return self->held_bytes;
}
