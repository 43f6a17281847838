/*  =========================================================================
    pg_logwalk - the walks of an operator's check of the whole store, in
    the PostgreSQL engine: organisations, leaves, subtrees, checkpoints
    (the same as the SQLite engine's sqlite_logwalk.c)

    An organisation's leaves, subtrees and checkpoints come a slice at a
    time (a statement each), so that a log of millions of events is never
    one result in memory. A leaf is the tree's, level 0 of log_node; its
    event, when retention kept it, must still make that leaf. What fn is
    told is what the SQLite engine tells: a leaf whose event was deleted
    is its hash and not kept; a leaf the store lost, or whose event was
    changed, is a zero hash that matches nothing (and kept, as its event
    is, or was never deleted by retention). A leaf whose event is gone was
    retention's when its ts (log_node keeps a leaf's) was below the cut the
    janitor deleted the organisation's events to (audit.org.purged_before);
    else the event was deleted by someone else and is told as kept.
    ========================================================================= */

#include "pg_core.h"
#include "audit_store_log.h"
#include "audit_ident.h"
#include "audit_proto.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Rows a slice of a walk holds (s_SLICE_ROWS in the statements' text too)
#define s_SLICE_LEAVES      2048
#define s_SLICE_ROWS        10000
#define s_TEXT(value)       s_TEXT_OF (value)
#define s_TEXT_OF(value)    #value

static const pg_stmt_t s_orgs = { "logwalk_orgs",
    "SELECT org_id, next_index FROM audit.org ORDER BY seq" };
static const pg_stmt_t s_org_size = { "logwalk_org_size",
    "SELECT next_index FROM audit.org WHERE org_id = $1" };
//  Past (level, idx) $2, $3; none when there is no such organisation
static const pg_stmt_t s_nodes = { "logwalk_nodes",
    "SELECT level, idx, hash FROM audit.log_node WHERE org_id = $1"
    " AND (level, idx) > ($2::smallint, $3::bigint)"
    " AND EXISTS (SELECT 1 FROM audit.org WHERE org_id = $1)"
    " ORDER BY level, idx LIMIT " s_TEXT (s_SLICE_ROWS) };
static const pg_stmt_t s_checkpoints = { "logwalk_checkpoints",
    "SELECT size, root, note FROM audit.checkpoint WHERE org_id = $1 AND size > $2::bigint"
    " AND EXISTS (SELECT 1 FROM audit.org WHERE org_id = $1)"
    " ORDER BY size LIMIT " s_TEXT (s_SLICE_ROWS) };

//  The leaves [$2, $3): each index, its leaf, and its event's columns
//  (the first of two at one index, by ts), NULL when it has none
static char s_leaves_sql [2048];
static const pg_stmt_t s_leaves = { "logwalk_leaves", s_leaves_sql };
#define s_COL_NODE      1
#define s_COL_EVENT     2               //  log_index, ts, received, type, actor
#define s_COL_FIELDS    7
#define s_COL_UUID      (s_COL_FIELDS + AUDIT_FIELD_COUNT)
#define s_COL_LEAF_TS   (s_COL_UUID + 1)    //  the event's ts the leaf kept, or NULL
#define s_COL_PURGED    (s_COL_UUID + 2)    //  the organisation's purged_before

__attribute__ ((constructor)) static void
s_leaves_sql_build (void)
{
    //  Quoted: a bare user is SQL's current_user, not the column
    char columns [1024] = "";
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        size_t at = strlen (columns);
        snprintf (columns + at, sizeof columns - at, " \"%s\",",
                  audit_proto_field_info ((audit_field_t) field)->column);
    }
    snprintf (s_leaves_sql, sizeof s_leaves_sql,
              "SELECT g.i, n.hash, e.*, n.ts, o.purged_before"
              " FROM generate_series ($2::bigint, $3::bigint - 1) AS g (i)"
              " CROSS JOIN (SELECT purged_before FROM audit.org WHERE org_id = $1) AS o"
              " LEFT JOIN audit.log_node n ON n.org_id = $1 AND n.level = 0 AND n.idx = g.i"
              " LEFT JOIN (SELECT DISTINCT ON (log_index) log_index, ts, received, type, actor,"
              "%s event_id FROM audit.event WHERE org_id = $1 AND log_index >= $2::bigint"
              " AND log_index < $3::bigint ORDER BY log_index, ts) e ON e.log_index = g.i"
              " ORDER BY g.i", columns);
}

static const audit_merkle_hash_t s_zero = { 0 };

int
pg_log_orgs (audit_store_t *store, audit_store_log_org_fn *fn, void *arg)
{
    assert (store);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_orgs, 0, NULL);
    if (!result)
        return -1;
    int stopped = 0;
    for (int row = 0; !stopped && row < PQntuples (result); row++) {
        char org_id [AUDIT_IDENT_MAX + 1];
        snprintf (org_id, sizeof org_id, "%s", PQgetvalue (result, row, 0));
        stopped = fn (org_id, (uint64_t) pg_conn_int (result, row, 1), arg);
    }
    PQclear (result);
    return 0;
}

//  --------------------------------------------------------------------------
//  Leaves

//  The event columns of row, as the leaf reads them
static void
s_event_row (const PGresult *result, int row, const char *org_id, audit_row_t *event)
{
    event->log_index = (uint64_t) pg_conn_int (result, row, s_COL_EVENT);
    event->timestamp_ms = pg_conn_int (result, row, s_COL_EVENT + 1);
    event->received_ms = pg_conn_int (result, row, s_COL_EVENT + 2);
    event->type = (audit_event_type_t) pg_conn_int (result, row, s_COL_EVENT + 3);
    event->org_id = org_id;
    event->actor_id = PQgetvalue (result, row, s_COL_EVENT + 4);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        int column = s_COL_FIELDS + field;
        bool number = audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT;
        bool null = PQgetisnull (result, row, column);
        event->has_number [field] = number && !null;
        event->number [field] = number && !null? (uint64_t) pg_conn_int (result, row, column): 0;
        event->text [field] = number || null? NULL: PQgetvalue (result, row, column);
    }
    const char *uuid = PQgetvalue (result, row, s_COL_UUID);
    if (audit_ident_uuid_parse (uuid, strlen (uuid), event->event_id) != 0)
        memset (event->event_id, 0, AUDIT_UUID_SIZE);
}

//  One leaf of the slice to fn
static int
s_leaf_row (const PGresult *result, int row, const char *org_id,
            audit_store_log_leaf_fn *fn, void *arg)
{
    uint64_t index = (uint64_t) pg_conn_int (result, row, 0);
    audit_merkle_hash_t leaf, made;
    bool stored = pg_conn_bytea (result, row, s_COL_NODE, leaf, AUDIT_MERKLE_HASH_SIZE) == 0;
    bool kept = !PQgetisnull (result, row, s_COL_EVENT);
    if (!stored)
        return fn (index, s_zero, true, arg);
    //  An event gone: retention's when its ts was below the cut the
    //  janitor deleted to (or not known: moved in already deleted); else
    //  deleted by someone else, told as kept, so that it is missed
    if (!kept) {
        bool retention = PQgetisnull (result, row, s_COL_LEAF_TS)
                      || pg_conn_int (result, row, s_COL_LEAF_TS)
                         < pg_conn_int (result, row, s_COL_PURGED);
        return fn (index, leaf, !retention, arg);
    }
    audit_row_t event;
    s_event_row (result, row, org_id, &event);
    bool same = audit_row_leaf_hash (&event, made) == 0
             && memcmp (made, leaf, AUDIT_MERKLE_HASH_SIZE) == 0;
    return fn (index, same? leaf: s_zero, true, arg);
}

//  The leaves [first, end) to fn; 0 (*stopped when fn stopped) or -1
static int
s_leaf_slice (pg_conn_t *conn, const char *org_id, uint64_t first, uint64_t end,
              audit_store_log_leaf_fn *fn, void *arg, int *stopped)
{
    char first_text [24], end_text [24];
    snprintf (first_text, sizeof first_text, "%" PRIu64, first);
    snprintf (end_text, sizeof end_text, "%" PRIu64, end);
    const char *values [] = { org_id, first_text, end_text };
    PGresult *result = pg_conn_run (conn, &s_leaves, 3, values);
    if (!result)
        return -1;
    for (int row = 0; !*stopped && row < PQntuples (result); row++)
        *stopped = s_leaf_row (result, row, org_id, fn, arg);
    PQclear (result);
    return 0;
}

int
pg_log_leaves (audit_store_t *store, const char *org_id, audit_store_log_leaf_fn *fn,
               void *arg)
{
    assert (store);
    pg_conn_t *conn = pg_core_self (store)->conn;
    const char *values [] = { org_id };
    PGresult *result = pg_conn_run (conn, &s_org_size, 1, values);
    if (!result)
        return -1;
    uint64_t size = PQntuples (result) == 1? (uint64_t) pg_conn_int (result, 0, 0): 0;
    PQclear (result);
    int stopped = 0;
    for (uint64_t first = 0; !stopped && first < size; first += s_SLICE_LEAVES) {
        uint64_t end = size - first < s_SLICE_LEAVES? size: first + s_SLICE_LEAVES;
        if (s_leaf_slice (conn, org_id, first, end, fn, arg, &stopped) != 0)
            return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Subtrees and checkpoints, a slice at a time after the last row seen

int
pg_log_nodes (audit_store_t *store, const char *org_id, audit_store_log_node_fn *fn,
              void *arg)
{
    assert (store);
    pg_conn_t *conn = pg_core_self (store)->conn;
    int64_t level = INT16_MIN, idx = INT64_MIN;
    int stopped = 0, rows = s_SLICE_ROWS;
    while (!stopped && rows == s_SLICE_ROWS) {
        char level_text [24], idx_text [24];
        snprintf (level_text, sizeof level_text, "%" PRId64, level);
        snprintf (idx_text, sizeof idx_text, "%" PRId64, idx);
        const char *values [] = { org_id, level_text, idx_text };
        PGresult *result = pg_conn_run (conn, &s_nodes, 3, values);
        if (!result)
            return -1;
        rows = PQntuples (result);
        for (int row = 0; !stopped && row < rows; row++) {
            audit_merkle_hash_t hash;
            if (pg_conn_bytea (result, row, 2, hash, AUDIT_MERKLE_HASH_SIZE) != 0)
                memcpy (hash, s_zero, AUDIT_MERKLE_HASH_SIZE);
            level = pg_conn_int (result, row, 0);
            idx = pg_conn_int (result, row, 1);
            stopped = fn (level < 0 || level >= AUDIT_MERKLE_LEVELS? AUDIT_MERKLE_LEVELS
                                                                   : (unsigned) level,
                          (uint64_t) idx, hash, arg);
        }
        PQclear (result);
    }
    return 0;
}

int
pg_checkpoint_each (audit_store_t *store, const char *org_id, audit_store_checkpoint_fn *fn,
                    void *arg)
{
    assert (store);
    pg_conn_t *conn = pg_core_self (store)->conn;
    int64_t size = INT64_MIN;
    int stopped = 0, rows = s_SLICE_ROWS;
    while (!stopped && rows == s_SLICE_ROWS) {
        char size_text [24];
        snprintf (size_text, sizeof size_text, "%" PRId64, size);
        const char *values [] = { org_id, size_text };
        PGresult *result = pg_conn_run (conn, &s_checkpoints, 2, values);
        if (!result)
            return -1;
        rows = PQntuples (result);
        for (int row = 0; !stopped && row < rows; row++) {
            audit_merkle_hash_t root;
            if (pg_conn_bytea (result, row, 1, root, AUDIT_MERKLE_HASH_SIZE) != 0)
                memcpy (root, s_zero, AUDIT_MERKLE_HASH_SIZE);
            size = pg_conn_int (result, row, 0);
            stopped = fn ((uint64_t) size, root, PQgetvalue (result, row, 2), arg);
        }
        PQclear (result);
    }
    return 0;
}
