/*  =========================================================================
    test_janitor_cut - where retention cuts, as a function of the clock

    Decided boundary: a row is deleted when its time is strictly before the
    cut (ts < now - days); a row exactly `days` old (ts == cut) is kept.
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_proto.h"
#include "audit_time.h"
#include "janitor_cut.h"

static int64_t
s_ms (const char *text)
{
    int64_t ms = 0;
    cr_assert_eq (audit_time_parse_rfc3339 (text, strlen (text), &ms), 0, "%s", text);
    return ms;
}

static void
s_expect_time (int64_t ms, const char *text)
{
    char formatted [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (ms, formatted);
    cr_expect_str_eq (formatted, text);
}

Test (janitor_cut, ninety_day_org)
{
    int64_t now = s_ms ("2026-11-26T09:47:19.123Z");
    int64_t cut = janitor_cut_audit (now, 90);
    s_expect_time (cut, "2026-08-28T09:47:19.123Z");
    cr_expect (janitor_cut_expired (s_ms ("2026-08-18T00:00:00Z"), cut), "100 days old goes");
    cr_expect (!janitor_cut_expired (s_ms ("2026-09-01T00:00:00Z"), cut), "86 days old stays");
}

Test (janitor_cut, default_org_keeps_twelve_months)
{
    int64_t now = s_ms ("2026-11-26T09:47:19.123Z");
    int64_t cut = janitor_cut_audit (now, AUDIT_RETENTION_MAX_DAYS);
    s_expect_time (cut, "2025-11-26T09:47:19.123Z");
    cr_expect (!janitor_cut_expired (now - 100 * AUDIT_MS_PER_DAY, cut), "100 days old stays");
    cr_expect (!janitor_cut_expired (now - 364 * AUDIT_MS_PER_DAY, cut));
    cr_expect (janitor_cut_expired (now - 366 * AUDIT_MS_PER_DAY, cut));
}

Test (janitor_cut, one_day_org)
{
    int64_t now = s_ms ("2026-11-26T09:47:19.123Z");
    int64_t cut = janitor_cut_audit (now, 1);
    s_expect_time (cut, "2026-11-25T09:47:19.123Z");
    cr_expect (janitor_cut_expired (now - AUDIT_MS_PER_DAY - 1, cut));
    cr_expect (!janitor_cut_expired (now - AUDIT_MS_PER_DAY + 1, cut));
    cr_expect (!janitor_cut_expired (now, cut));
}

Test (janitor_cut, exactly_at_the_cut_is_kept_a_millisecond_older_goes)
{
    int64_t now = s_ms ("2026-11-26T09:47:19.123Z");
    const int64_t days [] = { 1, 7, 30, 90, 365 };
    for (size_t index = 0; index < sizeof days / sizeof days [0]; index++) {
        int64_t cut = janitor_cut_audit (now, days [index]);
        cr_expect_eq (cut, now - days [index] * AUDIT_MS_PER_DAY);
        cr_expect (!janitor_cut_expired (cut, cut), "%lld days: at the cut, kept",
                   (long long) days [index]);
        cr_expect (janitor_cut_expired (cut - 1, cut), "%lld days: 1 ms older, deleted",
                   (long long) days [index]);
        cr_expect (!janitor_cut_expired (cut + 1, cut));
    }
}

Test (janitor_cut, utc_day_change)
{
    //  At midnight UTC the cut is midnight UTC `days` earlier, to the ms,
    //  across a month and a year end
    int64_t now = s_ms ("2027-01-01T00:00:00.000Z");
    s_expect_time (janitor_cut_audit (now, 1), "2026-12-31T00:00:00.000Z");
    s_expect_time (janitor_cut_audit (now, 90), "2026-10-03T00:00:00.000Z");
    int64_t cut = janitor_cut_audit (now, 1);
    cr_expect (janitor_cut_expired (s_ms ("2026-12-30T23:59:59.999Z"), cut));
    cr_expect (!janitor_cut_expired (s_ms ("2026-12-31T00:00:00.000Z"), cut));
    //  One ms before midnight the cut is one ms before the previous midnight
    s_expect_time (janitor_cut_audit (now - 1, 1), "2026-12-30T23:59:59.999Z");
    //  A leap day is an ordinary day of 86,400,000 ms
    s_expect_time (janitor_cut_audit (s_ms ("2028-03-01T12:00:00Z"), 1),
                   "2028-02-29T12:00:00.000Z");
}

Test (janitor_cut, local_time_zone_and_daylight_saving_do_not_move_it)
{
    //  2026-03-29 is the European spring-forward day: a local day of 23 h.
    //  Retention counts UTC days, so the cut is still 24 h per day back.
    setenv ("TZ", "Europe/Berlin", 1);
    tzset ();
    int64_t now = s_ms ("2026-03-29T12:00:00+02:00");
    s_expect_time (janitor_cut_audit (now, 1), "2026-03-28T10:00:00.000Z");
    cr_expect_eq (now - janitor_cut_audit (now, 1), 86400000LL);
    unsetenv ("TZ");
    tzset ();
}

Test (janitor_cut, days_are_clamped_so_retention_never_grows)
{
    bool clamped = true;
    cr_expect_eq (janitor_cut_days (90, &clamped), 90);
    cr_expect (!clamped);
    cr_expect_eq (janitor_cut_days (1, &clamped), 1);
    cr_expect (!clamped);
    cr_expect_eq (janitor_cut_days (365, &clamped), 365);
    cr_expect (!clamped);
    cr_expect_eq (janitor_cut_days (366, &clamped), AUDIT_RETENTION_MAX_DAYS);
    cr_expect (clamped);
    cr_expect_eq (janitor_cut_days (INT64_MAX, &clamped), AUDIT_RETENTION_MAX_DAYS);
    cr_expect_eq (janitor_cut_days (0, &clamped), 1);
    cr_expect (clamped);
    cr_expect_eq (janitor_cut_days (-5, NULL), 1);
    int64_t now = s_ms ("2026-11-26T00:00:00Z");
    //  A corrupt row of 100000 days cuts where 365 does, never earlier
    cr_expect_eq (janitor_cut_audit (now, 100000), janitor_cut_audit (now, 365));
    cr_expect_eq (janitor_cut_audit (now, 0), janitor_cut_audit (now, 1));
}

Test (janitor_cut, ops_thirty_days_and_queue_seven)
{
    int64_t now = s_ms ("2026-11-26T09:47:19.123Z");
    s_expect_time (janitor_cut_ops (now), "2026-10-27T09:47:19.123Z");
    s_expect_time (janitor_cut_queue (now), "2026-11-19T09:47:19.123Z");
    cr_expect_eq (now - janitor_cut_ops (now), AUDIT_OPS_RETENTION_DAYS * AUDIT_MS_PER_DAY);
    cr_expect_eq (now - janitor_cut_queue (now), AUDIT_MQ_RETENTION_DAYS * AUDIT_MS_PER_DAY);
    cr_expect (janitor_cut_expired (now - 40 * AUDIT_MS_PER_DAY, janitor_cut_ops (now)));
    cr_expect (!janitor_cut_expired (now - 20 * AUDIT_MS_PER_DAY, janitor_cut_ops (now)));
    cr_expect (janitor_cut_expired (now - 8 * AUDIT_MS_PER_DAY, janitor_cut_queue (now)));
    cr_expect (!janitor_cut_expired (now - 6 * AUDIT_MS_PER_DAY, janitor_cut_queue (now)));
}
