/*  The catalogue tables and everything derived from them */

#include <criterion/criterion.h>
#include <string.h>

#include "audit_proto.h"

Test (proto, every_event_type_round_trips_by_name)
{
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        const audit_event_info_t *info = audit_proto_event_info ((audit_event_type_t) type);
        cr_assert_not_null (info);
        audit_event_type_t found;
        cr_assert_eq (audit_proto_event_lookup (info->name, strlen (info->name), &found), 0);
        cr_assert_eq ((int) found, type, "%s", info->name);
        cr_assert_eq (info->required & info->optional, 0, "%s: a field both required and optional", info->name);
    }
}

Test (proto, catalogue_matches_the_contract)
{
    audit_event_type_t type;
    cr_assert_eq (AUDIT_EVENT_COUNT, 20);
    cr_assert_eq (audit_proto_event_lookup ("broadcast_sent", 14, &type), 0);
    const audit_event_info_t *info = audit_proto_event_info (type);
    cr_assert_str_eq (audit_proto_category_name (info->category), "broadcast");
    cr_assert_eq (info->required, AUDIT_FIELD_BIT (AUDIT_FIELD_BROADCAST_ID)
                                | AUDIT_FIELD_BIT (AUDIT_FIELD_RECIPIENT_COUNT));
    cr_assert_eq (info->optional, AUDIT_FIELD_BIT (AUDIT_FIELD_GROUP_ID));
    cr_assert_not (info->reserved);
    cr_assert_eq (audit_proto_event_lookup ("retention_changed", 17, &type), 0);
    cr_assert (audit_proto_event_info (type)->reserved);
    cr_assert_eq (audit_proto_event_lookup ("audit_log_exported", 18, &type), 0);
    cr_assert (audit_proto_event_info (type)->reserved);
}

Test (proto, lookups_refuse_near_misses)
{
    audit_event_type_t type;
    cr_assert_eq (audit_proto_event_lookup ("user_logi", 9, &type), -1);
    cr_assert_eq (audit_proto_event_lookup ("user_loginx", 11, &type), -1);
    cr_assert_eq (audit_proto_event_lookup ("USER_LOGIN", 10, &type), -1);
    audit_field_t field;
    cr_assert_eq (audit_proto_field_lookup ("message_body", 12, &field), -1);
    cr_assert_eq (audit_proto_field_lookup ("file_size", 9, &field), 0);
    cr_assert_eq (field, AUDIT_FIELD_FILE_SIZE);
    cr_assert_null (audit_proto_event_info (AUDIT_EVENT_COUNT));
}

Test (proto, csv_header_is_the_contract_header)
{
    cr_assert_str_eq (audit_proto_csv_header (),
        "timestamp,event_type,org_id,actor_id,user_id,device_id,group_id,role,"
        "broadcast_id,recipient_count,file_ref,file_size,event_id,retention_days,log_index");
}

Test (proto, topics_match_prefix_and_shard_only)
{
    cr_assert_eq (audit_proto_topic_kind ("audit", 5), AUDIT_TOPIC_KIND_AUDIT);
    cr_assert_eq (audit_proto_topic_kind ("audit.acme", 10), AUDIT_TOPIC_KIND_AUDIT);
    cr_assert_eq (audit_proto_topic_kind ("ops.eu-1", 8), AUDIT_TOPIC_KIND_OPS);
    cr_assert_eq (audit_proto_topic_kind ("mq", 2), AUDIT_TOPIC_KIND_MQ);
    cr_assert_eq (audit_proto_topic_kind ("auditx", 6), AUDIT_TOPIC_KIND_UNKNOWN);
    cr_assert_eq (audit_proto_topic_kind ("mqtt", 4), AUDIT_TOPIC_KIND_UNKNOWN);
    cr_assert_eq (audit_proto_topic_kind ("", 0), AUDIT_TOPIC_KIND_UNKNOWN);
}

Test (proto, reasons_and_errors_have_wire_names)
{
    cr_assert_str_eq (audit_proto_reason_name (AUDIT_REASON_MALFORMED), "malformed");
    cr_assert_str_eq (audit_proto_reason_name (AUDIT_REASON_DUPLICATE), "duplicate");
    cr_assert_str_eq (audit_proto_error_code (AUDIT_ERROR_BAD_REQUEST), "bad_request");
    cr_assert_str_eq (audit_proto_error_code (AUDIT_ERROR_INTERNAL), "internal");
    for (int reason = 0; reason < AUDIT_REASON_COUNT; reason++)
        cr_assert_neq (strcmp (audit_proto_reason_name ((audit_reason_t) reason), "?"), 0);
}
