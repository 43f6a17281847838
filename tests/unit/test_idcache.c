/*  =========================================================================
    test_idcache - the identifier cache of one audit.db connection: names
    to ids and ids to names, forgetting on a new ident generation and on a
    rollback, and full tables that keep answering right
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_idcache.h"
#include "test_support.h"

#define s_NOW 1790000000000LL

static char *s_dir;
static audit_store_t *s_store;
static audit_idcache_t *s_cache;

static void
s_exec (const char *sql)
{
    cr_assert_eq (sqlite3_exec (audit_store_db (s_store, AUDIT_DB_AUDIT), sql, NULL, NULL, NULL),
                  SQLITE_OK, "%s", sql);
}

//  The first column of the one row of sql, as an integer
static int64_t
s_sql_int (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK, "%s", sql);
    cr_assert_eq (sqlite3_step (stmt), SQLITE_ROW, "%s", sql);
    int64_t value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

//  What the janitor's sweep does: delete, and say so
static void
s_generation_bump (void)
{
    s_exec ("INSERT INTO meta (key, value) VALUES ('ident_generation', 1)"
            " ON CONFLICT (key) DO UPDATE SET value = value + 1");
}

//  Idents 1 .. count named "name-<id>", and no others
static void
s_idents_fill (int count)
{
    char sql [256];
    snprintf (sql, sizeof sql, "DELETE FROM ident; WITH RECURSIVE n (i) AS"
              " (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
              " INSERT INTO ident (id, name) SELECT i, 'name-' || i FROM n",
              count);
    s_exec (sql);
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("idcache");
    s_store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_store);
    s_exec ("INSERT INTO ident (id, name) VALUES (1, 'alice'), (2, 'bob')");
}

static void
s_teardown (void)
{
    audit_idcache_destroy (&s_cache);
    audit_store_destroy (&s_store);
    test_tmpdir_destroy (&s_dir);
}

static void
s_cache_new (audit_idcache_role_t role)
{
    s_cache = audit_idcache_new (audit_store_db (s_store, AUDIT_DB_AUDIT), role);
    cr_assert_not_null (s_cache);
}

static void
s_expect_name (audit_idcache_table_t table, int64_t id, const char *expected)
{
    const char *name = "unset";
    cr_assert_eq (audit_idcache_name (s_cache, table, id, &name), 0);
    if (expected)
        cr_expect_str_eq (name, expected, "id %lld", (long long) id);
    else
        cr_expect_null (name, "id %lld", (long long) id);
}

//  0 and the id, or 1 (absent) and 0
static int64_t
s_find (audit_idcache_table_t table, const char *name, int expected_rc)
{
    int64_t id = 0;
    cr_assert_eq (audit_idcache_find (s_cache, table, name, &id), expected_rc, "%s", name);
    return id;
}

TestSuite (idcache, .init = s_setup, .fini = s_teardown);

//  --------------------------------------------------------------------------
//  Both directions

Test (idcache, a_reader_finds_names_and_ids_the_store_holds)
{
    s_cache_new (AUDIT_IDCACHE_READER);
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    audit_idcache_row (s_cache);
    s_expect_name (AUDIT_IDCACHE_IDENT, 1, "alice");
    s_expect_name (AUDIT_IDCACHE_IDENT, 2, "bob");
    s_expect_name (AUDIT_IDCACHE_IDENT, 99, NULL);
    s_expect_name (AUDIT_IDCACHE_IDENT, 0, NULL);
    cr_expect_eq (s_find (AUDIT_IDCACHE_IDENT, "bob", 0), 2);
    cr_expect_eq (s_find (AUDIT_IDCACHE_IDENT, "alice", 0), 1);
    s_find (AUDIT_IDCACHE_IDENT, "nobody", 1);
    s_find (AUDIT_IDCACHE_ORG, "alice", 1);
    s_find (AUDIT_IDCACHE_IDENT, "nobody", 1);     //  an absence is not held
    s_exec ("INSERT INTO ident (id, name) VALUES (3, 'nobody')");
    cr_expect_eq (s_find (AUDIT_IDCACHE_IDENT, "nobody", 0), 3);
    audit_idcache_destroy (&s_cache);
    audit_idcache_destroy (&s_cache);
    cr_assert_null (s_cache);
}

Test (idcache, a_writer_interns_once_and_names_what_it_interned)
{
    s_cache_new (AUDIT_IDCACHE_WRITER);
    s_exec ("BEGIN IMMEDIATE");
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    int64_t carol = 0, again = 0, bob = 0, org = 0;
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_IDENT, "carol", &carol), 0);
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_IDENT, "carol", &again), 0);
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_IDENT, "bob", &bob), 0);
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_ORG, "org-1", &org), 0);
    s_exec ("COMMIT");
    cr_expect_eq (carol, 3);
    cr_expect_eq (again, carol);
    cr_expect_eq (bob, 2, "an existing row is found, not inserted");
    cr_expect_eq (s_sql_int (audit_store_db (s_store, AUDIT_DB_AUDIT),
                                "SELECT count(*) FROM ident WHERE name = 'carol'"), 1);
    //  The other way, from the same entries
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    audit_idcache_row (s_cache);
    s_expect_name (AUDIT_IDCACHE_IDENT, carol, "carol");
    s_expect_name (AUDIT_IDCACHE_ORG, org, "org-1");
    s_expect_name (AUDIT_IDCACHE_ORG, org + 1, NULL);
    cr_expect_eq (s_find (AUDIT_IDCACHE_ORG, "org-1", 0), org);
}

//  A name no event could carry is answered from the store, never held
Test (idcache, a_name_longer_than_any_identifier_is_looked_up)
{
    char sql [512], name [AUDIT_IDENT_MAX + 40];
    memset (name, 'x', sizeof name - 1);
    name [sizeof name - 1] = '\0';
    snprintf (sql, sizeof sql, "INSERT INTO ident (id, name) VALUES (7, '%s')", name);
    s_exec (sql);
    s_cache_new (AUDIT_IDCACHE_READER);
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    cr_expect_eq (s_find (AUDIT_IDCACHE_IDENT, name, 0), 7);
    s_exec ("DELETE FROM ident WHERE id = 7");
    s_find (AUDIT_IDCACHE_IDENT, name, 1);
}

//  --------------------------------------------------------------------------
//  The invalidation rule

//  The janitor deletes alice and bumps the generation; SQLite hands her id
//  to a new name. Until then the cache answers without the store.
Test (idcache, a_new_ident_generation_forgets_both_ways)
{
    s_cache_new (AUDIT_IDCACHE_READER);
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    audit_idcache_row (s_cache);
    s_expect_name (AUDIT_IDCACHE_IDENT, 1, "alice");
    cr_expect_eq (s_find (AUDIT_IDCACHE_IDENT, "bob", 0), 2);
    s_exec ("DELETE FROM ident WHERE id IN (1, 2);"
            " INSERT INTO ident (id, name) VALUES (1, 'carol')");
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    audit_idcache_row (s_cache);
    s_expect_name (AUDIT_IDCACHE_IDENT, 1, "alice");
    cr_expect_eq (s_find (AUDIT_IDCACHE_IDENT, "bob", 0), 2, "held, generation unchanged");
    s_generation_bump ();
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    audit_idcache_row (s_cache);
    s_expect_name (AUDIT_IDCACHE_IDENT, 1, "carol");
    s_expect_name (AUDIT_IDCACHE_IDENT, 2, NULL);
    s_find (AUDIT_IDCACHE_IDENT, "bob", 1);
    s_find (AUDIT_IDCACHE_IDENT, "alice", 1);
}

//  The ids interned in a rolled-back transaction are gone, and SQLite
//  gives them out again; what the cache held before stays
Test (idcache, a_rollback_forgets_the_ids_it_interned)
{
    s_cache_new (AUDIT_IDCACHE_WRITER);
    int64_t bob = 0, dave = 0, erin = 0, org = 0;
    s_exec ("BEGIN IMMEDIATE");
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_IDENT, "bob", &bob), 0);
    s_exec ("COMMIT");

    s_exec ("BEGIN IMMEDIATE");
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_IDENT, "dave", &dave), 0);
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_ORG, "org-gone", &org), 0);
    s_exec ("ROLLBACK");
    audit_idcache_rollback (s_cache);

    s_exec ("BEGIN IMMEDIATE");
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    s_find (AUDIT_IDCACHE_IDENT, "dave", 1);
    s_find (AUDIT_IDCACHE_ORG, "org-gone", 1);
    audit_idcache_row (s_cache);
    s_expect_name (AUDIT_IDCACHE_IDENT, dave, NULL);
    cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_IDENT, "erin", &erin), 0);
    cr_expect_eq (erin, dave, "the id is given out again");
    s_expect_name (AUDIT_IDCACHE_IDENT, erin, "erin");
    //  bob, from before the transaction, is still held: the store no
    //  longer has him, and the cache still answers
    s_exec ("DELETE FROM ident WHERE name = 'bob'");
    cr_expect_eq (s_find (AUDIT_IDCACHE_IDENT, "bob", 0), bob);
    s_exec ("COMMIT");
}

//  --------------------------------------------------------------------------
//  Bounds

//  Past the reader's 8192 entries: cleared and filled again, every answer
//  right, both ways
Test (idcache, a_full_reader_keeps_answering_right)
{
    enum { COUNT = 20000 };
    s_idents_fill (COUNT);
    s_cache_new (AUDIT_IDCACHE_READER);
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    for (int pass = 0; pass < 2; pass++)
        for (int64_t id = 1; id <= COUNT; id++) {
            char expected [32];
            snprintf (expected, sizeof expected, "name-%lld", (long long) id);
            audit_idcache_row (s_cache);
            s_expect_name (AUDIT_IDCACHE_IDENT, id, expected);
            cr_assert_eq (s_find (AUDIT_IDCACHE_IDENT, expected, 0), id);
        }
}

//  Past the writer's 131072 entries, in one transaction
Test (idcache, a_full_writer_keeps_interning_right)
{
    enum { COUNT = 140000 };
    s_cache_new (AUDIT_IDCACHE_WRITER);
    s_exec ("BEGIN IMMEDIATE");
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    char name [32];
    for (int round = 0; round < 2; round++)
        for (int index = 0; index < COUNT; index++) {
            snprintf (name, sizeof name, "w-%d", index);
            int64_t id = 0;
            cr_assert_eq (audit_idcache_intern (s_cache, AUDIT_IDCACHE_IDENT, name, &id), 0);
            cr_assert_eq (id, index + 3, "%s", name);     //  after alice and bob
        }
    s_exec ("COMMIT");
    cr_expect_eq (s_sql_int (audit_store_db (s_store, AUDIT_DB_AUDIT),
                                "SELECT count(*) FROM ident"), COUNT + 2);
}

//  The names of one row stay valid together, even when the table fills
//  up in the middle of the rows: each row's names are checked after the
//  last of them was asked for
Test (idcache, the_names_of_a_row_stay_valid_until_the_next_row)
{
    enum { COUNT = 20000 };
    s_idents_fill (COUNT);
    s_cache_new (AUDIT_IDCACHE_READER);
    cr_assert_eq (audit_idcache_begin (s_cache), 0);
    //  A short row first, so that the rows after it do not end where the
    //  table does
    const char *names [AUDIT_IDCACHE_ROW_NAMES];
    audit_idcache_row (s_cache);
    cr_assert_eq (audit_idcache_name (s_cache, AUDIT_IDCACHE_IDENT, COUNT, &names [0]), 0);
    for (int64_t first = 1; first + AUDIT_IDCACHE_ROW_NAMES <= COUNT;
         first += AUDIT_IDCACHE_ROW_NAMES) {
        audit_idcache_row (s_cache);
        for (int at = 0; at < AUDIT_IDCACHE_ROW_NAMES; at++)
            cr_assert_eq (audit_idcache_name (s_cache, AUDIT_IDCACHE_IDENT, first + at,
                                              &names [at]), 0);
        for (int at = 0; at < AUDIT_IDCACHE_ROW_NAMES; at++) {
            char expected [32];
            snprintf (expected, sizeof expected, "name-%lld", (long long) (first + at));
            cr_assert_str_eq (names [at], expected);
        }
    }
}

//  --------------------------------------------------------------------------
//  Through the store: the writer and the page use the store's cache

static void
s_login (audit_record_t *record, uint32_t n, const char *actor)
{
    test_record_login (record, "org-a", actor, n, s_NOW - n);
    record->received_ms = s_NOW;
}

//  The newest row's actor through a page of store, "" when none
static void
s_page_actor (audit_store_t *store, const char *actor_filter, char *actor, size_t size)
{
    audit_page_filter_t filter = {
        .org_id = "org-a", .actor_id = actor_filter, .from_ms = INT64_MIN, .to_ms = INT64_MAX,
        .type_mask = (1u << AUDIT_EVENT_COUNT) - 1, .order = AUDIT_CURSOR_DESC, .limit = 1
    };
    audit_page_t *page = audit_page_new (store, &filter);
    cr_assert_not_null (page);
    audit_row_t row;
    int rc = audit_page_next (page, &row);
    cr_assert_geq (rc, 0);
    snprintf (actor, size, "%s", rc == 1? row.actor_id: "");
    audit_page_destroy (&page);
}

//  The janitor removes the events and their identifiers, and says so: the
//  writer interns the names again, and a reader's page names the new ids
Test (idcache, deleted_idents_are_served_neither_to_the_writer_nor_the_page)
{
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    cr_assert_not_null (reader);
    audit_record_t record;
    audit_store_outcome_t outcome;
    s_login (&record, 1, "actor-a");
    cr_assert_eq (audit_store_write (s_store, &record, 1, &outcome, NULL), 0);
    char actor [64];
    s_page_actor (reader, "actor-a", actor, sizeof actor);
    cr_expect_str_eq (actor, "actor-a");

    audit_store_t *janitor = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    sqlite3 *conn = audit_store_db (janitor, AUDIT_DB_AUDIT);
    cr_assert_eq (sqlite3_exec (conn, "BEGIN IMMEDIATE; DELETE FROM event; DELETE FROM ident;"
                                " INSERT INTO meta (key, value) VALUES ('ident_generation', 1)"
                                " ON CONFLICT (key) DO UPDATE SET value = value + 1; COMMIT",
                                NULL, NULL, NULL), SQLITE_OK);
    audit_store_destroy (&janitor);

    //  The new name takes actor-a's old id; actor-a comes back with another
    s_login (&record, 2, "actor-b");
    cr_assert_eq (audit_store_write (s_store, &record, 1, &outcome, NULL), 0);
    s_login (&record, 3, "actor-a");
    cr_assert_eq (audit_store_write (s_store, &record, 1, &outcome, NULL), 0);
    sqlite3 *audit = audit_store_db (s_store, AUDIT_DB_AUDIT);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event e"
                                " WHERE e.actor = 'actor-a'"), 1);
    s_page_actor (reader, "actor-b", actor, sizeof actor);
    cr_expect_str_eq (actor, "actor-b");
    s_page_actor (reader, "actor-a", actor, sizeof actor);
    cr_expect_str_eq (actor, "actor-a");
    audit_store_destroy (&reader);
}
