/*  Every SQL shape of list and export is an index range scan in (ts, id)
    order: no table scan and no sort, whatever the filters */

#include <criterion/criterion.h>
#include <string.h>

#include "audit_store.h"
#include "query_filter.h"
#include "test_support.h"

Test (query_filter, every_shape_seeks_the_org_in_the_primary_key_without_a_sort)
{
    char *dir = test_tmpdir_new ("filter");
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    sqlite3 *db = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_assert_eq (query_filter_shape_count (), 2);
    for (int shape = 0; shape < query_filter_shape_count (); shape++) {
        char sql [8192];
        snprintf (sql, sizeof sql, "EXPLAIN QUERY PLAN %s", query_filter_shape_sql (shape));
        sqlite3_stmt *stmt = NULL;
        cr_assert_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK,
                      "%s", sqlite3_errmsg (db));
        bool indexed = false;
        while (sqlite3_step (stmt) == SQLITE_ROW) {
            const char *detail = (const char *) sqlite3_column_text (stmt, 3);
            indexed |= strstr (detail, "SEARCH e USING PRIMARY KEY (org=?") != NULL;
            cr_assert_null (strstr (detail, "TEMP B-TREE"), "shape %d sorts: %s", shape, detail);
            cr_assert (strncmp (detail, "SCAN", 4) != 0, "shape %d scans: %s", shape, detail);
        }
        sqlite3_finalize (stmt);
        cr_assert (indexed, "shape %d does not search the primary key by org", shape);
    }
    audit_store_destroy (&store);
    test_tmpdir_destroy (&dir);
}
