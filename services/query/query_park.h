/*  =========================================================================
    query_park - the tails the query server keeps while they wait

    A tail that found nothing and may still wait comes back from its worker
    as its state (query_tail_state_t), the peer frame, its envelope and its
    body. It is parked here, and handed back to be run again once its
    organisation's log holds an event at or past its from_index, or its
    wait is over. The log sizes are read through a read-only store of its
    own, at most every QUERY_PARK_POLL_MS, and only when the store's version
    says something was committed: then one indexed read per organisation
    waited on, however many tails wait on it.
    ========================================================================= */

#ifndef QUERY_PARK_H_INCLUDED
#define QUERY_PARK_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Tails parked at most (past it, add refuses), and how often their logs
//  are looked at: a new event reaches a waiting tail within about that
#define QUERY_PARK_MAX      10000
#define QUERY_PARK_POLL_MS  25

typedef struct _query_park_t query_park_t;

//  Parking for the stores of data_dir. NULL when the store cannot be opened.
query_park_t *
    query_park_new (const char *data_dir);

//  Destroy, and the tails parked with it; safe twice.
void
    query_park_destroy (query_park_t **self_p);

//  Park *msg_p (state, peer, envelope, body). false when full: the message
//  is left to the caller, its state's deadline set to now, to answer at once.
bool
    query_park_add (query_park_t *self, zmsg_t **msg_p);

//  ms until the next look at the logs, -1 with nothing parked.
int
    query_park_wait_ms (query_park_t *self, int64_t now);

//  The parked tails that are due, handed back one at a time (NULL: no more
//  for now). Looks at the logs at most every QUERY_PARK_POLL_MS.
zmsg_t *
    query_park_due (query_park_t *self, int64_t now);

#ifdef __cplusplus
}
#endif

#endif
