/*  =========================================================================
    audit_log - one line per event on stderr
    ========================================================================= */

#include "audit_log.h"
#include "audit_time.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

//  Longest line written; a longer one is cut, still ending in a newline
#define S_LINE_MAX  1024

static char s_service [32] = "audit";
static audit_log_level_t s_threshold = AUDIT_LOG_INFO;

static const char *s_level_names [] = { "debug", "info", "warn", "error" };

static int64_t
s_mono_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

//  The warn rate, across every thread that logs
static pthread_mutex_t s_rate_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t (*s_clock) (void) = s_mono_ms;
static int64_t s_window = -1;       //  the second s_written counts in
static uint32_t s_written;          //  warn lines written in it
static uint64_t s_suppressed;       //  warn lines not written since the last notice

void
audit_log_init (const char *service, audit_log_level_t threshold)
{
    snprintf (s_service, sizeof s_service, "%s", service);
    s_threshold = threshold;
}

int
audit_log_level_parse (const char *text, audit_log_level_t *level)
{
    for (int candidate = AUDIT_LOG_DEBUG; candidate <= AUDIT_LOG_ERROR; candidate++)
        if (strcmp (text, s_level_names [candidate]) == 0) {
            *level = (audit_log_level_t) candidate;
            return 0;
        }
    return -1;
}

void
audit_log_clock_for_test (int64_t (*now_ms) (void))
{
    s_clock = now_ms ? now_ms : s_mono_ms;
}

//  --------------------------------------------------------------------------
//  The formatter: printf's conversions, but a %s value is escaped, so that
//  a '"', a space or a line end in it cannot close a quoted value, start a
//  field or start a line. Inside quotes of the format (reason="%s") it is
//  escaped; outside (dir=%s) it is written as is when it needs no quotes,
//  else quoted and escaped.

typedef struct {
    char *text;
    size_t size;                        //  of text, its NUL included
    size_t used;
} s_out_t;

static void
s_put (s_out_t *out, const char *bytes, size_t len)
{
    size_t room = out->size - 1 - out->used;
    if (len > room)
        len = room;
    memcpy (out->text + out->used, bytes, len);
    out->used += len;
    out->text [out->used] = 0;
}

//  True when byte breaks a bare logfmt value
static bool
s_needs_quotes (unsigned char byte)
{
    return byte <= ' ' || byte == '"' || byte == '\\' || byte == 0x7F;
}

static void
s_put_escaped (s_out_t *out, const char *value, size_t len)
{
    for (size_t index = 0; index < len; index++) {
        unsigned char byte = (unsigned char) value [index];
        char escape [8] = { (char) byte, 0 };
        if (byte == '"' || byte == '\\')
            snprintf (escape, sizeof escape, "\\%c", byte);
        else
        if (byte == '\n' || byte == '\r' || byte == '\t')
            snprintf (escape, sizeof escape, "\\%c", byte == '\n'? 'n': byte == '\r'? 'r': 't');
        else
        if (byte < ' ' || byte == 0x7F)
            snprintf (escape, sizeof escape, "\\x%02X", byte);
        s_put (out, escape, strlen (escape));
    }
}

static void
s_put_value (s_out_t *out, const char *value, int precision, bool in_quotes)
{
    if (!value)
        value = "(null)";
    size_t len = precision < 0? strlen (value): strnlen (value, (size_t) precision);
    bool quote = !in_quotes && len == 0;
    for (size_t index = 0; index < len && !in_quotes && !quote; index++)
        quote = s_needs_quotes ((unsigned char) value [index]);
    if (quote)
        s_put (out, "\"", 1);
    s_put_escaped (out, value, len);
    if (quote)
        s_put (out, "\"", 1);
}

//  One conversion other than %s, its argument taken by its length modifier
static void
s_put_number (s_out_t *out, const char *spec, const char *length, char conversion,
              va_list *args)
{
    char text [512] = "";
    bool is_long = length [0] == 'l' && length [1] != 'l';
    bool is_llong = length [0] == 'l' && length [1] == 'l';
    if (strchr ("di", conversion)) {
        if (is_long)                snprintf (text, sizeof text, spec, va_arg (*args, long));
        else if (is_llong)          snprintf (text, sizeof text, spec, va_arg (*args, long long));
        else if (*length == 'z')    snprintf (text, sizeof text, spec, va_arg (*args, ssize_t));
        else if (*length == 'j')    snprintf (text, sizeof text, spec, va_arg (*args, intmax_t));
        else if (*length == 't')    snprintf (text, sizeof text, spec, va_arg (*args, ptrdiff_t));
        else                        snprintf (text, sizeof text, spec, va_arg (*args, int));
    }
    else
    if (strchr ("uoxX", conversion)) {
        if (is_long)                snprintf (text, sizeof text, spec, va_arg (*args, unsigned long));
        else if (is_llong)          snprintf (text, sizeof text, spec, va_arg (*args, unsigned long long));
        else if (*length == 'z')    snprintf (text, sizeof text, spec, va_arg (*args, size_t));
        else if (*length == 'j')    snprintf (text, sizeof text, spec, va_arg (*args, uintmax_t));
        else if (*length == 't')    snprintf (text, sizeof text, spec, va_arg (*args, ptrdiff_t));
        else                        snprintf (text, sizeof text, spec, va_arg (*args, unsigned));
    }
    else
    if (strchr ("fFeEgGaA", conversion)) {
        if (*length == 'L')         snprintf (text, sizeof text, spec, va_arg (*args, long double));
        else                        snprintf (text, sizeof text, spec, va_arg (*args, double));
    }
    else
    if (conversion == 'c')          snprintf (text, sizeof text, spec, va_arg (*args, int));
    else
    if (conversion == 'p')          snprintf (text, sizeof text, spec, va_arg (*args, void *));
    else
        assert (!"a conversion audit_log does not know");
    s_put (out, text, strlen (text));
}

//  A width or precision: digits, or '*' from the arguments; -1 when absent
static int
s_spec_number (const char **cursor, va_list *args)
{
    if (**cursor == '*') {
        (*cursor)++;
        return va_arg (*args, int);
    }
    if (!isdigit ((unsigned char) **cursor))
        return -1;
    int number = 0;
    while (isdigit ((unsigned char) **cursor))
        number = number * 10 + (*(*cursor)++ - '0');
    return number;
}

//  One conversion at *cursor (past its '%'); moves *cursor past it
static void
s_convert (s_out_t *out, const char **cursor, va_list *args, bool in_quotes)
{
    const char *flags = *cursor;
    size_t flag_count = strspn (flags, "-+ #0");
    *cursor += flag_count;
    int width = s_spec_number (cursor, args);
    int precision = -1;
    if (**cursor == '.') {
        (*cursor)++;
        precision = s_spec_number (cursor, args);
        if (precision < 0)
            precision = 0;
    }
    char length [3] = "";
    size_t length_count = strspn (*cursor, "hljztL");
    assert (length_count <= 2);
    memcpy (length, *cursor, length_count);
    *cursor += length_count;
    char conversion = *(*cursor)++;
    if (conversion == '%')
        s_put (out, "%", 1);
    else
    if (conversion == 's')
        s_put_value (out, va_arg (*args, const char *), precision, in_quotes);
    else {
        char spec [48];
        int used = snprintf (spec, sizeof spec, "%%%.*s", (int) (flag_count < 5? flag_count: 5), flags);
        if (width >= 0)
            used += snprintf (spec + used, sizeof spec - (size_t) used, "%d", width);
        if (precision >= 0)
            used += snprintf (spec + used, sizeof spec - (size_t) used, ".%d", precision);
        snprintf (spec + used, sizeof spec - (size_t) used, "%s%c", length, conversion);
        s_put_number (out, spec, length, conversion, args);
    }
}

static void
s_vformat (s_out_t *out, const char *format, va_list *args)
{
    bool in_quotes = false;
    for (const char *cursor = format; *cursor; ) {
        if (*cursor != '%') {
            in_quotes ^= *cursor == '"';
            s_put (out, cursor++, 1);
        }
        else {
            cursor++;
            s_convert (out, &cursor, args, in_quotes);
        }
    }
}

//  Format one line into line (S_LINE_MAX): time, level, service, the pairs
static void
s_format (char *line, audit_log_level_t level, const char *format, va_list args)
{
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (audit_time_now_ms (), now);
    int used = snprintf (line, S_LINE_MAX, "%s level=%s svc=%s ",
                         now, s_level_names [level], s_service);
    s_out_t out = { line, S_LINE_MAX - 1, (size_t) used };
    va_list copy;
    va_copy (copy, args);
    s_vformat (&out, format, &copy);
    va_end (copy);
    line [out.used] = '\n';
    line [out.used + 1] = 0;
}

static void
s_line (char *line, audit_log_level_t level, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_format (line, level, format, args);
    va_end (args);
}

//  A line below error, under the lock: a new window first tells what the
//  last ones held back; a warn line past the rate is only counted
static void
s_write_limited (audit_log_level_t level, const char *line)
{
    pthread_mutex_lock (&s_rate_lock);
    int64_t window = s_clock () / 1000;
    if (window != s_window) {
        s_window = window;
        s_written = 0;
        if (s_suppressed) {
            char notice [S_LINE_MAX];
            s_line (notice, AUDIT_LOG_WARN, "msg=log_suppressed lines=%" PRIu64, s_suppressed);
            fputs (notice, stderr);
            s_suppressed = 0;
        }
    }
    if (level == AUDIT_LOG_WARN && s_written >= AUDIT_LOG_WARN_PER_SECOND)
        s_suppressed++;
    else {
        s_written += level == AUDIT_LOG_WARN;
        fputs (line, stderr);
    }
    pthread_mutex_unlock (&s_rate_lock);
}

//  One fputs of the whole line, so lines from threads do not interleave
void
audit_log (audit_log_level_t level, const char *format, ...)
{
    if (level < s_threshold)
        return;
    char line [S_LINE_MAX];
    va_list args;
    va_start (args, format);
    s_format (line, level, format, args);
    va_end (args);
    if (level == AUDIT_LOG_ERROR)
        fputs (line, stderr);
    else
        s_write_limited (level, line);
}
