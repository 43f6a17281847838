/*  =========================================================================
    ingest_actor - receives published events, validates them once, and
    hands them in batches to the writer

    Shaped like CZMQ's zmonitor: a private self_t, a zpoller loop over the
    pipe, the SUB socket and the writer, and nothing shared with other
    threads but the batches that travel over the writer's pipe.
    ========================================================================= */

#include "ingest_actor.h"
#include "ingest_acks.h"
#include "ingest_batch.h"
#include "ingest_settle.h"
#include "ingest_watch.h"
#include "ingest_writer.h"

#include "audit_actor.h"
#include "audit_decode.h"
#include "audit_log.h"
#include "audit_reserve.h"
#include "audit_socket.h"
#include "audit_store.h"
#include "audit_store_producers.h"
#include "audit_time.h"
#include "audit_zap.h"

#include <inttypes.h>

typedef struct {
    zsock_t *pipe;
    zsock_t *sub;
    ingest_watch_t *watch;          //  the producers libzmq drops from sub
    zactor_t *writer;
    ingest_acks_t *acks;            //  the acknowledgement ROUTER
    audit_zap_t *zap;               //  with CURVE: the producers' certificates
    const audit_curve_t *curve;     //  borrowed from main
    const audit_signer_t *signer;   //  borrowed from main, for the writer
    int checkpoint_interval_ms;
    char *keys_dir;
    bool allow_plaintext;
    zpoller_t *poller;
    char *endpoint;
    char *ack_endpoint;
    char *data_dir;
    int rcvhwm;
    size_t max_connections, memory_guard;
    size_t batch_size;
    int flush_ms;
    ingest_batch_t *batches [INGEST_ACTOR_BATCHES];
    ingest_batch_t *current;        //  the batch being filled
    ingest_batch_t *spare;          //  the other one, when the writer gave it back
    bool terminated;
    zpoller_t *waiter;              //  the pipe and the writer, while a batch waits
    bool degraded;                  //  the writer cannot commit: the SUB is not read
    bool stop_owed;                 //  STOP asked: reply with the records not stored
    bool stopping, stop_sent, writer_stopped;
    uint64_t unstored;              //  records held and not stored, at STOP
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        //  The writer goes first: it may still hold one of our batches
        zactor_destroy (&self->writer);
        zpoller_destroy (&self->waiter);
        zpoller_destroy (&self->poller);
        ingest_watch_destroy (&self->watch);
        zsock_destroy (&self->sub);
        ingest_acks_destroy (&self->acks);
        //  After every CURVE socket: none may run a handshake without it
        audit_zap_destroy (&self->zap);
        free (self->keys_dir);
        for (int index = 0; index < INGEST_ACTOR_BATCHES; index++)
            ingest_batch_destroy (&self->batches [index]);
        free (self->endpoint);
        free (self->ack_endpoint);
        free (self->data_dir);
        free (self);
        *self_p = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe, const ingest_options_t *options)
{
    self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pipe = pipe;
    self->endpoint = strdup (options->endpoint);
    self->ack_endpoint = strdup (options->ack_endpoint);
    self->data_dir = strdup (options->data_dir);
    self->rcvhwm = options->rcvhwm;
    self->max_connections = options->max_connections;
    self->memory_guard = options->memory_guard;
    self->batch_size = options->batch_size;
    self->flush_ms = options->flush_ms;
    self->curve = options->curve;
    self->allow_plaintext = options->allow_plaintext;
    self->signer = options->signer;
    self->checkpoint_interval_ms = options->checkpoint_interval_ms;
    self->keys_dir = strdup (options->producer_keys_dir ? options->producer_keys_dir : "");
    if (!self->endpoint || !self->ack_endpoint || !self->data_dir || !self->keys_dir)
        s_self_destroy (&self);
    return self;
}

//  Bind the SUB socket with limits sized for bursts
static int
s_bind (self_t *self)
{
    audit_socket_options_t options = {
        .type = ZMQ_SUB, .endpoint = self->endpoint, .bind = true,
        .rcvhwm = self->rcvhwm, .maxmsgsize = INGEST_ACTOR_MAXMSGSIZE,
        .curve = self->curve, .zap_domain = AUDIT_CURVE_DOMAIN_PRODUCER,
        .allow_plaintext = self->allow_plaintext
    };
    self->sub = audit_socket_new (&options, NULL, 0);
    if (!self->sub)
        return -1;
    zsock_set_subscribe (self->sub, AUDIT_TOPIC_AUDIT);
    zsock_set_subscribe (self->sub, AUDIT_TOPIC_OPS);
    zsock_set_subscribe (self->sub, AUDIT_TOPIC_MQ);
    return 0;
}

static void
s_load_acked (const audit_store_producer_t *producer, void *arg)
{
    ingest_acks_load ((ingest_acks_t *) arg, producer->producer_id, producer->acked_seq);
}

//  The ack ROUTER, knowing each producer's acknowledged seq from the store
static int
s_bind_acks (self_t *self, audit_store_t *store)
{
    self->acks = ingest_acks_new (self->ack_endpoint, INGEST_ACTOR_PRODUCERS_MAX,
                                  self->curve, self->allow_plaintext);
    if (!self->acks)
        return -1;
    ingest_acks_guard (self->acks, self->zap);
    return audit_store_producers_read (store, s_load_acked, self->acks);
}

static int
s_start (self_t *self)
{
    for (int index = 0; index < INGEST_ACTOR_BATCHES; index++)
        if (!(self->batches [index] = ingest_batch_new (self->batch_size))) {
            audit_log_error ("msg=cannot_start reason=out_of_memory");
            return -1;
        }
    self->current = self->batches [0];
    self->spare = self->batches [1];
    //  Before any CURVE socket binds: without a handler it would take any key
    audit_zap_options_t zap = {
        .domain = AUDIT_CURVE_DOMAIN_PRODUCER, .keys_dir = self->keys_dir, .producers = true
    };
    if (self->curve && !(self->zap = audit_zap_new (&zap)))
        return -1;
    audit_store_t *store = audit_store_new (self->data_dir, AUDIT_STORE_WRITER);
    if (!store)
        return -1;
    //  The connection cap after the stores are open: it counts their fds
    if (s_bind (self) || s_bind_acks (self, store)
    ||  !(self->watch = ingest_watch_new (self->sub, ingest_acks_socket (self->acks),
                                          self->max_connections, self->memory_guard))) {
        audit_store_destroy (&store);
        return -1;
    }
    self->writer = ingest_writer_new (&store, self->signer, self->checkpoint_interval_ms);
    if (!self->writer) {
        audit_store_destroy (&store);
        return -1;
    }
    self->poller = zpoller_new (self->pipe, self->sub, self->writer,
                                ingest_acks_socket (self->acks), NULL);
    self->waiter = zpoller_new (self->pipe, self->writer, NULL);
    if (self->poller && self->zap)
        zpoller_add (self->poller, audit_zap_socket (self->zap));
    if (self->poller)
        zpoller_add (self->poller, ingest_watch_socket (self->watch));
    char where [512];
    audit_store_redact (self->data_dir, where, sizeof where);
    audit_log_info ("msg=listening endpoint=%s ack_endpoint=%s store=\"%s\" hwm=%d batch=%zu"
                    " flush_ms=%d curve=%s", self->endpoint, self->ack_endpoint, where,
                    self->rcvhwm, self->batch_size, self->flush_ms, self->curve ? "on" : "off");
    return self->poller && self->waiter ? 0 : -1;
}

//  Once: the writer gives up what it cannot commit now and says how much
static void
s_writer_stop (self_t *self)
{
    if (self->stop_sent)
        return;
    self->stop_sent = true;
    zsock_send (self->writer, "sp", "STOP", NULL);
}

//  Backpressure (issue 12): while the writer cannot commit, the SUB is not
//  read; what producers send waits in libzmq and then in their outboxes
static void
s_degraded (self_t *self, bool degraded)
{
    if (degraded == self->degraded)
        return;
    self->degraded = degraded;
    if (degraded)
        zpoller_remove (self->poller, self->sub);
    else {
        zpoller_add (self->poller, self->sub);
        audit_reserve_make (self->data_dir);    //  space came back: keep it again
    }
    if (degraded && self->stopping)
        s_writer_stop (self);
}

//  A message from the writer: a batch it has finished with (acknowledge
//  what it settled, then empty it for reuse), or its state
static void
s_take_back (self_t *self)
{
    char *command = NULL;
    void *batch = NULL;
    uint64_t count = 0;                 //  the writer's own tally; ours is exact
    if (zsock_recv (self->writer, "sp8", &command, &batch, &count) == 0 && command) {
        if (streq (command, "BATCH") && batch) {
            self->spare = (ingest_batch_t *) batch;
            if (!self->spare->committed)
                self->unstored += self->spare->count;   //  given up at STOP
            ingest_acks_batch (self->acks, self->spare);
            ingest_batch_reset (self->spare);
        }
        else
        if (streq (command, "DEGRADED") || streq (command, "RESUMED"))
            s_degraded (self, streq (command, "DEGRADED"));
        else
        if (streq (command, "STOPPED"))
            self->writer_stopped = true;
    }
    zstr_free (&command);
}

static void s_handle_pipe (self_t *self, bool waiting);

//  Until the writer gives a batch back, hearing the pipe too: on a full
//  disk that can take until space returns, and STOP must not wait for it
static void
s_wait_spare (self_t *self)
{
    while (!self->spare) {
        void *which = zpoller_wait (self->waiter, -1);
        if (which == self->pipe)
            s_handle_pipe (self, true);
        else
        if (which == self->writer || zpoller_terminated (self->waiter))
            s_take_back (self);
    }
}

//  Give the current batch to the writer and continue in the spare one,
//  waiting for the writer to return it when it is still being written
static void
s_hand_over (self_t *self)
{
    if (!ingest_batch_has_work (self->current))
        return;
    zsock_send (self->writer, "sp", "BATCH", self->current);
    self->current = NULL;
    s_wait_spare (self);
    self->current = self->spare;
    self->spare = NULL;
}

static const char *
s_or_dash (const char *text)
{
    return text && *text ? text : "-";
}

//  A rejected event settles too (contract: "Acknowledgements"): it goes
//  in the batch, without a row, so that its producer's seq moves past it
//  in the same commit and its ack names the reason and the field
static void
s_reject (self_t *self, const audit_decode_info_t *info, audit_topic_kind_t kind)
{
    audit_counters_count_in (self->current->counters, AUDIT_COUNTER_FAMILY_INGEST_REJECTED,
                             audit_proto_reason_name (info->reason), 1);
    audit_log_warn ("msg=rejected reason=%s field=%s producer=%s event_id=%s",
                    audit_proto_reason_name (info->reason), s_or_dash (info->field),
                    s_or_dash (info->producer_id), s_or_dash (info->event_id));
    if (kind != AUDIT_TOPIC_KIND_OPS && info->producer_id [0] && info->has_seq)
        ingest_batch_settle (self->current, info->producer_id, info->seq, info->reason,
                             info->event_id, info->field);
}

//  Dropped keys are counted per key name and per (producer, key name) and
//  logged by name only: their values never left the decoder. Keys past the
//  names one message reports count as "(other)" in both. A rejected event
//  gets only its one rejection line, so its keys are counted, not logged.
//  count under key, and under (producer, key): a space cannot occur in an
//  identifier, so it separates the pair
static void
s_count_key (self_t *self, const char *producer, const char *key, uint32_t count)
{
    char pair [AUDIT_IDENT_MAX + AUDIT_DECODE_KEY_NAME_MAX + 2];
    snprintf (pair, sizeof pair, "%s %s", producer, key);
    audit_counters_count_in (self->current->counters, AUDIT_COUNTER_FAMILY_INGEST_DROPPED_KEYS,
                             key, count);
    audit_counters_count_in (self->current->counters,
                             AUDIT_COUNTER_FAMILY_INGEST_DROPPED_BY_PRODUCER, pair, count);
}

static void
s_count_dropped (self_t *self, const audit_decode_info_t *info, bool log)
{
    if (info->dropped_total == 0)
        return;
    char keys [AUDIT_DECODE_DROPPED_MAX * (AUDIT_DECODE_KEY_NAME_MAX + 1) + 1] = "";
    const char *producer = info->producer_id [0] ? info->producer_id : "(none)";
    for (uint32_t index = 0; index < info->dropped_count; index++) {
        const char *key = info->dropped [index];
        s_count_key (self, producer, key, 1);
        strcat (keys, index ? "," : "");
        strcat (keys, key);
    }
    uint32_t unnamed = info->dropped_total - info->dropped_count;
    if (unnamed)
        s_count_key (self, producer, AUDIT_DECODE_KEY_OTHER, unnamed);
    if (log)
        audit_log_warn ("msg=dropped_keys count=%u keys=%s producer=%s event_id=%s",
                        info->dropped_total, keys, s_or_dash (info->producer_id),
                        s_or_dash (info->event_id));
}

//  Keep a decoded record, making room in a fresh batch when needed
static void
s_keep (self_t *self, audit_record_t *record, int64_t now_ms)
{
    if (ingest_batch_commit (self->current, now_ms) == 0)
        return;
    //  The payload arena is full: write this batch, keep the record in the next
    audit_record_t copy = *record;
    s_hand_over (self);
    *ingest_batch_slot (self->current) = copy;
    if (ingest_batch_commit (self->current, now_ms) != 0)
        audit_log_error ("msg=payload_too_large_for_batch");
}

//  The certificate names the producer (contract: "Transport security"):
//  bad_producer for another producer_id, which then settles nothing, so
//  that no name but a certificate's enters the producers' state
static int
s_bad_producer (audit_decode_info_t *info, const char *field, bool settles)
{
    info->reason = AUDIT_REASON_BAD_PRODUCER;
    info->field = field;
    info->has_seq &= settles;
    return -1;
}

//  With CURVE: -1 when the event claims a producer or an organisation its
//  certificate does not allow; one that names no producer is the
//  certificate's, in the record and in the counters
static int
s_check_producer (const audit_certs_entry_t *entry, audit_topic_kind_t kind, int rc,
                  audit_record_t *record, audit_decode_info_t *info)
{
    if (kind == AUDIT_TOPIC_KIND_OPS)
        return 0;                       //  no producer, no organisation
    if (info->producer_id [0] && !streq (info->producer_id, entry->producer_id))
        return s_bad_producer (info, "producer_id", false);
    snprintf (info->producer_id, sizeof info->producer_id, "%s", entry->producer_id);
    if (rc != 0)
        return 0;
    bool mq = kind == AUDIT_TOPIC_KIND_MQ;
    char *producer = mq ? record->u.mq.producer_id : record->u.event.producer_id;
    if (!audit_certs_allows_org (entry, mq ? record->u.mq.org_id : record->u.event.org_id))
        return s_bad_producer (info, "org_id", true);
    if (!*producer)
        snprintf (producer, sizeof (audit_ident_t), "%s", entry->producer_id);
    return 0;
}

static void
s_handle_body (self_t *self, const char *topic, size_t topic_size,
               const void *body, size_t body_size, const audit_certs_entry_t *entry)
{
    int64_t now_ms = audit_time_now_ms ();
    if (!self->current->first_ms)
        self->current->first_ms = now_ms;
    self->current->received++;
    audit_record_t *record = ingest_batch_slot (self->current);
    if (!record) {
        s_hand_over (self);
        record = ingest_batch_slot (self->current);
    }
    audit_decode_info_t info;
    audit_topic_kind_t kind = audit_proto_topic_kind (topic, topic_size);
    int rc = audit_decode_record (kind, body, body_size, now_ms, record, &info);
    if (entry && s_check_producer (entry, kind, rc, record, &info) != 0) {
        s_reject (self, &info, kind);
        return;
    }
    s_count_dropped (self, &info, rc == 0);
    if (rc != 0) {
        s_reject (self, &info, kind);
        return;
    }
    record->received_ms = now_ms;
    s_keep (self, record, now_ms);
    //  In the batch that holds the record (s_keep may have started one)
    if (kind != AUDIT_TOPIC_KIND_OPS && info.producer_id [0] && info.has_seq)
        ingest_batch_settle (self->current, info.producer_id, info.seq,
                             INGEST_SETTLE_ACCEPTED, info.event_id, NULL);
}

//  With CURVE, the certificate of the connection a message came on while
//  it is allowed; NULL when its key was removed since the handshake (the
//  message is then refused, counted, and settles nothing)
static bool
s_sender (self_t *self, zmq_msg_t *msg, const audit_certs_entry_t **entry)
{
    *entry = NULL;
    if (!self->zap)
        return true;
    const char *key = zmq_msg_gets (msg, AUDIT_CURVE_PROPERTY_KEY);
    if ((*entry = audit_zap_lookup (self->zap, key)))
        return true;
    audit_counters_count (self->current->counters, AUDIT_COUNTER_INGEST_CURVE_REVOKED, 1);
    audit_zap_note (self->zap, "curve_revoked", key ? key : "-", "key_removed");
    return false;
}

//  Receive one [topic, body] message without waiting. Returns 0 when one
//  was handled, -1 when the socket had nothing more.
static int
s_recv_one (self_t *self, void *socket)
{
    zmq_msg_t topic, body;
    zmq_msg_init (&topic);
    if (zmq_msg_recv (&topic, socket, ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&topic);
        return -1;
    }
    zmq_msg_init (&body);
    bool two_frames = zmq_msg_more (&topic)
                   && zmq_msg_recv (&body, socket, 0) != -1
                   && !zmq_msg_more (&body);
    const audit_certs_entry_t *entry;
    if (!s_sender (self, &topic, &entry))
        while (zmq_msg_more (&body) && zmq_msg_recv (&body, socket, 0) != -1)
            ;
    else
    if (two_frames)
        s_handle_body (self, (const char *) zmq_msg_data (&topic), zmq_msg_size (&topic),
                       zmq_msg_data (&body), zmq_msg_size (&body), entry);
    else {
        //  Swallow the rest of a message of the wrong shape, then count it
        while (zmq_msg_more (&body) && zmq_msg_recv (&body, socket, 0) != -1)
            ;
        audit_decode_info_t info = { .reason = AUDIT_REASON_MALFORMED };
        self->current->received++;
        s_reject (self, &info, AUDIT_TOPIC_KIND_UNKNOWN);
    }
    zmq_msg_close (&body);
    zmq_msg_close (&topic);
    return 0;
}

//  Take up to a burst of messages, then let the loop hear the pipe again
static void
s_recv_burst (self_t *self)
{
    void *socket = zsock_resolve (self->sub);
    for (int count = 0; count < INGEST_ACTOR_BURST; count++)
        if (self->degraded || self->stop_owed || self->terminated
        ||  s_recv_one (self, socket) != 0)
            break;
    if (!ingest_batch_slot (self->current))
        s_hand_over (self);
}

//  On STOP, every message libzmq already holds for us is taken in and
//  committed: an event it received is an event we received
static void
s_drain (self_t *self)
{
    if (!self->sub || !self->writer)
        return;                         //  never started: nothing to drain
    void *socket = zsock_resolve (self->sub);
    //  Bounded, so that a producer still sending cannot hold up the stop.
    //  An empty queue is not the end: libzmq's I/O thread may not have
    //  read what TCP already delivered (2,000 events were lost so, issue
    //  12), so the drain ends only once the socket stays quiet a while
    zmq_pollitem_t item = { socket, 0, ZMQ_POLLIN, 0 };
    int64_t until = audit_time_now_ms () + INGEST_ACTOR_DRAIN_MS;
    while (!self->stop_sent) {
        int64_t left = until - audit_time_now_ms ();
        if (left <= 0)
            break;
        if (s_recv_one (self, socket) == 0)
            continue;
        long quiet = left < INGEST_ACTOR_DRAIN_QUIET_MS? (long) left: INGEST_ACTOR_DRAIN_QUIET_MS;
        if (zmq_poll (&item, 1, quiet) <= 0)
            break;
    }
    if (!self->stop_sent)
        s_hand_over (self);
    audit_log_info ("msg=drained");
}

//  Stop the writer, after committing what libzmq holds unless the disk is
//  full: then the batches held are given up (never acknowledged, so the
//  producers resend them) and counted for the exit status
static void
s_stop (self_t *self)
{
    if (!self->writer || self->writer_stopped)
        return;
    self->stopping = true;
    if (!self->degraded && !self->stop_sent)
        s_drain (self);
    if (!self->degraded)
        zpoller_remove (self->poller, self->sub);
    s_writer_stop (self);
    //  Every batch back, each acknowledged when it committed
    zmq_pollitem_t item = { zsock_resolve (self->writer), 0, ZMQ_POLLIN, 0 };
    while ((!self->writer_stopped || !self->spare || !self->current)
       &&  zmq_poll (&item, 1, INGEST_ACTOR_STOP_MS) == 1)
        s_take_back (self);
    if (self->current)
        self->unstored += self->current->count;
    if (self->unstored > 0)
        audit_log_error ("msg=records_not_stored records=%" PRIu64 " reason=disk_full",
                         self->unstored);
}

//  waiting: called while a batch waits for the writer, which then must
//  give up retrying for STOP or $TERM to be heard in time
static void
s_handle_pipe (self_t *self, bool waiting)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "START"))
        zsock_send (self->pipe, "i", s_start (self));
    else
    if (streq (command, "STOP"))
        self->stop_owed = true;
    else
    if (streq (command, "RELOAD"))
        zsock_send (self->pipe, "i", self->zap ? audit_zap_reload (self->zap) : 0);
    else
        audit_log_error ("msg=unknown_command");
    zstr_free (&command);
    if (waiting && (self->terminated || self->stop_owed))
        s_writer_stop (self);
}

//  Handshakes: each refused one is counted with the next commit
static void
s_handle_zap (self_t *self)
{
    size_t refused = audit_zap_handle (self->zap);
    if (refused)
        audit_counters_count (self->current->counters, AUDIT_COUNTER_INGEST_CURVE_REFUSED,
                              (int64_t) refused);
}

//  Connections that ended, those refused over the cap, and those dropped
//  for memory
static void
s_handle_watch (self_t *self)
{
    ingest_watch_report_t report;
    ingest_watch_recv (self->watch, &report);
    audit_counters_t *counters = self->current->counters;
    audit_counters_count (counters, AUDIT_COUNTER_INGEST_DISCONNECTED, report.ended);
    audit_counters_count (counters, AUDIT_COUNTER_INGEST_CONNECTIONS_REFUSED, report.refused);
    audit_counters_count (counters, AUDIT_COUNTER_INGEST_DROPPED_FOR_MEMORY,
                          report.dropped_for_memory);
}

//  ms until the current batch must be committed, -1 when it is empty
static int
s_timeout (self_t *self)
{
    if (!self->current || !ingest_batch_has_work (self->current)
    ||  !self->spare || self->stopping)
        return -1;                      //  nothing to hand over, or not now
    int64_t due = self->current->first_ms + self->flush_ms - audit_time_now_ms ();
    return due > 0 ? (int) due : 0;
}

static void
s_ingest_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (const ingest_options_t *) args);
    if (!self)
        audit_log_error ("msg=cannot_start reason=out_of_memory");
    audit_actor_ready (pipe, self ? 0 : -1);
    if (!self)
        return;
    //  Until START the poller is the pipe alone
    zpoller_t *startup = zpoller_new (pipe, NULL);
    while (!self->terminated) {
        zpoller_t *poller = self->poller ? self->poller : startup;
        void *which = zpoller_wait (poller, s_timeout (self));
        if (which == pipe)
            s_handle_pipe (self, false);
        else
        if (self->sub && which == self->sub)
            s_recv_burst (self);
        else
        if (self->writer && which == self->writer)
            s_take_back (self);
        else
        if (self->acks && which == ingest_acks_socket (self->acks))
            ingest_acks_recv (self->acks, self->current->counters);
        else
        if (self->zap && which == audit_zap_socket (self->zap))
            s_handle_zap (self);
        else
        if (self->watch && self->current && which == ingest_watch_socket (self->watch))
            s_handle_watch (self);
        if (self->current && s_timeout (self) == 0)
            s_hand_over (self);
        if (self->stop_owed) {
            s_stop (self);
            zsock_send (pipe, "8", self->unstored);
            self->stop_owed = false;
        }
    }
    zpoller_destroy (&startup);
    s_stop (self);
    s_self_destroy (&self);
}

zactor_t *
ingest_actor_new (const ingest_options_t *options)
{
    return audit_actor_new (s_ingest_actor, (void *) options);
}
