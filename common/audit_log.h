/*  =========================================================================
    audit_log - one line per event on stderr, logfmt style:

      2026-11-26T09:47:19.123Z level=warn svc=ingest msg=rejected reason=bad_field

    Callers pass only values the contract allows in logs (ids it names,
    reasons, key names, counts), never a value taken from an event body.
    ========================================================================= */

#ifndef AUDIT_LOG_H_INCLUDED
#define AUDIT_LOG_H_INCLUDED

#ifdef __cplusplus
extern "C" {
#endif

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

#define audit_log_debug(...) audit_log (AUDIT_LOG_DEBUG, __VA_ARGS__)
#define audit_log_info(...)  audit_log (AUDIT_LOG_INFO, __VA_ARGS__)
#define audit_log_warn(...)  audit_log (AUDIT_LOG_WARN, __VA_ARGS__)
#define audit_log_error(...) audit_log (AUDIT_LOG_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
