/*  =========================================================================
    query_tail - the tail op
    ========================================================================= */

#include "query_tail.h"

#include <czmq.h>

#include "audit_page.h"
#include "audit_render.h"
#include "audit_store_log.h"
#include "query_filter.h"

//  The request's filters as a page in log order from from_index (tail
//  takes neither a time range nor an order: the request holds none)
static void
s_filter (const query_request_t *request, uint64_t from_index, audit_page_filter_t *filter)
{
    query_filter_of_request (request, filter);
    filter->log_order = true;
    filter->from_index = from_index;
}

//  Where this run reads from and until when it may wait: its parked state,
//  or the request's (absent from_index: the next event to be committed)
static int
s_start (query_call_t *call, uint64_t *from, int64_t *deadline)
{
    const query_request_t *request = call->request;
    if (call->resumed) {
        *from = call->tail_state.from_index;
        *deadline = call->tail_state.deadline_ms;
        return 0;
    }
    *deadline = zclock_mono () + request->wait_ms;
    *from = request->from_index;
    if (!(request->present & QUERY_ARG_BIT (QUERY_ARG_FROM_INDEX))
    &&  audit_store_log_size (call->store, request->org_id, from) != 0) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
        return -1;
    }
    return 0;
}

//  The matching events from from into events; their count, -1 on failure
static int64_t
s_read (query_call_t *call, uint64_t from, msgpack_packer *packer, uint64_t *next)
{
    audit_page_filter_t filter;
    s_filter (call->request, from, &filter);
    audit_page_t *page = audit_page_new (call->store, &filter);
    if (!page) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
        return -1;
    }
    audit_row_t row;
    int64_t count = 0;
    int rc;
    while ((rc = audit_page_next (page, &row)) == 1 && audit_render_pack (&row, packer) == 0)
        count++;
    *next = audit_page_log_next (page);
    audit_page_destroy (&page);
    if (rc < 0)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    return rc < 0? -1: count;
}

static void
s_park (query_call_t *call, uint64_t next, int64_t deadline)
{
    call->park = true;
    call->tail_state.from_index = next;
    call->tail_state.deadline_ms = deadline;
    snprintf (call->tail_state.org_id, sizeof call->tail_state.org_id, "%s",
              call->request->org_id);
}

void
query_tail_run (query_call_t *call)
{
    uint64_t from = 0, next = 0;
    int64_t deadline = 0;
    if (s_start (call, &from, &deadline) != 0)
        return;
    msgpack_sbuffer events;
    msgpack_sbuffer_init (&events);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &events, msgpack_sbuffer_write);
    int64_t count = s_read (call, from, &packer, &next);
    if (count == 0 && zclock_mono () < deadline)
        s_park (call, next, deadline);
    else
    if (count >= 0) {
        query_reply_ok (call->reply, 2);
        query_reply_str (call->reply, "events");
        msgpack_pack_array (&call->reply->packer, (uint32_t) count);
        if (events.size)
            msgpack_sbuffer_write (&call->reply->buffer, events.data, events.size);
        query_reply_kv_uint (call->reply, "next_index", next);
    }
    msgpack_sbuffer_destroy (&events);
}
