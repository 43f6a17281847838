/*  audit_time: RFC 3339 text, the MessagePack timestamp ext, and the one
    output form, against values worked out independently */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_time.h"

static int
s_parse (const char *text, int64_t *ms)
{
    return audit_time_parse_rfc3339 (text, strlen (text), ms);
}

static void
s_assert_parses (const char *text, int64_t expected)
{
    int64_t ms = 0;
    cr_assert_eq (s_parse (text, &ms), 0, "%s refused", text);
    cr_assert_eq (ms, expected, "%s: %lld, not %lld", text, (long long) ms,
                  (long long) expected);
}

Test (time, now_is_the_wall_clock_in_ms)
{
    int64_t before = (int64_t) time (NULL) * 1000;
    int64_t now = audit_time_now_ms ();
    int64_t after = (int64_t) time (NULL) * 1000 + 1000;
    cr_assert (now >= before && now <= after);
}

Test (time, rfc3339_utc_forms)
{
    s_assert_parses ("1970-01-01T00:00:00Z", 0);
    s_assert_parses ("2026-11-26T09:47:19.123Z", 1795686439123LL);
    s_assert_parses ("2026-11-26t09:47:19.123z", 1795686439123LL);
    s_assert_parses ("2024-02-29T23:59:59.999Z", 1709251199999LL);
    s_assert_parses ("2000-03-01T00:00:00Z", 951868800000LL);
    s_assert_parses ("1969-12-31T23:59:59.999Z", -1);
    s_assert_parses ("1900-01-01T00:00:00Z", -2208988800000LL);
    s_assert_parses ("0001-01-01T00:00:00Z", -62135596800000LL);
    s_assert_parses ("9999-12-31T23:59:59.999Z", 253402300799999LL);
}

Test (time, rfc3339_offsets_are_normalised_to_utc)
{
    s_assert_parses ("2026-11-26T09:47:19.123+00:00", 1795686439123LL);
    s_assert_parses ("2026-11-26T09:47:19.123-00:00", 1795686439123LL);
    s_assert_parses ("2026-11-26T09:47:19.123+05:30", 1795666639123LL);
    s_assert_parses ("2026-11-26T09:47:19.123-08:00", 1795715239123LL);
    //  across a day and a year boundary
    s_assert_parses ("2027-01-01T01:00:00+02:00", 1798758000000LL);
    s_assert_parses ("1970-01-01T00:00:00+23:59", -86340000LL);
}

Test (time, rfc3339_fraction_of_any_length_is_truncated_to_ms)
{
    const char *fractions [] = { "", ".1", ".12", ".123", ".1239", ".12399",
                                 ".123999", ".1239999", ".12399999", ".123999999",
                                 ".1239999999999999999999" };
    const int64_t expected [] = { 0, 100, 120, 123, 123, 123, 123, 123, 123, 123, 123 };
    for (size_t index = 0; index < sizeof expected / sizeof expected [0]; index++) {
        char text [64];
        snprintf (text, sizeof text, "2026-11-26T09:47:19%sZ", fractions [index]);
        s_assert_parses (text, 1795686439000LL + expected [index]);
    }
    s_assert_parses ("2026-11-26T09:47:19.000000000+01:00", 1795682839000LL);
}

Test (time, rfc3339_leap_second_is_held_at_the_last_ms_of_its_minute)
{
    s_assert_parses ("2016-12-31T23:59:60Z", 1483228799999LL);
    s_assert_parses ("2016-12-31T23:59:60.5Z", 1483228799999LL);
    int64_t before, leap, after;
    cr_assert_eq (s_parse ("2016-12-31T23:59:59.998Z", &before), 0);
    cr_assert_eq (s_parse ("2016-12-31T23:59:60Z", &leap), 0);
    cr_assert_eq (s_parse ("2017-01-01T00:00:00Z", &after), 0);
    cr_assert (before < leap && leap < after);
}

Test (time, rfc3339_refuses_impossible_dates_and_times)
{
    const char *bad [] = {
        "2025-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z", "2026-01-32T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z", "2026-01-01T23:59:61Z",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        int64_t ms = 7;
        cr_assert_eq (s_parse (bad [index], &ms), -1, "%s accepted", bad [index]);
        cr_assert_eq (ms, 7, "%s wrote a result", bad [index]);
    }
}

Test (time, rfc3339_refuses_malformed_text)
{
    const char *bad [] = {
        "", "2026", "2026-11-26", "2026-11-26T09:47Z", "2026-11-26 09:47:19Z",
        "2026-11-26X09:47:19Z", "2026-11-26T09:47:19", "2026-11-26T09:47:19.Z",
        "2026-11-26T09:47:19.123", "2026-11-26T09:47:19ZZ", "2026-11-26T09:47:19Z ",
        " 2026-11-26T09:47:19Z", "2026-11-26T09:47:19.12a3Z", "2026-11-26T09:47:19+25:00",
        "2026-11-26T09:47:19+05:60", "2026-11-26T09:47:19+0530", "2026-11-26T09:47:19+05",
        "2026-11-26T09:47:19+05:30:00", "2026/11/26T09:47:19Z", "2026-1-26T09:47:19Z",
        "+2026-11-26T09:47:19Z", "2026-11-26T09:47:19 +01:00", "2026-11-26T9:47:19Z",
        "2026-11-26T09:47:19UTC", "-026-11-26T09:47:19Z",
    };
    for (size_t index = 0; index < sizeof bad / sizeof bad [0]; index++) {
        int64_t ms;
        cr_assert_eq (s_parse (bad [index], &ms), -1, "'%s' accepted", bad [index]);
    }
}

Test (time, rfc3339_reads_only_len_bytes)
{
    const char text [] = "2026-11-26T09:47:19Z and then some";
    int64_t ms;
    cr_assert_eq (audit_time_parse_rfc3339 (text, 20, &ms), 0);
    cr_assert_eq (ms, 1795686439000LL);
    cr_assert_eq (audit_time_parse_rfc3339 (text, 19, &ms), -1);
    cr_assert_eq (audit_time_parse_rfc3339 (text, 21, &ms), -1);
}

Test (time, ext_4_bytes_is_uint32_seconds)
{
    const uint8_t body [4] = { 0x6a, 0xe9, 0x40, 0x00 };
    int64_t ms;
    cr_assert_eq (audit_time_from_ext (body, 4, &ms), 0);
    cr_assert_eq (ms, 0x6ae94000LL * 1000);
    const uint8_t top [4] = { 0xff, 0xff, 0xff, 0xff };
    cr_assert_eq (audit_time_from_ext (top, 4, &ms), 0);
    cr_assert_eq (ms, 4294967295LL * 1000);
}

Test (time, ext_8_bytes_is_30_bits_ns_and_34_bits_seconds)
{
    //  ns = 123456789, seconds = 0x3_0000_0001 (needs the 34th bit)
    uint64_t word = (123456789ULL << 34) | 0x300000001ULL;
    uint8_t body [8];
    for (int index = 0; index < 8; index++)
        body [index] = (uint8_t) (word >> (56 - 8 * index));
    int64_t ms;
    cr_assert_eq (audit_time_from_ext (body, 8, &ms), 0);
    cr_assert_eq (ms, 0x300000001LL * 1000 + 123);

    word = (1000000000ULL << 34) | 1;   //  ns must be below one second
    for (int index = 0; index < 8; index++)
        body [index] = (uint8_t) (word >> (56 - 8 * index));
    cr_assert_eq (audit_time_from_ext (body, 8, &ms), -1);
    word = (999999999ULL << 34) | 1;
    for (int index = 0; index < 8; index++)
        body [index] = (uint8_t) (word >> (56 - 8 * index));
    cr_assert_eq (audit_time_from_ext (body, 8, &ms), 0);
    cr_assert_eq (ms, 1999);
}

Test (time, ext_12_bytes_is_uint32_ns_and_int64_seconds)
{
    //  ns = 500000000, seconds = -1: half a second before the epoch
    const uint8_t before_epoch [12] = { 0x1d, 0xcd, 0x65, 0x00,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    int64_t ms;
    cr_assert_eq (audit_time_from_ext (before_epoch, 12, &ms), 0);
    cr_assert_eq (ms, -500);
    const uint8_t later [12] = { 0x00, 0x0f, 0x42, 0x40,     //  1 ms
        0x00, 0x00, 0x00, 0x00, 0x6a, 0xe9, 0x40, 0x00 };
    cr_assert_eq (audit_time_from_ext (later, 12, &ms), 0);
    cr_assert_eq (ms, 0x6ae94000LL * 1000 + 1);
    const uint8_t too_many_ns [12] = { 0x3b, 0x9a, 0xca, 0x00,  //  1e9
        0, 0, 0, 0, 0, 0, 0, 1 };
    cr_assert_eq (audit_time_from_ext (too_many_ns, 12, &ms), -1);
    const uint8_t overflowing [12] = { 0, 0, 0, 0,
        0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    cr_assert_eq (audit_time_from_ext (overflowing, 12, &ms), -1);
}

Test (time, ext_of_another_size_is_refused)
{
    const uint8_t body [16] = { 0 };
    const size_t sizes [] = { 0, 1, 2, 3, 5, 6, 7, 9, 10, 11, 13, 16 };
    for (size_t index = 0; index < sizeof sizes / sizeof sizes [0]; index++) {
        int64_t ms;
        cr_assert_eq (audit_time_from_ext (body, sizes [index], &ms), -1, "%zu", sizes [index]);
    }
}

static void
s_assert_formats (int64_t ms, const char *expected)
{
    char text [AUDIT_TIME_TEXT_SIZE];
    memset (text, 'x', sizeof text);
    audit_time_format (ms, text);
    cr_assert_str_eq (text, expected);
}

Test (time, format_is_utc_with_ms_before_and_after_the_epoch)
{
    s_assert_formats (0, "1970-01-01T00:00:00.000Z");
    s_assert_formats (1795686439123LL, "2026-11-26T09:47:19.123Z");
    s_assert_formats (1709251199999LL, "2024-02-29T23:59:59.999Z");
    s_assert_formats (-1, "1969-12-31T23:59:59.999Z");
    s_assert_formats (-1000, "1969-12-31T23:59:59.000Z");
    s_assert_formats (-86400001LL, "1969-12-30T23:59:59.999Z");
    s_assert_formats (-2208988800000LL, "1900-01-01T00:00:00.000Z");
    s_assert_formats (-62167219200000LL, "0000-01-01T00:00:00.000Z");
    s_assert_formats (253402300799999LL, "9999-12-31T23:59:59.999Z");
}

Test (time, format_holds_years_beyond_four_digits_at_the_ends)
{
    s_assert_formats (INT64_MIN, "0000-01-01T00:00:00.000Z");
    s_assert_formats (INT64_MAX, "9999-12-31T23:59:59.999Z");
    s_assert_formats (253402300800000LL, "9999-12-31T23:59:59.999Z");
}

Test (time, format_and_parse_round_trip)
{
    srand (1);
    const int64_t low = -62167219200000LL, high = 253402300799999LL;
    for (int round = 0; round < 100000; round++) {
        int64_t ms = low + (int64_t) (((uint64_t) rand () << 31 ^ (uint64_t) rand ())
                                      % (uint64_t) (high - low));
        char text [AUDIT_TIME_TEXT_SIZE];
        audit_time_format (ms, text);
        int64_t parsed;
        cr_assert_eq (s_parse (text, &parsed), 0, "%s", text);
        cr_assert_eq (parsed, ms, "%s", text);
    }
}
