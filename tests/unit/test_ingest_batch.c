/*  A batch packs each record it keeps into its arena (only the present
    texts, and a copy of an undelivered-message payload, since the received
    frames are gone by the time it is written), gives the same record back
    unpacked, and refuses what would overflow */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ingest_batch.h"
#include "ingest_settle.h"

static audit_record_t *
s_mq_slot (ingest_batch_t *batch, const uint8_t *payload, size_t size)
{
    audit_record_t *record = ingest_batch_slot (batch);
    cr_assert_not_null (record);
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_MQ;
    record->received_ms = 77;
    record->u.mq.message_id [0] = 0xAB;
    record->u.mq.timestamp_ms = 66;
    strcpy (record->u.mq.org_id, "org-mq");
    strcpy (record->u.mq.device_id, "device-mq");
    record->u.mq.payload = payload;
    record->u.mq.payload_size = size;
    return record;
}

//  An event with every field its type allows, values derived from id
static void
s_event_slot (ingest_batch_t *batch, audit_event_type_t type, uint32_t id)
{
    audit_record_t *record = ingest_batch_slot (batch);
    cr_assert_not_null (record);
    memset (record, 0x5A, sizeof *record);      //  what a last decode left
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = 1000 + id;
    audit_event_t *event = &record->u.event;
    memset (event->event_id, (int) id, AUDIT_UUID_SIZE);
    event->type = type;
    event->timestamp_ms = 5000 + id;
    snprintf (event->org_id, sizeof event->org_id, "org-%u", id);
    snprintf (event->actor_id, sizeof event->actor_id, "actor-%u", id);
    snprintf (event->producer_id, sizeof event->producer_id, "%s", id % 2? "": "producer");
    event->seq = id * 3;
    event->has_seq = id % 2;
    const audit_event_info_t *info = audit_proto_event_info (type);
    event->present = info->required | info->optional;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT)
            event->number [field] = id * 100u + (unsigned) field;
        else
            snprintf (event->text [field], sizeof event->text [0], "f%d-%u", field, id);
}

static void
s_expect_event (const audit_event_t *event, audit_event_type_t type, uint32_t id)
{
    uint8_t uuid [AUDIT_UUID_SIZE];
    memset (uuid, (int) id, sizeof uuid);
    cr_expect_eq (memcmp (event->event_id, uuid, sizeof uuid), 0);
    cr_expect_eq (event->type, type);
    cr_expect_eq (event->timestamp_ms, 5000 + id);
    char text [AUDIT_IDENT_MAX + 1];
    snprintf (text, sizeof text, "org-%u", id);
    cr_expect_str_eq (event->org_id, text);
    snprintf (text, sizeof text, "actor-%u", id);
    cr_expect_str_eq (event->actor_id, text);
    cr_expect_str_eq (event->producer_id, id % 2? "": "producer");
    cr_expect_eq (event->seq, id * 3);
    cr_expect_eq (event->has_seq, id % 2);
    const audit_event_info_t *info = audit_proto_event_info (type);
    cr_expect_eq (event->present, info->required | info->optional);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        bool present = event->present & AUDIT_FIELD_BIT (field);
        bool number = audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT;
        snprintf (text, sizeof text, "f%d-%u", field, id);
        if (!present)
            cr_expect (event->text [field][0] == '\0' && event->number [field] == 0,
                       "an absent field %d is empty", field);
        else
        if (number)
            cr_expect_eq (event->number [field], id * 100u + (unsigned) field);
        else
            cr_expect_str_eq (event->text [field], text);
    }
}

Test (ingest_batch, events_come_back_as_they_were_kept)
{
    ingest_batch_t *batch = ingest_batch_new (AUDIT_EVENT_COUNT);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        s_event_slot (batch, (audit_event_type_t) type, (uint32_t) type + 1);
        cr_assert_eq (ingest_batch_commit (batch, 1000), 0);
    }
    cr_assert_null (ingest_batch_slot (batch));
    cr_expect_eq (batch->kinds, 1u << AUDIT_TOPIC_KIND_AUDIT);
    cr_expect_lt (batch->arena_used, (size_t) AUDIT_EVENT_COUNT * 400,
                  "packed: %zu bytes", batch->arena_used);
    for (int type = AUDIT_EVENT_COUNT - 1; type >= 0; type--) {
        const audit_record_t *record = ingest_batch_record (batch, (size_t) type);
        cr_assert_eq (record->kind, AUDIT_TOPIC_KIND_AUDIT);
        cr_expect_eq (record->received_ms, 1000 + type + 1);
        s_expect_event (&record->u.event, (audit_event_type_t) type, (uint32_t) type + 1);
    }
    ingest_batch_destroy (&batch);
}

Test (ingest_batch, ops_records_come_back_as_they_were_kept)
{
    ingest_batch_t *batch = ingest_batch_new (4);
    audit_record_t *record = ingest_batch_slot (batch);
    memset (record, 0x5A, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_OPS;
    record->received_ms = 12;
    record->u.ops.timestamp_ms = 11;
    strcpy (record->u.ops.client_ip, "192.0.2.7");
    strcpy (record->u.ops.method, "GET");
    strcpy (record->u.ops.path, "/v1/things");
    record->u.ops.status = 204;
    cr_assert_eq (ingest_batch_commit (batch, 1), 0);
    memset (record, 0, sizeof *record);
    record = (audit_record_t *) ingest_batch_record (batch, 0);
    cr_expect_eq (record->kind, AUDIT_TOPIC_KIND_OPS);
    cr_expect_eq (record->received_ms, 12);
    cr_expect_eq (record->u.ops.timestamp_ms, 11);
    cr_expect_str_eq (record->u.ops.client_ip, "192.0.2.7");
    cr_expect_str_eq (record->u.ops.method, "GET");
    cr_expect_str_eq (record->u.ops.path, "/v1/things");
    cr_expect_eq (record->u.ops.status, 204);
    cr_expect_eq (batch->kinds, 1u << AUDIT_TOPIC_KIND_OPS);
    ingest_batch_destroy (&batch);
}

Test (ingest_batch, payloads_are_copied_into_the_batch)
{
    ingest_batch_t *batch = ingest_batch_new (4);
    uint8_t frame [16] = "opaque-payload";
    s_mq_slot (batch, frame, sizeof frame);
    cr_assert_eq (ingest_batch_commit (batch, 1000), 0);
    memset (frame, 0, sizeof frame);            //  the frame is gone
    const audit_record_t *record = ingest_batch_record (batch, 0);
    cr_assert_eq (record->kind, AUDIT_TOPIC_KIND_MQ);
    cr_expect_neq ((void *) record->u.mq.payload, (void *) frame);
    cr_expect_eq (record->u.mq.payload_size, sizeof frame);
    cr_expect_eq (memcmp (record->u.mq.payload, "opaque-payload", 14), 0);
    cr_expect_eq (record->received_ms, 77);
    cr_expect_eq (record->u.mq.timestamp_ms, 66);
    cr_expect_eq (record->u.mq.message_id [0], 0xAB);
    cr_expect_str_eq (record->u.mq.org_id, "org-mq");
    cr_expect_str_eq (record->u.mq.device_id, "device-mq");
    cr_expect_eq (batch->count, 1);
    cr_expect_eq (batch->first_ms, 1000);
    ingest_batch_destroy (&batch);
    ingest_batch_destroy (&batch);
}

Test (ingest_batch, full_batches_and_arenas_say_so)
{
    ingest_batch_t *batch = ingest_batch_new (2);
    static uint8_t big [INGEST_BATCH_ARENA_SIZE];
    s_mq_slot (batch, big, INGEST_BATCH_ARENA_SIZE / 2);
    cr_assert_eq (ingest_batch_commit (batch, 1), 0);
    size_t used = batch->arena_used;
    s_mq_slot (batch, big, INGEST_BATCH_ARENA_SIZE / 2);
    cr_assert_eq (ingest_batch_commit (batch, 2), -1, "the arena cannot hold it");
    cr_assert_eq (batch->count, 1);
    cr_assert_eq (batch->arena_used, used, "nothing of it stays");
    s_mq_slot (batch, big, 10);
    cr_assert_eq (ingest_batch_commit (batch, 3), 0);
    cr_expect_eq (ingest_batch_record (batch, 1)->u.mq.payload_size, 10);
    cr_assert_null (ingest_batch_slot (batch), "two records fill a batch of two");
    cr_assert (ingest_batch_has_work (batch));
    ingest_batch_reset (batch);
    cr_assert_not (ingest_batch_has_work (batch));
    cr_assert_eq (batch->first_ms, 0);
    cr_assert_eq (batch->kinds, 0);
    audit_counters_add (batch->counters, "ingest.received", 1);
    cr_assert (ingest_batch_has_work (batch), "counter deltas are work too");
    ingest_batch_destroy (&batch);
}

//  A batch notes the messages that settle a producer's seq, in arrival
//  order, with each producer once; a rejection keeps its reason and
//  field; too many producers in one batch are refused, not grown into;
//  a reset empties it all
Test (batch, settling_messages_are_noted_in_order)
{
    ingest_batch_t *batch = ingest_batch_new (INGEST_BATCH_PRODUCERS_MAX + 8);
    cr_assert_not_null (batch);
    cr_assert_eq (ingest_batch_settle (batch, "p1", 1, (audit_reason_t) INGEST_SETTLE_ACCEPTED,
                                       "", NULL), 0);
    cr_assert_eq (ingest_batch_settle (batch, "p2", 7, AUDIT_REASON_BAD_FIELD,
                                       "0190f3f4-0000-7000-8000-000000000001", "device_id"), 0);
    cr_assert_eq (ingest_batch_settle (batch, "p1", 2, (audit_reason_t) INGEST_SETTLE_ACCEPTED,
                                       "", NULL), 0);
    cr_assert_eq (batch->settled_count, 3);
    cr_assert_eq (batch->producer_count, 2);
    cr_expect_eq (batch->settled [2].producer, batch->settled [0].producer);
    cr_expect_str_eq (batch->producers [batch->settled [1].producer], "p2");
    cr_expect_eq (batch->settled [1].reason, AUDIT_REASON_BAD_FIELD);
    cr_expect_str_eq (batch->settled [1].field, "device_id");
    cr_expect_str_eq (batch->settled [1].event_id, "0190f3f4-0000-7000-8000-000000000001");
    char name [32];
    for (int index = 2; index < INGEST_BATCH_PRODUCERS_MAX; index++) {
        snprintf (name, sizeof name, "made-up-%d", index);
        cr_assert_eq (ingest_batch_settle (batch, name, 1, AUDIT_REASON_MALFORMED, "", NULL), 0);
    }
    cr_expect_eq (ingest_batch_settle (batch, "one-too-many", 1, AUDIT_REASON_MALFORMED,
                                       "", NULL), -1);
    cr_expect_eq (ingest_batch_settle (batch, "p1", 3, (audit_reason_t) INGEST_SETTLE_ACCEPTED,
                                       "", NULL), 0, "a producer it follows still settles");
    ingest_batch_reset (batch);
    cr_expect_eq (batch->settled_count, 0);
    cr_expect_eq (batch->producer_count, 0);
    cr_expect_not (batch->committed);
    cr_expect_eq (ingest_batch_settle (batch, "one-too-many", 1, AUDIT_REASON_MALFORMED,
                                       "", NULL), 0);
    ingest_batch_destroy (&batch);
}
