/*  =========================================================================
    ctl_time - the times a user types: --from, --to and --since

    What a person means by "since last week" or "since the first of the
    month", turned into the contract's milliseconds UTC. Every calendar
    word means UTC, as the service's timestamps do.
    ========================================================================= */

#ifndef CTL_TIME_H_INCLUDED
#define CTL_TIME_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  The forms, for the line that refuses a value
#define CTL_TIME_FORMS \
    "RFC 3339 (2026-11-01T00:00:00Z), a date (2026-11-01: its midnight UTC), now, today," \
    " yesterday (their midnight UTC), or NNs, NNm, NNh, NNd or NNw meaning that long ago" \
    " (15m, 24h, 7d, 1w)"

//  text into ms UTC, relative forms counted back from now_ms. 0, or -1
//  when text is none of CTL_TIME_FORMS.
int
    ctl_time_parse (const char *text, int64_t now_ms, int64_t *ms);

#ifdef __cplusplus
}
#endif

#endif
