/*  =========================================================================
    audit_memguard - which connection to drop when a worker's memory is
    past its guard
    ========================================================================= */

#include "audit_memguard.h"
#include "audit_log.h"
#include "audit_tcp.h"

#include <czmq.h>

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

//  A large frame's buffer is mapped of its own from this size up
#define S_MMAP_THRESHOLD    (256 * 1024)
//  A guard that finds no one to blame says so at most this often
#define S_LOG_EVERY_MS      10000
//  Between three quarters and the guard, the bytes are noted again this
//  often, and a connection is blamed for what it brought since the note
//  before the last: one to two seconds of it, not hours of a worker that
//  rests near the mark
#define S_RENOTE_MS         1000
//  Past the guard with no one to blame, looks back off to at most this
#define S_BACKOFF_MAX_MS    1000

typedef struct {
    bool tracked;
    uint64_t base;                  //  bytes received at the note before the last
    uint64_t recent;                //  and at the last
} s_conn_t;

//  Where memory stands, as the sampler sees it
enum { S_CALM, S_CLOSE, S_OVER };

struct _audit_memguard_t {
    size_t limit, low;              //  the guard, and where noting starts
    int statm;                      //  /proc/self/statm, kept open
    long page_size;
    zsock_t *socket;                //  the owner's end of the sampler's PAIR
    pthread_t sampler;
    bool sampling;                  //  the sampler was started
    atomic_bool stop;
    char endpoint [64];
    s_conn_t *conns;                //  by fd: the owner's
    size_t conns_size;
    bool noted;                     //  bytes noted since memory passed low
    int64_t noted_at;               //  the last note
    int64_t settled_at;             //  no drop before; 0: not past the guard yet
    int64_t backoff_ms;             //  the wait after a look that blamed no one
    int64_t logged_at;
};

void
audit_memguard_tune_malloc (void)
{
    //  Setting it also turns off glibc's dynamic threshold
    mallopt (M_MMAP_THRESHOLD, S_MMAP_THRESHOLD);
}

static size_t
s_rss (int statm, long page_size)
{
    char text [128];
    ssize_t size = pread (statm, text, sizeof text - 1, 0);
    if (size <= 0)
        return 0;
    text [size] = 0;
    //  "size resident shared ...", in pages
    char *end;
    strtoull (text, &end, 10);
    return (size_t) strtoull (end, NULL, 10) * (size_t) page_size;
}

size_t
audit_memguard_rss (void)
{
    int statm = open ("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (statm < 0)
        return 0;
    size_t rss = s_rss (statm, sysconf (_SC_PAGESIZE));
    close (statm);
    return rss;
}

static int
s_state (audit_memguard_t *self, size_t rss)
{
    return rss < self->low ? S_CALM : rss < self->limit ? S_CLOSE : S_OVER;
}

//  How long the fastest peer takes to bring memory from rss to the next mark
static long
s_pause_ms (audit_memguard_t *self, size_t rss)
{
    //  To the next mark: the note at three quarters must come before the
    //  guard, or a fast peer's bytes are noted only once past it
    size_t mark = rss < self->low ? self->low : self->limit;
    size_t left = rss < mark ? mark - rss : 0;
    size_t ms = left / AUDIT_MEMGUARD_FASTEST;
    return ms < AUDIT_MEMGUARD_MIN_MS ? AUDIT_MEMGUARD_MIN_MS
         : ms > AUDIT_MEMGUARD_MAX_MS ? AUDIT_MEMGUARD_MAX_MS : (long) ms;
}

//  The sampler: sleeps, reads memory, and wakes the owner when memory
//  crosses a mark or stays past the guard
static void *
s_sampler (void *args)
{
    audit_memguard_t *self = (audit_memguard_t *) args;
    zsock_t *wake = zsock_new_pair (self->endpoint);   //  '>': connects
    int last = S_CALM;
    int64_t woke_at = 0;
    size_t rss = s_rss (self->statm, self->page_size);
    while (wake && !atomic_load (&self->stop)) {
        struct timespec pause = { 0, s_pause_ms (self, rss) * 1000000L };
        nanosleep (&pause, NULL);
        rss = s_rss (self->statm, self->page_size);
        int state = s_state (self, rss);
        //  Memory that fell from past the guard was a dropped
        //  connection's: give back the holes its small frames left
        if (last == S_OVER && state != S_OVER)
            malloc_trim (0);
        //  At a mark, past the guard, and between the marks often enough
        //  for the notes to be taken again. Never blocking: one wake-up
        //  waiting is as good as many, and the owner may be stopping.
        int64_t now = zclock_mono ();
        if (state != last || state == S_OVER
        ||  (state == S_CLOSE && now - woke_at >= S_RENOTE_MS)) {
            zmq_send (zsock_resolve (wake), "M", 1, ZMQ_DONTWAIT);
            woke_at = now;
        }
        last = state;
    }
    zsock_destroy (&wake);
    return NULL;
}

audit_memguard_t *
audit_memguard_new (size_t limit)
{
#if defined (__SANITIZE_ADDRESS__)
    //  Its RSS holds shadow memory and a quarantine of what was freed
    //  (256 MiB): there is nothing to guard by
    audit_log_warn ("msg=no_memory_guard reason=\"built with AddressSanitizer\" guard_bytes=%zu",
                    limit);
    return NULL;
#endif
    audit_memguard_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->limit = limit;
    self->low = limit / 4 * 3;
    self->backoff_ms = AUDIT_MEMGUARD_SETTLE_MS;
    self->page_size = sysconf (_SC_PAGESIZE);
    self->statm = open ("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    snprintf (self->endpoint, sizeof self->endpoint, ">inproc://audit-memguard-%p", (void *) self);
    if (self->statm < 0 || s_rss (self->statm, self->page_size) == 0) {
        audit_log_warn ("msg=no_memory_guard reason=\"/proc/self/statm cannot be read\"");
        audit_memguard_destroy (&self);
        return NULL;
    }
    self->socket = zsock_new (ZMQ_PAIR);
    if (!self->socket || zsock_bind (self->socket, "%s", self->endpoint + 1) != 0
    ||  pthread_create (&self->sampler, NULL, s_sampler, self) != 0) {
        audit_log_warn ("msg=no_memory_guard reason=\"its thread cannot start\"");
        audit_memguard_destroy (&self);
        return NULL;
    }
    self->sampling = true;
    return self;
}

void
audit_memguard_destroy (audit_memguard_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_memguard_t *self = *self_p;
    atomic_store (&self->stop, true);
    if (self->sampling)
        pthread_join (self->sampler, NULL);
    zsock_destroy (&self->socket);
    if (self->statm >= 0)
        close (self->statm);
    free (self->conns);
    free (self);
    *self_p = NULL;
}

//  fd's slot, grown to hold it; NULL when out of memory
static s_conn_t *
s_conn (audit_memguard_t *self, int fd)
{
    if (fd < 0)
        return NULL;
    if ((size_t) fd >= self->conns_size) {
        size_t size = ((size_t) fd + 1) * 2;
        s_conn_t *conns = realloc (self->conns, size * sizeof *conns);
        if (!conns)
            return NULL;
        memset (conns + self->conns_size, 0, (size - self->conns_size) * sizeof *conns);
        self->conns = conns;
        self->conns_size = size;
    }
    return &self->conns [fd];
}

void
audit_memguard_opened (audit_memguard_t *self, int fd)
{
    s_conn_t *conn = self ? s_conn (self, fd) : NULL;
    if (conn)
        *conn = (s_conn_t) { .tracked = true, .base = 0, .recent = 0 };
}

void
audit_memguard_closed (audit_memguard_t *self, int fd)
{
    if (self && fd >= 0 && (size_t) fd < self->conns_size)
        self->conns [fd].tracked = false;
}

//  Each connection's bytes now; the first note of an episode is both
static void
s_note (audit_memguard_t *self, int64_t now_ms)
{
    for (size_t fd = 0; fd < self->conns_size; fd++) {
        s_conn_t *conn = &self->conns [fd];
        if (!conn->tracked)
            continue;
        uint64_t received = audit_tcp_bytes_received ((int) fd);
        conn->base = self->noted ? conn->recent : received;
        conn->recent = received;
    }
    self->noted = true;
    self->noted_at = now_ms;
}

//  The connection that brought the most since the note, or -1
static int
s_blame (audit_memguard_t *self)
{
    int blamed = -1;
    uint64_t most = AUDIT_MEMGUARD_MIN_BYTES - 1;
    for (size_t fd = 0; fd < self->conns_size; fd++) {
        s_conn_t *conn = &self->conns [fd];
        uint64_t received = conn->tracked ? audit_tcp_bytes_received ((int) fd) : 0;
        if (received > conn->base && received - conn->base > most) {
            most = received - conn->base;
            blamed = (int) fd;
        }
    }
    return blamed;
}

static void
s_log_unblamed (audit_memguard_t *self, size_t rss, int64_t now)
{
    if (self->logged_at && now - self->logged_at < S_LOG_EVERY_MS)
        return;
    self->logged_at = now;
    audit_log_warn ("msg=memory_over_guard rss_bytes=%zu guard_bytes=%zu note=\"no connection"
                    " brought 1 MiB since memory rose\"", rss, self->limit);
}

zsock_t *
audit_memguard_socket (audit_memguard_t *self)
{
    return self ? self->socket : NULL;
}

//  Past the guard with no one blamed: look again later, and later
static int
s_unblamed (audit_memguard_t *self, size_t rss, int64_t now_ms)
{
    s_log_unblamed (self, rss, now_ms);
    self->settled_at = now_ms + self->backoff_ms;
    self->backoff_ms = self->backoff_ms * 2 < S_BACKOFF_MAX_MS ? self->backoff_ms * 2
                                                              : S_BACKOFF_MAX_MS;
    return -1;
}

//  Past the guard: the first time, the drop first (a peer on loopback
//  brings a megabyte or two a millisecond, and a trim of a large heap
//  takes milliseconds); still past it once that settled, what is free
//  first, and a drop only if that was not it
static int
s_past_guard (audit_memguard_t *self, int64_t now_ms)
{
    bool again = self->settled_at != 0;
    int blamed = again ? -1 : s_blame (self);
    if (blamed < 0) {
        malloc_trim (0);
        size_t rss = s_rss (self->statm, self->page_size);
        if (rss < self->limit) {
            self->settled_at = now_ms + AUDIT_MEMGUARD_SETTLE_MS;
            return -1;
        }
        if (!again || (blamed = s_blame (self)) < 0)
            return s_unblamed (self, rss, now_ms);
    }
    self->conns [blamed].tracked = false;
    self->settled_at = now_ms + AUDIT_MEMGUARD_SETTLE_MS;
    return blamed;
}

int
audit_memguard_check (audit_memguard_t *self, int64_t now_ms)
{
    if (!self)
        return -1;
    while (zsock_events (self->socket) & ZMQ_POLLIN) {
        char *wake = zstr_recv (self->socket);
        zstr_free (&wake);
    }
    size_t rss = s_rss (self->statm, self->page_size);
    if (rss < self->limit) {
        self->settled_at = 0;
        self->backoff_ms = AUDIT_MEMGUARD_SETTLE_MS;
    }
    if (rss < self->low) {
        self->noted = false;
        return -1;
    }
    //  Nothing is blamed at the first note: no one has brought anything since
    if (!self->noted || (rss < self->limit && now_ms - self->noted_at >= S_RENOTE_MS)) {
        bool first = !self->noted;
        s_note (self, now_ms);
        if (first)
            return -1;
    }
    if (rss < self->limit || now_ms < self->settled_at)
        return -1;
    return s_past_guard (self, now_ms);
}
