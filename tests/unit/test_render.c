/*  The one rendering of a stored event: the leaf of the organisation's log
    against fixed vectors (one per event type, written out from the
    contract's rule, not computed), the CSV row read back by libcsv with the
    formula guard undone, the ndjson line and the list map. */

#include <criterion/criterion.h>
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_render.h"

//  The 0x1F that joins a leaf's columns
#define US "\x1f"
#define LEAF(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14) \
    c0 US c1 US c2 US c3 US c4 US c5 US c6 US c7 US c8 US c9 US c10 US c11 US c12 \
    US c13 US c14

//  2026-11-26T09:47:19.123Z
#define BASE_MS 1795686439123LL

//  The event of type number index: every field its type allows, each with
//  one fixed value, 61.001 s after the one before, log_index 1000 i + 7
static void
s_row (int index, audit_row_t *row)
{
    static const uint8_t uuid [AUDIT_UUID_SIZE] = {
        0x0f, 0x8f, 0xad, 0x5b, 0xd9, 0xcb, 0x46, 0x9f,
        0xa1, 0x65, 0x70, 0x86, 0x77, 0x28, 0x95, 0x00
    };
    memset (row, 0, sizeof *row);
    row->type = (audit_event_type_t) index;
    row->timestamp_ms = BASE_MS + index * 61001LL;
    row->received_ms = row->timestamp_ms + 5;
    row->log_index = (uint64_t) index * 1000 + 7;
    row->org_id = "acme";
    row->actor_id = "admin-1";
    memcpy (row->event_id, uuid, sizeof uuid);
    row->event_id [15] = (uint8_t) index;
    const audit_event_info_t *info = audit_proto_event_info (row->type);
    audit_field_mask_t allowed = info->required | info->optional;
    const char *text [AUDIT_FIELD_COUNT] = {
        [AUDIT_FIELD_USER_ID] = "u-1", [AUDIT_FIELD_DEVICE_ID] = "d-1",
        [AUDIT_FIELD_GROUP_ID] = "g-1", [AUDIT_FIELD_ROLE] = "member",
        [AUDIT_FIELD_BROADCAST_ID] = "b-1", [AUDIT_FIELD_FILE_REF] = "f-1"
    };
    const uint64_t number [AUDIT_FIELD_COUNT] = {
        [AUDIT_FIELD_RECIPIENT_COUNT] = 250, [AUDIT_FIELD_FILE_SIZE] = 1048576,
        [AUDIT_FIELD_RETENTION_DAYS] = 90
    };
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        if (!(allowed & AUDIT_FIELD_BIT (field)))
            continue;
        row->text [field] = text [field];
        row->has_number [field] = !text [field];
        row->number [field] = number [field];
    }
}

static const char *s_leaves [] = {
    LEAF ("2026-11-26T09:47:19.123Z", "user_login", "acme", "admin-1",
          "", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289500", "", "7"),
    LEAF ("2026-11-26T09:48:20.124Z", "user_login_failed", "acme", "admin-1",
          "u-1", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289501", "", "1007"),
    LEAF ("2026-11-26T09:49:21.125Z", "user_logout", "acme", "admin-1",
          "", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289502", "", "2007"),
    LEAF ("2026-11-26T09:50:22.126Z", "otp_requested", "acme", "admin-1",
          "u-1", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289503", "", "3007"),
    LEAF ("2026-11-26T09:51:23.127Z", "device_registered", "acme", "admin-1",
          "u-1", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289504", "", "4007"),
    LEAF ("2026-11-26T09:52:24.128Z", "device_revoked", "acme", "admin-1",
          "u-1", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289505", "", "5007"),
    LEAF ("2026-11-26T09:53:25.129Z", "device_approval_requested", "acme", "admin-1",
          "u-1", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289506", "", "6007"),
    LEAF ("2026-11-26T09:54:26.130Z", "device_approved", "acme", "admin-1",
          "u-1", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289507", "", "7007"),
    LEAF ("2026-11-26T09:55:27.131Z", "device_approval_denied", "acme", "admin-1",
          "u-1", "d-1", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289508", "", "8007"),
    LEAF ("2026-11-26T09:56:28.132Z", "user_invited", "acme", "admin-1",
          "u-1", "", "", "member", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289509", "", "9007"),
    LEAF ("2026-11-26T09:57:29.133Z", "member_removed", "acme", "admin-1",
          "u-1", "", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-70867728950a", "", "10007"),
    LEAF ("2026-11-26T09:58:30.134Z", "role_changed", "acme", "admin-1",
          "u-1", "", "", "member", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-70867728950b", "", "11007"),
    LEAF ("2026-11-26T09:59:31.135Z", "group_created", "acme", "admin-1",
          "", "", "g-1", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-70867728950c", "", "12007"),
    LEAF ("2026-11-26T10:00:32.136Z", "group_modified", "acme", "admin-1",
          "", "", "g-1", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-70867728950d", "", "13007"),
    LEAF ("2026-11-26T10:01:33.137Z", "group_member_added", "acme", "admin-1",
          "u-1", "", "g-1", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-70867728950e", "", "14007"),
    LEAF ("2026-11-26T10:02:34.138Z", "group_member_removed", "acme", "admin-1",
          "u-1", "", "g-1", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-70867728950f", "", "15007"),
    LEAF ("2026-11-26T10:03:35.139Z", "broadcast_sent", "acme", "admin-1",
          "", "", "g-1", "", "b-1", "250", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289510", "", "16007"),
    LEAF ("2026-11-26T10:04:36.140Z", "file_transferred", "acme", "admin-1",
          "", "", "", "", "", "", "f-1", "1048576",
          "0f8fad5b-d9cb-469f-a165-708677289511", "", "17007"),
    LEAF ("2026-11-26T10:05:37.141Z", "audit_log_exported", "acme", "admin-1",
          "", "", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289512", "", "18007"),
    LEAF ("2026-11-26T10:06:38.142Z", "retention_changed", "acme", "admin-1",
          "", "", "", "", "", "", "", "",
          "0f8fad5b-d9cb-469f-a165-708677289513", "90", "19007"),
};

Test (render, leaf_of_every_event_type_is_its_fixed_vector)
{
    cr_assert_eq (sizeof s_leaves / sizeof s_leaves [0], AUDIT_EVENT_COUNT);
    for (int index = 0; index < AUDIT_EVENT_COUNT; index++) {
        audit_row_t row;
        s_row (index, &row);
        char leaf [AUDIT_RENDER_LINE_MAX];
        int len = audit_render_leaf (&row, leaf, sizeof leaf);
        cr_assert_eq (len, (int) strlen (s_leaves [index]), "type %d", index);
        cr_assert_str_eq (leaf, s_leaves [index], "type %d", index);
    }
}

Test (render, leaf_has_no_guard_no_quotes_and_fails_when_it_does_not_fit)
{
    audit_row_t row;
    s_row (AUDIT_EVENT_USER_INVITED, &row);
    row.actor_id = "=x,\"y\"";
    row.text [AUDIT_FIELD_ROLE] = "'r";
    row.org_id = NULL;
    row.log_index = 0;
    row.timestamp_ms = 0;
    const char *expected = LEAF ("1970-01-01T00:00:00.000Z", "user_invited", "", "=x,\"y\"",
                                 "u-1", "", "", "'r", "", "", "", "",
                                 "0f8fad5b-d9cb-469f-a165-708677289509", "", "0");
    char leaf [256];
    cr_assert_eq (audit_render_leaf (&row, leaf, sizeof leaf), (int) strlen (expected));
    cr_assert_str_eq (leaf, expected);
    cr_assert_eq (audit_render_leaf (&row, leaf, strlen (expected)), -1, "no room for the NUL");
    cr_assert_eq (audit_render_leaf (&row, leaf, strlen (expected) + 1), (int) strlen (expected));
    cr_assert_eq (audit_render_leaf (&row, leaf, 0), -1);
    cr_assert_eq (audit_render_leaf (NULL, leaf, sizeof leaf), -1);
}

//  What csv_parse hands back: the fields of one row
typedef struct {
    char *fields [AUDIT_CSV_COLUMNS + 1];
    int field_at;
    int rows;
} s_parsed_t;

static void
s_on_field (void *data, size_t len, void *arg)
{
    s_parsed_t *parsed = arg;
    cr_assert (parsed->field_at <= AUDIT_CSV_COLUMNS);
    char *copy = calloc (1, len + 1);
    memcpy (copy, data, len);
    parsed->fields [parsed->field_at++] = copy;
}

static void
s_on_row (int terminator, void *arg)
{
    (void) terminator;
    ((s_parsed_t *) arg)->rows++;
}

//  The row's CSV, parsed back by libcsv, the guard undone, joined as a
//  leaf: it must be the leaf itself
static void
s_expect_round_trip (const audit_row_t *row)
{
    audit_csv_t *csv = audit_csv_new (0);
    cr_assert_eq (audit_render_csv (row, csv), 0);
    cr_assert_eq (audit_csv_row_count (csv), 1);
    const uint8_t *data = audit_csv_data (csv);
    size_t size = audit_csv_size (csv);
    cr_assert (size >= 2 && data [size - 2] == '\r' && data [size - 1] == '\n', "CRLF");
    struct csv_parser parser;
    cr_assert_eq (csv_init (&parser, CSV_STRICT | CSV_STRICT_FINI), 0);
    s_parsed_t parsed = { .rows = 0 };
    cr_assert_eq (csv_parse (&parser, data, size, s_on_field, s_on_row, &parsed), size);
    cr_assert_eq (csv_fini (&parser, s_on_field, s_on_row, &parsed), 0);
    csv_free (&parser);
    cr_assert_eq (parsed.rows, 1);
    cr_assert_eq (parsed.field_at, AUDIT_CSV_COLUMNS);
    char joined [AUDIT_RENDER_LINE_MAX] = "";
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        const char *field = parsed.fields [column];
        if (field [0] == '\'')
            field++;                //  the guard undone, as a verifier does
        if (column)
            strcat (joined, US);
        strcat (joined, field);
        free (parsed.fields [column]);
    }
    char leaf [AUDIT_RENDER_LINE_MAX];
    cr_assert_geq (audit_render_leaf (row, leaf, sizeof leaf), 0);
    cr_assert_str_eq (joined, leaf);
    audit_csv_destroy (&csv);
}

Test (render, csv_round_trip_gives_back_the_stored_values)
{
    static const char *tricky [] = {
        "=1+1", "+1", "-1", "@SUM(A1)", "\tt", "\rr", "'q", "''", "'", "a,b",
        "say \"hi\"", "\"", "line\nbreak", "cr\r\nlf", " spaced ", "=a,\"b\"\r\n", "-",
        "plain", "caf\xc3\xa9", "trailing\t"
    };
    size_t count = sizeof tricky / sizeof tricky [0];
    for (size_t at = 0; at < count; at++) {
        audit_row_t row;
        s_row (AUDIT_EVENT_BROADCAST_SENT, &row);
        row.actor_id = tricky [at];
        row.org_id = tricky [(at + 1) % count];
        row.text [AUDIT_FIELD_GROUP_ID] = tricky [(at + 2) % count];
        row.text [AUDIT_FIELD_BROADCAST_ID] = tricky [(at + 3) % count];
        s_expect_round_trip (&row);
    }
    for (int index = 0; index < AUDIT_EVENT_COUNT; index++) {
        audit_row_t row;
        s_row (index, &row);
        s_expect_round_trip (&row);
    }
}

Test (render, csv_row_is_the_contract_s)
{
    audit_row_t row;
    s_row (AUDIT_EVENT_RETENTION_CHANGED, &row);
    row.actor_id = "-admin";
    audit_csv_t *csv = audit_csv_new (0);
    cr_assert_eq (audit_csv_header (csv), 0);
    cr_assert_eq (audit_render_csv (&row, csv), 0);
    const char *expected =
        "timestamp,event_type,org_id,actor_id,user_id,device_id,group_id,role,broadcast_id,"
        "recipient_count,file_ref,file_size,event_id,retention_days,log_index\r\n"
        "2026-11-26T10:06:38.142Z,retention_changed,acme,'-admin,,,,,,,,,"
        "0f8fad5b-d9cb-469f-a165-708677289513,90,19007\r\n";
    cr_assert_eq (audit_csv_size (csv), strlen (expected));
    cr_assert (memcmp (audit_csv_data (csv), expected, strlen (expected)) == 0);
    audit_csv_destroy (&csv);
}

Test (render, ndjson_line_is_the_list_map)
{
    audit_row_t row;
    s_row (AUDIT_EVENT_BROADCAST_SENT, &row);
    char line [AUDIT_RENDER_LINE_MAX];
    const char *expected =
        "{\"event_id\":\"0f8fad5b-d9cb-469f-a165-708677289510\",\"event_type\":\"broadcast_sent\","
        "\"category\":\"broadcast\",\"timestamp\":\"2026-11-26T10:03:35.139Z\","
        "\"received_at\":\"2026-11-26T10:03:35.144Z\",\"org_id\":\"acme\","
        "\"actor_id\":\"admin-1\",\"log_index\":16007,\"group_id\":\"g-1\","
        "\"broadcast_id\":\"b-1\",\"recipient_count\":250}\n";
    cr_assert_eq (audit_render_ndjson (&row, line, sizeof line), (int) strlen (expected));
    cr_assert_str_eq (line, expected);
    cr_assert_eq (audit_render_ndjson (&row, line, strlen (expected)), -1, "no room for the NUL");

    s_row (AUDIT_EVENT_RETENTION_CHANGED, &row);
    row.log_index = UINT64_MAX;
    row.org_id = NULL;
    expected =
        "{\"event_id\":\"0f8fad5b-d9cb-469f-a165-708677289513\",\"event_type\":\"retention_changed\","
        "\"category\":\"audit_access\",\"timestamp\":\"2026-11-26T10:06:38.142Z\","
        "\"received_at\":\"2026-11-26T10:06:38.147Z\",\"org_id\":\"\","
        "\"actor_id\":\"admin-1\",\"log_index\":18446744073709551615,\"retention_days\":90}\n";
    cr_assert_eq (audit_render_ndjson (&row, line, sizeof line), (int) strlen (expected));
    cr_assert_str_eq (line, expected);
}

Test (render, ndjson_escapes_quotes_backslashes_and_control_characters)
{
    audit_row_t row;
    s_row (AUDIT_EVENT_MEMBER_REMOVED, &row);
    row.actor_id = "a\"b\\c/d";
    row.text [AUDIT_FIELD_USER_ID] = "\x01\b\f\n\r\t\x1f\x7f" "caf\xc3\xa9";
    char line [AUDIT_RENDER_LINE_MAX];
    const char *expected =
        "{\"event_id\":\"0f8fad5b-d9cb-469f-a165-70867728950a\",\"event_type\":\"member_removed\","
        "\"category\":\"user_management\",\"timestamp\":\"2026-11-26T09:57:29.133Z\","
        "\"received_at\":\"2026-11-26T09:57:29.138Z\",\"org_id\":\"acme\","
        "\"actor_id\":\"a\\\"b\\\\c/d\",\"log_index\":10007,"
        "\"user_id\":\"\\u0001\\b\\f\\n\\r\\t\\u001f\x7f" "caf\xc3\xa9\"}\n";
    cr_assert_eq (audit_render_ndjson (&row, line, sizeof line), (int) strlen (expected));
    cr_assert_str_eq (line, expected);
}

//  Values are scanned eight bytes at a time: an escape in any position
//  of a word, in the last partial word, and a plain 16 bytes, all come out
Test (render, ndjson_escapes_in_every_position_of_a_long_value)
{
    audit_row_t row;
    s_row (AUDIT_EVENT_MEMBER_REMOVED, &row);
    for (int position = 0; position < 20; position++) {
        char value [24], escaped [32];
        memset (value, 'x', 20);
        value [20] = 0;
        value [position] = position % 2? '"': '\n';
        snprintf (escaped, sizeof escaped, "%.*s\\%c%s", position, value,
                  position % 2? '"': 'n', value + position + 1);
        row.actor_id = value;
        char line [AUDIT_RENDER_LINE_MAX], pair [64];
        cr_assert_gt (audit_render_ndjson (&row, line, sizeof line), 0);
        snprintf (pair, sizeof pair, "\"actor_id\":\"%s\",", escaped);
        cr_assert_not_null (strstr (line, pair), "position %d: %s", position, line);
    }
    row.actor_id = "0123456789abcdef";
    char line [AUDIT_RENDER_LINE_MAX];
    cr_assert_gt (audit_render_ndjson (&row, line, sizeof line), 0);
    cr_assert_not_null (strstr (line, "\"actor_id\":\"0123456789abcdef\","));
}

Test (render, ndjson_of_the_longest_event_fits_the_line_max)
{
    char worst [AUDIT_IDENT_MAX + 1];
    memset (worst, '\x01', AUDIT_IDENT_MAX);
    worst [AUDIT_IDENT_MAX] = 0;
    audit_row_t row;
    s_row (AUDIT_EVENT_BROADCAST_SENT, &row);
    row.org_id = row.actor_id = worst;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_IDENT)
            row.text [field] = worst;
        else {
            row.has_number [field] = true;
            row.number [field] = UINT64_MAX;
        }
    char line [AUDIT_RENDER_LINE_MAX];
    cr_assert_gt (audit_render_ndjson (&row, line, sizeof line), 6 * AUDIT_IDENT_MAX * 8);
}

//  The list map, unpacked, holds every envelope key and the fields present
Test (render, pack_is_the_list_map)
{
    audit_row_t row;
    s_row (AUDIT_EVENT_FILE_TRANSFERRED, &row);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    cr_assert_eq (audit_render_pack (&row, &packer), 0);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    cr_assert_eq (msgpack_unpack_next (&unpacked, buffer.data, buffer.size, &offset),
                  MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq (offset, buffer.size);
    const msgpack_object *map = &unpacked.data;
    cr_assert_eq (map->type, MSGPACK_OBJECT_MAP);
    static const char *keys [] = {
        "event_id", "event_type", "category", "timestamp", "received_at", "org_id",
        "actor_id", "log_index", "file_ref", "file_size"
    };
    cr_assert_eq (map->via.map.size, 10);
    for (uint32_t at = 0; at < 10; at++) {
        const msgpack_object_kv *pair = &map->via.map.ptr [at];
        cr_assert_eq (pair->key.type, MSGPACK_OBJECT_STR);
        cr_assert_eq (pair->key.via.str.size, strlen (keys [at]));
        cr_assert (memcmp (pair->key.via.str.ptr, keys [at], strlen (keys [at])) == 0);
    }
    const msgpack_object *index = &map->via.map.ptr [7].val;
    cr_assert_eq (index->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_assert_eq (index->via.u64, 17007);
    const msgpack_object *size = &map->via.map.ptr [9].val;
    cr_assert_eq (size->via.u64, 1048576);
    const msgpack_object *when = &map->via.map.ptr [3].val;
    cr_assert_eq (when->type, MSGPACK_OBJECT_STR);
    cr_assert (memcmp (when->via.str.ptr, "2026-11-26T10:04:36.140Z", 24) == 0);
    const msgpack_object *category = &map->via.map.ptr [2].val;
    cr_assert (memcmp (category->via.str.ptr, "file_transfer", 13) == 0);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
    cr_assert_eq (audit_render_pack (NULL, &packer), -1);
}
