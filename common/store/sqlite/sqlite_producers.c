/*  =========================================================================
    sqlite_producers - each producer's acknowledgement state in audit.db

    The writer's state is the truth (one ingest writer per data
    directory), so a row is replaced whole rather than added to; reasons
    with nothing rejected get no row.
    ========================================================================= */

#include "sqlite_producers.h"
#include "audit_store_sql.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

static int
s_write_one (audit_store_t *store, const audit_store_producer_t *producer)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT,
        "INSERT OR REPLACE INTO producer (name, acked_seq, last_seq, runs, gaps, last_seen,"
        " run_first) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, producer->producer_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 2, (int64_t) producer->acked_seq);
    sqlite3_bind_int64 (stmt, 3, (int64_t) producer->last_seq);
    sqlite3_bind_int64 (stmt, 4, (int64_t) producer->runs);
    sqlite3_bind_int64 (stmt, 5, (int64_t) producer->gaps);
    sqlite3_bind_int64 (stmt, 6, producer->last_seen_ms);
    sqlite3_bind_text (stmt, 7, producer->run_first, -1, SQLITE_STATIC);
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, NULL);
    audit_store_sql_free (stmt);
    return rc;
}

static int
s_write_rejected (audit_store_t *store, const audit_store_producer_t *producer)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT,
        "INSERT OR REPLACE INTO producer_rejected (producer, reason, count)"
        " VALUES (?1, ?2, ?3)");
    int rc = stmt? 0: -1;
    for (int reason = 0; rc == 0 && reason < AUDIT_REASON_COUNT; reason++) {
        if (producer->rejected [reason] == 0)
            continue;
        sqlite3_bind_text (stmt, 1, producer->producer_id, -1, SQLITE_STATIC);
        sqlite3_bind_text (stmt, 2, audit_proto_reason_name ((audit_reason_t) reason), -1,
                           SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 3, (int64_t) producer->rejected [reason]);
        rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, NULL);
    }
    audit_store_sql_free (stmt);
    return rc;
}

int
sqlite_producers_write (audit_store_t *store, const audit_store_producer_t *producers,
                        size_t count)
{
    for (size_t index = 0; index < count; index++)
        if (s_write_one (store, &producers [index]) != 0
        ||  s_write_rejected (store, &producers [index]) != 0)
            return -1;
    return 0;
}

//  One joined row into the producer being assembled
static void
s_take_row (sqlite3_stmt *stmt, audit_store_producer_t *producer)
{
    snprintf (producer->producer_id, sizeof producer->producer_id, "%s",
              (const char *) sqlite3_column_text (stmt, 0));
    producer->acked_seq = (uint64_t) sqlite3_column_int64 (stmt, 1);
    producer->last_seq = (uint64_t) sqlite3_column_int64 (stmt, 2);
    producer->runs = (uint64_t) sqlite3_column_int64 (stmt, 3);
    producer->gaps = (uint64_t) sqlite3_column_int64 (stmt, 4);
    producer->last_seen_ms = sqlite3_column_int64 (stmt, 5);
    snprintf (producer->run_first, sizeof producer->run_first, "%s",
              (const char *) sqlite3_column_text (stmt, 6));
    //  A reason this build does not know is left out (NULL: no row)
    audit_reason_t reason;
    const char *name = (const char *) sqlite3_column_text (stmt, 7);
    if (name && audit_proto_reason_lookup (name, strlen (name), &reason) == 0)
        producer->rejected [reason] = (uint64_t) sqlite3_column_int64 (stmt, 8);
}

int
sqlite_producers_read (audit_store_t *store, audit_store_producer_fn *fn, void *arg)
{
    assert (store && fn);
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT,
        "SELECT p.name, p.acked_seq, p.last_seq, p.runs, p.gaps, p.last_seen,"
        " p.run_first, r.reason, r.count FROM producer p"
        " LEFT JOIN producer_rejected r ON r.producer = p.name ORDER BY p.name");
    if (!stmt)
        return -1;
    audit_store_producer_t producer;
    memset (&producer, 0, sizeof producer);
    bool open = false;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *name = (const char *) sqlite3_column_text (stmt, 0);
        if (open && strcmp (name, producer.producer_id) != 0) {
            fn (&producer, arg);
            memset (&producer, 0, sizeof producer);
        }
        s_take_row (stmt, &producer);
        open = true;
    }
    if (rc == SQLITE_DONE && open)
        fn (&producer, arg);
    if (rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "producers read");
    audit_store_sql_free (stmt);
    return rc == SQLITE_DONE? 0: -1;
}
