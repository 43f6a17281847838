/*  =========================================================================
    audit_memguard - which connection to drop when a worker's memory is
    past its guard

    libzmq 4.3 takes a whole multipart message in before the worker sees
    its first frame, its high-water mark counts whole messages, and
    ZMQ_MAXMSGSIZE is per frame: one message of 300 frames of 1 MiB held
    ingest at 369 MiB (issue 12), and nothing in libzmq bounds the frames
    of a message. What the worker can see from outside libzmq is its own
    resident memory (/proc/self/statm) and how many bytes each TCP
    connection has delivered (TCP_INFO's tcpi_bytes_received). So:

    - below three quarters of the guard, nothing is tracked but new
      connections;
    - when memory first rises past three quarters, each connection's
      bytes received are noted, and noted again each second while memory
      stays between three quarters and the guard: what a connection sent
      since the note before the last (one to two seconds) is what it
      brought while memory grew;
    - at the guard, the connection that brought the most since that note
      (at least AUDIT_MEMGUARD_MIN_BYTES) is named to be dropped, and
      libzmq then rolls back the partial message it held for it; when no
      connection brought that much, freed memory is given back to the
      kernel (malloc_trim). Still past the guard AUDIT_MEMGUARD_SETTLE_MS
      later, what is free is given back first, and another connection is
      named only if memory stays past it; with no one to name, the guard
      looks again ever more rarely (up to once a second), so that a
      worker held past it by something else does not spin.

    A legitimate producer or client that is dropped reconnects (the
    producer's outbox replays what was not acknowledged); a hostile one is
    dropped again. Connections that are not TCP (ipc://) have no byte
    count and are never named: they are local, behind file permissions.

    Memory is read by a small thread of the guard's own, a plain sleep
    and one pread each time (a wake costs some 70 us on this machine
    whatever wakes, so it sleeps as long as it safely may, see
    AUDIT_MEMGUARD_FASTEST). It wakes the owner, on audit_memguard_socket,
    only when memory crosses a mark, and each time it looks while memory
    is past the guard.

    The rest of the guard belongs to the thread that owns it (audit_conns'
    monitor), which tells it of connections and calls audit_memguard_check
    when woken.
    ========================================================================= */

#ifndef AUDIT_MEMGUARD_H_INCLUDED
#define AUDIT_MEMGUARD_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The guard looks at memory as often as the fastest peer needs to bring
//  it to the next mark, three quarters or the guard (4 MiB a millisecond:
//  about what one peer on loopback brings here), within these: with the
//  default guard, a quiet worker at 12 MiB looks every 15 ms, one at 90
//  MiB every 1.5 ms
#define AUDIT_MEMGUARD_FASTEST     (4 * 1024 * 1024)
#define AUDIT_MEMGUARD_MIN_MS      1
#define AUDIT_MEMGUARD_MAX_MS      20
//  Least a connection must have brought to be blamed
#define AUDIT_MEMGUARD_MIN_BYTES   (1024 * 1024)
//  Time for libzmq to free what a dropped connection held, while memory
//  stays past the guard
#define AUDIT_MEMGUARD_SETTLE_MS   20

typedef struct _audit_memguard_t audit_memguard_t;

//  A guard at limit bytes of resident memory, its thread started. NULL
//  when out of memory, when the thread cannot start, when
//  /proc/self/statm cannot be read, and in a build with AddressSanitizer
//  (logged: no guard).
audit_memguard_t *
    audit_memguard_new (size_t limit);

//  Safe on NULL and twice.
void
    audit_memguard_destroy (audit_memguard_t **self_p);

//  A connection accepted on fd: what it receives counts from 0.
void
    audit_memguard_opened (audit_memguard_t *self, int fd);

//  The connection on fd ended or was refused: it is not tracked.
void
    audit_memguard_closed (audit_memguard_t *self, int fd);

//  Readable when memory wants a look: take its messages, then check.
zsock_t *
    audit_memguard_socket (audit_memguard_t *self);

//  Look at memory now (ms: monotonic clock). Returns the fd of the
//  connection to drop (no longer tracked), or -1.
int
    audit_memguard_check (audit_memguard_t *self, int64_t now_ms);

//  The process's resident memory in bytes, 0 when it cannot be read.
size_t
    audit_memguard_rss (void);

//  A worker's malloc, tuned at start so that the memory of a dropped
//  connection goes back to the kernel: a fixed mmap threshold (glibc
//  raises it after each large free, and the next large frames then sit
//  in the heap, where a freed hole is not returned).
void
    audit_memguard_tune_malloc (void);

#ifdef __cplusplus
}
#endif

#endif
