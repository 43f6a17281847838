/*  =========================================================================
    test_store_sweep - the store's side of the orphan sweep: a keyset scan
    that sees every event once, the events stored since an organisation's
    log was read, and deletes that take only what nothing refers to
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_store_space.h"
#include "audit_store_sweep.h"
#include "audit_time.h"
#include "test_support.h"

#define s_NOW   1795000000000LL

static char *s_dir;
static audit_store_t *s_writer;
static audit_store_t *s_store;
static uint32_t s_serial;

//  A role_changed event: its role is the one field stored as an ident id
//  (audit_fields.def), the rest as text
static void
s_event (const char *org, const char *role, int64_t ts)
{
    audit_record_t record;
    memset (&record, 0, sizeof record);
    record.kind = AUDIT_TOPIC_KIND_AUDIT;
    record.received_ms = s_NOW;
    audit_event_t *event = &record.u.event;
    memset (event->event_id, 0x44, AUDIT_UUID_SIZE);
    s_serial++;
    memcpy (event->event_id + 12, &s_serial, sizeof s_serial);
    event->type = AUDIT_EVENT_ROLE_CHANGED;
    event->timestamp_ms = ts;
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "admin");
    event->present = AUDIT_FIELD_BIT (AUDIT_FIELD_USER_ID) | AUDIT_FIELD_BIT (AUDIT_FIELD_ROLE);
    snprintf (event->text [AUDIT_FIELD_USER_ID], sizeof event->text [0], "user-1");
    snprintf (event->text [AUDIT_FIELD_ROLE], sizeof event->text [0], "%s", role);
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
    cr_assert_eq (outcome, AUDIT_STORE_STORED);
}

static int64_t
s_int (const char *sql)
{
    return test_store_int (s_writer, AUDIT_DB_AUDIT, sql);
}

static void
s_exec (const char *sql)
{
    cr_assert_eq (sqlite3_exec (audit_store_db (s_writer, AUDIT_DB_AUDIT), sql,
                                NULL, NULL, NULL), SQLITE_OK, "%s", sql);
}

static int64_t
s_ident (const char *name)
{
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT coalesce ((SELECT id FROM ident WHERE name = '%s'), 0)",
              name);
    return s_int (sql);
}

//  What a scan saw: how often each ident id came up
typedef struct {
    int64_t hits [64];
} s_seen_t;

static void
s_mark (int64_t ident, void *arg)
{
    s_seen_t *seen = arg;
    if (ident > 0 && ident < 64)
        seen->hits [ident]++;
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("store-sweep");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    s_store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert (s_writer && s_store);
    s_serial = 0;
}

static void
s_teardown (void)
{
    audit_store_destroy (&s_store);
    audit_store_destroy (&s_writer);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (store_sweep, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  Chunks of 3 along (org, ts, log_index), timestamps out of order and
//  tied: every event is read once
Test (store_sweep, the_scan_reads_every_event_once_in_key_order)
{
    const int64_t offsets [] = { 5, 1, 5, 3, 0, 5, 2, 1, 4, 5 };
    for (int index = 0; index < 10; index++)
        s_event (index % 2? "org-a": "org-b", index < 5? "role-1": "role-2",
                 s_NOW - offsets [index]);
    audit_store_event_key_t after, last;
    audit_store_sweep_key_first (&after);
    last = after;
    s_seen_t seen = { { 0 } };
    int rows = 3, total = 0, chunks = 0;
    while (rows == 3) {
        cr_assert_eq (audit_store_sweep_scan (s_store, &after, 3, s_mark, &seen, &rows), 0);
        if (rows > 0) {
            bool later = after.org > last.org || (after.org == last.org
                      && (after.ts > last.ts || (after.ts == last.ts
                      && after.log_index > last.log_index)));
            cr_expect (later, "the position moves forward");
        }
        last = after;
        total += rows;
        chunks++;
    }
    cr_expect_eq (total, 10);
    cr_expect_eq (chunks, 4);
    cr_expect_eq (seen.hits [s_ident ("role-1")], 5);
    cr_expect_eq (seen.hits [s_ident ("role-2")], 5);
    cr_expect_eq (seen.hits [s_ident ("user-1")], 0, "a text column holds no ident");
}

static int
s_log_visit (int64_t org, int64_t next_index, void *arg)
{
    int64_t *logs = arg;
    logs [org] = next_index;
    return 0;
}

//  An event stored after the logs were read sorts before the scan's
//  position (an older timestamp), yet the organisation's log finds it
Test (store_sweep, events_stored_since_are_found_by_their_log_index)
{
    s_event ("org-a", "role-old", s_NOW);
    s_event ("org-a", "role-old", s_NOW + 1);
    int64_t logs [8] = { 0 };
    cr_assert_eq (audit_store_sweep_logs (s_store, s_log_visit, logs), 0);
    int64_t org = s_int ("SELECT id FROM org WHERE name = 'org-a'");
    cr_assert_eq (logs [org], 2);
    s_event ("org-a", "role-new", s_NOW - 1000);
    s_seen_t seen = { { 0 } };
    int64_t rows = 0;
    cr_assert_eq (audit_store_sweep_since (s_store, org, logs [org], s_mark, &seen, &rows), 0);
    cr_expect_eq (rows, 1);
    cr_expect_eq (seen.hits [s_ident ("role-new")], 1);
    cr_expect_eq (seen.hits [s_ident ("role-old")], 0);
}

Test (store_sweep, deletes_take_only_what_they_are_given)
{
    s_event ("org-a", "role-a", s_NOW);
    s_event ("org-a", "role-b", s_NOW + 1);
    int64_t max = 0;
    cr_assert_eq (audit_store_sweep_ident_max (s_store, &max), 0);
    cr_assert_eq (max, 2);
    int64_t ids [4];
    int count = 0;
    cr_assert_eq (audit_store_sweep_idents (s_store, 0, max, 4, ids, &count), 0);
    cr_assert_eq (count, 2);
    cr_assert_eq (audit_store_sweep_idents (s_store, ids [0], max, 4, ids, &count), 0);
    cr_expect_eq (count, 1, "after the cursor");
    int64_t generation = s_int ("SELECT coalesce ((SELECT value FROM meta"
                                " WHERE key = 'ident_generation'), 0)");
    int64_t orphan = s_ident ("role-b"), deleted = 0;
    s_exec ("DELETE FROM event");
    cr_assert_eq (audit_store_space_begin (s_store, AUDIT_DB_AUDIT), 0);
    cr_assert_eq (audit_store_sweep_ident_delete (s_store, &orphan, 1, &deleted), 0);
    cr_assert_eq (audit_store_sweep_generation (s_store), 0);
    cr_assert_eq (audit_store_space_end (s_store, AUDIT_DB_AUDIT, 0), 0);
    cr_expect_eq (deleted, 1);
    cr_expect_eq (s_ident ("role-b"), 0);
    cr_expect_neq (s_ident ("role-a"), 0, "not given: kept");
    cr_expect_eq (s_int ("SELECT value FROM meta WHERE key = 'ident_generation'"),
                  generation + 1);
}

//  An organisation row holds its log: only one that never had an event,
//  with the default retention, goes
Test (store_sweep, only_organisations_without_a_log_or_a_setting_go)
{
    s_event ("org-logged", "role", s_NOW);
    s_event ("org-setting", "role", s_NOW);
    s_exec ("DELETE FROM event");
    s_exec ("UPDATE org SET retention_days = 30 WHERE name = 'org-setting'");
    s_exec ("INSERT INTO org (name) VALUES ('org-never')");
    s_exec ("INSERT INTO org (name, retention_days) VALUES ('org-never-30', 30)");
    int64_t deleted = 0;
    cr_assert_eq (audit_store_space_begin (s_store, AUDIT_DB_AUDIT), 0);
    cr_assert_eq (audit_store_sweep_orgs (s_store, 10, &deleted), 0);
    cr_assert_eq (audit_store_space_end (s_store, AUDIT_DB_AUDIT, 0), 0);
    cr_expect_eq (deleted, 1);
    cr_expect_eq (s_int ("SELECT count(*) FROM org WHERE name = 'org-never'"), 0);
    cr_expect_eq (s_int ("SELECT count(*) FROM org"), 3);
    //  Its log goes on where it was
    s_event ("org-logged", "role", s_NOW);
    cr_expect_eq (s_int ("SELECT log_index FROM event"), 1);
}

Test (store_sweep, last_sweep_is_remembered)
{
    int64_t last = -1;
    bool found = true;
    cr_assert_eq (audit_store_sweep_last (s_store, &last, &found), 0);
    cr_expect_not (found);
    cr_assert_eq (audit_store_sweep_last_set (s_store, s_NOW), 0);
    cr_assert_eq (audit_store_sweep_last (s_store, &last, &found), 0);
    cr_expect (found);
    cr_expect_eq (last, s_NOW);
}
