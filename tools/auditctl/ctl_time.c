/*  =========================================================================
    ctl_time - the times a user types: --from, --to and --since
    ========================================================================= */

#include "ctl_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_time.h"

//  "90s", "15m", "24h", "7d", "1w": that long before now_ms
static int
s_relative (const char *text, size_t len, int64_t now_ms, int64_t *ms)
{
    static const char units [] = "smhdw";
    static const int64_t unit_ms [] = { 1000, 60000, 3600000, AUDIT_MS_PER_DAY, 7 * AUDIT_MS_PER_DAY };
    if (len < 2 || len > 10 || strspn (text, "0123456789") != len - 1
    ||  !strchr (units, text [len - 1]))
        return -1;
    int64_t count = strtoll (text, NULL, 10);
    *ms = now_ms - count * unit_ms [strchr (units, text [len - 1]) - units];
    return 0;
}

//  "2026-11-01": that day's midnight UTC, by the one RFC 3339 reader
static int
s_date (const char *text, size_t len, int64_t *ms)
{
    char full [32];
    if (len != 10 || text [4] != '-' || text [7] != '-')
        return -1;
    snprintf (full, sizeof full, "%.10sT00:00:00Z", text);
    return audit_time_parse_rfc3339 (full, strlen (full), ms);
}

int
ctl_time_parse (const char *text, int64_t now_ms, int64_t *ms)
{
    size_t len = strlen (text);
    int64_t midnight = now_ms - (now_ms % AUDIT_MS_PER_DAY + AUDIT_MS_PER_DAY) % AUDIT_MS_PER_DAY;
    if (audit_time_parse_rfc3339 (text, len, ms) == 0 || s_date (text, len, ms) == 0)
        return 0;
    if (strcmp (text, "now") == 0)
        return *ms = now_ms, 0;
    if (strcmp (text, "today") == 0)
        return *ms = midnight, 0;
    if (strcmp (text, "yesterday") == 0)
        return *ms = midnight - AUDIT_MS_PER_DAY, 0;
    return s_relative (text, len, now_ms, ms);
}
