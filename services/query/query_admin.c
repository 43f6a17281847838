/*  =========================================================================
    query_admin - retention settings and the service's own audit events
    ========================================================================= */

#include "query_admin.h"

#include <string.h>
#include <sys/random.h>

#include "audit_log.h"
#include "audit_store_org.h"
#include "audit_time.h"

//  A fresh version 4 UUID for an event the service writes itself
static int
s_new_uuid (uint8_t *uuid)
{
    if (getrandom (uuid, AUDIT_UUID_SIZE, 0) != AUDIT_UUID_SIZE)
        return -1;
    uuid [6] = (uint8_t) ((uuid [6] & 0x0f) | 0x40);
    uuid [8] = (uint8_t) ((uuid [8] & 0x3f) | 0x80);
    return 0;
}

static int
s_build_event (query_call_t *call, audit_record_t *record, audit_event_type_t type,
               uint32_t retention_days)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = audit_time_now_ms ();
    audit_event_t *event = &record->u.event;
    event->type = type;
    event->timestamp_ms = record->received_ms;
    snprintf (event->org_id, sizeof event->org_id, "%s", call->request->org_id);
    snprintf (event->actor_id, sizeof event->actor_id, "%s", call->claims->sub);
    snprintf (event->producer_id, sizeof event->producer_id, "audit-query");
    if (retention_days) {
        event->present = AUDIT_FIELD_BIT (AUDIT_FIELD_RETENTION_DAYS);
        event->number [AUDIT_FIELD_RETENTION_DAYS] = retention_days;
    }
    return s_new_uuid (event->event_id);
}

//  Write a service event; with retention_days, the organisation's new
//  retention goes in the same transaction, so neither lands without the other
static int
s_write (query_call_t *call, audit_event_type_t type, uint32_t retention_days)
{
    audit_record_t record;
    audit_store_outcome_t outcome;
    int rc = s_build_event (call, &record, type, retention_days);
    if (rc == 0) {
        pthread_mutex_lock (&call->shared->writer_lock);
        rc = retention_days
           ? audit_store_retention_set (call->shared->writer, call->request->org_id,
                                        retention_days, &record)
           : audit_store_write (call->shared->writer, &record, 1, &outcome, NULL);
        pthread_mutex_unlock (&call->shared->writer_lock);
    }
    if (rc != 0) {
        audit_log_error ("msg=record_failed type=%s org=%s",
                         audit_proto_event_info (type)->name, call->request->org_id);
        query_reply_fail (call->reply, AUDIT_ERROR_UNAVAILABLE, "the audit log cannot be written now");
    }
    return rc;
}

int
query_admin_record (query_call_t *call, audit_event_type_t type)
{
    return s_write (call, type, 0);
}

static void
s_reply_retention (query_call_t *call, int64_t days)
{
    query_reply_ok (call->reply, 2);
    query_reply_kv_str (call->reply, "org_id", call->request->org_id);
    query_reply_kv_uint (call->reply, "retention_days", (uint64_t) days);
}

void
query_admin_retention_get (query_call_t *call)
{
    uint32_t days;
    if (audit_store_org_retention (call->store, call->request->org_id, &days) != 0)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    else
        s_reply_retention (call, days);
}

void
query_admin_retention_set (query_call_t *call)
{
    uint32_t days = call->request->retention_days;
    if (s_write (call, AUDIT_EVENT_RETENTION_CHANGED, days) == 0) {
        audit_log_info ("msg=retention_changed org=%s days=%u sub=%s",
                        call->request->org_id, days, call->claims->sub);
        s_reply_retention (call, days);
    }
}
