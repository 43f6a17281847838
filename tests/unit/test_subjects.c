/*  =========================================================================
    test_subjects - the subject runs (audit_subjects): a page by subject,
    actor or user finds exactly the events a scan finds, across complete
    tiles and the last one, late timestamps included; retention deletes
    their entries with them; step 8 makes them for a file of before; the
    writer's housekeeping merges what batches left owed
    ========================================================================= */

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_page.h"
#include "audit_schema.h"
#include "audit_store.h"
#include "audit_store_purge.h"
#include "audit_subjects.h"
#include "test_support.h"

#define s_NOW       1790000000000LL
#define s_EVENTS    4700                //  18 complete tiles and part of a 19th
#define s_TILES     18                  //  a run of level 1 (16 tiles) and two of level 0
#define s_BATCH     211                 //  tiles complete within and across batches
#define s_ACTORS    211
#define s_USERS     101

static char *s_dir;
static audit_store_t *s_store;
static char s_org [32] = "org-s";       //  whose events the pages ask for
static uint32_t s_stored;               //  and how many of them are stored

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("subjects");
    s_store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_store);
}

static void
s_teardown (void)
{
    audit_store_destroy (&s_store);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (subjects, .init = s_setup, .fini = s_teardown);

static void s_store_orgs (int orgs, uint32_t first, uint32_t count);

//  Event n: actor p<n % 211>, or "hub" for every fifth (so frequent that
//  its pages scan); a user u<n % 101> on two events of three, and for
//  every eleventh the actor's own name (one entry, not two); about in
//  time order, but every thirteenth is late by a day, so that a tile's
//  range of ts overlaps others'. Its log_index is n (stored in order).
typedef struct {
    int64_t ts;
    char actor [16], user [16];         //  user "": none
    bool device;                        //  a device event (else a login)
} s_event_t;

static void
s_make (uint32_t n, s_event_t *event)
{
    event->ts = s_NOW + (int64_t) n * 1000 - (n % 13 == 0? 86400000: 0);
    if (n % 5 == 0)
        snprintf (event->actor, sizeof event->actor, "hub");
    else
        snprintf (event->actor, sizeof event->actor, "p%u", n % s_ACTORS);
    event->user [0] = 0;
    if (n % 11 == 0)
        snprintf (event->user, sizeof event->user, "%s", event->actor);
    else
    if (n % 3)
        snprintf (event->user, sizeof event->user, "u%u", n % s_USERS);
    event->device = n % 2;
}

static void
s_record (audit_record_t *record, const char *org, uint32_t n)
{
    s_event_t made;
    s_make (n, &made);
    test_record_login (record, org, made.actor, n, made.ts);
    record->received_ms = s_NOW;
    audit_event_t *event = &record->u.event;
    event->type = made.device? AUDIT_EVENT_DEVICE_REGISTERED: AUDIT_EVENT_USER_LOGIN;
    event->present = AUDIT_FIELD_BIT (AUDIT_FIELD_DEVICE_ID);
    snprintf (event->text [AUDIT_FIELD_DEVICE_ID], sizeof (audit_ident_t), "d%u", n % 3);
    if (made.user [0]) {
        event->present |= AUDIT_FIELD_BIT (AUDIT_FIELD_USER_ID);
        snprintf (event->text [AUDIT_FIELD_USER_ID], sizeof (audit_ident_t), "%s", made.user);
    }
}

static void
s_store_all (void)
{
    audit_record_t *records = calloc (s_BATCH, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (s_BATCH, sizeof *outcomes);
    for (uint32_t first = 0; first < s_EVENTS; first += s_BATCH) {
        uint32_t count = s_EVENTS - first < s_BATCH? s_EVENTS - first: s_BATCH;
        for (uint32_t at = 0; at < count; at++)
            s_record (&records [at], s_org, first + at);
        cr_assert_eq (audit_store_write (s_store, records, count, outcomes, NULL), 0);
        for (uint32_t at = 0; at < count; at++)
            cr_assert_eq (outcomes [at], AUDIT_STORE_STORED);
    }
    free (outcomes);
    free (records);
    s_stored = s_EVENTS;
}

//  What a page asks, and what a scan of the made events says it matches
typedef struct {
    const char *subject, *actor, *user;
    bool logins_only;
    int64_t from, to;                   //  the time range; cut: older events are gone
} s_ask_t;

static bool
s_matches (const s_ask_t *ask, uint32_t n, int64_t cut)
{
    s_event_t event;
    s_make (n, &event);
    if (n >= s_stored || event.ts < cut || event.ts < ask->from || event.ts >= ask->to)
        return false;
    if (ask->logins_only && event.device)
        return false;
    if (ask->subject && strcmp (event.actor, ask->subject) && strcmp (event.user, ask->subject))
        return false;
    if (ask->actor && strcmp (event.actor, ask->actor))
        return false;
    return !ask->user || strcmp (event.user, ask->user) == 0;
}

static audit_page_filter_t
s_filter (const s_ask_t *ask, audit_cursor_order_t order)
{
    audit_page_filter_t filter = {
        .org_id = s_org, .from_ms = ask->from, .to_ms = ask->to,
        .type_mask = ask->logins_only? 1u << AUDIT_EVENT_USER_LOGIN
                                     : (1u << AUDIT_EVENT_COUNT) - 1,
        .order = order, .limit = 9, .subject = ask->subject, .actor_id = ask->actor
    };
    filter.field [AUDIT_FIELD_USER_ID] = ask->user;
    return filter;
}

//  Every page of ask in order, in keyset order, each row once, and
//  exactly the rows the scan matches
static void
s_expect_pages (const s_ask_t *ask, audit_cursor_order_t order, int64_t cut)
{
    bool seen [s_EVENTS] = { false };
    bool asc = order == AUDIT_CURSOR_ASC;
    audit_page_pos_t previous = { asc? INT64_MIN: INT64_MAX, asc? 0: UINT64_MAX };
    audit_page_filter_t filter = s_filter (ask, order);
    uint32_t rows = 0;
    for (bool more = true; more; ) {
        audit_page_t *page = audit_page_new (s_store, &filter);
        cr_assert_not_null (page);
        audit_row_t row;
        int rc;
        while ((rc = audit_page_next (page, &row)) == 1) {
            audit_page_pos_t at = { row.timestamp_ms, row.log_index };
            bool after = asc? at.ts_ms > previous.ts_ms
                              || (at.ts_ms == previous.ts_ms && at.log_index > previous.log_index)
                            : at.ts_ms < previous.ts_ms
                              || (at.ts_ms == previous.ts_ms && at.log_index < previous.log_index);
            cr_assert (after, "row %llu in keyset order", (unsigned long long) row.log_index);
            cr_assert_lt (row.log_index, s_EVENTS);
            cr_assert (!seen [row.log_index], "row %llu once", (unsigned long long) row.log_index);
            cr_assert (s_matches (ask, (uint32_t) row.log_index, cut), "row %llu matches",
                       (unsigned long long) row.log_index);
            seen [row.log_index] = true;
            previous = at;
            rows++;
        }
        cr_assert_eq (rc, 0);
        more = audit_page_more (page, &filter.after);
        filter.has_after = more;
        audit_page_destroy (&page);
    }
    uint32_t wanted = 0;
    for (uint32_t n = 0; n < s_EVENTS; n++) {
        wanted += s_matches (ask, n, cut);
        cr_assert (seen [n] || !s_matches (ask, n, cut), "event %u found", n);
    }
    cr_assert_gt (wanted, 0, "the question matches something");
    cr_assert_eq (rows, wanted);
}

//  Each question in both orders
static void
s_expect_all (int64_t cut)
{
    const s_ask_t asks [] = {
        { .subject = "p3", .from = INT64_MIN, .to = INT64_MAX },
        { .subject = "u2", .from = INT64_MIN, .to = INT64_MAX },
        { .subject = "p0", .logins_only = true, .from = INT64_MIN, .to = INT64_MAX },
        { .subject = "u4", .from = s_NOW + 200000, .to = s_NOW + 900000 },
        { .actor = "p5", .from = INT64_MIN, .to = INT64_MAX },
        { .user = "u1", .from = INT64_MIN, .to = INT64_MAX },
        { .subject = "p6", .actor = "p6", .from = INT64_MIN, .to = INT64_MAX },
        { .subject = "hub", .from = INT64_MIN, .to = INT64_MAX },
        { .actor = "hub", .logins_only = true, .from = INT64_MIN, .to = INT64_MAX }
    };
    for (size_t at = 0; at < sizeof asks / sizeof *asks; at++) {
        s_expect_pages (&asks [at], AUDIT_CURSOR_DESC, cut);
        s_expect_pages (&asks [at], AUDIT_CURSOR_ASC, cut);
    }
}

Test (subjects, a_subject_page_finds_what_a_scan_finds)
{
    s_store_all ();
    //  the complete tiles' runs: an entry per event and one more per
    //  other user
    int64_t entries = test_store_int (s_store, AUDIT_DB_AUDIT,
                                      "SELECT count (*) FROM subject_entry");
    int64_t wanted = 0;
    for (uint32_t n = 0; n < s_TILES * 256; n++) {
        s_event_t event;
        s_make (n, &event);
        wanted += 1 + (event.user [0] && strcmp (event.user, event.actor) != 0);
    }
    cr_expect_eq (entries, wanted);
    //  the first 16 tiles merged into one run, the two after on their own
    int64_t ids [8];
    cr_assert_eq (audit_subjects_runs (16, s_TILES, ids, 8), 3);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT subject_merged FROM org"), 16);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT,
                                  "SELECT count (DISTINCT run) FROM subject_run"), 3);
    for (int at = 0; at < 3; at++) {
        char sql [160];
        snprintf (sql, sizeof sql, "SELECT count (*) FROM subject_entry"
                  " WHERE seq = (SELECT seq FROM subject_run WHERE run = %lld)",
                  (long long) ids [at]);
        cr_expect_gt (test_store_int (s_store, AUDIT_DB_AUDIT, sql), at < 2? 256: 16 * 256,
                      "run %lld", (long long) ids [at]);
    }
    s_expect_all (INT64_MIN);
}

Test (subjects, retention_deletes_the_entries_of_the_events_it_deletes)
{
    s_store_all ();
    int64_t org = test_store_int (s_store, AUDIT_DB_AUDIT,
                                  "SELECT id FROM org WHERE name = 'org-s'");
    //  Into the third tile, late events of later tiles with it, in small
    //  batches that end inside tiles (of the run of level 1, and the late
    //  ones of the two runs of level 0 too)
    int64_t cut = s_NOW + 600 * 1000;
    int64_t deleted = 0, total = 0;
    bool more = true;
    while (more) {
        cr_assert_eq (audit_store_purge_events (s_store, org, cut, 97, &deleted, &more), 0);
        total += deleted;
    }
    cr_assert_gt (total, 600);
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT count (*) FROM subject_entry WHERE ts < %lld",
              (long long) cut);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, sql), 0);
    cr_expect_gt (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (*) FROM subject_entry"),
                  0);
    s_expect_all (cut);
}

//  Organisations that owe a block, as index org_subjects_owed holds them
static int64_t
s_orgs_owing (void)
{
    return test_store_int (s_store, AUDIT_DB_AUDIT,
                           "SELECT count (*) FROM org INDEXED BY org_subjects_owed"
                           " WHERE (next_index >> 8) - subject_merged >= 16");
}

Test (subjects, step_8_makes_the_runs_of_the_tiles_complete_before)
{
    s_store_all ();
    int64_t before = test_store_int (s_store, AUDIT_DB_AUDIT,
                                     "SELECT count (*) FROM subject_entry");
    audit_store_destroy (&s_store);
    char path [512];
    snprintf (path, sizeof path, "%s/audit.db", s_dir);
    sqlite3 *db = NULL;
    cr_assert_eq (sqlite3_open (path, &db), SQLITE_OK);
    cr_assert_eq (sqlite3_exec (db, "DROP TABLE subject_run; DROP TABLE subject_entry;"
                                " DROP INDEX org_subjects_owed;"
                                " ALTER TABLE org DROP COLUMN subject_merged;"
                                " PRAGMA user_version = 7;",
                                NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
    s_store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_store);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "PRAGMA user_version"),
                  audit_schema_version (AUDIT_DB_AUDIT));
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (*) FROM subject_entry"),
                  before);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (*) FROM sqlite_master"
                                  " WHERE name = 'org_subjects_owed'"), 1, "and step 9's index");
    cr_expect_eq (s_orgs_owing (), 0, "step 8 merges every block");
    s_expect_all (INT64_MIN);
    //  Runs written after the steps get seqs of their own (step 9 set
    //  subject_seq past those it gave): the pages of before are unchanged
    s_store_orgs (1, 0, 2 * 256);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (DISTINCT seq)"
                                  " FROM subject_run"),
                  test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (*) FROM subject_run"));
    snprintf (s_org, sizeof s_org, "org-s");
    s_stored = s_EVENTS;
    s_expect_all (INT64_MIN);
}

//  An organisation's runs: blocks of 256 and 16 tiles below merged, a run
//  a tile from it; and the run that holds a tile
Test (subjects, the_runs_are_blocks_below_merged_and_tiles_above)
{
    int64_t ids [32];
    cr_expect_eq (audit_subjects_runs (0, 0, ids, 32), 0);
    cr_expect_eq (audit_subjects_runs (0, 15, ids, 32), 15);
    cr_expect_eq (audit_subjects_runs (0, 16, ids, 32), 16);
    cr_expect_eq (audit_subjects_runs (16, 16, ids, 32), 1);
    cr_expect_eq (ids [0], (0 << 4) | 1);
    //  4146 tiles, 4144 merged: two tiles, three blocks of 16, sixteen of 256
    cr_assert_eq (audit_subjects_runs (4144, 4146, ids, 32), 21);
    int64_t wanted [6] = { (4145 << 4) | 0, (4144 << 4) | 0, (4128 << 4) | 1, (4112 << 4) | 1,
                           (4096 << 4) | 1, (3840 << 4) | 2 };
    for (int at = 0; at < 6; at++)
        cr_expect_eq (ids [at], wanted [at], "run %d", at);
    cr_expect_eq (ids [20], (0 << 4) | 2);
    cr_expect_eq (audit_subjects_runs (4144, 4146, ids, 4), 21, "counted past max");
    cr_expect_eq (audit_subjects_run (4146, 4144, 4146), AUDIT_SUBJECTS_NO_RUN);
    cr_expect_eq (audit_subjects_run (4145, 4144, 4146), (4145 << 4) | 0);
    cr_expect_eq (audit_subjects_run (4100, 4144, 4146), (4096 << 4) | 1);
    cr_expect_eq (audit_subjects_run (77, 4144, 4146), (0 << 4) | 2);
    cr_expect_eq (audit_subjects_run (4130, 4128, 4146), (4130 << 4) | 0, "not merged yet");
    cr_expect_eq (audit_subjects_run (5, 16, 4146), (0 << 4) | 1);
}

//  events n in first .. first + count - 1 of each of orgs organisations,
//  org-b00, org-b01, ..., in one transaction
static void
s_store_orgs (int orgs, uint32_t first, uint32_t count)
{
    size_t total = (size_t) orgs * count;
    audit_record_t *records = calloc (total, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (total, sizeof *outcomes);
    for (uint32_t n = 0; n < count; n++)
        for (int org = 0; org < orgs; org++) {
            char name [32];
            snprintf (name, sizeof name, "org-b%02d", org);
            s_record (&records [(size_t) n * orgs + org], name, first + n);
        }
    cr_assert_eq (audit_store_write (s_store, records, total, outcomes, NULL), 0);
    free (outcomes);
    free (records);
    s_stored = first + count;
}

//  Organisations whose first block of 16 tiles is merged
static int64_t
s_orgs_merged (void)
{
    return test_store_int (s_store, AUDIT_DB_AUDIT,
                           "SELECT count (*) FROM org WHERE subject_merged = 16");
}

//  A batch that brings 25 organisations to a block at once merges only
//  some of them (about 6,500 entries each, a budget of 131,072); the rest
//  are merged at their next tiles, and their pages are right meanwhile
Test (subjects, a_transaction_merges_within_its_budget)
{
    s_store_orgs (25, 0, 16 * 256);
    int64_t merged = s_orgs_merged ();
    cr_expect_gt (merged, 0);
    cr_expect_lt (merged, 25);
    for (int org = 0; org < 25; org += 6) {
        snprintf (s_org, sizeof s_org, "org-b%02d", org);
        s_expect_all (INT64_MIN);
    }
    for (uint32_t first = 16 * 256; s_orgs_merged () < 25 && first < 20 * 256; first += 256)
        s_store_orgs (25, first, 256);
    cr_expect_eq (s_orgs_merged (), 25, "every organisation's block merged at last");
    snprintf (s_org, sizeof s_org, "org-b24");
    s_expect_all (INT64_MIN);
}

//  What a batch left owed, the writer's housekeeping merges with no tile
//  to come: a bounded part a call (it says 1 while more is owed), until
//  every block is merged and it says 0; the pages are the same throughout
Test (subjects, housekeeping_merges_what_batches_left_owed)
{
    s_store_orgs (25, 0, 16 * 256);
    int64_t owing = s_orgs_owing ();
    cr_assert_eq (owing, 25 - s_orgs_merged ());
    cr_assert_gt (owing, 2, "the batch's budget left blocks owed");
    int calls = 0, rc;
    while ((rc = audit_store_housekeep (s_store)) == 1 && calls < 100) {
        calls++;
        cr_expect_lt (s_orgs_owing (), owing, "each call merges some");
        owing = s_orgs_owing ();
    }
    cr_expect_eq (rc, 0);
    cr_expect_gt (calls, 0, "more than one call's budget was owed");
    cr_expect_eq (s_orgs_merged (), 25);
    cr_expect_eq (s_orgs_owing (), 0);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (DISTINCT run)"
                                  " FROM subject_run WHERE run & 15 = 0"), 0,
                  "no run of a tile is left where its block is merged");
    for (int org = 0; org < 25; org += 4) {
        snprintf (s_org, sizeof s_org, "org-b%02d", org);
        s_expect_all (INT64_MIN);
    }
    cr_expect_eq (audit_store_housekeep (s_store), 0, "nothing is owed");
}

//  Rows of a page walk by subject of organisation org-b00, all of it
static int64_t
s_walk_count (const char *subject)
{
    audit_page_filter_t filter = {
        .org_id = "org-b00", .from_ms = INT64_MIN, .to_ms = INT64_MAX,
        .type_mask = (1u << AUDIT_EVENT_COUNT) - 1, .order = AUDIT_CURSOR_DESC, .limit = 100,
        .subject = subject
    };
    int64_t rows = 0;
    for (bool more = true; more; ) {
        audit_page_t *page = audit_page_new (s_store, &filter);
        cr_assert_not_null (page);
        audit_row_t row;
        while (audit_page_next (page, &row) == 1)
            rows++;
        more = audit_page_more (page, &filter.after);
        filter.has_after = more;
        audit_page_destroy (&page);
    }
    return rows;
}

//  256 tiles through the writer: blocks of 16 merged as they complete,
//  then the 16 blocks into one run of level 2, the top; a tile past it has
//  its own run. A page by subject finds what the event table holds.
Test (subjects, a_block_of_256_tiles_is_one_run)
{
    for (uint32_t first = 0; first < 256 * 256; first += 4096)
        s_store_orgs (1, first, 4096);
    s_store_orgs (1, 256 * 256, 300);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT subject_merged FROM org"),
                  256);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (*) FROM subject_run"),
                  2, "the top run and the tile past it");
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (*) FROM subject_run"
                                  " WHERE run = (0 << 4) | 2"), 1);
    const char *subjects [] = { "p3", "u7", "hub" };
    for (int at = 0; at < 3; at++) {
        char sql [160];
        snprintf (sql, sizeof sql, "SELECT count (*) FROM event WHERE actor = '%s' OR %s = '%s'",
                  subjects [at], audit_proto_field_info (AUDIT_FIELD_USER_ID)->column,
                  subjects [at]);
        int64_t wanted = test_store_int (s_store, AUDIT_DB_AUDIT, sql);
        cr_expect_gt (wanted, 0);
        cr_expect_eq (s_walk_count (subjects [at]), wanted, "%s", subjects [at]);
    }
}

//  s_store becomes a MAINTAINER of the same directory (the writer's own
//  store returned, for s_as_writer to put back)
static audit_store_t *
s_as_maintainer (void)
{
    audit_store_t *writer = s_store;
    s_store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert_not_null (s_store);
    return writer;
}

static void
s_as_writer (audit_store_t *writer)
{
    audit_store_destroy (&s_store);
    s_store = writer;
}

//  The other processes that write events (the query worker's audit_access,
//  the janitor's) write a tile's run but leave its merges to the writer's
//  housekeeping: their requests do not wait for them
Test (subjects, a_maintainer_leaves_its_merges_to_the_writer)
{
    audit_store_t *writer = s_as_maintainer ();
    s_store_orgs (1, 0, 16 * 256);
    cr_expect_eq (s_orgs_merged (), 0);
    cr_expect_eq (s_orgs_owing (), 1);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT count (DISTINCT run)"
                                  " FROM subject_run"), 16, "a run a tile");
    cr_expect_eq (audit_store_housekeep (s_store), 0, "a maintainer's housekeeping merges none");
    cr_expect_eq (s_orgs_owing (), 1);
    s_as_writer (writer);
    cr_expect_eq (audit_store_housekeep (s_store), 0);
    cr_expect_eq (s_orgs_merged (), 1);
    snprintf (s_org, sizeof s_org, "org-b00");
    s_expect_all (INT64_MIN);
}

//  The housekeeping goes on from the organisation it reached last, and
//  round to the lowest ids: one of them that owes again is merged too
Test (subjects, housekeeping_goes_round_the_organisations)
{
    audit_store_t *writer = s_as_maintainer ();
    s_store_orgs (2, 0, 16 * 256);
    cr_assert_eq (s_orgs_owing (), 2);
    cr_expect_eq (audit_store_housekeep (writer), 0, "both within one call's budget");
    cr_expect_eq (s_orgs_owing (), 0);
    //  org-b00, the lower id, owes its second block now
    s_store_orgs (1, 16 * 256, 16 * 256);
    cr_assert_eq (s_orgs_owing (), 1);
    s_as_writer (writer);
    cr_expect_eq (audit_store_housekeep (s_store), 0);
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT, "SELECT subject_merged FROM org"
                                  " WHERE name = 'org-b00'"), 32);
    cr_expect_eq (s_orgs_owing (), 0);
}

//  A log that ends on a tile: every event is in a run, and the last tile's
//  range (none: the org row keeps NULL) is not taken for any ts
Test (subjects, a_log_that_ends_on_a_tile_has_nothing_past_its_runs)
{
    s_store_orgs (1, 0, 2 * 256);
    snprintf (s_org, sizeof s_org, "org-b00");
    cr_expect_eq (test_store_int (s_store, AUDIT_DB_AUDIT,
                                  "SELECT count (*) FROM org WHERE tail_min_ts IS NULL"), 1);
    const s_ask_t asks [] = {
        { .subject = "u2", .from = INT64_MIN, .to = INT64_MAX },
        { .subject = "hub", .from = INT64_MIN, .to = INT64_MAX },
        { .actor = "p3", .from = INT64_MIN, .to = INT64_MAX }
    };
    for (size_t at = 0; at < sizeof asks / sizeof *asks; at++) {
        s_expect_pages (&asks [at], AUDIT_CURSOR_DESC, INT64_MIN);
        s_expect_pages (&asks [at], AUDIT_CURSOR_ASC, INT64_MIN);
    }
}
