/*  =========================================================================
    audit_producer - publish audit events so that none is lost and the
    producer knows

    The calling thread does the work that can fail on the event (stamp,
    validate with the ingest worker's own decoder, build the bytes), so
    that a refusal comes back from the call; under the mutex it only takes
    the next seq, writes it into the body in place and queues the event.
    ========================================================================= */

#include "audit_producer.h"
#include "audit_decode.h"
#include "audit_handoff.h"
#include "audit_ident.h"
#include "audit_log.h"
#include "audit_sender.h"
#include "audit_curve.h"
#include "audit_socket.h"
#include "audit_stamp.h"
#include "audit_time.h"

#include <czmq.h>
#include <string.h>

struct _audit_producer_t {
    audit_handoff_t handoff;
    audit_sender_args_t args;
    zactor_t *actor;
};

void
audit_producer_options_init (audit_producer_options_t *options)
{
    *options = (audit_producer_options_t) {
        .retry_ms = 2000, .hello_ms = 1000, .outbox_max = 1000000, .window = 100000
    };
}

audit_producer_t *
audit_producer_new (const char *endpoint, const char *ack_endpoint,
                    const char *producer_id, const char *outbox_path)
{
    return audit_producer_new_with (endpoint, ack_endpoint, producer_id, outbox_path, NULL);
}

//  The two sockets, connected, with CURVE when the options name the
//  service's key (a socket keeps the keys: the curve goes at once); the
//  outbox holds events meanwhile
static int
s_sockets (audit_sender_args_t *args, const char *endpoint, const char *ack_endpoint)
{
    const audit_producer_options_t *options = &args->options;
    audit_curve_t *curve = NULL;
    char reason [512];
    if (options->curve_server_key && *options->curve_server_key
    &&  !(curve = audit_curve_client_new (options->curve_server_key, options->curve_client_cert,
                                          reason, sizeof reason))) {
        audit_log_error ("msg=producer_not_started reason=curve detail=\"%s\"", reason);
        return -1;
    }
    audit_socket_options_t pub = {
        .type = ZMQ_XPUB, .endpoint = endpoint, .sndhwm = AUDIT_SOCKET_HWM_NONE, .curve = curve
    };
    audit_socket_options_t dealer = {
        .type = ZMQ_DEALER, .endpoint = ack_endpoint, .sndhwm = 16, .curve = curve
    };
    args->pub = audit_socket_new (&pub, NULL, 0);
    args->dealer = args->pub ? audit_socket_new (&dealer, NULL, 0) : NULL;
    audit_curve_destroy (&curve);
    return args->dealer ? 0 : -1;
}

static int
s_check (const char *producer_id, const audit_producer_options_t *options)
{
    if (!producer_id || !audit_ident_is_valid (producer_id, strlen (producer_id))) {
        audit_log_error ("msg=producer_not_started reason=producer_id_not_an_identifier");
        return -1;
    }
    if (options->retry_ms < 1 || options->hello_ms < 1 || options->outbox_max < 1
    ||  options->window < 1) {
        audit_log_error ("msg=producer_not_started reason=bad_options");
        return -1;
    }
    return 0;
}

static int
s_start (audit_producer_t *self, const char *endpoint, const char *ack_endpoint,
         const char *outbox_path)
{
    char reason [256];
    audit_sender_args_t *args = &self->args;
    args->outbox = audit_outbox_open (outbox_path, args->producer_id, reason, sizeof reason);
    if (!args->outbox) {
        audit_log_error ("msg=producer_not_started reason=outbox detail=\"%s\"", reason);
        return -1;
    }
    audit_handoff_init (&self->handoff, audit_outbox_last_seq (args->outbox),
                        audit_outbox_acked_seq (args->outbox),
                        audit_outbox_count (args->outbox), args->options.outbox_max);
    args->handoff = &self->handoff;
    if (s_sockets (args, endpoint, ack_endpoint))
        return -1;
    self->actor = zactor_new (audit_sender_actor, args);
    return self->actor ? 0 : -1;
}

audit_producer_t *
audit_producer_new_with (const char *endpoint, const char *ack_endpoint,
                         const char *producer_id, const char *outbox_path,
                         const audit_producer_options_t *options)
{
    audit_producer_options_t defaults;
    audit_producer_options_init (&defaults);
    if (!options)
        options = &defaults;
    if (!endpoint || !ack_endpoint || !outbox_path || s_check (producer_id, options))
        return NULL;
    audit_producer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->args.options = *options;
    snprintf (self->args.producer_id, sizeof self->args.producer_id, "%s", producer_id);
    if (s_start (self, endpoint, ack_endpoint, outbox_path) == 0)
        return self;
    bool handoff = self->args.handoff != NULL;
    zsock_destroy (&self->args.pub);
    zsock_destroy (&self->args.dealer);
    audit_outbox_destroy (&self->args.outbox);
    if (handoff)
        audit_handoff_destroy (&self->handoff);
    free (self);
    return NULL;
}

void
audit_producer_destroy (audit_producer_t **self_p)
{
    audit_producer_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy (&self->actor);      //  commits what is queued first
    audit_handoff_destroy (&self->handoff);
    free (self);
    *self_p = NULL;
}

//  ---------------------------------------------------------------------
//  Publishing

//  Count a refusal; reason NULL: the receipt says it already
static int
s_refuse (audit_producer_t *self, audit_producer_receipt_t *receipt,
          const char *reason, const char *field)
{
    pthread_mutex_lock (&self->handoff.lock);
    self->handoff.stats.refused++;
    pthread_mutex_unlock (&self->handoff.lock);
    if (reason) {
        snprintf (receipt->reason, sizeof receipt->reason, "%s", reason);
        snprintf (receipt->field, sizeof receipt->field, "%s", field ? field : "");
    }
    receipt->seq = 0;
    return -1;
}

//  Validate exactly as the ingest worker will, on the bytes it will get
static int
s_validate (audit_topic_kind_t kind, const void *body, size_t size,
            audit_producer_receipt_t *receipt)
{
    static __thread audit_record_t record;     //  2 KiB and more: not on the stack
    audit_decode_info_t info;
    if (audit_decode_record (kind, body, size, audit_time_now_ms (), &record, &info) == 0) {
        snprintf (receipt->event_id, sizeof receipt->event_id, "%s", info.event_id);
        return 0;
    }
    snprintf (receipt->reason, sizeof receipt->reason, "%s", audit_proto_reason_name (info.reason));
    snprintf (receipt->field, sizeof receipt->field, "%s", info.field ? info.field : "");
    return -1;
}

//  Take the next seq, set it in the body, queue: the only work under the lock
static int
s_queue (audit_producer_t *self, audit_handoff_item_t *item, size_t seq_at, uint64_t *seq)
{
    audit_handoff_t *handoff = &self->handoff;
    pthread_mutex_lock (&handoff->lock);
    int rc = audit_handoff_room (handoff);
    if (rc == 0) {
        item->seq = *seq = handoff->stats.last_seq + 1;
        audit_stamp_set_seq (item->body, seq_at, item->seq);
        if (audit_handoff_push (handoff, item))
            zsock_signal (zactor_sock (self->actor), 0);
    }
    pthread_mutex_unlock (&handoff->lock);
    return rc;
}

static int
s_publish (audit_producer_t *self, const char *topic, audit_stamp_t *stamp,
           audit_producer_receipt_t *receipt)
{
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    size_t seq_at = 0;
    int rc = -1;
    audit_handoff_item_t *item = NULL;
    if (audit_stamp_body (stamp, &body, &seq_at))
        s_refuse (self, receipt, "failed", NULL);
    else
    if (s_validate (audit_proto_topic_kind (topic, strlen (topic)), body.data, body.size, receipt))
        s_refuse (self, receipt, NULL, NULL);
    else
    if (!(item = audit_handoff_item_new (topic, body.data, body.size)))
        s_refuse (self, receipt, "failed", NULL);
    else
    if (s_queue (self, item, seq_at, &receipt->seq)) {
        free (item);
        s_refuse (self, receipt, "outbox_full", NULL);
    }
    else
        rc = 0;
    msgpack_sbuffer_destroy (&body);
    return rc;
}

int
audit_producer_publish (audit_producer_t *self, const char *topic, const void *body,
                        size_t size, audit_producer_receipt_t *receipt)
{
    audit_producer_receipt_t ignored;
    if (!receipt)
        receipt = &ignored;
    memset (receipt, 0, sizeof *receipt);
    audit_topic_kind_t kind = topic ? audit_proto_topic_kind (topic, strlen (topic))
                                    : AUDIT_TOPIC_KIND_UNKNOWN;
    if (kind != AUDIT_TOPIC_KIND_AUDIT && kind != AUDIT_TOPIC_KIND_MQ)
        return s_refuse (self, receipt, "bad_topic", NULL);
    audit_stamp_t stamp;
    if (audit_stamp_prepare (&stamp, kind, body, size, self->args.producer_id,
                             audit_time_now_ms ())) {
        audit_stamp_clear (&stamp);
        return s_refuse (self, receipt, "malformed", NULL);
    }
    snprintf (receipt->event_id, sizeof receipt->event_id, "%s", stamp.id);
    int rc = s_publish (self, topic, &stamp, receipt);
    audit_stamp_clear (&stamp);
    return rc;
}

int
audit_producer_sync (audit_producer_t *self, int timeout_ms)
{
    return audit_handoff_wait (&self->handoff, false, timeout_ms);
}

int
audit_producer_flush (audit_producer_t *self, int timeout_ms)
{
    return audit_handoff_wait (&self->handoff, true, timeout_ms);
}

void
audit_producer_stats (audit_producer_t *self, audit_producer_stats_t *stats)
{
    pthread_mutex_lock (&self->handoff.lock);
    *stats = self->handoff.stats;
    pthread_mutex_unlock (&self->handoff.lock);
}
