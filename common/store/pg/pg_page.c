/*  =========================================================================
    pg_page - one page of an organisation's audit events, from a filter
    (audit_page.h; the same rows, in the same order, as the SQLite
    engine's sqlite_page.c)

    A page is one REPEATABLE READ transaction, so that its rows and the
    end of the log it reports come from one snapshot; audit_page_destroy
    ends it. Its rows (one past the limit) come back in one result, kept
    until the close, so a row's texts stay valid as long as the page.

    Three statements, built once from the field table: keyset order
    oldest first, newest first, and log order (tail). Every filter term
    is "($n IS NULL OR ...)" with the filter's value or NULL: a custom
    plan folds the terms not asked for away, and a generic one still
    seeks the primary key (org_id, ts, log_index), or event_log in log
    order, and tests the rest on the rows, as the SQLite engine does. A
    new filter field is a row of audit_fields.def (filter 1), never a
    parameter number here.
    ========================================================================= */

#include "pg_core.h"
#include "audit_ident.h"
#include "audit_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define s_SQL_MAX       2048
#define s_COL_FIELDS    5                   //  the first resource field's column
#define s_COL_UUID      (s_COL_FIELDS + AUDIT_FIELD_COUNT)

//  The parameters every statement shares: then one per filter field, in
//  audit_field_t order, from s_PARAM_FIELD0; then the order's own
#define s_PARAM_ORG     1
#define s_PARAM_SUBJECT 2
#define s_PARAM_ACTOR   3
#define s_PARAM_TYPES   4                   //  NULL: every type
#define s_PARAM_FIELD0  5

#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) + (filter)
enum { s_FILTER_FIELDS = 0
#include "audit_fields.def"
};
#undef AUDIT_FIELD

//  Keyset order: from, to, the cursor (ts, log_index), limit
#define s_PARAM_FROM    (s_PARAM_FIELD0 + s_FILTER_FIELDS)
#define s_PARAM_TO      (s_PARAM_FROM + 1)
#define s_PARAM_AFTER   (s_PARAM_FROM + 2)  //  and s_PARAM_AFTER + 1
#define s_PARAM_LIMIT   (s_PARAM_FROM + 4)
#define s_KEYSET_PARAMS s_PARAM_LIMIT
//  Log order: from_index, the log's end in the snapshot, limit
#define s_PARAM_FROM_INDEX  s_PARAM_FROM
#define s_PARAM_LOG_END     (s_PARAM_FROM + 1)
#define s_PARAM_LOG_LIMIT   (s_PARAM_FROM + 2)
#define s_LOG_PARAMS        s_PARAM_LOG_LIMIT
#define s_PARAMS_MAX        s_KEYSET_PARAMS

static char s_sql_asc [s_SQL_MAX], s_sql_desc [s_SQL_MAX], s_sql_log [s_SQL_MAX];
static const pg_stmt_t s_asc = { "page_asc", s_sql_asc };
static const pg_stmt_t s_desc = { "page_desc", s_sql_desc };
static const pg_stmt_t s_log = { "page_log", s_sql_log };
//  Log order: where the log ends in the page's snapshot
static const pg_stmt_t s_log_size = { "page_log_size",
    "SELECT next_index FROM audit.org WHERE org_id = $1" };

static void
s_append (char *sql, const char *format, ...)
{
    size_t used = strlen (sql);
    va_list args;
    va_start (args, format);
    int len = vsnprintf (sql + used, s_SQL_MAX - used, format, args);
    va_end (args);
    assert (len >= 0 && (size_t) len < s_SQL_MAX - used);
    (void) len;
}

//  The columns and the terms every order shares. Columns are quoted: one
//  may be a reserved word ("user").
static void
s_build_common (char *sql)
{
    //  $2 is compared with actor and user in one parameter, so both
    //  columns must hold text, as actor always does
    assert (audit_proto_field_info (AUDIT_FIELD_USER_ID)->stored == AUDIT_STORED_TEXT);
    const char *user = audit_proto_field_info (AUDIT_FIELD_USER_ID)->column;
    strcpy (sql, "SELECT e.log_index, e.ts, e.received, e.type, e.actor");
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        s_append (sql, ", e.\"%s\"", audit_proto_field_info ((audit_field_t) field)->column);
    s_append (sql, ", e.event_id FROM audit.event AS e WHERE e.org_id = $%d", s_PARAM_ORG);
    s_append (sql, " AND ($%d::text IS NULL OR e.actor = $%d::text OR e.\"%s\" = $%d::text)",
              s_PARAM_SUBJECT, s_PARAM_SUBJECT, user, s_PARAM_SUBJECT);
    s_append (sql, " AND ($%d::text IS NULL OR e.actor = $%d::text)", s_PARAM_ACTOR, s_PARAM_ACTOR);
    int param = s_PARAM_FIELD0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        if (!info->filter)
            continue;
        //  A number's column is compared as its text: a filter is the
        //  caller's text, and a malformed one matches nothing
        s_append (sql, " AND ($%d::text IS NULL OR e.\"%s\"%s = $%d::text)", param,
                  info->column, info->stored == AUDIT_STORED_NUMBER? "::text": "", param);
        param++;
    }
    s_append (sql, " AND ($%d::bigint IS NULL OR (($%d::bigint >> e.type::integer) & 1) = 1)",
              s_PARAM_TYPES, s_PARAM_TYPES);
}

//  Keyset order: the time range, narrowed by the cursor (s_range), so
//  that the seek starts at the cursor and partitions before it are pruned
static void
s_build_keyset (char *sql, bool asc)
{
    s_build_common (sql);
    s_append (sql, " AND e.ts >= $%d::bigint AND e.ts < $%d::bigint", s_PARAM_FROM, s_PARAM_TO);
    s_append (sql, " AND (e.ts, e.log_index) %s ($%d::bigint, $%d::bigint)", asc? ">": "<",
              s_PARAM_AFTER, s_PARAM_AFTER + 1);
    const char *dir = asc? "ASC": "DESC";
    s_append (sql, " ORDER BY e.ts %s, e.log_index %s LIMIT $%d::bigint", dir, dir,
              s_PARAM_LIMIT);
}

//  Log order: no time range, no cursor
static void
s_build_log (char *sql)
{
    s_build_common (sql);
    s_append (sql, " AND e.log_index >= $%d::bigint AND e.log_index < $%d::bigint"
              " ORDER BY e.log_index LIMIT $%d::bigint",
              s_PARAM_FROM_INDEX, s_PARAM_LOG_END, s_PARAM_LOG_LIMIT);
}

//  The statements' text, before any worker thread runs
__attribute__ ((constructor)) static void
s_build (void)
{
    s_build_keyset (s_sql_asc, true);
    s_build_keyset (s_sql_desc, false);
    s_build_log (s_sql_log);
}

typedef struct {
    audit_page_t base;                  //  the engine's table: first

    pg_conn_t *conn;                    //  the store's
    audit_page_filter_t filter;
    PGresult *result;                   //  the rows, one past the page; NULL: none
    int rows, next;                     //  in result; the next to read
    bool done;                          //  next said 0 or -1 once: says 0 again
    uint32_t returned;
} s_page_t;

//  --------------------------------------------------------------------------
//  Opening

static bool
s_given (const char *text)
{
    return text && text [0];
}

//  Parameter values: numbers as text in their own buffers
typedef struct {
    const char *values [s_PARAMS_MAX];
    char numbers [s_PARAMS_MAX][24];
} s_params_t;

static void
s_param_int (s_params_t *params, int param, int64_t value)
{
    snprintf (params->numbers [param - 1], sizeof params->numbers [param - 1], "%" PRId64, value);
    params->values [param - 1] = params->numbers [param - 1];
}

static int64_t
s_clamp (uint64_t value)
{
    return value > INT64_MAX? INT64_MAX: (int64_t) value;
}

//  The terms every order shares
static void
s_params_common (const audit_page_filter_t *filter, s_params_t *params)
{
    params->values [s_PARAM_ORG - 1] = filter->org_id;
    params->values [s_PARAM_SUBJECT - 1] = s_given (filter->subject)? filter->subject: NULL;
    params->values [s_PARAM_ACTOR - 1] = s_given (filter->actor_id)? filter->actor_id: NULL;
    int param = s_PARAM_FIELD0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (audit_proto_field_info ((audit_field_t) field)->filter) {
            const char *value = filter->field [field];
            params->values [param - 1] = s_given (value)? value: NULL;
            param++;
        }
    uint32_t every = (uint32_t) ((1ull << AUDIT_EVENT_COUNT) - 1);
    if ((filter->type_mask & every) != every)
        s_param_int (params, s_PARAM_TYPES, filter->type_mask);
}

//  The time range the search starts and ends at, narrowed by the cursor:
//  (ts, i) > (t, j) implies ts >= t, and < implies ts <= t, that is
//  ts < t + 1 (as sqlite_page.c's s_bind_range)
static void
s_params_range (const audit_page_filter_t *filter, s_params_t *params)
{
    bool asc = filter->order == AUDIT_CURSOR_ASC;
    int64_t from = filter->from_ms, to = filter->to_ms;
    int64_t after_ts = asc? INT64_MIN: INT64_MAX, after_index = asc? INT64_MIN: INT64_MAX;
    if (filter->has_after) {
        after_ts = filter->after.ts_ms;
        after_index = s_clamp (filter->after.log_index);
        if (asc && after_ts > from)
            from = after_ts;
        if (!asc && after_ts < to)
            to = after_ts + 1;
    }
    s_param_int (params, s_PARAM_FROM, from);
    s_param_int (params, s_PARAM_TO, to);
    s_param_int (params, s_PARAM_AFTER, after_ts);
    s_param_int (params, s_PARAM_AFTER + 1, after_index);
    //  One row past the page tells whether there is a next page
    s_param_int (params, s_PARAM_LIMIT, (int64_t) filter->limit + 1);
}

//  Log order: where the log ends in this page's snapshot, so that the
//  next page starts past every index this one skipped
static int
s_log_size_read (s_page_t *self)
{
    const char *values [] = { self->filter.org_id };
    PGresult *result = pg_conn_run (self->conn, &s_log_size, 1, values);
    if (!result)
        return -1;
    int64_t size = PQntuples (result) == 1? pg_conn_int (result, 0, 0): 0;
    self->base.log_size = size > 0? (uint64_t) size: 0;
    PQclear (result);
    return 0;
}

static int
s_query (s_page_t *self)
{
    const audit_page_filter_t *filter = &self->filter;
    if (filter->type_mask == 0)
        return 0;                       //  no type: empty
    s_params_t params;
    memset (&params, 0, sizeof params);
    s_params_common (filter, &params);
    const pg_stmt_t *stmt;
    int count;
    if (filter->log_order) {
        if (s_log_size_read (self) != 0)
            return -1;
        if (self->base.log_size <= filter->from_index)
            return 0;                   //  nothing past from_index yet
        s_param_int (&params, s_PARAM_FROM_INDEX, s_clamp (filter->from_index));
        s_param_int (&params, s_PARAM_LOG_END, s_clamp (self->base.log_size));
        s_param_int (&params, s_PARAM_LOG_LIMIT, (int64_t) filter->limit + 1);
        stmt = &s_log;
        count = s_LOG_PARAMS;
    }
    else {
        s_params_range (filter, &params);
        stmt = filter->order == AUDIT_CURSOR_ASC? &s_asc: &s_desc;
        count = s_KEYSET_PARAMS;
    }
    self->result = pg_conn_run (self->conn, stmt, count, params.values);
    if (!self->result)
        return -1;
    self->rows = PQntuples (self->result);
    return 0;
}

audit_page_t *
pg_page_new (audit_store_t *store, const audit_page_filter_t *filter)
{
    assert (store);
    assert (filter && filter->org_id && filter->limit > 0);
    s_page_t *self = (s_page_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->base.ops = store->ops;
    self->conn = pg_core_self (store)->conn;
    self->filter = *filter;
    self->base.from_index = filter->from_index;
    //  A transaction left open would pin an old snapshot for good
    pg_conn_rollback (self->conn);
    if (pg_conn_begin (self->conn, true) != 0 || s_query (self) != 0) {
        audit_log_error ("msg=\"page not opened\" engine=postgresql sqlstate=%s",
                         pg_conn_sqlstate (self->conn));
        audit_page_t *page = &self->base;
        pg_page_destroy (&page);
        return NULL;
    }
    return &self->base;
}

//  --------------------------------------------------------------------------
//  Rows

static void
s_read_field (s_page_t *self, int at, audit_field_t field, audit_row_t *row)
{
    int column = s_COL_FIELDS + (int) field;
    row->text [field] = NULL;
    row->has_number [field] = false;
    if (PQgetisnull (self->result, at, column))
        return;
    if (audit_proto_field_info (field)->stored == AUDIT_STORED_NUMBER) {
        row->has_number [field] = true;
        row->number [field] = strtoull (PQgetvalue (self->result, at, column), NULL, 10);
    }
    else                                //  TEXT and NAME: both the identifier's text
        row->text [field] = PQgetvalue (self->result, at, column);
}

static void
s_read_row (s_page_t *self, int at, audit_row_t *row)
{
    PGresult *result = self->result;
    row->log_index = (uint64_t) pg_conn_int (result, at, 0);
    row->timestamp_ms = pg_conn_int (result, at, 1);
    row->received_ms = pg_conn_int (result, at, 2);
    row->type = (audit_event_type_t) pg_conn_int (result, at, 3);
    row->org_id = self->filter.org_id;
    row->actor_id = PQgetvalue (result, at, 4);     //  "" when NULL
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        s_read_field (self, at, (audit_field_t) field, row);
    const char *uuid = PQgetvalue (result, at, s_COL_UUID);
    if (PQgetisnull (result, at, s_COL_UUID)
    ||  audit_ident_uuid_parse (uuid, strlen (uuid), row->event_id) != 0)
        memset (row->event_id, 0, AUDIT_UUID_SIZE);
}

int
pg_page_next (audit_page_t *handle, audit_row_t *row)
{
    s_page_t *self = (s_page_t *) handle;
    assert (self && row);
    if (self->done || self->next >= self->rows) {
        self->done = true;
        return 0;
    }
    if (self->returned == self->filter.limit) {
        self->base.more = true;              //  the probe row: it belongs to the next page
        self->done = true;
        return 0;
    }
    int at = self->next++;
    s_read_row (self, at, row);
    self->base.last = (audit_page_pos_t) { row->timestamp_ms, row->log_index };
    self->returned++;
    return 1;
}

void
pg_page_destroy (audit_page_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_page_t *self = (s_page_t *) *self_p;
    PQclear (self->result);
    //  The transaction only read: a rollback ends it as well as a commit
    //  would, and also after a failure
    pg_conn_rollback (self->conn);
    free (self);
    *self_p = NULL;
}
