/*  =========================================================================
    audit_decode - one pass from MessagePack bytes to a validated record

    Each body is walked once, key by key, by audit_walk: a known key's
    value is checked here and copied into the record, any other key's value
    is skipped unread and only its (sanitised) name is reported. This file
    holds what each topic's body is: its keys, their rules, and what is
    required. Nothing here allocates: this is the ingest hot path.
    ========================================================================= */

#include "audit_decode.h"
#include "audit_walk.h"

#include <arpa/inet.h>
#include <string.h>

//  Body limits. Audit and ops bodies are held to the contract's 64 KiB;
//  an mq body carries a payload of up to 256 KiB, so it is held to that
//  plus room for its envelope instead (a 64 KiB limit would refuse
//  payloads the contract allows).
#define S_MQ_MAX_BYTES  (AUDIT_MQ_PAYLOAD_MAX + 4096)

//  ---------------------------------------------------------------------
//  Audit events

//  Envelope keys, then the resource fields in audit_fields.def order
enum {
    S_EVENT_V, S_EVENT_ID, S_EVENT_TYPE, S_EVENT_TIMESTAMP, S_EVENT_ORG_ID,
    S_EVENT_ACTOR_ID, S_EVENT_PRODUCER_ID, S_EVENT_SEQ, S_EVENT_FIELDS
};
#define S_EVENT_KEY_COUNT   (S_EVENT_FIELDS + AUDIT_FIELD_COUNT)
#define S_EVENT_REQUIRED    ((1ULL << S_EVENT_PRODUCER_ID) - 1)

static const audit_walk_key_t s_event_keys [S_EVENT_KEY_COUNT] = {
    AUDIT_WALK_KEY ("v"), AUDIT_WALK_KEY ("event_id"), AUDIT_WALK_KEY ("event_type"),
    AUDIT_WALK_KEY ("timestamp"), AUDIT_WALK_KEY ("org_id"), AUDIT_WALK_KEY ("actor_id"),
    AUDIT_WALK_KEY ("producer_id"), AUDIT_WALK_KEY ("seq"),
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) AUDIT_WALK_KEY (key),
#include "audit_fields.def"
#undef AUDIT_FIELD
};

//  Event type names with their lengths, so a lookup compares lengths first
static const audit_walk_key_t s_event_types [AUDIT_EVENT_COUNT] = {
#define AUDIT_EVENT(NAME, name, cat, req, opt, reserved) \
    [AUDIT_EVENT_##NAME] = AUDIT_WALK_KEY (name),
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
    int type = audit_walk_key_find (s_event_types, AUDIT_EVENT_COUNT, text, len);
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
            break;
        default:
            value = s_event_field (self, walk, (audit_field_t) (key - S_EVENT_FIELDS));
            return value == AUDIT_WALK_MALFORMED? AUDIT_WALK_MALFORMED: AUDIT_WALK_OK;
    }
    return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

//  After the walk, when the type is known: fields the type does not allow
//  are dropped like any unknown key and taken out of the record; then the
//  allowed ones are checked against the catalogue
static void
s_event_finish (audit_walk_t *self, s_event_walk_t *walk)
{
    audit_event_t *event = walk->event;
    if ((self->seen & S_EVENT_REQUIRED) != S_EVENT_REQUIRED)
        audit_walk_fault (self, AUDIT_REASON_MISSING_FIELD);
    const audit_event_info_t *row = walk->type_known?
        audit_proto_event_info (event->type): NULL;
    audit_field_mask_t allowed = row? row->required | row->optional: 0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        audit_field_mask_t bit = AUDIT_FIELD_BIT (field);
        if (!((event->present | walk->bad) & bit) || (allowed & bit))
            continue;
        if (row) {
            const audit_walk_key_t *key = &s_event_keys [S_EVENT_FIELDS + field];
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
        audit_walk_fault (self, AUDIT_REASON_BAD_FIELD);
    if (row->required & ~(event->present | walk->bad))
        audit_walk_fault (self, AUDIT_REASON_MISSING_FIELD);
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
//  Operational records: every key is required, nothing else is kept

enum { S_OPS_V, S_OPS_TIMESTAMP, S_OPS_CLIENT_IP, S_OPS_METHOD, S_OPS_PATH,
       S_OPS_STATUS, S_OPS_KEY_COUNT };

static const audit_walk_key_t s_ops_keys [S_OPS_KEY_COUNT] = {
    AUDIT_WALK_KEY ("v"), AUDIT_WALK_KEY ("timestamp"), AUDIT_WALK_KEY ("client_ip"),
    AUDIT_WALK_KEY ("method"), AUDIT_WALK_KEY ("path"), AUDIT_WALK_KEY ("status")
};

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

//  inet_pton wants a C string: the text is copied into the record first
static audit_walk_value_t
s_ops_client_ip (audit_walk_t *self, char *out)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = audit_walk_str (self, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    if (len < 1 || len > AUDIT_OPS_IP_MAX)
        return AUDIT_WALK_BAD;
    memcpy (out, text, len);
    out [len] = 0;
    uint8_t address [sizeof (struct in6_addr)];
    if (inet_pton (AF_INET, out, address) == 1 || inet_pton (AF_INET6, out, address) == 1)
        return AUDIT_WALK_OK;
    out [0] = 0;
    return AUDIT_WALK_BAD;
}

static audit_walk_value_t
s_ops_method (audit_walk_t *self, char *out)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = audit_walk_str (self, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    if (len < 1 || len > AUDIT_OPS_METHOD_MAX)
        return AUDIT_WALK_BAD;
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
s_ops_path (audit_walk_t *self, char *out)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = audit_walk_str (self, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    if (len < 1 || len > AUDIT_OPS_PATH_MAX || text [0] != '/')
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

static audit_walk_value_t
s_ops_key (audit_walk_t *self, int key, void *record)
{
    audit_ops_t *ops = (audit_ops_t *) record;
    uint64_t status;
    audit_walk_value_t value;
    switch (key) {
        case S_OPS_V:
            value = audit_walk_version (self);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_VERSION);
        case S_OPS_TIMESTAMP:
            value = audit_walk_timestamp (self, &ops->timestamp_ms);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_TIMESTAMP);
        case S_OPS_CLIENT_IP:
            value = s_ops_client_ip (self, ops->client_ip);
            break;
        case S_OPS_METHOD:
            value = s_ops_method (self, ops->method);
            break;
        case S_OPS_PATH:
            value = s_ops_path (self, ops->path);
            break;
        default:
            value = audit_walk_uint (self, 100, 599, &status);
            ops->status = value == AUDIT_WALK_OK? (uint16_t) status: 0;
            break;
    }
    return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

int
audit_decode_ops (const void *data, size_t size, int64_t now_ms,
                  audit_ops_t *ops, audit_decode_info_t *info)
{
    audit_walk_t self;
    audit_walk_init (&self, data, size, now_ms, info);
    memset (ops, 0, sizeof *ops);
    bool malformed = size > AUDIT_EVENT_MAX_BYTES
        || audit_walk_map (&self, s_ops_keys, S_OPS_KEY_COUNT, s_ops_key, ops) != 0;
    if (!malformed && self.seen != (1ULL << S_OPS_KEY_COUNT) - 1)
        audit_walk_fault (&self, AUDIT_REASON_MISSING_FIELD);
    return audit_walk_outcome (&self, malformed, ops, sizeof *ops);
}

//  ---------------------------------------------------------------------
//  Undelivered messages: every key is required, the payload is borrowed.
//  The message_id goes to info->event_id: it is the id the log line names.

enum { S_MQ_V, S_MQ_MESSAGE_ID, S_MQ_ORG_ID, S_MQ_DEVICE_ID, S_MQ_TIMESTAMP,
       S_MQ_PAYLOAD, S_MQ_KEY_COUNT };

static const audit_walk_key_t s_mq_keys [S_MQ_KEY_COUNT] = {
    AUDIT_WALK_KEY ("v"), AUDIT_WALK_KEY ("message_id"), AUDIT_WALK_KEY ("org_id"),
    AUDIT_WALK_KEY ("device_id"), AUDIT_WALK_KEY ("timestamp"), AUDIT_WALK_KEY ("payload")
};

static audit_walk_value_t
s_mq_payload (audit_walk_t *self, audit_mq_t *mq)
{
    const uint8_t *payload;
    uint32_t len;
    audit_mp_result_t rc = audit_mp_read_bin (&self->reader, &payload, &len);
    if (rc != AUDIT_MP_OK)
        return audit_walk_wrong_type (self, rc);
    if (len < 1 || len > AUDIT_MQ_PAYLOAD_MAX)
        return AUDIT_WALK_BAD;
    mq->payload = payload;
    mq->payload_size = len;
    return AUDIT_WALK_OK;
}

static audit_walk_value_t
s_mq_key (audit_walk_t *self, int key, void *record)
{
    audit_mq_t *mq = (audit_mq_t *) record;
    audit_walk_value_t value;
    switch (key) {
        case S_MQ_V:
            value = audit_walk_version (self);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_VERSION);
        case S_MQ_MESSAGE_ID:
            value = audit_walk_uuid (self, mq->message_id);
            break;
        case S_MQ_ORG_ID:
            value = audit_walk_ident (self, mq->org_id);
            break;
        case S_MQ_DEVICE_ID:
            value = audit_walk_ident (self, mq->device_id);
            break;
        case S_MQ_TIMESTAMP:
            value = audit_walk_timestamp (self, &mq->timestamp_ms);
            return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_TIMESTAMP);
        default:
            value = s_mq_payload (self, mq);
            break;
    }
    return audit_walk_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

int
audit_decode_mq (const void *data, size_t size, int64_t now_ms,
                 audit_mq_t *mq, audit_decode_info_t *info)
{
    audit_walk_t self;
    audit_walk_init (&self, data, size, now_ms, info);
    memset (mq, 0, sizeof *mq);
    bool malformed = size > S_MQ_MAX_BYTES
        || audit_walk_map (&self, s_mq_keys, S_MQ_KEY_COUNT, s_mq_key, mq) != 0;
    if (!malformed && self.seen != (1ULL << S_MQ_KEY_COUNT) - 1)
        audit_walk_fault (&self, AUDIT_REASON_MISSING_FIELD);
    return audit_walk_outcome (&self, malformed, mq, sizeof *mq);
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

static int
s_hex (char digit)
{
    if (digit >= '0' && digit <= '9')
        return digit - '0';
    digit |= 0x20;                      //  'A'..'F' to 'a'..'f'; no other maps there
    return digit >= 'a' && digit <= 'f'? digit - 'a' + 10: -1;
}

int
audit_decode_uuid (const char *text, size_t len, uint8_t *uuid)
{
    uint8_t bytes [AUDIT_UUID_SIZE];
    size_t out = 0;
    if (len != AUDIT_UUID_TEXT_LEN)
        return -1;
    for (size_t index = 0; index < len; ) {
        if (index == 8 || index == 13 || index == 18 || index == 23) {
            if (text [index++] != '-')
                return -1;
            continue;
        }
        int high = s_hex (text [index]), low = s_hex (text [index + 1]);
        if (high < 0 || low < 0)
            return -1;
        bytes [out++] = (uint8_t) (high << 4 | low);
        index += 2;
    }
    memcpy (uuid, bytes, sizeof bytes);
    return 0;
}

void
audit_decode_uuid_format (const uint8_t *uuid, char *text)
{
    static const char digits [] = "0123456789abcdef";
    for (int index = 0; index < AUDIT_UUID_SIZE; index++) {
        if (index == 4 || index == 6 || index == 8 || index == 10)
            *text++ = '-';
        *text++ = digits [uuid [index] >> 4];
        *text++ = digits [uuid [index] & 0x0f];
    }
    *text = 0;
}

bool
audit_decode_is_ident (const char *text, size_t len)
{
    if (len < 1 || len > AUDIT_IDENT_MAX)
        return false;
    for (size_t index = 0; index < len; index++)
        if ((uint8_t) text [index] < 0x21 || (uint8_t) text [index] > 0x7e)
            return false;
    return true;
}
