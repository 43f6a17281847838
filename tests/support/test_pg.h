/*  =========================================================================
    test_pg - the integration tests on PostgreSQL: with
    AUDIT_TEST_DATABASE_URL set (the base URL of a throwaway cluster,
    scripts/pg-cluster), each data directory a test makes gets a database
    of its own on that cluster, which its workers get as
    AUDIT_DATABASE_URL. Without it everything is SQLite, as before.
    ========================================================================= */

#ifndef TEST_PG_H_INCLUDED
#define TEST_PG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  True when AUDIT_TEST_DATABASE_URL is set: the stores are PostgreSQL's
bool test_pg_on (void);

//  Where the store of data_dir is, for audit_store_new and the workers:
//  data_dir itself on SQLite; on PostgreSQL the URL of data_dir's own
//  database, created (once; its name is derived from the path) on the
//  first call. Aborts when the cluster cannot make it. The text lives
//  until test_store_location_drop.
const char *test_store_location (const char *data_dir);

//  Drop the databases made for dir and any directory under it (their
//  connections too); nothing on SQLite or when none was made.
void test_store_location_drop (const char *dir);

//  PostgreSQL: the first column of the first row of sql, run in schema
//  (audit, ops, queue) of data_dir's database, or -1 when there is no row
//  or the SQL fails. The SQL is SQLite's, as the tests write it (test_pg.c
//  says what of it is made to work).
int64_t test_pg_int (const char *data_dir, const char *schema, const char *sql);

//  PostgreSQL: run sql (one statement, or several: the rows the last one
//  changed count) in data_dir's database on the engine's own schema, the
//  tables schema-qualified (audit.event, audit.log_node; no compatibility
//  views, no SQLite dialect): how a test changes the store by hand with
//  the workers stopped. The rows it changed (PQcmdTuples; 0 for a
//  statement that changes none), or -1 when the SQL fails (said on
//  stderr) or on SQLite.
int64_t test_pg_exec (const char *data_dir, const char *sql);

//  PostgreSQL: true when the data of data_dir's database (pg_dump
//  --data-only; schemas, when not NULL, is its -n or -N option, e.g.
//  "-N queue") holds needle, as text or, for bytea, as its hex digits.
//  False on SQLite, and when no database was made for data_dir.
bool test_pg_dump_contains (const char *data_dir, const char *schemas, const void *needle,
                            size_t size);

#endif
