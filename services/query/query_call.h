/*  =========================================================================
    query_call - what a handler sees of one request, and what all worker
    threads share

    A handler gets a checked, typed request and verified claims, reads
    through its thread's own read-only store (with the store's typed
    operations, audit_store_org and the like), and writes its answer into
    the reply. The few writes the query side makes (the export and
    retention audit events, retention changes, mq acks) go through the one
    shared maintainer store under its lock.
    ========================================================================= */

#ifndef QUERY_CALL_H_INCLUDED
#define QUERY_CALL_H_INCLUDED

#include <pthread.h>

#include "audit_csv.h"
#include "audit_cursor.h"
#include "audit_store.h"
#include "audit_token.h"
#include "query_reply.h"
#include "query_request.h"
#include "query_shared.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A tail that waits (contract: "tail") is parked by the server, not held
//  by a worker: the handler asks to park it, the server runs it again when
//  its organisation's log grew or its wait is over. The state travels with
//  it between the two threads of one process (query_server, query_worker).
typedef struct {
    uint64_t from_index;            //  where it reads from, resolved on its first run
    int64_t deadline_ms;            //  monotonic; past it, it answers what it has
    char org_id [AUDIT_IDENT_MAX + 1];
} query_tail_state_t;

//  An export's next chunk, read ahead (query_export)
typedef struct _query_ahead_t query_ahead_t;

typedef struct {
    const query_request_t *request;
    const audit_claims_t *claims;       //  zeroed for ops that need no token
    audit_store_t *store;               //  this thread's read-only connections
    query_shared_t *shared;
    const query_keys_t *keys;           //  held for this request (token, cursors)
    query_reply_t *reply;
    //  The export's chunk writer, reset for each chunk and kept with its
    //  memory between requests: a writer made per chunk grew a fresh 4 MiB
    //  buffer each time, and its page faults cost the socket export a
    //  fifth of its rate (bench/RESULTS.md)
    audit_csv_t *chunk;
    query_ahead_t *ahead;               //  NULL until an export has a next chunk
    bool resumed;                       //  tail: run again from tail_state
    bool park;                          //  tail: out: park it with tail_state, no reply
    query_tail_state_t tail_state;
} query_call_t;

//  A handler answers one op into call->reply
typedef void (query_handler_fn) (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
