/*  =========================================================================
    query_filter - the keyset query behind list and export
    ========================================================================= */

#include "query_filter.h"

#include <stdio.h>
#include <string.h>

#include "audit_log.h"

//  Positions in query_filter_t.ident
enum { S_ACTOR, S_USER, S_DEVICE, S_GROUP, S_SUBJECT };

//  ?1 org, ?2 from, ?3 to, ?4 ?5 cursor (ts, id), ?6..?9 actor, user,
//  device, group (0: any), ?10 type mask, ?11 subject (0: any), ?12 limit.
//  Every term reads a column of event_org_ts, so a row that does not match
//  is skipped on its index entry and never read from the table.
static const char *s_where =
    " WHERE e.org = ?1 AND e.ts >= ?2 AND e.ts < ?3 AND (e.ts, e.id) %s (?4, ?5)"
    " AND (?6 = 0 OR e.actor = ?6) AND (?7 = 0 OR e.user = ?7)"
    " AND (?8 = 0 OR e.device = ?8) AND (?9 = 0 OR e.grp = ?9)"
    " AND ((?10 >> e.type) & 1)"
    " AND (?11 = 0 OR e.actor = ?11 OR e.user = ?11)";

#define S_SQL_MAX 4096
static char s_columns [1024];
static char s_joins [1024];
static char s_sql [2][S_SQL_MAX];                  //  [order]

//  Columns: id, ts, received, type, actor name, one per resource field
//  (its ident's name, or the number), uuid
static void
s_build_columns (void)
{
    strcpy (s_columns, "e.id, e.ts, e.received, e.type, a.name");
    strcpy (s_joins, " LEFT JOIN ident a ON a.id = e.actor");
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const char *column = audit_store_event_column ((audit_field_t) field);
        char part [160];
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_IDENT) {
            snprintf (part, sizeof part, ", i%d.name", field);
            strcat (s_columns, part);
            snprintf (part, sizeof part, " LEFT JOIN ident i%d ON i%d.id = e.%s", field, field, column);
            strcat (s_joins, part);
        }
        else {
            snprintf (part, sizeof part, ", e.%s", column);
            strcat (s_columns, part);
        }
    }
    strcat (s_columns, ", e.uuid");
}

//  One shape per order, pinned to the index that keeps (ts, id) order
static void
s_build_shape (int asc)
{
    char where [600];
    snprintf (where, sizeof where, s_where, asc ? ">" : "<");
    const char *dir = asc ? "ASC" : "DESC";
    snprintf (s_sql [asc], S_SQL_MAX,
        "SELECT %s FROM event AS e INDEXED BY event_org_ts%s%s"
        " ORDER BY e.ts %s, e.id %s LIMIT ?12",
        s_columns, s_joins, where, dir, dir);
}

//  Built once, before any worker thread runs
__attribute__ ((constructor)) static void
s_build_sql (void)
{
    s_build_columns ();
    s_build_shape (0);
    s_build_shape (1);
}

//  Row id of a name in ident or org: 0 and *id, 1 when absent, -1 on error
static int
s_lookup (query_call_t *call, const char *sql, const char *name, int64_t *id)
{
    sqlite3_stmt *stmt = audit_stmts_get (call->stmts [AUDIT_DB_AUDIT], sql);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int
s_resolve (query_filter_t *self)
{
    const query_request_t *request = self->call->request;
    const char *names [5] = { request->actor_id, request->user_id, request->device_id,
                              request->group_id, request->subject };
    int rc = s_lookup (self->call, "SELECT id FROM org WHERE name = ?1", request->org_id, &self->org);
    self->empty = rc == 1;
    for (int index = 0; rc >= 0 && index < 5; index++) {
        self->ident [index] = 0;
        if (!names [index][0])
            continue;
        int found = s_lookup (self->call, "SELECT id FROM ident WHERE name = ?1",
                              names [index], &self->ident [index]);
        if (found == 1)
            self->empty = true;
        rc = found < 0 ? -1 : rc;
    }
    if (rc < 0)
        query_reply_fail (self->call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    return rc < 0 ? -1 : 0;
}

static audit_cursor_binding_t
s_binding (query_filter_t *self, uint8_t *bytes, size_t size)
{
    const query_request_t *request = self->call->request;
    audit_cursor_binding_t binding = {
        .op = self->op, .org = request->org_id, .filter = bytes,
        .filter_len = query_request_filter_bytes (request, bytes, size),
        .order = request->order
    };
    return binding;
}

//  Where the page starts: after the cursor's row, or at the very end
static int
s_position (query_filter_t *self)
{
    const query_request_t *request = self->call->request;
    bool asc = request->order == AUDIT_CURSOR_ASC;
    self->after = (audit_cursor_pos_t) {
        asc ? INT64_MIN : INT64_MAX, asc ? INT64_MIN : INT64_MAX, request->order
    };
    if (!request->cursor [0])
        return 0;
    uint8_t bytes [1024];
    audit_cursor_binding_t binding = s_binding (self, bytes, sizeof bytes);
    if (audit_cursor_decode (self->call->shared->cursor_key, &binding, request->cursor,
                             strlen (request->cursor), &self->after) != 0) {
        query_reply_fail (self->call->reply, AUDIT_ERROR_BAD_REQUEST,
                          "cursor is not valid for this request");
        return -1;
    }
    return 0;
}

static void
s_bind (query_filter_t *self)
{
    const query_request_t *request = self->call->request;
    sqlite3_stmt *stmt = self->stmt;
    sqlite3_bind_int64 (stmt, 1, self->org);
    sqlite3_bind_int64 (stmt, 2, request->from_ms);
    sqlite3_bind_int64 (stmt, 3, request->to_ms);
    sqlite3_bind_int64 (stmt, 4, self->after.ts_ms);
    sqlite3_bind_int64 (stmt, 5, self->after.row_id);
    for (int index = S_ACTOR; index <= S_GROUP; index++)
        sqlite3_bind_int64 (stmt, 6 + index, self->ident [index]);
    sqlite3_bind_int64 (stmt, 10, request->type_mask);
    sqlite3_bind_int64 (stmt, 11, self->ident [S_SUBJECT]);
    //  One row past the page tells whether there is a next page
    sqlite3_bind_int64 (stmt, 12, (int64_t) self->limit + 1);
}

int
query_filter_open (query_filter_t *self, query_call_t *call, const char *op)
{
    memset (self, 0, sizeof *self);
    self->call = call;
    self->op = op;
    self->limit = call->request->limit;
    if (s_position (self) != 0 || s_resolve (self) != 0)
        return -1;
    if (self->empty || call->request->type_mask == 0)
        return 0;
    bool asc = call->request->order == AUDIT_CURSOR_ASC;
    self->stmt = audit_stmts_get (call->stmts [AUDIT_DB_AUDIT], s_sql [asc]);
    if (!self->stmt) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
        return -1;
    }
    s_bind (self);
    return 0;
}

static void
s_read_row (sqlite3_stmt *stmt, query_row_t *row)
{
    row->id = sqlite3_column_int64 (stmt, 0);
    row->timestamp_ms = sqlite3_column_int64 (stmt, 1);
    row->received_ms = sqlite3_column_int64 (stmt, 2);
    row->type = (audit_event_type_t) sqlite3_column_int (stmt, 3);
    row->actor_id = (const char *) sqlite3_column_text (stmt, 4);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        int column = 5 + field;
        bool present = sqlite3_column_type (stmt, column) != SQLITE_NULL;
        row->text [field] = NULL;
        row->has_number [field] = false;
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_IDENT)
            row->text [field] = present ? (const char *) sqlite3_column_text (stmt, column) : NULL;
        else
        if (present) {
            row->has_number [field] = true;
            row->number [field] = (uint64_t) sqlite3_column_int64 (stmt, column);
        }
    }
    int uuid_column = 5 + AUDIT_FIELD_COUNT;
    const void *uuid = sqlite3_column_blob (stmt, uuid_column);
    if (uuid && sqlite3_column_bytes (stmt, uuid_column) == AUDIT_UUID_SIZE)
        memcpy (row->event_id, uuid, AUDIT_UUID_SIZE);
    else
        memset (row->event_id, 0, AUDIT_UUID_SIZE);
}

int
query_filter_next (query_filter_t *self, query_row_t *row)
{
    if (!self->stmt)
        return 0;
    int rc = sqlite3_step (self->stmt);
    if (rc == SQLITE_ROW && self->returned == self->limit) {
        self->more = true;          //  the probe row: it belongs to the next page
        rc = SQLITE_DONE;
    }
    if (rc == SQLITE_DONE) {
        sqlite3_reset (self->stmt);
        self->stmt = NULL;
        return 0;
    }
    if (rc != SQLITE_ROW) {
        audit_log_error ("msg=query_failed reason=\"%s\"",
                         sqlite3_errmsg (sqlite3_db_handle (self->stmt)));
        sqlite3_reset (self->stmt);
        self->stmt = NULL;
        query_reply_fail (self->call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
        return -1;
    }
    s_read_row (self->stmt, row);
    self->last.id = row->id;
    self->last.timestamp_ms = row->timestamp_ms;
    self->returned++;
    return 1;
}

bool
query_filter_close (query_filter_t *self, char *text)
{
    if (self->stmt) {
        sqlite3_reset (self->stmt);
        self->stmt = NULL;
    }
    if (!self->more)
        return false;
    uint8_t bytes [1024];
    audit_cursor_binding_t binding = s_binding (self, bytes, sizeof bytes);
    audit_cursor_pos_t pos = {
        self->last.timestamp_ms, self->last.id, self->call->request->order
    };
    return audit_cursor_encode (self->call->shared->cursor_key, &binding, &pos, text) == 0;
}

int
query_filter_shape_count (void)
{
    return 2;
}

const char *
query_filter_shape_sql (int shape)
{
    return shape == 0 || shape == 1 ? s_sql [shape] : NULL;
}
