/*  =========================================================================
    test_store_ops - the store's typed operations for the query worker:
    retention get, the health probe, mq fetch and ack, pages of the ops
    log, and the stats (rows, the janitor's last pass)
    ========================================================================= */

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_store_health.h"
#include "audit_store_mq.h"
#include "audit_store_opslog.h"
#include "audit_store_org.h"
#include "audit_store_stats.h"
#include "test_support.h"

#define s_NOW 1790000000000LL

static char *s_dir;
static audit_store_t *s_maintainer;     //  writes the records, acks
static audit_store_t *s_reader;         //  what a query thread has

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("store_ops");
    cr_assert_not_null (s_dir);
    s_maintainer = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert_not_null (s_maintainer);
    s_reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    cr_assert_not_null (s_reader);
}

static void
s_teardown (void)
{
    audit_store_destroy (&s_reader);
    audit_store_destroy (&s_maintainer);
    test_tmpdir_destroy (&s_dir);
}

static void
s_write (const audit_record_t *records, size_t count)
{
    audit_store_outcome_t outcomes [16];
    cr_assert_leq (count, 16);
    cr_assert_eq (audit_store_write (s_maintainer, records, count, outcomes, NULL), 0);
    for (size_t index = 0; index < count; index++)
        cr_assert_eq (outcomes [index], AUDIT_STORE_STORED);
}

static void
s_uuid (uint8_t *uuid, uint32_t id)
{
    memset (uuid, 0x5A, AUDIT_UUID_SIZE);
    uuid [14] = (uint8_t) (id >> 8);
    uuid [15] = (uint8_t) id;
}

static void
s_event (audit_record_t *record, const char *org, uint32_t id)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = s_NOW;
    audit_event_t *event = &record->u.event;
    s_uuid (event->event_id, id);
    event->type = AUDIT_EVENT_RETENTION_CHANGED;
    event->timestamp_ms = s_NOW - id;
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "admin-1");
    event->present = AUDIT_FIELD_BIT (AUDIT_FIELD_RETENTION_DAYS);
    event->number [AUDIT_FIELD_RETENTION_DAYS] = 30;
}

TestSuite (store_ops, .init = s_setup, .fini = s_teardown);

//  --------------------------------------------------------------------------
//  Retention and health

Test (store_ops, retention_is_the_default_until_set)
{
    uint32_t days = 0;
    cr_assert_eq (audit_store_org_retention (s_reader, "org-unknown", &days), 0);
    cr_assert_eq (days, AUDIT_RETENTION_MAX_DAYS, "an unknown org keeps 365 days");

    audit_record_t record;
    s_event (&record, "org-seen", 1);
    s_write (&record, 1);
    days = 0;
    cr_assert_eq (audit_store_org_retention (s_reader, "org-seen", &days), 0);
    cr_assert_eq (days, AUDIT_RETENTION_MAX_DAYS, "a seen org that set nothing keeps 365");

    s_event (&record, "org-seen", 2);
    cr_assert_eq (audit_store_retention_set (s_maintainer, "org-seen", 30, &record), 0);
    cr_assert_eq (audit_store_org_retention (s_reader, "org-seen", &days), 0);
    cr_assert_eq (days, 30);
    cr_assert_eq (audit_store_org_retention (s_reader, "org-unknown", &days), 0);
    cr_assert_eq (days, AUDIT_RETENTION_MAX_DAYS, "another org is not changed");
}

Test (store_ops, health_reads_every_store)
{
    cr_assert_eq (audit_store_health_probe (s_reader), 0);
    cr_assert_eq (audit_store_health_probe (s_maintainer), 0);
}

//  --------------------------------------------------------------------------
//  mq fetch and ack

static const uint8_t s_payload [] = { 0x00, 0x01, 0xFE, 0xFF, 0x42 };

static void
s_mq (audit_record_t *record, const char *device, uint32_t id, int64_t ts_ms)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_MQ;
    record->received_ms = s_NOW;
    s_uuid (record->u.mq.message_id, id);
    strcpy (record->u.mq.org_id, "org-mq");
    snprintf (record->u.mq.device_id, sizeof record->u.mq.device_id, "%s", device);
    record->u.mq.timestamp_ms = ts_ms;
    record->u.mq.payload = s_payload;
    record->u.mq.payload_size = sizeof s_payload - (id % 3);
}

//  Messages device-a 1..3 (stored newest first) and device-b 4
static void
s_mq_write (void)
{
    audit_record_t records [4];
    s_mq (&records [0], "device-a", 3, s_NOW - 10);
    s_mq (&records [1], "device-a", 2, s_NOW - 20);
    s_mq (&records [2], "device-a", 1, s_NOW - 30);
    s_mq (&records [3], "device-b", 4, s_NOW - 40);
    s_write (records, 4);
}

typedef struct {
    uint32_t ids [8];
    size_t count;
    size_t stop_after;                  //  0: never
} s_seen_t;

static int
s_visit (const audit_store_mq_message_t *message, void *arg)
{
    s_seen_t *seen = (s_seen_t *) arg;
    cr_assert (message->id_valid);
    uint32_t id = message->message_id [15];
    cr_assert_eq (message->timestamp_ms, s_NOW - (id == 4 ? 40 : 10 * (4 - id)));
    cr_assert_eq (message->payload_size, sizeof s_payload - (id % 3));
    cr_assert_eq (memcmp (message->payload, s_payload, message->payload_size), 0);
    cr_assert_lt (seen->count, 8);
    seen->ids [seen->count++] = id;
    return seen->stop_after && seen->count == seen->stop_after;
}

Test (store_ops, mq_fetch_is_the_devices_own_oldest_first)
{
    s_mq_write ();
    s_seen_t seen = { .count = 0 };
    cr_assert_eq (audit_store_mq_fetch (s_reader, "org-mq", "device-a", 100, s_visit, &seen), 0);
    cr_assert_eq (seen.count, 3);
    cr_assert_eq (seen.ids [0], 1);
    cr_assert_eq (seen.ids [1], 2);
    cr_assert_eq (seen.ids [2], 3);

    seen = (s_seen_t) { .count = 0 };
    cr_assert_eq (audit_store_mq_fetch (s_reader, "org-mq", "device-a", 2, s_visit, &seen), 0);
    cr_assert_eq (seen.count, 2, "limit bounds the fetch");
    cr_assert_eq (seen.ids [1], 2);

    seen = (s_seen_t) { .count = 0, .stop_after = 1 };
    cr_assert_eq (audit_store_mq_fetch (s_reader, "org-mq", "device-a", 100, s_visit, &seen), 0);
    cr_assert_eq (seen.count, 1, "the visitor stops the fetch");

    seen = (s_seen_t) { .count = 0 };
    cr_assert_eq (audit_store_mq_fetch (s_reader, "org-other", "device-b", 100, s_visit, &seen), 0);
    cr_assert_eq (seen.count, 0, "another org's device of the same name gets nothing");
}

Test (store_ops, mq_ack_deletes_only_the_devices_own)
{
    s_mq_write ();
    uint8_t ids [3][AUDIT_UUID_SIZE];
    s_uuid (ids [0], 1);
    s_uuid (ids [1], 4);                //  device-b's
    s_uuid (ids [2], 99);               //  no such message
    uint64_t deleted = 77;
    cr_assert_eq (audit_store_mq_ack (s_maintainer, "org-mq", "device-b",
                                      (const uint8_t (*) [AUDIT_UUID_SIZE]) ids, 1, &deleted), 0);
    cr_assert_eq (deleted, 0, "another device's message is not deleted");
    cr_assert_eq (audit_store_mq_ack (s_maintainer, "org-mq", "device-a",
                                      (const uint8_t (*) [AUDIT_UUID_SIZE]) ids, 3, &deleted), 0);
    cr_assert_eq (deleted, 1, "only device-a's own id of the three");

    s_seen_t seen = { .count = 0 };
    cr_assert_eq (audit_store_mq_fetch (s_reader, "org-mq", "device-a", 100, s_visit, &seen), 0);
    cr_assert_eq (seen.count, 2);
    cr_assert_eq (seen.ids [0], 2);
    seen = (s_seen_t) { .count = 0 };
    cr_assert_eq (audit_store_mq_fetch (s_reader, "org-mq", "device-b", 100, s_visit, &seen), 0);
    cr_assert_eq (seen.count, 1, "device-b's message is still there");

    cr_assert_eq (audit_store_mq_ack (s_maintainer, "org-mq", "device-a",
                                      (const uint8_t (*) [AUDIT_UUID_SIZE]) ids, 0, &deleted), 0);
    cr_assert_eq (deleted, 0, "an empty ack deletes nothing");
}

Test (store_ops, mq_ack_needs_a_store_that_writes)
{
    s_mq_write ();
    uint8_t id [1][AUDIT_UUID_SIZE];
    s_uuid (id [0], 1);
    uint64_t deleted = 0;
    cr_assert_eq (audit_store_mq_ack (s_reader, "org-mq", "device-a",
                                      (const uint8_t (*) [AUDIT_UUID_SIZE]) id, 1, &deleted), -1);
    s_seen_t seen = { .count = 0 };
    cr_assert_eq (audit_store_mq_fetch (s_reader, "org-mq", "device-a", 100, s_visit, &seen), 0);
    cr_assert_eq (seen.count, 3, "nothing was deleted");
    //  The failed transaction left the connection usable
    cr_assert_eq (audit_store_mq_ack (s_maintainer, "org-mq", "device-a",
                                      (const uint8_t (*) [AUDIT_UUID_SIZE]) id, 1, &deleted), 0);
    cr_assert_eq (deleted, 1);
}

//  --------------------------------------------------------------------------
//  Pages of the ops log

//  Record n (1..6): its timestamp, client and status; 3 and 4 share a
//  timestamp, so only the store's key orders them
static const struct { int64_t age_ms; const char *ip; uint16_t status; } s_ops_rows [] = {
    { 0, NULL, 0 },
    { 50, "192.0.2.1", 200 }, { 40, "192.0.2.2", 500 }, { 30, "192.0.2.1", 200 },
    { 30, "192.0.2.1", 404 }, { 20, "192.0.2.2", 200 }, { 10, "192.0.2.1", 200 }
};

static void
s_ops_write (void)
{
    audit_record_t records [6];
    for (int n = 1; n <= 6; n++) {
        audit_record_t *record = &records [n - 1];
        memset (record, 0, sizeof *record);
        record->kind = AUDIT_TOPIC_KIND_OPS;
        record->received_ms = s_NOW;
        record->u.ops.timestamp_ms = s_NOW - s_ops_rows [n].age_ms;
        strcpy (record->u.ops.client_ip, s_ops_rows [n].ip);
        strcpy (record->u.ops.method, "GET");
        snprintf (record->u.ops.path, sizeof record->u.ops.path, "/r/%d", n);
        record->u.ops.status = s_ops_rows [n].status;
    }
    s_write (records, 6);
}

static audit_store_opslog_query_t
s_query_all (uint32_t limit)
{
    audit_store_opslog_query_t query = {
        .from_ms = INT64_MIN, .to_ms = INT64_MAX,
        .after_ts_ms = INT64_MAX, .after_id = INT64_MAX, .limit = limit
    };
    return query;
}

//  The page's records as a string of their numbers ("654"), whether more
//  follow, and the last one's position
static void
s_page (const audit_store_opslog_query_t *query, char *numbers, bool *more,
        audit_store_opslog_record_t *last)
{
    audit_store_opslog_t *page = audit_store_opslog_open (s_reader, query);
    cr_assert_not_null (page);
    audit_store_opslog_record_t record;
    size_t count = 0;
    int rc;
    while ((rc = audit_store_opslog_step (page, &record)) == 1) {
        int n = atoi (record.path + 3);
        cr_assert (n >= 1 && n <= 6);
        cr_assert_eq (record.timestamp_ms, s_NOW - s_ops_rows [n].age_ms);
        cr_assert_str_eq (record.client_ip, s_ops_rows [n].ip);
        cr_assert_str_eq (record.method, "GET");
        cr_assert_eq (record.status, s_ops_rows [n].status);
        numbers [count++] = (char) ('0' + n);
        *last = record;
    }
    numbers [count] = 0;
    cr_assert_eq (rc, 0);
    cr_assert_eq (audit_store_opslog_step (page, &record), 0, "an ended page stays ended");
    *more = audit_store_opslog_more (page);
    audit_store_opslog_close (&page);
    audit_store_opslog_close (&page);
    cr_assert_null (page);
}

Test (store_ops, ops_pages_are_newest_first_and_follow_their_keyset)
{
    s_ops_write ();
    const char *expected [] = { "65", "43", "21" };
    audit_store_opslog_query_t query = s_query_all (2);
    for (int index = 0; index < 3; index++) {
        char numbers [8];
        bool more;
        audit_store_opslog_record_t last;
        s_page (&query, numbers, &more, &last);
        cr_assert_str_eq (numbers, expected [index], "page %d", index);
        cr_assert_eq (more, index < 2, "page %d: a full last page has no next", index);
        query.after_ts_ms = last.timestamp_ms;
        query.after_id = last.id;
    }
}

Test (store_ops, ops_page_boundaries)
{
    s_ops_write ();
    char numbers [8];
    bool more;
    audit_store_opslog_record_t last;
    audit_store_opslog_query_t query = s_query_all (6);
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "654321");
    cr_assert_not (more, "exactly the limit: no next page");
    query.limit = 5;
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "65432");
    cr_assert (more, "one past the limit: a next page");

    //  After record 4, the next is 3: the same timestamp, a smaller key
    query = s_query_all (1);
    s_page (&query, numbers, &more, &last);
    for (int step = 0; step < 2; step++) {
        query.after_ts_ms = last.timestamp_ms;
        query.after_id = last.id;
        s_page (&query, numbers, &more, &last);
    }
    cr_assert_str_eq (numbers, "4");
    query.after_ts_ms = last.timestamp_ms;
    query.after_id = last.id;
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "3", "the tie is broken by the key, not skipped");

    query = s_query_all (0);
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "");
    cr_assert (more);
}

Test (store_ops, ops_page_filters)
{
    s_ops_write ();
    char numbers [8];
    bool more;
    audit_store_opslog_record_t last;
    audit_store_opslog_query_t query = s_query_all (100);
    query.status = 200;
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "6531");
    query.status = 0;
    query.client_ip = "192.0.2.1";
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "6431");
    query.client_ip = "";
    query.from_ms = s_NOW - 30;         //  from is in, to is out
    query.to_ms = s_NOW - 10;
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "543");
    cr_assert_not (more);
    query.client_ip = "192.0.2.9";
    s_page (&query, numbers, &more, &last);
    cr_assert_str_eq (numbers, "");
}

//  --------------------------------------------------------------------------
//  Stats

Test (store_ops, stats_count_each_stores_rows)
{
    audit_store_stats_rows_t rows = { 9, 9, 9 };
    cr_assert_eq (audit_store_stats_rows (s_reader, &rows), 0);
    cr_assert_eq (rows.audit_events, 0);
    cr_assert_eq (rows.ops_records, 0);
    cr_assert_eq (rows.queued_messages, 0);
    audit_record_t record;
    s_event (&record, "org-a", 1);
    s_write (&record, 1);
    s_event (&record, "org-b", 2);
    s_write (&record, 1);
    s_ops_write ();
    s_mq_write ();
    cr_assert_eq (audit_store_stats_rows (s_reader, &rows), 0);
    cr_assert_eq (rows.audit_events, 2);
    cr_assert_eq (rows.ops_records, 6);
    cr_assert_eq (rows.queued_messages, 4);
}

Test (store_ops, stats_last_pass_is_unknown_until_the_janitor_ran)
{
    bool known = true;
    int64_t when = -1;
    cr_assert_eq (audit_store_stats_last_pass (s_reader, &known, &when), 0);
    cr_assert_not (known);
    //  What the janitor writes at the end of a pass
    sqlite3 *db = audit_store_db (s_maintainer, AUDIT_DB_AUDIT);
    char sql [128];
    snprintf (sql, sizeof sql, "INSERT INTO meta (key, value) VALUES"
              " ('janitor_last_pass', %lld)", (long long) s_NOW);
    cr_assert_eq (sqlite3_exec (db, sql, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq (audit_store_stats_last_pass (s_reader, &known, &when), 0);
    cr_assert (known);
    cr_assert_eq (when, s_NOW);
}

//  --------------------------------------------------------------------------
//  The statements go with their connection

static int
s_open_files (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    cr_assert_not_null (dir);
    int count = 0;
    while (readdir (dir))
        count++;
    closedir (dir);
    return count;
}

Test (store_ops, a_closed_store_leaves_no_connection_open)
{
    s_ops_write ();
    int before = 0;
    for (int round = 0; round < 20; round++) {
        audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_READER);
        cr_assert_not_null (store);
        uint32_t days;
        audit_store_stats_rows_t rows;
        cr_assert_eq (audit_store_org_retention (store, "org-a", &days), 0);
        cr_assert_eq (audit_store_health_probe (store), 0);
        cr_assert_eq (audit_store_stats_rows (store, &rows), 0);
        cr_assert_eq (rows.ops_records, 6);
        audit_store_destroy (&store);
        if (round == 0)
            before = s_open_files ();
    }
    cr_assert_eq (s_open_files (), before, "every connection closed for good");
}
