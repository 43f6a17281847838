/*  =========================================================================
    query_mq - a device's undelivered messages: mq_fetch and mq_ack
    ========================================================================= */

#include "query_mq.h"

#include <string.h>

#include "audit_ident.h"
#include "audit_log.h"
#include "audit_time.h"

static void
s_pack_message (msgpack_packer *packer, sqlite3_stmt *stmt)
{
    char id [AUDIT_UUID_TEXT_LEN + 1] = "";
    const void *uuid = sqlite3_column_blob (stmt, 0);
    if (uuid && sqlite3_column_bytes (stmt, 0) == AUDIT_UUID_SIZE)
        audit_ident_uuid_format ((const uint8_t *) uuid, id);
    char when [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (sqlite3_column_int64 (stmt, 1), when);
    const void *payload = sqlite3_column_blob (stmt, 2);
    size_t size = (size_t) sqlite3_column_bytes (stmt, 2);
    msgpack_pack_map (packer, 3);
    msgpack_pack_str_with_body (packer, "message_id", 10);
    msgpack_pack_str_with_body (packer, id, strlen (id));
    msgpack_pack_str_with_body (packer, "timestamp", 9);
    msgpack_pack_str_with_body (packer, when, strlen (when));
    msgpack_pack_str_with_body (packer, "payload", 7);
    msgpack_pack_bin_with_body (packer, payload, size);
}

//  Pack rows oldest first until the next payload would pass the budget;
//  the first always goes in, else a message larger than the budget could
//  never be delivered. The SQLite result that ended the loop.
static int
s_pack_messages (sqlite3_stmt *stmt, msgpack_packer *packer, uint32_t *count)
{
    size_t bytes = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        size_t size = (size_t) sqlite3_column_bytes (stmt, 2);
        if (*count > 0 && bytes + size > QUERY_MQ_REPLY_BYTES_MAX)
            return SQLITE_DONE;
        s_pack_message (packer, stmt);
        bytes += size;
        (*count)++;
    }
    return rc;
}

void
query_mq_fetch (query_call_t *call)
{
    //  The organisation and device are the token's (checked equal)
    sqlite3_stmt *stmt = audit_stmts_get (call->stmts [AUDIT_DB_QUEUE],
        "SELECT uuid, ts, payload FROM message"
        " WHERE org = ?1 AND device = ?2 ORDER BY ts, id LIMIT ?3");
    if (!stmt) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
        return;
    }
    sqlite3_bind_text (stmt, 1, call->claims->org, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, call->claims->device, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, call->request->limit);
    msgpack_sbuffer messages;
    msgpack_sbuffer_init (&messages);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &messages, msgpack_sbuffer_write);
    uint32_t count = 0;
    int rc = s_pack_messages (stmt, &packer, &count);
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    else {
        query_reply_ok (call->reply, 1);
        query_reply_str (call->reply, "messages");
        msgpack_pack_array (&call->reply->packer, count);
        if (messages.size)
            msgpack_sbuffer_write (&call->reply->buffer, messages.data, messages.size);
    }
    //  The payloads were copied into this buffer: wipe it before freeing
    if (messages.data)
        memset (messages.data, 0, messages.alloc);
    msgpack_sbuffer_destroy (&messages);
}

static int
s_step (audit_stmts_t *stmts, const char *sql)
{
    sqlite3_stmt *stmt = audit_stmts_get (stmts, sql);
    int rc = stmt ? sqlite3_step (stmt) : SQLITE_ERROR;
    if (stmt)
        sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

//  Delete in one transaction of the shared writer; the count, or -1
static int64_t
s_delete (query_call_t *call)
{
    audit_stmts_t *stmts = call->shared->writer_stmts [AUDIT_DB_QUEUE];
    if (s_step (stmts, "BEGIN IMMEDIATE") != 0)
        return -1;
    int64_t deleted = 0;
    const query_request_t *request = call->request;
    for (uint32_t index = 0; index < request->message_id_count && deleted >= 0; index++) {
        sqlite3_stmt *stmt = audit_stmts_get (stmts,
            "DELETE FROM message WHERE org = ?1 AND device = ?2 AND uuid = ?3");
        if (!stmt)
            deleted = -1;
        else {
            sqlite3_bind_text (stmt, 1, call->claims->org, -1, SQLITE_STATIC);
            sqlite3_bind_text (stmt, 2, call->claims->device, -1, SQLITE_STATIC);
            sqlite3_bind_blob (stmt, 3, request->message_ids [index], AUDIT_UUID_SIZE, SQLITE_STATIC);
            int rc = sqlite3_step (stmt);
            deleted = rc == SQLITE_DONE ? deleted + sqlite3_changes (sqlite3_db_handle (stmt)) : -1;
            sqlite3_reset (stmt);
        }
    }
    if (deleted < 0 || s_step (stmts, "COMMIT") != 0) {
        s_step (stmts, "ROLLBACK");
        return -1;
    }
    return deleted;
}

void
query_mq_ack (query_call_t *call)
{
    pthread_mutex_lock (&call->shared->writer_lock);
    int64_t deleted = s_delete (call);
    pthread_mutex_unlock (&call->shared->writer_lock);
    if (deleted < 0) {
        audit_log_error ("msg=mq_ack_failed");
        query_reply_fail (call->reply, AUDIT_ERROR_UNAVAILABLE, "the queue cannot be written now");
        return;
    }
    query_reply_ok (call->reply, 1);
    query_reply_kv_uint (call->reply, "deleted", (uint64_t) deleted);
}
