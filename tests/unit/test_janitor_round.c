/*  =========================================================================
    test_janitor_round - one round of the audit purge on a store filled
    directly: what a round collects and where it stops, the order its keys
    and rows go in, and the cut it checks again before deleting a row
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "audit_store.h"
#include "audit_time.h"
#include "janitor_db.h"
#include "janitor_round.h"
#include "test_support.h"

#define s_NOW   1795000000000LL
#define s_DAY   AUDIT_MS_PER_DAY
#define s_CUT   (s_NOW - 365 * s_DAY)

static char *s_dir;
static audit_store_t *s_writer;
static audit_store_t *s_store;
static janitor_db_t *s_db;

//  An event of org at ts whose event id starts with the byte first, so
//  that a test knows the key order
static void
s_event (const char *org, int64_t ts, uint8_t first)
{
    static uint32_t serial;
    audit_record_t record;
    memset (&record, 0, sizeof record);
    record.kind = AUDIT_TOPIC_KIND_AUDIT;
    record.received_ms = s_NOW;
    audit_event_t *event = &record.u.event;
    memset (event->event_id, 0x11, AUDIT_UUID_SIZE);
    event->event_id [0] = first;
    serial++;
    memcpy (event->event_id + 12, &serial, sizeof serial);
    event->type = AUDIT_EVENT_USER_LOGIN;
    event->timestamp_ms = ts;
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "actor");
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
    cr_assert_eq (outcome, AUDIT_STORE_STORED);
}

static int64_t
s_int (const char *sql)
{
    sqlite3 *conn = audit_store_db (s_writer, AUDIT_DB_AUDIT);
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (conn, sql, -1, &stmt, NULL), SQLITE_OK, "%s", sql);
    int64_t value = sqlite3_step (stmt) == SQLITE_ROW? sqlite3_column_int64 (stmt, 0): -1;
    sqlite3_finalize (stmt);
    return value;
}

static void
s_exec (const char *sql)
{
    cr_assert_eq (sqlite3_exec (audit_store_db (s_writer, AUDIT_DB_AUDIT), sql,
                                NULL, NULL, NULL), SQLITE_OK, "%s", sql);
}

static int64_t
s_org (const char *name)
{
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT id FROM org WHERE name = '%s'", name);
    return s_int (sql);
}

//  Keys and rows of the caller's work, each in its own transaction
static int64_t
s_delete (janitor_round_t *round, bool keys, int size)
{
    int64_t deleted = -1;
    cr_assert_eq (janitor_db_begin (s_db), 0);
    int64_t until = zclock_usecs () + 60 * 1000000LL;
    int rc = keys? janitor_round_delete_keys (round, size, until, &deleted)
                 : janitor_round_delete_rows (round, size, until, &deleted);
    cr_assert_eq (janitor_db_end (s_db, rc), 0);
    return deleted;
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("janitor-round");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    s_store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert (s_writer && s_store);
    s_db = janitor_db_new (s_store, AUDIT_DB_AUDIT);
    cr_assert_not_null (s_db);
}

static void
s_teardown (void)
{
    janitor_db_destroy (&s_db);
    audit_store_destroy (&s_store);
    audit_store_destroy (&s_writer);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (janitor_round, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test (janitor_round, collects_the_expired_up_to_its_bound)
{
    for (int index = 0; index < 8; index++)
        s_event ("org-a", s_CUT - 1 - index, (uint8_t) index);
    s_event ("org-a", s_CUT, 0x40);             //  exactly at the cut: kept
    s_event ("org-b", s_CUT - 5, 0x41);
    janitor_round_t *round = janitor_round_new (s_db, 5);
    cr_assert_not_null (round);
    bool complete = true;
    cr_assert_eq (janitor_round_collect (round, s_org ("org-a"), s_CUT, &complete), 0);
    cr_expect_not (complete, "8 expired, room for 5");
    cr_expect (janitor_round_collecting (round));
    cr_expect_eq (janitor_round_rows_left (round), 0, "nothing to delete before the seal");
    cr_assert_eq (janitor_round_collect (round, s_org ("org-b"), s_CUT, &complete), 0);
    cr_expect_not (complete, "a full round takes nothing more");
    cr_assert_eq (janitor_round_seal (round), 0);
    cr_expect_eq (janitor_round_keys_left (round), 5);
    cr_expect_eq (janitor_round_rows_left (round), 5);
    cr_expect_eq (s_delete (round, true, 100), 5);
    cr_expect_eq (s_delete (round, false, 100), 5);
    cr_expect_not (janitor_round_collecting (round));
    cr_expect_eq (janitor_round_rows_left (round), 0, "empty once its rows are gone");
    //  Oldest first: the 5 oldest of org-a went
    char sql [160];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE org = %lld AND ts >= %lld",
              (long long) s_org ("org-a"), s_CUT - 3);
    cr_expect_eq (s_int (sql), 4, "org-a's 3 youngest expired and the one at the cut");
    cr_expect_eq (s_int ("SELECT count(*) FROM event"), 5, "and org-b's");
    //  The next round takes the rest of org-a, then org-b
    cr_assert_eq (janitor_round_collect (round, s_org ("org-a"), s_CUT, &complete), 0);
    cr_expect (complete);
    cr_assert_eq (janitor_round_collect (round, s_org ("org-b"), s_CUT, &complete), 0);
    cr_expect (complete);
    cr_assert_eq (janitor_round_seal (round), 0);
    cr_expect_eq (janitor_round_rows_left (round), 4);
    janitor_round_destroy (&round);
    janitor_round_destroy (&round);
    cr_expect_null (round);
}

Test (janitor_round, keys_go_in_key_order_and_rows_in_row_order)
{
    //  Row order, key order and time order (the order of collection)
    //  disagree on purpose
    const uint8_t firsts [] = { 0x90, 0x10, 0x70, 0x30, 0x50 };
    for (int index = 0; index < 5; index++)
        s_event ("org-a", s_CUT - 100 - index, firsts [index]);
    janitor_round_t *round = janitor_round_new (s_db, 100);
    bool complete = false;
    cr_assert_eq (janitor_round_collect (round, s_org ("org-a"), s_CUT, &complete), 0);
    cr_assert_eq (janitor_round_seal (round), 0);
    cr_expect_eq (s_delete (round, true, 2), 2);
    cr_expect_eq (s_int ("SELECT count(*) FROM event_key WHERE substr (uuid, 1, 1)"
                         " IN (x'10', x'30')"), 0, "the two smallest keys went first");
    cr_expect_eq (s_int ("SELECT count(*) FROM event_key"), 3);
    cr_expect_eq (janitor_round_rows_left (round), 5, "no row before every key");
    cr_expect_eq (s_delete (round, true, 100), 3);
    cr_expect_eq (s_delete (round, false, 2), 2);
    cr_expect_eq (s_int ("SELECT min (id) FROM event"), 3, "the two lowest rows went first");
    cr_expect_eq (s_delete (round, false, 100), 3);
    cr_expect_eq (s_int ("SELECT count(*) FROM event"), 0);
    janitor_round_destroy (&round);
}

//  A row that is no longer older than its cut when its turn comes (its id
//  was taken by a new event) stays
Test (janitor_round, a_row_is_deleted_only_while_it_is_past_its_cut)
{
    s_event ("org-a", s_CUT - 10, 0x01);
    s_event ("org-a", s_CUT - 9, 0x02);
    janitor_round_t *round = janitor_round_new (s_db, 100);
    bool complete = false;
    cr_assert_eq (janitor_round_collect (round, s_org ("org-a"), s_CUT, &complete), 0);
    cr_assert_eq (janitor_round_seal (round), 0);
    char sql [128];
    snprintf (sql, sizeof sql, "UPDATE event SET ts = %lld WHERE id = 2", s_NOW);
    s_exec (sql);
    cr_expect_eq (s_delete (round, true, 100), 2);
    cr_expect_eq (s_delete (round, false, 100), 1);
    cr_expect_eq (s_int ("SELECT count(*) FROM event WHERE id = 2"), 1);
    janitor_round_destroy (&round);
}

Test (janitor_round, a_cleared_round_holds_nothing)
{
    s_event ("org-a", s_CUT - 10, 0x01);
    janitor_round_t *round = janitor_round_new (s_db, 100);
    bool complete = false;
    cr_assert_eq (janitor_round_collect (round, s_org ("org-a"), s_CUT, &complete), 0);
    cr_assert_eq (janitor_round_seal (round), 0);
    janitor_round_clear (round);
    cr_expect_eq (janitor_round_keys_left (round), 0);
    cr_expect_eq (janitor_round_rows_left (round), 0);
    cr_expect_not (janitor_round_collecting (round));
    cr_expect_eq (s_delete (round, true, 100), 0);
    cr_expect_eq (s_int ("SELECT count(*) FROM event_key"), 1, "nothing was deleted");
    janitor_round_destroy (&round);
}

//  A batch whose time is up stops at the next look at the clock, every 64
Test (janitor_round, a_batch_stops_when_its_time_is_up)
{
    for (int index = 0; index < 200; index++)
        s_event ("org-a", s_CUT - 1 - index, (uint8_t) index);
    janitor_round_t *round = janitor_round_new (s_db, 1000);
    bool complete = false;
    cr_assert_eq (janitor_round_collect (round, s_org ("org-a"), s_CUT, &complete), 0);
    cr_assert_eq (janitor_round_seal (round), 0);
    int64_t deleted = 0;
    cr_assert_eq (janitor_db_begin (s_db), 0);
    cr_assert_eq (janitor_round_delete_keys (round, 1000, 0, &deleted), 0);
    cr_expect_eq (deleted, 64);
    while (janitor_round_keys_left (round) > 0)
        cr_assert_eq (janitor_round_delete_keys (round, 1000, 0, &deleted), 0);
    cr_assert_eq (janitor_round_delete_rows (round, 1000, 0, &deleted), 0);
    cr_expect_eq (deleted, 64);
    cr_assert_eq (janitor_db_end (s_db, 0), 0);
    cr_expect_eq (janitor_round_rows_left (round), 200 - 64);
    janitor_round_destroy (&round);
}
