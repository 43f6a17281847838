/*  =========================================================================
    query_fair - what each connection of the query socket has outstanding,
    and the order requests are run in

    One client keeping 3,000 requests outstanding once turned half its own
    requests into `unavailable` and pushed another client's health to a
    p99 of 1.19 s; 60 exports never read held 412 MB (issue 12). So each
    connection (its ROUTER routing id) has:
      - at most peer_requests requests outstanding, from their arrival
        until their reply is handed to libzmq (waiting, running, parked,
        or held below); past it a request is answered `unavailable` at
        once, without a worker;
      - its own queue of requests waiting for a worker. Workers take from
        the queues in turn, one request of each connection that waits, so
        a connection with many requests waiting delays another's by at
        most one request per worker;
      - the replies libzmq would not take now (its pipe to that peer is
        full: ZMQ_SNDHWM is QUERY_FAIR_SNDHWM and ZMQ_ROUTER_MANDATORY is
        on), held here up to peer_bytes bytes and QUERY_FAIR_HOLD_MS;
        past either they are dropped and counted (query.replies_dropped).
    The server actor owns it: one thread, no lock.
    ========================================================================= */

#ifndef QUERY_FAIR_H_INCLUDED
#define QUERY_FAIR_H_INCLUDED

#include <czmq.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Replies in libzmq's pipe to one peer before a send is refused: with
//  the one the connection is writing, two replies per peer in libzmq
#define QUERY_FAIR_SNDHWM        1
//  A reply held longer than this is dropped: its client has given up
#define QUERY_FAIR_HOLD_MS       5000
//  Held replies are offered to libzmq again this often
#define QUERY_FAIR_RETRY_MS      1

typedef struct _query_fair_t query_fair_t;

//  What became of a reply offered with query_fair_send
typedef enum {
    QUERY_FAIR_SENT,
    QUERY_FAIR_HELD,
    QUERY_FAIR_DROPPED
} query_fair_outcome_t;

//  Fair queueing in front of router (borrowed; made with QUERY_FAIR_SNDHWM
//  and ZMQ_ROUTER_MANDATORY). NULL when out of memory.
query_fair_t *
    query_fair_new (zsock_t *router, size_t peer_requests, size_t peer_bytes);

//  Destroy, with every request and reply it holds; safe on NULL and twice.
void
    query_fair_destroy (query_fair_t **self_p);

//  A request arrived from the peer whose routing id is the first frame of
//  msg: true when it may be run (it is then outstanding), false when the
//  peer has peer_requests outstanding already.
bool
    query_fair_admit (query_fair_t *self, zmsg_t *msg);

//  Keep *msg_p (taken) in the queue of the peer of routing id (a copy is
//  kept), to be run in its turn.
void
    query_fair_enqueue (query_fair_t *self, zframe_t *routing_id, zmsg_t **msg_p);

//  The next request to run, taking the peers in turn; NULL: none waits.
zmsg_t *
    query_fair_next (query_fair_t *self);

//  Requests waiting in all queues, and their bytes.
size_t
    query_fair_waiting (query_fair_t *self);
size_t
    query_fair_waiting_bytes (query_fair_t *self);

//  Send a reply (envelope first; taken) to its peer, or hold it while
//  libzmq's pipe to the peer is full. admitted: it answers an admitted
//  request, which stops being outstanding once it is sent or dropped.
query_fair_outcome_t
    query_fair_send (query_fair_t *self, zmsg_t **msg_p, bool admitted);

//  An admitted request ended without a reply through query_fair_send.
void
    query_fair_release (query_fair_t *self, zframe_t *routing_id);

//  Offer the held replies to libzmq again, dropping those held too long;
//  returns the replies dropped.
size_t
    query_fair_retry (query_fair_t *self, int64_t now_ms);

//  ms until the next retry, -1 when nothing is held.
int
    query_fair_wait_ms (query_fair_t *self);

//  Replies dropped since the last call (counted by the caller).
size_t
    query_fair_take_dropped (query_fair_t *self);

//  Peers known now, and bytes held for all (tests).
size_t
    query_fair_peers (query_fair_t *self);
size_t
    query_fair_held_bytes (query_fair_t *self);

#ifdef __cplusplus
}
#endif

#endif
