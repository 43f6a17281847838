/*  =========================================================================
    query_ops - ops_list: the operational log, newest first
    ========================================================================= */

#include "query_ops.h"

#include <string.h>

#include "audit_time.h"

//  ?1 from, ?2 to, ?3 ?4 cursor (ts, id), ?5 status (0: any),
//  ?6 client_ip (NULL: any), ?7 limit + 1
static const char *s_sql =
    "SELECT id, ts, client_ip, method, path, status FROM ops INDEXED BY ops_ts"
    " WHERE ts >= ?1 AND ts < ?2 AND (ts, id) < (?3, ?4)"
    " AND (?5 = 0 OR status = ?5) AND (?6 IS NULL OR client_ip = ?6)"
    " ORDER BY ts DESC, id DESC LIMIT ?7";

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

static sqlite3_stmt *
s_prepare (query_call_t *call)
{
    const query_request_t *request = call->request;
    audit_cursor_pos_t after = { INT64_MAX, INT64_MAX, AUDIT_CURSOR_DESC };
    uint8_t bytes [1024];
    audit_cursor_binding_t binding = s_binding (request, bytes, sizeof bytes);
    if (request->cursor [0]
    &&  audit_cursor_decode (call->shared->cursor_key, &binding, request->cursor,
                             strlen (request->cursor), &after) != 0) {
        query_reply_fail (call->reply, AUDIT_ERROR_BAD_REQUEST, "cursor is not valid for this request");
        return NULL;
    }
    sqlite3_stmt *stmt = audit_stmts_get (call->stmts [AUDIT_DB_OPS], s_sql);
    if (!stmt) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
        return NULL;
    }
    sqlite3_bind_int64 (stmt, 1, request->from_ms);
    sqlite3_bind_int64 (stmt, 2, request->to_ms);
    sqlite3_bind_int64 (stmt, 3, after.ts_ms);
    sqlite3_bind_int64 (stmt, 4, after.row_id);
    sqlite3_bind_int64 (stmt, 5, request->status);
    if (request->client_ip [0])
        sqlite3_bind_text (stmt, 6, request->client_ip, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 7, (int64_t) request->limit + 1);
    return stmt;
}

static void
s_pack_record (msgpack_packer *packer, sqlite3_stmt *stmt)
{
    static const char *keys [] = { "client_ip", "method", "path" };
    char when [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (sqlite3_column_int64 (stmt, 1), when);
    msgpack_pack_map (packer, 5);
    msgpack_pack_str_with_body (packer, "timestamp", 9);
    msgpack_pack_str_with_body (packer, when, strlen (when));
    for (int index = 0; index < 3; index++) {
        const char *value = (const char *) sqlite3_column_text (stmt, 2 + index);
        msgpack_pack_str_with_body (packer, keys [index], strlen (keys [index]));
        msgpack_pack_str_with_body (packer, value ? value : "", value ? strlen (value) : 0);
    }
    msgpack_pack_str_with_body (packer, "status", 6);
    msgpack_pack_uint64 (packer, (uint64_t) sqlite3_column_int64 (stmt, 5));
}

void
query_ops_list (query_call_t *call)
{
    sqlite3_stmt *stmt = s_prepare (call);
    if (!stmt)
        return;
    msgpack_sbuffer records;
    msgpack_sbuffer_init (&records);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &records, msgpack_sbuffer_write);
    uint32_t count = 0;
    int64_t last_ts = 0, last_id = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW && count < call->request->limit) {
        s_pack_record (&packer, stmt);
        last_id = sqlite3_column_int64 (stmt, 0);
        last_ts = sqlite3_column_int64 (stmt, 1);
        count++;
    }
    bool more = rc == SQLITE_ROW;
    sqlite3_reset (stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    else {
        char cursor [AUDIT_CURSOR_TEXT_SIZE];
        uint8_t bytes [1024];
        audit_cursor_binding_t binding = s_binding (call->request, bytes, sizeof bytes);
        audit_cursor_pos_t pos = { last_ts, last_id, AUDIT_CURSOR_DESC };
        more = more && audit_cursor_encode (call->shared->cursor_key, &binding, &pos, cursor) == 0;
        query_reply_ok (call->reply, 2);
        query_reply_str (call->reply, "records");
        msgpack_pack_array (&call->reply->packer, count);
        if (records.size)
            msgpack_sbuffer_write (&call->reply->buffer, records.data, records.size);
        query_reply_kv_str_or_nil (call->reply, "next_cursor", more ? cursor : NULL);
    }
    msgpack_sbuffer_destroy (&records);
}
