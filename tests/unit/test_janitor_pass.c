/*  =========================================================================
    test_janitor_pass - retention passes on a store filled directly, with
    the clock passed in: what goes, what stays, per organisation, per
    store; counters and meta; bounded batches; the orphan sweep; the
    space and the WAL given back
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_time.h"
#include "janitor_pass.h"
#include "janitor_sweep.h"
#include "test_support.h"

#define s_NOW   1795000000000LL         //  2026-11-19T...Z, the clock passed in
#define s_DAY   AUDIT_MS_PER_DAY

static char *s_dir;
static audit_store_t *s_writer;         //  plays the ingest worker
static audit_store_t *s_store;          //  the janitor's own connections
static uint32_t s_next_id;

//  --------------------------------------------------------------------------
//  Helpers

static void
s_uuid (uint8_t *uuid, uint32_t id)
{
    memset (uuid, 0x5A, AUDIT_UUID_SIZE);
    memcpy (uuid + 12, &id, sizeof id);
}

//  A device_registered event (device and user are idents) at ts
static void
s_event (const char *org, const char *actor, const char *device, int64_t ts)
{
    audit_record_t record;
    memset (&record, 0, sizeof record);
    record.kind = AUDIT_TOPIC_KIND_AUDIT;
    record.received_ms = s_NOW;
    audit_event_t *event = &record.u.event;
    s_uuid (event->event_id, ++s_next_id);
    //  role_changed: its role is the one field the store interns
    //  (audit_fields.def), so "device" names an ident here
    event->type = AUDIT_EVENT_ROLE_CHANGED;
    event->timestamp_ms = ts;
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "%s", actor);
    event->present = AUDIT_FIELD_BIT (AUDIT_FIELD_USER_ID) | AUDIT_FIELD_BIT (AUDIT_FIELD_ROLE);
    snprintf (event->text [AUDIT_FIELD_USER_ID], sizeof event->text [0], "user-1");
    snprintf (event->text [AUDIT_FIELD_ROLE], sizeof event->text [0], "%s", device);
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
    cr_assert_eq (outcome, AUDIT_STORE_STORED);
}

static void
s_ops (int64_t ts, const char *path)
{
    audit_record_t record;
    memset (&record, 0, sizeof record);
    record.kind = AUDIT_TOPIC_KIND_OPS;
    record.received_ms = s_NOW;
    record.u.ops.timestamp_ms = ts;
    strcpy (record.u.ops.client_ip, "192.0.2.7");
    strcpy (record.u.ops.method, "GET");
    snprintf (record.u.ops.path, sizeof record.u.ops.path, "%s", path);
    record.u.ops.status = 200;
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
}

static void
s_mq (int64_t ts, int64_t received, const char *payload)
{
    audit_record_t record;
    memset (&record, 0, sizeof record);
    record.kind = AUDIT_TOPIC_KIND_MQ;
    record.received_ms = received;
    s_uuid (record.u.mq.message_id, ++s_next_id);
    strcpy (record.u.mq.org_id, "org-mq");
    strcpy (record.u.mq.device_id, "device-mq");
    record.u.mq.timestamp_ms = ts;
    record.u.mq.payload = (const uint8_t *) payload;
    record.u.mq.payload_size = strlen (payload);
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
}

//  One integer from sql on the writer's connection of db
static int64_t
s_int (audit_db_t db, const char *sql)
{
    return test_store_int (s_writer, db, sql);
}

static void
s_exec (audit_db_t db, const char *sql)
{
    char *error = NULL;
    cr_assert_eq (sqlite3_exec (audit_store_db (s_writer, db), sql, NULL, NULL, &error),
                  SQLITE_OK, "%s: %s", sql, error? error: "");
}

//  Events of org (by name) still stored with ts = exactly at
static int64_t
s_events_at (const char *org, int64_t at)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event e JOIN org o ON o.id = e.org"
              " WHERE o.name = '%s' AND e.ts = %lld", org, (long long) at);
    return s_int (AUDIT_DB_AUDIT, sql);
}

static int64_t
s_counter (const char *name)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT coalesce (sum (value), 0) FROM counter"
              " WHERE name = '%s'", name);
    return s_int (AUDIT_DB_AUDIT, sql);
}

static int64_t
s_ident (const char *name)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM ident WHERE name = '%s'", name);
    return s_int (AUDIT_DB_AUDIT, sql);
}

//  Fast limits: the pauses only matter with a concurrent writer
static janitor_limits_t
s_limits (void)
{
    janitor_limits_t limits;
    janitor_limits_default (&limits);
    limits.pause_margin_ms = 0;
    limits.pause_min_ms = 0;
    limits.pause_max_ms = 1;
    return limits;
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("janitor-pass");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    s_store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert (s_writer && s_store);
    s_next_id = 0;
}

static void
s_teardown (void)
{
    audit_store_destroy (&s_store);
    audit_store_destroy (&s_writer);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (janitor_pass, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  --------------------------------------------------------------------------
//  What goes and what stays

//  Ages (in ms before s_NOW) every org gets one event at
static const int64_t s_ages [] = {
    s_DAY / 2, s_DAY, s_DAY + 1, 2 * s_DAY, 89 * s_DAY, 90 * s_DAY, 90 * s_DAY + 1,
    100 * s_DAY, 364 * s_DAY, 365 * s_DAY, 365 * s_DAY + 1, 400 * s_DAY
};
#define s_AGES (sizeof s_ages / sizeof s_ages [0])

static void
s_fill_orgs (void)
{
    const char *orgs [] = { "org-90", "org-default", "org-1", "org-corrupt" };
    for (size_t org = 0; org < 4; org++)
        for (size_t age = 0; age < s_AGES; age++)
            s_event (orgs [org], "actor-a", "device-a", s_NOW - s_ages [age]);
    s_exec (AUDIT_DB_AUDIT, "UPDATE org SET retention_days = 90 WHERE name = 'org-90'");
    s_exec (AUDIT_DB_AUDIT, "UPDATE org SET retention_days = 1 WHERE name = 'org-1'");
    //  A row no CHECK would let in: it must not extend retention
    s_exec (AUDIT_DB_AUDIT, "PRAGMA ignore_check_constraints = ON;"
            " UPDATE org SET retention_days = 100000 WHERE name = 'org-corrupt';"
            " PRAGMA ignore_check_constraints = OFF");
}

static void
s_expect_org (const char *org, int64_t days, int64_t *deleted)
{
    for (size_t age = 0; age < s_AGES; age++) {
        bool kept = s_ages [age] <= days * s_DAY;
        cr_expect_eq (s_events_at (org, s_NOW - s_ages [age]), kept? 1: 0,
                      "%s, %lld ms old: %s", org, (long long) s_ages [age],
                      kept? "kept": "deleted");
        *deleted += !kept;
    }
}

Test (janitor_pass, deletes_exactly_the_expired_rows_of_each_org)
{
    s_fill_orgs ();
    janitor_limits_t limits = s_limits ();
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    cr_assert_not_null (pass);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_run (pass, s_NOW, &report), 0);
    int64_t deleted = 0;
    s_expect_org ("org-90", 90, &deleted);
    s_expect_org ("org-default", 365, &deleted);
    s_expect_org ("org-1", 1, &deleted);
    s_expect_org ("org-corrupt", 365, &deleted);
    cr_expect_eq (report.deleted [AUDIT_DB_AUDIT], deleted);
    cr_expect_eq (s_counter ("janitor.deleted.audit"), deleted);
    cr_expect (report.purged && report.reclaimed);
    //  Nothing more to do at the same clock
    cr_assert_eq (janitor_pass_run (pass, s_NOW, &report), 0);
    cr_expect_eq (report.deleted [AUDIT_DB_AUDIT], 0);
    cr_expect_eq (s_counter ("janitor.deleted.audit"), deleted);
    janitor_pass_destroy (&pass);
    janitor_pass_destroy (&pass);
    cr_expect_null (pass);
}

//  Batches far smaller than the backlog, over several orgs: every expired
//  event goes, the live ones stay
Test (janitor_pass, small_batches_take_every_expired_event_of_every_org)
{
    for (int index = 0; index < 60; index++)
        s_event (index % 3 == 0? "org-a": index % 3 == 1? "org-b": "org-c", "actor",
                 "device", s_NOW - (index % 2? 400 * s_DAY: 10 * s_DAY) - index);
    janitor_limits_t limits = s_limits ();
    limits.batch_rows_start = limits.batch_rows_min = limits.batch_rows_max = 7;
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_full (pass, s_NOW, &report), 0);
    cr_expect_eq (report.deleted [AUDIT_DB_AUDIT], 30);
    cr_expect_leq (report.rows_max, 7);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT count(*) FROM event"), 30);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT min (ts) FROM event"), s_NOW - 10 * s_DAY - 58);
    janitor_pass_destroy (&pass);
}

//  A shuffled backfill: timestamps in no order, expired and live mixed
//  within each org, and one org with its own retention
Test (janitor_pass, shuffled_timestamps_lose_exactly_the_expired)
{
    srand (11);
    int64_t expired = 0;
    for (int index = 0; index < 400; index++) {
        int64_t age = (rand () % 500) * s_DAY + rand () % 1000;
        const char *org = index % 4? "org-a": "org-30";
        s_event (org, "actor", "device", s_NOW - age);
        expired += age > (index % 4? 365: 30) * s_DAY;
    }
    s_exec (AUDIT_DB_AUDIT, "UPDATE org SET retention_days = 30 WHERE name = 'org-30'");
    janitor_limits_t limits = s_limits ();
    limits.batch_rows_start = limits.batch_rows_min = limits.batch_rows_max = 16;
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_full (pass, s_NOW, &report), 0);
    cr_expect_eq (report.deleted [AUDIT_DB_AUDIT], expired);
    cr_expect_eq (s_counter ("janitor.deleted.audit"), expired);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT count(*) FROM event"), 400 - expired);
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event e JOIN org o ON o.id = e.org"
              " WHERE e.ts < %lld - o.retention_days * %lld", (long long) s_NOW,
              (long long) s_DAY);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, sql), 0, "nothing expired is left");
    janitor_pass_destroy (&pass);
}

Test (janitor_pass, ops_after_thirty_days_queue_seven_days_after_received)
{
    s_ops (s_NOW - 40 * s_DAY, "/ops-40");
    s_ops (s_NOW - 30 * s_DAY - 1, "/ops-30-and-1ms");
    s_ops (s_NOW - 30 * s_DAY, "/ops-30");
    s_ops (s_NOW - 20 * s_DAY, "/ops-20");
    //  The queue goes by received time, whatever the message's timestamp
    s_mq (s_NOW, s_NOW - 8 * s_DAY, "received-8d");
    s_mq (s_NOW - 7 * s_DAY, s_NOW - 7 * s_DAY - 1, "received-7d-and-1ms");
    s_mq (s_NOW - 7 * s_DAY, s_NOW - 7 * s_DAY, "received-7d");
    s_mq (s_NOW - 100 * s_DAY, s_NOW - 6 * s_DAY, "received-6d");
    janitor_limits_t limits = s_limits ();
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_run (pass, s_NOW, &report), 0);
    cr_expect_eq (s_int (AUDIT_DB_OPS, "SELECT count(*) FROM ops WHERE path IN"
                         " ('/ops-30', '/ops-20', '/probe')"), 2);
    cr_expect_eq (s_int (AUDIT_DB_OPS, "SELECT count(*) FROM ops"), 2);
    cr_expect_eq (s_int (AUDIT_DB_QUEUE, "SELECT count(*) FROM message WHERE payload IN"
                         " (CAST ('received-7d' AS BLOB), CAST ('received-6d' AS BLOB))"), 2);
    cr_expect_eq (s_int (AUDIT_DB_QUEUE, "SELECT count(*) FROM message"), 2);
    cr_expect_eq (report.deleted [AUDIT_DB_OPS], 2);
    cr_expect_eq (report.deleted [AUDIT_DB_QUEUE], 2);
    cr_expect_eq (s_counter ("janitor.deleted.ops"), 2);
    cr_expect_eq (s_counter ("janitor.deleted.queue"), 2);
    //  Eight days later, on the clock passed in, the rest of the queue goes
    cr_assert_eq (janitor_pass_run (pass, s_NOW + 8 * s_DAY, &report), 0);
    cr_expect_eq (s_int (AUDIT_DB_QUEUE, "SELECT count(*) FROM message"), 0);
    cr_expect_eq (s_int (AUDIT_DB_OPS, "SELECT count(*) FROM ops"), 1, "28 days old stays");
    cr_expect_eq (s_counter ("janitor.deleted.queue"), 4);
    janitor_pass_destroy (&pass);
}

Test (janitor_pass, last_pass_is_written_to_meta)
{
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT count(*) FROM meta WHERE key = 'janitor_last_pass'"), 0);
    janitor_limits_t limits = s_limits ();
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_run (pass, s_NOW, &report), 0);
    int64_t last = s_int (AUDIT_DB_AUDIT, "SELECT value FROM meta WHERE key = 'janitor_last_pass'");
    cr_expect_geq (last, s_NOW);
    cr_expect_lt (last, s_NOW + 60000, "the end of the pass, on the clock passed in");
    cr_assert_eq (janitor_pass_run (pass, s_NOW + s_DAY, &report), 0);
    cr_expect_geq (s_int (AUDIT_DB_AUDIT, "SELECT value FROM meta WHERE key = 'janitor_last_pass'"),
                   s_NOW + s_DAY);
    janitor_pass_destroy (&pass);
}

//  --------------------------------------------------------------------------
//  Bounded batches and time boxes

Test (janitor_pass, batches_are_bounded_and_passes_resume)
{
    for (int org = 0; org < 4; org++) {
        char name [32];
        snprintf (name, sizeof name, "org-%d", org);
        for (int index = 0; index < 6; index++)
            s_event (name, "actor", "device", s_NOW - 400 * s_DAY - index);
    }
    for (int index = 0; index < 23; index++)
        s_ops (s_NOW - 40 * s_DAY - index, "/old");
    janitor_limits_t limits = s_limits ();
    limits.budget_ms = 0;               //  one batch per store per pass
    limits.batch_rows_start = limits.batch_rows_min = limits.batch_rows_max = 5;
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    int64_t audit = 0, ops = 0;
    int passes = 0, rc;
    do {
        rc = janitor_pass_run (pass, s_NOW, &report);
        cr_assert_geq (rc, 0);
        cr_expect_leq (report.deleted [AUDIT_DB_AUDIT], 5, "one batch of at most 5 rows");
        cr_expect_leq (report.deleted [AUDIT_DB_OPS], 5);
        cr_expect_leq (report.rows_max, 5);
        cr_expect_leq (report.batches, 3, "one per store");
        audit += report.deleted [AUDIT_DB_AUDIT];
        ops += report.deleted [AUDIT_DB_OPS];
        cr_expect_eq (s_counter ("janitor.deleted.audit"), audit, "counted as it goes");
        passes++;
    } while (rc == 1 && passes < 20);
    cr_expect_eq (rc, 0);
    cr_expect_eq (audit, 24);
    cr_expect_eq (ops, 23);
    cr_expect_geq (passes, 5, "24 rows in batches of 5");
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT count(*) FROM event"), 0);
    janitor_pass_destroy (&pass);
}

Test (janitor_pass, full_pass_takes_every_slice)
{
    for (int index = 0; index < 300; index++)
        s_event (index % 2? "org-a": "org-b", "actor", "device", s_NOW - 400 * s_DAY - index);
    janitor_limits_t limits = s_limits ();
    limits.budget_ms = 0;
    limits.batch_rows_start = limits.batch_rows_min = limits.batch_rows_max = 7;
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_full (pass, s_NOW, &report), 0);
    cr_expect_eq (report.deleted [AUDIT_DB_AUDIT], 300);
    cr_expect_geq (report.slices, 300 / 7);
    cr_expect_leq (report.rows_max, 7);
    cr_expect (report.purged && report.reclaimed && report.swept);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT count(*) FROM event"), 0);
    janitor_pass_destroy (&pass);
}

static bool
s_stop_after_three (void *arg)
{
    return ++*(int *) arg > 3;
}

Test (janitor_pass, a_stop_request_ends_the_pass_early)
{
    for (int index = 0; index < 50; index++)
        s_ops (s_NOW - 40 * s_DAY - index, "/old");
    janitor_limits_t limits = s_limits ();
    limits.batch_rows_start = limits.batch_rows_min = limits.batch_rows_max = 10;
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    int calls = 0;
    janitor_pass_set_stop (pass, s_stop_after_three, &calls);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_full (pass, s_NOW, &report), 1);
    cr_expect (report.stopped);
    cr_expect_lt (report.deleted [AUDIT_DB_OPS], 50);
    janitor_pass_destroy (&pass);
}

//  --------------------------------------------------------------------------
//  Orphan sweep

static int64_t
s_generation (void)
{
    return s_int (AUDIT_DB_AUDIT, "SELECT coalesce ((SELECT value FROM meta"
                  " WHERE key = 'ident_generation'), 0)");
}

static int64_t
s_org_rows (const char *name)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM org WHERE name = '%s'", name);
    return s_int (AUDIT_DB_AUDIT, sql);
}

//  Events of this org, actor and device
static int64_t
s_resolved (const char *org, const char *actor, const char *device)
{
    char sql [512];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event e JOIN org o ON o.id = e.org"
              " JOIN ident r ON r.id = e.role"
              " WHERE o.name = '%s' AND e.actor = '%s' AND r.name = '%s'", org, actor, device);
    return s_int (AUDIT_DB_AUDIT, sql);
}

Test (janitor_pass, orphan_sweep_deletes_identifiers_no_event_references)
{
    s_event ("org-gone", "actor-gone", "device-gone-1", s_NOW - 400 * s_DAY);
    s_event ("org-setting", "actor-gone", "device-gone-2", s_NOW - 400 * s_DAY);
    s_exec (AUDIT_DB_AUDIT, "UPDATE org SET retention_days = 30 WHERE name = 'org-setting'");
    s_event ("org-live", "actor-live", "device-live", s_NOW - s_DAY);
    s_exec (AUDIT_DB_AUDIT, "INSERT INTO org (name) VALUES ('org-never')");
    int64_t generation = s_generation ();
    janitor_limits_t limits = s_limits ();
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_full (pass, s_NOW, &report), 0);
    cr_expect_eq (report.deleted [AUDIT_DB_AUDIT], 2);
    cr_expect_eq (s_ident ("actor-live"), 0, "actors are stored as text, never interned");
    cr_expect_eq (s_ident ("device-gone-1"), 0);
    cr_expect_eq (s_ident ("device-gone-2"), 0);
    cr_expect_eq (s_ident ("device-live"), 1);
    cr_expect_eq (report.idents_swept, 2);
    cr_expect_eq (s_org_rows ("org-never"), 0, "default retention, no log: nothing kept");
    cr_expect_eq (s_org_rows ("org-gone"), 1, "its log stays, with its next log_index");
    cr_expect_eq (s_org_rows ("org-setting"), 1, "its retention setting stays");
    cr_expect_eq (s_org_rows ("org-live"), 1);
    cr_expect_eq (report.orgs_swept, 1);
    cr_expect_gt (s_generation (), generation, "writers were told to drop cached ids");
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT value FROM meta WHERE key = 'janitor_last_sweep'"),
                  s_NOW);
    //  The writer had those ids cached: it must intern the names anew
    s_event ("org-gone", "actor-gone", "device-gone-1", s_NOW);
    cr_expect_eq (s_resolved ("org-gone", "actor-gone", "device-gone-1"), 1);
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT e.log_index FROM event e JOIN org o"
                         " ON o.id = e.org WHERE o.name = 'org-gone'"), 1, "never reused");
    s_event ("org-live", "actor-live", "device-live", s_NOW);
    cr_expect_eq (s_resolved ("org-live", "actor-live", "device-live"), 2);
    janitor_pass_destroy (&pass);
}

Test (janitor_pass, timer_pass_sweeps_once_a_day)
{
    janitor_limits_t limits = s_limits ();
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_run (pass, s_NOW, &report), 0);
    cr_expect (report.swept, "no sweep yet: the first pass sweeps");
    cr_assert_eq (janitor_pass_run (pass, s_NOW + 3600 * 1000, &report), 0);
    cr_expect (!report.swept, "an hour later: not again");
    cr_assert_eq (janitor_pass_run (pass, s_NOW + JANITOR_SWEEP_INTERVAL_MS, &report), 0);
    cr_expect (report.swept, "a day later: again");
    janitor_pass_destroy (&pass);
}

static int s_calls;

//  Plays the ingest worker between the sweep's scan and its deletes: an
//  event older than every one the scan read, so its key sorts before the
//  scan's last position, takes the ghost's names up again; in the org
//  named by arg, when not NULL
static bool
s_write_during_sweep (void *arg)
{
    if (++s_calls == 2)
        s_event (arg? (const char *) arg: "org-x", "ghost", "ghost-device",
                 s_NOW - 10 * s_DAY);
    return false;
}

static janitor_sweep_t *
s_sweep_new (void)
{
    janitor_limits_t limits = s_limits ();
    janitor_sweep_t *sweep = janitor_sweep_new (s_store, &limits);
    cr_assert_not_null (sweep);
    return sweep;
}

Test (janitor_pass, sweep_keeps_identifiers_an_event_took_up_meanwhile)
{
    s_event ("org-x", "ghost", "ghost-device", s_NOW - 400 * s_DAY);
    s_event ("org-x", "other", "other-device", s_NOW);
    s_event ("org-x", "gone", "gone-device", s_NOW);
    char sql [128];
    snprintf (sql, sizeof sql, "DELETE FROM event WHERE ts < %lld OR actor = 'gone'",
              (long long) (s_NOW - 300 * s_DAY));
    s_exec (AUDIT_DB_AUDIT, sql);
    janitor_sweep_t *sweep = s_sweep_new ();
    janitor_sweep_report_t report;
    s_calls = 0;
    cr_assert_eq (janitor_sweep_run (sweep, s_NOW, s_write_during_sweep, NULL, &report), 0);
    cr_expect_eq (s_calls, 2 + 1, "before the scan, before each of 2 transactions");
    cr_expect_eq (s_ident ("ghost-device"), 1, "taken up by an event after the scan");
    cr_expect_eq (s_resolved ("org-x", "ghost", "ghost-device"), 1);
    cr_expect_eq (report.events_caught_up, 1);
    cr_expect_eq (s_ident ("gone-device"), 0, "while the unreferenced go");
    cr_expect_eq (s_ident ("other-device"), 1);
    cr_expect_eq (report.idents_deleted, 1);
    janitor_sweep_destroy (&sweep);
    janitor_sweep_destroy (&sweep);
}

//  An organisation that did not exist when the sweep read the logs: all
//  its events are new
Test (janitor_pass, sweep_keeps_identifiers_of_an_organisation_created_meanwhile)
{
    s_event ("org-x", "ghost", "ghost-device", s_NOW - 400 * s_DAY);
    s_event ("org-x", "other", "other-device", s_NOW);
    char sql [128];
    snprintf (sql, sizeof sql, "DELETE FROM event WHERE ts < %lld",
              (long long) (s_NOW - 300 * s_DAY));
    s_exec (AUDIT_DB_AUDIT, sql);
    janitor_sweep_t *sweep = s_sweep_new ();
    janitor_sweep_report_t report;
    s_calls = 0;
    cr_assert_eq (janitor_sweep_run (sweep, s_NOW, s_write_during_sweep, "org-new", &report), 0);
    cr_expect_eq (s_resolved ("org-new", "ghost", "ghost-device"), 1);
    cr_expect_eq (report.events_caught_up, 1);
    cr_expect_eq (report.idents_deleted, 0);
    janitor_sweep_destroy (&sweep);
}

//  --------------------------------------------------------------------------
//  Reclaim

static int64_t
s_file_size (const char *name)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", s_dir, name);
    struct stat info;
    return stat (path, &info) == 0? (int64_t) info.st_size: 0;
}

Test (janitor_pass, deleted_rows_leave_the_files_wal_included)
{
    const char *device = "canary-device-4f1c9e";
    const char *path = "/canary-ops-path-8b2d";
    const char *payload = "canary-payload-77e0a1";
    for (int index = 0; index < 3000; index++) {
        char live [32];
        snprintf (live, sizeof live, "device-%d", index);
        s_event ("org-c", "actor-c", live, s_NOW - (index % 2? 400: 1) * s_DAY);
        if (index % 10 == 0)
            s_event ("org-c", "actor-c", device, s_NOW - 400 * s_DAY - index);
    }
    s_ops (s_NOW - 40 * s_DAY, path);
    s_ops (s_NOW, "/live");
    s_mq (s_NOW, s_NOW - 8 * s_DAY, payload);
    s_mq (s_NOW, s_NOW, "live-payload");
    cr_assert (test_dir_contains (s_dir, device, strlen (device)), "the canary is there first");
    cr_assert (test_dir_contains (s_dir, path, strlen (path)));
    cr_assert (test_dir_contains (s_dir, payload, strlen (payload)));
    janitor_limits_t limits = s_limits ();
    limits.free_pages_keep = 0;
    limits.vacuum_pages = 5;            //  several vacuum steps
    janitor_pass_t *pass = janitor_pass_new (s_store, &limits);
    janitor_report_t report;
    cr_assert_eq (janitor_pass_full (pass, s_NOW, &report), 0);
    cr_expect_gt (report.vacuumed_pages, 5);
    cr_expect_eq (s_ident (device), 0);
    cr_expect (!test_dir_contains (s_dir, device, strlen (device)), "device canary gone");
    cr_expect (!test_dir_contains (s_dir, path, strlen (path)), "ops canary gone");
    cr_expect (!test_dir_contains (s_dir, payload, strlen (payload)), "payload canary gone");
    cr_expect (test_dir_contains (s_dir, "live-payload", 12), "live rows stay");
    const char *wals [] = { "audit.db-wal", "ops.db-wal", "queue.db-wal" };
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        cr_expect_eq (s_file_size (wals [db]), 0, "%s emptied", wals [db]);
        cr_expect_eq (s_int ((audit_db_t) db, "PRAGMA freelist_count"), 0);
        cr_expect_eq (s_int ((audit_db_t) db, "SELECT count(*) FROM pragma_integrity_check"
                             " WHERE integrity_check != 'ok'"), 0);
    }
    cr_expect_eq (s_int (AUDIT_DB_AUDIT, "SELECT count(*) FROM event"), 1500);
    janitor_pass_destroy (&pass);
}
