/*  =========================================================================
    audit_time - time in the service: integer ms since the epoch, UTC

    Calendar arithmetic is done here with the days-from-civil algorithm
    (proleptic Gregorian calendar), not with timegm or the TZ variable, so
    that it is exact for any year, thread-safe, and independent of the
    process's locale and time zone.
    ========================================================================= */

#include "audit_time.h"

#include <string.h>

#include <stdbool.h>
#include <time.h>

//  Formatting covers years 0000..9999, what four digits can show
#define S_FORMAT_MIN_MS  (-62167219200000LL)        //  0000-01-01T00:00:00Z
#define S_FORMAT_MAX_MS  (253402300799999LL)        //  9999-12-31T23:59:59.999Z

//  Limit on ext seconds, so that seconds * 1000 + 999 cannot overflow
#define S_EXT_SECONDS_MAX (INT64_MAX / 1000 - 1)

int64_t
audit_time_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  Days since 1970-01-01 of a civil date (H. Hinnant, "chrono-compatible
//  low-level date algorithms"); month 1..12, day 1..31
static int64_t
s_days_from_civil (int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0? year: year - 399) / 400;
    int64_t year_of_era = year - era * 400;
    int64_t day_of_year = (153 * (month + (month > 2? -3: 9)) + 2) / 5 + day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4
                       - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

//  The inverse: civil date of a day count
static void
s_civil_from_days (int64_t days, int64_t *year, int *month, int *day)
{
    days += 719468;
    int64_t era = (days >= 0? days: days - 146096) / 146097;
    int64_t day_of_era = days - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524
                           - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era
                        - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t shifted_month = (5 * day_of_year + 2) / 153;
    *day = (int) (day_of_year - (153 * shifted_month + 2) / 5 + 1);
    *month = (int) (shifted_month < 10? shifted_month + 3: shifted_month - 9);
    *year = year_of_era + era * 400 + (*month <= 2);
}

static bool
s_is_leap (int64_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
s_days_in_month (int64_t year, int month)
{
    static const int days [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && s_is_leap (year)? 29: days [month - 1];
}

//  width decimal digits at text; false when any is not a digit
static bool
s_digits (const char *text, int width, int *value)
{
    *value = 0;
    for (int index = 0; index < width; index++) {
        if (text [index] < '0' || text [index] > '9')
            return false;
        *value = *value * 10 + (text [index] - '0');
    }
    return true;
}

//  "YYYY-MM-DDTHH:MM:SS" (19 bytes, 't' accepted as RFC 3339 allows) into
//  ms since the epoch of that wall-clock time, before any offset
static int
s_parse_date_time (const char *text, int64_t *ms)
{
    int year, month, day, hour, minute, second;
    if (!s_digits (text, 4, &year) || text [4] != '-'
    ||  !s_digits (text + 5, 2, &month) || text [7] != '-'
    ||  !s_digits (text + 8, 2, &day) || (text [10] != 'T' && text [10] != 't')
    ||  !s_digits (text + 11, 2, &hour) || text [13] != ':'
    ||  !s_digits (text + 14, 2, &minute) || text [16] != ':'
    ||  !s_digits (text + 17, 2, &second))
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > s_days_in_month (year, month)
    ||  hour > 23 || minute > 59 || second > 60)
        return -1;
    //  A leap second (:60) has no ms of its own in Unix time; it is held at
    //  :59.999 by the caller so that order is kept and nothing moves into
    //  the next minute. Which minutes really had one is not checked.
    int64_t seconds = hour * 3600 + minute * 60 + (second == 60? 59: second);
    *ms = (s_days_from_civil (year, month, day) * 86400 + seconds) * 1000;
    return second == 60? 1: 0;
}

//  ".digits" at text (optional): ms from the first three digits, the rest
//  truncated. Returns the bytes taken, or -1.
static int
s_parse_fraction (const char *text, size_t len, int *fraction_ms)
{
    *fraction_ms = 0;
    if (len == 0 || text [0] != '.')
        return 0;
    size_t taken = 1;
    int scale = 100;
    while (taken < len && text [taken] >= '0' && text [taken] <= '9') {
        *fraction_ms += (text [taken] - '0') * scale;
        scale /= 10;
        taken++;
    }
    return taken > 1? (int) taken: -1;
}

//  "Z", "z" or "+hh:mm" / "-hh:mm", exactly len bytes: the offset in ms
static int
s_parse_offset (const char *text, size_t len, int64_t *offset_ms)
{
    *offset_ms = 0;
    if (len == 1 && (text [0] == 'Z' || text [0] == 'z'))
        return 0;
    int hours, minutes;
    if (len != 6 || (text [0] != '+' && text [0] != '-')
    ||  !s_digits (text + 1, 2, &hours) || text [3] != ':'
    ||  !s_digits (text + 4, 2, &minutes) || hours > 23 || minutes > 59)
        return -1;
    *offset_ms = (hours * 60 + minutes) * 60000LL;
    if (text [0] == '-')
        *offset_ms = -*offset_ms;
    return 0;
}

int
audit_time_parse_rfc3339 (const char *text, size_t len, int64_t *ms)
{
    int64_t local_ms, offset_ms;
    int fraction_ms;
    if (len < 20)                       //  "YYYY-MM-DDTHH:MM:SSZ"
        return -1;
    int leap = s_parse_date_time (text, &local_ms);
    if (leap < 0)
        return -1;
    int taken = s_parse_fraction (text + 19, len - 19, &fraction_ms);
    if (taken < 0 || s_parse_offset (text + 19 + taken, len - 19 - (size_t) taken,
                                     &offset_ms) != 0)
        return -1;
    //  UTC = local time - offset ("+05:30" is 5.5 h ahead of UTC)
    *ms = local_ms + (leap? 999: fraction_ms) - offset_ms;
    return 0;
}

int
audit_time_from_ext (const uint8_t *body, size_t len, int64_t *ms)
{
    uint64_t nanoseconds = 0;
    int64_t seconds;
    uint64_t word = 0;
    for (size_t index = 0; index < len && index < 8; index++)
        word = (word << 8) | body [index];
    if (len == 4)                       //  uint32 seconds
        seconds = (int64_t) word;
    else
    if (len == 8) {                     //  30 bits ns, 34 bits seconds
        nanoseconds = word >> 34;
        seconds = (int64_t) (word & 0x3ffffffffULL);
    }
    else
    if (len == 12) {                    //  uint32 ns, int64 seconds
        nanoseconds = word >> 32;
        uint64_t low = word & 0xffffffffULL;
        for (size_t index = 8; index < 12; index++)
            low = (low << 8) | body [index];
        seconds = (int64_t) low;
    }
    else
        return -1;
    if (nanoseconds >= 1000000000
    ||  seconds > S_EXT_SECONDS_MAX || seconds < -S_EXT_SECONDS_MAX)
        return -1;
    //  ns is never negative, so adding it rounds toward the past: floor
    *ms = seconds * 1000 + (int64_t) (nanoseconds / 1000000);
    return 0;
}

//  value (0 .. 10^width - 1) as width decimal digits, zero-padded
static void
s_put (char *text, int64_t value, int width)
{
    for (int index = width - 1; index >= 0; index--) {
        text [index] = (char) ('0' + value % 10);
        value /= 10;
    }
}

//  The two digits of 0 .. 99
static const char s_pairs [] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static void
s_put_pair (char *text, int value)
{
    memcpy (text, s_pairs + 2 * value, 2);
}

//  "YYYY-MM-DDT" of days since the epoch, kept per thread for the day
//  last asked: the rows of a page or an export mostly share their day,
//  and the civil date is most of the cost of the form
static void
s_put_date (char *text, int64_t days)
{
    static _Thread_local int64_t cached_days = INT64_MIN;
    static _Thread_local char cached [11];
    if (days != cached_days) {
        int64_t year;
        int month, day;
        s_civil_from_days (days, &year, &month, &day);
        s_put (cached, year, 4);
        cached [4] = '-';
        s_put_pair (cached + 5, month);
        cached [7] = '-';
        s_put_pair (cached + 8, day);
        cached [10] = 'T';
        cached_days = days;
    }
    memcpy (text, cached, sizeof cached);
}

void
audit_time_format (int64_t ms, char *text)
{
    //  Years beyond four digits would not fit the form (or the buffer);
    //  they are held at its ends rather than written wrong
    if (ms < S_FORMAT_MIN_MS)
        ms = S_FORMAT_MIN_MS;
    if (ms > S_FORMAT_MAX_MS)
        ms = S_FORMAT_MAX_MS;
    //  Floor division, so that 1969 times get a positive time of day
    int64_t days = ms / AUDIT_MS_PER_DAY;
    int64_t of_day = ms % AUDIT_MS_PER_DAY;
    if (of_day < 0) {
        of_day += AUDIT_MS_PER_DAY;
        days--;
    }
    int seconds = (int) (of_day / 1000);
    int millis = (int) (of_day % 1000);
    //  Written digit by digit: every value is in range by construction, and
    //  this runs twice per row of every query reply and export
    s_put_date (text, days);
    s_put_pair (text + 11, seconds / 3600);
    text [13] = ':';
    s_put_pair (text + 14, seconds / 60 % 60);
    text [16] = ':';
    s_put_pair (text + 17, seconds % 60);
    text [19] = '.';
    text [20] = (char) ('0' + millis / 100);
    s_put_pair (text + 21, millis % 100);
    text [23] = 'Z';
    text [24] = 0;
}
