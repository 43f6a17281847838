/*  The PostgreSQL engine's pieces that need no server: array literals
    (what a batch's unnest reads: quoting and escaping, NULL, bytea and
    UUID elements, an empty array, reuse after reset) and the month
    arithmetic of audit.event's partitions (bounds at UTC month starts,
    December to January, a time just before a bound). */

#include <criterion/criterion.h>
#include <string.h>

#include "pg_array.h"
#include "pg_schema.h"

Test (pg_array, texts_are_quoted_and_escaped_and_null_is_bare)
{
    pg_array_t array;
    pg_array_init (&array);
    pg_array_text_add (&array, "plain");
    pg_array_text_add (&array, "a\"quote");
    pg_array_text_add (&array, "back\\slash");
    pg_array_text_add (&array, NULL);
    pg_array_text_add (&array, "");
    cr_expect_str_eq (pg_array_text (&array),
                      "{\"plain\",\"a\\\"quote\",\"back\\\\slash\",NULL,\"\"}");
    cr_expect_eq (array.count, 5);
    pg_array_free (&array);
}

Test (pg_array, an_empty_array_and_reuse_after_reset)
{
    pg_array_t array;
    pg_array_init (&array);
    cr_expect_str_eq (pg_array_text (&array), "{}");
    pg_array_int_add (&array, -9223372036854775807LL - 1);
    pg_array_int_add (&array, 42);
    cr_expect_str_eq (pg_array_text (&array), "{-9223372036854775808,42}");
    pg_array_reset (&array);
    cr_expect_str_eq (pg_array_text (&array), "{}");
    pg_array_int_add (&array, 7);
    cr_expect_str_eq (pg_array_text (&array), "{7}");
    pg_array_free (&array);
}

Test (pg_array, bytea_and_uuid_elements)
{
    pg_array_t array;
    pg_array_init (&array);
    const uint8_t bytes [] = { 0x00, 0x1f, 0xab, 0xff };
    pg_array_bytea_add (&array, bytes, sizeof bytes);
    const uint8_t uuid [16] = { 0x01, 0x90, 0xa1, 0xb2, 0xc3, 0xd4, 0x7e, 0x5f,
                                0x8a, 0x9b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a };
    pg_array_uuid_add (&array, uuid);
    //  The element's backslash is escaped inside its quotes: the server
    //  reads \x001fabff, a bytea in hex form
    cr_expect_str_eq (pg_array_text (&array),
                      "{\"\\\\x001fabff\",\"0190a1b2-c3d4-7e5f-8a9b-00000000002a\"}");
    pg_array_free (&array);
}

Test (pg_array, a_large_array_grows_its_buffer)
{
    pg_array_t array;
    pg_array_init (&array);
    for (int index = 0; index < 100000; index++)
        pg_array_text_add (&array, "org-0123456789");
    const char *text = pg_array_text (&array);
    cr_assert_not_null (text);
    cr_expect_eq (strlen (text), 2 + 100000 * 16 + 99999 - 0);
    cr_expect_eq (text [0], '{');
    cr_expect_eq (text [strlen (text) - 1], '}');
    pg_array_free (&array);
}

Test (pg_schema, months_are_utc_calendar_months)
{
    //  1970-01 is month 0; 2026-12-01T00:00:00Z is 1796083200000 ms
    cr_expect_eq (pg_schema_month (0), 0);
    int64_t december = pg_schema_month (1796083200000LL);
    cr_expect_eq (december, (2026 - 1970) * 12 + 11);
    cr_expect_eq (pg_schema_month_start (december), 1796083200000LL);
    cr_expect_eq (pg_schema_month (1796083200000LL - 1), december - 1, "a ms before: November");
    //  December to January: the next year's first month
    cr_expect_eq (pg_schema_month_start (december + 1), 1798761600000LL);
    cr_expect_eq (pg_schema_month (1798761600000LL), december + 1);
}
