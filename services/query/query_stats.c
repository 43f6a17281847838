/*  =========================================================================
    query_stats - the stats op: ingest counters, rows now, janitor totals,
    and the query worker's error replies by code
    ========================================================================= */

#include "query_stats.h"
#include "query_workers.h"
#include "audit_reserve.h"
#include "query_producers.h"

#include <stdlib.h>
#include <string.h>

#include "audit_store_stats.h"
#include "audit_time.h"

typedef struct {
    char name [AUDIT_COUNTER_NAME_MAX + 1];
    int64_t value;
} s_counter_t;

//  Every persistent total, sorted by name so that each family is a run
typedef struct {
    s_counter_t *rows;
    size_t count, capacity;
} s_totals_t;

static void
s_collect (const char *name, int64_t value, void *arg)
{
    s_totals_t *totals = (s_totals_t *) arg;
    if (totals->count == totals->capacity) {
        size_t capacity = totals->capacity ? totals->capacity * 2 : 64;
        s_counter_t *rows = realloc (totals->rows, capacity * sizeof *rows);
        if (!rows)
            return;
        totals->rows = rows;
        totals->capacity = capacity;
    }
    s_counter_t *row = &totals->rows [totals->count++];
    snprintf (row->name, sizeof row->name, "%s", name);
    row->value = value;
}

static int
s_compare (const void *left, const void *right)
{
    return strcmp (((const s_counter_t *) left)->name, ((const s_counter_t *) right)->name);
}

static int64_t
s_total_of (const s_totals_t *totals, const char *name)
{
    for (size_t index = 0; index < totals->count; index++)
        if (strcmp (totals->rows [index].name, name) == 0)
            return totals->rows [index].value;
    return 0;
}

static int64_t
s_total (const s_totals_t *totals, audit_counter_t counter)
{
    return s_total_of (totals, audit_counters_name (counter));
}

//  The total of prefix.suffix in a family
static int64_t
s_total_in (const s_totals_t *totals, audit_counter_family_t family, const char *suffix)
{
    char name [AUDIT_COUNTER_NAME_MAX + 1];
    snprintf (name, sizeof name, "%s%s", audit_counters_family_prefix (family), suffix);
    return s_total_of (totals, name);
}

//  key: {suffix: value} for every total named prefix.suffix
static void
s_pack_family (query_reply_t *reply, const s_totals_t *totals, const char *key,
               audit_counter_family_t family)
{
    const char *prefix = audit_counters_family_prefix (family);
    size_t len = strlen (prefix);
    uint32_t members = 0;
    for (size_t index = 0; index < totals->count; index++)
        members += strncmp (totals->rows [index].name, prefix, len) == 0;
    query_reply_str (reply, key);
    msgpack_pack_map (&reply->packer, members);
    for (size_t index = 0; index < totals->count; index++)
        if (strncmp (totals->rows [index].name, prefix, len) == 0)
            query_reply_kv_uint (reply, totals->rows [index].name + len,
                                 (uint64_t) totals->rows [index].value);
}

//  Every reason is listed, with 0 where nothing was rejected for it
static void
s_pack_rejected (query_reply_t *reply, const s_totals_t *totals)
{
    query_reply_str (reply, "rejected");
    msgpack_pack_map (&reply->packer, AUDIT_REASON_COUNT);
    for (int reason = 0; reason < AUDIT_REASON_COUNT; reason++) {
        const char *name = audit_proto_reason_name ((audit_reason_t) reason);
        //  A duplicate is counted once, under ingest.duplicate
        int64_t total = reason == AUDIT_REASON_DUPLICATE
                      ? s_total (totals, AUDIT_COUNTER_INGEST_DUPLICATE)
                      : s_total_in (totals, AUDIT_COUNTER_FAMILY_INGEST_REJECTED, name);
        query_reply_kv_uint (reply, name, (uint64_t) total);
    }
}

static void
s_pack_ingest (query_reply_t *reply, const s_totals_t *totals)
{
    query_reply_str (reply, "ingest");
    msgpack_pack_map (&reply->packer, 14);
    query_reply_kv_uint (reply, "received", (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_RECEIVED));
    //  Producer connections that ended, libzmq's drops of an oversized
    //  frame among them (ingest_watch.h)
    query_reply_kv_uint (reply, "disconnected",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_DISCONNECTED));
    //  CURVE: handshakes refused, messages of a key removed since, hellos refused
    query_reply_kv_uint (reply, "curve_refused",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_CURVE_REFUSED));
    query_reply_kv_uint (reply, "curve_revoked",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_CURVE_REVOKED));
    query_reply_kv_uint (reply, "ack_refused",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_ACK_REFUSED));
    query_reply_kv_uint (reply, "stored", (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_STORED));
    query_reply_kv_uint (reply, "duplicate", (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_DUPLICATE));
    query_reply_kv_uint (reply, "write_failed",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_WRITE_FAILED));
    //  Runs of failed commits, and the retries in them (issue 12), counted
    //  in the batch that finally committed
    query_reply_kv_uint (reply, "degraded", (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_DEGRADED));
    query_reply_kv_uint (reply, "write_retried",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_INGEST_WRITE_RETRIED));
    s_pack_rejected (reply, totals);
    s_pack_family (reply, totals, "dropped_keys", AUDIT_COUNTER_FAMILY_INGEST_DROPPED_KEYS);
    s_pack_family (reply, totals, "dropped_keys_by_producer",
                   AUDIT_COUNTER_FAMILY_INGEST_DROPPED_BY_PRODUCER);
    s_pack_family (reply, totals, "gaps", AUDIT_COUNTER_FAMILY_INGEST_GAPS);
}

static int
s_pack_store (query_call_t *call)
{
    audit_store_stats_rows_t rows;
    if (audit_store_stats_rows (call->store, &rows) != 0)
        return -1;
    query_reply_str (call->reply, "store");
    msgpack_pack_map (&call->reply->packer, 3);
    query_reply_kv_uint (call->reply, "audit_events", rows.audit_events);
    query_reply_kv_uint (call->reply, "ops_records", rows.ops_records);
    query_reply_kv_uint (call->reply, "queued_messages", rows.queued_messages);
    return 0;
}

static void
s_pack_janitor (query_call_t *call, const s_totals_t *totals)
{
    query_reply_t *reply = call->reply;
    //  A last pass that cannot be read is reported as none, not as a failure
    bool known = false;
    int64_t last = 0;
    if (audit_store_stats_last_pass (call->store, &known, &last) != 0 || last < 0)
        known = false;
    query_reply_str (reply, "janitor");
    msgpack_pack_map (&reply->packer, 2);
    query_reply_str (reply, "deleted");
    msgpack_pack_map (&reply->packer, 3);
    query_reply_kv_uint (reply, "audit", (uint64_t) s_total (totals, AUDIT_COUNTER_JANITOR_DELETED_AUDIT));
    query_reply_kv_uint (reply, "ops", (uint64_t) s_total (totals, AUDIT_COUNTER_JANITOR_DELETED_OPS));
    query_reply_kv_uint (reply, "queue", (uint64_t) s_total (totals, AUDIT_COUNTER_JANITOR_DELETED_QUEUE));
    char text [AUDIT_TIME_TEXT_SIZE];
    if (known)
        audit_time_format (last, text);
    query_reply_kv_str_or_nil (reply, "last_pass", known ? text : NULL);
}

//  The data directory's space now: degraded when short or without its reserve
static void
s_pack_disk (query_call_t *call)
{
    query_reply_t *reply = call->reply;
    const char *reason = NULL;
    bool degraded = audit_reserve_degraded (call->shared->data_dir, &reason);
    int64_t free_bytes = audit_reserve_free_bytes (call->shared->data_dir);
    query_reply_str (reply, "disk");
    msgpack_pack_map (&reply->packer, 3);
    query_reply_kv_uint (reply, "free_bytes", free_bytes > 0? (uint64_t) free_bytes: 0);
    query_reply_str (reply, "degraded");
    (degraded? msgpack_pack_true: msgpack_pack_false) (&reply->packer);
    query_reply_kv_str_or_nil (reply, "reason", reason);
}

//  Every error code is listed, with 0 where no reply carried it
static void
s_pack_query (query_reply_t *reply, const s_totals_t *totals)
{
    query_reply_str (reply, "query");
    msgpack_pack_map (&reply->packer, 4);
    query_reply_kv_uint (reply, "curve_refused",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_QUERY_CURVE_REFUSED));
    //  unauthenticated replies past a peer's rate (query_throttle.h)
    query_reply_kv_uint (reply, "unauthenticated_delayed",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_QUERY_UNAUTH_DELAYED));
    query_reply_kv_uint (reply, "unauthenticated_dropped",
                         (uint64_t) s_total (totals, AUDIT_COUNTER_QUERY_UNAUTH_DROPPED));
    query_reply_str (reply, "errors");
    msgpack_pack_map (&reply->packer, AUDIT_ERROR_COUNT);
    for (int error = 0; error < AUDIT_ERROR_COUNT; error++) {
        const char *code = audit_proto_error_code ((audit_error_t) error);
        int64_t total = s_total_in (totals, AUDIT_COUNTER_FAMILY_QUERY_ERRORS, code);
        query_reply_kv_uint (reply, code, (uint64_t) total);
    }
}

void
query_stats_run (query_call_t *call)
{
    s_totals_t totals = { NULL, 0, 0 };
    if (audit_store_counters_read (call->store, s_collect, &totals) != 0) {
        free (totals.rows);
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the counters could not be read");
        return;
    }
    if (totals.count)
        qsort (totals.rows, totals.count, sizeof *totals.rows, s_compare);
    query_reply_ok (call->reply, 1);
    query_reply_str (call->reply, "stats");
    msgpack_pack_map (&call->reply->packer, 7);
    s_pack_ingest (call->reply, &totals);
    if (s_pack_store (call) != 0 || query_producers_pack (call) != 0)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the stores could not be read");
    else {
        s_pack_janitor (call, &totals);
        s_pack_query (call->reply, &totals);
        s_pack_disk (call);
        query_workers_pack_stats (call);
    }
    free (totals.rows);
}
