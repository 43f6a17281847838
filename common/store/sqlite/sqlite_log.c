/*  =========================================================================
    audit_store_log - the organisation's tree, its proofs and checkpoints,
    in the SQLite engine (event.leaf and tables tree_node, leaf_tile, checkpoint: audit_tree)
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_store_log.h"
#include "audit_store_sql.h"
#include "audit_tree.h"
#include "audit_log.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define s_SQL_ORG           "SELECT id, next_index FROM org WHERE name = ?1"
#define s_SQL_CP_INSERT     "INSERT INTO checkpoint (org, size, root, note, signed)" \
                            " VALUES (?1, ?2, ?3, ?4, CAST ((julianday ('now') - 2440587.5)" \
                            " * 86400000 AS INTEGER)) ON CONFLICT (org, size) DO NOTHING"
#define s_SQL_CP_SIZE       "SELECT size, root, note FROM checkpoint WHERE org = ?1 AND size = ?2"
#define s_SQL_CP_NEWEST     "SELECT size, root, note FROM checkpoint WHERE org = ?1" \
                            " ORDER BY size DESC LIMIT 1"
#define s_SQL_DUE           "SELECT o.name, o.next_index FROM org o WHERE o.next_index >" \
                            " coalesce ((SELECT max (c.size) FROM checkpoint c" \
                            " WHERE c.org = o.id), 0) AND coalesce ((SELECT max (c.signed)" \
                            " FROM checkpoint c WHERE c.org = o.id), 0) < ?1 ORDER BY o.id"

//  org_id's row id and log size: 0, 1 when it has none, -1
static int
s_org (audit_store_t *store, const char *org_id, int64_t *org, uint64_t *size)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (store, AUDIT_DB_AUDIT, s_SQL_ORG);
    if (!stmt)
        return -1;
    sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        *org = sqlite3_column_int64 (stmt, 0);
        *size = (uint64_t) sqlite3_column_int64 (stmt, 1);
    }
    sqlite3_reset (stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "organisation");
    return rc == SQLITE_ROW? (*size > 0? 0: 1): rc == SQLITE_DONE? 1: -1;
}

//  The reader of org_id's tree, whose log must hold at least need events:
//  0, 1 when it holds fewer, -1
static int
s_reader (audit_store_t *store, const char *org_id, uint64_t need, audit_tree_reader_t *reader)
{
    uint64_t size = 0;
    int rc = s_org (store, org_id, &reader->org, &size);
    if (rc != 0)
        return rc;
    if (size < need)
        return 1;
    return sqlite_tree_reader (store, reader->org, org_id, reader);
}

int
sqlite_tree_reader (audit_store_t *store, int64_t org, const char *org_id,
                    audit_tree_reader_t *reader)
{
    assert (store);
    reader->org = org;
    reader->org_id = org_id;
    reader->strict = false;
    reader->has_leaves = reader->has_tail = reader->has_inner = false;
    for (int query = 0; query < AUDIT_TREE_Q_COUNT; query++)
        if (!(reader->stmt [query] = audit_store_sql_cached (store, AUDIT_DB_AUDIT,
                                                             audit_tree_sql [query])))
            return -1;
    return 0;
}

//  A tree that should be there and is not: the store was changed
static int
s_broken (const char *org_id, const char *what)
{
    audit_log_error ("msg=\"the organisation's tree is incomplete\" org=%s what=%s", org_id, what);
    return -1;
}

int
sqlite_log_size (audit_store_t *store, const char *org_id, uint64_t *size)
{
    assert (store);
    int64_t org;
    *size = 0;
    int rc = s_org (store, org_id, &org, size);
    return rc < 0? -1: 0;
}

//  SQLite's own count of commits made on other connections to the file
int
sqlite_log_version (audit_store_t *store, uint64_t *version)
{
    assert (store);
    sqlite3_stmt *stmt = audit_store_sql_cached (store, AUDIT_DB_AUDIT, "PRAGMA data_version");
    int rc = stmt && sqlite3_step (stmt) == SQLITE_ROW? 0: -1;
    if (rc == 0)
        *version = (uint64_t) sqlite3_column_int64 (stmt, 0);
    if (stmt)
        sqlite3_reset (stmt);
    return rc;
}

int
sqlite_log_root (audit_store_t *store, const char *org_id, uint64_t size,
                 audit_merkle_hash_t root)
{
    assert (store);
    audit_tree_reader_t reader;
    int rc = s_reader (store, org_id, size, &reader);
    if (rc != 0 || size == 0)
        return rc;
    return audit_merkle_root (size, audit_tree_subtree, &reader, root) == 0
         ? 0: s_broken (org_id, "root");
}

int
sqlite_log_inclusion (audit_store_t *store, const char *org_id, uint64_t index,
                      uint64_t size, audit_merkle_hash_t *proof, size_t *count)
{
    assert (store);
    if (index >= size)
        return 1;
    audit_tree_reader_t reader;
    int rc = s_reader (store, org_id, size, &reader);
    if (rc != 0)
        return rc;
    return audit_merkle_inclusion (index, size, audit_tree_subtree, &reader, proof, count) == 0
         ? 0: s_broken (org_id, "inclusion");
}

int
sqlite_log_consistency (audit_store_t *store, const char *org_id, uint64_t from_size,
                        uint64_t size, audit_merkle_hash_t *proof, size_t *count)
{
    assert (store);
    if (from_size == 0 || from_size > size)
        return 1;
    audit_tree_reader_t reader;
    int rc = s_reader (store, org_id, size, &reader);
    if (rc != 0)
        return rc;
    return audit_merkle_consistency (from_size, size, audit_tree_subtree, &reader, proof,
                                     count) == 0? 0: s_broken (org_id, "consistency");
}

//  The checkpoint row stmt is on: its size, and its note into note
static void
s_note_copy (sqlite3_stmt *stmt, char *note, size_t note_size, uint64_t *signed_size)
{
    if (signed_size)
        *signed_size = (uint64_t) sqlite3_column_int64 (stmt, 0);
    const char *text = (const char *) sqlite3_column_text (stmt, 2);
    if (note && note_size)
        snprintf (note, note_size, "%s", text? text: "");
}

//  The checkpoint of org at size (0: the newest): 0, 1 when none, -1; its
//  root into root when not NULL
static int
s_checkpoint (audit_store_t *store, int64_t org, uint64_t size, char *note, size_t note_size,
              uint64_t *signed_size, audit_merkle_hash_t root)
{
    sqlite3_stmt *stmt = audit_store_sql_cached (store, AUDIT_DB_AUDIT,
                                                 size? s_SQL_CP_SIZE: s_SQL_CP_NEWEST);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    if (size)
        sqlite3_bind_int64 (stmt, 2, (int64_t) size);
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW) {
        s_note_copy (stmt, note, note_size, signed_size);
        if (root && sqlite3_column_bytes (stmt, 1) == AUDIT_MERKLE_HASH_SIZE)
            memcpy (root, sqlite3_column_blob (stmt, 1), AUDIT_MERKLE_HASH_SIZE);
    }
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 0: rc == SQLITE_DONE? 1: -1;
}

int
sqlite_checkpoint_get (audit_store_t *store, const char *org_id, uint64_t size,
                       char *note, size_t note_size, uint64_t *signed_size)
{
    assert (store);
    int64_t org;
    uint64_t log_size;
    int rc = s_org (store, org_id, &org, &log_size);
    return rc != 0? rc: s_checkpoint (store, org, size, note, note_size, signed_size, NULL);
}

//  Insert the note; *kept tells whether it went in
static int
s_checkpoint_insert (audit_store_t *store, int64_t org, uint64_t size,
                     const audit_merkle_hash_t root, const char *note, bool *kept)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_CP_INSERT);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, (int64_t) size);
    sqlite3_bind_blob (stmt, 3, root, AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, note, -1, SQLITE_STATIC);
    int64_t changes = 0;
    int rc = audit_store_sql_run (store, AUDIT_DB_AUDIT, stmt, &changes);
    audit_store_sql_free (stmt);
    *kept = changes == 1;
    return rc;
}

int
sqlite_checkpoint_put (audit_store_t *store, const char *org_id, uint64_t size,
                       const audit_merkle_hash_t root, const char *note,
                       char *note_kept, size_t kept_size)
{
    assert (store);
    int64_t org;
    uint64_t log_size;
    bool kept = false;
    if (s_org (store, org_id, &org, &log_size) != 0 || size == 0 || size > log_size
    ||  s_checkpoint_insert (store, org, size, root, note, &kept) != 0)
        return -1;
    if (kept)
        return 0;
    audit_merkle_hash_t signed_root;
    if (s_checkpoint (store, org, size, note_kept, kept_size, NULL, signed_root) != 0)
        return -1;
    return audit_store_root_signed_again (org_id, size, signed_root, root);
}

//  The walk, inside the transaction sqlite_checkpoint_due opened
static int
s_due_walk (audit_store_t *store, int64_t before_ms, audit_store_log_due_fn *fn, void *arg)
{
    sqlite3_stmt *stmt = audit_store_sql_prepare (store, AUDIT_DB_AUDIT, s_SQL_DUE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, before_ms);
    int rc, stopped = 0;
    while (!stopped && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        char org_id [AUDIT_IDENT_MAX + 1];
        snprintf (org_id, sizeof org_id, "%s", (const char *) sqlite3_column_text (stmt, 0));
        stopped = fn (org_id, (uint64_t) sqlite3_column_int64 (stmt, 1), arg);
    }
    if (!stopped && rc != SQLITE_DONE)
        audit_store_sql_log (store, AUDIT_DB_AUDIT, "checkpoints due");
    audit_store_sql_free (stmt);
    return stopped || rc == SQLITE_DONE? 0: -1;
}

//  One transaction for the walk and what fn keeps: a commit (an fsync)
//  per checkpoint would cost the writer its batches' latency
int
sqlite_checkpoint_due (audit_store_t *store, int64_t before_ms, audit_store_log_due_fn *fn,
                       void *arg)
{
    assert (store);
    if (audit_store_sql_exec (store, AUDIT_DB_AUDIT, "BEGIN IMMEDIATE", NULL) != 0)
        return -1;
    int rc = s_due_walk (store, before_ms, fn, arg);
    if (rc == 0 && audit_store_sql_exec (store, AUDIT_DB_AUDIT, "COMMIT", NULL) == 0)
        return 0;
    if (!sqlite3_get_autocommit (audit_store_db (store, AUDIT_DB_AUDIT)))
        audit_store_sql_exec (store, AUDIT_DB_AUDIT, "ROLLBACK", NULL);
    return -1;
}
