/*  =========================================================================
    query_mq - a device's undelivered messages: mq_fetch and mq_ack
    ========================================================================= */

#include "query_mq.h"

#include <string.h>

#include "audit_decode.h"
#include "audit_log.h"
#include "audit_store_mq.h"
#include "audit_time.h"

//  The messages packed so far, and their payload bytes
typedef struct {
    msgpack_packer packer;
    uint32_t count;
    size_t bytes;
} s_fetch_t;

static void
s_pack_message (msgpack_packer *packer, const audit_store_mq_message_t *message)
{
    char id [AUDIT_UUID_TEXT_LEN + 1] = "";
    if (message->id_valid)
        audit_decode_uuid_format (message->message_id, id);
    char when [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (message->timestamp_ms, when);
    msgpack_pack_map (packer, 3);
    msgpack_pack_str_with_body (packer, "message_id", 10);
    msgpack_pack_str_with_body (packer, id, strlen (id));
    msgpack_pack_str_with_body (packer, "timestamp", 9);
    msgpack_pack_str_with_body (packer, when, strlen (when));
    msgpack_pack_str_with_body (packer, "payload", 7);
    msgpack_pack_bin_with_body (packer, message->payload, message->payload_size);
}

//  Pack messages oldest first until the next payload would pass the
//  budget; the first always goes in, else a message larger than the budget
//  could never be delivered
static int
s_pack_next (const audit_store_mq_message_t *message, void *arg)
{
    s_fetch_t *fetch = (s_fetch_t *) arg;
    if (fetch->count > 0 && fetch->bytes + message->payload_size > QUERY_MQ_REPLY_BYTES_MAX)
        return 1;
    s_pack_message (&fetch->packer, message);
    fetch->bytes += message->payload_size;
    fetch->count++;
    return 0;
}

void
query_mq_fetch (query_call_t *call)
{
    msgpack_sbuffer messages;
    msgpack_sbuffer_init (&messages);
    s_fetch_t fetch = { .count = 0, .bytes = 0 };
    msgpack_packer_init (&fetch.packer, &messages, msgpack_sbuffer_write);
    //  The organisation and device are the token's (checked equal)
    if (audit_store_mq_fetch (call->store, call->claims->org, call->claims->device,
                              call->request->limit, s_pack_next, &fetch) != 0)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    else {
        query_reply_ok (call->reply, 1);
        query_reply_str (call->reply, "messages");
        msgpack_pack_array (&call->reply->packer, fetch.count);
        if (messages.size)
            msgpack_sbuffer_write (&call->reply->buffer, messages.data, messages.size);
    }
    //  The payloads were copied into this buffer: wipe it before freeing
    if (messages.data)
        memset (messages.data, 0, messages.alloc);
    msgpack_sbuffer_destroy (&messages);
}

void
query_mq_ack (query_call_t *call)
{
    const query_request_t *request = call->request;
    uint64_t deleted = 0;
    pthread_mutex_lock (&call->shared->writer_lock);
    int rc = audit_store_mq_ack (call->shared->writer, call->claims->org, call->claims->device,
                                 (const uint8_t (*) [AUDIT_UUID_SIZE]) request->message_ids,
                                 request->message_id_count, &deleted);
    pthread_mutex_unlock (&call->shared->writer_lock);
    if (rc != 0) {
        audit_log_error ("msg=mq_ack_failed");
        query_reply_fail (call->reply, AUDIT_ERROR_UNAVAILABLE, "the queue cannot be written now");
        return;
    }
    query_reply_ok (call->reply, 1);
    query_reply_kv_uint (call->reply, "deleted", deleted);
}
