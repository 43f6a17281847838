/*  =========================================================================
    ingest_watch - the producers libzmq drops from the ingest socket

    libzmq closes the connection of a producer that sends a frame over the
    socket's ZMQ_MAXMSGSIZE (INGEST_ACTOR_MAXMSGSIZE, 1 MiB), and the body
    is lost without a word (issue 12). libzmq 4.3 tells of it only through
    a socket monitor, as DISCONNECTED: the same event as a producer that
    closes its socket (measured: neither a handshake nor a protocol event
    comes with it), so what is counted (ingest.disconnected) is every
    producer connection that ended; a count that rises while producers
    stay up is peers being dropped. Each is logged too, at info.
    ========================================================================= */

#ifndef INGEST_WATCH_H_INCLUDED
#define INGEST_WATCH_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ingest_watch_t ingest_watch_t;

//  Watch socket (borrowed; destroy the watch first). NULL when the
//  monitor cannot start.
ingest_watch_t *
    ingest_watch_new (zsock_t *socket);

//  Stop watching; safe on NULL and twice.
void
    ingest_watch_destroy (ingest_watch_t **self_p);

//  The socket to poll for events.
zsock_t *
    ingest_watch_socket (ingest_watch_t *self);

//  Take every event that is ready; returns the disconnections among them.
int64_t
    ingest_watch_recv (ingest_watch_t *self);

#ifdef __cplusplus
}
#endif

#endif
