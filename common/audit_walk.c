/*  =========================================================================
    audit_walk - the machinery audit_decode walks a body with

    The walk goes on after a fault that is not structural, so that the
    event_id and producer_id can still be learnt for the log line, and so
    that a structural fault further on still counts as malformed. These
    are the ingest hot path: nothing here allocates.
    ========================================================================= */

#include "audit_walk.h"
#include "audit_ident.h"
#include "audit_time.h"

#include <string.h>

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

void
audit_walk_init (audit_walk_t *self, const void *data, size_t size,
                 int64_t now_ms, audit_decode_info_t *info)
{
    audit_mp_reader_init (&self->reader, data, size);
    self->info = info;
    self->now_ms = now_ms;
    self->failed = false;
    self->seen = 0;
    self->key = NULL;
    info->reason = AUDIT_REASON_COUNT;  //  none
    info->field = NULL;
    info->seq = 0;
    info->has_seq = false;
    info->event_id [0] = 0;
    info->producer_id [0] = 0;
    info->dropped_total = 0;
    info->dropped_count = 0;
}

//  Note a fault; the one of highest precedence is kept, with the key
//  being read when it was noted (none after the walk)
void
audit_walk_fault (audit_walk_t *self, audit_reason_t reason)
{
    audit_walk_fault_field (self, reason, self->key);
}

void
audit_walk_fault_field (audit_walk_t *self, audit_reason_t reason, const char *field)
{
    if (!self->failed || s_rank [reason] < s_rank [self->info->reason]) {
        self->info->reason = reason;
        self->info->field = reason == AUDIT_REASON_MALFORMED? NULL: field;
        self->failed = true;
    }
}

const char *
audit_walk_first_missing (const audit_keys_key_t *keys, int count, uint64_t required,
                          uint64_t seen)
{
    for (int key = 0; key < count && key < 64; key++)
        if ((required & (1ULL << key)) && !(seen & (1ULL << key)))
            return keys [key].name;
    return NULL;
}

//  Note the fault `reason` when value is BAD; tell the walk whether to go on
audit_walk_value_t
audit_walk_fault_if (audit_walk_t *self, audit_walk_value_t value, audit_reason_t reason)
{
    if (value == AUDIT_WALK_BAD)
        audit_walk_fault (self, reason);
    return value == AUDIT_WALK_MALFORMED? AUDIT_WALK_MALFORMED: AUDIT_WALK_OK;
}

//  True when a dropped key is shaped like a field name: a letter or '_',
//  then letters, digits, '_' or '-'. Stricter than an identifier because
//  a mutated body puts values in key position, and values (a path with a
//  query, an address, a time, a UUID, an e-mail) carry '/', '.', ':',
//  '@' or start with a digit; none of them may reach counters or logs.
static bool
s_is_field_name (const char *key, size_t len)
{
    if (len < 1 || len > AUDIT_DECODE_KEY_NAME_MAX)
        return false;
    for (size_t index = 0; index < len; index++) {
        char c = key [index];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool other = (c >= '0' && c <= '9') || c == '-';
        if (!letter && (index == 0 || !other))
            return false;
    }
    return true;
}

//  Report a dropped key by name: as itself only when it is shaped like a
//  field name, so that no content can travel into counters or logs in a key
void
audit_walk_drop (audit_walk_t *self, const char *key, size_t len)
{
    audit_decode_info_t *info = self->info;
    info->dropped_total++;
    if (info->dropped_count == AUDIT_DECODE_DROPPED_MAX)
        return;
    char *name = info->dropped [info->dropped_count++];
    if (s_is_field_name (key, len)) {
        memcpy (name, key, len);
        name [len] = 0;
    }
    else
        strcpy (name, AUDIT_DECODE_KEY_OTHER);
}

//  A read that found the wrong type consumed nothing: skip the value so
//  that the walk can go on, and call it a fault of the field
audit_walk_value_t
audit_walk_wrong_type (audit_walk_t *self, audit_mp_result_t rc)
{
    if (rc == AUDIT_MP_WRONG_TYPE && audit_mp_skip (&self->reader) == AUDIT_MP_OK)
        return AUDIT_WALK_BAD;
    return AUDIT_WALK_MALFORMED;
}

audit_walk_value_t
audit_walk_str (audit_walk_t *self, const char **text, uint32_t *len)
{
    audit_mp_result_t rc = audit_mp_read_str (&self->reader, text, len);
    return rc == AUDIT_MP_OK? AUDIT_WALK_OK: audit_walk_wrong_type (self, rc);
}

audit_walk_value_t
audit_walk_uint (audit_walk_t *self, uint64_t min, uint64_t max, uint64_t *value)
{
    audit_mp_result_t rc = audit_mp_read_uint (&self->reader, value);
    if (rc != AUDIT_MP_OK)
        return audit_walk_wrong_type (self, rc);
    return *value >= min && *value <= max? AUDIT_WALK_OK: AUDIT_WALK_BAD;
}

//  An identifier, copied NUL-terminated into out (AUDIT_IDENT_MAX + 1)
audit_walk_value_t
audit_walk_ident (audit_walk_t *self, char *out)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = audit_walk_str (self, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    if (!audit_ident_is_valid (text, len))
        return AUDIT_WALK_BAD;
    memcpy (out, text, len);
    out [len] = 0;
    return AUDIT_WALK_OK;
}

//  A UUID; its text goes to info->event_id too, for the log line
audit_walk_value_t
audit_walk_uuid (audit_walk_t *self, uint8_t *uuid)
{
    const char *text;
    uint32_t len;
    audit_walk_value_t value = audit_walk_str (self, &text, &len);
    if (value != AUDIT_WALK_OK)
        return value;
    if (audit_ident_uuid_parse (text, len, uuid) != 0)
        return AUDIT_WALK_BAD;
    audit_ident_uuid_format (uuid, self->info->event_id);
    return AUDIT_WALK_OK;
}

audit_walk_value_t
audit_walk_version (audit_walk_t *self)
{
    uint64_t version;
    return audit_walk_uint (self, AUDIT_PROTO_VERSION, AUDIT_PROTO_VERSION, &version);
}

//  A value of another MessagePack type than the two timestamp forms (an
//  ext of another type included) is a field of the wrong type: the
//  contract's bad_field, noted here, since the caller notes bad_timestamp
//  for what is BAD (the contract keeps that reason for the window)
static audit_walk_value_t
s_fault_of_type (audit_walk_t *self)
{
    audit_walk_fault (self, AUDIT_REASON_BAD_FIELD);
    return AUDIT_WALK_OK;
}

//  A timestamp in either wire form, inside the window around now. A str
//  that is not RFC 3339, or a timestamp ext that is not a valid one, is
//  BAD (bad_timestamp: a timestamp, but not a time); another type is
//  bad_field (s_fault_of_type).
audit_walk_value_t
audit_walk_timestamp (audit_walk_t *self, int64_t *ms)
{
    audit_mp_type_t type = audit_mp_peek (&self->reader);
    const uint8_t *body;
    const char *text;
    uint32_t len;
    int8_t ext_type;
    int parsed = -1;
    if (type == AUDIT_MP_EXT) {
        if (audit_mp_read_ext (&self->reader, &ext_type, &body, &len) != AUDIT_MP_OK)
            return AUDIT_WALK_MALFORMED;
        if (ext_type != -1)
            return s_fault_of_type (self);
        parsed = audit_time_from_ext (body, len, ms);
    }
    else
    if (type == AUDIT_MP_STR) {
        if (audit_mp_read_str (&self->reader, &text, &len) != AUDIT_MP_OK)
            return AUDIT_WALK_MALFORMED;
        parsed = audit_time_parse_rfc3339 (text, len, ms);
    }
    else                                //  neither form: skip it whole
        return audit_mp_skip (&self->reader) == AUDIT_MP_OK?
               s_fault_of_type (self): AUDIT_WALK_MALFORMED;
    if (parsed != 0)
        return AUDIT_WALK_BAD;
    if (*ms > self->now_ms + AUDIT_FUTURE_MAX_MS || *ms < self->now_ms - AUDIT_PAST_MAX_MS)
        return AUDIT_WALK_BAD;
    return AUDIT_WALK_OK;
}

//  The walk's handler for a known key: a value the record cannot use is
//  already noted as a fault; only a structural fault stops the walk
typedef struct {
    audit_walk_t *self;
    const audit_keys_key_t *keys;
    audit_walk_key_fn *handle;
    void *record;
} s_map_t;

static int
s_map_value (void *arg, int key)
{
    s_map_t *map = (s_map_t *) arg;
    map->self->key = map->keys [key].name;
    audit_walk_value_t value = map->handle (map->self, key, map->record);
    map->self->key = NULL;
    return value == AUDIT_WALK_MALFORMED? -1: 0;
}

static void
s_map_dropped (void *arg, const char *name, uint32_t len)
{
    audit_walk_drop (((s_map_t *) arg)->self, name, len);
}

//  Walk the top-level map: each known key to handle, every other key
//  dropped and counted. Returns 0, or -1 when the body is malformed (a
//  known key met twice included: see audit_keys).
int
audit_walk_map (audit_walk_t *self, const audit_keys_key_t *keys, int key_count,
                audit_walk_key_fn *handle, void *record)
{
    s_map_t map = { self, keys, handle, record };
    audit_keys_table_t table = {
        keys, key_count, AUDIT_KEYS_DROP, s_map_value, s_map_dropped
    };
    audit_keys_walk_t walk;
    audit_keys_result_t result = audit_keys_walk (&self->reader, &table, &map, &walk);
    self->seen = walk.seen;
    return result == AUDIT_KEYS_OK? 0: -1;
}

//  Common ending of every decode: a rejected record is wiped, so that no
//  value of it (a dropped field met before event_type, say) lingers
int
audit_walk_outcome (audit_walk_t *self, bool malformed, void *record, size_t size)
{
    if (malformed)
        audit_walk_fault (self, AUDIT_REASON_MALFORMED);
    if (!self->failed)
        return 0;
    memset (record, 0, size);
    return -1;
}
