/*  =========================================================================
    query_throttle - unauthenticated replies, rate-limited per peer

    The bucket is kept as the GCRA does (ATM's virtual scheduling): one
    time per peer, the "theoretical arrival time" of its next reply; a
    reply may go at tat - burst, and each one moves tat on by an interval.
    A peer whose tat has passed has a full bucket and can be forgotten.
    ========================================================================= */

#include "query_throttle.h"
#include "audit_curve.h"

#include <string.h>

#define S_INTERVAL_MS   (1000 / QUERY_THROTTLE_PER_SECOND)
#define S_BURST_MS      ((QUERY_THROTTLE_BURST - 1) * S_INTERVAL_MS)
//  Where peers beyond QUERY_THROTTLE_PEERS_MAX are charged, together
#define S_OVERFLOW      "(other)"
//  A full table is searched for idle peers at most this often: each
//  search reads every peer, and a flood of new addresses must not make
//  every reply pay for one
#define S_FORGET_EVERY_MS   1000

typedef struct {
    int64_t due_ms;
    zmsg_t *msg;
} s_held_t;

struct _query_throttle_t {
    zhashx_t *peers;                //  name -> int64_t tat, in ms
    s_held_t held [QUERY_THROTTLE_HELD_MAX];
    size_t held_count;
    int64_t forgot_ms;              //  last s_forget_idle
};

query_throttle_t *
query_throttle_new (void)
{
    query_throttle_t *self = calloc (1, sizeof *self);
    if (self)
        self->forgot_ms = INT64_MIN / 2;
    if (self && !(self->peers = zhashx_new ()))
        query_throttle_destroy (&self);
    if (self)
        zhashx_set_destructor (self->peers, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void
query_throttle_destroy (query_throttle_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    query_throttle_t *self = *self_p;
    for (size_t index = 0; index < self->held_count; index++)
        zmsg_destroy (&self->held [index].msg);
    zhashx_destroy (&self->peers);
    free (self);
    *self_p = NULL;
}

//  Forget every peer whose bucket is full again
static void
s_forget_idle (query_throttle_t *self, int64_t now_ms)
{
    zlistx_t *names = zhashx_keys (self->peers);
    for (const char *name = names? zlistx_first (names): NULL; name; name = zlistx_next (names)) {
        int64_t *tat = (int64_t *) zhashx_lookup (self->peers, name);
        if (tat && *tat <= now_ms)
            zhashx_delete (self->peers, name);
    }
    zlistx_destroy (&names);
}

//  The peer's tat, made when new; NULL when out of memory
static int64_t *
s_tat (query_throttle_t *self, const char *peer, int64_t now_ms)
{
    int64_t *tat = (int64_t *) zhashx_lookup (self->peers, peer);
    if (tat)
        return tat;
    if (zhashx_size (self->peers) >= QUERY_THROTTLE_PEERS_MAX
    &&  now_ms - self->forgot_ms >= S_FORGET_EVERY_MS) {
        s_forget_idle (self, now_ms);
        self->forgot_ms = now_ms;
    }
    if (zhashx_size (self->peers) >= QUERY_THROTTLE_PEERS_MAX)
        peer = S_OVERFLOW;
    if ((tat = (int64_t *) zhashx_lookup (self->peers, peer)))
        return tat;
    tat = (int64_t *) malloc (sizeof *tat);
    if (!tat)
        return NULL;
    *tat = now_ms;
    zhashx_insert (self->peers, peer, tat);
    return (int64_t *) zhashx_lookup (self->peers, peer);
}

query_throttle_outcome_t
query_throttle_charge (query_throttle_t *self, const char *peer, zmsg_t **msg_p,
                       int64_t now_ms)
{
    assert (self && peer && msg_p);
    int64_t *tat = s_tat (self, peer, now_ms);
    if (!tat)
        return QUERY_THROTTLE_SEND;         //  out of memory: not worth a lost reply
    if (*tat < now_ms)
        *tat = now_ms;
    int64_t send_ms = *tat - S_BURST_MS;
    if (send_ms <= now_ms) {
        *tat += S_INTERVAL_MS;
        return QUERY_THROTTLE_SEND;
    }
    //  Dropped without moving tat on, so that a flood cannot push a
    //  peer's recovery further than the longest hold
    if (send_ms - now_ms > QUERY_THROTTLE_HOLD_MAX_MS || self->held_count == QUERY_THROTTLE_HELD_MAX) {
        zmsg_destroy (msg_p);
        return QUERY_THROTTLE_DROPPED;
    }
    *tat += S_INTERVAL_MS;
    self->held [self->held_count++] = (s_held_t) { send_ms, *msg_p };
    *msg_p = NULL;
    return QUERY_THROTTLE_HELD;
}

zmsg_t *
query_throttle_due (query_throttle_t *self, int64_t now_ms)
{
    assert (self);
    for (size_t index = 0; index < self->held_count; index++)
        if (self->held [index].due_ms <= now_ms) {
            zmsg_t *msg = self->held [index].msg;
            self->held [index] = self->held [--self->held_count];
            return msg;
        }
    return NULL;
}

int
query_throttle_wait_ms (query_throttle_t *self, int64_t now_ms)
{
    assert (self);
    int64_t soonest = -1;
    for (size_t index = 0; index < self->held_count; index++) {
        int64_t wait = self->held [index].due_ms - now_ms;
        if (wait < 0)
            wait = 0;
        if (soonest < 0 || wait < soonest)
            soonest = wait;
    }
    return (int) soonest;
}

size_t
query_throttle_peers (query_throttle_t *self)
{
    assert (self);
    return zhashx_size (self->peers);
}

void
query_throttle_peer_name (zmsg_t *msg, char *name)
{
    //  The metadata travels on the frames the peer sent, not on the
    //  routing id the ROUTER put before them
    zframe_t *identity = zmsg_first (msg);
    zframe_t *body = zmsg_last (msg);
    const char *key = body? zframe_meta (body, AUDIT_CURVE_PROPERTY_KEY): NULL;
    const char *address = body? zframe_meta (body, "Peer-Address"): NULL;
    if (key && *key)
        snprintf (name, QUERY_THROTTLE_PEER_MAX + 1, "key:%s", key);
    else
    if (address && *address)
        snprintf (name, QUERY_THROTTLE_PEER_MAX + 1, "ip:%s", address);
    else {
        size_t size = identity? zframe_size (identity): 0;
        const byte *data = identity? zframe_data (identity): NULL;
        int used = snprintf (name, QUERY_THROTTLE_PEER_MAX + 1, "id:");
        for (size_t index = 0; index < size && used + 2 <= QUERY_THROTTLE_PEER_MAX; index++)
            used += snprintf (name + used, QUERY_THROTTLE_PEER_MAX + 1 - (size_t) used, "%02x",
                              data [index]);
    }
}
