/*  =========================================================================
    query_producers - stats.producers, read whole before the map is
    packed (its header needs the count); the writer follows at most
    INGEST_WRITER_PRODUCERS_MAX producers, so the read is bounded
    ========================================================================= */

#include "query_producers.h"

#include <stdlib.h>

#include "audit_store_producers.h"
#include "audit_time.h"

typedef struct {
    audit_store_producer_t *rows;
    size_t count, capacity;
    bool failed;
} s_rows_t;

static void
s_collect (const audit_store_producer_t *producer, void *arg)
{
    s_rows_t *rows = (s_rows_t *) arg;
    if (rows->count == rows->capacity) {
        size_t capacity = rows->capacity? rows->capacity * 2: 16;
        audit_store_producer_t *grown = realloc (rows->rows, capacity * sizeof *grown);
        if (!grown) {
            rows->failed = true;
            return;
        }
        rows->rows = grown;
        rows->capacity = capacity;
    }
    rows->rows [rows->count++] = *producer;
}

//  Every reason is listed, 0 where none was rejected for it; a duplicate
//  settles without being rejected, so it is always 0 here
static void
s_pack_one (query_reply_t *reply, const audit_store_producer_t *producer)
{
    query_reply_str (reply, producer->producer_id);
    msgpack_pack_map (&reply->packer, 5);
    query_reply_kv_uint (reply, "acked_seq", producer->acked_seq);
    query_reply_kv_uint (reply, "runs", producer->runs);
    query_reply_kv_uint (reply, "gaps", producer->gaps);
    query_reply_str (reply, "rejected");
    msgpack_pack_map (&reply->packer, AUDIT_REASON_COUNT);
    for (int reason = 0; reason < AUDIT_REASON_COUNT; reason++)
        query_reply_kv_uint (reply, audit_proto_reason_name ((audit_reason_t) reason),
                             producer->rejected [reason]);
    char text [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (producer->last_seen_ms, text);
    query_reply_kv_str (reply, "last_seen", text);
}

int
query_producers_pack (query_call_t *call)
{
    s_rows_t rows = { NULL, 0, 0, false };
    if (audit_store_producers_read (call->store, s_collect, &rows) != 0 || rows.failed) {
        free (rows.rows);
        return -1;
    }
    query_reply_str (call->reply, "producers");
    msgpack_pack_map (&call->reply->packer, (uint32_t) rows.count);
    for (size_t index = 0; index < rows.count; index++)
        s_pack_one (call->reply, &rows.rows [index]);
    free (rows.rows);
    return 0;
}
