/*  The export writer: the contract's header, CRLF, RFC 4180 quoting only
    where needed, formula guards, and output that libcsv's own parser reads
    back field for field. */

#include <criterion/criterion.h>
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_csv.h"

//  Columns named for the test, from the contract's header
enum {
    C_TIMESTAMP, C_EVENT_TYPE, C_ORG_ID, C_ACTOR_ID, C_USER_ID, C_DEVICE_ID, C_GROUP_ID,
    C_ROLE, C_BROADCAST_ID, C_RECIPIENT_COUNT, C_FILE_REF, C_FILE_SIZE, C_EVENT_ID,
    C_RETENTION_DAYS, C_LOG_INDEX
};

//  Spelled out from the contract, not derived, so the two cannot drift
#define CONTRACT_HEADER "timestamp,event_type,org_id,actor_id,user_id,device_id," \
                        "group_id,role,broadcast_id,recipient_count,file_ref," \
                        "file_size,event_id,retention_days,log_index"

static audit_csv_t *s_csv;

static void
s_setup (void)
{
    s_csv = audit_csv_new (0);
    cr_assert_not_null (s_csv);
}

static void
s_teardown (void)
{
    audit_csv_destroy (&s_csv);
}

TestSuite (csv, .init = s_setup, .fini = s_teardown);

//  The writer's bytes as a terminated string (tests only write text)
static char *
s_text (audit_csv_t *csv)
{
    size_t size = audit_csv_size (csv);
    char *text = malloc (size + 1);
    if (size)
        memcpy (text, audit_csv_data (csv), size);
    text [size] = '\0';
    return text;
}

static void
s_expect_text (const char *expected)
{
    char *text = s_text (s_csv);
    cr_expect_str_eq (text, expected);
    free (text);
}

//  A row with only the given column set
static void
s_expect_single (int column, const char *value, const char *expected_field)
{
    audit_csv_row_t row = { { NULL } };
    row.column [column] = value;
    audit_csv_reset (s_csv);
    cr_assert_eq (audit_csv_row (s_csv, &row), 0);
    char expected [512] = "";
    for (int at = 0; at < AUDIT_CSV_COLUMNS; at++) {
        if (at)
            strcat (expected, ",");
        if (at == column)
            strcat (expected, expected_field);
    }
    strcat (expected, "\r\n");
    s_expect_text (expected);
}

Test (csv, header_is_the_contract_s)
{
    cr_assert_eq (AUDIT_CSV_COLUMNS, 15);
    cr_assert_str_eq (audit_proto_csv_header (), CONTRACT_HEADER);
    cr_assert_eq (audit_csv_header (s_csv), 0);
    s_expect_text (CONTRACT_HEADER "\r\n");
    cr_assert_eq (audit_csv_row_count (s_csv), 0);
}

Test (csv, field_columns)
{
    cr_assert_eq (audit_proto_field_info (AUDIT_FIELD_USER_ID)->csv, C_USER_ID);
    cr_assert_eq (audit_proto_field_info (AUDIT_FIELD_ROLE)->csv, C_ROLE);
    cr_assert_eq (audit_proto_field_info (AUDIT_FIELD_RECIPIENT_COUNT)->csv, C_RECIPIENT_COUNT);
    cr_assert_eq (audit_proto_field_info (AUDIT_FIELD_FILE_SIZE)->csv, C_FILE_SIZE);
    cr_assert_eq (audit_proto_field_info (AUDIT_FIELD_RETENTION_DAYS)->csv, C_RETENTION_DAYS);
    cr_assert_eq (audit_proto_envelope_csv (AUDIT_ENVELOPE_EVENT_ID), C_EVENT_ID);
    cr_assert_eq (audit_proto_envelope_csv (AUDIT_ENVELOPE_LOG_INDEX), C_LOG_INDEX);
    cr_assert_eq (audit_proto_envelope_csv (AUDIT_ENVELOPE_CATEGORY), -1);
    cr_assert_eq (audit_proto_envelope_csv (AUDIT_ENVELOPE_RECEIVED_AT), -1);
    cr_assert_null (audit_proto_csv_column (AUDIT_CSV_COLUMNS));
    cr_assert_null (audit_proto_csv_column (-1));
    const audit_csv_column_t *column = audit_proto_csv_column (C_RETENTION_DAYS);
    cr_assert (column->is_field && column->index == AUDIT_FIELD_RETENTION_DAYS);
    cr_assert_str_eq (column->key, "retention_days");
    column = audit_proto_csv_column (C_TIMESTAMP);
    cr_assert (!column->is_field && column->index == AUDIT_ENVELOPE_TIMESTAMP);
}

Test (csv, plain_row_with_crlf_and_empty_fields)
{
    audit_csv_row_t row = { {
        "2026-11-26T09:47:19.123Z", "broadcast_sent", "acme", "admin-1",
        NULL, "", "grp-1", NULL, "bc-9", "250", NULL, NULL,
        "0f8fad5b-d9cb-469f-a165-70867728950e", NULL, "7"
    } };
    cr_assert_eq (audit_csv_header (s_csv), 0);
    cr_assert_eq (audit_csv_row (s_csv, &row), 0);
    cr_assert_eq (audit_csv_row (s_csv, &row), 0);
    const char *line = "2026-11-26T09:47:19.123Z,broadcast_sent,acme,admin-1,,,grp-1,,bc-9,"
                       "250,,,0f8fad5b-d9cb-469f-a165-70867728950e,,7\r\n";
    char expected [1024];
    snprintf (expected, sizeof expected, CONTRACT_HEADER "\r\n%s%s", line, line);
    s_expect_text (expected);
    cr_assert_eq (audit_csv_row_count (s_csv), 2);

    audit_csv_row_t empty = { { NULL } };
    audit_csv_reset (s_csv);
    cr_assert_eq (audit_csv_row_count (s_csv), 0);
    cr_assert_eq (audit_csv_row (s_csv, &empty), 0);
    s_expect_text (",,,,,,,,,,,,,,\r\n");
}

Test (csv, quoting_only_where_needed)
{
    s_expect_single (3, "a,b", "\"a,b\"");
    s_expect_single (3, "say \"hi\"", "\"say \"\"hi\"\"\"");
    s_expect_single (3, "\"", "\"\"\"\"");
    s_expect_single (3, "line\nbreak", "\"line\nbreak\"");
    s_expect_single (3, "line\r\nbreak", "\"line\r\nbreak\"");
    s_expect_single (3, "cr\r", "\"cr\r\"");
    s_expect_single (3, " leading", "\" leading\"");
    s_expect_single (3, "trailing ", "\"trailing \"");
    s_expect_single (3, "trailing\t", "\"trailing\t\"");
    s_expect_single (3, "in side", "in side");
    s_expect_single (3, "it's", "it's");
    s_expect_single (0, "x", "x");
    s_expect_single (C_LOG_INDEX, "last,one", "\"last,one\"");
}

Test (csv, formula_cells_are_guarded)
{
    s_expect_single (4, "=1+1", "'=1+1");
    s_expect_single (4, "+1", "'+1");
    s_expect_single (4, "-1", "'-1");
    s_expect_single (4, "@SUM(A1)", "'@SUM(A1)");
    s_expect_single (4, "\tx", "'\tx");
    s_expect_single (4, "\rx", "\"'\rx\"");
    s_expect_single (4, "=HYPERLINK(\"x\",\"y\")", "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
    s_expect_single (4, "-", "'-");
    s_expect_single (4, "a=b", "a=b");
    s_expect_single (4, "'=quoted", "''=quoted");
    s_expect_single (4, "'", "''");
    s_expect_single (4, "it's", "it's");
}

//  The independent expectation: a different way to write the same bytes
static void
s_expected_line (int index, char *line, size_t size)
{
    const char *guard = index % 7 == 0? "'": "";
    const char *user = index % 7 == 0? "-u": "u";
    if (index % 5 == 0)
        snprintf (line, size, "2026-01-01T00:00:%02d.000Z,user_login,org-%d,actor-%d,"
                  "%s%s%d,,,,,,,,\"id,%d\",,%d\r\n",
                  index % 60, index % 3, index, guard, user, index, index, index);
    else
        snprintf (line, size, "2026-01-01T00:00:%02d.000Z,user_login,org-%d,actor-%d,"
                  "%s%s%d,,,,,%d,,,id-%d,,%d\r\n",
                  index % 60, index % 3, index, guard, user, index, index, index, index);
}

static void
s_row_of (int index, char storage [][64], audit_csv_row_t *row)
{
    memset (row, 0, sizeof *row);
    snprintf (storage [0], 64, "2026-01-01T00:00:%02d.000Z", index % 60);
    snprintf (storage [1], 64, "org-%d", index % 3);
    snprintf (storage [2], 64, "actor-%d", index);
    snprintf (storage [3], 64, "%su%d", index % 7 == 0? "-": "", index);
    snprintf (storage [4], 64, "%d", index);
    snprintf (storage [5], 64, index % 5 == 0? "id,%d": "id-%d", index);
    row->column [C_TIMESTAMP] = storage [0];
    row->column [C_EVENT_TYPE] = "user_login";
    row->column [C_ORG_ID] = storage [1];
    row->column [C_ACTOR_ID] = storage [2];
    row->column [C_USER_ID] = storage [3];
    if (index % 5)
        row->column [C_RECIPIENT_COUNT] = storage [4];
    row->column [C_EVENT_ID] = storage [5];
    row->column [C_LOG_INDEX] = storage [4];
}

Test (csv, ten_thousand_rows_match_an_independent_expectation)
{
    size_t expected_size = 0, expected_capacity = 2 * 1024 * 1024;
    char *expected = malloc (expected_capacity);
    char line [512];
    cr_assert_eq (audit_csv_header (s_csv), 0);
    expected_size += (size_t) sprintf (expected, "%s\r\n", CONTRACT_HEADER);
    for (int index = 0; index < 10000; index++) {
        char storage [6][64];
        audit_csv_row_t row;
        s_row_of (index, storage, &row);
        cr_assert_eq (audit_csv_row (s_csv, &row), 0);
        s_expected_line (index, line, sizeof line);
        size_t len = strlen (line);
        cr_assert (expected_size + len < expected_capacity);
        memcpy (expected + expected_size, line, len);
        expected_size += len;
    }
    cr_assert_eq (audit_csv_row_count (s_csv), 10000);
    cr_assert_eq (audit_csv_size (s_csv), expected_size);
    cr_assert (memcmp (audit_csv_data (s_csv), expected, expected_size) == 0);
    free (expected);
}

//  What csv_parse hands back: fields of rows, in order
typedef struct {
    char *fields [64][AUDIT_CSV_COLUMNS];
    int field_at;
    int row_at;
    int row_widths [64];
} parsed_t;

static void
s_on_field (void *data, size_t len, void *arg)
{
    parsed_t *parsed = arg;
    cr_assert (parsed->row_at < 64 && parsed->field_at < AUDIT_CSV_COLUMNS);
    char *copy = malloc (len + 1);
    if (len)
        memcpy (copy, data, len);
    copy [len] = '\0';
    parsed->fields [parsed->row_at][parsed->field_at++] = copy;
}

static void
s_on_row (int terminator, void *arg)
{
    (void) terminator;
    parsed_t *parsed = arg;
    parsed->row_widths [parsed->row_at++] = parsed->field_at;
    parsed->field_at = 0;
}

static const char *s_tricky [] = {
    "plain", "a,b", "say \"hi\"", "line\nbreak", "cr\rlf\r\n", " spaced ",
    "=1+1", "+1", "-1", "@x", "\tt", "\rr", "=a,\"b\"", "", "'", "\"\"", ",",
    "trailing\t", "caf\xc3\xa9", "x y z"
};
#define TRICKY_COUNT (sizeof s_tricky / sizeof s_tricky [0])

static void
s_expected_parse (const char *value, char *expected)
{
    bool guarded = value [0] && strchr ("=+-@\t\r'", value [0]);
    sprintf (expected, "%s%s", guarded? "'": "", value);
}

Test (csv, libcsv_reads_back_every_field)
{
    //  Each tricky value in every column, rotating, one row per value
    for (size_t at = 0; at < TRICKY_COUNT; at++) {
        audit_csv_row_t row;
        for (int column = 0; column < AUDIT_CSV_COLUMNS; column++)
            row.column [column] = s_tricky [(at + (size_t) column) % TRICKY_COUNT];
        cr_assert_eq (audit_csv_row (s_csv, &row), 0);
    }
    struct csv_parser parser;
    cr_assert_eq (csv_init (&parser, CSV_STRICT | CSV_STRICT_FINI), 0);
    parsed_t parsed = { .row_at = 0 };
    size_t size = audit_csv_size (s_csv);
    cr_assert_eq (csv_parse (&parser, audit_csv_data (s_csv), size, s_on_field, s_on_row,
                             &parsed), size, "%s", csv_strerror (csv_error (&parser)));
    cr_assert_eq (csv_fini (&parser, s_on_field, s_on_row, &parsed), 0);
    csv_free (&parser);

    cr_assert_eq (parsed.row_at, (int) TRICKY_COUNT);
    for (size_t at = 0; at < TRICKY_COUNT; at++) {
        cr_assert_eq (parsed.row_widths [at], AUDIT_CSV_COLUMNS);
        for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
            char expected [64];
            s_expected_parse (s_tricky [(at + (size_t) column) % TRICKY_COUNT], expected);
            cr_expect_str_eq (parsed.fields [at][column], expected, "row %zu column %d",
                              at, column);
            free (parsed.fields [at][column]);
        }
    }
}

Test (csv, cap_refuses_a_row_and_keeps_the_buffer)
{
    audit_csv_t *csv = audit_csv_new (200);
    cr_assert_not_null (csv);
    audit_csv_row_t row = { { "2026-01-01T00:00:00.000Z", "user_login", "acme", "a1" } };
    int written = 0;
    while (audit_csv_row (csv, &row) == 0)
        written++;
    cr_assert_gt (written, 0);
    cr_assert_eq (audit_csv_row_count (csv), (size_t) written);
    size_t size = audit_csv_size (csv);
    cr_assert_leq (size, 200);
    cr_assert_eq (size % (size_t) (size / (size_t) written), 0, "only whole rows");
    char big [400];
    memset (big, 'b', sizeof big - 1);
    big [sizeof big - 1] = '\0';
    audit_csv_reset (csv);
    audit_csv_row_t huge = { { big } };
    cr_assert_eq (audit_csv_row (csv, &huge), -1);
    cr_assert_eq (audit_csv_size (csv), 0);
    cr_assert_eq (audit_csv_row (csv, &row), 0, "room again after reset");
    audit_csv_destroy (&csv);
    audit_csv_destroy (&csv);
    cr_assert_null (csv);
    audit_csv_destroy (NULL);
}

Test (csv, header_over_cap)
{
    audit_csv_t *csv = audit_csv_new (10);
    cr_assert_eq (audit_csv_header (csv), -1);
    cr_assert_eq (audit_csv_size (csv), 0);
    audit_csv_destroy (&csv);
}
