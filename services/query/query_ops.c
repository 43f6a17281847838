/*  =========================================================================
    query_ops - ops_list: the operational log, newest first
    ========================================================================= */

#include "query_ops.h"

#include <string.h>

#include "audit_store_opslog.h"
#include "audit_time.h"

static audit_cursor_binding_t
s_binding (const query_request_t *request, uint8_t *bytes, size_t size)
{
    audit_cursor_binding_t binding = {
        .op = "ops_list", .org = NULL, .filter = bytes,
        .filter_len = query_request_filter_bytes (request, bytes, size),
        .order = AUDIT_CURSOR_DESC
    };
    return binding;
}

//  The page the request asks for, from its cursor's position; NULL with
//  the reply failed when the cursor is not this request's or the store
//  cannot be read
static audit_store_opslog_t *
s_open (query_call_t *call)
{
    const query_request_t *request = call->request;
    audit_cursor_pos_t after = { INT64_MAX, INT64_MAX, AUDIT_CURSOR_DESC };
    uint8_t bytes [1024];
    audit_cursor_binding_t binding = s_binding (request, bytes, sizeof bytes);
    if (request->cursor [0]
    &&  audit_cursor_decode (call->keys->cursor_key, &binding, request->cursor,
                             strlen (request->cursor), &after) != 0) {
        query_reply_fail (call->reply, AUDIT_ERROR_BAD_REQUEST, "cursor is not valid for this request");
        return NULL;
    }
    audit_store_opslog_query_t query = {
        .from_ms = request->from_ms, .to_ms = request->to_ms,
        .after_ts_ms = after.ts_ms, .after_id = after.row_id,
        .status = request->status, .client_ip = request->client_ip,
        .limit = request->limit
    };
    audit_store_opslog_t *page = audit_store_opslog_open (call->store, &query);
    if (!page)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    return page;
}

static void
s_pack_record (msgpack_packer *packer, const audit_store_opslog_record_t *record)
{
    const char *keys [] = { "client_ip", "method", "path" };
    const char *values [] = { record->client_ip, record->method, record->path };
    char when [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (record->timestamp_ms, when);
    msgpack_pack_map (packer, 5);
    msgpack_pack_str_with_body (packer, "timestamp", 9);
    msgpack_pack_str_with_body (packer, when, strlen (when));
    for (int index = 0; index < 3; index++) {
        msgpack_pack_str_with_body (packer, keys [index], strlen (keys [index]));
        msgpack_pack_str_with_body (packer, values [index], strlen (values [index]));
    }
    msgpack_pack_str_with_body (packer, "status", 6);
    msgpack_pack_uint64 (packer, record->status);
}

//  The reply: the records packed, and a cursor after the last when the
//  page was full and more match
static void
s_reply (query_call_t *call, const msgpack_sbuffer *records, uint32_t count, bool more,
         const audit_store_opslog_record_t *last)
{
    char cursor [AUDIT_CURSOR_TEXT_SIZE];
    uint8_t bytes [1024];
    audit_cursor_binding_t binding = s_binding (call->request, bytes, sizeof bytes);
    audit_cursor_pos_t pos = { last->timestamp_ms, last->id, AUDIT_CURSOR_DESC };
    more = more && audit_cursor_encode (call->keys->cursor_key, &binding, &pos, cursor) == 0;
    query_reply_ok (call->reply, 2);
    query_reply_str (call->reply, "records");
    msgpack_pack_array (&call->reply->packer, count);
    if (records->size)
        msgpack_sbuffer_write (&call->reply->buffer, records->data, records->size);
    query_reply_kv_str_or_nil (call->reply, "next_cursor", more ? cursor : NULL);
}

void
query_ops_list (query_call_t *call)
{
    audit_store_opslog_t *page = s_open (call);
    if (!page)
        return;
    msgpack_sbuffer records;
    msgpack_sbuffer_init (&records);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &records, msgpack_sbuffer_write);
    audit_store_opslog_record_t record, last = { 0 };
    uint32_t count = 0;
    int rc;
    while ((rc = audit_store_opslog_step (page, &record)) == 1) {
        s_pack_record (&packer, &record);
        last = record;
        count++;
    }
    if (rc != 0)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    else
        s_reply (call, &records, count, audit_store_opslog_more (page), &last);
    audit_store_opslog_close (&page);
    msgpack_sbuffer_destroy (&records);
}
