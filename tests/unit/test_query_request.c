/*  Requests are decoded and checked in one place: every rule of the
    contract's "Querying" section, and nothing echoed back but key names */

#include <criterion/criterion.h>
#include <string.h>

#include "audit_cursor.h"
#include "query_request.h"
#include "test_support.h"

static query_request_t s_request;
static audit_error_t s_error;
static char s_message [200];

static int
s_decode (test_pack_t *pack)
{
    return query_request_decode (test_pack_data (pack), test_pack_size (pack),
                                 &s_request, &s_error, s_message, sizeof s_message);
}

//  {v: 1, op, token, ...} with room for extra pairs
static test_pack_t *
s_start (const char *op, uint32_t extra)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 3 + extra);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", op);
    test_pack_kv_str (pack, "token", "t.o.k");
    return pack;
}

static void
s_assert_bad (test_pack_t *pack, const char *words)
{
    cr_assert_eq (s_decode (pack), -1);
    cr_assert_eq (s_error, AUDIT_ERROR_BAD_REQUEST, "%s", s_message);
    cr_assert (strstr (s_message, words), "message '%s' lacks '%s'", s_message, words);
    test_pack_destroy (&pack);
}

//  A str value of len bytes, which may hold NUL bytes
static void
s_pack_kv_bytes (test_pack_t *pack, const char *key, const char *text, size_t len)
{
    test_pack_str (pack, key);
    msgpack_pack_str (&pack->packer, len);
    msgpack_pack_str_body (&pack->packer, text, len);
}

#define KV_BYTES(pack, key, literal) s_pack_kv_bytes ((pack), (key), (literal), sizeof (literal) - 1)

//  Refused as bad_request naming the argument, and echoing none of the value
static void
s_assert_nul_refused (test_pack_t *pack, const char *key)
{
    char words [64];
    snprintf (words, sizeof words, "%s must not contain a NUL byte", key);
    s_assert_bad (pack, words);
    cr_assert_null (strstr (s_message, "junk"), "%s", s_message);
}

Test (query_request, a_list_with_every_filter_is_typed)
{
    test_pack_t *pack = s_start ("list", 8);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "from", "2026-11-01T00:00:00Z");
    test_pack_kv_ts_ext (pack, "to", 1795000000000LL, 12);
    test_pack_kv_str (pack, "subject", "alice");
    test_pack_kv_str (pack, "order", "asc");
    test_pack_kv_uint (pack, "limit", 1000);
    test_pack_str (pack, "event_types");
    msgpack_pack_array (&pack->packer, 2);
    test_pack_str (pack, "user_login");
    test_pack_str (pack, "device_registered");
    test_pack_str (pack, "categories");
    msgpack_pack_array (&pack->packer, 1);
    test_pack_str (pack, "authentication");
    cr_assert_eq (s_decode (pack), 0, "%s", s_message);
    cr_assert_eq (s_request.op, QUERY_OP_LIST);
    cr_assert_str_eq (s_request.org_id, "acme");
    cr_assert_str_eq (s_request.subject, "alice");
    cr_assert_str_eq (s_request.token, "t.o.k");
    cr_assert_eq (s_request.from_ms, 1793491200000LL);
    cr_assert_eq (s_request.to_ms, 1795000000000LL);
    cr_assert_eq (s_request.order, AUDIT_CURSOR_ASC);
    cr_assert_eq (s_request.limit, 1000);
    //  types AND categories: only user_login is in both
    cr_assert_eq (s_request.type_mask, 1u << AUDIT_EVENT_USER_LOGIN);
    test_pack_destroy (&pack);
}

Test (query_request, defaults_come_from_the_op)
{
    test_pack_t *pack = s_start ("export", 1);
    test_pack_kv_str (pack, "org_id", "acme");
    cr_assert_eq (s_decode (pack), 0, "%s", s_message);
    cr_assert_eq (s_request.limit, 10000);
    cr_assert_eq (s_request.order, AUDIT_CURSOR_ASC);
    cr_assert_eq (s_request.from_ms, INT64_MIN);
    cr_assert_eq (s_request.type_mask, (1u << AUDIT_EVENT_COUNT) - 1);
    test_pack_destroy (&pack);
    pack = s_start ("list", 1);
    test_pack_kv_str (pack, "org_id", "acme");
    cr_assert_eq (s_decode (pack), 0);
    cr_assert_eq (s_request.limit, 100);
    cr_assert_eq (s_request.order, AUDIT_CURSOR_DESC);
    test_pack_destroy (&pack);
}

Test (query_request, every_rule_has_its_bad_request)
{
    test_pack_t *pack = s_start ("list", 1);
    test_pack_kv_str (pack, "colour", "blue");
    s_assert_bad (pack, "unknown key colour");
    pack = s_start ("list", 0);
    s_assert_bad (pack, "list needs org_id");
    pack = s_start ("retention_get", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_uint (pack, "limit", 5);
    s_assert_bad (pack, "retention_get does not take limit");
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_uint (pack, "limit", 1001);
    s_assert_bad (pack, "limit must be 1 to 1000");
    pack = s_start ("export", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_uint (pack, "limit", 50001);
    s_assert_bad (pack, "limit must be 1 to 50000");
    pack = s_start ("retention_set", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_uint (pack, "retention_days", 366);
    s_assert_bad (pack, "cannot exceed 12 months");
    pack = s_start ("retention_set", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_uint (pack, "retention_days", 0);
    s_assert_bad (pack, "1 to 365");
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "has space");
    test_pack_kv_str (pack, "order", "up");
    s_assert_bad (pack, "org_id has a wrong type or form");
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "org_id", "acme");
    s_assert_bad (pack, "given twice");
    //  v, op and token too: the last one must not quietly win
    pack = s_start ("health", 1);
    test_pack_kv_str (pack, "op", "catalog");
    s_assert_bad (pack, "op given twice");
    pack = s_start ("health", 1);
    test_pack_kv_uint (pack, "v", 1);
    s_assert_bad (pack, "v given twice");
    pack = s_start ("health", 1);
    test_pack_kv_str (pack, "token", "another");
    s_assert_bad (pack, "token given twice");
    pack = s_start ("dance", 0);
    s_assert_bad (pack, "unknown op");
    pack = s_start ("export", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "format", "xlsx");
    s_assert_bad (pack, "format");
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "format", "csv");
    s_assert_bad (pack, "format");
}

Test (query_request, export_format_is_csv_unless_ndjson_is_asked)
{
    test_pack_t *pack = s_start ("export", 1);
    test_pack_kv_str (pack, "org_id", "acme");
    cr_assert_eq (s_decode (pack), 0, "%s", s_message);
    cr_assert_eq (s_request.format, QUERY_FORMAT_CSV);
    test_pack_destroy (&pack);
    pack = s_start ("export", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "format", "ndjson");
    cr_assert_eq (s_decode (pack), 0, "%s", s_message);
    cr_assert_eq (s_request.format, QUERY_FORMAT_NDJSON);
    test_pack_destroy (&pack);
    //  The next request does not inherit it
    pack = s_start ("export", 1);
    test_pack_kv_str (pack, "org_id", "acme");
    cr_assert_eq (s_decode (pack), 0, "%s", s_message);
    cr_assert_eq (s_request.format, QUERY_FORMAT_CSV);
    test_pack_destroy (&pack);
    cr_assert_str_eq (query_request_format_name (QUERY_FORMAT_NDJSON), "ndjson");
    cr_assert_str_eq (query_request_format_name (QUERY_FORMAT_CSV), "csv");
    cr_assert_str_eq (query_request_format_name (QUERY_FORMAT_COUNT), "?");
}

Test (query_request, envelope_rules)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 1);
    test_pack_kv_str (pack, "op", "health");
    s_assert_bad (pack, "needs v");
    pack = test_pack_new ();
    test_pack_map (pack, 2);
    test_pack_kv_uint (pack, "v", 2);
    test_pack_kv_str (pack, "op", "health");
    s_assert_bad (pack, "v must be 1");
    pack = test_pack_new ();
    test_pack_map (pack, 1);
    test_pack_kv_uint (pack, "v", 1);
    s_assert_bad (pack, "needs op");
    pack = test_pack_new ();
    msgpack_pack_array (&pack->packer, 0);
    s_assert_bad (pack, "not a MessagePack map");
    pack = s_start ("health", 0);
    msgpack_pack_nil (&pack->packer);
    s_assert_bad (pack, "trailing bytes");
    //  A token that is not a string is no token: unauthenticated, later
    pack = test_pack_new ();
    test_pack_map (pack, 3);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", "stats");
    test_pack_kv_uint (pack, "token", 42);
    cr_assert_eq (s_decode (pack), 0);
    cr_assert_not (s_request.has_token);
    test_pack_destroy (&pack);
}

Test (query_request, hostile_sizes_are_refused_without_allocation)
{
    static const uint8_t huge_map [] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'v', 0x01 };
    cr_assert_eq (query_request_decode (huge_map, sizeof huge_map, &s_request, &s_error,
                                        s_message, sizeof s_message), -1);
    cr_assert_eq (s_error, AUDIT_ERROR_BAD_REQUEST);
    static uint8_t big [QUERY_REQUEST_MAX_BYTES + 1];
    cr_assert_eq (query_request_decode (big, sizeof big, &s_request, &s_error,
                                        s_message, sizeof s_message), -1);
    cr_assert_eq (s_error, AUDIT_ERROR_TOO_LARGE);
    test_pack_t *pack = s_start ("mq_ack", 3);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "device_id", "phone");
    test_pack_str (pack, "message_ids");
    msgpack_pack_array (&pack->packer, QUERY_MESSAGE_IDS_MAX + 1);
    for (int index = 0; index <= QUERY_MESSAGE_IDS_MAX; index++)
        test_pack_str (pack, "2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d");
    s_assert_bad (pack, "message_ids");
}

Test (query_request, filter_bytes_ignore_key_order_and_see_every_filter)
{
    uint8_t first [512], second [512];
    test_pack_t *pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "actor_id", "alice");
    cr_assert_eq (s_decode (pack), 0);
    size_t first_len = query_request_filter_bytes (&s_request, first, sizeof first);
    test_pack_destroy (&pack);
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "actor_id", "alice");
    test_pack_kv_str (pack, "org_id", "acme");
    cr_assert_eq (s_decode (pack), 0);
    cr_assert_eq (query_request_filter_bytes (&s_request, second, sizeof second), first_len);
    cr_assert_eq (memcmp (first, second, first_len), 0);
    test_pack_destroy (&pack);
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "user_id", "alice");
    cr_assert_eq (s_decode (pack), 0);
    size_t other_len = query_request_filter_bytes (&s_request, second, sizeof second);
    cr_assert (other_len != first_len || memcmp (first, second, first_len) != 0,
               "actor_id=alice and user_id=alice must not share a cursor");
    test_pack_destroy (&pack);
}

//  A str with a NUL byte would be cut short when copied into a C string:
//  a valid cursor and junk after it would pass as that cursor
Test (query_request, a_cursor_with_a_nul_byte_is_refused)
{
    audit_cursor_key_t *key = audit_cursor_key_new_random ();
    audit_cursor_binding_t binding = { "list", "acme", "", 0, AUDIT_CURSOR_DESC };
    audit_cursor_pos_t pos = { 1795000000000LL, 42, AUDIT_CURSOR_DESC };
    char cursor [AUDIT_CURSOR_TEXT_SIZE + 8];
    cr_assert_eq (audit_cursor_encode (key, &binding, &pos, cursor), 0);
    audit_cursor_key_destroy (&key);
    test_pack_t *pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "cursor", cursor);
    cr_assert_eq (s_decode (pack), 0, "%s", s_message);
    cr_assert_str_eq (s_request.cursor, cursor);
    test_pack_destroy (&pack);
    memcpy (cursor + AUDIT_CURSOR_TEXT_LEN, "\0junk", 5);
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    s_pack_kv_bytes (pack, "cursor", cursor, AUDIT_CURSOR_TEXT_LEN + 5);
    s_assert_nul_refused (pack, "cursor");
    //  and a leading NUL is not "no cursor"
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    KV_BYTES (pack, "cursor", "\0junk");
    s_assert_nul_refused (pack, "cursor");
}

Test (query_request, a_token_or_op_with_a_nul_byte_is_refused)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 3);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", "stats");
    KV_BYTES (pack, "token", "t.o.k\0junk");
    s_assert_nul_refused (pack, "token");
    pack = test_pack_new ();
    test_pack_map (pack, 2);
    test_pack_kv_uint (pack, "v", 1);
    KV_BYTES (pack, "op", "health\0junk");
    s_assert_nul_refused (pack, "op");
}

Test (query_request, an_argument_with_a_nul_byte_is_refused)
{
    test_pack_t *pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    KV_BYTES (pack, "order", "asc\0x");
    s_assert_nul_refused (pack, "order");
    pack = s_start ("export", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    KV_BYTES (pack, "format", "csv\0x");
    s_assert_nul_refused (pack, "format");
    pack = s_start ("list", 1);
    KV_BYTES (pack, "org_id", "acme\0junk");
    s_assert_nul_refused (pack, "org_id");
    pack = s_start ("list", 2);
    test_pack_kv_str (pack, "org_id", "acme");
    KV_BYTES (pack, "from", "2026-11-01T00:00:00Z\0junk");
    s_assert_nul_refused (pack, "from");
}

//  Every row of query_args.def, and every filter field of audit_fields.def,
//  is a known key (the walker refuses only keys the table lacks), and every
//  identifier argument lands in its own place: none is filed under another's
Test (query_request, every_argument_row_is_a_known_key)
{
    const char *keys [QUERY_ARG_COUNT];
    int count = 0;
#define QUERY_ARG(NAME, key, kind) keys [count++] = key;
#include "query_args.def"
#undef QUERY_ARG
    cr_assert_eq (count, QUERY_ARG_FIELD);
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) \
    if (filter) keys [count++] = key;
#include "audit_fields.def"
#undef AUDIT_FIELD
    for (int arg = 0; arg < count; arg++) {
        test_pack_t *pack = s_start ("health", 1);
        test_pack_kv_uint (pack, keys [arg], 1);
        cr_assert_eq (s_decode (pack), -1);
        cr_expect_null (strstr (s_message, "unknown key"), "%s: %s", keys [arg], s_message);
        cr_expect (strstr (s_message, keys [arg]), "%s: %s", keys [arg], s_message);
        test_pack_destroy (&pack);
        //  each key is spelled once: a second row of the same key would
        //  never be read
        for (int other = 0; other < arg; other++)
            cr_expect_str_neq (keys [other], keys [arg]);
    }
    test_pack_t *pack = s_start ("list", 6);
    test_pack_kv_str (pack, "subject", "s-subject");
    test_pack_kv_str (pack, "group_id", "s-group");
    test_pack_kv_str (pack, "device_id", "s-device");
    test_pack_kv_str (pack, "user_id", "s-user");
    test_pack_kv_str (pack, "actor_id", "s-actor");
    test_pack_kv_str (pack, "org_id", "s-org");
    cr_assert_eq (s_decode (pack), 0, "%s", s_message);
    cr_expect_str_eq (s_request.org_id, "s-org");
    cr_expect_str_eq (s_request.actor_id, "s-actor");
    cr_expect_str_eq (s_request.field [AUDIT_FIELD_USER_ID], "s-user");
    cr_expect_str_eq (s_request.field [AUDIT_FIELD_DEVICE_ID], "s-device");
    cr_expect_str_eq (s_request.field [AUDIT_FIELD_GROUP_ID], "s-group");
    cr_expect_str_eq (s_request.subject, "s-subject");
    query_arg_mask_t given = QUERY_ARG_FIELD_BIT (AUDIT_FIELD_USER_ID)
        | QUERY_ARG_FIELD_BIT (AUDIT_FIELD_DEVICE_ID) | QUERY_ARG_FIELD_BIT (AUDIT_FIELD_GROUP_ID);
    cr_expect_eq (s_request.present & QUERY_FILTER_FIELDS, given);
    test_pack_destroy (&pack);
}

static bool
s_is_arg_row (const char *key)
{
    static const char *rows [] = {
#define QUERY_ARG(NAME, key, kind) key,
#include "query_args.def"
#undef QUERY_ARG
    };
    for (size_t row = 0; row < sizeof rows / sizeof rows [0]; row++)
        if (strcmp (rows [row], key) == 0)
            return true;
    return false;
}

//  Each filter field of audit_fields.def is an argument of list and export
//  under its key, read as an identifier into request->field with the rules
//  of every argument; a field that is no filter is an unknown key
Test (query_request, filter_fields_come_from_the_field_table)
{
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        char words [96];
        test_pack_t *pack = s_start (field % 2 ? "list" : "export", 2);
        test_pack_kv_str (pack, "org_id", "acme");
        test_pack_kv_str (pack, info->key, "value-1");
        if (!info->filter) {
            //  (retention_days is also retention_set's own argument)
            snprintf (words, sizeof words, s_is_arg_row (info->key) ? "%s" : "unknown key %s",
                      info->key);
            s_assert_bad (pack, words);
            continue;
        }
        cr_assert_eq (s_decode (pack), 0, "%s: %s", info->key, s_message);
        cr_expect_str_eq (s_request.field [field], "value-1");
        cr_expect_eq (s_request.present & QUERY_FILTER_FIELDS, QUERY_ARG_FIELD_BIT (field));
        test_pack_destroy (&pack);
        //  the next request does not inherit it
        pack = s_start ("list", 1);
        test_pack_kv_str (pack, "org_id", "acme");
        cr_assert_eq (s_decode (pack), 0, "%s", s_message);
        cr_expect_str_eq (s_request.field [field], "");
        test_pack_destroy (&pack);
        snprintf (words, sizeof words, "%s has a wrong type or form", info->key);
        pack = s_start ("list", 2);
        test_pack_kv_str (pack, "org_id", "acme");
        test_pack_kv_uint (pack, info->key, 7);
        s_assert_bad (pack, words);
        pack = s_start ("list", 2);
        test_pack_kv_str (pack, "org_id", "acme");
        test_pack_kv_str (pack, info->key, "has space");
        s_assert_bad (pack, words);
        pack = s_start ("list", 3);
        test_pack_kv_str (pack, "org_id", "acme");
        test_pack_kv_str (pack, info->key, "a");
        test_pack_kv_str (pack, info->key, "a");
        snprintf (words, sizeof words, "%s given twice", info->key);
        s_assert_bad (pack, words);
        pack = s_start ("list", 2);
        test_pack_kv_str (pack, "org_id", "acme");
        s_pack_kv_bytes (pack, info->key, "a\0junk", 6);
        s_assert_nul_refused (pack, info->key);
        pack = s_start ("retention_get", 2);
        test_pack_kv_str (pack, "org_id", "acme");
        test_pack_kv_str (pack, info->key, "a");
        snprintf (words, sizeof words, "retention_get does not take %s", info->key);
        s_assert_bad (pack, words);
    }
}

//  Two different filter fields with the same value make different cursors
Test (query_request, filter_bytes_tell_the_filter_fields_apart)
{
    uint8_t bytes [AUDIT_FIELD_COUNT][512];
    size_t lens [AUDIT_FIELD_COUNT] = { 0 };
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        if (!info->filter)
            continue;
        test_pack_t *pack = s_start ("list", 2);
        test_pack_kv_str (pack, info->key, "same");
        test_pack_kv_str (pack, "org_id", "acme");
        cr_assert_eq (s_decode (pack), 0, "%s", s_message);
        lens [field] = query_request_filter_bytes (&s_request, bytes [field], sizeof bytes [field]);
        test_pack_destroy (&pack);
        for (int other = 0; other < field; other++)
            cr_expect (lens [other] == 0 || lens [other] != lens [field]
                       || memcmp (bytes [other], bytes [field], lens [field]) != 0,
                       "%s and %s share a cursor", info->key,
                       audit_proto_field_info ((audit_field_t) other)->key);
    }
}
