/*  =========================================================================
    test_store_purge - the retention deletes of the store: a bounded batch
    of an organisation's expired events takes exactly the oldest of that
    organisation, whatever order their timestamps arrived in; ops and the
    queue by their own cut; the organisation walk; the last pass in meta;
    the maintainer's transactions and space
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_store_purge.h"
#include "audit_store_space.h"
#include "audit_time.h"
#include "test_support.h"

#define s_NOW   1795000000000LL
#define s_DAY   AUDIT_MS_PER_DAY
#define s_CUT   (s_NOW - 365 * s_DAY)

static char *s_dir;
static audit_store_t *s_writer;         //  plays the ingest worker
static audit_store_t *s_store;          //  the janitor's
static uint32_t s_serial;              //  events stored by s_event

static void
s_event (const char *org, int64_t ts)
{
    cr_assert_eq (test_store_login (s_writer, org, ts, s_NOW), 0);
    s_serial++;                         //  this file's count, in commit order
}

static int64_t
s_int (audit_db_t db, const char *sql)
{
    return test_store_int (s_writer, db, sql);
}

static int64_t
s_org (const char *name)
{
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT id FROM org WHERE name = '%s'", name);
    return s_int (AUDIT_DB_AUDIT, sql);
}

//  Events of org with ts in [from, to)
static int64_t
s_count (const char *org, int64_t from, int64_t to)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE org = %lld"
              " AND ts >= %lld AND ts < %lld", (long long) s_org (org), (long long) from,
              (long long) to);
    return s_int (AUDIT_DB_AUDIT, sql);
}

//  One purge batch of org in its own write transaction
static int64_t
s_purge (const char *org, int64_t max_rows, bool *more)
{
    int64_t deleted = -1;
    cr_assert_eq (audit_store_space_begin (s_store, AUDIT_DB_AUDIT), 0);
    int rc = audit_store_purge_events (s_store, s_org (org), s_CUT, max_rows, &deleted, more);
    cr_assert_eq (audit_store_space_end (s_store, AUDIT_DB_AUDIT, rc), 0);
    return deleted;
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("store-purge");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    s_store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert (s_writer && s_store);
    cr_assert_eq (audit_store_space_attach (s_store, AUDIT_DB_AUDIT, 1024), 0);
    s_serial = 0;
}

static void
s_teardown (void)
{
    audit_store_space_detach (s_store, AUDIT_DB_AUDIT);
    audit_store_destroy (&s_store);
    audit_store_destroy (&s_writer);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (store_purge, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test (store_purge, a_batch_takes_the_oldest_expired_events_of_its_org_only)
{
    for (int index = 0; index < 10; index++)
        s_event ("org-a", s_CUT - 1 - index);
    s_event ("org-a", s_CUT);                   //  exactly at the cut: kept
    s_event ("org-a", s_NOW);
    for (int index = 0; index < 5; index++)
        s_event ("org-b", s_CUT - 1 - index);
    bool more = false;
    cr_expect_eq (s_purge ("org-a", 4, &more), 4);
    cr_expect (more);
    cr_expect_eq (s_count ("org-a", 0, s_CUT - 6), 0, "the 4 oldest went");
    cr_expect_eq (s_count ("org-a", s_CUT - 6, s_CUT), 6);
    cr_expect_eq (s_purge ("org-a", 4, &more), 4);
    cr_expect (more);
    cr_expect_eq (s_purge ("org-a", 4, &more), 2);
    cr_expect_not (more);
    cr_expect_eq (s_purge ("org-a", 4, &more), 0);
    cr_expect_not (more);
    cr_expect_eq (s_count ("org-a", 0, INT64_MAX), 2, "the one at the cut and the live one");
    cr_expect_eq (s_count ("org-a", s_CUT, s_CUT + 1), 1);
    cr_expect_eq (s_count ("org-b", 0, INT64_MAX), 5, "another org's events are not touched");
}

//  A batch that ends exactly at the last expired event knows nothing is left
Test (store_purge, a_batch_that_takes_the_last_one_says_so)
{
    for (int index = 0; index < 3; index++)
        s_event ("org-a", s_CUT - 1 - index);
    bool more = true;
    cr_expect_eq (s_purge ("org-a", 3, &more), 3);
    cr_expect_not (more);
    cr_expect_eq (s_purge ("org-a", 0, &more), 0, "an empty batch deletes nothing");
}

typedef struct {
    int64_t ts;
    uint32_t serial;
} s_stored_t;

static int
s_stored_compare (const void *a, const void *b)
{
    const s_stored_t *left = a, *right = b;
    if (left->ts != right->ts)
        return left->ts < right->ts? -1: 1;
    return (left->serial > right->serial) - (left->serial < right->serial);
}

//  A shuffled backfill, with many events in the same millisecond: every
//  batch is bounded and takes the oldest (by timestamp, then log order)
Test (store_purge, shuffled_timestamps_go_oldest_first_in_bounded_batches)
{
    enum { s_EVENTS = 300, s_BATCH = 7 };
    s_stored_t expired [s_EVENTS];
    int expired_count = 0;
    srand (7);
    for (int index = 0; index < s_EVENTS; index++) {
        //  Half expired, half live, 40 distinct ms each side: many ties
        int64_t ts = rand () % 2? s_CUT - 1 - rand () % 40: s_CUT + rand () % 40;
        s_event (index % 5? "org-a": "org-b", ts);
        if (index % 5 && ts < s_CUT)
            expired [expired_count++] = (s_stored_t) { ts, s_serial };
    }
    qsort (expired, (size_t) expired_count, sizeof *expired, s_stored_compare);
    int64_t live = s_count ("org-a", s_CUT, INT64_MAX);
    int64_t other = s_count ("org-b", 0, INT64_MAX);
    int gone = 0;
    for (bool more = true; more; ) {
        int64_t deleted = s_purge ("org-a", s_BATCH, &more);
        cr_assert_leq (deleted, s_BATCH);
        gone += (int) deleted;
        cr_assert_eq (s_count ("org-a", 0, s_CUT), expired_count - gone);
        if (gone < expired_count)
            cr_assert_eq (s_count ("org-a", 0, expired [gone].ts), 0,
                          "nothing older than the oldest left is there");
    }
    cr_expect_eq (gone, expired_count);
    cr_expect_eq (s_count ("org-a", s_CUT, INT64_MAX), live, "no live event went");
    cr_expect_eq (s_count ("org-b", 0, INT64_MAX), other, "nor one of another org");
}

static int
s_org_visit (int64_t org, int64_t days, void *arg)
{
    int64_t *seen = arg;
    seen [seen [0] * 2 + 1] = org;
    seen [seen [0] * 2 + 2] = days;
    seen [0]++;
    return 0;
}

Test (store_purge, organisations_are_walked_from_where_the_last_pass_stopped)
{
    s_event ("org-1", s_NOW);
    s_event ("org-2", s_NOW);
    s_event ("org-3", s_NOW);
    sqlite3_exec (audit_store_db (s_writer, AUDIT_DB_AUDIT),
                  "UPDATE org SET retention_days = 30 WHERE name = 'org-2'", NULL, NULL, NULL);
    int64_t seen [7] = { 0 };
    cr_assert_eq (audit_store_purge_orgs (s_store, s_org ("org-2"), s_org_visit, seen), 0);
    cr_assert_eq (seen [0], 3);
    cr_expect_eq (seen [1], s_org ("org-2"));
    cr_expect_eq (seen [2], 30);
    cr_expect_eq (seen [3], s_org ("org-3"));
    cr_expect_eq (seen [4], 365);
    cr_expect_eq (seen [5], s_org ("org-1"), "then from the start");
}

static void
s_ops (int64_t ts)
{
    audit_record_t record;
    memset (&record, 0, sizeof record);
    record.kind = AUDIT_TOPIC_KIND_OPS;
    record.received_ms = s_NOW;
    record.u.ops.timestamp_ms = ts;
    strcpy (record.u.ops.client_ip, "192.0.2.7");
    strcpy (record.u.ops.method, "GET");
    strcpy (record.u.ops.path, "/x");
    record.u.ops.status = 200;
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
}

Test (store_purge, ops_go_oldest_first_up_to_the_bound)
{
    for (int index = 0; index < 5; index++)
        s_ops (s_CUT - 1 - index);
    s_ops (s_CUT);
    int64_t deleted = 0;
    bool more = false;
    cr_assert_eq (audit_store_purge_ops (s_store, s_CUT, 3, &deleted, &more), 0);
    cr_expect_eq (deleted, 3);
    cr_expect (more);
    cr_expect_eq (s_int (AUDIT_DB_OPS, "SELECT min (ts) FROM ops"), s_CUT - 2, "the three oldest went");
    cr_assert_eq (audit_store_purge_ops (s_store, s_CUT, 3, &deleted, &more), 0);
    cr_expect_eq (deleted, 2);
    cr_expect_not (more);
    cr_expect_eq (s_int (AUDIT_DB_OPS, "SELECT count(*) FROM ops"), 1);
    cr_assert_eq (audit_store_purge_queue (s_store, s_CUT, 3, &deleted, &more), 0);
    cr_expect_eq (deleted, 0);
}

Test (store_purge, last_pass_and_space)
{
    cr_assert_eq (audit_store_purge_last_pass (s_store, s_NOW), 0);
    cr_assert_eq (audit_store_purge_last_pass (s_store, s_NOW + 5), 0);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT value FROM meta WHERE key = 'janitor_last_pass'"),
                  s_NOW + 5);
    for (int index = 0; index < 2000; index++)
        s_event ("org-a", s_CUT - 1 - index);
    bool more = true;
    while (more)
        s_purge ("org-a", 500, &more);
    int64_t free_pages = 0, freed = 0;
    cr_assert_eq (audit_store_space_free_pages (s_store, AUDIT_DB_AUDIT, &free_pages), 0);
    cr_expect_gt (free_pages, 2);
    cr_assert_eq (audit_store_space_begin (s_store, AUDIT_DB_AUDIT), 0);
    cr_assert_eq (audit_store_space_vacuum (s_store, AUDIT_DB_AUDIT, 2, &freed), 0);
    cr_assert_eq (audit_store_space_end (s_store, AUDIT_DB_AUDIT, 0), 0);
    cr_expect_eq (freed, 2, "at most the pages asked for");
    cr_expect_eq (audit_store_space_truncate (s_store, AUDIT_DB_AUDIT), 0);
    //  A failed body rolls back
    cr_assert_eq (audit_store_space_begin (s_store, AUDIT_DB_AUDIT), 0);
    cr_assert_eq (audit_store_purge_last_pass (s_store, 1), 0);
    cr_expect_eq (audit_store_space_end (s_store, AUDIT_DB_AUDIT, -1), -1);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT value FROM meta WHERE key = 'janitor_last_pass'"),
                  s_NOW + 5);
}
