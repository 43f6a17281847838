/*  =========================================================================
    test_page - a page of an organisation's events from a typed filter:
    its plan, its filters, its keyset order and its end
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_store.h"
#include "audit_page.h"
#include "test_support.h"

#define s_NOW 1790000000000LL

static char *s_dir;
static audit_store_t *s_store;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("page");
    s_store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_store);
}

static void
s_teardown (void)
{
    audit_store_destroy (&s_store);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (page, .init = s_setup, .fini = s_teardown);

//  Event n of org: at s_NOW - n % 5 (many share a millisecond), actor
//  a<n % 3>, user u<n % 4> for device events
static void
s_event (audit_record_t *record, const char *org, uint32_t n)
{
    char actor [16];
    snprintf (actor, sizeof actor, "a%u", n % 3);
    test_record_login (record, org, actor, n, s_NOW - n % 5);
    record->received_ms = s_NOW;
    audit_event_t *event = &record->u.event;
    event->type = n % 2? AUDIT_EVENT_DEVICE_REGISTERED: AUDIT_EVENT_USER_LOGIN;
    if (event->type == AUDIT_EVENT_DEVICE_REGISTERED) {
        event->present = AUDIT_FIELD_BIT (AUDIT_FIELD_DEVICE_ID) | AUDIT_FIELD_BIT (AUDIT_FIELD_USER_ID);
        snprintf (event->text [AUDIT_FIELD_DEVICE_ID], sizeof (audit_ident_t), "d%u", n);
        snprintf (event->text [AUDIT_FIELD_USER_ID], sizeof (audit_ident_t), "u%u", n % 4);
    }
}

static void
s_store_events (const char *org, uint32_t count)
{
    audit_record_t *records = calloc (count, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (count, sizeof *outcomes);
    for (uint32_t n = 0; n < count; n++)
        s_event (&records [n], org, n);
    cr_assert_eq (audit_store_write (s_store, records, count, outcomes, NULL), 0);
    free (outcomes);
    free (records);
}

static audit_page_filter_t
s_filter (const char *org, audit_cursor_order_t order, uint32_t limit)
{
    audit_page_filter_t filter = {
        .org_id = org, .from_ms = INT64_MIN, .to_ms = INT64_MAX,
        .type_mask = (1u << AUDIT_EVENT_COUNT) - 1, .order = order, .limit = limit
    };
    return filter;
}

//  Every row of every page, following the page ends; the rows' count,
//  checked to be in keyset order and each log_index seen once
static uint32_t
s_walk (audit_page_filter_t filter, uint64_t *seen_mask)
{
    uint32_t rows = 0;
    bool asc = filter.order == AUDIT_CURSOR_ASC;
    audit_page_pos_t previous = { asc? INT64_MIN: INT64_MAX, asc? 0: UINT64_MAX };
    for (bool more = true; more; ) {
        audit_page_t *page = audit_page_new (s_store, &filter);
        cr_assert_not_null (page);
        audit_row_t row;
        int rc;
        while ((rc = audit_page_next (page, &row)) == 1) {
            bool after = asc? row.timestamp_ms > previous.ts_ms
                              || (row.timestamp_ms == previous.ts_ms && row.log_index > previous.log_index)
                            : row.timestamp_ms < previous.ts_ms
                              || (row.timestamp_ms == previous.ts_ms && row.log_index < previous.log_index);
            cr_assert (after, "row %llu is in keyset order", (unsigned long long) row.log_index);
            cr_assert_lt (row.log_index, 64);
            cr_assert_eq (*seen_mask & (1ull << row.log_index), 0, "seen once");
            *seen_mask |= 1ull << row.log_index;
            previous = (audit_page_pos_t) { row.timestamp_ms, row.log_index };
            rows++;
        }
        cr_assert_eq (rc, 0);
        more = audit_page_more (page, &filter.after);
        filter.has_after = more;
        audit_page_destroy (&page);
    }
    return rows;
}

//  The seeks a page with subject runs makes (audit_subjects): each run's
//  seq, its entries of the name, the last tile's range, and each match by
//  its whole key
static const char *s_run_seeks [] = {
    "SEARCH d USING PRIMARY KEY (org=? AND run=?)",
    "SEARCH r USING PRIMARY KEY (seq=? AND subject=?",
    "SEARCH x USING PRIMARY KEY (org=? AND ts>? AND ts<?)",
    "SEARCH e USING PRIMARY KEY (org=? AND ts=? AND log_index=?)"
};
//  and the one seek of any other page
static const char *s_org_seek [] = { "SEARCH e USING PRIMARY KEY (org=? AND ts>? AND ts<?)" };

Test (page, every_shape_seeks_the_org_in_the_primary_key_without_a_sort)
{
    sqlite3 *db = audit_store_db (s_store, AUDIT_DB_AUDIT);
    //  Both orders and the log order (bit 8), each with and without every
    //  optional term, and the dense bit (9: a name so frequent it scans)
    cr_assert_eq (sqlite_page_shape_count (), 1024);
    int by_runs = 0;
    for (int shape = 0; shape < sqlite_page_shape_count (); shape++) {
        char sql [8192];
        snprintf (sql, sizeof sql, "EXPLAIN QUERY PLAN %s", sqlite_page_shape_sql (shape));
        sqlite3_stmt *stmt = NULL;
        cr_assert_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK,
                      "%s", sqlite3_errmsg (db));
        //  Log order reads a window of tiles by their range of ts, and
        //  sorts that window's rows (at most 4 tiles of 256): the one sort.
        //  A page by subject runs sorts its matches, which are few.
        bool runs = strstr (sql, "subject_run") != NULL, log = shape & 256;
        by_runs += runs;
        const char *const *seeks = runs? s_run_seeks: s_org_seek;
        unsigned count = runs? 4: 1, seen = 0;
        while (sqlite3_step (stmt) == SQLITE_ROW) {
            const char *detail = (const char *) sqlite3_column_text (stmt, 3);
            for (unsigned seek = 0; seek < count; seek++)
                if (strstr (detail, seeks [seek]))
                    seen |= 1u << seek;
            //  the one scan: of the list of the organisation's runs
            if (!strstr (detail, "SCAN j VIRTUAL TABLE"))
                cr_assert_null (strstr (detail, "SCAN"), "shape %d scans: %s", shape, detail);
            if (!(log || runs) || !strstr (detail, "USE TEMP B-TREE FOR ORDER BY"))
                cr_assert_null (strstr (detail, "TEMP B-TREE"), "shape %d sorts: %s", shape,
                                detail);
        }
        sqlite3_finalize (stmt);
        cr_assert_eq (seen, (1u << count) - 1, "shape %d does not make its seeks (%u)", shape,
                      seen);
    }
    //  subject, actor_id or user_id, in time order, not dense: 7 of 8 of 256
    cr_expect_eq (by_runs, 224);
}

Test (page, pages_walk_every_event_once_in_both_orders)
{
    s_store_events ("org-a", 40);
    s_store_events ("org-b", 7);
    for (int asc = 0; asc < 2; asc++) {
        uint64_t seen = 0;
        audit_page_filter_t filter = s_filter ("org-a", asc? AUDIT_CURSOR_ASC: AUDIT_CURSOR_DESC, 3);
        cr_expect_eq (s_walk (filter, &seen), 40);
        cr_expect_eq (seen, (1ull << 40) - 1, "log_index 0..39, each once");
    }
}

Test (page, a_row_carries_its_log_index_names_and_org)
{
    s_store_events ("org-a", 2);
    audit_page_filter_t filter = s_filter ("org-a", AUDIT_CURSOR_ASC, 10);
    filter.field [AUDIT_FIELD_DEVICE_ID] = "d1";
    audit_page_t *page = audit_page_new (s_store, &filter);
    audit_row_t row;
    cr_assert_eq (audit_page_next (page, &row), 1);
    cr_expect_eq (row.log_index, 1);
    cr_expect_eq (row.type, AUDIT_EVENT_DEVICE_REGISTERED);
    cr_expect_str_eq (row.org_id, "org-a");
    cr_expect_str_eq (row.actor_id, "a1");
    cr_expect_str_eq (row.text [AUDIT_FIELD_DEVICE_ID], "d1");
    cr_expect_str_eq (row.text [AUDIT_FIELD_USER_ID], "u1");
    cr_expect_null (row.text [AUDIT_FIELD_GROUP_ID]);
    cr_expect_eq (audit_page_next (page, &row), 0);
    cr_expect_not (audit_page_more (page, NULL));
    audit_page_destroy (&page);
    audit_page_destroy (&page);
}

//  The rows each filter lets through, counted by walking every page
static uint32_t
s_count (audit_page_filter_t filter)
{
    uint64_t seen = 0;
    return s_walk (filter, &seen);
}

Test (page, every_filter_narrows_the_rows)
{
    s_store_events ("org-a", 24);
    audit_page_filter_t all = s_filter ("org-a", AUDIT_CURSOR_DESC, 5);
    audit_page_filter_t filter = all;
    filter.actor_id = "a0";
    cr_expect_eq (s_count (filter), 8, "actor");
    filter = all;
    filter.field [AUDIT_FIELD_USER_ID] = "u1";
    cr_expect_eq (s_count (filter), 6, "user: the odd n with n %% 4 == 1");
    filter = all;
    filter.subject = "u1";
    cr_expect_eq (s_count (filter), 6, "subject: the user's events (no actor u1)");
    filter = all;
    filter.type_mask = 1u << AUDIT_EVENT_USER_LOGIN;
    cr_expect_eq (s_count (filter), 12, "type");
    filter = all;
    filter.from_ms = s_NOW - 1;
    filter.to_ms = s_NOW;
    cr_expect_eq (s_count (filter), 5, "[from, to): only n %% 5 == 1");
    filter = all;
    filter.field [AUDIT_FIELD_GROUP_ID] = "never-seen";
    cr_expect_eq (s_count (filter), 0, "an unknown name matches nothing");
    filter = s_filter ("no-such-org", AUDIT_CURSOR_DESC, 5);
    cr_expect_eq (s_count (filter), 0, "an unknown organisation is empty");
    filter = all;
    filter.type_mask = 0;
    cr_expect_eq (s_count (filter), 0, "no type wanted");
}

//  --------------------------------------------------------------------------
//  Log order (tail): every event once, in log_index order, however late
//  its timestamp, with or without a filter, page after page

//  Follow org from index from in pages of limit; the log indexes seen into
//  seen (at most max), their count returned; *next where the last page ended
static size_t
s_follow (const char *org, const char *actor, uint64_t from, uint32_t limit, uint64_t *seen,
          size_t max, uint64_t *next)
{
    size_t count = 0;
    while (true) {
        audit_page_filter_t filter = s_filter (org, AUDIT_CURSOR_ASC, limit);
        filter.log_order = true;
        filter.from_index = from;
        filter.actor_id = actor;
        audit_page_t *page = audit_page_new (s_store, &filter);
        cr_assert_not_null (page);
        audit_row_t row;
        size_t rows = 0;
        while (audit_page_next (page, &row) == 1) {
            cr_assert_lt (count, max);
            if (actor)
                cr_expect_str_eq (row.actor_id, actor);
            seen [count++] = row.log_index;
            rows++;
        }
        uint64_t after = audit_page_log_next (page);
        audit_page_destroy (&page);
        cr_assert_geq (after, from, "the next page never starts before this one");
        if (after == from)
            break;
        from = after;
        if (rows == 0)
            break;
    }
    *next = from;
    return count;
}

Test (page, log_order_gives_every_event_once_in_log_order)
{
    s_store_events ("org-a", 57);           //  timestamps out of order (n % 5 back)
    uint64_t seen [64], next = 0;
    size_t count = s_follow ("org-a", NULL, 0, 10, seen, 64, &next);
    cr_expect_eq (count, 57);
    for (size_t at = 0; at < count; at++)
        cr_expect_eq (seen [at], at, "log_index %zu in order", at);
    cr_expect_eq (next, 57, "the next page starts at the log's end");
    //  From the middle, and from the end: nothing repeated, nothing new
    cr_expect_eq (s_follow ("org-a", NULL, 50, 3, seen, 64, &next), 7);
    cr_expect_eq (seen [0], 50);
    cr_expect_eq (s_follow ("org-a", NULL, 57, 10, seen, 64, &next), 0);
    cr_expect_eq (next, 57);
}

Test (page, log_order_with_a_filter_skips_past_what_does_not_match)
{
    s_store_events ("org-a", 60);           //  actor a<n % 3>
    uint64_t seen [64], next = 0;
    size_t count = s_follow ("org-a", "a1", 0, 4, seen, 64, &next);
    cr_expect_eq (count, 20);
    for (size_t at = 0; at < count; at++)
        cr_expect_eq (seen [at] % 3, 1);
    cr_expect_eq (next, 60, "past the unmatched events at the end too");
    s_store_events ("org-b", 1);            //  other organisations do not show
    cr_expect_eq (s_follow ("org-a", "a1", next, 4, seen, 64, &next), 0);
    cr_expect_eq (s_follow ("nobody", NULL, 0, 4, seen, 64, &next), 0);
    cr_expect_eq (next, 0);
}
