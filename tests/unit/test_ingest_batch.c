/*  A batch copies undelivered-message payloads, since the received frames
    are gone by the time it is written, and refuses what would overflow */

#include <criterion/criterion.h>
#include <string.h>

#include "ingest_batch.h"

static audit_record_t *
s_mq_slot (ingest_batch_t *batch, const uint8_t *payload, size_t size)
{
    audit_record_t *record = ingest_batch_slot (batch);
    cr_assert_not_null (record);
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_MQ;
    record->u.mq.payload = payload;
    record->u.mq.payload_size = size;
    return record;
}

Test (ingest_batch, payloads_are_copied_into_the_batch)
{
    ingest_batch_t *batch = ingest_batch_new (4);
    uint8_t frame [16] = "opaque-payload";
    audit_record_t *record = s_mq_slot (batch, frame, sizeof frame);
    cr_assert_eq (ingest_batch_commit (batch, 1000), 0);
    memset (frame, 0, sizeof frame);            //  the frame is gone
    cr_assert_neq ((void *) record->u.mq.payload, (void *) frame);
    cr_assert_eq (memcmp (record->u.mq.payload, "opaque-payload", 14), 0);
    cr_assert_eq (batch->count, 1);
    cr_assert_eq (batch->first_ms, 1000);
    ingest_batch_destroy (&batch);
    ingest_batch_destroy (&batch);
}

Test (ingest_batch, full_batches_and_arenas_say_so)
{
    ingest_batch_t *batch = ingest_batch_new (2);
    static uint8_t big [INGEST_BATCH_ARENA_SIZE];
    s_mq_slot (batch, big, INGEST_BATCH_ARENA_SIZE - 10);
    cr_assert_eq (ingest_batch_commit (batch, 1), 0);
    s_mq_slot (batch, big, 11);
    cr_assert_eq (ingest_batch_commit (batch, 2), -1, "the arena cannot hold it");
    cr_assert_eq (batch->count, 1);
    s_mq_slot (batch, big, 10);
    cr_assert_eq (ingest_batch_commit (batch, 3), 0);
    cr_assert_null (ingest_batch_slot (batch), "two records fill a batch of two");
    cr_assert (ingest_batch_has_work (batch));
    ingest_batch_reset (batch);
    cr_assert_not (ingest_batch_has_work (batch));
    cr_assert_eq (batch->first_ms, 0);
    audit_counters_add (batch->counters, "ingest.received", 1);
    cr_assert (ingest_batch_has_work (batch), "counter deltas are work too");
    ingest_batch_destroy (&batch);
}
