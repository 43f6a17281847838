/*  =========================================================================
    audit_log - one line per event on stderr
    ========================================================================= */

#include "audit_log.h"
#include "audit_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char s_service [32] = "audit";
static audit_log_level_t s_threshold = AUDIT_LOG_INFO;

static const char *s_level_names [] = { "debug", "info", "warn", "error" };

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
audit_log (audit_log_level_t level, const char *format, ...)
{
    if (level < s_threshold)
        return;
    char line [1024];
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (audit_time_now_ms (), now);
    int used = snprintf (line, sizeof line, "%s level=%s svc=%s ",
                         now, s_level_names [level], s_service);
    va_list args;
    va_start (args, format);
    vsnprintf (line + used, sizeof line - (size_t) used, format, args);
    va_end (args);
    //  One fputs of the whole line, so lines from threads do not interleave;
    //  a line that was cut still ends in a newline
    size_t len = strlen (line);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line [len] = '\n';
    line [len + 1] = 0;
    fputs (line, stderr);
}
