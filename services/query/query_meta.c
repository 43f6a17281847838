/*  =========================================================================
    query_meta - the ops that need no token: health and catalog
    ========================================================================= */

#include "query_meta.h"
#include "query_workers.h"

#include "audit_reserve.h"
#include "audit_store_health.h"

void
query_meta_health (query_call_t *call)
{
    if (audit_store_health_probe (call->store) != 0) {
        query_reply_fail (call->reply, AUDIT_ERROR_UNAVAILABLE, "a store cannot be read");
        return;
    }
    //  A full disk is not a failure of the query side: ok, and said (issue 12)
    const char *reason = NULL;
    bool degraded = audit_reserve_degraded (call->shared->data_dir, &reason);
    query_reply_ok (call->reply, 5);
    query_reply_kv_str (call->reply, "service", "query");
    query_reply_kv_str (call->reply, "version", call->shared->version);
    query_reply_str (call->reply, "degraded");
    (degraded? msgpack_pack_true: msgpack_pack_false) (&call->reply->packer);
    query_reply_kv_str_or_nil (call->reply, "degraded_reason", reason);
    query_workers_pack_health (call);
}

//  A type's fields in the order the contract's catalogue lists them: the
//  field table's order (audit_fields.def), but a group before its member
//  (group_member_added lists group_id, user_id), so group_id comes first.
//  A new field needs nothing here.
static void
s_pack_fields (query_reply_t *reply, const char *key, audit_field_mask_t mask)
{
    query_reply_str (reply, key);
    msgpack_pack_array (&reply->packer, (uint32_t) __builtin_popcount (mask));
    if (mask & AUDIT_FIELD_BIT (AUDIT_FIELD_GROUP_ID))
        query_reply_str (reply, audit_proto_field_info (AUDIT_FIELD_GROUP_ID)->key);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (field != AUDIT_FIELD_GROUP_ID && (mask & AUDIT_FIELD_BIT (field)))
            query_reply_str (reply, audit_proto_field_info ((audit_field_t) field)->key);
}

void
query_meta_catalog (query_call_t *call)
{
    query_reply_t *reply = call->reply;
    query_reply_ok (reply, 2);
    query_reply_kv_uint (reply, "version", AUDIT_PROTO_VERSION);
    query_reply_str (reply, "event_types");
    msgpack_pack_array (&reply->packer, AUDIT_EVENT_COUNT);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        const audit_event_info_t *info = audit_proto_event_info ((audit_event_type_t) type);
        msgpack_pack_map (&reply->packer, 4);
        query_reply_kv_str (reply, "event_type", info->name);
        query_reply_kv_str (reply, "category", audit_proto_category_name (info->category));
        s_pack_fields (reply, "required", info->required);
        s_pack_fields (reply, "optional", info->optional);
    }
}
