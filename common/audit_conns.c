/*  =========================================================================
    audit_conns - the connection cap of a worker's bound sockets

    The monitor thread owns the per-fd state; the owner and it share only
    the atomic tallies below.
    ========================================================================= */

#include "audit_conns.h"
#include "audit_log.h"
#include "audit_memguard.h"

#include <dirent.h>
#include <inttypes.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define S_EVENTS (ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_ACCEPT_FAILED)

//  An fd's state, in the monitor thread: S_FD_* (two bits), the index of
//  the watched socket whose connection it is (two bits), and the sockets
//  whose DISCONNECTED on it is owed (four bits). Each socket has its own
//  monitor, so the DISCONNECTED of one socket's connection can come after
//  another socket has accepted a new connection on the same fd number:
//  that connection's end is counted then, and its DISCONNECTED, owed,
//  is passed over when it comes.
enum { S_FD_NONE, S_FD_OPEN, S_FD_REFUSED };
#define S_FD_STATE(slot)            ((slot) & 0x03)
#define S_FD_OWNER(slot)            (((slot) >> 2) & 0x03)
#define S_FD_OWED(slot)             ((slot) >> 4)
#define S_FD_SLOT(state, owner, owed) ((uint8_t) ((state) | (owner) << 2 | (owed) << 4))
_Static_assert (AUDIT_CONNS_SOCKETS_MAX <= 4, "an fd's slot has two bits of owner, four of owed");

struct _audit_conns_t {
    zactor_t *actor;
    zsock_t *watched_sockets [AUDIT_CONNS_SOCKETS_MAX];     //  borrowed
    size_t max_connections;
    size_t memory_guard;            //  bytes of RSS; 0: none
    atomic_size_t cap;
    int watched;
    atomic_int_fast64_t refused, accept_failed, open, dropped_for_memory;
    atomic_int_fast64_t ended [AUDIT_CONNS_SOCKETS_MAX];
    atomic_bool wake_owed;          //  a wake-up is on the pipe, not taken
    //  The owner's: refusals not logged yet, and when it last logged them
    int64_t unlogged_refused, unlogged_failed, logged_ms;
};

//  A refusal is logged at most this often (a full worker refuses each
//  reconnection of every client past its cap, ten a second by default)
#define S_LOG_EVERY_MS  10000

size_t
audit_conns_cap_of (size_t max_connections, size_t soft_limit, size_t open_fds)
{
    size_t used = open_fds + AUDIT_CONNS_FD_MARGIN + AUDIT_CONNS_RESERVE;
    size_t room = soft_limit > used ? soft_limit - used : 1;
    return max_connections && max_connections < room ? max_connections : room;
}

//  The soft limit raised to the hard one: a container's 1024 soft limit
//  is often far under what it may have
static size_t
s_raise_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
        return 1024;
    if (limit.rlim_cur < limit.rlim_max) {
        rlim_t before = limit.rlim_cur;
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
            limit.rlim_cur = before;
    }
    return limit.rlim_cur == RLIM_INFINITY ? (size_t) 1 << 20 : (size_t) limit.rlim_cur;
}

static size_t
s_open_fds (void)
{
    size_t count = 0;
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return 64;                  //  not Linux: a guess on the safe side
    while (readdir (dir))
        count++;
    closedir (dir);
    return count;
}

//  --- The monitor thread -----------------------------------------------------

typedef struct {
    audit_conns_t *shared;
    zsock_t *pipe;
    zpoller_t *poller;
    zsock_t *monitors [AUDIT_CONNS_SOCKETS_MAX];
    int listeners [AUDIT_CONNS_SOCKETS_MAX];    //  each socket's listening fd, or -1
    int backlogs [AUDIT_CONNS_SOCKETS_MAX];     //  their ZMQ_BACKLOG
    bool closed_door;               //  the listeners' backlog is 0, at the cap
    int monitor_count;
    uint8_t *fds;                   //  S_FD_* by fd
    size_t fds_size;
    int reserve [AUDIT_CONNS_RESERVE];
    bool reserve_held;
    int64_t refused_open;           //  refused fds libzmq has not closed yet
    audit_memguard_t *guard;        //  NULL: no memory guard
} s_thread_t;

static void
s_reserve_take (s_thread_t *self)
{
    int held = 0;
    for (; held < AUDIT_CONNS_RESERVE; held++)
        if ((self->reserve [held] = open ("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
            break;
    self->reserve_held = held == AUDIT_CONNS_RESERVE;
    if (!self->reserve_held)
        while (held-- > 0)
            close (self->reserve [held]);
}

static void
s_reserve_give_up (s_thread_t *self)
{
    if (!self->reserve_held)
        return;
    for (int index = 0; index < AUDIT_CONNS_RESERVE; index++)
        close (self->reserve [index]);
    self->reserve_held = false;
}

//  fd's state slot, grown to hold it; NULL when out of memory
static uint8_t *
s_slot (s_thread_t *self, int fd)
{
    if (fd < 0)
        return NULL;
    if ((size_t) fd >= self->fds_size) {
        size_t size = ((size_t) fd + 1) * 2;
        uint8_t *fds = realloc (self->fds, size);
        if (!fds)
            return NULL;
        memset (fds + self->fds_size, S_FD_NONE, size - self->fds_size);
        self->fds = fds;
        self->fds_size = size;
    }
    return &self->fds [fd];
}

static void
s_wake (s_thread_t *self)
{
    if (!atomic_exchange (&self->shared->wake_owed, true))
        zstr_send (self->pipe, "E");
}

//  At the cap the listeners' backlog goes to 0: the kernel then holds
//  back new connections (their SYNs wait and are sent again, more slowly
//  each time) instead of libzmq accepting each for this to refuse, which
//  costs both of them about half a millisecond a connection, at the ten
//  reconnections a second of every ZeroMQ client past the cap
static void
s_door (s_thread_t *self, bool open)
{
    if (self->closed_door == !open)
        return;
    self->closed_door = !open;
    for (int index = 0; index < self->monitor_count; index++)
        if (self->listeners [index] >= 0)
            listen (self->listeners [index], open ? self->backlogs [index] : 0);
}

//  The connection an fd held until another socket accepted one on it: its
//  DISCONNECTED is on its way from its own socket's monitor, and will be
//  told apart by its owner
static void
s_superseded (s_thread_t *self, uint8_t *slot, int fd)
{
    audit_memguard_closed (self->guard, fd);
    if (S_FD_STATE (*slot) == S_FD_OPEN) {
        atomic_fetch_sub (&self->shared->open, 1);
        atomic_fetch_add (&self->shared->ended [S_FD_OWNER (*slot)], 1);
    }
    else
    if (S_FD_STATE (*slot) == S_FD_REFUSED)
        self->refused_open--;
    *slot = S_FD_SLOT (S_FD_NONE, 0, S_FD_OWED (*slot) | 1u << S_FD_OWNER (*slot));
}

static void
s_accepted (s_thread_t *self, int index, int fd)
{
    uint8_t *slot = s_slot (self, fd);
    audit_conns_t *shared = self->shared;
    if (slot && S_FD_STATE (*slot) != S_FD_NONE)
        s_superseded (self, slot, fd);
    if ((size_t) atomic_load (&shared->open) < atomic_load (&shared->cap)) {
        atomic_fetch_add (&shared->open, 1);
        if (slot)
            *slot = S_FD_SLOT (S_FD_OPEN, index, S_FD_OWED (*slot));
        audit_memguard_opened (self->guard, fd);
        return;
    }
    //  libzmq closes it when it sees the connection broken
    shutdown (fd, SHUT_RDWR);
    s_door (self, false);
    if (slot)
        *slot = S_FD_SLOT (S_FD_REFUSED, index, S_FD_OWED (*slot));
    self->refused_open++;
    atomic_fetch_add (&shared->refused, 1);
    s_wake (self);
}

static void
s_disconnected (s_thread_t *self, int index, int fd)
{
    uint8_t *slot = s_slot (self, fd);
    //  A connection another socket's acceptance superseded: counted then
    if (slot && (S_FD_OWED (*slot) & 1u << index)) {
        *slot = (uint8_t) (*slot & ~(1u << (4 + index)));
        return;
    }
    uint8_t state = slot ? S_FD_STATE (*slot) : S_FD_OPEN;
    if (slot)
        *slot = S_FD_SLOT (S_FD_NONE, 0, S_FD_OWED (*slot));
    audit_memguard_closed (self->guard, fd);
    if (state == S_FD_REFUSED) {
        self->refused_open--;
        return;
    }
    if (state == S_FD_OPEN)
        atomic_fetch_sub (&self->shared->open, 1);
    if ((size_t) atomic_load (&self->shared->open) < atomic_load (&self->shared->cap))
        s_door (self, true);
    atomic_fetch_add (&self->shared->ended [index], 1);
    s_wake (self);
}

//  An open connection closed by us: libzmq closes its fd when it sees
//  the connection broken, and rolls back the partial message it held
static void
s_drop (s_thread_t *self, int fd)
{
    shutdown (fd, SHUT_RDWR);
    uint8_t slot = self->fds [fd];
    self->fds [fd] = S_FD_SLOT (S_FD_REFUSED, S_FD_OWNER (slot), S_FD_OWED (slot));
    self->refused_open++;
    audit_memguard_closed (self->guard, fd);
    atomic_fetch_sub (&self->shared->open, 1);
}

//  Memory past the guard: the connection that brought the most goes
static void
s_guard (s_thread_t *self)
{
    int fd = audit_memguard_check (self->guard, zclock_mono ());
    if (fd < 0 || (size_t) fd >= self->fds_size || S_FD_STATE (self->fds [fd]) != S_FD_OPEN)
        return;
    s_drop (self, fd);
    if ((size_t) atomic_load (&self->shared->open) < atomic_load (&self->shared->cap))
        s_door (self, true);
    atomic_fetch_add (&self->shared->dropped_for_memory, 1);
    s_wake (self);
}

//  The fd limit was met all the same (it was lowered, or fds went to
//  something else): the cap again, from the fds in use now that are not
//  connections
static void
s_cap_again (s_thread_t *self)
{
    audit_conns_t *shared = self->shared;
    struct rlimit limit;
    size_t soft = getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                ? (size_t) limit.rlim_cur : (size_t) 1 << 20;
    size_t conns = (size_t) atomic_load (&shared->open) + (size_t) self->refused_open;
    size_t fds = s_open_fds ();
    size_t others = fds > conns ? fds - conns : 0;
    size_t cap = audit_conns_cap_of (shared->max_connections, soft, others);
    atomic_store (&shared->cap, cap);
    //  Those past it go, the newest (highest fds) first: libzmq's accept
    //  needs free fds, or each new connection makes it spin until drained
    for (size_t fd = self->fds_size; fd-- > 0 && (size_t) atomic_load (&shared->open) > cap; )
        if (S_FD_STATE (self->fds [fd]) == S_FD_OPEN) {
            s_drop (self, (int) fd);
            atomic_fetch_add (&shared->refused, 1);
        }
}

//  What waits to be accepted, accepted and closed at once: libzmq's accept
//  would fail and try again without end
static void
s_drain_listeners (s_thread_t *self)
{
    for (int index = 0; index < self->monitor_count; index++) {
        int fd;
        while (self->listeners [index] >= 0
           &&  (fd = accept4 (self->listeners [index], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
            close (fd);
            atomic_fetch_add (&self->shared->refused, 1);
        }
    }
}

//  The fd limit met: the spare fds make room to drain the listeners, and
//  are taken again
static void
s_accept_failed (s_thread_t *self, int error)
{
    if (error != EMFILE && error != ENFILE)
        return;
    bool held = self->reserve_held;
    s_reserve_give_up (self);
    if (held && error == EMFILE)
        s_cap_again (self);
    s_drain_listeners (self);
    s_reserve_take (self);
    atomic_fetch_add (&self->shared->accept_failed, 1);
    s_wake (self);
}

//  One event of libzmq's monitor: [event (2 bytes), value (4)], endpoint
static void
s_handle_event (s_thread_t *self, int index)
{
    zmsg_t *msg = zmsg_recv (self->monitors [index]);
    zframe_t *head = msg ? zmsg_first (msg) : NULL;
    if (head && zframe_size (head) == 6) {
        uint16_t event;
        uint32_t value;
        memcpy (&event, zframe_data (head), 2);
        memcpy (&value, zframe_data (head) + 2, 4);
        if (event == ZMQ_EVENT_ACCEPTED)
            s_accepted (self, index, (int) value);
        else
        if (event == ZMQ_EVENT_DISCONNECTED)
            s_disconnected (self, index, (int) value);
        else
        if (event == ZMQ_EVENT_ACCEPT_FAILED)
            s_accept_failed (self, (int) value);
    }
    zmsg_destroy (&msg);
    //  Once the refused are closed, so that the fds they free go to it
    if (!self->reserve_held && self->refused_open == 0)
        s_reserve_take (self);
}

//  WATCH endpoint listener: connect to the monitor the owner started
static void
s_handle_watch (s_thread_t *self, const char *endpoint, int listener, int backlog)
{
    self->backlogs [self->monitor_count] = backlog > 0 ? backlog : 100;
    //  Never blocking: libzmq's I/O thread may take what this polled
    int flags = listener >= 0 ? fcntl (listener, F_GETFL) : -1;
    if (flags == -1 || fcntl (listener, F_SETFL, flags | O_NONBLOCK) == -1)
        listener = -1;
    self->listeners [self->monitor_count] = listener;
    zsock_t *monitor = self->monitor_count < AUDIT_CONNS_SOCKETS_MAX
                     ? zsock_new (ZMQ_PAIR) : NULL;
    //  libzmq's monitor sends block its I/O thread when our pipe is full:
    //  no limit (an event is a few dozen bytes, and this reads at once)
    if (monitor)
        zsock_set_rcvhwm (monitor, 0);
    bool ready = monitor && zsock_connect (monitor, "%s", endpoint) == 0
              && zpoller_add (self->poller, monitor) == 0;
    if (ready)
        self->monitors [self->monitor_count++] = monitor;
    else
        zsock_destroy (&monitor);
    zsock_signal (self->pipe, ready ? 0 : 1);
}

static bool
s_handle_pipe (s_thread_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    char *command = msg ? zmsg_popstr (msg) : NULL;
    bool terminated = !command || streq (command, "$TERM");
    if (!terminated && streq (command, "WATCH")) {
        char *endpoint = zmsg_popstr (msg);
        char *listener = zmsg_popstr (msg);
        char *backlog = zmsg_popstr (msg);
        s_handle_watch (self, endpoint ? endpoint : "", listener ? atoi (listener) : -1,
                        backlog ? atoi (backlog) : 0);
        zstr_free (&endpoint);
        zstr_free (&listener);
        zstr_free (&backlog);
    }
    zstr_free (&command);
    zmsg_destroy (&msg);
    return terminated;
}

static void
s_thread (zsock_t *pipe, void *args)
{
    s_thread_t self = { .shared = (audit_conns_t *) args, .pipe = pipe };
    self.poller = zpoller_new (pipe, NULL);
    s_reserve_take (&self);
    if (self.poller && self.shared->memory_guard
    &&  (self.guard = audit_memguard_new (self.shared->memory_guard)))
        zpoller_add (self.poller, audit_memguard_socket (self.guard));
    zsock_signal (pipe, self.poller ? 0 : 1);
    while (self.poller) {
        void *which = zpoller_wait (self.poller, -1);
        if (!which || (which == pipe && s_handle_pipe (&self)))
            break;
        for (int index = 0; index < self.monitor_count; index++)
            if (which == self.monitors [index])
                s_handle_event (&self, index);
        if (self.guard && which == audit_memguard_socket (self.guard))
            s_guard (&self);
    }
    audit_memguard_destroy (&self.guard);
    for (int index = 0; index < self.monitor_count; index++)
        zsock_destroy (&self.monitors [index]);
    s_reserve_give_up (&self);
    zpoller_destroy (&self.poller);
    free (self.fds);
}

//  --- The owner's side -------------------------------------------------------

audit_conns_t *
audit_conns_new (size_t max_connections, size_t memory_guard)
{
    audit_conns_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    size_t soft = s_raise_limit ();
    size_t open_fds = s_open_fds ();
    self->max_connections = max_connections;
    self->memory_guard = memory_guard;
    atomic_store (&self->cap, audit_conns_cap_of (max_connections, soft, open_fds));
    self->actor = zactor_new (s_thread, self);
    if (!self->actor) {
        free (self);
        return NULL;
    }
    audit_log_info ("msg=connection_cap cap=%zu fd_limit=%zu fds_open=%zu",
                    audit_conns_cap (self), soft, open_fds);
    return self;
}

void
audit_conns_destroy (audit_conns_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    //  The monitors stop first: one that outlived our end of it would
    //  block libzmq's thread on its next event
    for (int index = 0; index < (*self_p)->watched; index++)
        zmq_socket_monitor (zsock_resolve ((*self_p)->watched_sockets [index]), NULL, 0);
    zactor_destroy (&(*self_p)->actor);
    free (*self_p);
    *self_p = NULL;
}

//  true when fd listens on the address of endpoint (tcp: its port; ipc:
//  its path)
static bool
s_listens_on (int fd, const char *endpoint)
{
    int accepting = 0;
    socklen_t size = sizeof accepting;
    struct sockaddr_storage address;
    socklen_t address_size = sizeof address;
    if (getsockopt (fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) != 0 || !accepting
    ||  getsockname (fd, (struct sockaddr *) &address, &address_size) != 0)
        return false;
    const char *port = strrchr (endpoint, ':');
    if (strncmp (endpoint, "ipc://", 6) == 0 && address.ss_family == AF_UNIX)
        return streq (((struct sockaddr_un *) &address)->sun_path, endpoint + 6);
    if (strncmp (endpoint, "tcp://", 6) != 0 || !port)
        return false;
    int number = atoi (port + 1);
    if (address.ss_family == AF_INET)
        return ntohs (((struct sockaddr_in *) &address)->sin_port) == number;
    return address.ss_family == AF_INET6
        && ntohs (((struct sockaddr_in6 *) &address)->sin6_port) == number;
}

//  The listening fd of socket's last bind, -1 when not found
static int
s_listener (zsock_t *socket)
{
    char *endpoint = zsock_last_endpoint (socket);
    DIR *dir = endpoint ? opendir ("/proc/self/fd") : NULL;
    struct dirent *entry;
    int found = -1;
    while (dir && found < 0 && (entry = readdir (dir)))
        if (entry->d_name [0] != '.' && s_listens_on (atoi (entry->d_name), endpoint))
            found = atoi (entry->d_name);
    if (dir)
        closedir (dir);
    free (endpoint);
    return found;
}

int
audit_conns_watch (audit_conns_t *self, zsock_t *socket)
{
    assert (self && socket);
    if (self->watched >= AUDIT_CONNS_SOCKETS_MAX)
        return -1;
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "inproc://audit-conns-%p-%d", (void *) self,
              self->watched);
    if (zmq_socket_monitor (zsock_resolve (socket), endpoint, S_EVENTS) != 0)
        return -1;
    char listener [16], backlog [16];
    snprintf (listener, sizeof listener, "%d", s_listener (socket));
    snprintf (backlog, sizeof backlog, "%d", zsock_backlog (socket));
    if (zstr_sendx (self->actor, "WATCH", endpoint, listener, backlog, NULL) != 0
    ||  zsock_wait (self->actor) != 0) {
        zmq_socket_monitor (zsock_resolve (socket), NULL, 0);
        return -1;
    }
    self->watched_sockets [self->watched] = socket;
    return self->watched++;
}

size_t
audit_conns_cap (audit_conns_t *self)
{
    return atomic_load (&self->cap);
}

size_t
audit_conns_open (audit_conns_t *self)
{
    return (size_t) atomic_load (&self->open);
}

zsock_t *
audit_conns_socket (audit_conns_t *self)
{
    return zactor_sock (self->actor);
}

static void
s_log (audit_conns_t *self, const audit_conns_report_t *report, int64_t now)
{
    self->unlogged_refused += report->refused;
    self->unlogged_failed += report->accept_failed;
    if ((!self->unlogged_refused && !self->unlogged_failed)
    ||  (self->logged_ms && now - self->logged_ms < S_LOG_EVERY_MS))
        return;
    audit_log_warn ("msg=connections_refused refused=%" PRId64 " accept_failed=%" PRId64
                    " cap=%zu open=%zu", self->unlogged_refused, self->unlogged_failed,
                    audit_conns_cap (self), audit_conns_open (self));
    self->unlogged_refused = self->unlogged_failed = 0;
    self->logged_ms = now;
}

void
audit_conns_take (audit_conns_t *self, audit_conns_report_t *report)
{
    memset (report, 0, sizeof *report);
    //  Cleared before the tallies are read: what comes after wakes again
    atomic_store (&self->wake_owed, false);
    while (zsock_events (self->actor) & ZMQ_POLLIN) {
        char *wake = zstr_recv (self->actor);
        zstr_free (&wake);
    }
    report->refused = atomic_exchange (&self->refused, 0);
    report->accept_failed = atomic_exchange (&self->accept_failed, 0);
    report->dropped_for_memory = atomic_exchange (&self->dropped_for_memory, 0);
    for (int index = 0; index < AUDIT_CONNS_SOCKETS_MAX; index++)
        report->ended [index] = atomic_exchange (&self->ended [index], 0);
    s_log (self, report, zclock_mono ());
    if (report->dropped_for_memory)
        audit_log_warn ("msg=connections_dropped_for_memory count=%" PRId64 " rss_bytes=%zu"
                        " guard_bytes=%zu", report->dropped_for_memory, audit_memguard_rss (),
                        self->memory_guard);
}
