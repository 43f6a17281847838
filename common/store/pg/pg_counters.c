/*  =========================================================================
    pg_counters - the persistent counter totals (see pg_counters.h)
    ========================================================================= */

#include "pg_counters.h"
#include "pg_array.h"

#include <assert.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>

static const pg_stmt_t s_family_rows = { "counters_family_rows",
    "SELECT count (*) FROM audit.counter WHERE starts_with (name, $1)" };

static const pg_stmt_t s_existing = { "counters_existing",
    "SELECT name FROM audit.counter WHERE name = ANY ($1::text[])" };

//  value plus a delta >= 0, held at INT64_MAX, as SQLite's engine does;
//  in name order, so that two writers lock the rows they share in one
//  order and wait rather than deadlock
static const pg_stmt_t s_upsert = { "counters_upsert",
    "INSERT INTO audit.counter AS c (name, value) SELECT name, delta"
    " FROM unnest ($1::text[], $2::bigint[]) AS b (name, delta) ORDER BY name"
    " ON CONFLICT (name) DO UPDATE SET value = CASE WHEN c.value > 9223372036854775807"
    " - excluded.value THEN 9223372036854775807 ELSE c.value + excluded.value END" };

static void
s_free (void **item)
{
    free (*item);
    *item = NULL;
}

int
pg_counters_rows (pg_conn_t *conn, int64_t *family_rows)
{
    for (int family = 0; family < AUDIT_COUNTERS_FAMILIES; family++) {
        const char *values [] = { audit_counters_family_prefix (family) };
        PGresult *result = pg_conn_run (conn, &s_family_rows, 1, values);
        if (!result)
            return -1;
        family_rows [family] = PQntuples (result) == 1? pg_conn_int (result, 0, 0): 0;
        PQclear (result);
    }
    return 0;
}

//  The batch's deltas, by name, and the names the table already has
typedef struct {
    zhashx_t *deltas;                   //  name -> int64_t *
    zhashx_t *existing;                 //  name -> (void *) 1
    pg_array_t names;
} s_pass_t;

static void
s_add (const char *name, int64_t delta, void *arg)
{
    s_pass_t *pass = (s_pass_t *) arg;
    if (delta <= 0)
        return;
    int64_t *sum = (int64_t *) zhashx_lookup (pass->deltas, name);
    if (!sum) {
        sum = (int64_t *) calloc (1, sizeof *sum);
        if (!sum)
            return;
        zhashx_insert (pass->deltas, name, sum);
        char folded [AUDIT_COUNTER_NAME_MAX + 1], again [AUDIT_COUNTER_NAME_MAX + 1];
        pg_array_text_add (&pass->names, name);
        if (audit_counters_fold (name, folded) == 0) {
            pg_array_text_add (&pass->names, folded);
            if (audit_counters_fold (folded, again) == 0)
                pg_array_text_add (&pass->names, again);
        }
    }
    *sum = *sum > INT64_MAX - delta? INT64_MAX: *sum + delta;
}

static int
s_existing_read (pg_conn_t *conn, s_pass_t *pass)
{
    const char *values [] = { pg_array_text (&pass->names) };
    PGresult *result = values [0]? pg_conn_run (conn, &s_existing, 1, values): NULL;
    if (!result)
        return -1;
    for (int row = 0; row < PQntuples (result); row++)
        zhashx_update (pass->existing, PQgetvalue (result, row, 0), (void *) 1);
    PQclear (result);
    return 0;
}

//  The row a delta goes to: its own, or a new one while its family has
//  room, else its folded name's
static void
s_resolve (s_pass_t *pass, int64_t *family_rows, const char *name, char *row)
{
    snprintf (row, AUDIT_COUNTER_NAME_MAX + 1, "%s", name);
    int family = audit_counters_family (name);
    char folded [AUDIT_COUNTER_NAME_MAX + 1];
    while (!zhashx_lookup (pass->existing, row) && family >= 0
       &&  family_rows [family] >= PG_COUNTERS_FAMILY_ROWS_MAX
       &&  audit_counters_fold (row, folded) == 0)
        strcpy (row, folded);
    if (!zhashx_lookup (pass->existing, row)) {
        zhashx_update (pass->existing, row, (void *) 1);
        if (family >= 0)
            family_rows [family]++;
    }
}

static int
s_upsert_all (pg_conn_t *conn, s_pass_t *pass, int64_t *family_rows)
{
    pg_array_t names, deltas;
    pg_array_init (&names);
    pg_array_init (&deltas);
    //  Two deltas may fold into one row: summed here, since one INSERT
    //  may not touch a row twice
    zhashx_t *rows = zhashx_new ();
    zhashx_set_destructor (rows, s_free);
    for (int64_t *sum = (int64_t *) zhashx_first (pass->deltas); rows && sum;
         sum = (int64_t *) zhashx_next (pass->deltas)) {
        char row [AUDIT_COUNTER_NAME_MAX + 1];
        s_resolve (pass, family_rows, (const char *) zhashx_cursor (pass->deltas), row);
        int64_t *total = (int64_t *) zhashx_lookup (rows, row);
        if (!total && (total = (int64_t *) calloc (1, sizeof *total)))
            zhashx_insert (rows, row, total);
        if (total)
            *total = *total > INT64_MAX - *sum? INT64_MAX: *total + *sum;
    }
    for (int64_t *total = rows? (int64_t *) zhashx_first (rows): NULL; total;
         total = (int64_t *) zhashx_next (rows)) {
        pg_array_text_add (&names, (const char *) zhashx_cursor (rows));
        pg_array_int_add (&deltas, *total);
    }
    const char *values [] = { pg_array_text (&names), pg_array_text (&deltas) };
    int rc = rows && values [0] && values [1]? pg_conn_do (conn, &s_upsert, 2, values, NULL): -1;
    zhashx_destroy (&rows);
    pg_array_free (&names);
    pg_array_free (&deltas);
    return rc;
}

int
pg_counters_write (pg_conn_t *conn, int64_t *family_rows, audit_counters_t *counters,
                   int64_t stored, int64_t duplicate)
{
    assert (conn && family_rows);
    s_pass_t pass = { zhashx_new (), zhashx_new (), { 0 } };
    pg_array_init (&pass.names);
    int rc = pass.deltas && pass.existing? 0: -1;
    if (rc == 0) {
        zhashx_set_destructor (pass.deltas, s_free);
        if (counters)
            audit_counters_each (counters, s_add, &pass);
        s_add (audit_counters_name (AUDIT_COUNTER_INGEST_STORED), stored, &pass);
        s_add (audit_counters_name (AUDIT_COUNTER_INGEST_DUPLICATE), duplicate, &pass);
    }
    if (rc == 0 && zhashx_size (pass.deltas) > 0)
        rc = s_existing_read (conn, &pass) == 0 && s_upsert_all (conn, &pass, family_rows) == 0
           ? 0: -1;
    zhashx_destroy (&pass.deltas);
    zhashx_destroy (&pass.existing);
    pg_array_free (&pass.names);
    return rc;
}
