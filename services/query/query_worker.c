/*  =========================================================================
    query_worker - one thread that answers requests

    Every request takes the same path: decode and check (query_request),
    authenticate and authorise (here, from the op table), run the op's
    handler, finish the reply. Nothing a client sends can end the thread.
    ========================================================================= */

#include "query_worker.h"

#include <assert.h>

#include "audit_actor.h"
#include "audit_log.h"
#include "audit_time.h"
#include "query_admin.h"
#include "query_export.h"
#include "query_list.h"
#include "query_log.h"
#include "query_meta.h"
#include "query_mq.h"
#include "query_ops.h"
#include "query_stats.h"
#include "query_tail.h"

static query_handler_fn *s_handlers [QUERY_OP_COUNT] = {
    [QUERY_OP_LIST]          = query_list_run,
    [QUERY_OP_EXPORT]        = query_export_run,
    [QUERY_OP_TAIL]          = query_tail_run,
    [QUERY_OP_RETENTION_GET] = query_admin_retention_get,
    [QUERY_OP_RETENTION_SET] = query_admin_retention_set,
    [QUERY_OP_OPS_LIST]      = query_ops_list,
    [QUERY_OP_STATS]         = query_stats_run,
    [QUERY_OP_MQ_FETCH]      = query_mq_fetch,
    [QUERY_OP_MQ_ACK]        = query_mq_ack,
    [QUERY_OP_CHECKPOINT]    = query_log_checkpoint,
    [QUERY_OP_PROOF]         = query_log_proof,
    [QUERY_OP_LOG_KEY]       = query_log_key,
    [QUERY_OP_HEALTH]        = query_meta_health,
    [QUERY_OP_CATALOG]       = query_meta_catalog,
};

//  What a good token lacks for the request, for the forbidden message (the
//  role it needs is added to s_ROLE), or NULL when it fits
static const char s_ROLE [] = "a token of the role ";
static const char *
s_misfit (const query_op_info_t *info, const query_request_t *request,
          const audit_claims_t *claims)
{
    if ((int) claims->role != info->role)
        return s_ROLE;
    if ((request->present & QUERY_ARG_BIT (QUERY_ARG_ORG_ID))
    &&  strcmp (claims->org, request->org_id) != 0)
        return "a token of that organisation (this one is another's)";
    if (claims->role == AUDIT_ROLE_DEVICE
    &&  strcmp (claims->device, request->field [AUDIT_FIELD_DEVICE_ID]) != 0)
        return "a token of that device (this one is another's)";
    return NULL;
}

//  unauthenticated for a token that is not good, forbidden for a good one
//  that does not fit: the op's role, then the organisation and device
static int
s_authorise (query_call_t *call, const query_request_t *request, audit_claims_t *claims)
{
    const query_op_info_t *info = query_request_op_info (request->op);
    memset (claims, 0, sizeof *claims);
    if (info->role == QUERY_ROLE_NONE)
        return 0;
    const char *reason = "missing";
    if (!request->has_token
    ||  audit_token_verify (call->keys->verifier, request->token, claims, &reason) != AUDIT_TOKEN_OK) {
        audit_log_warn ("msg=unauthenticated op=%s reason=%s", info->name, reason);
        //  The reason is one of audit_token's own words, never the token
        query_reply_fail (call->reply, AUDIT_ERROR_UNAUTHENTICATED,
                          "token missing or not valid: %s", reason);
        return -1;
    }
    const char *misfit = s_misfit (info, request, claims);
    if (misfit) {
        audit_log_warn ("msg=forbidden op=%s sub=%s role=%s", info->name, claims->sub,
                        audit_token_role_name (claims->role));
        query_reply_fail (call->reply, AUDIT_ERROR_FORBIDDEN, "%s needs %s%s", info->name,
                          misfit, misfit == s_ROLE? audit_token_role_name ((audit_role_t) info->role): "");
        return -1;
    }
    return 0;
}

void
query_worker_answer (query_call_t *call, query_request_t *request,
                     const void *body, size_t size)
{
    audit_claims_t claims;
    audit_error_t error;
    char message [200];
    query_reply_reset (call->reply);
    //  A chunk planned for reading ahead and not read is another request's
    query_export_ahead_cancel (call);
    call->request = request;
    call->claims = &claims;
    if (query_request_decode (body, size, request, &error, message, sizeof message) != 0) {
        audit_log_warn ("msg=bad_request code=%s detail=\"%s\"", audit_proto_error_code (error), message);
        query_reply_fail (call->reply, error, "%s", message);
    }
    else {
        call->keys = query_shared_keys_hold (call->shared);
        if (s_authorise (call, request, &claims) == 0)
            s_handlers [request->op] (call);
        query_shared_keys_release (call->shared, &call->keys);
    }
    if (call->reply->failed)
        query_tally_error (call->shared->tally, call->reply->error);
    query_reply_finish (call->reply);
}

int
query_worker_call_init (query_call_t *call, query_shared_t *shared,
                        audit_store_t **store_p, query_reply_t *reply)
{
    memset (call, 0, sizeof *call);
    call->shared = shared;
    call->reply = reply;
    call->store = *store_p;
    *store_p = NULL;
    call->chunk = audit_csv_new (QUERY_EXPORT_CHUNK_BYTES_MAX);
    bool ready = call->store && call->chunk;
    if (!ready)
        query_worker_call_release (call);
    return ready ? 0 : -1;
}

void
query_worker_call_release (query_call_t *call)
{
    audit_store_destroy (&call->store);
    audit_csv_destroy (&call->chunk);
    query_export_ahead_destroy (&call->ahead);
}

typedef struct {
    zsock_t *pipe;
    query_call_t call;
    query_request_t *request;           //  25 KiB: on the heap, once
    query_reply_t reply;
    zframe_t *ahead_peer;               //  routing id of the client whose export is read ahead
    zmsg_t *pending;                    //  taken in while reading ahead, handled next
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        query_worker_call_release (&self->call);
        query_reply_release (&self->reply);
        zframe_destroy (&self->ahead_peer);
        zmsg_destroy (&self->pending);
        free (self->request);
        free (self);
        *self_p = NULL;
    }
}

typedef struct {
    query_shared_t *shared;
    audit_store_t *store;
} s_args_t;

static self_t *
s_self_new (zsock_t *pipe, s_args_t *args)
{
    //  With a store the call fails only for memory: its statements are
    //  prepared when first used
    const char *failure = args->store ? "out_of_memory" : "no_store";
    self_t *self = calloc (1, sizeof *self);
    if (self) {
        self->pipe = pipe;
        query_reply_init (&self->reply);
        self->request = calloc (1, sizeof *self->request);
    }
    bool ready = self && self->request
              && query_worker_call_init (&self->call, args->shared, &args->store,
                                         &self->reply) == 0;
    if (!ready) {
        audit_log_error ("msg=cannot_start reason=%s", failure);
        audit_store_destroy (&args->store);
        s_self_destroy (&self);
    }
    return self;
}

//  True when msg is a request of the client whose routing id is id:
//  REQUEST, peer, routing id, ...
static bool
s_from_client (zmsg_t *msg, zframe_t *id)
{
    zframe_t *kind = msg? zmsg_first (msg): NULL;
    if (!kind || !zframe_streq (kind, "REQUEST") || !zmsg_next (msg))
        return false;
    zframe_t *routing_id = zmsg_next (msg);
    return routing_id && zframe_eq (routing_id, id);
}

//  Reading ahead gives way to anything but the exporting client's request
//  for that very chunk: the first message that waits is taken in, and
//  handled as soon as the read ends. The server sends nothing more to a
//  worker that has taken in a request, so what can come after it is $TERM
static bool
s_ahead_stop (void *arg)
{
    self_t *self = (self_t *) arg;
    zmq_pollitem_t item = { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, 0) <= 0)
        return false;
    if (self->pending)
        return true;
    self->pending = zmsg_recv (self->pipe);
    if (!s_from_client (self->pending, self->ahead_peer))
        return true;
    zframe_t *body = zmsg_last (self->pending);
    return !query_export_ahead_asked (&self->call, zframe_data (body), zframe_size (body));
}

//  The status and envelope frames of msg, then the reply as the last
//  frame, moved into it when large (query_reply_frame). Out of memory the
//  client gets an internal error in its place, rather than nothing.
static void
s_send_answer (self_t *self, zmsg_t **msg_p)
{
    zmq_msg_t reply;
    if (query_reply_frame (&self->reply, &reply) != 0)
        audit_log_error ("msg=reply_not_sent reason=out_of_memory bytes=%zu answered=internal",
                         self->reply.buffer.size);
    //  A frame that cannot go (the context ends) ends the message unsent
    zframe_t *frame;
    int rc = 0;
    while (rc == 0 && (frame = zmsg_pop (*msg_p)))
        if ((rc = zframe_send (&frame, self->pipe, ZFRAME_MORE)) != 0)
            zframe_destroy (&frame);
    zmsg_destroy (msg_p);
    if (rc != 0 || zmq_msg_send (&reply, zsock_resolve (self->pipe), 0) == -1)
        zmq_msg_close (&reply);
}

//  envelope... body in, status envelope... reply out; the message is sent
//  on. A tail that asks to park goes back instead as QUERY_WORKER_PARK,
//  its state, the envelope and its body, for the server to run again.
static void
s_handle_request (self_t *self, zmsg_t **msg_p, const query_tail_state_t *resumed)
{
    zmsg_t *msg = *msg_p;
    zframe_t *body = zmsg_last (msg);
    zmsg_remove (msg, body);
    self->call.resumed = resumed != NULL;
    self->call.park = false;
    if (resumed)
        self->call.tail_state = *resumed;
    query_worker_answer (&self->call, self->request, zframe_data (body), zframe_size (body));
    if (self->call.park) {
        zmsg_append (msg, &body);
        zmsg_pushmem (msg, &self->call.tail_state, sizeof self->call.tail_state);
        zmsg_pushstr (msg, QUERY_WORKER_PARK);
        zmsg_send (msg_p, self->pipe);
        return;
    }
    zframe_destroy (&body);
    //  peer, routing id, ...: the client whose next chunk is read ahead
    if (query_export_ahead_due (&self->call) && zmsg_first (msg))
        self->ahead_peer = zframe_dup (zmsg_next (msg));
    //  The server rate-limits unauthenticated replies per peer
    bool unauthenticated = self->reply.failed && self->reply.error == AUDIT_ERROR_UNAUTHENTICATED;
    zmsg_pushstr (msg, unauthenticated? QUERY_WORKER_UNAUTHENTICATED
                     : self->ahead_peer? QUERY_WORKER_AHEAD: QUERY_WORKER_ANSWERED);
    s_send_answer (self, msg_p);
    if (self->ahead_peer)
        query_export_ahead (&self->call, self->request, s_ahead_stop, self);
    zframe_destroy (&self->ahead_peer);
}

//  A parked tail again: its state first, then what a request has
static void
s_handle_resume (self_t *self, zmsg_t **msg_p)
{
    zframe_t *state = zmsg_pop (*msg_p);
    query_tail_state_t resumed;
    //  Our own server's frames: anything else is a programming error
    assert (state && zframe_size (state) == sizeof resumed && zmsg_size (*msg_p) >= 1);
    memcpy (&resumed, zframe_data (state), sizeof resumed);
    zframe_destroy (&state);
    s_handle_request (self, msg_p, &resumed);
}

static void
s_worker_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (s_args_t *) args);
    zpoller_t *poller = self ? zpoller_new (pipe, NULL) : NULL;
    if (self && !poller)
        audit_log_error ("msg=cannot_start reason=out_of_memory");
    audit_actor_ready (pipe, poller ? 0 : -1);
    while (poller) {
        //  Woken at least every flush interval, so that the last error
        //  counts reach audit.db while the worker is idle
        bool ready = self->pending || zpoller_wait (poller, QUERY_TALLY_FLUSH_MS) == pipe;
        query_shared_t *shared = self->call.shared;
        query_tally_flush (shared->tally, shared->writer, &shared->writer_lock,
                           zclock_mono (), false);
        if (!ready) {
            if (zpoller_terminated (poller))
                break;
            query_export_ahead_idle (&self->call);
            continue;
        }
        zmsg_t *msg = self->pending? self->pending: zmsg_recv (pipe);
        self->pending = NULL;
        if (!msg)
            break;
        char *command = zmsg_popstr (msg);
        bool terminated = !command || streq (command, "$TERM");
        if (!terminated && streq (command, "REQUEST") && zmsg_size (msg) >= 1)
            s_handle_request (self, &msg, NULL);
        else
        if (!terminated && streq (command, "RESUME"))
            s_handle_resume (self, &msg);
        zstr_free (&command);
        zmsg_destroy (&msg);
        if (terminated)
            break;
    }
    zpoller_destroy (&poller);
    s_self_destroy (&self);
}

zactor_t *
query_worker_new (query_shared_t *shared, audit_store_t **store_p)
{
    //  The worker copies what it needs before zactor_new returns
    s_args_t args = { shared, *store_p };
    *store_p = NULL;
    return audit_actor_new (s_worker_actor, &args);
}
