/*  =========================================================================
    test_pg - a database of its own for each data directory, on the
    cluster AUDIT_TEST_DATABASE_URL names
    ========================================================================= */

#include "test_pg.h"

#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  One database this process made (or found made) for a data directory
typedef struct s_db {
    struct s_db *next;
    char *dir;
    char name [64];
    char *url;
    PGconn *conn;               //  test_pg_int's, opened on first use
    bool compat;                //  s_COMPAT made
} s_db_t;

static s_db_t *s_dbs;

//  The tables the tests' SQL names, as the SQLite engine lays them out,
//  over the PostgreSQL engine's (an organisation's id is its seq): made
//  once the ingest worker made the schemas, first in the search path
static const char *s_COMPAT =
    "CREATE SCHEMA IF NOT EXISTS test_compat;"
    "CREATE OR REPLACE VIEW test_compat.org AS SELECT seq AS id, org_id AS name,"
    "    retention_days, next_index FROM audit.org;"
    "CREATE OR REPLACE VIEW test_compat.event AS SELECT o.seq AS org, e.event_id AS uuid, e.*"
    "    FROM audit.event e JOIN audit.org o USING (org_id);"
    "CREATE OR REPLACE VIEW test_compat.ops AS SELECT * FROM ops.request;";

//  What the tests' SQL, written for SQLite, needs of PostgreSQL: hex() as
//  SQLite's (upper case), and PRAGMA integrity_check's table, which says
//  ok: it checks a SQLite file as it lies on disk after a SIGKILL, and the
//  server keeps its own pages whole whatever happens to a client
static const char *s_SHIM =
    "CREATE FUNCTION public.hex (bytea) RETURNS text IMMUTABLE LANGUAGE sql"
    "    AS $$ SELECT upper (encode ($1, 'hex')) $$;"
    "CREATE FUNCTION public.hex (uuid) RETURNS text IMMUTABLE LANGUAGE sql"
    "    AS $$ SELECT upper (replace ($1::text, '-', '')) $$;"
    "CREATE VIEW public.pragma_integrity_check AS SELECT 'ok'::text AS integrity_check;";

bool
test_pg_on (void)
{
    const char *url = getenv ("AUDIT_TEST_DATABASE_URL");
    return url && *url;
}

static void
s_quiet (void *arg, const char *message)
{
    (void) arg;
    (void) message;
}

static PGconn *
s_connect (const char *url)
{
    PGconn *conn = PQconnectdb (url);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "test_pg: cannot connect to %s: %s", url, PQerrorMessage (conn));
        PQfinish (conn);
        return NULL;
    }
    //  DROP ... IF EXISTS and the like need not say so on every test
    PQsetNoticeProcessor (conn, s_quiet, NULL);
    return conn;
}

//  Run sql; 0 when it succeeded, 1 when it failed with SQLSTATE allowed
//  (may be NULL), else -1 (said on stderr)
static int
s_exec (PGconn *conn, const char *sql, const char *allowed)
{
    PGresult *result = PQexec (conn, sql);
    ExecStatusType status = PQresultStatus (result);
    const char *state = PQresultErrorField (result, PG_DIAG_SQLSTATE);
    int rc = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK? 0
           : allowed && state && strcmp (state, allowed) == 0? 1: -1;
    if (rc < 0)
        fprintf (stderr, "test_pg: %s: %s", sql, PQerrorMessage (conn));
    PQclear (result);
    return rc;
}

//  t_ + a hash of the whole path (parallel tests never share one) + the
//  path's tail, for a person reading \l
static void
s_db_name (const char *dir, char *name, size_t size)
{
    size_t length = strlen (dir);
    while (length > 1 && dir [length - 1] == '/')
        length--;
    uint64_t hash = 14695981039346656037ULL;        //  FNV-1a
    for (size_t at = 0; at < length; at++)
        hash = (hash ^ (uint8_t) dir [at]) * 1099511628211ULL;
    int used = snprintf (name, size, "t_%016" PRIx64 "_", hash);
    size_t tail = length > 40? length - 40: 0;
    for (size_t at = tail; at < length && (size_t) used < size - 1; at++)
        name [used++] = isalnum ((unsigned char) dir [at])
                      ? (char) tolower ((unsigned char) dir [at]): '_';
    name [used] = 0;
}

//  The base URL with its database (the path) replaced by name
static char *
s_url_with (const char *base, const char *name)
{
    const char *authority = strstr (base, "://");
    if (!authority) {
        fprintf (stderr, "test_pg: AUDIT_TEST_DATABASE_URL is not a URL: %s\n", base);
        abort ();
    }
    authority += 3;
    const char *path = authority + strcspn (authority, "/?");
    const char *query = path + strcspn (path, "?");
    char *url = NULL;
    if (asprintf (&url, "%.*s/%s%s", (int) (path - base), base, name, query) < 0)
        abort ();
    return url;
}

static s_db_t *
s_find (const char *dir)
{
    for (s_db_t *db = s_dbs; db; db = db->next)
        if (strcmp (db->dir, dir) == 0)
            return db;
    return NULL;
}

//  Create dir's database, unless it is there already (another process of
//  the same test made it: the name is the path's)
static s_db_t *
s_create (const char *dir)
{
    s_db_t *db = calloc (1, sizeof *db);
    if (!db || !(db->dir = strdup (dir)))
        abort ();
    s_db_name (dir, db->name, sizeof db->name);
    const char *base = getenv ("AUDIT_TEST_DATABASE_URL");
    db->url = s_url_with (base, db->name);
    PGconn *admin = s_connect (base);
    char sql [128];
    snprintf (sql, sizeof sql, "CREATE DATABASE \"%s\"", db->name);
    int rc = admin? s_exec (admin, sql, "42P04"): -1;      //  duplicate_database
    PQfinish (admin);
    PGconn *conn = rc == 0? s_connect (db->url): NULL;
    if (rc < 0 || (rc == 0 && (!conn || s_exec (conn, s_SHIM, NULL) != 0))) {
        fprintf (stderr, "test_pg: could not make the database of %s on %s\n", dir, base);
        abort ();
    }
    db->conn = conn;
    db->next = s_dbs;
    s_dbs = db;
    return db;
}

const char *
test_store_location (const char *data_dir)
{
    if (!test_pg_on ())
        return data_dir;
    s_db_t *db = s_find (data_dir);
    return (db? db: s_create (data_dir))->url;
}

static void
s_drop (s_db_t *db)
{
    PQfinish (db->conn);
    PGconn *admin = s_connect (getenv ("AUDIT_TEST_DATABASE_URL"));
    char sql [128];
    //  FORCE: a SIGKILLed worker's server process may not have ended yet
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", db->name);
    if (admin)
        s_exec (admin, sql, NULL);
    PQfinish (admin);
    free (db->dir);
    free (db->url);
    free (db);
}

void
test_store_location_drop (const char *dir)
{
    size_t length = strlen (dir);
    s_db_t **link = &s_dbs;
    while (*link) {
        s_db_t *db = *link;
        if (strncmp (db->dir, dir, length) == 0 && (!db->dir [length] || db->dir [length] == '/')) {
            *link = db->next;
            s_drop (db);
        }
        else
            link = &db->next;
    }
}

//  "SET search_path TO schema, public; " and sql, with SQLite's LIKE (case
//  blind for ASCII) as PostgreSQL's ILIKE
static char *
s_dialect (const char *schema, const char *sql)
{
    size_t size = strlen (schema) + 2 * strlen (sql) + 64;
    char *text = malloc (size);
    if (!text)
        abort ();
    size_t used = (size_t) snprintf (text, size, "SET search_path TO test_compat, %s, public; ",
                                     schema);
    for (const char *at = sql; *at; ) {
        if (strncmp (at, " LIKE ", 6) == 0) {
            memcpy (text + used, " ILIKE ", 7);
            used += 7;
            at += 6;
        }
        else
            text [used++] = *at++;
    }
    text [used] = 0;
    return text;
}

//  data_dir's database and its connection (made on first use, again
//  after it broke), or NULL when it cannot connect
static s_db_t *
s_db_connected (const char *data_dir)
{
    test_store_location (data_dir);
    s_db_t *db = s_find (data_dir);
    if (db->conn && PQstatus (db->conn) != CONNECTION_OK) {
        PQfinish (db->conn);
        db->conn = NULL;
    }
    if (!db->conn && !(db->conn = s_connect (db->url)))
        return NULL;
    return db;
}

int64_t
test_pg_int (const char *data_dir, const char *schema, const char *sql)
{
    if (!test_pg_on ())
        return -1;
    s_db_t *db = s_db_connected (data_dir);
    if (!db)
        return -1;
    //  Quietly, and again on the next call: the schemas may not be there yet
    if (!db->compat) {
        PGresult *made = PQexec (db->conn, s_COMPAT);
        db->compat = PQresultStatus (made) == PGRES_COMMAND_OK;
        PQclear (made);
    }
    char *text = s_dialect (schema, sql);
    //  Quietly: the tests poll before the ingest worker made the tables
    PGresult *result = PQexec (db->conn, text);
    int64_t value = -1;
    if (PQresultStatus (result) == PGRES_TUPLES_OK && PQntuples (result) > 0)
        //  NULL is 0, as sqlite3_column_int64 has it
        value = PQgetisnull (result, 0, 0)? 0: strtoll (PQgetvalue (result, 0, 0), NULL, 10);
    PQclear (result);
    free (text);
    return value;
}

int64_t
test_pg_exec (const char *data_dir, const char *sql)
{
    s_db_t *db = test_pg_on ()? s_db_connected (data_dir): NULL;
    //  test_pg_int's search path (the views first) is the session's: off
    if (!db || s_exec (db->conn, "RESET search_path", NULL) != 0)
        return -1;
    PGresult *result = PQexec (db->conn, sql);
    ExecStatusType status = PQresultStatus (result);
    int64_t changed = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK
                    ? strtoll (PQcmdTuples (result), NULL, 10): -1;
    if (changed < 0)
        fprintf (stderr, "test_pg: %s: %s", sql, PQerrorMessage (db->conn));
    PQclear (result);
    return changed;
}

//  Lower-case hex digits of data, as pg_dump writes a bytea
static char *
s_hex (const void *data, size_t size)
{
    char *text = malloc (2 * size + 1);
    if (!text)
        abort ();
    for (size_t at = 0; at < size; at++)
        sprintf (text + 2 * at, "%02x", ((const unsigned char *) data) [at]);
    return text;
}

bool
test_pg_dump_contains (const char *data_dir, const char *schemas, const void *needle,
                       size_t size)
{
    s_db_t *db = test_pg_on ()? s_find (data_dir): NULL;
    if (!db)
        return false;
    char *command = NULL;
    if (asprintf (&command, "pg_dump --data-only %s '%s'", schemas? schemas: "", db->url) < 0)
        abort ();
    FILE *dump = popen (command, "r");
    free (command);
    if (!dump)
        return false;
    char *hex = s_hex (needle, size);
    //  A line at a time: a row of a table is a line of the dump
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    bool found = false;
    while (!found && (length = getline (&line, &capacity, dump)) >= 0)
        found = memmem (line, (size_t) length, needle, size)
             || memmem (line, (size_t) length, hex, 2 * size);
    free (line);
    free (hex);
    while (!found && fgetc (dump) != EOF)
        ;                               //  let pg_dump finish
    pclose (dump);
    return found;
}
