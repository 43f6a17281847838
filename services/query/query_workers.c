/*  =========================================================================
    query_workers - health.workers and stats.workers from the heartbeats
    ========================================================================= */

#include "query_workers.h"

#include "audit_store_workers.h"
#include "audit_time.h"

bool
query_workers_up (audit_store_t *store, audit_worker_id_t worker, int64_t now_ms)
{
    bool known = false;
    int64_t last = 0, interval = 0;
    if (audit_store_heartbeat_read (store, worker, &known, &last, &interval) != 0 || !known)
        return false;
    int64_t up_ms = audit_proto_worker_up_ms (worker);
    if (up_ms == 0)
        up_ms = 2 * interval;
    return now_ms - last <= up_ms;
}

void
query_workers_pack_health (query_call_t *call)
{
    int64_t now = audit_time_now_ms ();
    query_reply_str (call->reply, "workers");
    msgpack_pack_map (&call->reply->packer, AUDIT_WORKER_COUNT);
    for (int worker = 0; worker < AUDIT_WORKER_COUNT; worker++)
        query_reply_kv_str (call->reply, audit_proto_worker_name ((audit_worker_id_t) worker),
                            query_workers_up (call->store, (audit_worker_id_t) worker, now)
                            ? "up": "down");
}

void
query_workers_pack_stats (query_call_t *call)
{
    query_reply_str (call->reply, "workers");
    msgpack_pack_map (&call->reply->packer, AUDIT_WORKER_COUNT);
    for (int worker = 0; worker < AUDIT_WORKER_COUNT; worker++) {
        bool known = false;
        int64_t last = 0, interval = 0;
        if (audit_store_heartbeat_read (call->store, (audit_worker_id_t) worker, &known, &last,
                                        &interval) != 0)
            known = false;
        char text [AUDIT_TIME_TEXT_SIZE];
        if (known)
            audit_time_format (last, text);
        query_reply_str (call->reply, audit_proto_worker_name ((audit_worker_id_t) worker));
        msgpack_pack_map (&call->reply->packer, 1);
        query_reply_kv_str_or_nil (call->reply, "last_seen", known? text: NULL);
    }
}
