/*  =========================================================================
    audit_time - time in the service: integer milliseconds since the Unix
    epoch, UTC, and the two wire forms (RFC 3339 text and the MessagePack
    timestamp extension, type -1).
    ========================================================================= */

#ifndef AUDIT_TIME_H_INCLUDED
#define AUDIT_TIME_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Room for "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL
#define AUDIT_TIME_TEXT_SIZE 25

#define AUDIT_MS_PER_DAY (86400LL * 1000)

//  The wall clock, in ms since the epoch, UTC.
int64_t
    audit_time_now_ms (void);

//  Parse RFC 3339 text ("2026-11-26T09:47:19.123Z", "...+01:00", fraction
//  optional, any number of fraction digits, truncated to ms) into ms UTC.
//  Returns 0, or -1 when the text is not a valid RFC 3339 date-time.
int
    audit_time_parse_rfc3339 (const char *text, size_t len, int64_t *ms);

//  Decode the body of a MessagePack timestamp extension (4, 8 or 12 bytes)
//  into ms UTC. Returns 0, or -1 for another size or nanoseconds >= 1e9.
int
    audit_time_from_ext (const uint8_t *body, size_t len, int64_t *ms);

//  Format ms UTC as "YYYY-MM-DDTHH:MM:SS.mmmZ" into text (AUDIT_TIME_TEXT_SIZE).
void
    audit_time_format (int64_t ms, char *text);

#ifdef __cplusplus
}
#endif

#endif
