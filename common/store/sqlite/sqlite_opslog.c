/*  =========================================================================
    audit_store_opslog - pages of the operational log (ops.db)
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_opslog.h"
#include "audit_store_sql.h"

#include <stdlib.h>

//  ?1 from, ?2 to, ?3 ?4 position (ts, id), ?5 status (0: any),
//  ?6 client_ip (NULL: any), ?7 limit + 1, the one more telling whether
//  there is a next page
static const char *s_sql =
    "SELECT id, ts, client_ip, method, path, status FROM ops INDEXED BY ops_ts"
    " WHERE ts >= ?1 AND ts < ?2 AND (ts, id) < (?3, ?4)"
    " AND (?5 = 0 OR status = ?5) AND (?6 IS NULL OR client_ip = ?6)"
    " ORDER BY ts DESC, id DESC LIMIT ?7";

typedef struct {
    audit_store_opslog_t base;        //  the engine's table: first

    sqlite3_stmt *stmt;                 //  the connection's, reset at close
    uint32_t limit, count;
    bool ended;                         //  stepping again would start over
    bool more;
} s_opslog_t;

audit_store_opslog_t *
sqlite_opslog_open (audit_store_t *store, const audit_store_opslog_query_t *query)
{
    s_opslog_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->base.ops = *(const audit_store_ops_t *const *) store;
    self->stmt = audit_store_sql_cached (store, AUDIT_DB_OPS, s_sql);
    if (!self->stmt) {
        free (self);
        return NULL;
    }
    self->limit = query->limit;
    sqlite3_bind_int64 (self->stmt, 1, query->from_ms);
    sqlite3_bind_int64 (self->stmt, 2, query->to_ms);
    sqlite3_bind_int64 (self->stmt, 3, query->after_ts_ms);
    sqlite3_bind_int64 (self->stmt, 4, query->after_id);
    sqlite3_bind_int64 (self->stmt, 5, query->status);
    if (query->client_ip && query->client_ip [0])
        sqlite3_bind_text (self->stmt, 6, query->client_ip, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (self->stmt, 7, (int64_t) query->limit + 1);
    return &self->base;
}

static const char *
s_text (sqlite3_stmt *stmt, int column)
{
    const char *text = (const char *) sqlite3_column_text (stmt, column);
    return text ? text : "";
}

int
sqlite_opslog_step (audit_store_opslog_t *handle, audit_store_opslog_record_t *record)
{
    s_opslog_t *self = (s_opslog_t *) handle;
    if (self->ended)
        return 0;
    int rc = sqlite3_step (self->stmt);
    self->ended = rc != SQLITE_ROW || self->count == self->limit;
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? 0 : -1;
    if (self->count == self->limit) {
        self->more = true;              //  the one row past the page
        return 0;
    }
    record->id = sqlite3_column_int64 (self->stmt, 0);
    record->timestamp_ms = sqlite3_column_int64 (self->stmt, 1);
    record->client_ip = s_text (self->stmt, 2);
    record->method = s_text (self->stmt, 3);
    record->path = s_text (self->stmt, 4);
    record->status = (uint32_t) sqlite3_column_int64 (self->stmt, 5);
    self->count++;
    return 1;
}

bool
sqlite_opslog_more (audit_store_opslog_t *handle)
{
    s_opslog_t *self = (s_opslog_t *) handle;
    return self->more;
}

void
sqlite_opslog_close (audit_store_opslog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_opslog_t *self = (s_opslog_t *) *self_p;
    sqlite3_reset (self->stmt);
    sqlite3_clear_bindings (self->stmt);
    free (self);
    *self_p = NULL;
}
