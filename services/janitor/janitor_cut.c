/*  =========================================================================
    janitor_cut - where retention cuts each store
    ========================================================================= */

#include "janitor_cut.h"

#include "audit_proto.h"
#include "audit_time.h"

int64_t
janitor_cut_days (int64_t retention_days, bool *clamped)
{
    int64_t days = retention_days;
    if (days < 1)
        days = 1;
    if (days > AUDIT_RETENTION_MAX_DAYS)
        days = AUDIT_RETENTION_MAX_DAYS;
    if (clamped)
        *clamped = days != retention_days;
    return days;
}

int64_t
janitor_cut_audit (int64_t now_ms, int64_t retention_days)
{
    return now_ms - janitor_cut_days (retention_days, NULL) * AUDIT_MS_PER_DAY;
}

int64_t
janitor_cut_ops (int64_t now_ms)
{
    return now_ms - AUDIT_OPS_RETENTION_DAYS * AUDIT_MS_PER_DAY;
}

int64_t
janitor_cut_queue (int64_t now_ms)
{
    return now_ms - AUDIT_MQ_RETENTION_DAYS * AUDIT_MS_PER_DAY;
}

bool
janitor_cut_expired (int64_t ts, int64_t cut)
{
    return ts < cut;
}
