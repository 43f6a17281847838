/*  =========================================================================
    audit_log - one line per event on stderr
    ========================================================================= */

#include "audit_log.h"
#include "audit_time.h"

#include <inttypes.h>
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

//  Format one line into line (S_LINE_MAX): time, level, service, the pairs
static void
s_format (char *line, audit_log_level_t level, const char *format, va_list args)
{
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (audit_time_now_ms (), now);
    int used = snprintf (line, S_LINE_MAX, "%s level=%s svc=%s ",
                         now, s_level_names [level], s_service);
    vsnprintf (line + used, S_LINE_MAX - (size_t) used, format, args);
    size_t len = strlen (line);
    if (len > S_LINE_MAX - 2)
        len = S_LINE_MAX - 2;
    line [len] = '\n';
    line [len + 1] = 0;
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
