/*  =========================================================================
    audit_store - the three SQLite stores of the data directory

    The speed of ingest is in the schema: events carry small integer keys
    (organisations and identifiers are interned), and only the indexes the
    queries need exist. Each write batch is one transaction per store, with
    statements prepared once at open. Each file has its connection
    (audit_conn), which waits for locks by polling and, on the writer,
    checkpoints the WAL itself after commits, so that it stays small and
    no commit pays for a checkpoint it did not ask for.
    ========================================================================= */

#include "audit_store.h"
#include "audit_conn.h"
#include "audit_intern.h"
#include "audit_orglog.h"
#include "audit_log.h"
#include "audit_stmts.h"
#include "audit_store_stmt.h"
#include "audit_schema.h"

#include <czmq.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  Rows of each open counter family (audit_counters.h) in the persistent
//  table; beyond it a new name of that family is folded
//  (audit_counters_fold), so a hostile producer can grow neither the table
//  nor one family at another's cost. Fixed names are never capped.
#define s_COUNTER_FAMILY_ROWS_MAX 8192

//  The store of each topic kind
static const audit_db_t s_kind_db [] = {
    [AUDIT_TOPIC_KIND_AUDIT] = AUDIT_DB_AUDIT,
    [AUDIT_TOPIC_KIND_OPS] = AUDIT_DB_OPS,
    [AUDIT_TOPIC_KIND_MQ] = AUDIT_DB_QUEUE
};

//  The event INSERT: the envelope, then one parameter per resource field
//  in audit_field_t order, with its column from audit_fields.def, then the
//  uuid. A new field is a row there and a migration adding its column.
#define s_EVENT_FIELD_PARAM 7
#define s_EVENT_UUID_PARAM  (s_EVENT_FIELD_PARAM + AUDIT_FIELD_COUNT)
static char s_event_insert_sql [1024];

__attribute__ ((constructor)) static void
s_event_insert_build (void)
{
    char columns [512] = "", values [512] = "";
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        size_t at = strlen (columns), vat = strlen (values);
        snprintf (columns + at, sizeof columns - at, "%s, ",
                  audit_proto_field_info ((audit_field_t) field)->column);
        snprintf (values + vat, sizeof values - vat, "?%d, ", s_EVENT_FIELD_PARAM + field);
    }
    snprintf (s_event_insert_sql, sizeof s_event_insert_sql,
              "INSERT INTO event (org, ts, log_index, received, type, actor, %suuid)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, %s?%d)", columns, values, s_EVENT_UUID_PARAM);
}

typedef enum {
    Q_BEGIN,                            //  Q_BEGIN + db, and so on
    Q_COMMIT = Q_BEGIN + AUDIT_DB_COUNT,
    Q_ROLLBACK = Q_COMMIT + AUDIT_DB_COUNT,
    Q_EVENT_SEEN = Q_ROLLBACK + AUDIT_DB_COUNT, Q_EVENT_INSERT,
    Q_COUNTER_UPDATE, Q_COUNTER_UPSERT, Q_COUNTER_ROWS,
    Q_OPS_INSERT, Q_MESSAGE_INSERT, Q_ORG_RETENTION,
    Q_COUNTER_SELECT,                   //  the only one a READER prepares
    Q_COUNT
} s_query_t;

//  value plus a delta >= 0, held at INT64_MAX: SQLite would turn an
//  overflowing sum into a REAL, which loses the count's low digits
#define s_SATURATED(delta) \
    "CASE WHEN value > 9223372036854775807 - " delta \
    " THEN 9223372036854775807 ELSE value + " delta " END"
#define s_EACH_DB(sql) { AUDIT_DB_AUDIT, sql }, { AUDIT_DB_OPS, sql }, { AUDIT_DB_QUEUE, sql }
static const struct { audit_db_t db; const char *sql; } s_queries [Q_COUNT] = {
    s_EACH_DB ("BEGIN IMMEDIATE"), s_EACH_DB ("COMMIT"), s_EACH_DB ("ROLLBACK"),
    //  The primary key (org, ts, log_index) finds the rows of that
    //  millisecond; one of them with the same uuid makes a duplicate
    { AUDIT_DB_AUDIT, "SELECT 1 FROM event WHERE org = ?1 AND ts = ?2 AND uuid = ?3" },
    { AUDIT_DB_AUDIT, s_event_insert_sql },
    { AUDIT_DB_AUDIT, "UPDATE counter SET value = " s_SATURATED ("?2")
      " WHERE name = ?1" },
    { AUDIT_DB_AUDIT, "INSERT INTO counter (name, value) VALUES (?1, ?2)"
      " ON CONFLICT (name) DO UPDATE SET value = " s_SATURATED ("excluded.value") },
    { AUDIT_DB_AUDIT, "SELECT count(*) FROM counter WHERE name >= ?1 AND name < ?2" },
    { AUDIT_DB_OPS, "INSERT INTO ops (ts, received, client_ip, method, path, status)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
    { AUDIT_DB_QUEUE, "INSERT INTO message (uuid, org, device, ts, received, payload)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (uuid) DO NOTHING" },
    { AUDIT_DB_AUDIT, "UPDATE org SET retention_days = ?2 WHERE name = ?1" },
    { AUDIT_DB_AUDIT, "SELECT name, value FROM counter" },
};

struct _audit_store_t {
    audit_store_mode_t mode;
    audit_conn_t *conn [AUDIT_DB_COUNT];
    sqlite3 *db [AUDIT_DB_COUNT];       //  each conn's handle
    sqlite3_stmt *query [Q_COUNT];
    audit_stmts_t *stmts [AUDIT_DB_COUNT];  //  the typed operations' statements
    audit_intern_t *intern;             //  not for a READER
    audit_orglog_t *orglog;             //  not for a READER
    int64_t family_rows [AUDIT_COUNTERS_FAMILIES];  //  rows in counter, about
};

//  --------------------------------------------------------------------------
//  Statements

//  Step a prepared statement to its end and reset it. 0 or -1.
static int
s_run (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW? 0: -1;
}

//  --------------------------------------------------------------------------
//  Opening: directory, connections, pragmas, migrations, statements

static int
s_dir_prepare (const char *data_dir, audit_store_mode_t mode)
{
    if (mode != AUDIT_STORE_READER && mkdir (data_dir, 0700) != 0 && errno != EEXIST) {
        audit_log_error ("msg=\"cannot create data directory\" dir=%s reason=\"%s\"",
                         data_dir, strerror (errno));
        return -1;
    }
    struct stat info;
    int found = stat (data_dir, &info);
    if (found != 0 || !S_ISDIR (info.st_mode)) {
        audit_log_error ("msg=\"data directory unusable\" dir=%s reason=\"%s\"",
                         data_dir, found? strerror (errno): "not a directory");
        return -1;
    }
    int access_mode = mode == AUDIT_STORE_READER? R_OK | X_OK: R_OK | W_OK | X_OK;
    if (access (data_dir, access_mode) != 0) {
        audit_log_error ("msg=\"data directory not %s\" dir=%s reason=\"%s\"",
                         mode == AUDIT_STORE_READER? "readable": "writable",
                         data_dir, strerror (errno));
        return -1;
    }
    return 0;
}

static int
s_open_db (audit_store_t *self, const char *data_dir, audit_db_t db)
{
    self->conn [db] = audit_conn_new (data_dir, db, self->mode);
    if (!self->conn [db])
        return -1;
    self->db [db] = audit_conn_handle (self->conn [db]);
    self->stmts [db] = audit_stmts_new (self->db [db]);
    if (!self->stmts [db])
        return -1;
    //  Workers start together: the first one migrates, and the others wait
    //  for it instead of giving up after the usual lock wait
    audit_conn_busy_limit (self->conn [db], AUDIT_STORE_MIGRATION_WAIT_MS);
    int rc = audit_schema_migrate (self->db [db], db, self->mode != AUDIT_STORE_READER);
    audit_conn_busy_limit (self->conn [db], AUDIT_STORE_BUSY_TIMEOUT_MS);
    if (rc != 0)
        return -1;
    //  After the migration, which may copy every row: until here SQLite's
    //  automatic checkpoint keeps its WAL small
    if (self->mode == AUDIT_STORE_WRITER)
        audit_conn_wal_watch (self->conn [db]);
    return 0;
}

static int
s_prepare (audit_store_t *self)
{
    for (int query = 0; query < Q_COUNT; query++) {
        if (self->mode == AUDIT_STORE_READER && query != Q_COUNTER_SELECT)
            continue;
        sqlite3 *conn = self->db [s_queries [query].db];
        if (sqlite3_prepare_v2 (conn, s_queries [query].sql, -1,
                                &self->query [query], NULL) != SQLITE_OK) {
            audit_log_error ("msg=\"cannot prepare statement\" file=%s reason=\"%s\"",
                             audit_schema_file (s_queries [query].db), sqlite3_errmsg (conn));
            return -1;
        }
    }
    return 0;
}

//  The rows of each open family: the names from its prefix up to the
//  prefix with its final '.' raised to the next character
static int
s_count_family_rows (audit_store_t *self)
{
    sqlite3_stmt *stmt = self->query [Q_COUNTER_ROWS];
    for (int family = 0; family < AUDIT_COUNTERS_FAMILIES; family++) {
        char low [64], high [64];
        snprintf (low, sizeof low, "%s", audit_counters_family_prefix (family));
        snprintf (high, sizeof high, "%s", low);
        high [strlen (high) - 1]++;
        sqlite3_bind_text (stmt, 1, low, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (stmt, 2, high, -1, SQLITE_TRANSIENT);
        if (audit_stmts_int (stmt, &self->family_rows [family]) != 0)
            return -1;
    }
    return 0;
}

audit_store_t *
audit_store_new (const char *data_dir, audit_store_mode_t mode)
{
    assert (data_dir);
    if (s_dir_prepare (data_dir, mode) != 0)
        return NULL;
    audit_store_t *self = (audit_store_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->mode = mode;
    bool ok = true;
    for (int db = 0; ok && db < AUDIT_DB_COUNT; db++)
        ok = s_open_db (self, data_dir, (audit_db_t) db) == 0;
    ok = ok && s_prepare (self) == 0;
    if (ok && mode != AUDIT_STORE_READER)
        ok = (self->intern = audit_intern_new (self->db [AUDIT_DB_AUDIT])) != NULL
          && (self->orglog = audit_orglog_new (self->db [AUDIT_DB_AUDIT])) != NULL;
    if (ok && mode != AUDIT_STORE_READER)
        ok = s_count_family_rows (self) == 0;
    if (!ok)
        audit_store_destroy (&self);
    return self;
}

void
audit_store_destroy (audit_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_store_t *self = *self_p;
    audit_intern_destroy (&self->intern);
    audit_orglog_destroy (&self->orglog);
    for (int query = 0; query < Q_COUNT; query++)
        sqlite3_finalize (self->query [query]);
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        audit_stmts_destroy (&self->stmts [db]);
        audit_conn_destroy (&self->conn [db]);
    }
    free (self);
    *self_p = NULL;
}

//  --------------------------------------------------------------------------
//  Writing records

//  Binds a resource field: an interned id, a number, or NULL when absent
static int
s_bind_field (audit_store_t *self, sqlite3_stmt *stmt, const audit_event_t *event,
              audit_field_t field)
{
    int param = s_EVENT_FIELD_PARAM + (int) field;
    if (!(event->present & AUDIT_FIELD_BIT (field)))
        return sqlite3_bind_null (stmt, param) == SQLITE_OK? 0: -1;
    audit_field_stored_t stored = audit_proto_field_info (field)->stored;
    if (stored == AUDIT_STORED_NUMBER)
        return sqlite3_bind_int64 (stmt, param, (int64_t) event->number [field])
               == SQLITE_OK? 0: -1;
    if (stored == AUDIT_STORED_TEXT)
        return sqlite3_bind_text (stmt, param, event->text [field], -1, SQLITE_STATIC)
               == SQLITE_OK? 0: -1;
    int64_t id;
    if (audit_intern_id (self->intern, AUDIT_INTERN_IDENT, event->text [field], &id) != 0)
        return -1;
    return sqlite3_bind_int64 (stmt, param, id) == SQLITE_OK? 0: -1;
}

//  1 when the organisation already holds this event_id at this timestamp
//  (a retransmission), 0 when not, -1 on error
static int
s_event_seen (audit_store_t *self, int64_t org, const audit_event_t *event)
{
    sqlite3_stmt *stmt = self->query [Q_EVENT_SEEN];
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, event->timestamp_ms);
    sqlite3_bind_blob (stmt, 3, event->event_id, AUDIT_UUID_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 1: rc == SQLITE_DONE? 0: -1;
}

//  The duplicate check first: a duplicate costs no interning but its org's
static int
s_event_insert (audit_store_t *self, const audit_event_t *event, int64_t received_ms,
                audit_store_outcome_t *outcome)
{
    int64_t org, actor;
    if (audit_intern_id (self->intern, AUDIT_INTERN_ORG, event->org_id, &org) != 0)
        return -1;
    int seen = s_event_seen (self, org, event);
    if (seen != 0) {
        *outcome = AUDIT_STORE_DUPLICATE;
        return seen < 0? -1: 0;
    }
    uint64_t log_index;
    if (audit_intern_id (self->intern, AUDIT_INTERN_IDENT, event->actor_id, &actor) != 0
    ||  audit_orglog_take (self->orglog, org, &log_index) != 0)
        return -1;
    sqlite3_stmt *stmt = self->query [Q_EVENT_INSERT];
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, event->timestamp_ms);
    sqlite3_bind_int64 (stmt, 3, (int64_t) log_index);
    sqlite3_bind_int64 (stmt, 4, received_ms);
    sqlite3_bind_int (stmt, 5, (int) event->type);
    sqlite3_bind_int64 (stmt, 6, actor);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (s_bind_field (self, stmt, event, (audit_field_t) field) != 0)
            return -1;
    sqlite3_bind_blob (stmt, s_EVENT_UUID_PARAM, event->event_id, AUDIT_UUID_SIZE,
                       SQLITE_STATIC);
    if (s_run (stmt) != 0)
        return -1;
    *outcome = AUDIT_STORE_STORED;
    return 0;
}

static int
s_ops_insert (audit_store_t *self, const audit_ops_t *ops, int64_t received_ms)
{
    sqlite3_stmt *stmt = self->query [Q_OPS_INSERT];
    sqlite3_bind_int64 (stmt, 1, ops->timestamp_ms);
    sqlite3_bind_int64 (stmt, 2, received_ms);
    sqlite3_bind_text (stmt, 3, ops->client_ip, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, ops->method, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, ops->path, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 6, ops->status);
    return s_run (stmt);
}

static int
s_message_insert (audit_store_t *self, const audit_mq_t *mq, int64_t received_ms,
                  audit_store_outcome_t *outcome)
{
    sqlite3_stmt *stmt = self->query [Q_MESSAGE_INSERT];
    sqlite3_bind_blob (stmt, 1, mq->message_id, AUDIT_UUID_SIZE, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, mq->org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, mq->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, mq->timestamp_ms);
    sqlite3_bind_int64 (stmt, 5, received_ms);
    sqlite3_bind_blob64 (stmt, 6, mq->payload, mq->payload_size, SQLITE_STATIC);
    if (s_run (stmt) != 0)
        return -1;
    *outcome = sqlite3_changes (self->db [AUDIT_DB_QUEUE])? AUDIT_STORE_STORED
                                                          : AUDIT_STORE_DUPLICATE;
    return 0;
}

static int
s_record_insert (audit_store_t *self, const audit_record_t *record,
                 audit_store_outcome_t *outcome)
{
    *outcome = AUDIT_STORE_STORED;
    switch (record->kind) {
        case AUDIT_TOPIC_KIND_AUDIT:
            return s_event_insert (self, &record->u.event, record->received_ms, outcome);
        case AUDIT_TOPIC_KIND_OPS:
            return s_ops_insert (self, &record->u.ops, record->received_ms);
        case AUDIT_TOPIC_KIND_MQ:
            return s_message_insert (self, &record->u.mq, record->received_ms, outcome);
        default:
            return -1;
    }
}

//  --------------------------------------------------------------------------
//  Counters

typedef struct {
    audit_store_t *self;
    int rc;
} s_counter_pass_t;

//  Add one delta: to its row, or to a new row while the table has room,
//  else to the row of its folded name
static void
s_counter_add (const char *name, int64_t delta, void *arg)
{
    s_counter_pass_t *pass = (s_counter_pass_t *) arg;
    audit_store_t *self = pass->self;
    if (pass->rc != 0 || delta <= 0)
        return;
    char current [AUDIT_COUNTER_NAME_MAX + 1];
    snprintf (current, sizeof current, "%s", name);
    int family = audit_counters_family (current);
    sqlite3_stmt *update = self->query [Q_COUNTER_UPDATE];
    while (true) {
        sqlite3_bind_text (update, 1, current, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64 (update, 2, delta);
        if (s_run (update) != 0) {
            pass->rc = -1;
            return;
        }
        if (sqlite3_changes (self->db [AUDIT_DB_AUDIT]) > 0)
            return;
        char folded [AUDIT_COUNTER_NAME_MAX + 1];
        if (family < 0 || self->family_rows [family] < s_COUNTER_FAMILY_ROWS_MAX
        ||  audit_counters_fold (current, folded) != 0)
            break;                      //  room, or the family's own "(other)"
        strcpy (current, folded);
    }
    sqlite3_stmt *upsert = self->query [Q_COUNTER_UPSERT];
    sqlite3_bind_text (upsert, 1, current, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (upsert, 2, delta);
    pass->rc = s_run (upsert);
    if (family >= 0)
        self->family_rows [family]++;
}

static int
s_counters_write (audit_store_t *self, audit_counters_t *counters)
{
    s_counter_pass_t pass = { self, 0 };
    audit_counters_each (counters, s_counter_add, &pass);
    return pass.rc;
}

int
audit_store_counters_read (audit_store_t *self, audit_counters_fn *fn, void *arg)
{
    assert (self);
    sqlite3_stmt *stmt = self->query [Q_COUNTER_SELECT];
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        fn ((const char *) sqlite3_column_text (stmt, 0),
            sqlite3_column_int64 (stmt, 1), arg);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  --------------------------------------------------------------------------
//  Transactions

//  Starts the write transaction of a store. In audit.db it also reads the
//  intern generation under the write lock: a process that deleted ident or
//  org rows bumped it, and then no cached id can be trusted.
static int
s_begin (audit_store_t *self, audit_db_t db)
{
    if (s_run (self->query [Q_BEGIN + db]) != 0)
        return -1;
    if (db != AUDIT_DB_AUDIT)
        return 0;
    return audit_intern_begin (self->intern);
}

//  Rolls back; ids interned in the transaction are gone with it, so the
//  caches that may hold them go too
static void
s_rollback (audit_store_t *self, audit_db_t db)
{
    if (!sqlite3_get_autocommit (self->db [db]))
        s_run (self->query [Q_ROLLBACK + db]);
    if (db == AUDIT_DB_AUDIT) {
        audit_intern_forget (self->intern);
        audit_orglog_forget (self->orglog);
    }
}

//  Commits (rc 0) or rolls back every touched store. A commit can still
//  fail after an earlier store committed (disk full); *audit_committed
//  then tells whether the counters went in.
static int
s_transaction_end (audit_store_t *self, const bool *touched, int rc,
                   bool *audit_committed)
{
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        if (!touched [db])
            continue;
        if (rc == 0 && db == AUDIT_DB_AUDIT && audit_orglog_flush (self->orglog) != 0)
            rc = -1;
        if (rc == 0 && s_run (self->query [Q_COMMIT + db]) == 0) {
            *audit_committed |= db == AUDIT_DB_AUDIT;
            audit_conn_checkpoint_maybe (self->conn [db]);
        }
        else {
            if (rc == 0)
                audit_log_error ("msg=\"commit failed\" file=%s reason=\"%s\"",
                                 audit_schema_file (db), sqlite3_errmsg (self->db [db]));
            s_rollback (self, (audit_db_t) db);
            rc = -1;
        }
    }
    return rc;
}

//  Opens the transaction of every touched store, in a fixed order, so that
//  two writers cannot wait on each other's locks
static int
s_transaction_begin (audit_store_t *self, const bool *touched)
{
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        if (touched [db] && s_begin (self, (audit_db_t) db) != 0) {
            audit_log_error ("msg=\"cannot begin transaction\" file=%s reason=\"%s\"",
                             audit_schema_file (db), sqlite3_errmsg (self->db [db]));
            return -1;
        }
    return 0;
}

int
audit_store_write (audit_store_t *self, const audit_record_t *records,
                   size_t count, audit_store_outcome_t *outcomes,
                   audit_counters_t *counters)
{
    assert (self);
    assert (self->mode != AUDIT_STORE_READER);
    bool touched [AUDIT_DB_COUNT] = { false };
    for (size_t index = 0; index < count; index++)
        if (records [index].kind < AUDIT_TOPIC_KIND_UNKNOWN)
            touched [s_kind_db [records [index].kind]] = true;
    bool with_counters = counters && audit_counters_size (counters) > 0;
    touched [AUDIT_DB_AUDIT] |= with_counters;
    int rc = s_transaction_begin (self, touched);
    audit_db_t failed = AUDIT_DB_AUDIT;
    for (size_t index = 0; rc == 0 && index < count; index++) {
        rc = s_record_insert (self, &records [index], &outcomes [index]);
        if (rc != 0 && records [index].kind < AUDIT_TOPIC_KIND_UNKNOWN)
            failed = s_kind_db [records [index].kind];
    }
    if (rc == 0 && with_counters)
        rc = s_counters_write (self, counters);
    if (rc != 0)
        audit_log_error ("msg=\"write failed\" file=%s reason=\"%s\"",
                         audit_schema_file (failed), sqlite3_errmsg (self->db [failed]));
    bool audit_committed = false;
    rc = s_transaction_end (self, touched, rc, &audit_committed);
    if (audit_committed && with_counters)
        audit_counters_clear (counters);
    return rc;
}

int
audit_store_counters_flush (audit_store_t *self, audit_counters_t *counters)
{
    return audit_store_write (self, NULL, 0, NULL, counters);
}

sqlite3 *
audit_store_db (audit_store_t *self, audit_db_t db)
{
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return self->db [db];
}

audit_stmts_t *
audit_store_stmts (audit_store_t *self, audit_db_t db)
{
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return self->stmts [db];
}

int
audit_store_checkpoint (audit_store_t *self, audit_db_t db)
{
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return audit_conn_checkpoint (self->conn [db]);
}

void
audit_store_busy_limit (audit_store_t *self, audit_db_t db, int limit_ms)
{
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    audit_conn_busy_limit (self->conn [db], limit_ms);
}

int64_t
audit_store_lock_waited_us (audit_store_t *self)
{
    assert (self);
    int64_t waited = 0;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        waited += audit_conn_lock_waited_us (self->conn [db]);
    return waited;
}

int64_t
audit_store_checkpoint_waited_us (audit_store_t *self)
{
    assert (self);
    int64_t waited = 0;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        waited += audit_conn_checkpoint_waited_us (self->conn [db]);
    return waited;
}

void
audit_store_wal_watch (audit_store_t *self, audit_db_t db)
{
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    audit_conn_wal_watch (self->conn [db]);
}

int
audit_store_wal_pages (audit_store_t *self, audit_db_t db)
{
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return audit_conn_wal_pages (self->conn [db]);
}

int
audit_store_retention_set (audit_store_t *self, const char *org_id, uint32_t days,
                           const audit_record_t *event)
{
    assert (self);
    assert (self->mode != AUDIT_STORE_READER);
    bool touched [AUDIT_DB_COUNT] = { [AUDIT_DB_AUDIT] = true };
    audit_store_outcome_t outcome;
    int rc = s_transaction_begin (self, touched);
    //  The event first: inserting it interns the organisation's row
    if (rc == 0)
        rc = s_record_insert (self, event, &outcome);
    if (rc == 0) {
        sqlite3_stmt *stmt = self->query [Q_ORG_RETENTION];
        sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 2, days);
        rc = s_run (stmt) == 0 && sqlite3_changes (self->db [AUDIT_DB_AUDIT]) == 1? 0: -1;
    }
    bool committed = false;
    return s_transaction_end (self, touched, rc, &committed);
}
