/*  =========================================================================
    query_admin - an organisation's own settings (retention), and the
    audit events the service writes about its own use
    ========================================================================= */

#ifndef QUERY_ADMIN_H_INCLUDED
#define QUERY_ADMIN_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer retention_get: {ok, org_id, retention_days}.
void
    query_admin_retention_get (query_call_t *call);

//  Answer retention_set: store the new value and record retention_changed
//  in the same transaction; {ok, org_id, retention_days}.
void
    query_admin_retention_set (query_call_t *call);

//  Record an event of a reserved type (audit_log_exported) by the caller's
//  sub in the caller's organisation. 0, or -1 with the reply failed.
int
    query_admin_record (query_call_t *call, audit_event_type_t type);

#ifdef __cplusplus
}
#endif

#endif
