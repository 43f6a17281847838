/*  =========================================================================
    audit_conns - the connection cap of a worker's bound sockets

    libzmq 4.3 has no server-side limit on connections, and at the fd
    limit its accept loop spins: accept fails with EMFILE, the listening
    fd stays readable, and the I/O thread tries again at once (both
    workers at 99.8 % CPU with `ulimit -n 256` and 600 connections, issue
    12). This module keeps a worker under its fd limit instead.

    It raises the soft RLIMIT_NOFILE to the hard one, and watches each
    socket given to it through a socket monitor, on a thread of its own
    (so that it refuses promptly whatever the worker is doing). A
    connection accepted while the worker already has its cap of them is
    refused at once: shutdown (2) on its fd, which libzmq then closes as
    any broken connection, so the fd is never closed twice. The cap is
    AUDIT_MAX_CONNECTIONS, and never more than the fds left under the
    soft limit once the worker has opened its stores, less
    AUDIT_CONNS_FD_MARGIN for what it opens later. Should accept still
    meet EMFILE (the limit lowered under a running worker, or fds gone to
    something else), the module gives up its AUDIT_CONNS_RESERVE spare
    fds, takes its cap again from the fds in use (closing the newest
    connections past it: libzmq needs free fds to accept and so refuse
    without spinning), accepts and closes
    itself what waits on the listening socket (which it makes
    non-blocking: libzmq's thread may take a connection first), and takes
    the spare fds back: libzmq's listener is left nothing to spin on.

    With a memory guard (AUDIT_MEMORY_GUARD_MIB), the same thread hears
    from audit_memguard when the worker's resident memory passes the guard,
    and drops the connection it names, the one that brought the most bytes
    while memory rose: libzmq 4.3 holds a multipart message whole before
    the worker sees it, with no limit on its frames, so this is what
    bounds a worker whatever a peer sends.

    What it counts (refused connections, connections dropped for memory,
    and the connections of each watched socket that ended, refused ones
    aside) is taken by the owner with audit_conns_take; a message on
    audit_conns_socket says there is something to take.
    ========================================================================= */

#ifndef AUDIT_CONNS_H_INCLUDED
#define AUDIT_CONNS_H_INCLUDED

#include <czmq.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Sockets one guard watches, at most
#define AUDIT_CONNS_SOCKETS_MAX  4
//  fds kept free under the soft limit for what the worker opens later
//  (store files, the WAL and its index, pipes)
#define AUDIT_CONNS_FD_MARGIN    64
//  Spare fds held, given up when accept meets EMFILE all the same
#define AUDIT_CONNS_RESERVE      8

typedef struct _audit_conns_t audit_conns_t;

//  What happened since the last take
typedef struct {
    int64_t refused;                            //  connections over the cap
    int64_t accept_failed;                      //  accepts that met EMFILE/ENFILE
    int64_t dropped_for_memory;                 //  connections the memory guard dropped
    int64_t ended [AUDIT_CONNS_SOCKETS_MAX];    //  per watched socket, refused aside
} audit_conns_report_t;

//  A guard allowing max_connections (0: as many as the fd limit allows)
//  in all its sockets together, and dropping connections while the
//  worker's resident memory is past memory_guard bytes (0: no memory
//  guard). Raises the soft fd limit first. NULL when out of memory or the
//  thread cannot start.
audit_conns_t *
    audit_conns_new (size_t max_connections, size_t memory_guard);

//  Stop watching; safe on NULL and twice. Destroy before the sockets.
void
    audit_conns_destroy (audit_conns_t **self_p);

//  Watch socket (a bound one; borrowed), from the thread that owns it.
//  Returns its index in the report, or -1. Replaces any other monitor of
//  the socket (libzmq has one per socket).
int
    audit_conns_watch (audit_conns_t *self, zsock_t *socket);

//  The cap in force.
size_t
    audit_conns_cap (audit_conns_t *self);

//  Connections open now (refused ones aside).
size_t
    audit_conns_open (audit_conns_t *self);

//  Readable when there is something to take.
zsock_t *
    audit_conns_socket (audit_conns_t *self);

//  Take what happened since the last take (and its wake-up message).
void
    audit_conns_take (audit_conns_t *self, audit_conns_report_t *report);

//  The cap for max_connections (0: none) with soft_limit fds, open_fds of
//  them open now: pure, for tests.
size_t
    audit_conns_cap_of (size_t max_connections, size_t soft_limit, size_t open_fds);

#ifdef __cplusplus
}
#endif

#endif
