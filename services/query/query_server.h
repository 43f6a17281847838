/*  =========================================================================
    query_server - the query endpoint: a ROUTER in front, a pool of worker
    threads behind it

    A REQ client sees plain REP semantics. Requests go to the first idle
    worker; when all are busy they wait in a bounded queue per connection,
    taken in turn (query_fair), and past that the client is told
    `unavailable` at once instead of waiting unseen. A connection has at
    most AUDIT_QUERY_PEER_REQUESTS outstanding, and replies it does not
    read are held up to AUDIT_QUERY_PEER_BYTES, then dropped. Connections
    past AUDIT_MAX_CONNECTIONS (and the fd limit) are refused (audit_conns).
    One that waited in the queue too long is told `unavailable` when its
    turn comes, instead of being run for a client that has given up.
    One long export therefore holds up one worker, not everyone's list.

    A tail that waits is parked here (query_park), not in a worker, and
    run again when its organisation's log grew or its wait is over: a
    waiting tail holds up nothing.

    Commands on its pipe:
      START     start the ZAP handler (with CURVE), bind, open the stores,
                start the workers; replies "i" 0 / -1
      RELOAD    re-read the client keys (SIGHUP); replies "i" 0 / -1
      $TERM     stop
    ========================================================================= */

#ifndef QUERY_SERVER_H_INCLUDED
#define QUERY_SERVER_H_INCLUDED

#include <czmq.h>

#include "audit_curve.h"
#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Requests waiting for a worker, at most; more are answered unavailable
#define QUERY_SERVER_QUEUE_MAX  1024
//  and their bytes at most (a request is at most 64 KiB)
#define QUERY_SERVER_QUEUE_BYTES_MAX  (8 * 1024 * 1024)
//  A queued request whose turn comes later than this after it arrived is
//  answered unavailable instead of run: REQ clients such as auditctl give
//  up after a few seconds, so running it would only make every request
//  behind it wait longer for an answer nobody reads (1000 abandoned
//  exports once held health up for 17.5 s)
#define QUERY_SERVER_QUEUE_WAIT_MAX_MS  5000
//  Defaults of AUDIT_QUERY_PEER_REQUESTS and AUDIT_QUERY_PEER_BYTES
#define QUERY_SERVER_PEER_REQUESTS  32
#define QUERY_SERVER_PEER_BYTES     (8 * 1024 * 1024)
//  Worker threads at most
#define QUERY_SERVER_WORKERS_MAX 64

typedef struct {
    const char *endpoint;
    int workers;                    //  threads; 0 means one per core
    query_shared_t *shared;         //  must outlive the server
    int queue_wait_max_ms;          //  0 means QUERY_SERVER_QUEUE_WAIT_MAX_MS
    const audit_curve_t *curve;     //  the server's keys (borrowed); NULL: plaintext
    const char *keys_dir;           //  with curve: the client keys allowed; "": any
    bool allow_plaintext;           //  without curve: bind beyond loopback too
    size_t peer_requests;           //  outstanding per connection; 0: the default
    size_t peer_bytes;              //  reply bytes held per connection; 0: the default
    size_t max_connections;         //  0: as many as the fd limit allows
    size_t memory_guard;            //  RSS bytes past which a peer is dropped; 0: none
} query_server_options_t;

//  Create the server actor; the options are copied before this returns.
//  NULL when its thread cannot set up (the reason is logged).
zactor_t *
    query_server_new (const query_server_options_t *options);

#ifdef __cplusplus
}
#endif

#endif
