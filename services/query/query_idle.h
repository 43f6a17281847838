/*  =========================================================================
    query_idle - the server's idle workers, and which one holds a client's
    next export chunk

    A worker that answered an export chunk with a next one reads that next
    chunk at once (query_export), for the client that asked. The server
    gives that client's next request to that worker, and any other request
    to another idle worker first, so that the read is neither done twice
    nor cut short while a worker has nothing to do. Otherwise the worker
    that went idle last is taken, as the guide's broker does: its caches
    are the warmest.
    ========================================================================= */

#ifndef QUERY_IDLE_H_INCLUDED
#define QUERY_IDLE_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Workers one set holds at most (query_server's QUERY_SERVER_WORKERS_MAX)
#define QUERY_IDLE_MAX  64

typedef struct {
    int index [QUERY_IDLE_MAX];             //  in the order they went idle
    zframe_t *ahead_for [QUERY_IDLE_MAX];   //  routing id of the client it reads for, or NULL
    int count;
} query_idle_t;

//  An empty set.
void
    query_idle_init (query_idle_t *self);

//  Free what the set holds.
void
    query_idle_release (query_idle_t *self);

//  Worker index is idle, reading ahead for the client of routing id
//  ahead_for (copied), or for none when NULL.
void
    query_idle_add (query_idle_t *self, int index, zframe_t *ahead_for);

//  The worker for a request of the client of routing_id (NULL: none
//  known): the one reading ahead for it, else the last to go idle of
//  those reading for no one, else the last to go idle. -1 when none is.
int
    query_idle_take (query_idle_t *self, zframe_t *routing_id);

#ifdef __cplusplus
}
#endif

#endif
