/*  =========================================================================
    query_list - the list op: one page of an organisation's audit log

    Events are packed into a buffer of their own first, because a
    MessagePack array states its length before its elements and the page
    length is known only once the page has been read.
    ========================================================================= */

#include "query_list.h"
#include "query_filter.h"

#include <string.h>

#include "audit_decode.h"
#include "audit_time.h"

static void
s_pack_str (msgpack_packer *packer, const char *key, const char *value)
{
    size_t key_len = strlen (key), value_len = strlen (value);
    msgpack_pack_str (packer, key_len);
    msgpack_pack_str_body (packer, key, key_len);
    msgpack_pack_str (packer, value_len);
    msgpack_pack_str_body (packer, value, value_len);
}

static void
s_pack_time (msgpack_packer *packer, const char *key, int64_t ms)
{
    char text [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (ms, text);
    s_pack_str (packer, key, text);
}

//  One event: the envelope, then exactly the resource keys it has
static void
s_pack_event (msgpack_packer *packer, const query_row_t *row, const char *org_id)
{
    const audit_event_info_t *info = audit_proto_event_info (row->type);
    uint32_t pairs = 7;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        pairs += row->text [field] || row->has_number [field];
    char event_id [AUDIT_UUID_TEXT_LEN + 1];
    audit_decode_uuid_format (row->event_id, event_id);
    msgpack_pack_map (packer, pairs);
    s_pack_str (packer, "event_id", event_id);
    s_pack_str (packer, "event_type", info ? info->name : "unknown");
    s_pack_str (packer, "category", info ? audit_proto_category_name (info->category) : "unknown");
    s_pack_time (packer, "timestamp", row->timestamp_ms);
    s_pack_time (packer, "received_at", row->received_ms);
    s_pack_str (packer, "org_id", org_id);
    s_pack_str (packer, "actor_id", row->actor_id ? row->actor_id : "");
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const char *key = audit_proto_field_info ((audit_field_t) field)->key;
        if (row->text [field])
            s_pack_str (packer, key, row->text [field]);
        else
        if (row->has_number [field]) {
            msgpack_pack_str (packer, strlen (key));
            msgpack_pack_str_body (packer, key, strlen (key));
            msgpack_pack_uint64 (packer, row->number [field]);
        }
    }
}

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
    query_row_t row;
    uint32_t count = 0;
    int rc;
    while ((rc = query_filter_next (&filter, &row)) == 1) {
        s_pack_event (&packer, &row, call->request->org_id);
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
