/*  =========================================================================
    test_store_producers - each producer's acknowledgement state in
    audit.db: written in the batch's transaction, read back whole, and
    never ahead of the events when the transaction fails
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "audit_store.h"
#include "audit_store_producers.h"
#include "sqlite_store.h"
#include "test_support.h"

static char *s_dir;

static void s_setup (void) { s_dir = test_tmpdir_new ("store_producers"); cr_assert_not_null (s_dir); }
static void s_teardown (void) { test_tmpdir_destroy (&s_dir); }

TestSuite (store_producers, .init = s_setup, .fini = s_teardown);

typedef struct {
    audit_store_producer_t rows [8];
    int count;
} s_seen_t;

static void
s_collect (const audit_store_producer_t *producer, void *arg)
{
    s_seen_t *seen = (s_seen_t *) arg;
    if (seen->count < 8)
        seen->rows [seen->count++] = *producer;
}

static audit_store_producer_t
s_producer (const char *name, uint64_t acked)
{
    audit_store_producer_t producer;
    memset (&producer, 0, sizeof producer);
    snprintf (producer.producer_id, sizeof producer.producer_id, "%s", name);
    producer.acked_seq = acked;
    producer.last_seq = acked + 5;
    producer.runs = 2;
    producer.gaps = 7;
    producer.rejected [AUDIT_REASON_BAD_FIELD] = 3;
    producer.rejected [AUDIT_REASON_MISSING_FIELD] = 1;
    producer.last_seen_ms = 1790000000123LL;
    snprintf (producer.run_first, sizeof producer.run_first, "0190f3f4-0000-7000-8000-0000000000%02d",
              (int) (acked % 100));
    return producer;
}

static const audit_record_t *
s_next (void *arg, size_t index)
{
    return &((const audit_record_t *) arg) [index];
}

static void
s_login (audit_record_t *record, uint8_t id)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = test_now_ms ();
    memset (record->u.event.event_id, id, AUDIT_UUID_SIZE);
    record->u.event.type = AUDIT_EVENT_USER_LOGIN;
    record->u.event.timestamp_ms = test_now_ms ();
    strcpy (record->u.event.org_id, "org-a");
    strcpy (record->u.event.actor_id, "actor");
}

Test (store_producers, written_with_the_batch_and_read_back)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    audit_record_t record;
    s_login (&record, 1);
    audit_store_outcome_t outcome;
    audit_counters_t *counters = audit_counters_new ();
    audit_store_producer_t producers [2] = { s_producer ("svc-b", 9), s_producer ("svc-a", 1ULL << 63) };
    cr_assert_eq (audit_store_write_each (store, s_next, &record, 1,
                                          1u << AUDIT_TOPIC_KIND_AUDIT, &outcome, counters,
                                          producers, 2, NULL), 0);
    cr_expect_eq (test_store_counter (store, "ingest.stored"), 1, "counted in the same commit");
    //  A second write replaces the row, it does not add to it
    producers [0].acked_seq = 12;
    cr_assert_eq (audit_store_write_each (store, s_next, &record, 0, 0, NULL, NULL,
                                          producers, 1, NULL), 0);
    audit_store_destroy (&store);

    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    s_seen_t seen = { .count = 0 };
    cr_assert_eq (audit_store_producers_read (reader, s_collect, &seen), 0);
    cr_assert_eq (seen.count, 2);
    cr_expect_str_eq (seen.rows [0].producer_id, "svc-a", "in name order");
    cr_expect_eq (seen.rows [0].acked_seq, 1ULL << 63, "a uint64 survives");
    cr_expect_eq (seen.rows [1].acked_seq, 12);
    cr_expect_eq (seen.rows [1].last_seq, 14);
    cr_expect_eq (seen.rows [1].runs, 2);
    cr_expect_eq (seen.rows [1].gaps, 7);
    cr_expect_eq (seen.rows [1].rejected [AUDIT_REASON_BAD_FIELD], 3);
    cr_expect_eq (seen.rows [1].rejected [AUDIT_REASON_MISSING_FIELD], 1);
    cr_expect_eq (seen.rows [1].rejected [AUDIT_REASON_BAD_TIMESTAMP], 0);
    cr_expect_eq (seen.rows [1].last_seen_ms, 1790000000123LL);
    cr_expect_str_eq (seen.rows [1].run_first, "0190f3f4-0000-7000-8000-000000000009",
                      "the run's first event, as written the first time");
    audit_counters_destroy (&counters);
    audit_store_destroy (&reader);
}

Test (store_producers, a_failed_batch_leaves_no_state)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    sqlite3 *audit = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_assert_eq (sqlite3_exec (audit, "CREATE TRIGGER refuse BEFORE INSERT ON event"
                                " BEGIN SELECT RAISE (ABORT, 'refused'); END", NULL, NULL, NULL),
                  SQLITE_OK);
    audit_record_t record;
    s_login (&record, 2);
    audit_store_outcome_t outcome;
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_add (counters, "ingest.received", 1);
    audit_store_producer_t producer = s_producer ("svc-a", 4);
    cr_expect_eq (audit_store_write_each (store, s_next, &record, 1, 1u << AUDIT_TOPIC_KIND_AUDIT,
                                          &outcome, counters, &producer, 1, NULL), -1);
    cr_expect_eq (test_store_int (store, AUDIT_DB_AUDIT, "SELECT count(*) FROM producer"), 0);
    cr_expect_eq (test_store_int (store, AUDIT_DB_AUDIT, "SELECT count(*) FROM counter"), 0);
    cr_expect_eq (audit_counters_get (counters, "ingest.received"), 1, "kept for a retry");
    audit_counters_destroy (&counters);
    audit_store_destroy (&store);
}
