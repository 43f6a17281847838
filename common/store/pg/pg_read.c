/*  =========================================================================
    pg_read - what the query side reads of the PostgreSQL store, one
    statement each: an organisation's retention, whether the store
    answers, rows held, the janitor's last pass, producers, counters, a
    device's messages and their acknowledgement, and the workers'
    heartbeats (the same as the SQLite engine's sqlite_org.c,
    sqlite_health.c, sqlite_stats.c, sqlite_producers.c, sqlite_mq.c,
    sqlite_workers.c and counters_read)

    Texts are ordered COLLATE "C", byte order, as SQLite's BINARY is:
    the database's collation would order them by locale.
    ========================================================================= */

#include "pg_core.h"
#include "pg_array.h"
#include "audit_ident.h"
#include "audit_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

//  The value of a one-column, at most one-row result: *known false for no
//  row or NULL
static void
s_scalar (PGresult *result, bool *known, int64_t *value)
{
    *known = PQntuples (result) == 1 && !PQgetisnull (result, 0, 0);
    *value = *known? pg_conn_int (result, 0, 0): 0;
}

//  --------------------------------------------------------------------------
//  audit_store_org.h

int
pg_org_retention (audit_store_t *store, const char *org_id, uint32_t *days)
{
    static const pg_stmt_t s_q = { "read_org_retention",
        "SELECT retention_days FROM audit.org WHERE org_id = $1" };
    assert (store && org_id && days);
    const char *values [] = { org_id };
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 1, values);
    if (!result)
        return -1;
    bool known;
    int64_t value;
    s_scalar (result, &known, &value);
    *days = known? (uint32_t) value: AUDIT_RETENTION_MAX_DAYS;
    PQclear (result);
    return 0;
}

//  --------------------------------------------------------------------------
//  audit_store_health.h

//  Reads the catalogue of each of the three schemas: every one must hold
//  its table
int
pg_health_probe (audit_store_t *store)
{
    static const pg_stmt_t s_q = { "read_health_probe",
        "SELECT to_regclass ('audit.meta') IS NOT NULL AND to_regclass ('ops.request') IS NOT NULL"
        " AND to_regclass ('queue.message') IS NOT NULL" };
    assert (store);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 0, NULL);
    if (!result)
        return -1;
    int rc = PQntuples (result) == 1 && strcmp (PQgetvalue (result, 0, 0), "t") == 0? 0: -1;
    PQclear (result);
    return rc;
}

//  --------------------------------------------------------------------------
//  audit_store_stats.h

int
pg_stats_rows (audit_store_t *store, audit_store_stats_rows_t *rows)
{
    //  One statement, so one snapshot for the three counts
    static const pg_stmt_t s_q = { "read_stats_rows",
        "SELECT (SELECT count (*) FROM audit.event), (SELECT count (*) FROM ops.request),"
        " (SELECT count (*) FROM queue.message)" };
    assert (store && rows);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 0, NULL);
    if (!result)
        return -1;
    int rc = PQntuples (result) == 1? 0: -1;
    if (rc == 0) {
        rows->audit_events = (uint64_t) pg_conn_int (result, 0, 0);
        rows->ops_records = (uint64_t) pg_conn_int (result, 0, 1);
        rows->queued_messages = (uint64_t) pg_conn_int (result, 0, 2);
    }
    PQclear (result);
    return rc;
}

int
pg_stats_last_pass (audit_store_t *store, bool *known, int64_t *when_ms)
{
    static const pg_stmt_t s_q = { "read_stats_last_pass",
        "SELECT value FROM audit.meta WHERE key = 'janitor_last_pass'" };
    assert (store && known && when_ms);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 0, NULL);
    if (!result)
        return -1;
    s_scalar (result, known, when_ms);
    PQclear (result);
    return 0;
}

//  --------------------------------------------------------------------------
//  audit_store_producers.h

//  One joined row into the producer being assembled
static void
s_producer_row (PGresult *result, int row, audit_store_producer_t *producer)
{
    snprintf (producer->producer_id, sizeof producer->producer_id, "%s",
              PQgetvalue (result, row, 0));
    producer->acked_seq = (uint64_t) pg_conn_int (result, row, 1);
    producer->last_seq = (uint64_t) pg_conn_int (result, row, 2);
    producer->runs = (uint64_t) pg_conn_int (result, row, 3);
    producer->gaps = (uint64_t) pg_conn_int (result, row, 4);
    producer->last_seen_ms = pg_conn_int (result, row, 5);
    snprintf (producer->run_first, sizeof producer->run_first, "%s",
              PQgetvalue (result, row, 6));
    //  A reason this build does not know is left out
    audit_reason_t reason;
    const char *name = PQgetvalue (result, row, 7);
    if (!PQgetisnull (result, row, 7)
    &&  audit_proto_reason_lookup (name, strlen (name), &reason) == 0)
        producer->rejected [reason] = (uint64_t) pg_conn_int (result, row, 8);
}

int
pg_producers_read (audit_store_t *store, audit_store_producer_fn *fn, void *arg)
{
    static const pg_stmt_t s_q = { "read_producers",
        "SELECT p.name, p.acked_seq, p.last_seq, p.runs, p.gaps, p.last_seen, p.run_first,"
        " r.reason, r.count FROM audit.producer p"
        " LEFT JOIN audit.producer_rejected r ON r.producer = p.name"
        " ORDER BY p.name COLLATE \"C\"" };
    assert (store && fn);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 0, NULL);
    if (!result)
        return -1;
    audit_store_producer_t producer;
    memset (&producer, 0, sizeof producer);
    int rows = PQntuples (result);
    for (int row = 0; row < rows; row++) {
        if (row > 0 && strcmp (PQgetvalue (result, row, 0), producer.producer_id) != 0) {
            fn (&producer, arg);
            memset (&producer, 0, sizeof producer);
        }
        s_producer_row (result, row, &producer);
    }
    if (rows > 0)
        fn (&producer, arg);
    PQclear (result);
    return 0;
}

//  --------------------------------------------------------------------------
//  audit_store.h: the persistent counters

int
pg_counters_read (audit_store_t *store, audit_counters_fn *fn, void *arg)
{
    static const pg_stmt_t s_q = { "read_counters",
        "SELECT name, value FROM audit.counter ORDER BY name COLLATE \"C\"" };
    assert (store && fn);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 0, NULL);
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples (result); row++)
        fn (PQgetvalue (result, row, 0), pg_conn_int (result, row, 1), arg);
    PQclear (result);
    return 0;
}

//  --------------------------------------------------------------------------
//  audit_store_mq.h

//  One row into message; its payload is unescaped into *payload (freed by
//  the caller with PQfreemem). 0, or -1 without memory.
static int
s_message (PGresult *result, int row, audit_store_mq_message_t *message,
           unsigned char **payload)
{
    const char *uuid = PQgetvalue (result, row, 0);
    message->id_valid = !PQgetisnull (result, row, 0)
                     && audit_ident_uuid_parse (uuid, strlen (uuid), message->message_id) == 0;
    if (!message->id_valid)
        memset (message->message_id, 0, AUDIT_UUID_SIZE);
    message->timestamp_ms = pg_conn_int (result, row, 1);
    size_t size = 0;
    *payload = PQunescapeBytea ((const unsigned char *) PQgetvalue (result, row, 2), &size);
    message->payload = *payload;
    message->payload_size = size;
    return *payload? 0: -1;
}

int
pg_mq_fetch (audit_store_t *store, const char *org, const char *device, uint32_t limit,
             audit_store_mq_fn *fn, void *arg)
{
    static const pg_stmt_t s_q = { "read_mq_fetch",
        "SELECT message_id, ts, payload FROM queue.message"
        " WHERE org_id = $1 AND device_id = $2 ORDER BY ts, arrival LIMIT $3::bigint" };
    assert (store && org && device && fn);
    char count [16];
    snprintf (count, sizeof count, "%" PRIu32, limit);
    const char *values [] = { org, device, count };
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 3, values);
    if (!result)
        return -1;
    int rc = 0;
    for (int row = 0; rc == 0 && row < PQntuples (result); row++) {
        audit_store_mq_message_t message;
        unsigned char *payload = NULL;
        if (s_message (result, row, &message, &payload) != 0)
            rc = -1;
        else
        if (fn (&message, arg) != 0)
            row = PQntuples (result);   //  the visitor stopped: not an error
        PQfreemem (payload);
    }
    PQclear (result);
    return rc;
}

int
pg_mq_ack (audit_store_t *store, const char *org, const char *device,
           const uint8_t (*ids) [AUDIT_UUID_SIZE], size_t count, uint64_t *deleted)
{
    //  One statement over the ids, so one transaction by itself
    static const pg_stmt_t s_q = { "read_mq_ack",
        "DELETE FROM queue.message WHERE org_id = $1 AND device_id = $2"
        " AND message_id = ANY ($3::uuid[])" };
    assert (store && org && device && deleted);
    assert (ids || count == 0);
    pg_array_t array;
    pg_array_init (&array);
    for (size_t index = 0; index < count; index++)
        pg_array_uuid_add (&array, ids [index]);
    const char *values [] = { org, device, pg_array_text (&array) };
    int64_t rows = 0;
    int rc = values [2]? pg_conn_do (pg_core_self (store)->conn, &s_q, 3, values, &rows): -1;
    pg_array_free (&array);
    if (rc == 0)
        *deleted = (uint64_t) rows;
    return rc;
}

//  A slice of the queue at a time, past the last arrival seen
int
pg_mq_each (audit_store_t *store, audit_store_mq_each_fn *fn, void *arg)
{
    static const pg_stmt_t s_q = { "read_mq_each",
        "SELECT message_id, ts, payload, org_id, device_id, received, arrival"
        " FROM queue.message WHERE arrival > $1::bigint ORDER BY arrival LIMIT 1000" };
    assert (store && fn);
    int64_t after = 0;
    int rows = 1000, stopped = 0;
    while (!stopped && rows == 1000) {
        char after_text [24];
        snprintf (after_text, sizeof after_text, "%" PRId64, after);
        const char *values [] = { after_text };
        PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 1, values);
        if (!result)
            return -1;
        rows = PQntuples (result);
        int rc = 0;
        for (int row = 0; rc == 0 && !stopped && row < rows; row++) {
            audit_store_mq_message_t message;
            unsigned char *payload = NULL;
            if (s_message (result, row, &message, &payload) != 0)
                rc = -1;
            else
                stopped = fn (PQgetvalue (result, row, 3), PQgetvalue (result, row, 4),
                              pg_conn_int (result, row, 5), &message, arg);
            after = pg_conn_int (result, row, 6);
            PQfreemem (payload);
        }
        PQclear (result);
        if (rc != 0)
            return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  audit_store_workers.h: two rows of audit.meta per worker,
//  'heartbeat.<name>' (ms since the epoch) and 'heartbeat_interval.<name>'

static void
s_keys (audit_worker_id_t worker, char *beat, char *interval, size_t size)
{
    snprintf (beat, size, "heartbeat.%s", audit_proto_worker_name (worker));
    snprintf (interval, size, "heartbeat_interval.%s", audit_proto_worker_name (worker));
}

int
pg_heartbeat (audit_store_t *store, audit_worker_id_t worker, int64_t now_ms,
              int64_t interval_ms)
{
    static const pg_stmt_t s_q = { "read_heartbeat",
        "INSERT INTO audit.meta (key, value) VALUES ($1, $2::bigint), ($3, $4::bigint)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value" };
    assert (store);
    char beat [64], interval [64], now [24], every [24];
    s_keys (worker, beat, interval, sizeof beat);
    snprintf (now, sizeof now, "%" PRId64, now_ms);
    snprintf (every, sizeof every, "%" PRId64, interval_ms);
    const char *values [] = { beat, now, interval, every };
    return pg_conn_do (pg_core_self (store)->conn, &s_q, 4, values, NULL);
}

int
pg_heartbeat_read (audit_store_t *store, audit_worker_id_t worker, bool *known,
                   int64_t *last_ms, int64_t *interval_ms)
{
    //  Both keys in one round trip: a row each that exists
    static const pg_stmt_t s_q = { "read_heartbeat_read",
        "SELECT key = $1, value FROM audit.meta WHERE key IN ($1, $2)" };
    assert (store && known && last_ms && interval_ms);
    char beat [64], interval [64];
    s_keys (worker, beat, interval, sizeof beat);
    const char *values [] = { beat, interval };
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_q, 2, values);
    if (!result)
        return -1;
    *known = false;
    *last_ms = 0;
    *interval_ms = 0;
    for (int row = 0; row < PQntuples (result); row++) {
        bool is_beat = strcmp (PQgetvalue (result, row, 0), "t") == 0;
        if (is_beat)
            *known = true;
        *(is_beat? last_ms: interval_ms) = pg_conn_int (result, row, 1);
    }
    PQclear (result);
    return 0;
}
