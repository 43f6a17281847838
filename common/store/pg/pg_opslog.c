/*  =========================================================================
    pg_opslog - pages of the operational log (ops.request), newest first
    (audit_store_opslog.h; the same as the SQLite engine's sqlite_opslog.c)

    A page is one statement: its rows, one past the limit, come back
    together and are lent from the result until the close.
    ========================================================================= */

#include "pg_core.h"
#include "audit_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

//  $1 from, $2 to, $3 $4 position (ts, id), $5 status (0: any),
//  $6 client_ip (NULL: any), $7 limit + 1, the one more telling whether
//  there is a next page. The row comparison is a condition of an index
//  seek on request_ts only through ts, so ts <= $3 says it too.
static const pg_stmt_t s_page = { "opslog_page",
    "SELECT id, ts, client_ip, method, path, status FROM ops.request"
    " WHERE ts >= $1::bigint AND ts < $2::bigint AND ts <= $3::bigint"
    " AND (ts, id) < ($3::bigint, $4::bigint)"
    " AND ($5::bigint = 0 OR status = $5::bigint) AND ($6::text IS NULL OR client_ip = $6::text)"
    " ORDER BY ts DESC, id DESC LIMIT $7::bigint" };

typedef struct {
    audit_store_opslog_t base;          //  the engine's table: first

    PGresult *result;                   //  the page's rows, and one more
    int rows, next;                     //  in result; the next to step to
    uint32_t limit, count;
    bool ended;                         //  stepping again says 0
    bool more;
} s_opslog_t;

audit_store_opslog_t *
pg_opslog_open (audit_store_t *store, const audit_store_opslog_query_t *query)
{
    assert (store && query);
    s_opslog_t *self = (s_opslog_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->base.ops = store->ops;
    self->limit = query->limit;
    char from [24], to [24], after_ts [24], after_id [24], status [16], limit [24];
    snprintf (from, sizeof from, "%" PRId64, query->from_ms);
    snprintf (to, sizeof to, "%" PRId64, query->to_ms);
    snprintf (after_ts, sizeof after_ts, "%" PRId64, query->after_ts_ms);
    snprintf (after_id, sizeof after_id, "%" PRId64, query->after_id);
    snprintf (status, sizeof status, "%" PRIu32, query->status);
    snprintf (limit, sizeof limit, "%" PRId64, (int64_t) query->limit + 1);
    const char *client = query->client_ip && query->client_ip [0]? query->client_ip: NULL;
    const char *values [] = { from, to, after_ts, after_id, status, client, limit };
    self->result = pg_conn_run (pg_core_self (store)->conn, &s_page, 7, values);
    if (!self->result) {
        audit_log_error ("msg=\"ops page not opened\" engine=postgresql");
        free (self);
        return NULL;
    }
    self->rows = PQntuples (self->result);
    return &self->base;
}

int
pg_opslog_step (audit_store_opslog_t *handle, audit_store_opslog_record_t *record)
{
    s_opslog_t *self = (s_opslog_t *) handle;
    assert (self && record);
    if (self->ended)
        return 0;
    bool row = self->next < self->rows;
    self->ended = !row || self->count == self->limit;
    if (!row)
        return 0;
    if (self->count == self->limit) {
        self->more = true;              //  the one row past the page
        return 0;
    }
    int at = self->next++;
    record->id = pg_conn_int (self->result, at, 0);
    record->timestamp_ms = pg_conn_int (self->result, at, 1);
    record->client_ip = PQgetvalue (self->result, at, 2);
    record->method = PQgetvalue (self->result, at, 3);
    record->path = PQgetvalue (self->result, at, 4);
    record->status = (uint32_t) pg_conn_int (self->result, at, 5);
    self->count++;
    return 1;
}

bool
pg_opslog_more (audit_store_opslog_t *handle)
{
    s_opslog_t *self = (s_opslog_t *) handle;
    assert (self);
    return self->more;
}

void
pg_opslog_close (audit_store_opslog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_opslog_t *self = (s_opslog_t *) *self_p;
    PQclear (self->result);
    free (self);
    *self_p = NULL;
}
