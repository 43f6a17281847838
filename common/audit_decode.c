/*  =========================================================================
    audit_decode - one pass from MessagePack bytes to a validated record

    Each body is walked once, key by key, with the bounded reader of
    audit_mp: a known key's value is checked and copied into the record, any
    other key's value is skipped unread and only its (sanitised) name is
    reported. Faults are collected as the walk goes and the one of highest
    precedence wins; the walk goes on after a fault that is not structural
    so that the event_id and producer_id can still be learnt for the log
    line, and so that a structural fault further on still counts as
    malformed. Nothing here allocates: this is the ingest hot path.
    ========================================================================= */

#include "audit_decode.h"
#include "audit_mp.h"
#include "audit_time.h"

#include <arpa/inet.h>
#include <string.h>

//  Body limits. Audit and ops bodies are held to the contract's 64 KiB;
//  an mq body carries a payload of up to 256 KiB, so it is held to that
//  plus room for its envelope instead (a 64 KiB limit would refuse
//  payloads the contract allows).
#define S_MQ_MAX_BYTES  (AUDIT_MQ_PAYLOAD_MAX + 4096)

//  Where a walk stands on a value: good, a fault of the field (the value
//  was consumed), or a structural fault (the buffer is unusable)
typedef enum { S_VALUE_OK, S_VALUE_BAD, S_VALUE_MALFORMED } s_value_t;

//  Precedence of the reasons, lowest rank wins (contract order of
//  severity, which is not the order of audit_reasons.def)
static const uint8_t s_rank [AUDIT_REASON_COUNT] = {
    [AUDIT_REASON_MALFORMED]     = 0,
    [AUDIT_REASON_BAD_VERSION]   = 1,
    [AUDIT_REASON_UNKNOWN_TYPE]  = 2,
    [AUDIT_REASON_RESERVED_TYPE] = 3,
    [AUDIT_REASON_MISSING_FIELD] = 4,
    [AUDIT_REASON_BAD_FIELD]     = 5,
    [AUDIT_REASON_BAD_TIMESTAMP] = 6,
    [AUDIT_REASON_DUPLICATE]     = 7,
};

//  A key the walk knows, with its length computed at compile time
typedef struct {
    const char *name;
    uint8_t len;
} s_key_t;

#define S_KEY(text) { text, sizeof (text) - 1 }

//  The state of one decode
typedef struct {
    audit_mp_reader_t reader;
    audit_decode_info_t *info;
    int64_t now_ms;
    bool failed;
    uint64_t seen;                      //  known keys met, by key index
} s_decoder_t;

//  Handles the value of known key `key`; returns how it went
typedef s_value_t (s_key_fn) (s_decoder_t *self, int key, void *record);

static void
s_decoder_init (s_decoder_t *self, const void *data, size_t size,
                int64_t now_ms, audit_decode_info_t *info)
{
    audit_mp_reader_init (&self->reader, data, size);
    self->info = info;
    self->now_ms = now_ms;
    self->failed = false;
    self->seen = 0;
    info->reason = AUDIT_REASON_COUNT;  //  none
    info->event_id [0] = 0;
    info->producer_id [0] = 0;
    info->dropped_total = 0;
    info->dropped_count = 0;
}

//  Note a fault; the one of highest precedence is kept
static void
s_fault (s_decoder_t *self, audit_reason_t reason)
{
    if (!self->failed || s_rank [reason] < s_rank [self->info->reason]) {
        self->info->reason = reason;
        self->failed = true;
    }
}

//  Note the fault `reason` when value is BAD; tell the walk whether to go on
static s_value_t
s_fault_if (s_decoder_t *self, s_value_t value, audit_reason_t reason)
{
    if (value == S_VALUE_BAD)
        s_fault (self, reason);
    return value == S_VALUE_MALFORMED? S_VALUE_MALFORMED: S_VALUE_OK;
}

//  Report a dropped key by name: as itself only when it is a short
//  identifier, so that no content can travel into counters or logs in a key
static void
s_drop (s_decoder_t *self, const char *key, size_t len)
{
    audit_decode_info_t *info = self->info;
    info->dropped_total++;
    if (info->dropped_count == AUDIT_DECODE_DROPPED_MAX)
        return;
    char *name = info->dropped [info->dropped_count++];
    if (len <= AUDIT_DECODE_KEY_NAME_MAX && audit_decode_is_ident (key, len)) {
        memcpy (name, key, len);
        name [len] = 0;
    }
    else
        strcpy (name, AUDIT_DECODE_KEY_OTHER);
}

//  A read that found the wrong type consumed nothing: skip the value so
//  that the walk can go on, and call it a fault of the field
static s_value_t
s_wrong_type (s_decoder_t *self, audit_mp_result_t rc)
{
    if (rc == AUDIT_MP_WRONG_TYPE && audit_mp_skip (&self->reader) == AUDIT_MP_OK)
        return S_VALUE_BAD;
    return S_VALUE_MALFORMED;
}

static s_value_t
s_value_str (s_decoder_t *self, const char **text, uint32_t *len)
{
    audit_mp_result_t rc = audit_mp_read_str (&self->reader, text, len);
    return rc == AUDIT_MP_OK? S_VALUE_OK: s_wrong_type (self, rc);
}

static s_value_t
s_value_uint (s_decoder_t *self, uint64_t min, uint64_t max, uint64_t *value)
{
    audit_mp_result_t rc = audit_mp_read_uint (&self->reader, value);
    if (rc != AUDIT_MP_OK)
        return s_wrong_type (self, rc);
    return *value >= min && *value <= max? S_VALUE_OK: S_VALUE_BAD;
}

//  An identifier, copied NUL-terminated into out (AUDIT_IDENT_MAX + 1)
static s_value_t
s_value_ident (s_decoder_t *self, char *out)
{
    const char *text;
    uint32_t len;
    s_value_t value = s_value_str (self, &text, &len);
    if (value != S_VALUE_OK)
        return value;
    if (!audit_decode_is_ident (text, len))
        return S_VALUE_BAD;
    memcpy (out, text, len);
    out [len] = 0;
    return S_VALUE_OK;
}

//  A UUID; its text goes to info->event_id too, for the log line
static s_value_t
s_value_uuid (s_decoder_t *self, uint8_t *uuid)
{
    const char *text;
    uint32_t len;
    s_value_t value = s_value_str (self, &text, &len);
    if (value != S_VALUE_OK)
        return value;
    if (audit_decode_uuid (text, len, uuid) != 0)
        return S_VALUE_BAD;
    audit_decode_uuid_format (uuid, self->info->event_id);
    return S_VALUE_OK;
}

static s_value_t
s_value_version (s_decoder_t *self)
{
    uint64_t version;
    return s_value_uint (self, AUDIT_PROTO_VERSION, AUDIT_PROTO_VERSION, &version);
}

//  A timestamp in either wire form, inside the window around now. Any
//  other MessagePack type is a timestamp in neither form, so it is
//  bad_timestamp (not bad_field): the reason names what was wrong.
static s_value_t
s_value_timestamp (s_decoder_t *self, int64_t *ms)
{
    audit_mp_type_t type = audit_mp_peek (&self->reader);
    const uint8_t *body;
    const char *text;
    uint32_t len;
    int8_t ext_type;
    int parsed = -1;
    if (type == AUDIT_MP_EXT) {
        if (audit_mp_read_ext (&self->reader, &ext_type, &body, &len) != AUDIT_MP_OK)
            return S_VALUE_MALFORMED;
        if (ext_type == -1)
            parsed = audit_time_from_ext (body, len, ms);
    }
    else
    if (type == AUDIT_MP_STR) {
        if (audit_mp_read_str (&self->reader, &text, &len) != AUDIT_MP_OK)
            return S_VALUE_MALFORMED;
        parsed = audit_time_parse_rfc3339 (text, len, ms);
    }
    else                                //  neither form: skip it whole
        return audit_mp_skip (&self->reader) == AUDIT_MP_OK?
               S_VALUE_BAD: S_VALUE_MALFORMED;
    if (parsed != 0)
        return S_VALUE_BAD;
    if (*ms > self->now_ms + AUDIT_FUTURE_MAX_MS || *ms < self->now_ms - AUDIT_PAST_MAX_MS)
        return S_VALUE_BAD;
    return S_VALUE_OK;
}

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

static int
s_key_find (const s_key_t *keys, int count, const char *name, uint32_t len)
{
    for (int key = 0; key < count; key++)
        if (keys [key].len == len && memcmp (keys [key].name, name, len) == 0)
            return key;
    return -1;
}

//  Walk the top-level map: each known key to handle, every other key
//  dropped. Returns 0, or -1 when the body is malformed.
//
//  A known key met twice is malformed: which of its values would count is
//  exactly the ambiguity a smuggler wants. A dropped key met twice is not
//  detected (that would cost quadratic time, or memory, per body); none of
//  its values is kept, so there is nothing to be ambiguous about, and each
//  occurrence is counted.
static int
s_walk (s_decoder_t *self, const s_key_t *keys, int key_count,
        s_key_fn *handle, void *record)
{
    uint32_t pairs;
    if (audit_mp_read_map (&self->reader, &pairs) != AUDIT_MP_OK)
        return -1;
    for (uint32_t pair = 0; pair < pairs; pair++) {
        const char *name;
        uint32_t len;
        if (audit_mp_read_str (&self->reader, &name, &len) != AUDIT_MP_OK)
            return -1;                  //  a key that is not a str
        int key = s_key_find (keys, key_count, name, len);
        s_value_t value;
        if (key < 0) {
            s_drop (self, name, len);
            value = audit_mp_skip (&self->reader) == AUDIT_MP_OK?
                    S_VALUE_OK: S_VALUE_MALFORMED;
        }
        else {
            if (self->seen & (1ULL << key))
                return -1;
            self->seen |= 1ULL << key;
            value = handle (self, key, record);
        }
        if (value == S_VALUE_MALFORMED)
            return -1;
    }
    return audit_mp_at_end (&self->reader)? 0: -1;     //  trailing bytes
}

//  Common ending of every decode: a rejected record is wiped, so that no
//  value of it (a dropped field met before event_type, say) lingers
static int
s_outcome (s_decoder_t *self, bool malformed, void *record, size_t size)
{
    if (malformed)
        s_fault (self, AUDIT_REASON_MALFORMED);
    if (!self->failed)
        return 0;
    memset (record, 0, size);
    return -1;
}

//  ---------------------------------------------------------------------
//  Audit events

//  Envelope keys, then the resource fields in audit_fields.def order
enum {
    S_EVENT_V, S_EVENT_ID, S_EVENT_TYPE, S_EVENT_TIMESTAMP, S_EVENT_ORG_ID,
    S_EVENT_ACTOR_ID, S_EVENT_PRODUCER_ID, S_EVENT_SEQ, S_EVENT_FIELDS
};
#define S_EVENT_KEY_COUNT   (S_EVENT_FIELDS + AUDIT_FIELD_COUNT)
#define S_EVENT_REQUIRED    ((1ULL << S_EVENT_PRODUCER_ID) - 1)

static const s_key_t s_event_keys [S_EVENT_KEY_COUNT] = {
    S_KEY ("v"), S_KEY ("event_id"), S_KEY ("event_type"), S_KEY ("timestamp"),
    S_KEY ("org_id"), S_KEY ("actor_id"), S_KEY ("producer_id"), S_KEY ("seq"),
#define AUDIT_FIELD(NAME, key, kind, min, max, in_csv) S_KEY (key),
#include "audit_fields.def"
#undef AUDIT_FIELD
};

//  Event type names with their lengths, so a lookup compares lengths first
static const s_key_t s_event_types [AUDIT_EVENT_COUNT] = {
#define AUDIT_EVENT(NAME, name, cat, req, opt, reserved) [AUDIT_EVENT_##NAME] = S_KEY (name),
#include "audit_events.def"
#undef AUDIT_EVENT
};

typedef struct {
    audit_event_t *event;
    bool type_known;
    audit_field_mask_t bad;             //  resource fields that broke their rule
} s_event_walk_t;

static s_value_t
s_event_type (s_decoder_t *self, s_event_walk_t *walk)
{
    const char *text;
    uint32_t len;
    s_value_t value = s_value_str (self, &text, &len);
    if (value != S_VALUE_OK)
        return s_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
    int type = s_key_find (s_event_types, AUDIT_EVENT_COUNT, text, len);
    if (type < 0) {
        s_fault (self, AUDIT_REASON_UNKNOWN_TYPE);
        return S_VALUE_OK;
    }
    walk->event->type = (audit_event_type_t) type;
    walk->type_known = true;
    if (audit_proto_event_info (walk->event->type)->reserved)
        s_fault (self, AUDIT_REASON_RESERVED_TYPE);
    return S_VALUE_OK;
}

//  A resource field is kept whatever the type: whether the type allows it
//  is known only after the walk (event_type may come last), so a broken
//  value is noted rather than faulted, and judged in s_event_finish
static s_value_t
s_event_field (s_decoder_t *self, s_event_walk_t *walk, audit_field_t field)
{
    const audit_field_info_t *info = audit_proto_field_info (field);
    audit_event_t *event = walk->event;
    s_value_t value = info->kind == AUDIT_KIND_IDENT?
        s_value_ident (self, event->text [field]):
        s_value_uint (self, info->min, info->max, &event->number [field]);
    if (value == S_VALUE_OK)
        event->present |= AUDIT_FIELD_BIT (field);
    else {
        event->number [field] = 0;
        walk->bad |= AUDIT_FIELD_BIT (field);
    }
    return value;
}

static s_value_t
s_event_key (s_decoder_t *self, int key, void *record)
{
    s_event_walk_t *walk = (s_event_walk_t *) record;
    audit_event_t *event = walk->event;
    s_value_t value;
    switch (key) {
        case S_EVENT_V:
            return s_fault_if (self, s_value_version (self), AUDIT_REASON_BAD_VERSION);
        case S_EVENT_ID:
            value = s_value_uuid (self, event->event_id);
            break;
        case S_EVENT_TYPE:
            return s_event_type (self, walk);
        case S_EVENT_TIMESTAMP:
            value = s_value_timestamp (self, &event->timestamp_ms);
            return s_fault_if (self, value, AUDIT_REASON_BAD_TIMESTAMP);
        case S_EVENT_ORG_ID:
            value = s_value_ident (self, event->org_id);
            break;
        case S_EVENT_ACTOR_ID:
            value = s_value_ident (self, event->actor_id);
            break;
        case S_EVENT_PRODUCER_ID:
            value = s_value_ident (self, event->producer_id);
            if (value == S_VALUE_OK)
                strcpy (self->info->producer_id, event->producer_id);
            break;
        case S_EVENT_SEQ:
            value = s_value_uint (self, 0, UINT64_MAX, &event->seq);
            event->has_seq = value == S_VALUE_OK;
            break;
        default:
            value = s_event_field (self, walk, (audit_field_t) (key - S_EVENT_FIELDS));
            return value == S_VALUE_MALFORMED? S_VALUE_MALFORMED: S_VALUE_OK;
    }
    return s_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

//  After the walk, when the type is known: fields the type does not allow
//  are dropped like any unknown key and taken out of the record; then the
//  allowed ones are checked against the catalogue
static void
s_event_finish (s_decoder_t *self, s_event_walk_t *walk)
{
    audit_event_t *event = walk->event;
    if ((self->seen & S_EVENT_REQUIRED) != S_EVENT_REQUIRED)
        s_fault (self, AUDIT_REASON_MISSING_FIELD);
    const audit_event_info_t *row = walk->type_known?
        audit_proto_event_info (event->type): NULL;
    audit_field_mask_t allowed = row? row->required | row->optional: 0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        audit_field_mask_t bit = AUDIT_FIELD_BIT (field);
        if (!((event->present | walk->bad) & bit) || (allowed & bit))
            continue;
        if (row) {
            const s_key_t *key = &s_event_keys [S_EVENT_FIELDS + field];
            s_drop (self, key->name, key->len);
        }
        memset (event->text [field], 0, sizeof event->text [field]);
        event->number [field] = 0;
        event->present &= ~bit;
        walk->bad &= ~bit;
    }
    if (!row)
        return;                         //  rejected already, for the type
    if (walk->bad)
        s_fault (self, AUDIT_REASON_BAD_FIELD);
    if (row->required & ~(event->present | walk->bad))
        s_fault (self, AUDIT_REASON_MISSING_FIELD);
}

int
audit_decode_event (const void *data, size_t size, int64_t now_ms,
                    audit_event_t *event, audit_decode_info_t *info)
{
    s_decoder_t self;
    s_decoder_init (&self, data, size, now_ms, info);
    memset (event, 0, sizeof *event);
    event->type = AUDIT_EVENT_COUNT;    //  none yet
    s_event_walk_t walk = { .event = event };
    bool malformed = size > AUDIT_EVENT_MAX_BYTES
        || s_walk (&self, s_event_keys, S_EVENT_KEY_COUNT, s_event_key, &walk) != 0;
    if (!malformed)
        s_event_finish (&self, &walk);
    return s_outcome (&self, malformed, event, sizeof *event);
}

//  ---------------------------------------------------------------------
//  Operational records: every key is required, nothing else is kept

enum { S_OPS_V, S_OPS_TIMESTAMP, S_OPS_CLIENT_IP, S_OPS_METHOD, S_OPS_PATH,
       S_OPS_STATUS, S_OPS_KEY_COUNT };

static const s_key_t s_ops_keys [S_OPS_KEY_COUNT] = {
    S_KEY ("v"), S_KEY ("timestamp"), S_KEY ("client_ip"), S_KEY ("method"),
    S_KEY ("path"), S_KEY ("status")
};

//  inet_pton wants a C string: the text is copied into the record first
static s_value_t
s_ops_client_ip (s_decoder_t *self, char *out)
{
    const char *text;
    uint32_t len;
    s_value_t value = s_value_str (self, &text, &len);
    if (value != S_VALUE_OK)
        return value;
    if (len < 1 || len > AUDIT_OPS_IP_MAX)
        return S_VALUE_BAD;
    memcpy (out, text, len);
    out [len] = 0;
    uint8_t address [sizeof (struct in6_addr)];
    if (inet_pton (AF_INET, out, address) == 1 || inet_pton (AF_INET6, out, address) == 1)
        return S_VALUE_OK;
    out [0] = 0;
    return S_VALUE_BAD;
}

static s_value_t
s_ops_method (s_decoder_t *self, char *out)
{
    const char *text;
    uint32_t len;
    s_value_t value = s_value_str (self, &text, &len);
    if (value != S_VALUE_OK)
        return value;
    if (len < 1 || len > AUDIT_OPS_METHOD_MAX)
        return S_VALUE_BAD;
    for (uint32_t index = 0; index < len; index++)
        if (text [index] < 'A' || text [index] > 'Z')
            return S_VALUE_BAD;
    memcpy (out, text, len);
    out [len] = 0;
    return S_VALUE_OK;
}

//  The limit applies to the path as sent; the query string and fragment
//  are cut before anything is checked or kept, so none of them is stored
static s_value_t
s_ops_path (s_decoder_t *self, char *out)
{
    const char *text;
    uint32_t len;
    s_value_t value = s_value_str (self, &text, &len);
    if (value != S_VALUE_OK)
        return value;
    if (len < 1 || len > AUDIT_OPS_PATH_MAX || text [0] != '/')
        return S_VALUE_BAD;
    size_t kept = 1;
    while (kept < len && text [kept] != '?' && text [kept] != '#')
        kept++;
    if (!s_is_text ((const uint8_t *) text, kept))
        return S_VALUE_BAD;
    memcpy (out, text, kept);
    out [kept] = 0;
    return S_VALUE_OK;
}

static s_value_t
s_ops_key (s_decoder_t *self, int key, void *record)
{
    audit_ops_t *ops = (audit_ops_t *) record;
    uint64_t status;
    s_value_t value;
    switch (key) {
        case S_OPS_V:
            return s_fault_if (self, s_value_version (self), AUDIT_REASON_BAD_VERSION);
        case S_OPS_TIMESTAMP:
            value = s_value_timestamp (self, &ops->timestamp_ms);
            return s_fault_if (self, value, AUDIT_REASON_BAD_TIMESTAMP);
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
            value = s_value_uint (self, 100, 599, &status);
            ops->status = value == S_VALUE_OK? (uint16_t) status: 0;
            break;
    }
    return s_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

int
audit_decode_ops (const void *data, size_t size, int64_t now_ms,
                  audit_ops_t *ops, audit_decode_info_t *info)
{
    s_decoder_t self;
    s_decoder_init (&self, data, size, now_ms, info);
    memset (ops, 0, sizeof *ops);
    bool malformed = size > AUDIT_EVENT_MAX_BYTES
        || s_walk (&self, s_ops_keys, S_OPS_KEY_COUNT, s_ops_key, ops) != 0;
    if (!malformed && self.seen != (1ULL << S_OPS_KEY_COUNT) - 1)
        s_fault (&self, AUDIT_REASON_MISSING_FIELD);
    return s_outcome (&self, malformed, ops, sizeof *ops);
}

//  ---------------------------------------------------------------------
//  Undelivered messages: every key is required, the payload is borrowed.
//  The message_id goes to info->event_id: it is the id the log line names.

enum { S_MQ_V, S_MQ_MESSAGE_ID, S_MQ_ORG_ID, S_MQ_DEVICE_ID, S_MQ_TIMESTAMP,
       S_MQ_PAYLOAD, S_MQ_KEY_COUNT };

static const s_key_t s_mq_keys [S_MQ_KEY_COUNT] = {
    S_KEY ("v"), S_KEY ("message_id"), S_KEY ("org_id"), S_KEY ("device_id"),
    S_KEY ("timestamp"), S_KEY ("payload")
};

static s_value_t
s_mq_payload (s_decoder_t *self, audit_mq_t *mq)
{
    const uint8_t *payload;
    uint32_t len;
    audit_mp_result_t rc = audit_mp_read_bin (&self->reader, &payload, &len);
    if (rc != AUDIT_MP_OK)
        return s_wrong_type (self, rc);
    if (len < 1 || len > AUDIT_MQ_PAYLOAD_MAX)
        return S_VALUE_BAD;
    mq->payload = payload;
    mq->payload_size = len;
    return S_VALUE_OK;
}

static s_value_t
s_mq_key (s_decoder_t *self, int key, void *record)
{
    audit_mq_t *mq = (audit_mq_t *) record;
    s_value_t value;
    switch (key) {
        case S_MQ_V:
            return s_fault_if (self, s_value_version (self), AUDIT_REASON_BAD_VERSION);
        case S_MQ_MESSAGE_ID:
            value = s_value_uuid (self, mq->message_id);
            break;
        case S_MQ_ORG_ID:
            value = s_value_ident (self, mq->org_id);
            break;
        case S_MQ_DEVICE_ID:
            value = s_value_ident (self, mq->device_id);
            break;
        case S_MQ_TIMESTAMP:
            value = s_value_timestamp (self, &mq->timestamp_ms);
            return s_fault_if (self, value, AUDIT_REASON_BAD_TIMESTAMP);
        default:
            value = s_mq_payload (self, mq);
            break;
    }
    return s_fault_if (self, value, AUDIT_REASON_BAD_FIELD);
}

int
audit_decode_mq (const void *data, size_t size, int64_t now_ms,
                 audit_mq_t *mq, audit_decode_info_t *info)
{
    s_decoder_t self;
    s_decoder_init (&self, data, size, now_ms, info);
    memset (mq, 0, sizeof *mq);
    bool malformed = size > S_MQ_MAX_BYTES
        || s_walk (&self, s_mq_keys, S_MQ_KEY_COUNT, s_mq_key, mq) != 0;
    if (!malformed && self.seen != (1ULL << S_MQ_KEY_COUNT) - 1)
        s_fault (&self, AUDIT_REASON_MISSING_FIELD);
    return s_outcome (&self, malformed, mq, sizeof *mq);
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
            s_decoder_t self;
            s_decoder_init (&self, data, size, now_ms, info);
            s_fault (&self, AUDIT_REASON_MALFORMED);
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
