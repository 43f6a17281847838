/*  =========================================================================
    query_throttle - unauthenticated replies, rate-limited per peer

    A wrong token costs a client nothing and us a verification, so nothing
    stopped 4,750 guesses a second (issue 12). Each peer (its CURVE key, or
    its IP address, or its routing id when it has neither) has a token
    bucket of QUERY_THROTTLE_BURST unauthenticated replies, refilled at
    QUERY_THROTTLE_PER_SECOND: past it, a reply is held until the bucket
    has room again, so that a REQ client, which waits for each reply, is
    slowed to that rate; a reply that would be held longer than
    QUERY_THROTTLE_HOLD_MAX_MS, or past QUERY_THROTTLE_HELD_MAX held in
    all, is dropped. Only unauthenticated replies are charged: the good
    requests of a peer that shares an address (the portal) pass as before.

    Memory is bounded: at most QUERY_THROTTLE_PEERS_MAX peers are tracked
    (peers whose bucket is full again are forgotten first, searched for
    once a second at most; past that, new peers share one more bucket),
    and QUERY_THROTTLE_HELD_MAX replies are held.
    The server actor owns it: one thread, no lock.
    ========================================================================= */

#ifndef QUERY_THROTTLE_H_INCLUDED
#define QUERY_THROTTLE_H_INCLUDED

#include <czmq.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QUERY_THROTTLE_BURST          10
#define QUERY_THROTTLE_PER_SECOND     5
#define QUERY_THROTTLE_HOLD_MAX_MS    5000
#define QUERY_THROTTLE_HELD_MAX       256
#define QUERY_THROTTLE_PEERS_MAX      4096
#define QUERY_THROTTLE_PEER_MAX       64        //  bytes of a peer's name kept

typedef struct _query_throttle_t query_throttle_t;

//  What became of one unauthenticated reply
typedef enum {
    QUERY_THROTTLE_SEND,            //  now
    QUERY_THROTTLE_HELD,            //  later, from query_throttle_due
    QUERY_THROTTLE_DROPPED          //  never (destroyed)
} query_throttle_outcome_t;

//  Create a throttle; NULL when out of memory.
query_throttle_t *
    query_throttle_new (void);

//  Destroy, with every reply still held; safe on NULL and twice.
void
    query_throttle_destroy (query_throttle_t **self_p);

//  Charge peer for one unauthenticated reply at now_ms (monotonic). SEND:
//  *msg_p is left to the caller; HELD or DROPPED: it is taken (NULL after).
query_throttle_outcome_t
    query_throttle_charge (query_throttle_t *self, const char *peer, zmsg_t **msg_p,
                           int64_t now_ms);

//  The next held reply whose time has come by now_ms, or NULL.
zmsg_t *
    query_throttle_due (query_throttle_t *self, int64_t now_ms);

//  Milliseconds until the next held reply is due (0: one is), -1: none held.
int
    query_throttle_wait_ms (query_throttle_t *self, int64_t now_ms);

//  Peers tracked now (tests).
size_t
    query_throttle_peers (query_throttle_t *self);

//  The name a message's sender is charged under, from a message as a
//  ROUTER received it: CURVE key, else IP address, else routing id in hex. name has QUERY_THROTTLE_PEER_MAX + 1 bytes.
void
    query_throttle_peer_name (zmsg_t *msg, char *name);

#ifdef __cplusplus
}
#endif

#endif
