/*  =========================================================================
    audit_decode - one pass from MessagePack bytes to a validated record

    Each body is walked once, key by key, by audit_walk: a known key's
    value is checked here and copied into the record, any other key's value
    is skipped unread and only its (sanitised) name is reported. An audit
    event's keys are the envelope here and the rows of audit_fields.def;
    the ops and mq bodies are their tables (audit_ops_fields.def,
    audit_mq_fields.def) read by one walker of fixed-shape bodies.
    Nothing here allocates: this is the ingest hot path.
    ========================================================================= */

#include "audit_decode.h"
#include "audit_walk.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

//  ---------------------------------------------------------------------
//  Audit events

//  Envelope keys, then the resource fields in audit_fields.def order
enum {
    S_EVENT_V, S_EVENT_ID, S_EVENT_TYPE, S_EVENT_TIMESTAMP, S_EVENT_ORG_ID,
    S_EVENT_ACTOR_ID, S_EVENT_PRODUCER_ID, S_EVENT_SEQ, S_EVENT_FIELDS
};
#define S_EVENT_KEY_COUNT   (S_EVENT_FIELDS + AUDIT_FIELD_COUNT)
#define S_EVENT_REQUIRED    ((1ULL << S_EVENT_PRODUCER_ID) - 1)
//  The keys met are a 64-bit set: a field row beyond it must not compile
_Static_assert (S_EVENT_KEY_COUNT <= AUDIT_KEYS_MAX, "an event has more keys than the key set holds");

static const audit_keys_key_t s_event_keys [S_EVENT_KEY_COUNT] = {
    AUDIT_KEYS_KEY ("v"), AUDIT_KEYS_KEY ("event_id"), AUDIT_KEYS_KEY ("event_type"),
    AUDIT_KEYS_KEY ("timestamp"), AUDIT_KEYS_KEY ("org_id"), AUDIT_KEYS_KEY ("actor_id"),
    AUDIT_KEYS_KEY ("producer_id"), AUDIT_KEYS_KEY ("seq"),
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) AUDIT_KEYS_KEY (key),
#include "audit_fields.def"
#undef AUDIT_FIELD
};

//  Event type names with their lengths, so a lookup compares lengths first
static const audit_keys_key_t s_event_types [AUDIT_EVENT_COUNT] = {
#define AUDIT_EVENT(NAME, name, cat, req, opt, reserved) \
    [AUDIT_EVENT_##NAME] = AUDIT_KEYS_KEY (name),
#include "audit_events.def"
#undef AUDIT_EVENT
};

typedef struct {
    audit_event_t *event;
    bool type_known;
    audit_field_mask_t bad;             //  resource fields that broke their rule
} s_event_walk_t;

static audit_walk_value_t
s_event_type (audit_walk_t *self, s_event_walk_t *walk)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = audit_walk_str (self, &text, &len);
    if (value != AUDIT_WALK_OK)
        return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
    int type = audit_keys_find (s_event_types, AUDIT_EVENT_COUNT, text, len);
    if (type < 0) {
        audit_walk_fault (self, AUDIT_REASON_UNKNOWN_TYPE);
        return AUDIT_WALK_OK;
    }
    walk->event->type = (audit_event_type_t) type;
    walk->type_known = true;
    if (audit_proto_event_info (walk->event->type)->reserved)
        audit_walk_fault (self, AUDIT_REASON_RESERVED_TYPE);
    return AUDIT_WALK_OK;
}

//  A resource field is kept whatever the type: whether the type allows it
//  is known only after the walk (event_type may come last), so a broken
//  value is noted rather than faulted, and judged in s_event_finish
static audit_walk_value_t
s_event_field (audit_walk_t *self, s_event_walk_t *walk, audit_field_t field)
{
    const audit_field_info_t *info = audit_proto_field_info (field);
    audit_event_t *event = walk->event;
    audit_walk_value_t value = info->kind == AUDIT_KIND_IDENT?
        audit_walk_ident (self, event->text [field]):
        audit_walk_uint (self, info->min, info->max, &event->number [field]);
    if (value == AUDIT_WALK_OK)
        event->present |= AUDIT_FIELD_BIT (field);
    else {
        event->number [field] = 0;
        walk->bad |= AUDIT_FIELD_BIT (field);
    }
    return value;
}

static audit_walk_value_t
s_event_key (audit_walk_t *self, int key, void *record)
{
    s_event_walk_t *walk = (s_event_walk_t *) record;
    audit_event_t *event = walk->event;
    audit_walk_value_t value;
    switch (key) {
        case S_EVENT_V:
            value = audit_walk_version (self);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_VERSION);
        case S_EVENT_ID:
            value = audit_walk_uuid (self, event->event_id);
            break;
        case S_EVENT_TYPE:
            return s_event_type (self, walk);
        case S_EVENT_TIMESTAMP:
            value = audit_walk_timestamp (self, &event->timestamp_ms);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_TIMESTAMP);
        case S_EVENT_ORG_ID:
            value = audit_walk_ident (self, event->org_id);
            break;
        case S_EVENT_ACTOR_ID:
            value = audit_walk_ident (self, event->actor_id);
            break;
        case S_EVENT_PRODUCER_ID:
            value = audit_walk_ident (self, event->producer_id);
            if (value == AUDIT_WALK_OK)
                strcpy (self->info->producer_id, event->producer_id);
            break;
        case S_EVENT_SEQ:
            value = audit_walk_uint (self, 0, UINT64_MAX, &event->seq);
            event->has_seq = value == AUDIT_WALK_OK;
            self->info->seq = event->seq;
            self->info->has_seq = event->has_seq;
            break;
        default:
            value = s_event_field (self, walk, (audit_field_t) (key - S_EVENT_FIELDS));
            return value == AUDIT_WALK_MALFORMED? AUDIT_WALK_MALFORMED: AUDIT_WALK_OK;
    }
    return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

//  The key name of the first resource field in mask
static const char *
s_first_field (audit_field_mask_t mask)
{
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (mask & AUDIT_FIELD_BIT (field))
            return s_event_keys [S_EVENT_FIELDS + field].name;
    return NULL;
}

//  After the walk, when the type is known: fields the type does not allow
//  are dropped like any unknown key and taken out of the record; then the
//  allowed ones are checked against the catalogue
static void
s_event_finish (audit_walk_t *self, s_event_walk_t *walk)
{
    audit_event_t *event = walk->event;
    if ((self->seen & S_EVENT_REQUIRED) != S_EVENT_REQUIRED)
        audit_walk_fault_field (self, AUDIT_REASON_MISSING_FIELD,
                                audit_walk_first_missing (s_event_keys, S_EVENT_KEY_COUNT,
                                                          S_EVENT_REQUIRED, self->seen));
    const audit_event_info_t *row = walk->type_known?
        audit_proto_event_info (event->type): NULL;
    audit_field_mask_t allowed = row? row->required | row->optional: 0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        audit_field_mask_t bit = AUDIT_FIELD_BIT (field);
        if (!((event->present | walk->bad) & bit) || (allowed & bit))
            continue;
        if (row) {
            const audit_keys_key_t *key = &s_event_keys [S_EVENT_FIELDS + field];
            audit_walk_drop (self, key->name, key->len);
        }
        memset (event->text [field], 0, sizeof event->text [field]);
        event->number [field] = 0;
        event->present &= ~bit;
        walk->bad &= ~bit;
    }
    if (!row)
        return;                         //  rejected already, for the type
    if (walk->bad)
        audit_walk_fault_field (self, AUDIT_REASON_BAD_FIELD, s_first_field (walk->bad));
    audit_field_mask_t missing = row->required & ~(event->present | walk->bad);
    if (missing)
        audit_walk_fault_field (self, AUDIT_REASON_MISSING_FIELD, s_first_field (missing));
}

int
audit_decode_event (const void *data, size_t size, int64_t now_ms,
                    audit_event_t *event, audit_decode_info_t *info)
{
    audit_walk_t self;
    audit_walk_init (&self, data, size, now_ms, info);
    memset (event, 0, sizeof *event);
    event->type = AUDIT_EVENT_COUNT;    //  none yet
    s_event_walk_t walk = { .event = event };
    bool malformed = size > AUDIT_EVENT_MAX_BYTES
        || audit_walk_map (&self, s_event_keys, S_EVENT_KEY_COUNT, s_event_key, &walk) != 0;
    if (!malformed)
        s_event_finish (&self, &walk);
    return audit_walk_outcome (&self, malformed, event, sizeof *event);
}

//  ---------------------------------------------------------------------
//  Bodies of a fixed shape, ops and mq: their keys, what each value must
//  be, its limits and whether it is required are the rows of
//  audit_ops_fields.def and audit_mq_fields.def, and each row names the
//  record member its value goes to. Nothing of the shape is spelled here.

typedef struct {
    audit_body_type_t type;
    uint64_t min, max;
    size_t at, size;                    //  the member's offset and size; 0 for v
} s_body_field_t;

typedef struct {
    const audit_keys_key_t *keys;
    const s_body_field_t *fields;
    int count;
    uint64_t required;                  //  a bit per key
    size_t max_bytes;                   //  a longer body is malformed
    int producer_key, seq_key;          //  their rows, learnt for the ack; -1
} s_body_t;

//  Where a row's value goes, its member's offset and size: v is kept
//  nowhere (its member is empty), every other type in its member
#define S_AT(record, member)        offsetof (record, member)
#define S_SIZE(record, member)      sizeof (((record *) 0)->member)
#define S_AT_VERSION(record, member)    0
#define S_SIZE_VERSION(record, member)  0
#define S_AT_TIMESTAMP  S_AT
#define S_SIZE_TIMESTAMP S_SIZE
#define S_AT_IDENT      S_AT
#define S_SIZE_IDENT    S_SIZE
#define S_AT_UUID       S_AT
#define S_SIZE_UUID     S_SIZE
#define S_AT_UINT       S_AT
#define S_SIZE_UINT     S_SIZE
#define S_AT_IP         S_AT
#define S_SIZE_IP       S_SIZE
#define S_AT_METHOD     S_AT
#define S_SIZE_METHOD   S_SIZE
#define S_AT_PATH       S_AT
#define S_SIZE_PATH     S_SIZE
#define S_AT_PAYLOAD    S_AT
#define S_SIZE_PAYLOAD  S_SIZE

//  A body's tables from its rows: the keys, the fields, what is required,
//  and a compile-time check that each row fits its member
#define S_BODY_KEY(NAME, key, type, min, max, required, member) AUDIT_KEYS_KEY (key),
#define S_BODY_FIELD(record, type, min, max, member) \
    { AUDIT_BODY_##type, min, max, S_AT_##type (record, member), S_SIZE_##type (record, member) },
#define S_BODY_FITS(record, type, max, member) \
    && S_FITS (AUDIT_BODY_##type, S_SIZE_##type (record, member), max)

//  True when a member of size bytes holds a value of the type: checked for
//  every row at compile time, so a row and its member cannot disagree
#define S_FITS(type, size, max) ( \
    (type) == AUDIT_BODY_VERSION?   (size) == 0: \
    (type) == AUDIT_BODY_TIMESTAMP? (size) == sizeof (int64_t): \
    (type) == AUDIT_BODY_UUID?      (size) == AUDIT_UUID_SIZE: \
    (type) == AUDIT_BODY_PAYLOAD?   (size) == sizeof (const uint8_t *): \
    (type) == AUDIT_BODY_UINT?      ((size) == 1 || (size) == 2 || (size) == 4 || (size) == 8) \
                                    && ((uint64_t) (max) >> (4 * (size)) >> (4 * (size))) == 0: \
    (type) == AUDIT_BODY_IDENT?     (max) == AUDIT_IDENT_MAX && (size) == (max) + 1: \
                                    (size) == (uint64_t) (max) + 1)

//  A PAYLOAD member is followed by its length
_Static_assert (offsetof (audit_mq_t, payload_size) == offsetof (audit_mq_t, payload)
                + sizeof (const uint8_t *), "payload_size follows payload");

static const audit_keys_key_t s_ops_keys [AUDIT_OPS_FIELD_COUNT] = {
#define AUDIT_OPS_FIELD S_BODY_KEY
#include "audit_ops_fields.def"
#undef AUDIT_OPS_FIELD
};

static const s_body_field_t s_ops_fields [AUDIT_OPS_FIELD_COUNT] = {
#define AUDIT_OPS_FIELD(NAME, key, type, min, max, required, member) \
    S_BODY_FIELD (audit_ops_t, type, min, max, member)
#include "audit_ops_fields.def"
#undef AUDIT_OPS_FIELD
};

static const s_body_t s_ops_body = {
    s_ops_keys, s_ops_fields, AUDIT_OPS_FIELD_COUNT, 0
#define AUDIT_OPS_FIELD(NAME, key, type, min, max, required, member) \
    | ((uint64_t) (required) << AUDIT_OPS_FIELD_##NAME)
#include "audit_ops_fields.def"
#undef AUDIT_OPS_FIELD
    , AUDIT_EVENT_MAX_BYTES, -1, -1
};

_Static_assert (AUDIT_OPS_FIELD_COUNT <= AUDIT_KEYS_MAX, "an ops record has more keys than the key set holds");
_Static_assert (1
#define AUDIT_OPS_FIELD(NAME, key, type, min, max, required, member) \
    S_BODY_FITS (audit_ops_t, type, max, member)
#include "audit_ops_fields.def"
#undef AUDIT_OPS_FIELD
    , "a row of audit_ops_fields.def does not fit its member of audit_ops_t");

//  An mq body carries a payload of up to 256 KiB, so it is held to that
//  plus room for its envelope (a 64 KiB limit would refuse payloads the
//  contract allows). The message_id goes to info->event_id: it is the id
//  the log line names.
static const audit_keys_key_t s_mq_keys [AUDIT_MQ_FIELD_COUNT] = {
#define AUDIT_MQ_FIELD S_BODY_KEY
#include "audit_mq_fields.def"
#undef AUDIT_MQ_FIELD
};

static const s_body_field_t s_mq_fields [AUDIT_MQ_FIELD_COUNT] = {
#define AUDIT_MQ_FIELD(NAME, key, type, min, max, required, member) \
    S_BODY_FIELD (audit_mq_t, type, min, max, member)
#include "audit_mq_fields.def"
#undef AUDIT_MQ_FIELD
};

static const s_body_t s_mq_body = {
    s_mq_keys, s_mq_fields, AUDIT_MQ_FIELD_COUNT, 0
#define AUDIT_MQ_FIELD(NAME, key, type, min, max, required, member) \
    | ((uint64_t) (required) << AUDIT_MQ_FIELD_##NAME)
#include "audit_mq_fields.def"
#undef AUDIT_MQ_FIELD
    , AUDIT_MQ_PAYLOAD_MAX + 4096, AUDIT_MQ_FIELD_PRODUCER_ID, AUDIT_MQ_FIELD_SEQ
};

_Static_assert (AUDIT_MQ_FIELD_COUNT <= AUDIT_KEYS_MAX, "an mq body has more keys than the key set holds");
_Static_assert (1
#define AUDIT_MQ_FIELD(NAME, key, type, min, max, required, member) \
    S_BODY_FITS (audit_mq_t, type, max, member)
#include "audit_mq_fields.def"
#undef AUDIT_MQ_FIELD
    , "a row of audit_mq_fields.def does not fit its member of audit_mq_t");

//  True when text is valid UTF-8 with no control character (C0 or DEL):
//  what a path may carry into a CSV cell or a terminal
static bool
s_is_text (const uint8_t *text, size_t len)
{
    size_t index = 0;
    while (index < len) {
        uint8_t byte = text [index];
        size_t more;                    //  continuation bytes that follow
        if (byte < 0x80)
            more = 0;
        else
        if (byte >= 0xc2 && byte < 0xe0)
            more = 1;
        else
        if (byte >= 0xe0 && byte < 0xf0)
            more = 2;
        else
        if (byte >= 0xf0 && byte < 0xf5)
            more = 3;
        else
            return false;               //  a continuation byte, or never valid
        if (byte < 0x20 || byte == 0x7f || more > len - index - 1)
            return false;
        uint32_t point = byte & (0x3f >> more);
        for (size_t next = 1; next <= more; next++) {
            if ((text [index + next] & 0xc0) != 0x80)
                return false;
            point = (point << 6) | (text [index + next] & 0x3f);
        }
        //  Overlong three- and four-byte forms, surrogates, beyond Unicode
        if ((more == 2 && (point < 0x800 || (point >= 0xd800 && point <= 0xdfff)))
        ||  (more == 3 && (point < 0x10000 || point > 0x10ffff)))
            return false;
        index += more + 1;
    }
    return true;
}

//  A str of the row's length, borrowed
static audit_walk_value_t
s_body_str (audit_walk_t *self, const s_body_field_t *field, const char **text, uint32_t *len)
{
    audit_walk_value_t value = audit_walk_str (self, text, len);
    if (value == AUDIT_WALK_OK && (*len < field->min || *len > field->max))
        return AUDIT_WALK_BAD;
    return value;
}

//  inet_pton wants a C string: the text is copied into the record first
static audit_walk_value_t
s_body_ip (audit_walk_t *self, const s_body_field_t *field, char *out)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = s_body_str (self, field, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    memcpy (out, text, len);
    out [len] = 0;
    uint8_t address [sizeof (struct in6_addr)];
    if (inet_pton (AF_INET, out, address) == 1 || inet_pton (AF_INET6, out, address) == 1)
        return AUDIT_WALK_OK;
    out [0] = 0;
    return AUDIT_WALK_BAD;
}

static audit_walk_value_t
s_body_method (audit_walk_t *self, const s_body_field_t *field, char *out)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = s_body_str (self, field, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    for (uint32_t index = 0; index < len; index++)
        if (text [index] < 'A' || text [index] > 'Z')
            return AUDIT_WALK_BAD;
    memcpy (out, text, len);
    out [len] = 0;
    return AUDIT_WALK_OK;
}

//  The limit applies to the path as sent; the query string and fragment
//  are cut before anything is checked or kept, so none of them is stored
static audit_walk_value_t
s_body_path (audit_walk_t *self, const s_body_field_t *field, char *out)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = s_body_str (self, field, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    if (text [0] != '/')
        return AUDIT_WALK_BAD;
    size_t kept = 1;
    while (kept < len && text [kept] != '?' && text [kept] != '#')
        kept++;
    if (!s_is_text ((const uint8_t *) text, kept))
        return AUDIT_WALK_BAD;
    memcpy (out, text, kept);
    out [kept] = 0;
    return AUDIT_WALK_OK;
}

//  A bin, borrowed from the frame: the pointer, then its size_t length
static audit_walk_value_t
s_body_payload (audit_walk_t *self, const s_body_field_t *field, uint8_t *at)
{
    const uint8_t *payload;
    uint32_t len;
    audit_mp_result_t rc = audit_mp_read_bin (&self->reader, &payload, &len);
    if (rc != AUDIT_MP_OK)
        return audit_walk_wrong_type (self, rc);
    if (len < field->min || len > field->max)
        return AUDIT_WALK_BAD;
    size_t size = len;
    memcpy (at, &payload, sizeof payload);
    memcpy (at + sizeof payload, &size, sizeof size);
    return AUDIT_WALK_OK;
}

//  An unsigned integer in the row's range, into a member of its size
static audit_walk_value_t
s_body_uint (audit_walk_t *self, const s_body_field_t *field, uint8_t *at)
{
    uint64_t number;
    audit_walk_value_t value = audit_walk_uint (self, field->min, field->max, &number);
    if (value != AUDIT_WALK_OK)
        return value;
    uint8_t u8 = (uint8_t) number;
    uint16_t u16 = (uint16_t) number;
    uint32_t u32 = (uint32_t) number;
    memcpy (at, field->size == 1? (void *) &u8: field->size == 2? (void *) &u16:
                field->size == 4? (void *) &u32: (void *) &number, field->size);
    return AUDIT_WALK_OK;
}

typedef struct {
    const s_body_t *body;
    uint8_t *record;
} s_body_walk_t;

//  The producer_id and seq go to info too: the record is wiped when the
//  body is rejected, and a rejection is acknowledged by them
static void
s_body_learn (audit_walk_t *self, const s_body_t *body, int key, const uint8_t *at)
{
    if (key == body->producer_key)
        snprintf (self->info->producer_id, sizeof self->info->producer_id, "%s",
                  (const char *) at);
    else
    if (key == body->seq_key) {
        memcpy (&self->info->seq, at, sizeof self->info->seq);
        self->info->has_seq = true;
    }
}

//  One key's value, checked by its row's type into its member
static audit_walk_value_t
s_body_key (audit_walk_t *self, int key, void *arg)
{
    s_body_walk_t *walk = (s_body_walk_t *) arg;
    const s_body_field_t *field = &walk->body->fields [key];
    uint8_t *at = walk->record + field->at;
    audit_walk_value_t value = AUDIT_WALK_BAD;
    switch (field->type) {
        case AUDIT_BODY_VERSION:
            value = audit_walk_version (self);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_VERSION);
        case AUDIT_BODY_TIMESTAMP: {
            int64_t ms = 0;
            value = audit_walk_timestamp (self, &ms);
            memcpy (at, &ms, sizeof ms);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_TIMESTAMP);
        }
        case AUDIT_BODY_IDENT:   value = audit_walk_ident (self, (char *) at); break;
        case AUDIT_BODY_UUID:    value = audit_walk_uuid (self, at); break;
        case AUDIT_BODY_UINT:    value = s_body_uint (self, field, at); break;
        case AUDIT_BODY_IP:      value = s_body_ip (self, field, (char *) at); break;
        case AUDIT_BODY_METHOD:  value = s_body_method (self, field, (char *) at); break;
        case AUDIT_BODY_PATH:    value = s_body_path (self, field, (char *) at); break;
        case AUDIT_BODY_PAYLOAD: value = s_body_payload (self, field, at); break;
    }
    if (value == AUDIT_WALK_OK)
        s_body_learn (self, walk->body, key, at);
    return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

static int
s_body_decode (const s_body_t *body, const void *data, size_t size, int64_t now_ms,
               void *record, size_t record_size, audit_decode_info_t *info)
{
    audit_walk_t self;
    audit_walk_init (&self, data, size, now_ms, info);
    memset (record, 0, record_size);
    s_body_walk_t walk = { body, (uint8_t *) record };
    bool malformed = size > body->max_bytes
        || audit_walk_map (&self, body->keys, body->count, s_body_key, &walk) != 0;
    if (!malformed && (self.seen & body->required) != body->required)
        audit_walk_fault_field (&self, AUDIT_REASON_MISSING_FIELD,
                                audit_walk_first_missing (body->keys, body->count,
                                                          body->required, self.seen));
    return audit_walk_outcome (&self, malformed, record, record_size);
}

int
audit_decode_ops (const void *data, size_t size, int64_t now_ms,
                  audit_ops_t *ops, audit_decode_info_t *info)
{
    return s_body_decode (&s_ops_body, data, size, now_ms, ops, sizeof *ops, info);
}

int
audit_decode_mq (const void *data, size_t size, int64_t now_ms,
                 audit_mq_t *mq, audit_decode_info_t *info)
{
    return s_body_decode (&s_mq_body, data, size, now_ms, mq, sizeof *mq, info);
}

//  ---------------------------------------------------------------------

int
audit_decode_record (audit_topic_kind_t kind, const void *data, size_t size,
                     int64_t now_ms, audit_record_t *record,
                     audit_decode_info_t *info)
{
    record->kind = kind;
    switch (kind) {
        case AUDIT_TOPIC_KIND_AUDIT:
            return audit_decode_event (data, size, now_ms, &record->u.event, info);
        case AUDIT_TOPIC_KIND_OPS:
            return audit_decode_ops (data, size, now_ms, &record->u.ops, info);
        case AUDIT_TOPIC_KIND_MQ:
            return audit_decode_mq (data, size, now_ms, &record->u.mq, info);
        default: {
            audit_walk_t self;
            audit_walk_init (&self, data, size, now_ms, info);
            audit_walk_fault (&self, AUDIT_REASON_MALFORMED);
            return -1;
        }
    }
}
