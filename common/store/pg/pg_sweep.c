/*  =========================================================================
    pg_sweep - the orphan sweep on the PostgreSQL store: almost nothing

    The SQLite engine interns identifiers into its ident table, so an
    identifier outlives the last event that named it until the sweep
    deletes it (audit_store_sweep.h). This engine stores each identifier
    as text in the event's own row (pg_schema): retention deleting the
    event deletes the identifier with it, and there is no ident table. So
    the highest ident id is 0, a scan reads no references, and there is
    no identifier to delete: the janitor's sweep (janitor_sweep) reads
    the logs, finds nothing, and completes.

    What is left is the organisations' rows. A row holds the log's next
    index and the organisation's retention, so it goes only when its log
    never began (next_index 0: no log_index was ever given, none can be
    given twice) and its retention is the default (a row with its own is
    that organisation's setting), and no event names it; the same rule
    as the SQLite engine's. Writers here make an org row in the batch
    that gives it its first index, so such rows are rare; the delete
    skips a row a writer has locked (SKIP LOCKED), whose batch is about to
    give it one.

    The ident generation (meta 'ident_generation') exists for the SQLite
    writers' cache of ident and org ids; writers here cache no id across
    transactions (pg_events.h), so it is not kept.
    ========================================================================= */

#include "pg_core.h"
#include "audit_proto.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>

static const pg_stmt_t s_logs = { "sweep_logs",
    "SELECT seq, next_index FROM audit.org ORDER BY seq" };

static const pg_stmt_t s_org_delete = { "sweep_org_delete",
    "DELETE FROM audit.org WHERE seq IN (SELECT o.seq FROM audit.org o"
    " WHERE o.retention_days = $1::integer AND o.next_index = 0"
    " AND NOT EXISTS (SELECT 1 FROM audit.event e WHERE e.org_id = o.org_id)"
    " ORDER BY o.seq LIMIT $2::integer FOR UPDATE SKIP LOCKED)"
    " AND next_index = 0" };

static const pg_stmt_t s_last_get = { "sweep_last_get",
    "SELECT value FROM audit.meta WHERE key = 'janitor_last_sweep'" };

static const pg_stmt_t s_last_set = { "sweep_last_set",
    "INSERT INTO audit.meta (key, value) VALUES ('janitor_last_sweep', $1::bigint)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value" };

int
pg_sweep_ident_max (audit_store_t *store, int64_t *max)
{
    (void) store;
    *max = 0;                           //  no ident table
    return 0;
}

int
pg_sweep_logs (audit_store_t *store, audit_store_log_fn *fn, void *arg)
{
    assert (store && fn);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_logs, 0, NULL);
    if (!result)
        return -1;
    int stopped = 0;
    for (int row = 0; !stopped && row < PQntuples (result); row++)
        stopped = fn (pg_conn_int (result, row, 0), pg_conn_int (result, row, 1), arg);
    PQclear (result);
    return stopped? -1: 0;
}

int
pg_sweep_scan (audit_store_t *store, audit_store_event_key_t *after, int limit,
               audit_store_ident_fn *fn, void *arg, int *rows)
{
    (void) store;
    (void) after;
    (void) limit;
    (void) fn;
    (void) arg;
    *rows = 0;                          //  no event refers to an ident id
    return 0;
}

int
pg_sweep_since (audit_store_t *store, int64_t org, int64_t from_index,
                audit_store_ident_fn *fn, void *arg, int64_t *rows)
{
    (void) store;
    (void) org;
    (void) from_index;
    (void) fn;
    (void) arg;
    if (rows)
        *rows = 0;
    return 0;
}

int
pg_sweep_idents (audit_store_t *store, int64_t after, int64_t max, int limit,
                 int64_t *ids, int *count)
{
    (void) store;
    (void) after;
    (void) max;
    (void) limit;
    (void) ids;
    *count = 0;
    return 0;
}

int
pg_sweep_ident_delete (audit_store_t *store, const int64_t *ids, int count,
                       int64_t *deleted)
{
    (void) store;
    (void) ids;
    (void) count;
    *deleted = 0;
    return 0;
}

int
pg_sweep_orgs (audit_store_t *store, int limit, int64_t *deleted)
{
    assert (store && deleted);
    *deleted = 0;
    char retention [24], rows [24];
    snprintf (retention, sizeof retention, "%d", AUDIT_RETENTION_MAX_DAYS);
    snprintf (rows, sizeof rows, "%d", limit);
    const char *values [] = { retention, rows };
    return pg_conn_do (pg_core_self (store)->conn, &s_org_delete, 2, values, deleted);
}

int
pg_sweep_generation (audit_store_t *store)
{
    (void) store;
    return 0;                           //  no writer caches ids (see the top)
}

int
pg_sweep_last (audit_store_t *store, int64_t *ms, bool *found)
{
    assert (store && ms && found);
    *found = false;
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_last_get, 0, NULL);
    if (!result)
        return -1;
    *found = PQntuples (result) == 1 && !PQgetisnull (result, 0, 0);
    if (*found)
        *ms = pg_conn_int (result, 0, 0);
    PQclear (result);
    return 0;
}

int
pg_sweep_last_set (audit_store_t *store, int64_t ms)
{
    assert (store);
    char value [24];
    snprintf (value, sizeof value, "%" PRId64, ms);
    const char *values [] = { value };
    return pg_conn_do (pg_core_self (store)->conn, &s_last_set, 1, values, NULL);
}
