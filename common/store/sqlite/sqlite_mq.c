/*  =========================================================================
    audit_store_mq - a device's undelivered messages in queue.db
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_mq.h"
#include "audit_store_sql.h"

#include <string.h>

static void
s_message (sqlite3_stmt *stmt, audit_store_mq_message_t *message)
{
    const void *uuid = sqlite3_column_blob (stmt, 0);
    message->id_valid = uuid && sqlite3_column_bytes (stmt, 0) == AUDIT_UUID_SIZE;
    if (message->id_valid)
        memcpy (message->message_id, uuid, AUDIT_UUID_SIZE);
    else
        memset (message->message_id, 0, AUDIT_UUID_SIZE);
    message->timestamp_ms = sqlite3_column_int64 (stmt, 1);
    message->payload = sqlite3_column_blob (stmt, 2);
    message->payload_size = (size_t) sqlite3_column_bytes (stmt, 2);
}

int
sqlite_mq_fetch (audit_store_t *self, const char *org, const char *device,
                      uint32_t limit, audit_store_mq_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (self, AUDIT_DB_QUEUE,
        "SELECT uuid, ts, payload FROM message"
        " WHERE org = ?1 AND device = ?2 ORDER BY ts, id LIMIT ?3");
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, org, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, device, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 3, limit);
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        audit_store_mq_message_t message;
        s_message (stmt, &message);
        if (fn (&message, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int
s_step (audit_store_t *self, const char *sql)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (self, AUDIT_DB_QUEUE, sql);
    return stmt ? audit_store_sql_step (stmt) : -1;
}

//  The rows deleted for the ids, or -1
static int64_t
s_delete (audit_store_t *self, const char *org, const char *device,
          const uint8_t (*ids) [AUDIT_UUID_SIZE], size_t count)
{
    int64_t deleted = 0;
    for (size_t index = 0; index < count && deleted >= 0; index++) {
        sqlite3_stmt *stmt = audit_store_sql_cached (self, AUDIT_DB_QUEUE,
            "DELETE FROM message WHERE org = ?1 AND device = ?2 AND uuid = ?3");
        if (!stmt)
            return -1;
        sqlite3_bind_text (stmt, 1, org, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, device, -1, SQLITE_STATIC);
        sqlite3_bind_blob (stmt, 3, ids [index], AUDIT_UUID_SIZE, SQLITE_STATIC);
        int rc = sqlite3_step (stmt);
        deleted = rc == SQLITE_DONE ? deleted + sqlite3_changes (sqlite3_db_handle (stmt)) : -1;
        sqlite3_reset (stmt);
    }
    return deleted;
}

int
sqlite_mq_ack (audit_store_t *self, const char *org, const char *device,
                    const uint8_t (*ids) [AUDIT_UUID_SIZE], size_t count,
                    uint64_t *deleted)
{
    if (s_step (self, "BEGIN IMMEDIATE") != 0)
        return -1;
    int64_t rows = s_delete (self, org, device, ids, count);
    if (rows < 0 || s_step (self, "COMMIT") != 0) {
        s_step (self, "ROLLBACK");
        return -1;
    }
    *deleted = (uint64_t) rows;
    return 0;
}

//  One statement stepped through the whole table: rows stream, in
//  arrival order (the rowid)
int
sqlite_mq_each (audit_store_t *self, audit_store_mq_each_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (self, AUDIT_DB_QUEUE,
        "SELECT uuid, ts, payload, org, device, received FROM message ORDER BY id");
    if (!stmt)
        return -1;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        audit_store_mq_message_t message;
        s_message (stmt, &message);
        if (fn ((const char *) sqlite3_column_text (stmt, 3),
                (const char *) sqlite3_column_text (stmt, 4), sqlite3_column_int64 (stmt, 5),
                &message, arg) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}
