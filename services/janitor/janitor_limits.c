/*  =========================================================================
    janitor_limits - the named limits of the janitor's time-boxed passes
    ========================================================================= */

#include "janitor_limits.h"

#include "audit_store.h"

static inline int64_t s_min (int64_t a, int64_t b) { return a < b? a: b; }
static inline int64_t s_max (int64_t a, int64_t b) { return a > b? a: b; }

void
janitor_limits_default (janitor_limits_t *limits)
{
    *limits = (janitor_limits_t) {
        .budget_ms = JANITOR_PASS_BUDGET_MS,
        .batch_target_ms = JANITOR_BATCH_TARGET_MS,
        .batch_rows_start = JANITOR_BATCH_ROWS_START,
        .batch_rows_min = JANITOR_BATCH_ROWS_MIN,
        .batch_rows_max = JANITOR_BATCH_ROWS_MAX,
        .pause_margin_ms = JANITOR_PAUSE_MARGIN_MS,
        .pause_min_ms = JANITOR_PAUSE_MIN_MS,
        .pause_max_ms = JANITOR_PAUSE_MAX_MS,
        .vacuum_pages = JANITOR_VACUUM_PAGES,
        .free_pages_keep = JANITOR_FREE_PAGES_KEEP
    };
}

int
janitor_limits_pause_ms (const janitor_limits_t *limits)
{
    int64_t poll_ms = (AUDIT_STORE_BUSY_POLL_US + 999) / 1000;
    int64_t pause = poll_ms + limits->pause_margin_ms;
    return (int) s_min (s_max (pause, limits->pause_min_ms), limits->pause_max_ms);
}

int
janitor_limits_adapt (const janitor_limits_t *limits, int size, int64_t count,
                      int64_t held_us, int min, int max)
{
    int64_t target_us = (int64_t) limits->batch_target_ms * 1000;
    int64_t next = size;
    if (held_us > target_us)
        next = s_max (next * target_us / held_us, next / 2);
    else
    if (count >= size)
        next = s_min (next * target_us / s_max (held_us, 1), next * 2);
    return (int) s_max (s_min (next, max), min);
}
