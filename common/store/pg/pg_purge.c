/*  =========================================================================
    pg_purge - the retention deletes of the PostgreSQL store (the same as
    the SQLite engine's sqlite_purge.c), and the drop of whole months

    An organisation is named to the janitor by its row id (audit.org.seq,
    an identity column: the janitor's round resumes from one), its
    events by their key (org_id, ts, log_index), the primary key of every
    month's partition. A batch finds the key of its last row with one
    probe along that key, then deletes everything up to it in one range,
    as the SQLite engine does. Nothing is saved first: audit.log_node
    keeps every leaf hash and every complete subtree, and retention never
    deletes a node, so the proofs and roots of the events kept stand.

    Whole months (the partitions audit.event_mYYYY_MM, pg_schema) are
    dropped at the end of each pass, in pg_purge_last_pass: that is the
    one call that carries the janitor's clock for every organisation at
    once (a cut is one organisation's), and it runs outside the batches'
    transactions, so a drop is a short transaction of its own. A month
    goes once its upper bound is at or before

        min (janitor's clock, server's clock)
            - max (the longest retention of any organisation, the ingest
                   window AUDIT_PAST_MAX_MS) - PG_PURGE_DROP_MARGIN_MS

    that is, once no row of it is within any organisation's retention
    and no event ingest accepts can fall in it again (ingest refuses a
    timestamp more than 12 months old, and every retention is at most
    12 months): so a writer's cache of the months it made can never name
    a dropped one, and the rows counted before the drop are all it held.
    The server's clock bounds a janitor whose clock runs ahead (a test's
    libfaketime, a bad host clock): it never drops a month ingest could
    still write. The per-organisation deletes stay what enforces each
    organisation's retention; by the time a month is dropped they have
    usually emptied it, so the drop gives its files back and keeps the
    list of partitions short, and after a backlog (a janitor that did not
    run for months) it takes what is left of a month in one statement.

    DROP TABLE of a partition locks audit.event itself (ACCESS EXCLUSIVE)
    for a moment, so it waits at most PG_PURGE_DROP_LOCK_MS for that lock
    (behind a long export page, say) rather than queue every writer and
    reader behind it; a month not dropped is tried again at the next pass.
    Its rows are counted into janitor.deleted.audit in the same
    transaction, so stats count them once, exactly.
    ========================================================================= */

#include "pg_core.h"
#include "audit_counters.h"
#include "audit_log.h"
#include "audit_proto.h"
#include "audit_time.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

//  How long a drop waits for the lock on audit.event, at most
#define PG_PURGE_DROP_LOCK_MS       50
//  Clocks of different hosts disagree: a month is dropped this much
//  later than the rule alone says
#define PG_PURGE_DROP_MARGIN_MS     AUDIT_MS_PER_DAY
//  Months dropped by one call at most (each one counts its rows first)
#define PG_PURGE_DROPS_MAX          4

//  From where the last pass stopped ($1) to the end, then from the start
static const pg_stmt_t s_orgs = { "purge_orgs",
    "SELECT seq, retention_days FROM audit.org ORDER BY seq < $1::bigint, seq" };

//  The key of the batch's last row, and whether one more follows: a walk
//  along each month's primary key, the months in order (the partitions
//  are by ts, the first column of the order)
static const pg_stmt_t s_probe = { "purge_probe",
    "SELECT ts, log_index FROM audit.event"
    " WHERE org_id = (SELECT org_id FROM audit.org WHERE seq = $1::bigint) AND ts < $2::bigint"
    " ORDER BY ts, log_index LIMIT 2 OFFSET $3::bigint" };

//  Everything up to that key (ts <= $2 too, so that later months are not
//  even opened)
static const pg_stmt_t s_range = { "purge_range",
    "DELETE FROM audit.event"
    " WHERE org_id = (SELECT org_id FROM audit.org WHERE seq = $1::bigint)"
    " AND ts <= $2::bigint AND (ts, log_index) <= ($2::bigint, $3::bigint)" };

//  The cut below which the organisation's events are retention's to
//  delete, raised before they go (pg_schema step 2; auditctl verify --db
//  tells an event deleted by hand from one retention deleted by it)
static const pg_stmt_t s_watermark = { "purge_watermark",
    "UPDATE audit.org SET purged_before = greatest (purged_before, $2::bigint)"
    " WHERE seq = $1::bigint" };

static const pg_stmt_t s_all = { "purge_all",
    "DELETE FROM audit.event"
    " WHERE org_id = (SELECT org_id FROM audit.org WHERE seq = $1::bigint) AND ts < $2::bigint" };

static const pg_stmt_t s_ops = { "purge_ops",
    "DELETE FROM ops.request WHERE id IN (SELECT id FROM ops.request"
    " WHERE ts < $1::bigint ORDER BY ts LIMIT $2::bigint)" };

static const pg_stmt_t s_queue = { "purge_queue",
    "DELETE FROM queue.message WHERE (org_id, message_id) IN (SELECT org_id, message_id"
    " FROM queue.message WHERE received < $1::bigint ORDER BY received LIMIT $2::bigint)" };

static const pg_stmt_t s_last_pass = { "purge_last_pass",
    "INSERT INTO audit.meta (key, value) VALUES ('janitor_last_pass', $1::bigint)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value" };

//  The months of audit.event, the longest retention ($1 when there is no
//  organisation) and the server's clock, in one look
static const pg_stmt_t s_months = { "purge_months",
    "SELECT c.relname::text,"
    " (SELECT coalesce (max (retention_days), $1::integer) FROM audit.org)::bigint,"
    " (extract (epoch FROM clock_timestamp ()) * 1000)::bigint"
    " FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid"
    " WHERE i.inhparent = 'audit.event'::regclass ORDER BY 1" };

//  A month's rows, through the parent (the bounds prune it to the one)
static const pg_stmt_t s_month_rows = { "purge_month_rows",
    "SELECT count(*) FROM audit.event WHERE ts >= $1::bigint AND ts < $2::bigint" };

static const pg_stmt_t s_counted = { "purge_counted",
    "INSERT INTO audit.counter (name, value) VALUES ($1, $2::bigint)"
    " ON CONFLICT (name) DO UPDATE SET value = CASE"
    " WHEN audit.counter.value > 9223372036854775807 - excluded.value"
    " THEN 9223372036854775807 ELSE audit.counter.value + excluded.value END" };

//  --------------------------------------------------------------------------
//  The organisations, their events, ops records, queued messages

int
pg_purge_orgs (audit_store_t *store, int64_t first_org, audit_store_org_fn *fn, void *arg)
{
    assert (store && fn);
    char first [24];
    snprintf (first, sizeof first, "%" PRId64, first_org);
    const char *values [] = { first };
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_orgs, 1, values);
    if (!result)
        return -1;
    int stopped = 0;
    for (int row = 0; !stopped && row < PQntuples (result); row++)
        stopped = fn (pg_conn_int (result, row, 0), pg_conn_int (result, row, 1), arg);
    PQclear (result);
    return stopped? -1: 0;
}

//  The (ts, log_index) of org's expired event number max_rows (counted
//  from 1), in *ts and *index: 0 found (*more: another follows), 1 when
//  org has fewer expired events, -1 on error
static int
s_probe_run (pg_conn_t *conn, const char *org, const char *cut, int64_t max_rows,
             int64_t *ts, int64_t *index, bool *more)
{
    char offset [24];
    snprintf (offset, sizeof offset, "%" PRId64, max_rows - 1);
    const char *values [] = { org, cut, offset };
    PGresult *result = pg_conn_run (conn, &s_probe, 3, values);
    if (!result)
        return -1;
    int rows = PQntuples (result);
    if (rows > 0) {
        *ts = pg_conn_int (result, 0, 0);
        *index = pg_conn_int (result, 0, 1);
        *more = rows > 1;
    }
    PQclear (result);
    return rows > 0? 0: 1;
}

int
pg_purge_events (audit_store_t *store, int64_t org, int64_t cut_ms, int64_t max_rows,
                 int64_t *deleted, bool *more)
{
    assert (store && deleted && more);
    *deleted = 0;
    *more = false;
    if (max_rows < 1)
        return 0;
    pg_conn_t *conn = pg_core_self (store)->conn;
    char org_text [24], cut [24];
    snprintf (org_text, sizeof org_text, "%" PRId64, org);
    snprintf (cut, sizeof cut, "%" PRId64, cut_ms);
    const char *mark [] = { org_text, cut };
    if (pg_conn_do (conn, &s_watermark, 2, mark, NULL) != 0)
        return -1;
    int64_t ts = 0, index = 0;
    int rc = s_probe_run (conn, org_text, cut, max_rows, &ts, &index, more);
    if (rc < 0)
        return -1;
    if (rc == 1) {                      //  all of them fit
        const char *values [] = { org_text, cut };
        return pg_conn_do (conn, &s_all, 2, values, deleted);
    }
    char ts_text [24], index_text [24];
    snprintf (ts_text, sizeof ts_text, "%" PRId64, ts);
    snprintf (index_text, sizeof index_text, "%" PRId64, index);
    const char *values [] = { org_text, ts_text, index_text };
    return pg_conn_do (conn, &s_range, 3, values, deleted);
}

static int
s_simple (audit_store_t *store, const pg_stmt_t *stmt, int64_t cut_ms, int64_t max_rows,
          int64_t *deleted, bool *more)
{
    assert (store && deleted && more);
    *deleted = 0;
    *more = false;
    char cut [24], limit [24];
    snprintf (cut, sizeof cut, "%" PRId64, cut_ms);
    snprintf (limit, sizeof limit, "%" PRId64, max_rows);
    const char *values [] = { cut, limit };
    int rc = pg_conn_do (pg_core_self (store)->conn, stmt, 2, values, deleted);
    *more = rc == 0 && *deleted >= max_rows;
    return rc;
}

int
pg_purge_ops (audit_store_t *store, int64_t cut_ms, int64_t max_rows, int64_t *deleted,
              bool *more)
{
    return s_simple (store, &s_ops, cut_ms, max_rows, deleted, more);
}

int
pg_purge_queue (audit_store_t *store, int64_t cut_ms, int64_t max_rows, int64_t *deleted,
                bool *more)
{
    return s_simple (store, &s_queue, cut_ms, max_rows, deleted, more);
}

//  --------------------------------------------------------------------------
//  Whole months

//  The month (since 1970-01) a partition's name says, or -1 for a name
//  pg_schema_partition does not make (an operator's own table is left be)
static int64_t
s_month_of (const char *name)
{
    int year = 0, month = 0, end = 0;
    if (sscanf (name, "event_m%4d_%2d%n", &year, &month, &end) != 2
    ||  name [end] != '\0' || year < 1970 || month < 1 || month > 12)
        return -1;
    char again [32];
    snprintf (again, sizeof again, "event_m%04d_%02d", year, month);
    return strcmp (again, name) == 0? (int64_t) (year - 1970) * 12 + month - 1: -1;
}

//  One month in one short transaction: its rows counted (no lock but
//  readers'), then dropped, then counted in stats. 0 dropped, -1 not
//  (logged; tried again at the next pass).
static int
s_month_drop (pg_conn_t *conn, const char *name, int64_t month)
{
    char sql [160], from [24], to [24];
    snprintf (from, sizeof from, "%" PRId64, pg_schema_month_start (month));
    snprintf (to, sizeof to, "%" PRId64, pg_schema_month_start (month + 1));
    snprintf (sql, sizeof sql, "BEGIN; SET LOCAL lock_timeout = %d", PG_PURGE_DROP_LOCK_MS);
    int rc = pg_conn_exec (conn, sql);
    const char *bounds [] = { from, to };
    PGresult *result = rc == 0? pg_conn_run (conn, &s_month_rows, 2, bounds): NULL;
    int64_t rows = result && PQntuples (result) == 1? pg_conn_int (result, 0, 0): -1;
    PQclear (result);
    //  The name is one s_month_of read back as it is made: digits only
    snprintf (sql, sizeof sql, "SELECT pg_advisory_xact_lock (%d);"
              " DROP TABLE IF EXISTS audit.%s", PG_SCHEMA_LOCK_PARTITION, name);
    rc = rows >= 0 && pg_conn_exec (conn, sql) == 0? 0: -1;
    char count [24];
    snprintf (count, sizeof count, "%" PRId64, rows);
    const char *values [] = { audit_counters_name (AUDIT_COUNTER_JANITOR_DELETED_AUDIT), count };
    if (rc == 0 && rows > 0)
        rc = pg_conn_do (conn, &s_counted, 2, values, NULL);
    if (rc == 0)
        rc = pg_conn_commit (conn);
    if (rc != 0) {
        pg_conn_rollback (conn);
        audit_log_info ("msg=\"month not dropped\" partition=audit.%s sqlstate=%s"
                        " retry=next_pass", name, pg_conn_sqlstate (conn));
        return -1;
    }
    audit_log_info ("msg=\"month dropped\" partition=audit.%s rows=%" PRId64, name, rows);
    return 0;
}

//  The months past every retention and the ingest window at ended_ms
//  (see the top of this file), oldest first
static void
s_months_drop (pg_conn_t *conn, int64_t ended_ms)
{
    char retention [24];
    snprintf (retention, sizeof retention, "%d", AUDIT_RETENTION_MAX_DAYS);
    const char *values [] = { retention };
    PGresult *result = pg_conn_run (conn, &s_months, 1, values);
    if (!result)
        return;
    int drops = 0;
    for (int row = 0; row < PQntuples (result) && drops < PG_PURGE_DROPS_MAX; row++) {
        int64_t month = s_month_of (PQgetvalue (result, row, 0));
        int64_t days = pg_conn_int (result, row, 1), server_ms = pg_conn_int (result, row, 2);
        int64_t kept_ms = days * AUDIT_MS_PER_DAY > AUDIT_PAST_MAX_MS? days * AUDIT_MS_PER_DAY
                                                                      : AUDIT_PAST_MAX_MS;
        int64_t now_ms = ended_ms < server_ms? ended_ms: server_ms;
        if (month < 0 || pg_schema_month_start (month + 1)
                         > now_ms - kept_ms - PG_PURGE_DROP_MARGIN_MS)
            continue;
        //  A month that could not be dropped now (its lock) stops this
        //  call: the ones after it wait for the next pass too
        if (s_month_drop (conn, PQgetvalue (result, row, 0), month) != 0)
            break;
        drops++;
    }
    PQclear (result);
}

int
pg_purge_last_pass (audit_store_t *store, int64_t ended_ms)
{
    assert (store);
    pg_conn_t *conn = pg_core_self (store)->conn;
    PGconn *handle = pg_conn_handle (conn);
    //  Nor on a connection made again since the janitor took its lock
    if (!pg_space_lock_kept (pg_core_self (store)))
        return -1;
    bool outside = handle && PQtransactionStatus (handle) == PQTRANS_IDLE;
    char ended [24];
    snprintf (ended, sizeof ended, "%" PRId64, ended_ms);
    const char *values [] = { ended };
    if (pg_conn_do (conn, &s_last_pass, 1, values, NULL) != 0)
        return -1;
    //  A month not dropped is no failure of the pass: its rows are
    //  expired, and the next pass tries again. Only in a transaction of
    //  its own (the janitor calls this between its batches).
    if (outside)
        s_months_drop (conn, ended_ms);
    return 0;
}
