/*  =========================================================================
    query_filter - a list or export request as a page of the store
    ========================================================================= */

#include "query_filter.h"

#include <string.h>

static audit_cursor_binding_t
s_binding (query_filter_t *self, uint8_t *bytes, size_t size)
{
    const query_request_t *request = self->call->request;
    audit_cursor_binding_t binding = {
        .op = self->op, .org = request->org_id, .filter = bytes,
        .filter_len = query_request_filter_bytes (request, bytes, size),
        .order = request->order
    };
    return binding;
}

//  The page starts after the cursor's row, or at the very end. 0, or -1
//  with the reply failed.
static int
s_position (query_filter_t *self, audit_page_filter_t *filter)
{
    const query_request_t *request = self->call->request;
    if (!request->cursor [0])
        return 0;
    uint8_t bytes [1024];
    audit_cursor_binding_t binding = s_binding (self, bytes, sizeof bytes);
    audit_cursor_pos_t pos;
    if (audit_cursor_decode (self->call->keys->cursor_key, &binding, request->cursor,
                             strlen (request->cursor), &pos) != 0 || pos.row_id < 0) {
        query_reply_fail (self->call->reply, AUDIT_ERROR_BAD_REQUEST,
                          "cursor is not valid for this request");
        return -1;
    }
    filter->has_after = true;
    filter->after = (audit_page_pos_t) { pos.ts_ms, (uint64_t) pos.row_id };
    return 0;
}

void
query_filter_of_request (const query_request_t *request, audit_page_filter_t *filter)
{
    memset (filter, 0, sizeof *filter);
    filter->org_id = request->org_id;
    filter->from_ms = request->from_ms;
    filter->to_ms = request->to_ms;
    filter->type_mask = request->type_mask;
    filter->actor_id = request->actor_id;
    filter->subject = request->subject;
    //  A field argument is given only for a filter field (no other has a key)
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        filter->field [field] = request->present & QUERY_ARG_FIELD_BIT (field)
                              ? request->field [field] : NULL;
    filter->order = request->order;
    filter->limit = request->limit;
}

int
query_filter_open (query_filter_t *self, query_call_t *call, const char *op)
{
    memset (self, 0, sizeof *self);
    self->call = call;
    self->op = op;
    audit_page_filter_t filter;
    query_filter_of_request (call->request, &filter);
    if (s_position (self, &filter) != 0)
        return -1;
    self->page = audit_page_new (call->store, &filter);
    if (!self->page) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
        return -1;
    }
    return 0;
}

int
query_filter_check (query_call_t *call, const char *op)
{
    query_filter_t self = { .call = call, .op = op };
    audit_page_filter_t filter;
    query_filter_of_request (call->request, &filter);
    return s_position (&self, &filter);
}

int
query_filter_next (query_filter_t *self, audit_row_t *row)
{
    int rc = audit_page_next (self->page, row);
    if (rc < 0)
        query_reply_fail (self->call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    return rc;
}

bool
query_filter_close (query_filter_t *self, char *text)
{
    audit_page_pos_t last;
    bool more = self->page && audit_page_more (self->page, &last);
    if (!more || !text) {
        audit_page_destroy (&self->page);
        return false;
    }
    return query_filter_close_at (self, &last, text);
}

bool
query_filter_close_at (query_filter_t *self, const audit_page_pos_t *last, char *text)
{
    audit_page_destroy (&self->page);
    uint8_t bytes [1024];
    audit_cursor_binding_t binding = s_binding (self, bytes, sizeof bytes);
    audit_cursor_pos_t pos = {
        last->ts_ms, (int64_t) last->log_index, self->call->request->order
    };
    return audit_cursor_encode (self->call->keys->cursor_key, &binding, &pos, text) == 0;
}
