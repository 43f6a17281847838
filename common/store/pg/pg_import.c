/*  =========================================================================
    pg_import - an organisation's log moved in as it is (see
    audit_store_import.h), in the PostgreSQL engine

    The same pieces as the writer's batch (pg_write.c, pg_events.c): the
    partitions first, each in its own short transaction; then one
    transaction that locks the org row (made when new), checks that the
    log holds exactly the leaves before this slice, appends the slice's
    leaves to the writer's frontier (pg_tree, which collects every
    subtree they complete), inserts the kept events in one statement
    over arrays (pg_events_insert) and the subtrees in another, and sets
    next_index and retention. Only the leaves are taken from the caller:
    each kept event must make its leaf again, so that a moved log is the
    log it was, or nothing moves.
    ========================================================================= */

#include "pg_core.h"
#include "audit_log.h"
#include "audit_store_import.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

//  The org row, made when new, locked to the end of the transaction
static const pg_stmt_t s_lock = { "import_org_lock",
    "INSERT INTO audit.org AS o (org_id) VALUES ($1) ON CONFLICT (org_id)"
    " DO UPDATE SET next_index = o.next_index RETURNING next_index" };

static const pg_stmt_t s_advance = { "import_org_advance",
    "UPDATE audit.org SET next_index = $2::bigint, retention_days = $3::integer"
    " WHERE org_id = $1" };

static int
s_refuse (const char *org_id, uint64_t index, const char *reason)
{
    audit_log_error ("msg=\"import refused\" engine=postgresql org_id=%s log_index=%" PRIu64
                     " reason=\"%s\"", org_id, index, reason);
    return -1;
}

//  The org row's size under its lock: it must be first
static int
s_lock_org (pg_conn_t *conn, const char *org_id, uint64_t first)
{
    const char *values [] = { org_id };
    PGresult *result = pg_conn_run (conn, &s_lock, 1, values);
    if (!result)
        return -1;
    int64_t size = PQntuples (result) == 1? pg_conn_int (result, 0, 0): -1;
    PQclear (result);
    if (size < 0)
        return -1;
    if ((uint64_t) size != first) {
        char reason [128];
        snprintf (reason, sizeof reason, "the log holds %" PRId64 " leaves, not %" PRIu64,
                  size, first);
        return s_refuse (org_id, first, reason);
    }
    return 0;
}

//  Each leaf onto the frontier, each kept event checked against its leaf
static int
s_leaves_append (pg_store_t *self, const char *org_id, uint64_t first, size_t count,
                 const audit_merkle_hash_t *leaves, const audit_row_t *const *rows)
{
    audit_merkle_frontier_t *frontier;
    if (pg_tree_frontier (self->tree, self->conn, org_id, first, &frontier) != 0)
        return -1;
    for (size_t at = 0; at < count; at++) {
        const audit_row_t *row = rows [at];
        if (row) {
            audit_merkle_hash_t made;
            if (row->log_index != first + at || strcmp (row->org_id, org_id) != 0)
                return s_refuse (org_id, first + at, "an event not of this leaf");
            if (audit_row_leaf_hash (row, made) != 0
            ||  memcmp (made, leaves [at], AUDIT_MERKLE_HASH_SIZE) != 0)
                return s_refuse (org_id, first + at, "the event does not make its leaf");
        }
        //  A leaf whose event retention deleted before the move has no ts:
        //  retention's, for auditctl verify --db (pg_schema step 2)
        if (pg_tree_append (self->tree, org_id, frontier, leaves [at],
                            row? row->timestamp_ms: PG_TREE_TS_UNKNOWN) != 0)
            return -1;
    }
    return 0;
}

static int
s_org_advance (pg_conn_t *conn, const char *org_id, uint64_t size, uint32_t retention_days)
{
    char size_text [24], days_text [16];
    snprintf (size_text, sizeof size_text, "%" PRIu64, size);
    snprintf (days_text, sizeof days_text, "%" PRIu32, retention_days);
    const char *values [] = { org_id, size_text, days_text };
    int64_t changed = 0;
    return pg_conn_do (conn, &s_advance, 3, values, &changed) == 0 && changed == 1? 0: -1;
}

int
pg_import (audit_store_t *store, const char *org_id, uint32_t retention_days, uint64_t first,
           size_t count, const audit_merkle_hash_t *leaves, const audit_row_t *const *rows)
{
    pg_store_t *self = pg_core_self (store);
    assert (self && org_id && (count == 0 || (leaves && rows)));
    if (self->mode == AUDIT_STORE_READER)
        return s_refuse (org_id, first, "a READER store imports nothing");
    if (retention_days < 1 || retention_days > AUDIT_RETENTION_MAX_DAYS)
        return s_refuse (org_id, first, "retention out of range");
    //  The partitions first, outside the transaction (pg_write.c's reason)
    for (size_t at = 0; at < count; at++)
        if (rows [at]
        &&  pg_schema_partition (self->conn, rows [at]->timestamp_ms, &self->months) != 0)
            return -1;
    int rc = pg_conn_begin (self->conn, false);
    if (rc == 0)
        rc = s_lock_org (self->conn, org_id, first) == 0
          && s_leaves_append (self, org_id, first, count, leaves, rows) == 0
          && pg_events_insert (self->events, self->conn, rows, count) == 0
          && pg_tree_nodes_write (self->tree, self->conn) == 0
          && s_org_advance (self->conn, org_id, first + count, retention_days) == 0
          && pg_conn_commit (self->conn) == 0? 0: -1;
    if (rc != 0) {
        pg_conn_rollback (self->conn);
        pg_tree_rollback (self->tree);
        return -1;
    }
    pg_tree_commit (self->tree);
    return 0;
}
