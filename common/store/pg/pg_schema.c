/*  =========================================================================
    pg_schema - the PostgreSQL store's tables, and their migrations (see
    pg_schema.h)
    ========================================================================= */

#include "pg_schema.h"
#include "audit_log.h"
#include "audit_proto.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  What every step stands on: the schemas and the table of the version
#define s_BOOTSTRAP \
    "CREATE SCHEMA IF NOT EXISTS audit; CREATE SCHEMA IF NOT EXISTS ops;" \
    " CREATE SCHEMA IF NOT EXISTS queue;" \
    " CREATE TABLE IF NOT EXISTS audit.meta (key text PRIMARY KEY, value bigint NOT NULL)"

//  Step 1's audit.event, its resource columns made from audit_fields.def
//  (an identifier as its text, a number as bigint): a new field is a row
//  there and a step here adding its column
static char s_event_table [2048];

__attribute__ ((constructor)) static void
s_event_table_build (void)
{
    char columns [1024] = "";
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        size_t at = strlen (columns);
        //  Quoted: a column may be a reserved word of PostgreSQL ("user")
        snprintf (columns + at, sizeof columns - at, " \"%s\" %s,", info->column,
                  info->stored == AUDIT_STORED_NUMBER? "bigint": "text");
    }
    snprintf (s_event_table, sizeof s_event_table,
              "CREATE TABLE audit.event (org_id text NOT NULL, ts bigint NOT NULL,"
              " log_index bigint NOT NULL, received bigint NOT NULL, type smallint NOT NULL,"
              " actor text NOT NULL,%s event_id uuid NOT NULL,"
              " PRIMARY KEY (org_id, ts, log_index)) PARTITION BY RANGE (ts)", columns);
}

//  The steps; NULL entries are filled at start (s_event_table)
static const char *s_steps [] = {
    //  1: the first layout, contract revision 2 (see pg_schema.h).
    //  event's primary key keeps an organisation's rows together in page
    //  order and finds a duplicate (org_id, ts, then event_id among the
    //  rows of that millisecond); event_log serves tail's log order and
    //  the walks of the log. org's seq is the order organisations were
    //  first seen, that of the walks over them (as SQLite's row id), and
    //  the row id the janitor names an organisation by (unique: its
    //  purge looks an organisation up by it, once a batch).
    //  log_node holds every complete subtree of each organisation's tree,
    //  the leaves (level 0) too: retention deletes events, never nodes, so
    //  proofs and roots never change.
    "CREATE TABLE audit.org (org_id text PRIMARY KEY,"
    "  retention_days integer NOT NULL DEFAULT 365 CHECK (retention_days BETWEEN 1 AND 365),"
    "  next_index bigint NOT NULL DEFAULT 0, seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE);"
    "%EVENT%;"
    "CREATE INDEX event_log ON audit.event (org_id, log_index);"
    "CREATE TABLE audit.log_node (org_id text NOT NULL, level smallint NOT NULL,"
    "  idx bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (org_id, level, idx));"
    "CREATE TABLE audit.checkpoint (org_id text NOT NULL, size bigint NOT NULL,"
    "  root bytea NOT NULL, note text NOT NULL, signed bigint NOT NULL,"
    "  PRIMARY KEY (org_id, size));"
    "CREATE TABLE audit.counter (name text PRIMARY KEY, value bigint NOT NULL);"
    "CREATE TABLE audit.producer (name text PRIMARY KEY, acked_seq bigint NOT NULL,"
    "  last_seq bigint NOT NULL, runs bigint NOT NULL, gaps bigint NOT NULL,"
    "  last_seen bigint NOT NULL, run_first text NOT NULL DEFAULT '');"
    "CREATE TABLE audit.producer_rejected (producer text NOT NULL, reason text NOT NULL,"
    "  count bigint NOT NULL, PRIMARY KEY (producer, reason));"
    "CREATE TABLE ops.request (id bigserial PRIMARY KEY, ts bigint NOT NULL,"
    "  received bigint NOT NULL, client_ip text NOT NULL, method text NOT NULL,"
    "  path text NOT NULL, status integer NOT NULL);"
    "CREATE INDEX request_ts ON ops.request (ts);"
    "CREATE TABLE queue.message (org_id text NOT NULL, device_id text NOT NULL,"
    "  message_id uuid NOT NULL, ts bigint NOT NULL, received bigint NOT NULL,"
    "  payload bytea NOT NULL, arrival bigserial, PRIMARY KEY (org_id, message_id));"
    "CREATE INDEX message_device ON queue.message (org_id, device_id, ts, arrival);"
    "CREATE INDEX message_received ON queue.message (received);"
    "INSERT INTO audit.meta (key, value) VALUES ('created_at',"
    "  (extract (epoch FROM now ()) * 1000)::bigint)",
    //  2: an event missing from audit.event is told apart from one that
    //  retention deleted (auditctl verify --db): a leaf keeps its event's
    //  ts (NULL for a node above it, and for a leaf moved in by auditctl
    //  migrate after retention deleted its event), and an organisation
    //  the cut below which the janitor has deleted its events
    //  (purged_before, never lowered): an event is retention's to delete
    //  when its ts is below that
    "ALTER TABLE audit.log_node ADD COLUMN ts bigint;"
    "ALTER TABLE audit.org ADD COLUMN purged_before bigint NOT NULL"
    "  DEFAULT -9223372036854775808"
};

#define s_STEP_COUNT ((int) (sizeof s_steps / sizeof *s_steps))

int
pg_schema_version (void)
{
    return s_STEP_COUNT;
}

//  The version of the database: 0 when it has none yet, -1 on failure
static int64_t
s_version_read (pg_conn_t *conn)
{
    static const pg_stmt_t stmt = { "schema_version",
        "SELECT coalesce ((SELECT value FROM audit.meta WHERE key = 'schema_version'), 0)" };
    PGresult *result = pg_conn_run (conn, &stmt, 0, NULL);
    if (!result)
        return -1;
    int64_t version = PQntuples (result) == 1? pg_conn_int (result, 0, 0): -1;
    PQclear (result);
    return version;
}

//  Step index's SQL, with step 1's event table put in
static int
s_step_run (pg_conn_t *conn, int index)
{
    const char *step = s_steps [index];
    const char *mark = strstr (step, "%EVENT%");
    if (!mark)
        return pg_conn_exec (conn, step);
    size_t size = strlen (step) + strlen (s_event_table) + 1;
    char *sql = (char *) malloc (size);
    if (!sql)
        return -1;
    snprintf (sql, size, "%.*s%s%s", (int) (mark - step), step, s_event_table, mark + 7);
    int rc = pg_conn_exec (conn, sql);
    free (sql);
    return rc;
}

//  One step in one transaction, under the migration lock; the version is
//  read again under it, so that a step another worker just ran is not run
//  twice. 0 ran or already run, -1 failed.
static int
s_step (pg_conn_t *conn, int index)
{
    static const pg_stmt_t bump = { "schema_bump",
        "INSERT INTO audit.meta (key, value) VALUES ('schema_version', $1::bigint)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value" };
    char lock [96];
    snprintf (lock, sizeof lock, "BEGIN; SELECT pg_advisory_xact_lock (%d)",
              PG_SCHEMA_LOCK_MIGRATE);
    if (pg_conn_exec (conn, lock) != 0)
        return -1;
    int64_t version = s_version_read (conn);
    int rc = version < 0? -1: 0;
    if (rc == 0 && version == index) {
        char next [24];
        snprintf (next, sizeof next, "%d", index + 1);
        const char *values [] = { next };
        rc = s_step_run (conn, index) == 0 && pg_conn_do (conn, &bump, 1, values, NULL) == 0
           ? 0: -1;
        //  Step 1 makes the store: said as the SQLite engine says it, the
        //  sign of a store where one was expected (a wrong URL)
        if (rc == 0 && index == 0)
            audit_log_info ("msg=\"store created\" engine=postgresql version=1");
        else
        if (rc == 0)
            audit_log_info ("msg=migrated engine=postgresql version=%d", index + 1);
    }
    if (rc == 0)
        rc = pg_conn_commit (conn);
    if (rc != 0)
        pg_conn_rollback (conn);
    return rc;
}

int
pg_schema_migrate (pg_conn_t *conn, audit_store_mode_t mode)
{
    assert (conn);
    if (mode != AUDIT_STORE_READER) {
        //  Two workers' CREATE SCHEMA IF NOT EXISTS can still race: the
        //  same lock as the steps
        char bootstrap [512];
        snprintf (bootstrap, sizeof bootstrap,
                  "BEGIN; SELECT pg_advisory_xact_lock (%d); %s; COMMIT",
                  PG_SCHEMA_LOCK_MIGRATE, s_BOOTSTRAP);
        if (pg_conn_exec (conn, bootstrap) != 0) {
            pg_conn_rollback (conn);
            return -1;
        }
    }
    int64_t version = mode == AUDIT_STORE_READER && pg_schema_exists (conn) != 1
                    ? -1: s_version_read (conn);
    for (int64_t index = version; mode != AUDIT_STORE_READER && index >= 0
                                  && index < s_STEP_COUNT; index++)
        if (s_step (conn, (int) index) != 0)
            return -1;
    if (mode != AUDIT_STORE_READER)
        version = s_version_read (conn);
    if (version != s_STEP_COUNT) {
        audit_log_error ("msg=\"cannot open store\" engine=postgresql reason=\"schema version"
                         " %" PRId64 ", this build reads %d\"", version, s_STEP_COUNT);
        return -1;
    }
    return 0;
}

int
pg_schema_exists (pg_conn_t *conn)
{
    static const pg_stmt_t stmt = { "schema_exists",
        "SELECT to_regclass ('audit.meta') IS NOT NULL AND to_regclass ('audit.event') IS NOT NULL" };
    PGresult *result = pg_conn_run (conn, &stmt, 0, NULL);
    if (!result)
        return -1;
    int rc = PQntuples (result) == 1 && strcmp (PQgetvalue (result, 0, 0), "t") == 0;
    PQclear (result);
    return rc;
}

int64_t
pg_schema_month (int64_t ts_ms)
{
    time_t seconds = (time_t) (ts_ms >= 0? ts_ms / 1000: (ts_ms - 999) / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    return (int64_t) (tm.tm_year - 70) * 12 + tm.tm_mon;
}

int64_t
pg_schema_month_start (int64_t month)
{
    struct tm tm = { 0 };
    tm.tm_year = (int) (month / 12) + 70;
    tm.tm_mon = (int) (month % 12);
    tm.tm_mday = 1;
    return (int64_t) timegm (&tm) * 1000;
}

static bool
s_month_known (const pg_schema_months_t *known, int64_t month)
{
    for (int index = 0; index < known->count; index++)
        if (known->months [index] == month)
            return true;
    return false;
}

int
pg_schema_partition (pg_conn_t *conn, int64_t ts_ms, pg_schema_months_t *known)
{
    assert (conn && known);
    int64_t month = pg_schema_month (ts_ms);
    if (s_month_known (known, month))
        return 0;
    char sql [512];
    snprintf (sql, sizeof sql,
              "BEGIN; SELECT pg_advisory_xact_lock (%d);"
              " CREATE TABLE IF NOT EXISTS audit.event_m%04" PRId64 "_%02" PRId64
              " PARTITION OF audit.event FOR VALUES FROM (%" PRId64 ") TO (%" PRId64 ");"
              " COMMIT", PG_SCHEMA_LOCK_PARTITION, 1970 + month / 12, month % 12 + 1,
              pg_schema_month_start (month), pg_schema_month_start (month + 1));
    if (pg_conn_exec (conn, sql) != 0) {
        pg_conn_rollback (conn);
        return -1;
    }
    if (known->count == (int) (sizeof known->months / sizeof *known->months))
        known->count = 0;               //  start over: each is made at most once more
    known->months [known->count++] = month;
    return 0;
}
