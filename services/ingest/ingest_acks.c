/*  =========================================================================
    ingest_acks - the acknowledgement ROUTER and its connections

    Per producer: its committed seq and the routing ids of the connections
    that said hello for it. The ROUTER is mandatory, so that a send to a
    connection that went away fails (and forgets it) instead of vanishing,
    and never blocks: a full queue drops that one ack.
    ========================================================================= */

#include "ingest_acks.h"
#include "ingest_settle.h"

#include "audit_ident.h"
#include "audit_keys.h"
#include "audit_log.h"
#include "audit_mp.h"
#include "audit_socket.h"

#include <msgpack.h>

typedef struct {
    uint64_t acked;
    zframe_t *peers [INGEST_ACKS_PEERS_MAX];
    int peer_count;
} s_producer_t;

struct _ingest_acks_t {
    zsock_t *router;
    zhashx_t *producers;            //  producer_id -> s_producer_t *
    size_t producers_max;
    msgpack_sbuffer buffer;
    bool warned;                    //  a bad message was logged already
    audit_zap_t *zap;               //  with CURVE: whose certificate is whose
};

static void
s_producer_destroy (void **item)
{
    s_producer_t *producer = (s_producer_t *) *item;
    for (int index = 0; index < producer->peer_count; index++)
        zframe_destroy (&producer->peers [index]);
    free (producer);
    *item = NULL;
}

ingest_acks_t *
ingest_acks_new (const char *endpoint, size_t producers_max, const audit_curve_t *curve,
                 bool allow_plaintext)
{
    ingest_acks_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    audit_socket_options_t options = {
        .type = ZMQ_ROUTER, .endpoint = endpoint, .bind = true,
        .sndhwm = INGEST_ACKS_SNDHWM, .maxmsgsize = 64 * 1024,
        .curve = curve, .zap_domain = AUDIT_CURVE_DOMAIN_PRODUCER,
        .allow_plaintext = allow_plaintext
    };
    self->router = audit_socket_new (&options, NULL, 0);
    self->producers = zhashx_new ();
    self->producers_max = producers_max;
    msgpack_sbuffer_init (&self->buffer);
    if (!self->router || !self->producers) {
        ingest_acks_destroy (&self);
        return NULL;
    }
    zsock_set_router_mandatory (self->router, 1);
    zhashx_set_destructor (self->producers, s_producer_destroy);
    return self;
}

void
ingest_acks_destroy (ingest_acks_t **self_p)
{
    ingest_acks_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->router);
        zhashx_destroy (&self->producers);
        msgpack_sbuffer_destroy (&self->buffer);
        free (self);
        *self_p = NULL;
    }
}

void
ingest_acks_guard (ingest_acks_t *self, audit_zap_t *zap)
{
    self->zap = zap;
}

zsock_t *
ingest_acks_socket (ingest_acks_t *self)
{
    return self->router;
}

//  The entry of a producer, made when new and there is room; else NULL
static s_producer_t *
s_producer (ingest_acks_t *self, const char *producer_id)
{
    s_producer_t *producer = (s_producer_t *) zhashx_lookup (self->producers, producer_id);
    if (producer || zhashx_size (self->producers) >= self->producers_max)
        return producer;
    producer = (s_producer_t *) calloc (1, sizeof *producer);
    if (producer)
        zhashx_insert (self->producers, producer_id, producer);
    return producer;
}

void
ingest_acks_load (ingest_acks_t *self, const char *producer_id, uint64_t acked)
{
    s_producer_t *producer = s_producer (self, producer_id);
    if (producer)
        producer->acked = acked;
}

//  --------------------------------------------------------------------------
//  Sending

static void
s_pack_str (msgpack_packer *packer, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str (packer, len);
    msgpack_pack_str_body (packer, text, len);
}

static void
s_pack_key (msgpack_packer *packer, audit_ack_key_t key)
{
    s_pack_str (packer, audit_proto_ack_key (key));
}

static void
s_pack_str_or_nil (msgpack_packer *packer, const char *text)
{
    if (text && *text)
        s_pack_str (packer, text);
    else
        msgpack_pack_nil (packer);
}

//  {v, op: "ack", producer_id, seq, rejected: [ ... rejected entries of
//  the array header's count follow, packed by the caller
static void
s_pack_head (ingest_acks_t *self, msgpack_packer *packer, const char *producer_id,
             uint64_t seq, uint32_t rejected)
{
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_pack_map (packer, 5);
    s_pack_key (packer, AUDIT_ACK_KEY_V);
    msgpack_pack_uint64 (packer, AUDIT_PROTO_VERSION);
    s_pack_key (packer, AUDIT_ACK_KEY_OP);
    s_pack_str (packer, audit_proto_ack_op (AUDIT_ACK_OP_ACK));
    s_pack_key (packer, AUDIT_ACK_KEY_PRODUCER_ID);
    s_pack_str (packer, producer_id);
    s_pack_key (packer, AUDIT_ACK_KEY_SEQ);
    msgpack_pack_uint64 (packer, seq);
    s_pack_key (packer, AUDIT_ACK_KEY_REJECTED);
    msgpack_pack_array (packer, rejected);
}

static void
s_pack_rejected (msgpack_packer *packer, const ingest_batch_settled_t *settled)
{
    msgpack_pack_map (packer, 4);
    s_pack_key (packer, AUDIT_ACK_KEY_SEQ);
    msgpack_pack_uint64 (packer, settled->seq);
    s_pack_key (packer, AUDIT_ACK_KEY_EVENT_ID);
    s_pack_str_or_nil (packer, settled->event_id);
    s_pack_key (packer, AUDIT_ACK_KEY_REASON);
    s_pack_str (packer, audit_proto_reason_name ((audit_reason_t) settled->reason));
    s_pack_key (packer, AUDIT_ACK_KEY_FIELD);
    s_pack_str_or_nil (packer, settled->field);
}

//  Send the packed buffer to peer; 0, or -1 when the peer is gone
static int
s_send (ingest_acks_t *self, zframe_t *peer)
{
    void *socket = zsock_resolve (self->router);
    if (zmq_send (socket, zframe_data (peer), zframe_size (peer), ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
        return errno == EHOSTUNREACH? -1: 0;
    zmq_send (socket, self->buffer.data, self->buffer.size, ZMQ_DONTWAIT);
    return 0;
}

//  Send the packed buffer to every peer of producer, forgetting the gone
static void
s_send_all (ingest_acks_t *self, s_producer_t *producer)
{
    for (int index = 0; index < producer->peer_count; )
        if (s_send (self, producer->peers [index]) == 0)
            index++;
        else {
            zframe_destroy (&producer->peers [index]);
            producer->peers [index] = producer->peers [--producer->peer_count];
        }
}

//  The next rejected entry of producer index `which` at or after *at
static const ingest_batch_settled_t *
s_next_rejected (const ingest_batch_t *batch, uint32_t which, size_t *at)
{
    for (; *at < batch->settled_count; (*at)++) {
        const ingest_batch_settled_t *settled = &batch->settled [*at];
        if (settled->producer == which && settled->reason != INGEST_SETTLE_ACCEPTED) {
            (*at)++;
            return settled;
        }
    }
    return NULL;
}

//  The seq a message that is not the last of its batch carries: just below
//  the first rejection still to come, so that a producer that has heard
//  seq N has heard every rejection up to N, even when it stops reading
//  there; never below what it heard before, never above the settled seq
static uint64_t
s_chunk_seq (const ingest_batch_t *batch, uint32_t which, size_t at, uint64_t floor,
             uint64_t acked)
{
    const ingest_batch_settled_t *next = s_next_rejected (batch, which, &at);
    uint64_t seq = next && next->seq > 0 && next->seq - 1 < acked? next->seq - 1: acked;
    return seq < floor? floor: seq;
}

//  One producer's acks for a batch: its rejections in messages of at most
//  AUDIT_ACK_REJECTED_MAX, at least one message; the last carries the
//  settled seq
static void
s_ack_producer (ingest_acks_t *self, s_producer_t *producer, const ingest_batch_t *batch,
                uint32_t which, uint32_t rejected, uint64_t floor)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->buffer, msgpack_sbuffer_write);
    size_t at = 0;
    do {
        uint32_t chunk = rejected < AUDIT_ACK_REJECTED_MAX? rejected: AUDIT_ACK_REJECTED_MAX;
        size_t start = at;
        for (uint32_t index = 0; index < chunk; index++)
            s_next_rejected (batch, which, &at);
        uint64_t seq = rejected > chunk
                     ? s_chunk_seq (batch, which, at, floor, producer->acked): producer->acked;
        floor = seq;
        s_pack_head (self, &packer, batch->producers [which], seq, chunk);
        for (uint32_t index = 0; index < chunk; index++)
            s_pack_rejected (&packer, s_next_rejected (batch, which, &start));
        rejected -= chunk;
        s_send_all (self, producer);
    } while (rejected > 0 && producer->peer_count > 0);
}

void
ingest_acks_batch (ingest_acks_t *self, const ingest_batch_t *batch)
{
    if (!batch->committed || batch->producer_count == 0)
        return;
    uint32_t rejected [INGEST_BATCH_PRODUCERS_MAX] = { 0 };
    for (size_t index = 0; index < batch->settled_count; index++)
        rejected [batch->settled [index].producer] +=
            batch->settled [index].reason != INGEST_SETTLE_ACCEPTED;
    for (uint32_t which = 0; which < batch->producer_count; which++) {
        if (batch->acked [which] == INGEST_BATCH_UNFOLLOWED)
            continue;
        s_producer_t *producer = s_producer (self, batch->producers [which]);
        if (!producer)
            continue;
        //  A new run starts over from 0: no floor from the run before
        uint64_t floor = producer->acked <= batch->acked [which]? producer->acked: 0;
        producer->acked = batch->acked [which];
        if (producer->peer_count > 0)
            s_ack_producer (self, producer, batch, which, rejected [which], floor);
    }
}

//  --------------------------------------------------------------------------
//  Receiving

typedef struct {
    audit_mp_reader_t reader;
    bool version_ok, op_ok;
    audit_ident_t producer_id;
} s_hello_t;

static const audit_keys_key_t s_hello_keys [] = {
    AUDIT_KEYS_KEY ("v"), AUDIT_KEYS_KEY ("op"), AUDIT_KEYS_KEY ("producer_id")
};

static int
s_hello_value (void *arg, int key)
{
    s_hello_t *hello = (s_hello_t *) arg;
    uint64_t number;
    const char *text;
    uint32_t len;
    if (key == 0)
        return audit_mp_read_uint (&hello->reader, &number) != AUDIT_MP_OK
            || !(hello->version_ok = number == AUDIT_PROTO_VERSION)? -1: 0;
    if (audit_mp_read_str (&hello->reader, &text, &len) != AUDIT_MP_OK)
        return -1;
    if (key == 1) {
        const char *op = audit_proto_ack_op (AUDIT_ACK_OP_HELLO);
        hello->op_ok = len == strlen (op) && memcmp (text, op, len) == 0;
        return hello->op_ok? 0: -1;
    }
    if (!audit_ident_is_valid (text, len))
        return -1;
    memcpy (hello->producer_id, text, len);
    hello->producer_id [len] = 0;
    return 0;
}

//  0 and the hello's producer_id, or -1 when the body is not a hello
static int
s_hello_decode (const void *data, size_t size, s_hello_t *hello)
{
    memset (hello, 0, sizeof *hello);
    audit_mp_reader_init (&hello->reader, data, size);
    audit_keys_table_t table = { s_hello_keys, 3, AUDIT_KEYS_DROP, s_hello_value, NULL };
    audit_keys_walk_t walk;
    if (audit_keys_walk (&hello->reader, &table, hello, &walk) != AUDIT_KEYS_OK)
        return -1;
    return hello->version_ok && hello->op_ok && hello->producer_id [0]? 0: -1;
}

//  Remember the connection for the producer (once), and answer with the
//  seq settled so far
static void
s_hello (ingest_acks_t *self, zframe_t **peer_p, const char *producer_id)
{
    s_producer_t *producer = s_producer (self, producer_id);
    bool known = false;
    for (int index = 0; producer && index < producer->peer_count; index++)
        known |= zframe_eq (producer->peers [index], *peer_p);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->buffer, msgpack_sbuffer_write);
    s_pack_head (self, &packer, producer_id, producer? producer->acked: 0, 0);
    s_send (self, *peer_p);
    if (producer && !known && producer->peer_count < INGEST_ACKS_PEERS_MAX)
        producer->peers [producer->peer_count++] = zframe_dup (*peer_p);
    zframe_destroy (peer_p);
}

static void
s_bad (ingest_acks_t *self, audit_counters_t *counters)
{
    audit_counters_count (counters, AUDIT_COUNTER_INGEST_ACK_MALFORMED, 1);
    if (!self->warned)
        audit_log_warn ("msg=ack_message_refused reason=not_a_hello"
                        " note=\"further ones are counted, not logged\"");
    self->warned = true;
}

//  With CURVE: true when the certificate of body's connection, still
//  allowed, names producer_id; else counted and logged once a minute
static bool
s_allowed (ingest_acks_t *self, zframe_t *body, const char *producer_id,
           audit_counters_t *counters)
{
    if (!self->zap)
        return true;
    const char *key = zframe_meta (body, AUDIT_CURVE_PROPERTY_KEY);
    const audit_certs_entry_t *entry = audit_zap_lookup (self->zap, key);
    if (entry && streq (entry->producer_id, producer_id))
        return true;
    audit_counters_count (counters, AUDIT_COUNTER_INGEST_ACK_REFUSED, 1);
    audit_zap_note (self->zap, "ack_hello_refused", key ? key : "-",
                    entry ? "bad_producer" : "key_removed");
    return false;
}

void
ingest_acks_recv (ingest_acks_t *self, audit_counters_t *counters)
{
    for (int count = 0; count < 1024 && (zsock_events (self->router) & ZMQ_POLLIN); count++) {
        zmsg_t *msg = zmsg_recv (self->router);
        if (!msg)
            return;
        zframe_t *peer = zmsg_pop (msg);
        zframe_t *body = zmsg_size (msg) == 1? zmsg_first (msg): NULL;
        s_hello_t hello;
        if (peer && body && s_hello_decode (zframe_data (body), zframe_size (body), &hello) == 0) {
            if (s_allowed (self, body, hello.producer_id, counters))
                s_hello (self, &peer, hello.producer_id);
        }
        else
            s_bad (self, counters);
        zframe_destroy (&peer);
        zmsg_destroy (&msg);
    }
}
