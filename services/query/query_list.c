/*  =========================================================================
    query_list - the list op: one page of an organisation's audit log

    Events are packed into a buffer of their own first, because a
    MessagePack array states its length before its elements and the page
    length is known only once the page has been read. Each event is the
    one rendering of audit_render.
    ========================================================================= */

#include "query_list.h"
#include "query_filter.h"

#include "audit_render.h"

void
query_list_run (query_call_t *call)
{
    query_filter_t filter;
    if (query_filter_open (&filter, call, "list") != 0)
        return;
    msgpack_sbuffer events;
    msgpack_sbuffer_init (&events);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &events, msgpack_sbuffer_write);
    audit_row_t row;
    uint32_t count = 0;
    int rc;
    while ((rc = query_filter_next (&filter, &row)) == 1) {
        audit_render_pack (&row, &packer);
        count++;
    }
    char cursor [AUDIT_CURSOR_TEXT_SIZE];
    bool more = query_filter_close (&filter, cursor);
    if (rc == 0) {
        query_reply_ok (call->reply, 2);
        query_reply_str (call->reply, "events");
        msgpack_pack_array (&call->reply->packer, count);
        if (events.size)
            msgpack_sbuffer_write (&call->reply->buffer, events.data, events.size);
        query_reply_kv_str_or_nil (call->reply, "next_cursor", more ? cursor : NULL);
    }
    msgpack_sbuffer_destroy (&events);
}
