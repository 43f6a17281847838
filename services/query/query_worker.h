/*  =========================================================================
    query_worker - one thread that answers requests, with its own
    read-only connections to the stores

    Commands on its pipe:
      "REQUEST" envelope... body    answer the body; the reply goes back
                                    as status envelope... reply, status
                                    QUERY_WORKER_UNAUTHENTICATED when the
                                    reply is unauthenticated, else
                                    QUERY_WORKER_AHEAD when it reads the
                                    next chunk of an export for that
                                    client now (query_export), else
                                    QUERY_WORKER_ANSWERED; a tail that
                                    waits goes back instead as
                                    QUERY_WORKER_PARK state envelope... body
      "RESUME" state envelope...    run a parked tail again from its state
               body                 (query_tail_state_t), answering the same
      $TERM                         stop
    ========================================================================= */

#ifndef QUERY_WORKER_H_INCLUDED
#define QUERY_WORKER_H_INCLUDED

#include <czmq.h>

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

#define QUERY_WORKER_ANSWERED         "A"
#define QUERY_WORKER_UNAUTHENTICATED  "U"
#define QUERY_WORKER_PARK             "P"
#define QUERY_WORKER_AHEAD            "R"

//  Start a worker on its own read-only store, whose ownership moves to
//  it; shared must outlive the worker. NULL when the worker cannot
//  serve (its set-up failed; the store is gone then too).
zactor_t *
    query_worker_new (query_shared_t *shared, audit_store_t **store_p);

//  Prepare a call context on store (ownership moves in): its statement
//  caches and names cache. 0, or -1 (the call is then released).
int
    query_worker_call_init (query_call_t *call, query_shared_t *shared,
                            audit_store_t **store_p, query_reply_t *reply);

//  Release what query_worker_call_init made; safe twice.
void
    query_worker_call_release (query_call_t *call);

//  Answer one request body into reply (what the thread does per request;
//  public so that tests and benchmarks can call it in-process).
void
    query_worker_answer (query_call_t *call, query_request_t *request,
                         const void *body, size_t size);

#ifdef __cplusplus
}
#endif

#endif
