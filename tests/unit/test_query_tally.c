/*  The query worker's error replies reach audit.db's counters: when a
    flush is due, at once when forced, and later when the store was busy */

#include <criterion/criterion.h>

#include "sqlite_store.h"
#include "audit_counters.h"
#include "query_tally.h"
#include "test_support.h"

static char *s_dir;
static audit_store_t *s_store;
static query_tally_t *s_tally;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("tally");
    s_store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    s_tally = query_tally_new ();
    cr_assert (s_store && s_tally);
}

static void
s_teardown (void)
{
    query_tally_destroy (&s_tally);
    audit_store_destroy (&s_store);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (query_tally, .init = s_setup, .fini = s_teardown);

static int64_t
s_stored (const char *name)
{
    return test_store_counter (s_store, name);
}

Test (query_tally, counts_go_in_when_a_flush_is_due)
{
    query_tally_error (s_tally, AUDIT_ERROR_BAD_REQUEST);
    query_tally_error (s_tally, AUDIT_ERROR_BAD_REQUEST);
    query_tally_error (s_tally, AUDIT_ERROR_FORBIDDEN);
    int64_t now = 1000000;
    cr_assert_eq (query_tally_flush (s_tally, s_store, &s_lock, now, false), 0);
    cr_expect_eq (s_stored ("query.errors.bad_request"), 2, "the first flush is due");
    cr_expect_eq (s_stored ("query.errors.forbidden"), 1);
    query_tally_error (s_tally, AUDIT_ERROR_UNAUTHENTICATED);
    cr_assert_eq (query_tally_flush (s_tally, s_store, &s_lock, now + 10, false), 0);
    cr_expect_eq (s_stored ("query.errors.unauthenticated"), 0, "not due yet");
    cr_assert_eq (query_tally_flush (s_tally, s_store, &s_lock,
                                     now + QUERY_TALLY_FLUSH_MS, false), 0);
    cr_expect_eq (s_stored ("query.errors.unauthenticated"), 1, "due after the interval");
    query_tally_error (s_tally, AUDIT_ERROR_TOO_LARGE);
    cr_assert_eq (query_tally_flush (s_tally, s_store, &s_lock,
                                     now + QUERY_TALLY_FLUSH_MS + 1, true), 0);
    cr_expect_eq (s_stored ("query.errors.too_large"), 1, "forced");
    cr_expect_eq (s_stored ("query.errors.bad_request"), 2, "each count once");
}

Test (query_tally, counts_wait_out_a_busy_store)
{
    audit_store_t *holder = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    sqlite3 *audit = audit_store_db (holder, AUDIT_DB_AUDIT);
    cr_assert_eq (sqlite3_exec (audit, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    audit_store_busy_limit (s_store, AUDIT_DB_AUDIT, 20);
    query_tally_error (s_tally, AUDIT_ERROR_UNAVAILABLE);
    cr_expect_eq (query_tally_flush (s_tally, s_store, &s_lock, 1000000, true), -1);
    query_tally_error (s_tally, AUDIT_ERROR_UNAVAILABLE);
    cr_assert_eq (sqlite3_exec (audit, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    cr_expect_eq (query_tally_flush (s_tally, s_store, &s_lock, 1000001, true), 0);
    cr_expect_eq (s_stored ("query.errors.unavailable"), 2, "kept, then written with the next");
    audit_store_destroy (&holder);
}
