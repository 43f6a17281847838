/*  =========================================================================
    pg_write - the PostgreSQL store's batch writer: one transaction for
    the whole batch, whatever stores it touches (the three are schemas of
    one database, so a batch commits all of it or none), with events
    (pg_events), ops records, queued messages, counters and producers;
    and retention changes with their event
    ========================================================================= */

#include "pg_core.h"
#include "pg_counters.h"
#include "pg_events.h"
#include "pg_array.h"
#include "audit_ident.h"
#include "audit_log.h"
#include "audit_store_producers.h"

#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

//  The store of each topic kind
static const audit_db_t s_kind_db [] = {
    [AUDIT_TOPIC_KIND_AUDIT] = AUDIT_DB_AUDIT,
    [AUDIT_TOPIC_KIND_OPS] = AUDIT_DB_OPS,
    [AUDIT_TOPIC_KIND_MQ] = AUDIT_DB_QUEUE
};

static const pg_stmt_t s_ops_insert = { "write_ops",
    "INSERT INTO ops.request (ts, received, client_ip, method, path, status)"
    " SELECT * FROM unnest ($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],"
    " $6::integer[])" };

//  A message the queue holds already is a duplicate: RETURNING names the
//  ones this statement stored
static const pg_stmt_t s_mq_insert = { "write_mq",
    "INSERT INTO queue.message (org_id, device_id, message_id, ts, received, payload)"
    " SELECT * FROM unnest ($1::text[], $2::text[], $3::uuid[], $4::bigint[], $5::bigint[],"
    " $6::bytea[]) ON CONFLICT (org_id, message_id) DO NOTHING RETURNING org_id, message_id" };

//  A producer's row is replaced whole: the writer's state is the truth
static const pg_stmt_t s_producer_put = { "write_producer",
    "INSERT INTO audit.producer (name, acked_seq, last_seq, runs, gaps, last_seen, run_first)"
    " SELECT * FROM unnest ($1::text[], $2::bigint[], $3::bigint[], $4::bigint[],"
    " $5::bigint[], $6::bigint[], $7::text[]) ON CONFLICT (name) DO UPDATE SET"
    " acked_seq = excluded.acked_seq, last_seq = excluded.last_seq, runs = excluded.runs,"
    " gaps = excluded.gaps, last_seen = excluded.last_seen, run_first = excluded.run_first" };

static const pg_stmt_t s_rejected_put = { "write_rejected",
    "INSERT INTO audit.producer_rejected (producer, reason, count)"
    " SELECT * FROM unnest ($1::text[], $2::text[], $3::bigint[])"
    " ON CONFLICT (producer, reason) DO UPDATE SET count = excluded.count" };

static const pg_stmt_t s_retention = { "write_retention",
    "UPDATE audit.org SET retention_days = $2::integer WHERE org_id = $1" };

//  --------------------------------------------------------------------------
//  The rows of ops and queue, and the producers

static int
s_ops_write (pg_store_t *self, audit_store_next_fn *next, void *arg, size_t count)
{
    pg_array_set_t set;
    pg_array_set_init (&set, 6);
    pg_array_t *column = set.column;
    for (size_t index = 0; index < count; index++) {
        const audit_record_t *record = next (arg, index);
        if (record->kind != AUDIT_TOPIC_KIND_OPS)
            continue;
        const audit_ops_t *ops = &record->u.ops;
        pg_array_int_add (&column [0], ops->timestamp_ms);
        pg_array_int_add (&column [1], record->received_ms);
        pg_array_text_add (&column [2], ops->client_ip);
        pg_array_text_add (&column [3], ops->method);
        pg_array_text_add (&column [4], ops->path);
        pg_array_int_add (&column [5], ops->status);
    }
    int rc = pg_array_set_texts (&set);
    if (rc == 0 && pg_array_set_rows (&set) > 0)
        rc = pg_conn_do (self->conn, &s_ops_insert, set.count, set.values, NULL);
    pg_array_set_free (&set);
    return rc;
}

//  "org_id message_id": a queued message's key
static void
s_mq_key (const char *org_id, const char *uuid, char *key, size_t size)
{
    snprintf (key, size, "%s %s", org_id, uuid);
}

//  The first record of each (org, message_id) that the insert stored is
//  STORED; every other one a duplicate
static int
s_mq_outcomes (PGresult *result, audit_store_next_fn *next, void *arg, size_t count,
               audit_store_outcome_t *outcomes)
{
    zhashx_t *first = zhashx_new ();           //  key -> its first index + 1
    if (!first)
        return -1;
    for (size_t index = 0; index < count; index++) {
        const audit_record_t *record = next (arg, index);
        if (record->kind != AUDIT_TOPIC_KIND_MQ)
            continue;
        outcomes [index] = AUDIT_STORE_DUPLICATE;
        char uuid [AUDIT_IDENT_UUID_TEXT_SIZE], key [AUDIT_IDENT_MAX + 64];
        audit_ident_uuid_format (record->u.mq.message_id, uuid);
        s_mq_key (record->u.mq.org_id, uuid, key, sizeof key);
        zhashx_insert (first, key, (void *) (uintptr_t) (index + 1));   //  the first stays
    }
    for (int row = 0; row < PQntuples (result); row++) {
        char key [AUDIT_IDENT_MAX + 64];
        s_mq_key (PQgetvalue (result, row, 0), PQgetvalue (result, row, 1), key, sizeof key);
        uintptr_t at = (uintptr_t) zhashx_lookup (first, key);
        if (at)
            outcomes [at - 1] = AUDIT_STORE_STORED;
    }
    zhashx_destroy (&first);
    return 0;
}

static int
s_mq_write (pg_store_t *self, audit_store_next_fn *next, void *arg, size_t count,
            audit_store_outcome_t *outcomes)
{
    pg_array_set_t set;
    pg_array_set_init (&set, 6);
    pg_array_t *column = set.column;
    for (size_t index = 0; index < count; index++) {
        const audit_record_t *record = next (arg, index);
        if (record->kind != AUDIT_TOPIC_KIND_MQ)
            continue;
        const audit_mq_t *mq = &record->u.mq;
        pg_array_text_add (&column [0], mq->org_id);
        pg_array_text_add (&column [1], mq->device_id);
        pg_array_uuid_add (&column [2], mq->message_id);
        pg_array_int_add (&column [3], mq->timestamp_ms);
        pg_array_int_add (&column [4], record->received_ms);
        pg_array_bytea_add (&column [5], mq->payload, mq->payload_size);
    }
    int rc = pg_array_set_texts (&set);
    bool any = pg_array_set_rows (&set) > 0;
    PGresult *result = rc == 0 && any? pg_conn_run (self->conn, &s_mq_insert, set.count,
                                                    set.values): NULL;
    if (rc == 0 && any)
        rc = result? s_mq_outcomes (result, next, arg, count, outcomes): -1;
    PQclear (result);
    pg_array_set_free (&set);
    return rc;
}

static int
s_rejected_write (pg_store_t *self, const audit_store_producer_t *producers, size_t count)
{
    pg_array_set_t set;
    pg_array_set_init (&set, 3);
    pg_array_t *column = set.column;
    for (size_t index = 0; index < count; index++)
        for (int reason = 0; reason < AUDIT_REASON_COUNT; reason++) {
            if (producers [index].rejected [reason] == 0)
                continue;               //  no row for nothing rejected
            pg_array_text_add (&column [0], producers [index].producer_id);
            pg_array_text_add (&column [1], audit_proto_reason_name ((audit_reason_t) reason));
            pg_array_int_add (&column [2], (int64_t) producers [index].rejected [reason]);
        }
    int rc = pg_array_set_texts (&set);
    if (rc == 0 && pg_array_set_rows (&set) > 0)
        rc = pg_conn_do (self->conn, &s_rejected_put, set.count, set.values, NULL);
    pg_array_set_free (&set);
    return rc;
}

static int
s_producers_write (pg_store_t *self, const audit_store_producer_t *producers, size_t count)
{
    pg_array_set_t set;
    pg_array_set_init (&set, 7);
    pg_array_t *column = set.column;
    for (size_t index = 0; index < count; index++) {
        const audit_store_producer_t *producer = &producers [index];
        pg_array_text_add (&column [0], producer->producer_id);
        pg_array_int_add (&column [1], (int64_t) producer->acked_seq);
        pg_array_int_add (&column [2], (int64_t) producer->last_seq);
        pg_array_int_add (&column [3], (int64_t) producer->runs);
        pg_array_int_add (&column [4], (int64_t) producer->gaps);
        pg_array_int_add (&column [5], producer->last_seen_ms);
        pg_array_text_add (&column [6], producer->run_first);
    }
    int rc = pg_array_set_texts (&set);
    if (rc == 0)
        rc = pg_conn_do (self->conn, &s_producer_put, set.count, set.values, NULL);
    pg_array_set_free (&set);
    return rc == 0? s_rejected_write (self, producers, count): -1;
}

//  --------------------------------------------------------------------------
//  The batch's transaction

//  What a batch touches, after its stores committed before are taken out
typedef struct {
    bool db [AUDIT_DB_COUNT];
    bool counters;                      //  the deltas and outcomes go in
} s_touched_t;

static int
s_rows_write (pg_store_t *self, const s_touched_t *touched, audit_store_next_fn *next,
              void *arg, size_t count, audit_store_outcome_t *outcomes)
{
    if (touched->db [AUDIT_DB_AUDIT]
    &&  pg_events_write (self->events, self->conn, self->tree, next, arg, count, outcomes,
                         &self->lock_waited_us) != 0)
        return -1;
    if (touched->db [AUDIT_DB_OPS] && s_ops_write (self, next, arg, count) != 0)
        return -1;
    if (touched->db [AUDIT_DB_QUEUE] && s_mq_write (self, next, arg, count, outcomes) != 0)
        return -1;
    return 0;
}

static int
s_counters_write (pg_store_t *self, audit_counters_t *counters,
                  const audit_store_outcome_t *outcomes, size_t count)
{
    int64_t stored = 0, duplicate = 0;
    for (size_t index = 0; outcomes && index < count; index++) {
        stored += outcomes [index] == AUDIT_STORE_STORED;
        duplicate += outcomes [index] == AUDIT_STORE_DUPLICATE;
    }
    return pg_counters_write (self->conn, self->family_rows, counters, stored, duplicate);
}

//  The partitions of the batch's events first, each in a short
//  transaction of its own: DDL in the batch's would hold its lock to
//  the end of the batch
static int
s_partitions (pg_store_t *self, audit_store_next_fn *next, void *arg, size_t count)
{
    for (size_t index = 0; index < count; index++) {
        const audit_record_t *record = next (arg, index);
        if (record->kind == AUDIT_TOPIC_KIND_AUDIT
        &&  pg_schema_partition (self->conn, record->u.event.timestamp_ms, &self->months) != 0)
            return -1;
    }
    return 0;
}

static void
s_failed (pg_store_t *self, const char *what)
{
    if (!self->failing)
        audit_log_error ("msg=\"%s\" engine=postgresql sqlstate=%s", what,
                         pg_conn_sqlstate (self->conn));
    self->failed_full = strcmp (pg_conn_sqlstate (self->conn), "53100") == 0;
    //  No partition for a row (23514): the janitor dropped a month this
    //  process had made (a host clock ahead of the others); made again
    //  on the retry
    if (strcmp (pg_conn_sqlstate (self->conn), "23514") == 0)
        self->months.count = 0;
    self->failing = true;
}

static int
s_write (pg_store_t *self, const s_touched_t *touched, audit_store_next_fn *next, void *arg,
         size_t count, audit_store_outcome_t *outcomes, audit_counters_t *counters,
         const audit_store_producer_t *producers, size_t producer_count)
{
    assert (self->mode != AUDIT_STORE_READER);
    int rc = touched->db [AUDIT_DB_AUDIT]? s_partitions (self, next, arg, count): 0;
    if (rc == 0)
        rc = pg_conn_begin (self->conn, false);
    if (rc == 0)
        rc = s_rows_write (self, touched, next, arg, count, outcomes);
    if (rc == 0 && touched->counters)
        rc = s_counters_write (self, counters, outcomes, count);
    if (rc == 0 && producer_count > 0 && touched->db [AUDIT_DB_AUDIT])
        rc = s_producers_write (self, producers, producer_count);
    if (rc == 0)
        rc = pg_conn_commit (self->conn);
    if (rc != 0) {
        pg_conn_rollback (self->conn);
        pg_tree_rollback (self->tree);
        s_failed (self, "write failed");
        return -1;
    }
    pg_tree_commit (self->tree);
    self->failing = false;
    return 0;
}

int
pg_write_each (audit_store_t *store, audit_store_next_fn *next, void *arg, size_t count,
               unsigned kinds, audit_store_outcome_t *outcomes, audit_counters_t *counters,
               const audit_store_producer_t *producers, size_t producer_count,
               unsigned *committed)
{
    pg_store_t *self = pg_core_self (store);
    assert (self);
    unsigned none = 0;
    committed = committed? committed: &none;
    s_touched_t touched = { { false }, false };
    for (int kind = 0; kind < AUDIT_TOPIC_KIND_UNKNOWN; kind++)
        if (kinds & (1u << kind))
            touched.db [s_kind_db [kind]] = true;
    touched.counters = counters && (audit_counters_size (counters) > 0 || count > 0);
    touched.db [AUDIT_DB_AUDIT] |= touched.counters || producer_count > 0;
    //  One transaction: a batch's stores commit together, so a retried
    //  batch never finds one of them committed; the bits are kept anyway
    bool any = false;
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        touched.db [db] &= !(*committed & (1u << db));
        any |= touched.db [db];
    }
    touched.counters &= touched.db [AUDIT_DB_AUDIT];
    if (!any)
        return 0;
    if (s_write (self, &touched, next, arg, count, outcomes, counters, producers,
                 producer_count) != 0)
        return -1;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        *committed |= touched.db [db]? 1u << db: 0;
    if (touched.counters && counters)
        audit_counters_clear (counters);
    return 0;
}

static const audit_record_t *
s_array_next (void *arg, size_t index)
{
    return &((const audit_record_t *) arg) [index];
}

int
pg_write (audit_store_t *store, const audit_record_t *records, size_t count,
          audit_store_outcome_t *outcomes, audit_counters_t *counters)
{
    unsigned kinds = 0;
    for (size_t index = 0; index < count; index++)
        if (records [index].kind < AUDIT_TOPIC_KIND_UNKNOWN)
            kinds |= 1u << records [index].kind;
    return pg_write_each (store, s_array_next, (void *) records, count, kinds, outcomes,
                          counters, NULL, 0, NULL);
}

int
pg_counters_flush (audit_store_t *store, audit_counters_t *counters)
{
    return pg_write (store, NULL, 0, NULL, counters);
}

//  The event first: its batch locks and makes the organisation's row
int
pg_retention_set (audit_store_t *store, const char *org_id, uint32_t days,
                  const audit_record_t *event)
{
    pg_store_t *self = pg_core_self (store);
    assert (self && self->mode != AUDIT_STORE_READER);
    char text [16];
    snprintf (text, sizeof text, "%u", days);
    const char *values [] = { org_id, text };
    audit_store_outcome_t outcome;
    int64_t changed = 0;
    int rc = s_partitions (self, s_array_next, (void *) event, 1);
    if (rc == 0)
        rc = pg_conn_begin (self->conn, false);
    if (rc == 0)
        rc = pg_events_write (self->events, self->conn, self->tree, s_array_next,
                              (void *) event, 1, &outcome, &self->lock_waited_us);
    if (rc == 0)
        rc = pg_conn_do (self->conn, &s_retention, 2, values, &changed) == 0 && changed == 1
           ? 0: -1;
    if (rc == 0)
        rc = pg_conn_commit (self->conn);
    if (rc != 0) {
        pg_conn_rollback (self->conn);
        pg_tree_rollback (self->tree);
        s_failed (self, "retention change failed");
        return -1;
    }
    pg_tree_commit (self->tree);
    self->failing = false;
    return 0;
}

//  Nothing to empty: the server keeps its own WAL. A full disk is said
//  by its SQLSTATE (53100, disk_full)
int
pg_recover (audit_store_t *store, bool *full)
{
    pg_store_t *self = pg_core_self (store);
    assert (self && full);
    *full = self->failed_full;
    return 0;
}

int64_t
pg_lock_waited_us (audit_store_t *store)
{
    pg_store_t *self = pg_core_self (store);
    assert (self);
    int64_t waited = self->lock_waited_us;
    self->lock_waited_us = 0;
    return waited;
}

//  The server checkpoints by itself: there is no housekeeping to defer
int64_t
pg_checkpoint_waited_us (audit_store_t *store)
{
    (void) store;
    return 0;
}

void
pg_housekeeping_defer (audit_store_t *store)
{
    (void) store;
}

int
pg_housekeep (audit_store_t *store)
{
    (void) store;
    return 0;
}
