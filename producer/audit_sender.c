/*  =========================================================================
    audit_sender - the producer's background thread

    One loop: read the pipe, the subscriptions and the acks; commit what
    is queued (one transaction, one fsync) together with the trim of what
    is acknowledged; send what is durable and not sent, within the window;
    then the timers: a hello after a second of silence, a resend of
    everything above the acknowledged seq after retry_ms without progress.

    sent_upto is the highest seq sent since the last rewind; a rewind
    (retry timer, or a new subscription: a new connection) sets it back
    to the acknowledged seq, so that the same loop resends, go-back-N, the
    same bytes read back from the outbox.
    ========================================================================= */

#include "audit_sender.h"
#include "audit_ackmsg.h"
#include "audit_log.h"

#include <string.h>

//  Events sent in one turn of the loop at most, so that acks are read
#define S_SEND_BATCH    4096
//  The retry interval grows to at most this many times the option's
#define S_RETRY_MAX_FACTOR  16

typedef struct {
    audit_sender_args_t *args;
    zsock_t *pipe;
    audit_producer_stats_t news;    //  what the thread reports to the handoff
    audit_handoff_item_t *unwritten;    //  taken, not yet written (a failed write)
    audit_outbox_entry_t *entries;  //  the commit's array, grown as needed
    size_t entries_size;
    uint64_t sent_upto, highest_sent;
    bool sub_audit, sub_mq, ever_subscribed, answered, terminated, failing;
    int64_t heard_ms, hello_ms, progress_ms;
    int64_t rewound_ms;             //  the retry timer's last rewind
    int64_t retry_ms;               //  the retry interval now: doubled by each rewind
                                    //  that brought no ack, back to the option's on one
    uint64_t *reported;             //  rejections above acked_seq already reported
    size_t reported_count, reported_size;
    audit_ackmsg_t *ack;
} s_sender_t;

//  ---------------------------------------------------------------------
//  The commit

static uint64_t
s_count (const audit_handoff_item_t *items)
{
    uint64_t count = 0;
    for (; items; items = items->next)
        count++;
    return count;
}

static int
s_entries (s_sender_t *self, audit_handoff_item_t *items, size_t count)
{
    if (count > self->entries_size) {
        audit_outbox_entry_t *grown = realloc (self->entries, count * sizeof *grown);
        if (!grown)
            return -1;
        self->entries = grown;
        self->entries_size = count;
    }
    size_t index = 0;
    for (audit_handoff_item_t *item = items; item; item = item->next)
        self->entries [index++] = (audit_outbox_entry_t) {
            item->seq, item->topic, item->body, item->size
        };
    return 0;
}

static void s_send_fresh (s_sender_t *self, uint64_t durable_before, size_t count);

//  What is queued, and the trim of what is acknowledged, in one write
static void
s_commit (s_sender_t *self)
{
    if (!self->unwritten)
        self->unwritten = audit_handoff_take (self->args->handoff);
    audit_outbox_t *outbox = self->args->outbox;
    size_t count = (size_t) s_count (self->unwritten);
    if (count == 0 && self->news.acked_seq <= audit_outbox_acked_seq (outbox))
        return;
    if (s_entries (self, self->unwritten, count)
    ||  audit_outbox_write (outbox, self->entries, count, self->news.acked_seq)) {
        if (!self->failing)
            audit_log_error ("msg=outbox_write_failed events=%zu", count);
        self->failing = true;       //  kept, and tried again next turn
        return;
    }
    self->failing = false;
    uint64_t durable_before = self->news.durable_seq;
    self->news.durable_seq = audit_outbox_last_seq (outbox);
    s_send_fresh (self, durable_before, count);
    audit_handoff_free (self->unwritten);
    self->unwritten = NULL;
}

//  ---------------------------------------------------------------------
//  Sending

static bool
s_ready (s_sender_t *self)
{
    return self->sub_audit && self->sub_mq && self->answered;
}

static int
s_send_one (void *arg, const audit_outbox_entry_t *entry)
{
    s_sender_t *self = arg;
    void *handle = zsock_resolve (self->args->pub);
    if (zmq_send (handle, entry->topic, strlen (entry->topic), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
    ||  zmq_send (handle, entry->body, entry->size, ZMQ_DONTWAIT) < 0)
        return -1;                  //  not sent: the retry timer covers it
    self->news.sent++;
    if (entry->seq <= self->highest_sent)
        self->news.resent++;
    else
        self->highest_sent = entry->seq;
    self->sent_upto = entry->seq;
    return 0;
}

//  The next durable events above sent_upto, within the window
static void
s_send (s_sender_t *self)
{
    uint64_t acked = self->news.acked_seq;
    if (self->sent_upto < acked)
        self->sent_upto = acked;
    uint64_t in_flight = self->sent_upto - acked;
    uint64_t window = self->args->options.window;
    if (!s_ready (self) || self->sent_upto >= self->news.durable_seq || in_flight >= window)
        return;
    if (in_flight == 0)             //  the retry interval starts with the first send
        self->progress_ms = zclock_mono ();
    uint64_t limit = window - in_flight;
    if (limit > S_SEND_BATCH)
        limit = S_SEND_BATCH;
    audit_outbox_each (self->args->outbox, self->sent_upto, (size_t) limit, s_send_one, self);
}

//  The events just committed, sent from memory within the window when
//  every durable event before them is sent: reading them back from the
//  outbox would be a second pass over the same bytes. What the window
//  leaves is sent from the outbox by s_send, as after a rewind.
static void
s_send_fresh (s_sender_t *self, uint64_t durable_before, size_t count)
{
    uint64_t acked = self->news.acked_seq;
    uint64_t window = self->args->options.window;
    if (!s_ready (self) || (self->sent_upto > acked? self->sent_upto: acked) != durable_before)
        return;
    if (self->sent_upto <= acked) {
        self->sent_upto = acked;
        self->progress_ms = zclock_mono ();     //  as s_send: the first send starts it
    }
    for (size_t at = 0; at < count && self->sent_upto - acked < window; at++)
        if (self->entries [at].seq != self->sent_upto + 1
        ||  s_send_one (self, &self->entries [at]) != 0)
            break;
}

static void
s_hello (s_sender_t *self)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    if (audit_ackmsg_hello (self->args->producer_id, &buffer) == 0)
        zmq_send (zsock_resolve (self->args->dealer), buffer.data, buffer.size, ZMQ_DONTWAIT);
    msgpack_sbuffer_destroy (&buffer);
    self->hello_ms = zclock_mono ();
}

//  Hello when connecting and after a second of silence while anything is
//  unacknowledged; go back to the acknowledged seq after retry_ms, and
//  again only once the service has said something since: while it is down
//  the PUB's pipe to it keeps what is sent (no high-water mark) for the
//  connection's return, so a rewind every retry_ms would queue copy after
//  copy of everything unacknowledged, memory growing, and end in a storm
//  of duplicates. The new connection's subscription rewinds anyway.
static void
s_timers (s_sender_t *self)
{
    int64_t now = zclock_mono ();
    const audit_producer_options_t *options = &self->args->options;
    bool holding = self->news.durable_seq > self->news.acked_seq || self->unwritten;
    if ((!self->answered || holding) && now - self->heard_ms >= options->hello_ms
    &&  now - self->hello_ms >= options->hello_ms)
        s_hello (self);
    if (self->sent_upto > self->news.acked_seq && now - self->progress_ms >= self->retry_ms
    &&  self->heard_ms >= self->rewound_ms) {
        self->sent_upto = self->news.acked_seq;
        self->progress_ms = now;
        self->rewound_ms = now;
        //  A service that answers but has not acked in retry_ms is busy,
        //  not losing events: resending its whole window again and again
        //  would only add to its work
        if (self->retry_ms < S_RETRY_MAX_FACTOR * options->retry_ms)
            self->retry_ms *= 2;
    }
}

//  ---------------------------------------------------------------------
//  Acks

static bool
s_reported (s_sender_t *self, uint64_t seq)
{
    for (size_t index = 0; index < self->reported_count; index++)
        if (self->reported [index] == seq)
            return true;
    return false;
}

//  Remember seq as reported; the set holds only seqs above acked_seq
static void
s_remember (s_sender_t *self, uint64_t seq)
{
    size_t kept = 0;
    for (size_t index = 0; index < self->reported_count; index++)
        if (self->reported [index] > self->news.acked_seq)
            self->reported [kept++] = self->reported [index];
    self->reported_count = kept;
    if (kept == self->reported_size) {
        size_t size = kept ? 2 * kept : 64;
        uint64_t *grown = realloc (self->reported, size * sizeof *grown);
        if (!grown)
            return;                 //  it may be reported twice, no worse
        self->reported = grown;
        self->reported_size = size;
    }
    self->reported [self->reported_count++] = seq;
}

//  A rejection of one of ours that is not settled or reported yet
static void
s_rejection (s_sender_t *self, const audit_ackmsg_rejection_t *entry)
{
    if (entry->seq <= self->news.acked_seq || entry->seq > self->news.durable_seq
    ||  s_reported (self, entry->seq))
        return;
    s_remember (self, entry->seq);
    self->news.rejected++;
    const audit_producer_options_t *options = &self->args->options;
    if (options->on_rejected) {
        audit_producer_rejection_t rejection = {
            entry->seq, entry->event_id, entry->reason, entry->field
        };
        options->on_rejected (options->on_rejected_arg, &rejection);
    }
}

//  An ack above every seq this outbox ever wrote is about another run of
//  this producer_id: it settles nothing of ours
static void
s_apply (s_sender_t *self, const audit_ackmsg_t *ack)
{
    for (size_t index = 0; index < ack->rejected_count; index++)
        s_rejection (self, &ack->rejected [index]);
    int64_t now = zclock_mono ();
    if (ack->seq > self->news.acked_seq && ack->seq <= self->news.durable_seq) {
        self->news.acked += ack->seq - self->news.acked_seq;
        self->news.acked_seq = ack->seq;
        self->progress_ms = now;
        self->retry_ms = self->args->options.retry_ms;
    }
    self->answered = true;
    self->heard_ms = now;
}

static void
s_on_acks (s_sender_t *self)
{
    void *handle = zsock_resolve (self->args->dealer);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_more (&frame) == 0
        &&  audit_ackmsg_parse (zmq_msg_data (&frame), zmq_msg_size (&frame),
                                self->args->producer_id, self->ack) == 0)
            s_apply (self, self->ack);
        else
            audit_log_warn ("msg=bad_ack");
    }
    zmq_msg_close (&frame);
}

//  ---------------------------------------------------------------------
//  Subscriptions: the XPUB hands up each subscription of the ingest
//  worker's SUB (XPUB_VERBOSE: every one, repeats included)

static bool
s_covers (const uint8_t *prefix, size_t len, const char *topic)
{
    return len <= strlen (topic) && memcmp (prefix, topic, len) == 0;
}

static void
s_subscription (s_sender_t *self, const uint8_t *data, size_t size)
{
    if (size < 1 || data [0] > 1)
        return;
    bool on = data [0] == 1;
    bool audit = s_covers (data + 1, size - 1, AUDIT_TOPIC_AUDIT);
    bool mq = s_covers (data + 1, size - 1, AUDIT_TOPIC_MQ);
    if (audit)
        self->sub_audit = on;
    if (mq)
        self->sub_mq = on;
    if (on && (audit || mq) && self->ever_subscribed) {
        //  a new connection: what was sent on the old one may be lost.
        //  Resend from the acknowledged seq at once (the SUB is there),
        //  and say hello, so that this connection's acks come
        self->sent_upto = self->news.acked_seq;
        s_hello (self);
    }
    if (on && (audit || mq))
        self->ever_subscribed = true;
}

static void
s_on_subscriptions (s_sender_t *self)
{
    void *handle = zsock_resolve (self->args->pub);
    zmq_msg_t frame;
    zmq_msg_init (&frame);
    while (zmq_msg_recv (&frame, handle, ZMQ_DONTWAIT) >= 0)
        s_subscription (self, zmq_msg_data (&frame), zmq_msg_size (&frame));
    zmq_msg_close (&frame);
}

//  ---------------------------------------------------------------------
//  The loop

static void
s_on_pipe (s_sender_t *self)
{
    zmsg_t *msg = zmsg_recv (self->pipe);
    if (!msg)
        self->terminated = true;
    else
    if (zmsg_signal (msg) < 0) {
        char *command = zmsg_popstr (msg);
        if (command && streq (command, "$TERM"))
            self->terminated = true;
        free (command);
    }
    zmsg_destroy (&msg);
}

static void
s_report (s_sender_t *self)
{
    self->news.ready = s_ready (self);
    self->news.held = self->news.durable_seq - self->news.acked_seq + s_count (self->unwritten);
    audit_handoff_report (self->args->handoff, &self->news);
}

//  Durable events not sent and room in the window to send them: a full
//  window waits in the poll for the acks that open it, it does not spin
static bool
s_sendable (s_sender_t *self)
{
    uint64_t acked = self->news.acked_seq;
    uint64_t sent = self->sent_upto > acked ? self->sent_upto : acked;
    return s_ready (self) && sent < self->news.durable_seq
        && sent - acked < self->args->options.window;
}

static void
s_turn (s_sender_t *self)
{
    bool busy = s_sendable (self);
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->pipe), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->args->pub), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->args->dealer), 0, ZMQ_POLLIN, 0 },
    };
    long timeout = busy ? 0 : self->news.durable_seq > self->news.acked_seq ? 10 : 100;
    if (zmq_poll (items, 3, timeout) < 0 && errno != EINTR) {
        self->terminated = true;
        return;
    }
    if (items [0].revents & ZMQ_POLLIN)
        s_on_pipe (self);
    if (items [1].revents & ZMQ_POLLIN)
        s_on_subscriptions (self);
    if (items [2].revents & ZMQ_POLLIN)
        s_on_acks (self);
    s_commit (self);
    s_send (self);
    s_timers (self);
    s_report (self);
}

void
audit_sender_actor (zsock_t *pipe, void *arg)
{
    audit_sender_args_t *args = arg;
    s_sender_t self = { .args = args, .pipe = pipe };
    self.ack = malloc (sizeof *self.ack);
    self.news = args->handoff->stats;   //  as new() set it, before any publish
    self.sent_upto = self.news.acked_seq;
    self.highest_sent = self.news.durable_seq;  //  all of those were sent, maybe
    self.retry_ms = args->options.retry_ms;
    zsock_set_xpub_verbose (args->pub, 1);
    zsock_signal (pipe, 0);
    while (self.ack && !self.terminated)
        s_turn (&self);
    s_commit (&self);               //  what was queued before $TERM
    s_report (&self);
    audit_handoff_free (self.unwritten);
    free (self.entries);
    free (self.reported);
    free (self.ack);
    zsock_destroy (&args->pub);
    zsock_destroy (&args->dealer);
    audit_outbox_destroy (&args->outbox);
}
