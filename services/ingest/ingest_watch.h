/*  =========================================================================
    ingest_watch - the connections of the ingest sockets: the cap on them,
    and the producers libzmq drops

    The SUB socket and the ack ROUTER share one connection cap
    (audit_conns: AUDIT_MAX_CONNECTIONS, within the fd limit); a
    connection past it is refused at once and counted
    (ingest.connections_refused).

    A connection that brought the most bytes while the worker's memory
    rose past AUDIT_MEMORY_GUARD_MIB is dropped and counted
    (ingest.connections_dropped_for_memory): a message of many frames is
    held whole in libzmq before the worker sees any of it (audit_memguard).

    libzmq closes the connection of a producer that sends a frame over the
    socket's ZMQ_MAXMSGSIZE (INGEST_ACTOR_MAXMSGSIZE, 1 MiB), and the body
    is lost without a word (issue 12). libzmq 4.3 tells of it only through
    a socket monitor, as DISCONNECTED: the same event as a producer that
    closes its socket (measured: neither a handshake nor a protocol event
    comes with it), so what is counted (ingest.disconnected) is every
    producer connection to the SUB socket that ended, refused ones aside;
    a count that rises while producers stay up is peers being dropped.
    ========================================================================= */

#ifndef INGEST_WATCH_H_INCLUDED
#define INGEST_WATCH_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ingest_watch_t ingest_watch_t;

//  What happened since the last take
typedef struct {
    int64_t ended;                  //  SUB connections that ended, refused aside
    int64_t refused;                //  connections over the cap, both sockets
    int64_t dropped_for_memory;     //  connections the memory guard dropped
} ingest_watch_report_t;

//  Watch sub and ack (borrowed; destroy the watch first), at most
//  max_connections between them (0: what the fd limit allows), dropping
//  connections while resident memory is past memory_guard bytes (0: no
//  guard). NULL when the monitor cannot start.
ingest_watch_t *
    ingest_watch_new (zsock_t *sub, zsock_t *ack, size_t max_connections,
                      size_t memory_guard);

//  Stop watching; safe on NULL and twice.
void
    ingest_watch_destroy (ingest_watch_t **self_p);

//  The socket to poll for events.
zsock_t *
    ingest_watch_socket (ingest_watch_t *self);

//  Take what happened since the last call.
void
    ingest_watch_recv (ingest_watch_t *self, ingest_watch_report_t *report);

#ifdef __cplusplus
}
#endif

#endif
