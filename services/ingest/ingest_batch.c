/*  =========================================================================
    ingest_batch - records waiting to be written in one transaction

    A packed record in the arena: its kind and received_ms, then per kind
      audit  the scalars, each present field (8 bytes of a UINT, else its
             text), org_id, actor_id, producer_id
      ops    timestamp, status, client_ip, method, path
      mq     message_id, timestamp, payload size, org_id, device_id, payload
    Texts are NUL-terminated; numbers are copied unaligned (memcpy).
    ========================================================================= */

#include "ingest_batch.h"
#include "ingest_settle.h"

#include <stdlib.h>
#include <string.h>

//  The fixed part of a packed event
typedef struct {
    int64_t timestamp_ms;
    uint64_t seq;
    audit_field_mask_t present;
    int32_t type;
    uint8_t event_id [AUDIT_UUID_SIZE];
    uint8_t has_seq;
} s_event_head_t;

//  --------------------------------------------------------------------------
//  Packing: each put is all or nothing; -1 when the arena is full

static int
s_put (ingest_batch_t *self, const void *data, size_t size)
{
    if (size > INGEST_BATCH_ARENA_SIZE - self->arena_used)
        return -1;
    memcpy (self->arena + self->arena_used, data, size);
    self->arena_used += size;
    return 0;
}

static int
s_put_text (ingest_batch_t *self, const char *text)
{
    return s_put (self, text, strlen (text) + 1);
}

static bool
s_is_number (int field)
{
    return audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT;
}

static int
s_pack_event (ingest_batch_t *self, const audit_event_t *event)
{
    s_event_head_t head = {
        .timestamp_ms = event->timestamp_ms, .seq = event->seq,
        .present = event->present, .type = (int32_t) event->type,
        .has_seq = event->has_seq
    };
    memcpy (head.event_id, event->event_id, AUDIT_UUID_SIZE);
    int rc = s_put (self, &head, sizeof head);
    for (int field = 0; rc == 0 && field < AUDIT_FIELD_COUNT; field++) {
        if (!(event->present & AUDIT_FIELD_BIT (field)))
            continue;
        rc = s_is_number (field)? s_put (self, &event->number [field], sizeof (uint64_t))
                                : s_put_text (self, event->text [field]);
    }
    if (rc == 0)
        rc = s_put_text (self, event->org_id);
    if (rc == 0)
        rc = s_put_text (self, event->actor_id);
    if (rc == 0)
        rc = s_put_text (self, event->producer_id);
    return rc;
}

static int
s_pack_ops (ingest_batch_t *self, const audit_ops_t *ops)
{
    if (s_put (self, &ops->timestamp_ms, sizeof ops->timestamp_ms) != 0
    ||  s_put (self, &ops->status, sizeof ops->status) != 0
    ||  s_put_text (self, ops->client_ip) != 0
    ||  s_put_text (self, ops->method) != 0)
        return -1;
    return s_put_text (self, ops->path);
}

static int
s_pack_mq (ingest_batch_t *self, const audit_mq_t *mq)
{
    uint64_t size = mq->payload_size;
    if (s_put (self, mq->message_id, AUDIT_UUID_SIZE) != 0
    ||  s_put (self, &mq->timestamp_ms, sizeof mq->timestamp_ms) != 0
    ||  s_put (self, &size, sizeof size) != 0
    ||  s_put_text (self, mq->org_id) != 0
    ||  s_put_text (self, mq->device_id) != 0)
        return -1;
    return s_put (self, mq->payload, mq->payload_size);
}

static int
s_pack (ingest_batch_t *self, const audit_record_t *record)
{
    uint8_t kind = (uint8_t) record->kind;
    if (s_put (self, &kind, 1) != 0
    ||  s_put (self, &record->received_ms, sizeof record->received_ms) != 0)
        return -1;
    switch (record->kind) {
        case AUDIT_TOPIC_KIND_AUDIT: return s_pack_event (self, &record->u.event);
        case AUDIT_TOPIC_KIND_OPS:   return s_pack_ops (self, &record->u.ops);
        case AUDIT_TOPIC_KIND_MQ:    return s_pack_mq (self, &record->u.mq);
        default:                     return 0;
    }
}

//  --------------------------------------------------------------------------
//  Unpacking: the arena was written by s_pack, so it is trusted

static const uint8_t *
s_get (const uint8_t *at, void *data, size_t size)
{
    memcpy (data, at, size);
    return at + size;
}

static const uint8_t *
s_get_text (const uint8_t *at, char *text)
{
    size_t size = strlen ((const char *) at) + 1;
    memcpy (text, at, size);
    return at + size;
}

static const uint8_t *
s_unpack_event (const uint8_t *at, audit_event_t *event)
{
    s_event_head_t head;
    at = s_get (at, &head, sizeof head);
    event->timestamp_ms = head.timestamp_ms;
    event->seq = head.seq;
    event->present = head.present;
    event->type = (audit_event_type_t) head.type;
    event->has_seq = head.has_seq;
    memcpy (event->event_id, head.event_id, AUDIT_UUID_SIZE);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        event->text [field][0] = '\0';
        event->number [field] = 0;
        if (!(event->present & AUDIT_FIELD_BIT (field)))
            continue;
        at = s_is_number (field)? s_get (at, &event->number [field], sizeof (uint64_t))
                                : s_get_text (at, event->text [field]);
    }
    at = s_get_text (at, event->org_id);
    at = s_get_text (at, event->actor_id);
    return s_get_text (at, event->producer_id);
}

static void
s_unpack_ops (const uint8_t *at, audit_ops_t *ops)
{
    at = s_get (at, &ops->timestamp_ms, sizeof ops->timestamp_ms);
    at = s_get (at, &ops->status, sizeof ops->status);
    at = s_get_text (at, ops->client_ip);
    at = s_get_text (at, ops->method);
    s_get_text (at, ops->path);
}

static void
s_unpack_mq (const uint8_t *at, audit_mq_t *mq)
{
    uint64_t size;
    at = s_get (at, mq->message_id, AUDIT_UUID_SIZE);
    at = s_get (at, &mq->timestamp_ms, sizeof mq->timestamp_ms);
    at = s_get (at, &size, sizeof size);
    at = s_get_text (at, mq->org_id);
    at = s_get_text (at, mq->device_id);
    mq->payload = at;
    mq->payload_size = (size_t) size;
}

//  --------------------------------------------------------------------------

ingest_batch_t *
ingest_batch_new (size_t capacity)
{
    ingest_batch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = capacity;
    self->offsets = calloc (capacity, sizeof *self->offsets);
    self->outcomes = calloc (capacity, sizeof *self->outcomes);
    self->arena = malloc (INGEST_BATCH_ARENA_SIZE);
    self->counters = audit_counters_new ();
    self->settled = calloc (capacity, sizeof *self->settled);
    self->producers = calloc (INGEST_BATCH_PRODUCERS_MAX, sizeof *self->producers);
    self->acked = calloc (INGEST_BATCH_PRODUCERS_MAX, sizeof *self->acked);
    self->producer_at = zhashx_new ();
    if (!self->offsets || !self->outcomes || !self->arena || !self->counters
    ||  !self->settled || !self->producers || !self->acked || !self->producer_at)
        ingest_batch_destroy (&self);
    return self;
}

void
ingest_batch_destroy (ingest_batch_t **self_p)
{
    ingest_batch_t *self = *self_p;
    if (self) {
        free (self->offsets);
        free (self->outcomes);
        free (self->arena);
        audit_counters_destroy (&self->counters);
        free (self->settled);
        free (self->producers);
        free (self->acked);
        zhashx_destroy (&self->producer_at);
        free (self);
        *self_p = NULL;
    }
}

audit_record_t *
ingest_batch_slot (ingest_batch_t *self)
{
    return self->count < self->capacity && self->settled_count < self->capacity
         ? &self->scratch : NULL;
}

//  The batch's index of a producer, added when new; -1 when it is full
static int64_t
s_producer_index (ingest_batch_t *self, const char *producer_id)
{
    size_t at = (size_t) (uintptr_t) zhashx_lookup (self->producer_at, producer_id);
    if (at)
        return (int64_t) at - 1;
    if (self->producer_count == INGEST_BATCH_PRODUCERS_MAX)
        return -1;
    snprintf (self->producers [self->producer_count], sizeof (audit_ident_t), "%s",
              producer_id);
    zhashx_insert (self->producer_at, producer_id,
                   (void *) (uintptr_t) (self->producer_count + 1));
    return (int64_t) self->producer_count++;
}

int
ingest_batch_settle (ingest_batch_t *self, const char *producer_id, uint64_t seq,
                     audit_reason_t reason, const char *event_id, const char *field)
{
    int64_t producer = self->settled_count < self->capacity
                     ? s_producer_index (self, producer_id) : -1;
    if (producer < 0)
        return -1;
    ingest_batch_settled_t *settled = &self->settled [self->settled_count++];
    settled->seq = seq;
    settled->producer = (uint32_t) producer;
    settled->reason = (uint8_t) reason;
    snprintf (settled->event_id, sizeof settled->event_id, "%s", event_id? event_id: "");
    settled->field = field;
    return 0;
}

int
ingest_batch_commit (ingest_batch_t *self, int64_t now_ms)
{
    size_t start = self->arena_used;
    _Static_assert (INGEST_BATCH_ARENA_SIZE <= UINT32_MAX, "offsets are 32-bit");
    if (s_pack (self, &self->scratch) != 0) {
        self->arena_used = start;       //  nothing of it stays
        return -1;
    }
    if (self->scratch.kind < AUDIT_TOPIC_KIND_UNKNOWN)
        self->kinds |= 1u << self->scratch.kind;
    self->offsets [self->count++] = (uint32_t) start;
    if (self->first_ms == 0)
        self->first_ms = now_ms;
    return 0;
}

const audit_record_t *
ingest_batch_record (ingest_batch_t *self, size_t index)
{
    audit_record_t *record = &self->scratch;
    const uint8_t *at = self->arena + self->offsets [index];
    uint8_t kind;
    at = s_get (at, &kind, 1);
    record->kind = (audit_topic_kind_t) kind;
    at = s_get (at, &record->received_ms, sizeof record->received_ms);
    if (record->kind == AUDIT_TOPIC_KIND_AUDIT)
        s_unpack_event (at, &record->u.event);
    else
    if (record->kind == AUDIT_TOPIC_KIND_OPS)
        s_unpack_ops (at, &record->u.ops);
    else
    if (record->kind == AUDIT_TOPIC_KIND_MQ)
        s_unpack_mq (at, &record->u.mq);
    return record;
}

bool
ingest_batch_has_work (ingest_batch_t *self)
{
    return self->count > 0 || self->received > 0 || audit_counters_size (self->counters) > 0;
}

void
ingest_batch_reset (ingest_batch_t *self)
{
    self->count = 0;
    self->kinds = 0;
    self->arena_used = 0;
    self->first_ms = 0;
    self->received = 0;
    audit_counters_clear (self->counters);
    self->settled_count = 0;
    self->producer_count = 0;
    zhashx_purge (self->producer_at);
    self->committed = false;
}
