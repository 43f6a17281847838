/*  =========================================================================
    audit_store_log - the walks of an operator's check of the whole store,
    in the SQLite engine: organisations, leaves, checkpoints
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_log.h"
#include "audit_store_sql.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define s_SQL_ORGS          "SELECT name, next_index FROM org ORDER BY id"
#define s_SQL_ORG           "SELECT id FROM org WHERE name = ?1"
#define s_SQL_ORG_SIZE      "SELECT id, next_index FROM org WHERE name = ?1"
#define s_SQL_NODES         "SELECT level, idx, hash FROM tree_node WHERE org = ?1" \
                            " ORDER BY level, idx"
#define s_SQL_CHECKPOINTS   "SELECT size, root, note FROM checkpoint WHERE org = ?1 ORDER BY size"

//  Step stmt through its rows, each to visit; 0 (also when visit stops it) or -1
static int
s_each (audit_store_t *store, sqlite3_stmt *stmt, int (*visit) (sqlite3_stmt *, void *),
        void *arg, const char *what)
{
    int rc, stopped = 0;
    while (!stopped && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        stopped = visit (stmt, arg);
    if (!stopped && rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, what);
    audit_store_sql_free (stmt);
    return stopped || rc == SQLITE_DONE? 0: -1;
}

//  A statement of org_id's rows with ?1 bound to its row id; NULL when
//  it cannot be prepared, *none when there is no such organisation
static sqlite3_stmt *
s_org_stmt (audit_store_t *store, const char *org_id, const char *sql, bool *none)
{
    *none = false;
    sqlite3_stmt *find = audit_store_sql_cached (store, AUDIT_DB_AUDIT, s_SQL_ORG);
    if (!find)
        return NULL;
    sqlite3_bind_text (find, 1, org_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (find);
    int64_t org = rc == SQLITE_ROW? sqlite3_column_int64 (find, 0): 0;
    sqlite3_reset (find);
    *none = rc == SQLITE_DONE;
    sqlite3_stmt *stmt = rc == SQLITE_ROW? audit_store_sql_prepare (store, AUDIT_DB_AUDIT, sql): NULL;
    if (stmt)
        sqlite3_bind_int64 (stmt, 1, org);
    return stmt;
}

typedef struct {
    audit_store_log_org_fn *org;
    audit_store_log_leaf_fn *leaf;
    audit_store_log_node_fn *node;
    audit_store_checkpoint_fn *checkpoint;
    void *arg;
} s_visit_t;

static int
s_org_row (sqlite3_stmt *stmt, void *arg)
{
    s_visit_t *visit = (s_visit_t *) arg;
    char org_id [AUDIT_IDENT_MAX + 1];
    snprintf (org_id, sizeof org_id, "%s", (const char *) sqlite3_column_text (stmt, 0));
    return visit->org (org_id, (uint64_t) sqlite3_column_int64 (stmt, 1),
                                                   visit->arg);
}

int
sqlite_log_orgs (audit_store_t *store, audit_store_log_org_fn *fn, void *arg)
{
    assert (store);
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_ORGS);
    s_visit_t visit = { .org = fn, .arg = arg };
    return stmt? s_each (store, stmt, s_org_row, &visit, "organisations"): -1;
}

//  A 32-byte blob of column, or NULL
static const uint8_t *
s_hash (sqlite3_stmt *stmt, int column)
{
    return sqlite3_column_bytes (stmt, column) == AUDIT_MERKLE_HASH_SIZE
         ? (const uint8_t *) sqlite3_column_blob (stmt, column): NULL;
}

//  One tile's leaves to fn: a leaf the store lost (no event, no saved
//  hash), or whose event was changed, is a zero hash that matches nothing
static int
s_leaf_tile (audit_tree_reader_t *reader, uint64_t first, uint64_t count,
             audit_store_log_leaf_fn *fn, void *arg, int *stopped)
{
    static const audit_merkle_hash_t zero = { 0 };
    audit_merkle_hash_t hashes [AUDIT_TREE_TILE_LEAVES];
    uint8_t found [AUDIT_TREE_TILE_LEAVES];
    if (audit_tree_leaves (reader, first, count, hashes, found) != 0)
        return -1;
    for (uint64_t at = 0; !*stopped && at < count; at++) {
        bool lost = !found [at] || (found [at] & AUDIT_TREE_CHANGED);
        bool kept = !found [at] || (found [at] & AUDIT_TREE_FROM_EVENT);
        *stopped = fn (first + at, lost? zero: hashes [at], kept, arg);
    }
    return 0;
}

int
sqlite_log_leaves (audit_store_t *store, const char *org_id, audit_store_log_leaf_fn *fn,
                   void *arg)
{
    assert (store);
    sqlite3_stmt *find = audit_store_sql_cached (store, AUDIT_DB_AUDIT, s_SQL_ORG_SIZE);
    if (!find)
        return -1;
    sqlite3_bind_text (find, 1, org_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (find);
    int64_t org = rc == SQLITE_ROW? sqlite3_column_int64 (find, 0): 0;
    uint64_t size = rc == SQLITE_ROW? (uint64_t) sqlite3_column_int64 (find, 1): 0;
    sqlite3_reset (find);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE? 0: -1;
    audit_tree_reader_t reader;
    if (sqlite_tree_reader (store, org, org_id, &reader) != 0)
        return -1;
    int stopped = 0;
    for (uint64_t first = 0; !stopped && first < size; first += AUDIT_TREE_TILE_LEAVES) {
        uint64_t count = size - first < AUDIT_TREE_TILE_LEAVES? size - first: AUDIT_TREE_TILE_LEAVES;
        if (s_leaf_tile (&reader, first, count, fn, arg, &stopped) != 0) {
            audit_store_sql_log (store, AUDIT_DB_AUDIT, "leaves");
            return -1;
        }
    }
    return 0;
}

static int
s_node_row (sqlite3_stmt *stmt, void *arg)
{
    static const audit_merkle_hash_t zero = { 0 };
    s_visit_t *visit = (s_visit_t *) arg;
    const uint8_t *hash = s_hash (stmt, 2);
    int level = sqlite3_column_int (stmt, 0);
    return visit->node (level < 0 || level >= AUDIT_MERKLE_LEVELS? AUDIT_MERKLE_LEVELS: (unsigned) level,
                        (uint64_t) sqlite3_column_int64 (stmt, 1), hash? hash: zero, visit->arg);
}

int
sqlite_log_nodes (audit_store_t *store, const char *org_id, audit_store_log_node_fn *fn,
                  void *arg)
{
    assert (store);
    bool none;
    sqlite3_stmt *stmt = s_org_stmt (store, org_id, s_SQL_NODES, &none);
    s_visit_t visit = { .node = fn, .arg = arg };
    return stmt? s_each (store, stmt, s_node_row, &visit, "tree nodes"): none? 0: -1;
}

static int
s_checkpoint_row (sqlite3_stmt *stmt, void *arg)
{
    static const audit_merkle_hash_t zero = { 0 };
    s_visit_t *visit = (s_visit_t *) arg;
    const uint8_t *root = s_hash (stmt, 1);
    const char *note = (const char *) sqlite3_column_text (stmt, 2);
    return visit->checkpoint ((uint64_t) sqlite3_column_int64 (stmt, 0),
                                                      root? root: zero, note? note: "",
                                                      visit->arg);
}

int
sqlite_checkpoint_each (audit_store_t *store, const char *org_id, audit_store_checkpoint_fn *fn,
                        void *arg)
{
    assert (store);
    bool none;
    sqlite3_stmt *stmt = s_org_stmt (store, org_id, s_SQL_CHECKPOINTS, &none);
    s_visit_t visit = { .checkpoint = fn, .arg = arg };
    return stmt? s_each (store, stmt, s_checkpoint_row, &visit, "checkpoints"): none? 0: -1;
}
