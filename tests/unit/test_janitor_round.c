/*  =========================================================================
    test_janitor_round - the audit purge of a pass on a store filled
    directly: a batch goes from organisation to organisation up to its
    size, a pass resumes where the last one stopped, a late batch starts
    no further organisation, and a failed batch is visited again
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_store_space.h"
#include "audit_time.h"
#include "janitor_round.h"
#include "test_support.h"

#define s_NOW   1795000000000LL
#define s_DAY   AUDIT_MS_PER_DAY
#define s_CUT   (s_NOW - 365 * s_DAY)
#define s_LATER (zclock_usecs () + 60 * 1000000LL)

static char *s_dir;
static audit_store_t *s_writer;
static audit_store_t *s_store;

static void
s_event (const char *org, int64_t ts)
{
    cr_assert_eq (test_store_login (s_writer, org, ts, s_NOW), 0);
}

//  Events of org still stored
static int64_t
s_left (const char *org)
{
    char sql [160];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE org ="
              " (SELECT id FROM org WHERE name = '%s')", org);
    return test_store_int (s_writer, AUDIT_DB_AUDIT, sql);
}

//  One batch in its own transaction; rc_forced -1 rolls it back
static int64_t
s_batch (janitor_round_t *round, int size, int64_t until_us, bool *done, int rc_forced)
{
    int64_t deleted = -1;
    cr_assert_eq (audit_store_space_begin (s_store, AUDIT_DB_AUDIT), 0);
    int rc = janitor_round_delete (round, size, until_us, &deleted, done);
    cr_assert_eq (rc, 0);
    cr_assert_eq (audit_store_space_end (s_store, AUDIT_DB_AUDIT, rc_forced), rc_forced);
    return deleted;
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("janitor-round");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    s_store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert (s_writer && s_store);
}

static void
s_teardown (void)
{
    audit_store_destroy (&s_store);
    audit_store_destroy (&s_writer);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (janitor_round, .init = s_setup, .fini = s_teardown, .timeout = 60);

Test (janitor_round, a_batch_goes_from_org_to_org_up_to_its_size)
{
    for (int index = 0; index < 8; index++)
        s_event ("org-a", s_CUT - 1 - index);
    s_event ("org-a", s_CUT);                   //  exactly at the cut: kept
    s_event ("org-b", s_CUT - 5);
    janitor_round_t *round = janitor_round_new (s_store);
    cr_assert_not_null (round);
    cr_assert_eq (janitor_round_load (round, s_NOW), 0);
    cr_expect_eq (janitor_round_orgs_left (round), 2);
    bool done = true;
    cr_expect_eq (s_batch (round, 5, s_LATER, &done, 0), 5);
    cr_expect_not (done);
    cr_expect_eq (s_left ("org-a"), 4);
    cr_expect_eq (s_left ("org-b"), 1, "a full batch takes nothing more");
    cr_expect_eq (s_batch (round, 5, s_LATER, &done, 0), 4, "org-a's 3, then org-b's 1");
    cr_expect (done);
    cr_expect_eq (janitor_round_orgs_left (round), 0);
    cr_expect_eq (s_left ("org-a"), 1);
    cr_expect_eq (s_left ("org-b"), 0);
    janitor_round_destroy (&round);
    janitor_round_destroy (&round);
    cr_expect_null (round);
}

Test (janitor_round, a_pass_resumes_at_the_org_it_stopped_at)
{
    const char *orgs [] = { "org-a", "org-b", "org-c" };
    for (int org = 0; org < 3; org++)
        for (int index = 0; index < 3; index++)
            s_event (orgs [org], s_CUT - 1 - index);
    janitor_round_t *round = janitor_round_new (s_store);
    cr_assert_eq (janitor_round_load (round, s_NOW), 0);
    bool done = true;
    cr_expect_eq (s_batch (round, 4, s_LATER, &done, 0), 4);
    cr_expect_eq (s_left ("org-b"), 2, "the batch ended inside org-b");
    //  The next pass starts at org-b; org-a comes last and has nothing left
    cr_assert_eq (janitor_round_load (round, s_NOW), 0);
    cr_expect_eq (janitor_round_orgs_left (round), 3);
    cr_expect_eq (s_batch (round, 2, s_LATER, &done, 0), 2);
    cr_expect_eq (s_left ("org-b"), 0);
    cr_expect_eq (s_left ("org-c"), 3, "org-b first");
    cr_expect_eq (s_batch (round, 100, s_LATER, &done, 0), 3);
    cr_expect (done);
    janitor_round_destroy (&round);
}

//  A batch whose time is up finishes its organisation's share, and starts
//  no other
Test (janitor_round, a_late_batch_starts_no_further_org)
{
    s_event ("org-a", s_CUT - 1);
    s_event ("org-a", s_CUT - 2);
    s_event ("org-b", s_CUT - 1);
    janitor_round_t *round = janitor_round_new (s_store);
    cr_assert_eq (janitor_round_load (round, s_NOW), 0);
    bool done = true;
    cr_expect_eq (s_batch (round, 10, 0, &done, 0), 2);
    cr_expect_not (done);
    cr_expect_eq (s_left ("org-b"), 1);
    cr_expect_eq (s_batch (round, 10, 0, &done, 0), 1);
    cr_expect (done);
    janitor_round_destroy (&round);
}

Test (janitor_round, a_failed_batch_is_visited_again)
{
    s_event ("org-a", s_CUT - 1);
    s_event ("org-b", s_CUT - 1);
    janitor_round_t *round = janitor_round_new (s_store);
    cr_assert_eq (janitor_round_load (round, s_NOW), 0);
    bool done = false;
    cr_expect_eq (s_batch (round, 10, s_LATER, &done, -1), 2);
    cr_expect_eq (s_left ("org-a") + s_left ("org-b"), 2, "rolled back");
    janitor_round_undo (round);
    cr_expect_eq (janitor_round_orgs_left (round), 2);
    cr_expect_eq (s_batch (round, 10, s_LATER, &done, 0), 2);
    cr_expect (done);
    cr_expect_eq (s_left ("org-a") + s_left ("org-b"), 0);
    janitor_round_destroy (&round);
}
