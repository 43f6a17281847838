/*  audit_decode: every rule of the contract's "Publishing" section, every
    rejection reason and its precedence, the privacy rule for dropped keys,
    and hostile MessagePack that must be refused without a crash */

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_decode.h"
#include "audit_mp.h"
#include "audit_time.h"
#include "test_support.h"

#define UUID_UPPER  "6F9619FF-8B86-D011-B42D-00C04FC964FF"
#define UUID_LOWER  "6f9619ff-8b86-d011-b42d-00c04fc964ff"
#define ACCEPTED    (-1)                //  s_outcome of a decode that succeeded
//  A fixed clock for the tests of the timestamp window
#define FIXED_NOW   1795686439123LL     //  2026-11-26T09:47:19.123Z

//  One key/value pair of a body under construction
typedef struct {
    const char *key;
    char kind;          //  's' str, 'u' uint, 'b' bin, 'r' raw MessagePack, 'n' now as text
    const char *text;   //  's', 'b' (number bytes), 'r' (number bytes)
    uint64_t number;
} pair_t;

#define STR(k, v)           { (k), 's', (v), 0 }
#define UINT(k, v)          { (k), 'u', NULL, (v) }
#define BIN(k, data, size)  { (k), 'b', (const char *) (data), (size) }
#define RAW(k, ...)         { (k), 'r', (const char *) (const uint8_t []) { __VA_ARGS__ }, \
                              sizeof ((const uint8_t []) { __VA_ARGS__ }) }
#define NOW(k)              { (k), 'n', NULL, 0 }
#define EXTRA(...)          (const pair_t []) { __VA_ARGS__ }, \
                            sizeof ((const pair_t []) { __VA_ARGS__ }) / sizeof (pair_t)
#define NONE                NULL, 0

static audit_record_t s_record;
static audit_decode_info_t s_info;

static void
s_pack_pair (test_pack_t *pack, const pair_t *pair)
{
    test_pack_str (pack, pair->key);
    if (pair->kind == 's')
        test_pack_str (pack, pair->text);
    else
    if (pair->kind == 'u')
        test_pack_uint (pack, pair->number);
    else
    if (pair->kind == 'b') {
        msgpack_pack_bin (&pack->packer, pair->number);
        msgpack_pack_bin_body (&pack->packer, pair->text, pair->number);
    }
    else
    if (pair->kind == 'r')
        msgpack_sbuffer_write (&pack->buffer, pair->text, pair->number);
    else {
        char now [AUDIT_TIME_TEXT_SIZE];
        audit_time_format (test_now_ms (), now);
        test_pack_str (pack, now);
    }
}

//  A body of base pairs less the key omit (NULL: none), then the extra
//  pairs; the map header counts raw_pairs more for the caller to append
static test_pack_t *
s_pack_open (const pair_t *base, size_t base_count, const char *omit,
             const pair_t *extra, size_t extra_count, uint32_t raw_pairs)
{
    size_t kept = 0;
    for (size_t index = 0; index < base_count; index++)
        kept += !omit || strcmp (base [index].key, omit) != 0;
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, (uint32_t) (kept + extra_count + raw_pairs));
    for (size_t index = 0; index < base_count; index++)
        if (!omit || strcmp (base [index].key, omit) != 0)
            s_pack_pair (pack, &base [index]);
    for (size_t index = 0; index < extra_count; index++)
        s_pack_pair (pack, &extra [index]);
    return pack;
}

//  A value for an IDENT resource field: "<key>-7", from its row, so that a
//  new row needs none typed here
static const char *
s_field_text (int field)
{
    static char texts [AUDIT_FIELD_COUNT][AUDIT_IDENT_MAX + 1];
    snprintf (texts [field], sizeof texts [field], "%s-7",
              audit_proto_field_info ((audit_field_t) field)->key);
    return texts [field];
}

//  The envelope and the required fields of type
static size_t
s_event_base (audit_event_type_t type, pair_t *base)
{
    const audit_event_info_t *info = audit_proto_event_info (type);
    size_t count = 0;
    base [count++] = (pair_t) UINT ("v", 1);
    base [count++] = (pair_t) STR ("event_id", UUID_UPPER);
    base [count++] = (pair_t) STR ("event_type", info->name);
    base [count++] = (pair_t) NOW ("timestamp");
    base [count++] = (pair_t) STR ("org_id", "acme");
    base [count++] = (pair_t) STR ("actor_id", "admin-1");
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (info->required & AUDIT_FIELD_BIT (field)) {
            const audit_field_info_t *field_info = audit_proto_field_info ((audit_field_t) field);
            base [count++] = field_info->kind == AUDIT_KIND_IDENT?
                (pair_t) STR (field_info->key, s_field_text (field)):
                (pair_t) UINT (field_info->key, field_info->min + 1);
        }
    return count;
}

static test_pack_t *
s_event_open (audit_event_type_t type, const char *omit,
              const pair_t *extra, size_t extra_count, uint32_t raw_pairs)
{
    pair_t base [32];
    size_t count = s_event_base (type, base);
    return s_pack_open (base, count, omit, extra, extra_count, raw_pairs);
}

static test_pack_t *
s_event (audit_event_type_t type, const char *omit, const pair_t *extra, size_t extra_count)
{
    return s_event_open (type, omit, extra, extra_count, 0);
}

static const pair_t s_ops_base [] = {
    UINT ("v", 1), NOW ("timestamp"), STR ("client_ip", "192.0.2.1"),
    STR ("method", "GET"), STR ("path", "/v1/messages"), UINT ("status", 200)
};
#define OPS_BASE s_ops_base, sizeof s_ops_base / sizeof s_ops_base [0]

static const uint8_t s_payload [4] = { 0xde, 0xad, 0xbe, 0xef };
static const pair_t s_mq_base [] = {
    UINT ("v", 1), STR ("message_id", UUID_UPPER), STR ("org_id", "acme"),
    STR ("device_id", "device-7"), NOW ("timestamp"), BIN ("payload", s_payload, 4)
};
#define MQ_BASE s_mq_base, sizeof s_mq_base / sizeof s_mq_base [0]
//  Every key of the mq table, the optional producer_id and seq too
static const pair_t s_mq_full [] = {
    UINT ("v", 1), STR ("message_id", UUID_UPPER), STR ("org_id", "acme"),
    STR ("device_id", "device-7"), NOW ("timestamp"), BIN ("payload", s_payload, 4),
    STR ("producer_id", "svc-1"), UINT ("seq", 42)
};
#define MQ_FULL s_mq_full, sizeof s_mq_full / sizeof s_mq_full [0]

//  Decode pack as kind against now_ms, destroy it, and return the reason,
//  or ACCEPTED
static int
s_outcome_at (audit_topic_kind_t kind, test_pack_t *pack, int64_t now_ms)
{
    int rc = audit_decode_record (kind, test_pack_data (pack), test_pack_size (pack),
                                  now_ms, &s_record, &s_info);
    test_pack_destroy (&pack);
    if (rc == 0)
        return ACCEPTED;
    cr_assert_eq (rc, -1);
    return (int) s_info.reason;
}

static int
s_outcome (audit_topic_kind_t kind, test_pack_t *pack)
{
    return s_outcome_at (kind, pack, test_now_ms ());
}

#define EVENT_OUTCOME(pack) s_outcome (AUDIT_TOPIC_KIND_AUDIT, (pack))
#define OPS_OUTCOME(pack)   s_outcome (AUDIT_TOPIC_KIND_OPS, (pack))
#define MQ_OUTCOME(pack)    s_outcome (AUDIT_TOPIC_KIND_MQ, (pack))

//  Decode raw bytes as an audit event; the reason or ACCEPTED
static int
s_raw_outcome (const void *data, size_t size)
{
    int rc = audit_decode_event (data, size, test_now_ms (), &s_record.u.event, &s_info);
    return rc == 0? ACCEPTED: (int) s_info.reason;
}

//  True when needle occurs anywhere in the bytes of the record
static bool
s_record_holds (const char *needle)
{
    return memmem (&s_record, sizeof s_record, needle, strlen (needle)) != NULL;
}

static bool
s_dropped (const char *name)
{
    for (uint32_t index = 0; index < s_info.dropped_count; index++)
        if (strcmp (s_info.dropped [index], name) == 0)
            return true;
    return false;
}

//  =====================================================================
//  Accepted events

Test (decode, every_event_type_is_accepted_with_its_required_fields)
{
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        const audit_event_info_t *info = audit_proto_event_info ((audit_event_type_t) type);
        if (info->reserved)
            continue;
        char event_id [37];
        test_pack_t *pack = test_pack_event ((audit_event_type_t) type, "acme", "admin-1", 0, event_id);
        int64_t now = test_now_ms ();
        cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED, "%s refused", info->name);
        audit_event_t *event = &s_record.u.event;
        cr_assert_eq ((int) event->type, type);
        cr_assert_eq (event->present, info->required, "%s", info->name);
        cr_assert_str_eq (event->org_id, "acme");
        cr_assert_str_eq (event->actor_id, "admin-1");
        cr_assert (event->timestamp_ms <= now && event->timestamp_ms > now - 5000);
        char formatted [37];
        audit_ident_uuid_format (event->event_id, formatted);
        cr_assert_str_eq (formatted, event_id);
        cr_assert_str_eq (s_info.event_id, event_id);
        cr_assert_eq (s_info.dropped_total, 0);
        cr_assert_eq (event->producer_id [0], 0);
        cr_assert_not (event->has_seq);
    }
}

Test (decode, every_event_type_keeps_its_optional_fields)
{
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        const audit_event_info_t *info = audit_proto_event_info ((audit_event_type_t) type);
        if (info->reserved || !info->optional)
            continue;
        pair_t extra [AUDIT_FIELD_COUNT];
        size_t count = 0;
        for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
            if (info->optional & AUDIT_FIELD_BIT (field))
                extra [count++] = (pair_t) STR (audit_proto_field_info ((audit_field_t) field)->key,
                                                s_field_text (field));
        cr_assert_eq (EVENT_OUTCOME (s_event ((audit_event_type_t) type, NULL, extra, count)),
                      ACCEPTED, "%s", info->name);
        audit_event_t *event = &s_record.u.event;
        cr_assert_eq (event->present, info->required | info->optional, "%s", info->name);
        for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
            if (info->optional & AUDIT_FIELD_BIT (field))
                cr_assert_str_eq (event->text [field], s_field_text (field));
    }
}

Test (decode, fields_are_stored_typed)
{
    test_pack_t *pack = s_event (AUDIT_EVENT_BROADCAST_SENT, "recipient_count",
        EXTRA (UINT ("recipient_count", 10000000), STR ("group_id", "g-1"),
               STR ("producer_id", "svc-a/1"), UINT ("seq", UINT64_MAX)));
    cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED);
    audit_event_t *event = &s_record.u.event;
    cr_assert_eq (event->number [AUDIT_FIELD_RECIPIENT_COUNT], 10000000);
    cr_assert_str_eq (event->text [AUDIT_FIELD_BROADCAST_ID], "broadcast_id-7");
    cr_assert_str_eq (event->text [AUDIT_FIELD_GROUP_ID], "g-1");
    cr_assert_str_eq (event->producer_id, "svc-a/1");
    cr_assert_str_eq (s_info.producer_id, "svc-a/1");
    cr_assert (event->has_seq);
    cr_assert_eq (event->seq, UINT64_MAX);
    cr_assert_eq (s_record.kind, AUDIT_TOPIC_KIND_AUDIT);

    pack = s_event (AUDIT_EVENT_FILE_TRANSFERRED, "file_size",
                    EXTRA (UINT ("file_size", 9007199254740992ULL)));
    cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED);
    cr_assert_eq (s_record.u.event.number [AUDIT_FIELD_FILE_SIZE], 9007199254740992ULL);
    pack = s_event (AUDIT_EVENT_BROADCAST_SENT, "recipient_count",
                    EXTRA (UINT ("recipient_count", 0)));
    cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED);
}

Test (decode, event_id_is_read_in_any_case_and_named_in_lower_case)
{
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL, NONE)), ACCEPTED);
    const uint8_t expected [16] = { 0x6f, 0x96, 0x19, 0xff, 0x8b, 0x86, 0xd0, 0x11,
                                    0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9, 0x64, 0xff };
    cr_assert_eq (memcmp (s_record.u.event.event_id, expected, 16), 0);
    cr_assert_str_eq (s_info.event_id, UUID_LOWER);
}

Test (decode, keys_may_come_in_any_order)
{
    const pair_t base [] = {
        STR ("device_id", "device-7"), STR ("actor_id", "admin-1"), NOW ("timestamp"),
        STR ("org_id", "acme"), STR ("event_type", "device_registered"),
        STR ("event_id", UUID_LOWER), UINT ("v", 1)
    };
    test_pack_t *pack = s_pack_open (base, 7, NULL, NONE, 0);
    cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED);
    cr_assert_eq (s_record.u.event.type, AUDIT_EVENT_DEVICE_REGISTERED);
    cr_assert_str_eq (s_record.u.event.text [AUDIT_FIELD_DEVICE_ID], "device-7");
}

//  =====================================================================
//  Rejections, one reason at a time

Test (decode, each_required_field_missing_is_missing_field)
{
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        if (audit_proto_event_info ((audit_event_type_t) type)->reserved)
            continue;
        pair_t base [32];
        size_t count = s_event_base ((audit_event_type_t) type, base);
        for (size_t omitted = 0; omitted < count; omitted++) {
            if (strcmp (base [omitted].key, "event_type") == 0)
                continue;           //  without a type nothing else is known
            test_pack_t *pack = s_event ((audit_event_type_t) type, base [omitted].key, NONE);
            cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_MISSING_FIELD,
                          "type %d without %s", type, base [omitted].key);
        }
    }
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "event_type", NONE)),
                  AUDIT_REASON_MISSING_FIELD);
}

Test (decode, version_other_than_uint_1_is_bad_version)
{
    const pair_t versions [] = {
        UINT ("v", 2), UINT ("v", 0), STR ("v", "1"), RAW ("v", 0xff), RAW ("v", 0xc0),
        RAW ("v", 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0), RAW ("v", 0xc3)
    };
    for (size_t index = 0; index < sizeof versions / sizeof versions [0]; index++)
        cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "v", &versions [index], 1)),
                      AUDIT_REASON_BAD_VERSION, "version %zu", index);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "v",
                                          EXTRA (RAW ("v", 0xcd, 0x00, 0x01)))), ACCEPTED);
}

Test (decode, type_outside_the_catalogue_is_unknown_type)
{
    const char *names [] = { "user_login2", "", "USER_LOGIN", "user_login ", "user", "x" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++) {
        pair_t type = STR ("event_type", names [index]);
        cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "event_type", &type, 1)),
                      AUDIT_REASON_UNKNOWN_TYPE, "'%s'", names [index]);
    }
}

Test (decode, types_the_service_writes_are_reserved_type)
{
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_AUDIT_LOG_EXPORTED, NULL, NONE)),
                  AUDIT_REASON_RESERVED_TYPE);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_RETENTION_CHANGED, NULL, NONE)),
                  AUDIT_REASON_RESERVED_TYPE);
}

Test (decode, event_id_not_canonical_uuid_is_bad_field)
{
    const char *ids [] = {
        "6f9619ff-8b86-d011-b42d-00c04fc964f", "6f9619ff-8b86-d011-b42d-00c04fc964fff",
        "6f9619ff8b86-d011-b42d-00c04fc964ff0", "6f9619ff-8b86-d011-b42d_00c04fc964ff",
        "6f9619fg-8b86-d011-b42d-00c04fc964ff", "{6f9619ff-8b86-d011-b42d-00c04fc964f}",
        "6f9619ff8b86d011b42d00c04fc964ff", "", " 6f9619ff-8b86-d011-b42d-00c04fc964f",
    };
    for (size_t index = 0; index < sizeof ids / sizeof ids [0]; index++) {
        pair_t id = STR ("event_id", ids [index]);
        cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "event_id", &id, 1)),
                      AUDIT_REASON_BAD_FIELD, "'%s'", ids [index]);
        cr_assert_str_eq (s_info.event_id, "");
    }
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "event_id",
                                          EXTRA (UINT ("event_id", 7)))), AUDIT_REASON_BAD_FIELD);
}

Test (decode, identifier_out_of_form_is_bad_field)
{
    char long_one [130];
    memset (long_one, 'a', 129);
    long_one [129] = 0;
    const char *values [] = { "", "has space", "tab\there", "del\x7f", "caf\xc3\xa9", long_one };
    const char *keys [] = { "org_id", "actor_id" };
    for (int key = 0; key < 2; key++)
        for (size_t index = 0; index < sizeof values / sizeof values [0]; index++) {
            pair_t pair = STR (keys [key], values [index]);
            cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, keys [key], &pair, 1)),
                          AUDIT_REASON_BAD_FIELD, "%s '%s'", keys [key], values [index]);
        }
    long_one [128] = 0;                 //  128 bytes is still an identifier
    pair_t longest = STR ("org_id", long_one);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "org_id", &longest, 1)), ACCEPTED);
    cr_assert_str_eq (s_record.u.event.org_id, long_one);
}

Test (decode, wrong_messagepack_type_is_bad_field)
{
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "org_id",
                                          EXTRA (UINT ("org_id", 5)))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "actor_id",
                                          EXTRA (RAW ("actor_id", 0xc0)))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "actor_id",
                                          EXTRA (RAW ("actor_id", 0xc4, 0x01, 'a')))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "event_type",
                                          EXTRA (UINT ("event_type", 1)))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_DEVICE_REVOKED, "device_id",
                                          EXTRA (RAW ("device_id", 0x91, 0xa1, 'd')))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_BROADCAST_SENT, "recipient_count",
                                          EXTRA (STR ("recipient_count", "5")))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_BROADCAST_SENT, "recipient_count",
                                          EXTRA (RAW ("recipient_count", 0xff)))), AUDIT_REASON_BAD_FIELD);
}

Test (decode, resource_field_out_of_form_or_range_is_bad_field)
{
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_BROADCAST_SENT, "recipient_count",
                  EXTRA (UINT ("recipient_count", 10000001)))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_FILE_TRANSFERRED, "file_size",
                  EXTRA (UINT ("file_size", 9007199254740993ULL)))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_DEVICE_APPROVED, "device_id",
                  EXTRA (STR ("device_id", "dev ice")))), AUDIT_REASON_BAD_FIELD);
    //  an optional field, present but broken, is bad too
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_DEVICE_APPROVED, NULL,
                  EXTRA (STR ("user_id", "")))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_INVITED, NULL,
                  EXTRA (UINT ("role", 3)))), AUDIT_REASON_BAD_FIELD);
}

Test (decode, producer_id_and_seq_out_of_form_are_bad_field)
{
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (STR ("producer_id", "svc a")))), AUDIT_REASON_BAD_FIELD);
    cr_assert_str_eq (s_info.producer_id, "");
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (UINT ("producer_id", 1)))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (STR ("seq", "12")))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (RAW ("seq", 0xd0, 0xfe)))), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (RAW ("seq", 0xd0, 0x05)))), ACCEPTED);
    cr_assert_eq (s_record.u.event.seq, 5);
}

//  =====================================================================
//  Timestamps

//  A user_login event with the timestamp text given
static test_pack_t *
s_event_at_text (const char *text)
{
    pair_t pair = STR ("timestamp", text);
    return s_event (AUDIT_EVENT_USER_LOGIN, "timestamp", &pair, 1);
}

static int
s_timestamp_outcome (const char *text, int64_t *stored)
{
    int outcome = s_outcome_at (AUDIT_TOPIC_KIND_AUDIT, s_event_at_text (text), FIXED_NOW);
    *stored = s_record.u.event.timestamp_ms;
    return outcome;
}

Test (decode, timestamp_text_in_every_rfc3339_form)
{
    const struct { const char *text; int64_t ms; } forms [] = {
        { "2026-11-26T09:47:19.123Z",       FIXED_NOW },
        { "2026-11-26t09:47:19.123z",       FIXED_NOW },
        { "2026-11-26T15:17:19.123+05:30",  FIXED_NOW },
        { "2026-11-26T01:47:19.123-08:00",  FIXED_NOW },
        { "2026-11-26T09:47:19Z",           FIXED_NOW - 123 },
        { "2026-11-26T09:47:19.1Z",         FIXED_NOW - 23 },
        { "2026-11-26T09:47:19.12Z",        FIXED_NOW - 3 },
        { "2026-11-26T09:47:19.1234Z",      FIXED_NOW },
        { "2026-11-26T09:47:19.12345Z",     FIXED_NOW },
        { "2026-11-26T09:47:19.123456Z",    FIXED_NOW },
        { "2026-11-26T09:47:19.1234567Z",   FIXED_NOW },
        { "2026-11-26T09:47:19.12345678Z",  FIXED_NOW },
        { "2026-11-26T09:47:19.123456789Z", FIXED_NOW },
    };
    for (size_t index = 0; index < sizeof forms / sizeof forms [0]; index++) {
        int64_t stored;
        cr_assert_eq (s_timestamp_outcome (forms [index].text, &stored), ACCEPTED,
                      "%s", forms [index].text);
        cr_assert_eq (stored, forms [index].ms, "%s", forms [index].text);
    }
}

Test (decode, timestamp_ext_in_every_size)
{
    const int sizes [] = { 4, 8, 12 };
    for (int index = 0; index < 3; index++) {
        test_pack_t *pack = s_event_open (AUDIT_EVENT_USER_LOGIN, "timestamp", NONE, 1);
        test_pack_kv_ts_ext (pack, "timestamp", FIXED_NOW, sizes [index]);
        cr_assert_eq (s_outcome_at (AUDIT_TOPIC_KIND_AUDIT, pack, FIXED_NOW), ACCEPTED);
        int64_t expected = sizes [index] == 4? FIXED_NOW / 1000 * 1000: FIXED_NOW;
        cr_assert_eq (s_record.u.event.timestamp_ms, expected, "ext %d", sizes [index]);
    }
}

Test (decode, timestamp_text_out_of_form_is_bad_timestamp)
{
    const char *bad [] = {
        "2026-02-30T09:47:19Z", "2025-02-29T09:47:19Z", "2026-11-26T24:00:00Z",
        "2026-11-26 09:47:19Z", "2026-11-2609:47:19Z", "2026-11-26T09:47:19+25:00",
        "2026-11-26T09:47:19.123Zjunk", "2026-11-26T09:47:19.123", "", "now",
        "1795686439123",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        int64_t stored;
        cr_assert_eq (s_timestamp_outcome (bad [index], &stored), AUDIT_REASON_BAD_TIMESTAMP,
                      "'%s'", bad [index]);
    }
}

//  The contract's bad_field is "wrong type"; bad_timestamp is kept for a
//  timestamp that is one but not a good one
Test (decode, timestamp_of_another_type_is_bad_field)
{
    const pair_t values [] = {
        UINT ("timestamp", 1795686439), RAW ("timestamp", 0xc0),
        RAW ("timestamp", 0xcb, 0x41, 0xda, 0xbf, 0x41, 0x09, 0xc0, 0x00, 0x00),
        RAW ("timestamp", 0xd6, 0x01, 0x6a, 0xe9, 0x40, 0x00),     //  ext type 1
        RAW ("timestamp", 0x92, 0x01, 0x02),
    };
    for (size_t index = 0; index < sizeof values / sizeof values [0]; index++)
        cr_assert_eq (s_outcome_at (AUDIT_TOPIC_KIND_AUDIT,
                          s_event (AUDIT_EVENT_USER_LOGIN, "timestamp", &values [index], 1),
                          FIXED_NOW),
                      AUDIT_REASON_BAD_FIELD, "value %zu", index);
    const pair_t short_ext = RAW ("timestamp", 0xc7, 0x05, 0xff, 0, 0, 0, 0, 0);   //  ext -1, 5 bytes
    cr_assert_eq (s_outcome_at (AUDIT_TOPIC_KIND_AUDIT,
                      s_event (AUDIT_EVENT_USER_LOGIN, "timestamp", &short_ext, 1), FIXED_NOW),
                  AUDIT_REASON_BAD_TIMESTAMP);
}

Test (decode, timestamp_ext_with_a_second_of_nanoseconds_is_bad_timestamp)
{
    //  8 bytes: ns = 1e9 in the upper 30 bits, seconds 0x6ae94000
    const pair_t eight = RAW ("timestamp", 0xd7, 0xff, 0xee, 0x6b, 0x28, 0x00, 0x6a, 0xe9, 0x40, 0x00);
    const pair_t twelve = RAW ("timestamp", 0xc7, 0x0c, 0xff, 0x3b, 0x9a, 0xca, 0x00,
                               0, 0, 0, 0, 0x6a, 0xe9, 0x40, 0x00);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "timestamp", &eight, 1)),
                  AUDIT_REASON_BAD_TIMESTAMP);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "timestamp", &twelve, 1)),
                  AUDIT_REASON_BAD_TIMESTAMP);
}

Test (decode, timestamp_window_is_one_hour_ahead_and_twelve_months_back)
{
    const struct { int64_t offset; int outcome; } cases [] = {
        { AUDIT_FUTURE_MAX_MS,              ACCEPTED },
        { AUDIT_FUTURE_MAX_MS + 1,          AUDIT_REASON_BAD_TIMESTAMP },
        { AUDIT_FUTURE_MAX_MS + 1000,       AUDIT_REASON_BAD_TIMESTAMP },
        { -AUDIT_PAST_MAX_MS,               ACCEPTED },
        { -AUDIT_PAST_MAX_MS - 1,           AUDIT_REASON_BAD_TIMESTAMP },
        { -366 * AUDIT_MS_PER_DAY,          AUDIT_REASON_BAD_TIMESTAMP },
        { -364 * AUDIT_MS_PER_DAY,          ACCEPTED },
        { 0,                                ACCEPTED },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        char text [AUDIT_TIME_TEXT_SIZE];
        audit_time_format (FIXED_NOW + cases [index].offset, text);
        int64_t stored;
        cr_assert_eq (s_timestamp_outcome (text, &stored), cases [index].outcome, "%s", text);
    }
    //  the same through the ext form, against the real clock
    test_pack_t *pack = s_event_open (AUDIT_EVENT_USER_LOGIN, "timestamp", NONE, 1);
    test_pack_kv_ts_ext (pack, "timestamp", test_now_ms () + AUDIT_FUTURE_MAX_MS + 1000, 12);
    cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_BAD_TIMESTAMP);
}

//  =====================================================================
//  Precedence and what a rejection still reports

Test (decode, the_fault_of_highest_precedence_wins)
{
    //  malformed > bad_version: trailing byte after a map with v = 2
    test_pack_t *pack = s_event (AUDIT_EVENT_USER_LOGIN, "v", EXTRA (UINT ("v", 2)));
    msgpack_pack_nil (&pack->packer);
    cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_MALFORMED);
    //  bad_version > unknown_type
    const pair_t version_unknown [] = { STR ("event_type", "nope"), UINT ("v", 2) };
    cr_assert_eq (EVENT_OUTCOME (s_pack_open (version_unknown, 2, NULL, NONE, 0)),
                  AUDIT_REASON_BAD_VERSION);
    //  unknown_type > missing_field
    const pair_t unknown_missing [] = { UINT ("v", 1), STR ("event_type", "nope") };
    cr_assert_eq (EVENT_OUTCOME (s_pack_open (unknown_missing, 2, NULL, NONE, 0)),
                  AUDIT_REASON_UNKNOWN_TYPE);
    //  reserved_type > missing_field
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_RETENTION_CHANGED, "retention_days", NONE)),
                  AUDIT_REASON_RESERVED_TYPE);
    //  missing_field > bad_field
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "org_id",
                  EXTRA (STR ("producer_id", "bad id")))),
                  AUDIT_REASON_MISSING_FIELD);
    //  bad_field > bad_timestamp
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "timestamp",
                  EXTRA (STR ("timestamp", "yesterday"), STR ("producer_id", "bad id")))),
                  AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "timestamp",
                  EXTRA (STR ("producer_id", "bad id"), STR ("timestamp", "yesterday")))),
                  AUDIT_REASON_BAD_FIELD);
}

Test (decode, a_rejection_still_names_event_id_and_producer)
{
    test_pack_t *pack = s_event (AUDIT_EVENT_USER_LOGIN, "timestamp",
        EXTRA (STR ("timestamp", "not a time"), STR ("producer_id", "svc-a"), UINT ("seq", 9)));
    cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_BAD_TIMESTAMP);
    cr_assert_str_eq (s_info.event_id, UUID_LOWER);
    cr_assert_str_eq (s_info.producer_id, "svc-a");
    //  the record itself is wiped, so nothing of a rejected event lingers
    cr_assert_not (s_record_holds ("acme"));
    cr_assert_not (s_record_holds ("admin-1"));

    pack = s_event (AUDIT_EVENT_USER_LOGIN, "event_type",
                    EXTRA (STR ("producer_id", "svc-b"), STR ("event_type", "nope")));
    cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_UNKNOWN_TYPE);
    cr_assert_str_eq (s_info.event_id, UUID_LOWER);
    cr_assert_str_eq (s_info.producer_id, "svc-b");
}

//  =====================================================================
//  Privacy: keys the type does not allow

Test (decode, keys_the_type_does_not_allow_are_dropped_and_named)
{
    char long_key [201];
    memset (long_key, 'k', 200);
    long_key [200] = 0;
    test_pack_t *pack = s_event_open (AUDIT_EVENT_USER_LOGIN, NULL,
        EXTRA (STR ("message_body", "SECRET-BODY"), STR ("password", "SECRET-PASSWORD"),
               STR ("otp", "SECRET-OTP"), UINT ("file_size", 424242),
               STR ("client_ip", "SECRET-IP")), 3);
    test_pack_str (pack, "recipients");
    msgpack_pack_array (&pack->packer, 2);
    test_pack_str (pack, "SECRET-RECIPIENT-1");
    test_pack_str (pack, "SECRET-RECIPIENT-2");
    test_pack_kv_str (pack, long_key, "SECRET-LONG");
    test_pack_kv_str (pack, "bad key\n", "SECRET-NEWLINE");
    cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED);
    cr_assert_eq (s_info.dropped_total, 8);
    cr_assert_eq (s_info.dropped_count, 8);
    const char *names [] = { "message_body", "password", "otp", "file_size",
                             "client_ip", "recipients" };
    for (int index = 0; index < 6; index++)
        cr_assert (s_dropped (names [index]), "%s not reported", names [index]);
    cr_assert (s_dropped (AUDIT_DECODE_KEY_OTHER));
    cr_assert_not (s_dropped (long_key));
    //  none of the values is anywhere in the record
    cr_assert_not (s_record_holds ("SECRET"));
    cr_assert_eq (s_record.u.event.number [AUDIT_FIELD_FILE_SIZE], 0);
    cr_assert_eq (s_record.u.event.present, 0);
}

//  The one key dropped from a user_login event that carries it
static const char *
s_dropped_as (const char *key)
{
    const pair_t extra = STR (key, "SECRET");
    int outcome = EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL, &extra, 1));
    cr_assert_eq (outcome, ACCEPTED, "%s", key);
    cr_assert_eq (s_info.dropped_count, 1, "%s", key);
    return s_info.dropped [0];
}

Test (decode, a_dropped_key_shaped_like_a_field_name_is_named)
{
    const char *names [] = { "password", "message_body", "userEmail", "x-forwarded-for",
                             "_internal", "extra_15", "a", "_" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++)
        cr_assert_str_eq (s_dropped_as (names [index]), names [index]);
    char longest [AUDIT_DECODE_KEY_NAME_MAX + 2];
    memset (longest, 'k', sizeof longest);
    longest [AUDIT_DECODE_KEY_NAME_MAX] = 0;
    cr_assert_str_eq (s_dropped_as (longest), longest);
    longest [AUDIT_DECODE_KEY_NAME_MAX] = 'k';
    longest [AUDIT_DECODE_KEY_NAME_MAX + 1] = 0;
    cr_assert_str_eq (s_dropped_as (longest), AUDIT_DECODE_KEY_OTHER);
}

//  Mutated bodies put values in key position: such a key is an identifier
//  by the contract's rule, but must not reach counters or logs as a name
Test (decode, a_dropped_key_shaped_like_a_value_is_other)
{
    const char *values [] = { "/a/b?x=1", "10.0.0.1", "fe80::1", "2026-11-26T10:00:00Z",
                              UUID_LOWER, "someone@example.com", "example.com", "-x",
                              "1abc", "a.b", "a b", "a\tb", "caf\xc3\xa9", "x=1" };
    for (size_t index = 0; index < sizeof values / sizeof values [0]; index++)
        cr_assert_str_eq (s_dropped_as (values [index]), AUDIT_DECODE_KEY_OTHER,
                          "%s", values [index]);
}

Test (decode, a_known_field_before_event_type_is_still_dropped)
{
    const pair_t base [] = {
        STR ("file_ref", "SECRET-REF"), UINT ("file_size", 77), STR ("device_id", "device-7"),
        UINT ("v", 1), STR ("event_id", UUID_LOWER), NOW ("timestamp"), STR ("org_id", "acme"),
        STR ("actor_id", "admin-1"), STR ("event_type", "user_login"),
    };
    cr_assert_eq (EVENT_OUTCOME (s_pack_open (base, 9, NULL, NONE, 0)), ACCEPTED);
    audit_event_t *event = &s_record.u.event;
    cr_assert_eq (event->present, AUDIT_FIELD_BIT (AUDIT_FIELD_DEVICE_ID));
    cr_assert_eq (event->number [AUDIT_FIELD_FILE_SIZE], 0);
    cr_assert_eq (event->text [AUDIT_FIELD_FILE_REF][0], 0);
    cr_assert_not (s_record_holds ("SECRET"));
    cr_assert (s_dropped ("file_ref"));
    cr_assert (s_dropped ("file_size"));
    cr_assert_eq (s_info.dropped_total, 2);
}

Test (decode, a_broken_value_of_a_key_not_allowed_is_dropped_not_bad)
{
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (STR ("file_size", "lots"), STR ("role", "")))), ACCEPTED);
    cr_assert (s_dropped ("file_size"));
    cr_assert (s_dropped ("role"));
    cr_assert_eq (s_record.u.event.present, 0);
}

Test (decode, more_dropped_keys_than_names_are_all_counted)
{
    test_pack_t *pack = s_event_open (AUDIT_EVENT_USER_LOGIN, NULL, NONE, 20);
    for (int index = 0; index < 20; index++) {
        char key [16];
        snprintf (key, sizeof key, "extra_%d", index);
        test_pack_kv_uint (pack, key, (uint64_t) index);
    }
    cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED);
    cr_assert_eq (s_info.dropped_total, 20);
    cr_assert_eq (s_info.dropped_count, AUDIT_DECODE_DROPPED_MAX);
    cr_assert_str_eq (s_info.dropped [0], "extra_0");
    cr_assert_str_eq (s_info.dropped [AUDIT_DECODE_DROPPED_MAX - 1], "extra_15");
}

Test (decode, a_dropped_value_may_nest_to_the_reader_depth)
{
    uint8_t nested [AUDIT_MP_DEPTH_MAX + 1];
    memset (nested, 0x91, AUDIT_MP_DEPTH_MAX);
    nested [AUDIT_MP_DEPTH_MAX] = 0xc0;
    const pair_t deep = { "deep", 'r', (const char *) nested, sizeof nested };
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL, &deep, 1)), ACCEPTED);
    cr_assert (s_dropped ("deep"));
}

//  =====================================================================
//  Malformed and hostile input: refused, never a crash

Test (decode, a_known_key_twice_is_malformed)
{
    const char *keys [] = { "v", "event_id", "event_type", "timestamp", "org_id", "actor_id" };
    for (int index = 0; index < 6; index++) {
        pair_t base [32];
        size_t count = s_event_base (AUDIT_EVENT_USER_LOGIN, base);
        pair_t again = base [index];
        cr_assert_str_eq (again.key, keys [index]);
        cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL, &again, 1)),
                      AUDIT_REASON_MALFORMED, "%s twice", keys [index]);
        (void) count;
    }
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (STR ("device_id", "a"), STR ("device_id", "b")))), AUDIT_REASON_MALFORMED);
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL,
                  EXTRA (UINT ("seq", 1), UINT ("seq", 2)))), AUDIT_REASON_MALFORMED);
}

Test (decode, a_key_that_is_not_a_str_is_malformed)
{
    const uint8_t *keys [] = {
        (const uint8_t []) { 0x01 }, (const uint8_t []) { 0xc4, 0x01, 'v' },
        (const uint8_t []) { 0xc0 }, (const uint8_t []) { 0x90 },
    };
    const size_t sizes [] = { 1, 3, 1, 1 };
    for (int index = 0; index < 4; index++) {
        test_pack_t *pack = s_event_open (AUDIT_EVENT_USER_LOGIN, NULL, NONE, 1);
        msgpack_sbuffer_write (&pack->buffer, (const char *) keys [index], sizes [index]);
        test_pack_uint (pack, 1);
        cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_MALFORMED, "key %d", index);
    }
}

Test (decode, a_body_that_is_not_one_map_is_malformed)
{
    const uint8_t array [] = { 0x91, 0x80 };
    const uint8_t text [] = { 0xa1, 'x' };
    const uint8_t nil [] = { 0xc0 };
    const uint8_t two_maps [] = { 0x80, 0x80 };
    cr_assert_eq (s_raw_outcome (array, sizeof array), AUDIT_REASON_MALFORMED);
    cr_assert_eq (s_raw_outcome (text, sizeof text), AUDIT_REASON_MALFORMED);
    cr_assert_eq (s_raw_outcome (nil, sizeof nil), AUDIT_REASON_MALFORMED);
    cr_assert_eq (s_raw_outcome (two_maps, sizeof two_maps), AUDIT_REASON_MALFORMED);
    cr_assert_eq (s_raw_outcome (NULL, 0), AUDIT_REASON_MALFORMED);
    cr_assert_eq (s_raw_outcome ("", 0), AUDIT_REASON_MALFORMED);
    //  an empty map is a map: every required key is missing
    cr_assert_eq (s_raw_outcome ((const uint8_t []) { 0x80 }, 1), AUDIT_REASON_MISSING_FIELD);
}

Test (decode, trailing_bytes_are_malformed)
{
    const uint8_t tails [][2] = { { 0xc0, 0 }, { 0x80, 0 }, { 0x00, 0 }, { 0xc1, 0 } };
    for (int index = 0; index < 4; index++) {
        test_pack_t *pack = s_event (AUDIT_EVENT_USER_LOGIN, NULL, NONE);
        msgpack_sbuffer_write (&pack->buffer, (const char *) tails [index], 1);
        cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_MALFORMED, "tail %d", index);
    }
}

Test (decode, a_map_header_announcing_four_billion_pairs_is_malformed)
{
    const uint8_t hostile [10] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'v', 0x01, 0xa1, 'x' };
    cr_assert_eq (s_raw_outcome (hostile, sizeof hostile), AUDIT_REASON_MALFORMED);
}

Test (decode, hostile_values_inside_a_dropped_key_are_malformed)
{
    const pair_t hostile [] = {
        RAW ("junk", 0xdd, 0xee, 0x6b, 0x28, 0x00, 0xc0, 0xc0),    //  array32 of 4e9
        RAW ("junk", 0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0),           //  map32 of 2^31
        RAW ("junk", 0xdb, 0xff, 0xff, 0xff, 0xf0, 'a'),            //  str32 past the end
        RAW ("junk", 0xc6, 0x00, 0x10, 0x00, 0x00, 'a'),            //  bin32 past the end
        RAW ("junk", 0xc9, 0x00, 0x00, 0x01, 0x00, 0x01, 'a'),      //  ext32 past the end
        RAW ("junk", 0xc1),                                         //  never used
        RAW ("junk", 0x92, 0xc0, 0xc1),                             //  ... nested
    };
    for (size_t index = 0; index < sizeof hostile / sizeof hostile [0]; index++)
        cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL, &hostile [index], 1)),
                      AUDIT_REASON_MALFORMED, "value %zu", index);
}

Test (decode, a_structural_fault_in_a_known_value_is_malformed)
{
    const pair_t hostile [] = {
        RAW ("org_id", 0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'),
        RAW ("org_id", 0xc1),
        RAW ("event_type", 0xd9, 0x40, 'a'),
        RAW ("timestamp", 0xc9, 0xff, 0xff, 0xff, 0xff, 0xff),
        RAW ("timestamp", 0x91, 0xc1),
        RAW ("v", 0xcf, 0x00),
    };
    for (size_t index = 0; index < sizeof hostile / sizeof hostile [0]; index++)
        cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, hostile [index].key,
                                              &hostile [index], 1)),
                      AUDIT_REASON_MALFORMED, "value %zu", index);
    //  a str32 key announcing more than the buffer
    test_pack_t *pack = s_event_open (AUDIT_EVENT_USER_LOGIN, NULL, NONE, 1);
    msgpack_sbuffer_write (&pack->buffer, "\xdb\x00\x01\x00\x00k", 6);
    cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_MALFORMED);
}

Test (decode, nesting_ten_thousand_deep_is_malformed)
{
    size_t depth = 10000;
    uint8_t *nested = malloc (depth + 1);
    memset (nested, 0x91, depth);
    nested [depth] = 0xc0;
    const pair_t deep = { "deep", 'r', (const char *) nested, depth + 1 };
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL, &deep, 1)),
                  AUDIT_REASON_MALFORMED);
    memset (nested, 0x81, depth);       //  maps this time, each with a key
    cr_assert_eq (s_raw_outcome (nested, depth + 1), AUDIT_REASON_MALFORMED);
    free (nested);
}

Test (decode, a_body_over_64_kib_is_malformed)
{
    size_t size = AUDIT_EVENT_MAX_BYTES;
    char *filler = malloc (size + 1);
    memset (filler, 'f', size);
    filler [size] = 0;
    pair_t pair = STR ("filler", filler);
    test_pack_t *pack = s_event (AUDIT_EVENT_USER_LOGIN, NULL, &pair, 1);
    cr_assert_gt (test_pack_size (pack), AUDIT_EVENT_MAX_BYTES);
    cr_assert_eq (EVENT_OUTCOME (pack), AUDIT_REASON_MALFORMED);
    //  just under the limit, the filler is only a dropped key
    filler [size - 400] = 0;
    pack = s_event (AUDIT_EVENT_USER_LOGIN, NULL, &pair, 1);
    cr_assert_leq (test_pack_size (pack), AUDIT_EVENT_MAX_BYTES);
    cr_assert_eq (EVENT_OUTCOME (pack), ACCEPTED);
    cr_assert (s_dropped ("filler"));
    free (filler);
}

Test (decode, every_truncation_of_a_valid_body_is_malformed)
{
    const pair_t extra [] = { STR ("group_id", "g-1"), STR ("producer_id", "svc-1"),
                              UINT ("seq", 70000), STR ("note", "dropped") };
    test_pack_t *pack = s_event_open (AUDIT_EVENT_BROADCAST_SENT, NULL, extra, 4, 1);
    test_pack_kv_ts_ext (pack, "when", 1, 12);
    const uint8_t *data = test_pack_data (pack);
    size_t size = test_pack_size (pack);
    cr_assert_eq (s_raw_outcome (data, size), ACCEPTED);
    for (size_t cut = 0; cut < size; cut++) {
        uint8_t *prefix = malloc (cut? cut: 1); //  exactly cut bytes, for ASan
        memcpy (prefix, data, cut);
        cr_assert_eq (s_raw_outcome (prefix, cut), AUDIT_REASON_MALFORMED, "cut at %zu", cut);
        free (prefix);
    }
    test_pack_destroy (&pack);
}

//  =====================================================================
//  Operational records

Test (decode, ops_record_is_stored_typed)
{
    //  The body's timestamp is formatted while it is packed, so it lies
    //  between the two readings of the clock, never after the second
    int64_t before = test_now_ms ();
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, NULL, NONE, 0)), ACCEPTED);
    int64_t after = test_now_ms ();
    audit_ops_t *ops = &s_record.u.ops;
    cr_assert_eq (s_record.kind, AUDIT_TOPIC_KIND_OPS);
    cr_assert_str_eq (ops->client_ip, "192.0.2.1");
    cr_assert_str_eq (ops->method, "GET");
    cr_assert_str_eq (ops->path, "/v1/messages");
    cr_assert_eq (ops->status, 200);
    cr_assert (ops->timestamp_ms >= before && ops->timestamp_ms <= after,
               "%" PRId64 " not in [%" PRId64 ", %" PRId64 "]", ops->timestamp_ms, before, after);
    cr_assert_eq (s_info.dropped_total, 0);
}

Test (decode, ops_path_is_cut_at_query_and_fragment)
{
    const struct { const char *sent, *kept; } paths [] = {
        { "/a/b?token=SECRET#frag", "/a/b" }, { "/a#SECRET?x=1", "/a" }, { "/?SECRET", "/" },
        { "/#", "/" }, { "/caf\xc3\xa9/x", "/caf\xc3\xa9/x" }, { "/a?\x01SECRET", "/a" },
    };
    for (size_t index = 0; index < sizeof paths / sizeof paths [0]; index++) {
        pair_t path = STR ("path", paths [index].sent);
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "path", &path, 1, 0)), ACCEPTED,
                      "%s", paths [index].sent);
        cr_assert_str_eq (s_record.u.ops.path, paths [index].kept);
        cr_assert_not (s_record_holds ("SECRET"));
    }
}

Test (decode, ops_path_out_of_form_is_bad_field)
{
    char *longest = malloc (AUDIT_OPS_PATH_MAX + 2);
    memset (longest, 'p', AUDIT_OPS_PATH_MAX + 1);
    longest [0] = '/';
    longest [AUDIT_OPS_PATH_MAX + 1] = 0;
    const char *paths [] = { "", "a/b", "?x", "/a\x01" "b", "/a\x7f", "/a\tb", "/\xff",
                             "/\xc3", "/\xc0\xaf", "/\xed\xa0\x80", longest };
    for (size_t index = 0; index < sizeof paths / sizeof paths [0]; index++) {
        pair_t path = STR ("path", paths [index]);
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "path", &path, 1, 0)),
                      AUDIT_REASON_BAD_FIELD, "path %zu", index);
    }
    longest [AUDIT_OPS_PATH_MAX] = 0;   //  2048 bytes is the most
    pair_t path = STR ("path", longest);
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "path", &path, 1, 0)), ACCEPTED);
    cr_assert_eq (strlen (s_record.u.ops.path), AUDIT_OPS_PATH_MAX);
    free (longest);
}

Test (decode, ops_client_ip_must_be_ipv4_or_ipv6)
{
    const char *good [] = { "10.0.0.1", "::1", "2001:db8::1", "::ffff:192.0.2.1",
                            "fe80:0000:0000:0000:0204:61ff:fe9d:f156" };
    for (size_t index = 0; index < sizeof good / sizeof good [0]; index++) {
        pair_t ip = STR ("client_ip", good [index]);
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "client_ip", &ip, 1, 0)), ACCEPTED,
                      "%s", good [index]);
        cr_assert_str_eq (s_record.u.ops.client_ip, good [index]);
    }
    const char *bad [] = { "999.1.1.1", "localhost", "1.2.3", "", "192.0.2.1 ",
                           "fe80::1%eth0", "2001:db8::g", "0000:0000:0000:0000:0000:ffff:192.000.002.001" };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        pair_t ip = STR ("client_ip", bad [index]);
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "client_ip", &ip, 1, 0)),
                      AUDIT_REASON_BAD_FIELD, "'%s'", bad [index]);
    }
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "client_ip",
                  EXTRA (UINT ("client_ip", 3232235777)), 0)), AUDIT_REASON_BAD_FIELD);
}

Test (decode, ops_method_is_upper_case_letters)
{
    const char *good [] = { "GET", "PATCH", "M", "ABCDEFGHIJKLMNOP" };
    for (size_t index = 0; index < sizeof good / sizeof good [0]; index++) {
        pair_t method = STR ("method", good [index]);
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "method", &method, 1, 0)), ACCEPTED);
        cr_assert_str_eq (s_record.u.ops.method, good [index]);
    }
    const char *bad [] = { "get", "Get", "G3T", "", "ABCDEFGHIJKLMNOPQ", "GET ", "M-SEARCH" };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        pair_t method = STR ("method", bad [index]);
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "method", &method, 1, 0)),
                      AUDIT_REASON_BAD_FIELD, "'%s'", bad [index]);
    }
}

Test (decode, ops_status_is_100_to_599)
{
    const struct { uint64_t status; int outcome; } cases [] = {
        { 100, ACCEPTED }, { 599, ACCEPTED }, { 99, AUDIT_REASON_BAD_FIELD },
        { 600, AUDIT_REASON_BAD_FIELD }, { 0, AUDIT_REASON_BAD_FIELD },
        { 65736, AUDIT_REASON_BAD_FIELD },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        pair_t status = UINT ("status", cases [index].status);
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "status", &status, 1, 0)),
                      cases [index].outcome, "%llu", (unsigned long long) cases [index].status);
    }
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "status", EXTRA (STR ("status", "200")), 0)),
                  AUDIT_REASON_BAD_FIELD);
}

Test (decode, ops_identity_keys_are_dropped)
{
    test_pack_t *pack = s_pack_open (OPS_BASE, NULL,
        EXTRA (STR ("user_id", "SECRET-USER"), STR ("token", "SECRET-TOKEN"),
               STR ("email", "SECRET@example.com"), STR ("producer_id", "svc-1")), 0);
    cr_assert_eq (OPS_OUTCOME (pack), ACCEPTED);
    cr_assert_eq (s_info.dropped_total, 4);
    cr_assert (s_dropped ("user_id"));
    cr_assert (s_dropped ("token"));
    cr_assert (s_dropped ("email"));
    cr_assert_not (s_record_holds ("SECRET"));
}

Test (decode, ops_rejections)
{
    for (size_t index = 0; index < sizeof s_ops_base / sizeof s_ops_base [0]; index++)
        cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, s_ops_base [index].key, NONE, 0)),
                      AUDIT_REASON_MISSING_FIELD, "without %s", s_ops_base [index].key);
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "v", EXTRA (UINT ("v", 3)), 0)),
                  AUDIT_REASON_BAD_VERSION);
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, "timestamp",
                  EXTRA (STR ("timestamp", "2025-02-29T00:00:00Z")), 0)), AUDIT_REASON_BAD_TIMESTAMP);
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, NULL, EXTRA (STR ("path", "/again")), 0)),
                  AUDIT_REASON_MALFORMED);
    char *filler = malloc (AUDIT_EVENT_MAX_BYTES + 1);
    memset (filler, 'f', AUDIT_EVENT_MAX_BYTES);
    filler [AUDIT_EVENT_MAX_BYTES] = 0;
    pair_t pair = STR ("filler", filler);
    cr_assert_eq (OPS_OUTCOME (s_pack_open (OPS_BASE, NULL, &pair, 1, 0)), AUDIT_REASON_MALFORMED);
    free (filler);
}

//  =====================================================================
//  Undelivered messages

Test (decode, mq_message_is_stored_with_its_payload_borrowed)
{
    test_pack_t *pack = s_pack_open (MQ_BASE, NULL, NONE, 0);
    const uint8_t *data = test_pack_data (pack);
    size_t size = test_pack_size (pack);
    int rc = audit_decode_record (AUDIT_TOPIC_KIND_MQ, data, size, test_now_ms (),
                                  &s_record, &s_info);
    cr_assert_eq (rc, 0);
    audit_mq_t *mq = &s_record.u.mq;
    cr_assert_eq (s_record.kind, AUDIT_TOPIC_KIND_MQ);
    cr_assert (mq->payload > data && mq->payload + mq->payload_size <= data + size);
    cr_assert_eq (mq->payload_size, 4);
    cr_assert_eq (memcmp (mq->payload, s_payload, 4), 0);
    cr_assert_str_eq (mq->org_id, "acme");
    cr_assert_str_eq (mq->device_id, "device-7");
    cr_assert_str_eq (s_info.event_id, UUID_LOWER);
    char formatted [37];
    audit_ident_uuid_format (mq->message_id, formatted);
    cr_assert_str_eq (formatted, UUID_LOWER);
    test_pack_destroy (&pack);
}

Test (decode, mq_payload_is_one_byte_to_256_kib)
{
    uint8_t *payload = calloc (1, AUDIT_MQ_PAYLOAD_MAX + 1);
    const struct { size_t size; int outcome; } cases [] = {
        { 0, AUDIT_REASON_BAD_FIELD }, { 1, ACCEPTED }, { AUDIT_MQ_PAYLOAD_MAX, ACCEPTED },
        { AUDIT_MQ_PAYLOAD_MAX + 1, AUDIT_REASON_BAD_FIELD },
    };
    for (size_t index = 0; index < sizeof cases / sizeof cases [0]; index++) {
        pair_t pair = BIN ("payload", payload, cases [index].size);
        cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, "payload", &pair, 1, 0)),
                      cases [index].outcome, "%zu bytes", cases [index].size);
        if (cases [index].outcome == ACCEPTED)
            cr_assert_eq (s_record.u.mq.payload_size, cases [index].size);
        else
            cr_assert_null (s_record.u.mq.payload);
    }
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, "payload", EXTRA (STR ("payload", "text")), 0)),
                  AUDIT_REASON_BAD_FIELD);
    //  a body beyond the payload limit and its envelope room
    pair_t big = BIN ("payload", payload, AUDIT_MQ_PAYLOAD_MAX);
    pair_t filler = BIN ("filler", payload, 5000);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, "payload", (const pair_t []) { big, filler }, 2, 0)),
                  AUDIT_REASON_MALFORMED);
    free (payload);
}

Test (decode, mq_rejections_and_dropped_keys)
{
    for (size_t index = 0; index < sizeof s_mq_base / sizeof s_mq_base [0]; index++)
        cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, s_mq_base [index].key, NONE, 0)),
                      AUDIT_REASON_MISSING_FIELD, "without %s", s_mq_base [index].key);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, "message_id",
                  EXTRA (STR ("message_id", "not-a-uuid")), 0)), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, "device_id",
                  EXTRA (STR ("device_id", "a b")), 0)), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, "v", EXTRA (STR ("v", "1")), 0)),
                  AUDIT_REASON_BAD_VERSION);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, "timestamp",
                  EXTRA (UINT ("timestamp", 5)), 0)), AUDIT_REASON_BAD_FIELD);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, NULL,
                  EXTRA (STR ("subject", "SECRET-SUBJECT"), STR ("event_type", "x")), 0)), ACCEPTED);
    cr_assert (s_dropped ("subject"));
    cr_assert (s_dropped ("event_type"));
    cr_assert_not (s_record_holds ("SECRET"));
}

//  =====================================================================
//  Dispatch and helpers

Test (decode, an_unknown_topic_kind_is_malformed)
{
    test_pack_t *pack = s_event (AUDIT_EVENT_USER_LOGIN, NULL, NONE);
    memset (&s_info, 0x55, sizeof s_info);
    int rc = audit_decode_record (AUDIT_TOPIC_KIND_UNKNOWN, test_pack_data (pack),
                                  test_pack_size (pack), test_now_ms (), &s_record, &s_info);
    cr_assert_eq (rc, -1);
    cr_assert_eq (s_info.reason, AUDIT_REASON_MALFORMED);
    cr_assert_str_eq (s_info.event_id, "");
    cr_assert_eq (s_info.dropped_total, 0);
    test_pack_destroy (&pack);
    //  and an audit body sent on the ops topic is missing its keys
    cr_assert_eq (OPS_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, NULL, NONE)),
                  AUDIT_REASON_MISSING_FIELD);
}


//  The ops and mq bodies are their tables: every key of the table is one of
//  the body's, a required one left out is missing_field, one of the wrong
//  MessagePack type is bad_field (bad_version for v)
static void
s_check_body_table (audit_topic_kind_t kind, const pair_t *base, size_t count,
                    const audit_body_field_info_t *(*info_of) (int), int rows)
{
    cr_assert_eq ((size_t) rows, count, "the test's body and the table differ");
    for (int row = 0; row < rows; row++) {
        const audit_body_field_info_t *info = info_of (row);
        bool found = false;
        for (size_t index = 0; index < count; index++)
            found |= strcmp (base [index].key, info->key) == 0;
        cr_assert (found, "%s is not in the test's body", info->key);
        cr_expect_eq (s_outcome (kind, s_pack_open (base, count, info->key, NONE, 0)),
                      info->required? AUDIT_REASON_MISSING_FIELD: ACCEPTED, "%s", info->key);
        const pair_t wrong [] = { RAW (info->key, 0xc3) };     //  true
        //  (a timestamp of the wrong type is bad_field, as in an event)
        int expected = info->type == AUDIT_BODY_VERSION? AUDIT_REASON_BAD_VERSION:
                                                         AUDIT_REASON_BAD_FIELD;
        cr_expect_eq (s_outcome (kind, s_pack_open (base, count, info->key, wrong, 1, 0)),
                      expected, "%s", info->key);
    }
}

static const audit_body_field_info_t *
s_ops_info (int row)
{
    return audit_proto_ops_field_info ((audit_ops_field_t) row);
}

static const audit_body_field_info_t *
s_mq_info (int row)
{
    return audit_proto_mq_field_info ((audit_mq_field_t) row);
}

Test (decode, ops_and_mq_bodies_are_their_tables)
{
    s_check_body_table (AUDIT_TOPIC_KIND_OPS, OPS_BASE, s_ops_info, AUDIT_OPS_FIELD_COUNT);
    s_check_body_table (AUDIT_TOPIC_KIND_MQ, MQ_FULL, s_mq_info, AUDIT_MQ_FIELD_COUNT);
    cr_expect_null (audit_proto_ops_field_info (AUDIT_OPS_FIELD_COUNT));
    cr_expect_null (audit_proto_mq_field_info (AUDIT_MQ_FIELD_COUNT));
    cr_expect_eq (audit_proto_ops_field_info (AUDIT_OPS_FIELD_PATH)->max, AUDIT_OPS_PATH_MAX);
    cr_expect_eq (audit_proto_mq_field_info (AUDIT_MQ_FIELD_PAYLOAD)->max, AUDIT_MQ_PAYLOAD_MAX);
}

//  =====================================================================
//  The field a rejection names, and the producer's seq, for the ack

//  The reason of pack as kind, and the field it names ("" for none)
static int
s_outcome_field (audit_topic_kind_t kind, test_pack_t *pack, const char **field)
{
    int reason = s_outcome (kind, pack);
    *field = s_info.field? s_info.field: "";
    return reason;
}

Test (decode, a_rejection_names_the_key_that_broke_the_rule)
{
    const char *field;
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_AUDIT,
                  s_event (AUDIT_EVENT_USER_LOGIN, "actor_id", NONE), &field),
                  AUDIT_REASON_MISSING_FIELD);
    cr_expect_str_eq (field, "actor_id");
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_AUDIT,
                  s_event (AUDIT_EVENT_ROLE_CHANGED, "role", NONE), &field),
                  AUDIT_REASON_MISSING_FIELD);
    cr_expect_str_eq (field, "role");
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_AUDIT, s_event (AUDIT_EVENT_USER_LOGIN,
                  NULL, EXTRA (STR ("device_id", "a b SECRET"))), &field), AUDIT_REASON_BAD_FIELD);
    cr_expect_str_eq (field, "device_id", "the key, never its value");
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_AUDIT, s_event (AUDIT_EVENT_USER_LOGIN,
                  "org_id", EXTRA (STR ("org_id", "a b"))), &field), AUDIT_REASON_BAD_FIELD);
    cr_expect_str_eq (field, "org_id");
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_AUDIT, s_event (AUDIT_EVENT_USER_LOGIN,
                  "event_type", EXTRA (STR ("event_type", "no_such"))), &field),
                  AUDIT_REASON_UNKNOWN_TYPE);
    cr_expect_str_eq (field, "event_type");
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_AUDIT, s_event (AUDIT_EVENT_USER_LOGIN,
                  "timestamp", EXTRA (STR ("timestamp", "2001-01-01T00:00:00Z"))), &field),
                  AUDIT_REASON_BAD_TIMESTAMP);
    cr_expect_str_eq (field, "timestamp");
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_MQ, s_pack_open (MQ_BASE, "device_id",
                  NONE, 0), &field), AUDIT_REASON_MISSING_FIELD);
    cr_expect_str_eq (field, "device_id");
    cr_expect_eq (s_outcome_field (AUDIT_TOPIC_KIND_OPS, s_pack_open (OPS_BASE, "status",
                  EXTRA (UINT ("status", 42)), 0), &field), AUDIT_REASON_BAD_FIELD);
    cr_expect_str_eq (field, "status");
}

Test (decode, the_producer_and_seq_are_learnt_even_when_rejected)
{
    cr_assert_eq (EVENT_OUTCOME (s_event (AUDIT_EVENT_USER_LOGIN, "actor_id",
                  EXTRA (STR ("producer_id", "svc-1"), UINT ("seq", 7)))),
                  AUDIT_REASON_MISSING_FIELD);
    cr_expect_str_eq (s_info.producer_id, "svc-1");
    cr_expect (s_info.has_seq);
    cr_expect_eq (s_info.seq, 7);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_FULL, "payload", NONE, 0)),
                  AUDIT_REASON_MISSING_FIELD);
    cr_expect_str_eq (s_info.producer_id, "svc-1");
    cr_expect_eq (s_info.seq, 42);
    cr_assert_eq (MQ_OUTCOME (s_pack_open (MQ_BASE, NULL, NONE, 0)), ACCEPTED);
    cr_expect_not (s_info.has_seq, "none given");
}
