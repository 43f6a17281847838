/*  =========================================================================
    query_server - a ROUTER in front, a pool of worker threads behind it

    The load-balancing broker of the ZeroMQ guide, inproc: the server
    never runs a query itself, it only routes frames, so it always hears
    new requests and $TERM promptly.
    ========================================================================= */

#include "query_server.h"
#include "query_throttle.h"
#include "query_worker.h"
#include "query_park.h"
#include "query_fair.h"
#include "query_idle.h"
#include "query_request.h"

#include <inttypes.h>

#include "audit_actor.h"
#include "audit_conns.h"
#include "audit_log.h"
#include "audit_socket.h"
#include "audit_zap.h"

//  Largest request frame the socket accepts: twice the largest request,
//  so that a request a little too big is answered too_large, and small
//  enough that what a connection can have waiting stays bounded (README
//  "Memory bounds"); libzmq drops a peer that sends a larger frame
#define S_MAXMSGSIZE (2 * QUERY_REQUEST_MAX_BYTES)
//  Requests libzmq keeps for one connection: past the per-peer cap, so
//  that the cap answers them, and S_RCVHWM * S_MAXMSGSIZE bounds them
#define S_RCVHWM     64

_Static_assert (QUERY_IDLE_MAX >= QUERY_SERVER_WORKERS_MAX, "an idle set holds every worker");

typedef struct {
    zsock_t *pipe;
    zsock_t *router;
    zpoller_t *poller;
    char *endpoint;
    int worker_count;
    int64_t queue_wait_max_ms;
    query_shared_t *shared;
    zactor_t *workers [QUERY_SERVER_WORKERS_MAX];
    query_idle_t idle;                      //  the workers with nothing to do
    size_t peer_requests, peer_bytes, max_connections, memory_guard;
    query_fair_t *fair;                     //  requests waiting for a worker,
                                            //  each behind a frame of its arrival,
                                            //  and what each peer has outstanding
    audit_conns_t *conns;                   //  the connection cap
    const audit_curve_t *curve;             //  borrowed from main
    char *keys_dir;
    bool allow_plaintext;
    audit_zap_t *zap;                       //  with CURVE
    query_throttle_t *throttle;             //  unauthenticated replies per peer
    query_park_t *park;                     //  tails waiting for their log to grow
    bool terminated;
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        for (int index = 0; index < self->worker_count; index++)
            zactor_destroy (&self->workers [index]);
        query_idle_release (&self->idle);
        audit_conns_destroy (&self->conns);
        query_fair_destroy (&self->fair);
        query_throttle_destroy (&self->throttle);
        query_park_destroy (&self->park);
        zpoller_destroy (&self->poller);
        zsock_destroy (&self->router);
        audit_zap_destroy (&self->zap);
        free (self->keys_dir);
        free (self->endpoint);
        free (self);
        *self_p = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe, const query_server_options_t *options)
{
    self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pipe = pipe;
    self->endpoint = strdup (options->endpoint);
    self->shared = options->shared;
    self->curve = options->curve;
    self->allow_plaintext = options->allow_plaintext;
    self->keys_dir = strdup (options->keys_dir ? options->keys_dir : "");
    self->queue_wait_max_ms = options->queue_wait_max_ms > 0
                            ? options->queue_wait_max_ms : QUERY_SERVER_QUEUE_WAIT_MAX_MS;
    int cores = (int) sysconf (_SC_NPROCESSORS_ONLN);
    self->worker_count = options->workers > 0 ? options->workers : (cores > 0 ? cores : 1);
    if (self->worker_count > QUERY_SERVER_WORKERS_MAX)
        self->worker_count = QUERY_SERVER_WORKERS_MAX;
    self->peer_requests = options->peer_requests ? options->peer_requests : QUERY_SERVER_PEER_REQUESTS;
    self->peer_bytes = options->peer_bytes ? options->peer_bytes : QUERY_SERVER_PEER_BYTES;
    self->max_connections = options->max_connections;
    self->memory_guard = options->memory_guard;
    self->throttle = query_throttle_new ();
    if (!self->endpoint || !self->keys_dir || !self->throttle)
        s_self_destroy (&self);
    return self;
}

//  Each worker reads through its own read-only connections
static int
s_start_workers (self_t *self)
{
    for (int index = 0; index < self->worker_count; index++) {
        audit_store_t *store = audit_store_new (self->shared->data_dir, AUDIT_STORE_READER);
        if (!store)
            return -1;
        self->workers [index] = query_worker_new (self->shared, &store);
        audit_store_destroy (&store);
        if (!self->workers [index] || zpoller_add (self->poller, self->workers [index]))
            return -1;
        query_idle_add (&self->idle, index, NULL);
    }
    return 0;
}

static int
s_start (self_t *self)
{
    audit_socket_options_t options = {
        .type = ZMQ_ROUTER, .endpoint = self->endpoint, .bind = true,
        .maxmsgsize = S_MAXMSGSIZE, .curve = self->curve,
        .sndhwm = QUERY_FAIR_SNDHWM, .rcvhwm = S_RCVHWM,
        .zap_domain = AUDIT_CURVE_DOMAIN_QUERY, .allow_plaintext = self->allow_plaintext
    };
    //  Before the CURVE socket binds: without a handler it would take any key
    audit_zap_options_t zap = { .domain = AUDIT_CURVE_DOMAIN_QUERY, .keys_dir = self->keys_dir };
    if (self->curve && !(self->zap = audit_zap_new (&zap)))
        return -1;
    self->router = audit_socket_new (&options, NULL, 0);
    if (!self->router)
        return -1;
    //  A reply the peer's pipe cannot take is refused (EAGAIN), not
    //  queued without bound: query_fair holds it, within its budget
    zsock_set_router_mandatory (self->router, 1);
    self->poller = zpoller_new (self->pipe, self->router, NULL);
    if (self->poller && self->zap)
        zpoller_add (self->poller, audit_zap_socket (self->zap));
    if (!self->poller || s_start_workers (self))
        return -1;
    if (!(self->park = query_park_new (self->shared->data_dir)))
        return -1;
    //  The cap after the stores are open: it counts their fds
    if (!(self->fair = query_fair_new (self->router, self->peer_requests, self->peer_bytes))
    ||  !(self->conns = audit_conns_new (self->max_connections, self->memory_guard))
    ||  audit_conns_watch (self->conns, self->router) < 0
    ||  zpoller_add (self->poller, audit_conns_socket (self->conns)) != 0)
        return -1;
    audit_log_info ("msg=listening endpoint=%s workers=%d curve=%s", self->endpoint,
                    self->worker_count, self->curve ? "on" : "off");
    return 0;
}

//  Answer with an error at once, in place of the frames after the envelope
static void
s_reply_error (self_t *self, zmsg_t **msg_p, size_t envelope, audit_error_t error,
               const char *message, bool admitted)
{
    zmsg_t *msg = *msg_p;
    while (zmsg_size (msg) > envelope) {
        zframe_t *frame = zmsg_last (msg);
        zmsg_remove (msg, frame);
        zframe_destroy (&frame);
    }
    query_tally_error (self->shared->tally, error);
    query_reply_t reply;
    query_reply_init (&reply);
    query_reply_fail (&reply, error, "%s", message);
    query_reply_finish (&reply);
    zmsg_addmem (msg, reply.buffer.data, reply.buffer.size);
    query_reply_release (&reply);
    query_fair_send (self->fair, msg_p, admitted);
}

//  Back to envelope and body, for an answer without a worker: the kind
//  off, and a resumed tail's state and peer frames
static void
s_strip_kind (zmsg_t *msg)
{
    char *kind = zmsg_popstr (msg);
    for (int frame = 0; kind && streq (kind, "RESUME") && frame < 2; frame++) {
        zframe_t *extra = zmsg_pop (msg);
        zframe_destroy (&extra);
    }
    zstr_free (&kind);
}

//  msg starts with its kind: REQUEST (envelope, body) or RESUME (a parked
//  tail: state, peer, envelope, body). A request's peer name goes in
//  front of its envelope, for the throttle when the reply comes back
//  (s_handle_worker); a resumed tail has it already.
//  The routing id of a request (its first frame) or of a resumed tail
//  (after its state and peer); borrowed
static zframe_t *
s_routing_id (zmsg_t *msg, bool resumed)
{
    zframe_t *routing_id = zmsg_first (msg);
    for (int frame = 0; resumed && frame < 2; frame++)
        routing_id = zmsg_next (msg);
    return routing_id;
}

static void
s_send_to_worker (self_t *self, zmsg_t **msg_p)
{
    char *kind = zmsg_popstr (*msg_p);
    bool request = kind && streq (kind, "REQUEST");
    int index = query_idle_take (&self->idle, s_routing_id (*msg_p, !request));
    if (request) {
        char peer [QUERY_THROTTLE_PEER_MAX + 1];
        query_throttle_peer_name (*msg_p, peer);
        zmsg_pushstr (*msg_p, peer);
    }
    zmsg_pushstr (*msg_p, kind? kind: "REQUEST");
    zstr_free (&kind);
    zmsg_send (msg_p, self->workers [index]);
}

//  A request, or a parked tail run again, goes to an idle worker, else
//  waits in the queue with the (monotonic) time it arrived, else is
//  answered at once
static void
s_dispatch (self_t *self, zmsg_t *msg, const char *kind)
{
    zframe_t *routing_id = s_routing_id (msg, streq (kind, "RESUME"));
    zmsg_pushstr (msg, kind);
    if (self->idle.count > 0)
        s_send_to_worker (self, &msg);
    else
    if (query_fair_waiting (self->fair) < QUERY_SERVER_QUEUE_MAX
    &&  query_fair_waiting_bytes (self->fair) < QUERY_SERVER_QUEUE_BYTES_MAX) {
        zframe_t *id = zframe_dup (routing_id);
        int64_t arrived = zclock_mono ();
        zmsg_pushmem (msg, &arrived, sizeof arrived);
        query_fair_enqueue (self->fair, id, &msg);
        zframe_destroy (&id);
    }
    else {
        audit_log_warn ("msg=overloaded queued=%zu", query_fair_waiting (self->fair));
        s_strip_kind (msg);
        s_reply_error (self, &msg, zmsg_size (msg) - 1, AUDIT_ERROR_UNAVAILABLE,
                       "too many requests waiting; try again", true);
    }
}

//  How long a queued request has waited; takes its arrival frame off
static int64_t
s_waited_ms (zmsg_t *msg, int64_t now)
{
    int64_t arrived = now;
    zframe_t *frame = zmsg_pop (msg);
    if (frame && zframe_size (frame) == sizeof arrived)
        memcpy (&arrived, zframe_data (frame), sizeof arrived);
    zframe_destroy (&frame);
    return now - arrived;
}

//  Give idle workers the oldest queued requests; one that waited too long
//  is answered unavailable instead, at once and without a worker, so that
//  a pile of abandoned requests drains in moments
static void
s_dispatch_queued (self_t *self)
{
    int64_t now = zclock_mono ();
    size_t late = 0;
    zmsg_t *msg;
    while (self->idle.count > 0 && (msg = query_fair_next (self->fair))) {
        if (s_waited_ms (msg, now) <= self->queue_wait_max_ms)
            s_send_to_worker (self, &msg);
        else {
            late++;
            s_strip_kind (msg);
            s_reply_error (self, &msg, zmsg_size (msg) - 1, AUDIT_ERROR_UNAVAILABLE,
                           "waited too long in the queue; try again", true);
        }
    }
    if (late)
        audit_log_warn ("msg=queue_wait_too_long answered=%zu limit_ms=%" PRId64,
                        late, self->queue_wait_max_ms);
}

//  Frames up to and including the first empty one: the identity the
//  ROUTER put first and the delimiter a REQ client sends before its
//  request. 0 when there is no delimiter.
static size_t
s_envelope_size (zmsg_t *msg)
{
    size_t count = 0;
    for (zframe_t *frame = zmsg_first (msg); frame; frame = zmsg_next (msg)) {
        count++;
        if (count > 1 && zframe_size (frame) == 0)
            return count;
    }
    return 0;
}

//  With AUDIT_QUERY_KEYS_DIR: the key of the connection is still allowed
//  (ZAP asked at the handshake; a key removed since is refused here)
static bool
s_sender_allowed (self_t *self, zmsg_t *msg)
{
    if (!self->zap || !*self->keys_dir)
        return true;
    const char *key = zframe_meta (zmsg_last (msg), AUDIT_CURVE_PROPERTY_KEY);
    if (audit_zap_lookup (self->zap, key))
        return true;
    query_tally_count (self->shared->tally, AUDIT_COUNTER_QUERY_CURVE_REFUSED, 1);
    audit_zap_note (self->zap, "curve_revoked", key ? key : "-", "key_removed");
    return false;
}

//  A request is exactly one frame after the envelope; a message without a
//  delimiter cannot be answered the REQ way, and is dropped as REP does
static void
s_handle_client (self_t *self)
{
    zmsg_t *msg = zmsg_recv (self->router);
    if (!msg)
        return;
    size_t envelope = s_envelope_size (msg);
    if (envelope == 0) {
        audit_log_warn ("msg=bad_envelope frames=%zu", zmsg_size (msg));
        zmsg_destroy (&msg);
        return;
    }
    if (!s_sender_allowed (self, msg)) {
        s_reply_error (self, &msg, envelope, AUDIT_ERROR_UNAUTHENTICATED,
                       "this client key is no longer allowed", false);
        return;
    }
    size_t frames = zmsg_size (msg) - envelope;
    if (frames != 1) {
        audit_log_warn ("msg=bad_request code=bad_request detail=\"%zu request frames\"", frames);
        s_reply_error (self, &msg, envelope, AUDIT_ERROR_BAD_REQUEST,
                       "a request is one frame", false);
        return;
    }
    if (!query_fair_admit (self->fair, msg)) {
        query_tally_count (self->shared->tally, AUDIT_COUNTER_QUERY_PEER_BUSY, 1);
        s_reply_error (self, &msg, envelope, AUDIT_ERROR_UNAVAILABLE,
                       "too many requests outstanding on this connection; read the replies"
                       " first", false);
        return;
    }
    s_dispatch (self, msg, "REQUEST");
}

//  status, peer, then the reply; an unauthenticated one is charged to
//  its peer, and goes now, later or never
static void
s_handle_worker (self_t *self, int index)
{
    zmsg_t *msg = zmsg_recv (self->workers [index]);
    char *status = msg? zmsg_popstr (msg): NULL;
    //  status, peer, routing id, ...: a worker that reads ahead does so
    //  for the client it answered
    bool ahead = msg && status && streq (status, QUERY_WORKER_AHEAD) && zmsg_first (msg);
    query_idle_add (&self->idle, index, ahead? zmsg_next (msg): NULL);
    if (msg && status && streq (status, QUERY_WORKER_PARK)) {
        //  state, peer, envelope, body: kept, or answered now when full
        if (!query_park_add (self->park, &msg))
            s_dispatch (self, msg, "RESUME");
        zstr_free (&status);
        s_dispatch_queued (self);
        return;
    }
    char *peer = msg? zmsg_popstr (msg): NULL;
    if (msg && status && peer && streq (status, QUERY_WORKER_UNAUTHENTICATED)) {
        //  A reply the throttle takes is no longer the peer's outstanding
        zframe_t *routing_id = zframe_dup (zmsg_first (msg));
        query_throttle_outcome_t outcome = query_throttle_charge (self->throttle, peer, &msg,
                                                                  zclock_mono ());
        if (outcome != QUERY_THROTTLE_SEND) {
            query_fair_release (self->fair, routing_id);
            query_tally_count (self->shared->tally, outcome == QUERY_THROTTLE_HELD
                               ? AUDIT_COUNTER_QUERY_UNAUTH_DELAYED
                               : AUDIT_COUNTER_QUERY_UNAUTH_DROPPED, 1);
        }
        zframe_destroy (&routing_id);
    }
    if (msg)
        query_fair_send (self->fair, &msg, true);
    zstr_free (&status);
    zstr_free (&peer);
    s_dispatch_queued (self);
}

//  Parked tails whose log grew or whose wait is over, to the workers
static void
s_wake_parked (self_t *self)
{
    zmsg_t *msg;
    while (self->park && (msg = query_park_due (self->park, zclock_mono ())))
        s_dispatch (self, msg, "RESUME");
}

//  Held replies whose time has come
static void
s_send_due (self_t *self)
{
    zmsg_t *msg;
    while ((msg = query_throttle_due (self->throttle, zclock_mono ())))
        query_fair_send (self->fair, &msg, false);
    if (!self->fair)
        return;
    query_fair_retry (self->fair, zclock_mono ());
    size_t dropped = query_fair_take_dropped (self->fair);
    if (dropped) {
        query_tally_count (self->shared->tally, AUDIT_COUNTER_QUERY_REPLIES_DROPPED,
                           (int64_t) dropped);
        audit_log_warn ("msg=replies_dropped count=%zu reason=\"the peer does not read them\"",
                        dropped);
    }
}

//  Connections refused over the cap, or dropped for memory
static void
s_handle_conns (self_t *self)
{
    audit_conns_report_t report;
    audit_conns_take (self->conns, &report);
    if (report.refused)
        query_tally_count (self->shared->tally, AUDIT_COUNTER_QUERY_CONNECTIONS_REFUSED,
                           report.refused);
    if (report.dropped_for_memory)
        query_tally_count (self->shared->tally, AUDIT_COUNTER_QUERY_DROPPED_FOR_MEMORY,
                           report.dropped_for_memory);
}

static void
s_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "START")) {
        int rc = s_start (self);
        zsock_send (self->pipe, "i", rc);
    }
    else
    if (streq (command, "RELOAD"))
        zsock_send (self->pipe, "i", self->zap ? audit_zap_reload (self->zap) : 0);
    zstr_free (&command);
}

static void
s_handle_zap (self_t *self)
{
    size_t refused = audit_zap_handle (self->zap);
    if (refused)
        query_tally_count (self->shared->tally, AUDIT_COUNTER_QUERY_CURVE_REFUSED,
                           (int64_t) refused);
}

static void
s_server_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (const query_server_options_t *) args);
    if (!self)
        audit_log_error ("msg=cannot_start reason=out_of_memory");
    audit_actor_ready (pipe, self ? 0 : -1);
    if (!self)
        return;
    zpoller_t *startup = zpoller_new (pipe, NULL);
    while (!self->terminated) {
        int64_t now = zclock_mono ();
        int wait_ms = query_throttle_wait_ms (self->throttle, now);
        int park_ms = self->park? query_park_wait_ms (self->park, now): -1;
        if (park_ms >= 0 && (wait_ms < 0 || park_ms < wait_ms))
            wait_ms = park_ms;
        int fair_ms = self->fair? query_fair_wait_ms (self->fair): -1;
        if (fair_ms >= 0 && (wait_ms < 0 || fair_ms < wait_ms))
            wait_ms = fair_ms;
        void *which = zpoller_wait (self->poller ? self->poller : startup, wait_ms);
        s_send_due (self);
        s_wake_parked (self);
        if (which == pipe)
            s_handle_pipe (self);
        else
        if (self->router && which == self->router)
            s_handle_client (self);
        else
        if (self->zap && which == audit_zap_socket (self->zap))
            s_handle_zap (self);
        else
        if (self->conns && which == audit_conns_socket (self->conns))
            s_handle_conns (self);
        else
            for (int index = 0; index < self->worker_count; index++)
                if (which && which == self->workers [index])
                    s_handle_worker (self, index);
    }
    zpoller_destroy (&startup);
    s_self_destroy (&self);
}

zactor_t *
query_server_new (const query_server_options_t *options)
{
    return audit_actor_new (s_server_actor, (void *) options);
}
