/*  The per-worker names cache answers what the store holds, and forgets
    everything when the janitor says identifiers were deleted */

#include <criterion/criterion.h>
#include <string.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_names.h"
#include "test_support.h"

static char *s_dir;
static audit_store_t *s_store;
static audit_stmts_t *s_stmts;
static audit_names_t *s_names;

static void
s_exec (const char *sql)
{
    cr_assert_eq (sqlite3_exec (audit_store_db (s_store, AUDIT_DB_AUDIT), sql, NULL, NULL, NULL),
                  SQLITE_OK, "%s", sql);
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("names");
    s_store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_store);
    s_stmts = audit_stmts_new (audit_store_db (s_store, AUDIT_DB_AUDIT));
    s_names = audit_names_new ();
    s_exec ("INSERT INTO ident (id, name) VALUES (1, 'alice'), (2, 'bob')");
}

static void
s_teardown (void)
{
    audit_names_destroy (&s_names);
    audit_stmts_destroy (&s_stmts);
    audit_store_destroy (&s_store);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (audit_names, .init = s_setup, .fini = s_teardown);

Test (audit_names, names_come_from_the_store_and_unknown_ids_are_null)
{
    const char *name = NULL;
    cr_assert_eq (audit_names_sync (s_names, s_stmts), 0);
    audit_names_row (s_names);
    cr_assert_eq (audit_names_get (s_names, s_stmts, 1, &name), 0);
    cr_assert_str_eq (name, "alice");
    cr_assert_eq (audit_names_get (s_names, s_stmts, 2, &name), 0);
    cr_assert_str_eq (name, "bob");
    cr_assert_eq (audit_names_get (s_names, s_stmts, 99, &name), 0);
    cr_assert_null (name);
    audit_names_destroy (&s_names);
    audit_names_destroy (&s_names);
}

Test (audit_names, a_new_ident_generation_forgets_reused_ids)
{
    const char *name = NULL;
    cr_assert_eq (audit_names_sync (s_names, s_stmts), 0);
    audit_names_row (s_names);
    cr_assert_eq (audit_names_get (s_names, s_stmts, 1, &name), 0);
    cr_assert_str_eq (name, "alice");
    //  The janitor deletes alice and bumps the generation; SQLite hands
    //  her id to a new name
    s_exec ("DELETE FROM ident WHERE id = 1;"
            "INSERT INTO ident (id, name) VALUES (1, 'carol');"
            "INSERT INTO meta (key, value) VALUES ('ident_generation', 1)"
            " ON CONFLICT (key) DO UPDATE SET value = value + 1");
    cr_assert_eq (audit_names_sync (s_names, s_stmts), 0);
    audit_names_row (s_names);
    cr_assert_eq (audit_names_get (s_names, s_stmts, 1, &name), 0);
    cr_assert_str_eq (name, "carol");
}
