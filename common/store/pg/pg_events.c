/*  =========================================================================
    pg_events - a batch's audit events into audit.event (see pg_events.h)
    ========================================================================= */

#include "pg_events.h"
#include "pg_array.h"
#include "audit_ident.h"
#include "audit_log.h"
#include "audit_row.h"

#include <assert.h>
#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

//  The event INSERT's arrays: the envelope, one per resource field in
//  audit_field_t order (its column from audit_fields.def), the event_id
typedef enum {
    s_COL_ORG, s_COL_TS, s_COL_INDEX, s_COL_RECEIVED, s_COL_TYPE, s_COL_ACTOR,
    s_COL_FIELD,
    s_COL_UUID = s_COL_FIELD + AUDIT_FIELD_COUNT,
    s_COL_COUNT
} s_column_t;

static char s_insert_sql [2048];
static pg_stmt_t s_insert = { "events_insert", s_insert_sql };

__attribute__ ((constructor)) static void
s_insert_build (void)
{
    char columns [512] = "", arrays [1024] = "";
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        size_t at = strlen (columns), aat = strlen (arrays);
        snprintf (columns + at, sizeof columns - at, "\"%s\", ", info->column);
        snprintf (arrays + aat, sizeof arrays - aat, "$%d::%s[], ", s_COL_FIELD + field + 1,
                  info->stored == AUDIT_STORED_NUMBER? "bigint": "text");
    }
    snprintf (s_insert_sql, sizeof s_insert_sql,
              "INSERT INTO audit.event (org_id, ts, log_index, received, type, actor, %s"
              "event_id) SELECT * FROM unnest ($1::text[], $2::bigint[], $3::bigint[],"
              " $4::bigint[], $5::smallint[], $6::text[], %s$%d::uuid[])",
              columns, arrays, s_COL_UUID + 1);
}

//  Locks the batch's organisations' rows (made when new), in the
//  database's order of org_id, and says each one's next_index
static const pg_stmt_t s_lock = { "events_org_lock",
    "INSERT INTO audit.org AS o (org_id) SELECT id FROM unnest ($1::text[]) AS b (id)"
    " ORDER BY id ON CONFLICT (org_id) DO UPDATE SET next_index = o.next_index"
    " RETURNING org_id, next_index" };

//  The primary key (org_id, ts, ...) finds the rows of that millisecond;
//  one of them with the same event_id makes a duplicate. LATERAL: one
//  lookup of the key per event of the batch, whatever the planner thinks
//  of the arrays: a join's custom plan (the first five runs of each
//  connection) scanned and sorted every stored event, 3 s a batch at
//  5,000,000 events (bench-pg); forcing generic plans on the session
//  instead slowed other statements down (test_ingest's drain, 13 s)
static const pg_stmt_t s_seen = { "events_seen",
    "SELECT b.org_id, b.ts, b.event_id FROM unnest ($1::text[], $2::bigint[], $3::uuid[])"
    " AS b (org_id, ts, event_id) CROSS JOIN LATERAL (SELECT 1 FROM audit.event e"
    " WHERE e.org_id = b.org_id AND e.ts = b.ts AND e.event_id = b.event_id LIMIT 1) AS found" };

static const pg_stmt_t s_advance = { "events_org_advance",
    "UPDATE audit.org AS o SET next_index = b.next FROM unnest ($1::text[], $2::bigint[])"
    " AS b (id, next) WHERE o.org_id = b.id" };

//  An organisation of the batch
typedef struct {
    uint64_t next;                      //  its next log_index
    bool locked;                        //  the lock returned its row
    audit_merkle_frontier_t *frontier;  //  NULL until its first event
} s_org_t;

struct _pg_events_t {
    pg_array_t column [s_COL_COUNT];
    pg_array_t seen [3];                //  org_id, ts, event_id of each event
    pg_array_t orgs, advance_org, advance_next;
    zhashx_t *batch_orgs;               //  org_id -> s_org_t, this batch's
    zhashx_t *keys;                     //  the batch's (org, ts, event_id) known
};

static void
s_free (void **item)
{
    free (*item);
    *item = NULL;
}

pg_events_t *
pg_events_new (void)
{
    pg_events_t *self = (pg_events_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->batch_orgs = zhashx_new ();
    self->keys = zhashx_new ();
    if (!self->batch_orgs || !self->keys) {
        pg_events_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->batch_orgs, s_free);
    return self;
}

void
pg_events_destroy (pg_events_t **self_p)
{
    assert (self_p);
    pg_events_t *self = *self_p;
    if (!self)
        return;
    for (int column = 0; column < s_COL_COUNT; column++)
        pg_array_free (&self->column [column]);
    for (int column = 0; column < 3; column++)
        pg_array_free (&self->seen [column]);
    pg_array_free (&self->orgs);
    pg_array_free (&self->advance_org);
    pg_array_free (&self->advance_next);
    zhashx_destroy (&self->batch_orgs);
    zhashx_destroy (&self->keys);
    free (self);
    *self_p = NULL;
}

static void
s_reset (pg_events_t *self)
{
    for (int column = 0; column < s_COL_COUNT; column++)
        pg_array_reset (&self->column [column]);
    for (int column = 0; column < 3; column++)
        pg_array_reset (&self->seen [column]);
    pg_array_reset (&self->orgs);
    pg_array_reset (&self->advance_org);
    pg_array_reset (&self->advance_next);
    zhashx_purge (self->batch_orgs);
    zhashx_purge (self->keys);
}

//  "org_id ts event_id": a duplicate's key, in the batch and in the store
static void
s_key (const char *org_id, int64_t ts, const char *uuid, char *key, size_t size)
{
    snprintf (key, size, "%s %" PRId64 " %s", org_id, ts, uuid);
}

//  Pass 1: the batch's organisations, and the keys to look for. 0 or -1.
static int
s_collect (pg_events_t *self, audit_store_next_fn *next, void *arg, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        const audit_record_t *record = next (arg, index);
        if (record->kind != AUDIT_TOPIC_KIND_AUDIT)
            continue;
        const audit_event_t *event = &record->u.event;
        if (!zhashx_lookup (self->batch_orgs, event->org_id)) {
            s_org_t *org = (s_org_t *) calloc (1, sizeof *org);
            if (!org)
                return -1;
            zhashx_insert (self->batch_orgs, event->org_id, org);
            pg_array_text_add (&self->orgs, event->org_id);
        }
        pg_array_text_add (&self->seen [0], event->org_id);
        pg_array_int_add (&self->seen [1], event->timestamp_ms);
        pg_array_uuid_add (&self->seen [2], event->event_id);
    }
    return 0;
}

static int
s_lock_orgs (pg_events_t *self, pg_conn_t *conn, int64_t *lock_waited_us)
{
    const char *values [] = { pg_array_text (&self->orgs) };
    if (!values [0])
        return -1;
    int64_t start = zclock_usecs ();
    PGresult *result = pg_conn_run (conn, &s_lock, 1, values);
    *lock_waited_us += zclock_usecs () - start;
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples (result); row++) {
        s_org_t *org = (s_org_t *) zhashx_lookup (self->batch_orgs, PQgetvalue (result, row, 0));
        if (org) {
            org->next = (uint64_t) pg_conn_int (result, row, 1);
            org->locked = true;
        }
    }
    PQclear (result);
    return 0;
}

//  The keys the store already holds go in self->keys
static int
s_seen_read (pg_events_t *self, pg_conn_t *conn)
{
    const char *values [3];
    for (int column = 0; column < 3; column++)
        if (!(values [column] = pg_array_text (&self->seen [column])))
            return -1;
    PGresult *result = pg_conn_run (conn, &s_seen, 3, values);
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples (result); row++) {
        char key [AUDIT_IDENT_MAX + 64];
        s_key (PQgetvalue (result, row, 0), pg_conn_int (result, row, 1),
               PQgetvalue (result, row, 2), key, sizeof key);
        zhashx_update (self->keys, key, (void *) 1);
    }
    PQclear (result);
    return 0;
}

//  One row's columns: as the writer gives them (s_event_add), or as an
//  import brings them (pg_events_insert)
static void
s_row_add (pg_events_t *self, const audit_row_t *row)
{
    pg_array_text_add (&self->column [s_COL_ORG], row->org_id);
    pg_array_int_add (&self->column [s_COL_TS], row->timestamp_ms);
    pg_array_int_add (&self->column [s_COL_INDEX], (int64_t) row->log_index);
    pg_array_int_add (&self->column [s_COL_RECEIVED], row->received_ms);
    pg_array_int_add (&self->column [s_COL_TYPE], (int64_t) row->type);
    pg_array_text_add (&self->column [s_COL_ACTOR], row->actor_id);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        pg_array_t *column = &self->column [s_COL_FIELD + field];
        if (audit_proto_field_info ((audit_field_t) field)->stored == AUDIT_STORED_NUMBER) {
            if (row->has_number [field])
                pg_array_int_add (column, (int64_t) row->number [field]);
            else
                pg_array_text_add (column, NULL);
        }
        else
            pg_array_text_add (column, row->text [field]);
    }
    pg_array_uuid_add (&self->column [s_COL_UUID], row->event_id);
}

//  An event not seen before: its organisation's next index, its leaf
static int
s_event_add (pg_events_t *self, pg_conn_t *conn, pg_tree_t *tree,
             const audit_record_t *record)
{
    const audit_event_t *event = &record->u.event;
    s_org_t *org = (s_org_t *) zhashx_lookup (self->batch_orgs, event->org_id);
    if (!org || !org->locked)
        return -1;
    if (!org->frontier
    &&  pg_tree_frontier (tree, conn, event->org_id, org->next, &org->frontier) != 0)
        return -1;
    audit_row_t row;
    audit_row_of_event (event, org->next, record->received_ms, &row);
    audit_merkle_hash_t leaf;
    if (audit_row_leaf_hash (&row, leaf) != 0
    ||  pg_tree_append (tree, event->org_id, org->frontier, leaf, event->timestamp_ms) != 0)
        return -1;
    s_row_add (self, &row);
    org->next++;
    return 0;
}

//  Pass 2: each event stored or a duplicate, in the batch's order
static int
s_events_add (pg_events_t *self, pg_conn_t *conn, pg_tree_t *tree,
              audit_store_next_fn *next, void *arg, size_t count,
              audit_store_outcome_t *outcomes)
{
    for (size_t index = 0; index < count; index++) {
        const audit_record_t *record = next (arg, index);
        if (record->kind != AUDIT_TOPIC_KIND_AUDIT)
            continue;
        const audit_event_t *event = &record->u.event;
        char uuid [AUDIT_IDENT_UUID_TEXT_SIZE], key [AUDIT_IDENT_MAX + 64];
        audit_ident_uuid_format (event->event_id, uuid);
        s_key (event->org_id, event->timestamp_ms, uuid, key, sizeof key);
        if (zhashx_lookup (self->keys, key)) {
            outcomes [index] = AUDIT_STORE_DUPLICATE;
            continue;
        }
        zhashx_update (self->keys, key, (void *) 1);
        if (s_event_add (self, conn, tree, record) != 0)
            return -1;
        outcomes [index] = AUDIT_STORE_STORED;
    }
    return 0;
}

static int
s_rows_insert (pg_events_t *self, pg_conn_t *conn)
{
    if (self->column [s_COL_ORG].count == 0)
        return 0;
    const char *values [s_COL_COUNT];
    for (int column = 0; column < s_COL_COUNT; column++)
        if (!(values [column] = pg_array_text (&self->column [column])))
            return -1;
    return pg_conn_do (conn, &s_insert, s_COL_COUNT, values, NULL);
}

//  Every organisation's next_index, raised by its stored events
static int
s_orgs_advance (pg_events_t *self, pg_conn_t *conn)
{
    for (s_org_t *org = (s_org_t *) zhashx_first (self->batch_orgs); org;
         org = (s_org_t *) zhashx_next (self->batch_orgs)) {
        if (!org->frontier)
            continue;                   //  only duplicates
        pg_array_text_add (&self->advance_org, (const char *) zhashx_cursor (self->batch_orgs));
        pg_array_int_add (&self->advance_next, (int64_t) org->next);
    }
    if (self->advance_org.count == 0)
        return 0;
    const char *values [] = {
        pg_array_text (&self->advance_org), pg_array_text (&self->advance_next)
    };
    if (!values [0] || !values [1])
        return -1;
    return pg_conn_do (conn, &s_advance, 2, values, NULL);
}

int
pg_events_write (pg_events_t *self, pg_conn_t *conn, pg_tree_t *tree,
                 audit_store_next_fn *next, void *arg, size_t count,
                 audit_store_outcome_t *outcomes, int64_t *lock_waited_us)
{
    assert (self && conn && tree && next && outcomes && lock_waited_us);
    s_reset (self);
    int rc = s_collect (self, next, arg, count);
    if (rc == 0 && self->orgs.count > 0)
        rc = s_lock_orgs (self, conn, lock_waited_us) == 0
          && s_seen_read (self, conn) == 0
          && s_events_add (self, conn, tree, next, arg, count, outcomes) == 0
          && s_rows_insert (self, conn) == 0
          && pg_tree_nodes_write (tree, conn) == 0
          && s_orgs_advance (self, conn) == 0? 0: -1;
    return rc;
}

int
pg_events_insert (pg_events_t *self, pg_conn_t *conn, const audit_row_t *const *rows,
                  size_t count)
{
    assert (self && conn && (rows || count == 0));
    s_reset (self);
    for (size_t index = 0; index < count; index++)
        if (rows [index])
            s_row_add (self, rows [index]);
    return s_rows_insert (self, conn);
}
