/*  =========================================================================
    audit_log - one line per event on stderr, logfmt style:

      2026-11-26T09:47:19.123Z level=warn svc=ingest msg=rejected reason=bad_field

    Callers pass only values the contract allows in logs (ids it names,
    reasons, key names, counts), never a value taken from an event body.

    Warn lines are rate limited per process, because a client decides how
    many there are (each malformed message writes one): past
    AUDIT_LOG_WARN_PER_SECOND in a one-second window they are counted, not
    written, and the first line below error of a later window is preceded
    by one `level=warn msg=log_suppressed lines=N`. Error lines are never
    held back. Only log text is lost: the counters (ingest.rejected...,
    query.errors...) still count every event the lines would have told.
    ========================================================================= */

#ifndef AUDIT_LOG_H_INCLUDED
#define AUDIT_LOG_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Warn lines written per second at most. Enough to show an incident's
//  detail, while a flood (a fuzzer once wrote 2.5 GB in 32 minutes) is
//  held to about 11 KB/s of ~110-byte lines
#define AUDIT_LOG_WARN_PER_SECOND   100

typedef enum {
    AUDIT_LOG_DEBUG, AUDIT_LOG_INFO, AUDIT_LOG_WARN, AUDIT_LOG_ERROR
} audit_log_level_t;

//  Name this process in every line (e.g. "ingest"); call once at start.
void
    audit_log_init (const char *service, audit_log_level_t threshold);

//  Parse "debug", "info", "warn" or "error"; -1 when none of them.
int
    audit_log_level_parse (const char *text, audit_log_level_t *level);

//  Write one line: level, service, then the formatted key=value pairs.
void
    audit_log (audit_log_level_t level, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  For tests only: the millisecond clock (monotonic) whose seconds are
//  the rate windows, so that a test need not sleep; NULL restores the
//  real one. Set it before other threads log.
void
    audit_log_clock_for_test (int64_t (*now_ms) (void));

#define audit_log_debug(...) audit_log (AUDIT_LOG_DEBUG, __VA_ARGS__)
#define audit_log_info(...)  audit_log (AUDIT_LOG_INFO, __VA_ARGS__)
#define audit_log_warn(...)  audit_log (AUDIT_LOG_WARN, __VA_ARGS__)
#define audit_log_error(...) audit_log (AUDIT_LOG_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
