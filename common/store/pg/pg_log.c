/*  =========================================================================
    pg_log - the organisation's tree, its proofs and checkpoints, in the
    PostgreSQL engine (audit.log_node, audit.checkpoint: the same as the
    SQLite engine's sqlite_log.c)

    A root or a proof is two statements whatever the size: the org row
    (the log must hold the size asked for), then every subtree it needs
    at once (pg_tree_asked_t). audit_merkle asks for its subtrees in an
    order that depends on the sizes only, never on the hashes, so it runs
    twice: first to learn which subtrees it wants (answered with zeros),
    then on what the one fetch returned.

    The log's version is the sum of every organisation's next_index: it
    grows with every commit that grows a log, whichever process or host
    made it, and nothing else moves it (next_index never goes down; only
    an organisation of size 0 is ever deleted). A counter the writers
    bumped would be one row every batch of every writer updates, and the
    server's transaction ids move before the commit a reader must see.
    ========================================================================= */

#include "pg_core.h"
#include "audit_store_log.h"
#include "audit_log.h"
#include "audit_time.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const pg_stmt_t s_org = { "log_org",
    "SELECT next_index FROM audit.org WHERE org_id = $1" };
static const pg_stmt_t s_version = { "log_version",
    "SELECT coalesce (sum (next_index), 0)::bigint FROM audit.org" };
//  The org row, and its checkpoint of a size or its newest
static const pg_stmt_t s_cp_size = { "log_checkpoint_size",
    "SELECT o.next_index, c.size, c.note FROM audit.org o LEFT JOIN audit.checkpoint c"
    " ON c.org_id = o.org_id AND c.size = $2::bigint WHERE o.org_id = $1" };
static const pg_stmt_t s_cp_newest = { "log_checkpoint_newest",
    "SELECT o.next_index, c.size, c.note FROM audit.org o LEFT JOIN LATERAL"
    " (SELECT size, note FROM audit.checkpoint c WHERE c.org_id = o.org_id"
    " ORDER BY size DESC LIMIT 1) c ON true WHERE o.org_id = $1" };
//  The note goes in only when the log holds that size and no note has it;
//  the row says the log's size (NULL: no organisation) and whether it went in
static const pg_stmt_t s_cp_insert = { "log_checkpoint_insert",
    "WITH o AS (SELECT next_index FROM audit.org WHERE org_id = $1),"
    " kept AS (INSERT INTO audit.checkpoint (org_id, size, root, note, signed)"
    "  SELECT $1, $2::bigint, $3::bytea, $4, $5::bigint FROM o"
    "  WHERE $2::bigint > 0 AND o.next_index >= $2::bigint"
    "  ON CONFLICT (org_id, size) DO NOTHING RETURNING 1)"
    " SELECT (SELECT next_index FROM o), (SELECT count (*) FROM kept)" };
//  The note that holds a size: a statement of its own, whose snapshot
//  sees the row another transaction's conflicting insert committed
static const pg_stmt_t s_cp_kept = { "log_checkpoint_kept",
    "SELECT root, note FROM audit.checkpoint WHERE org_id = $1 AND size = $2::bigint" };
static const pg_stmt_t s_due = { "log_checkpoint_due",
    "SELECT o.org_id, o.next_index FROM audit.org o WHERE o.next_index >"
    " coalesce ((SELECT max (c.size) FROM audit.checkpoint c WHERE c.org_id = o.org_id), 0)"
    " AND coalesce ((SELECT max (c.signed) FROM audit.checkpoint c"
    " WHERE c.org_id = o.org_id), 0) < $1::bigint ORDER BY o.seq" };

//  org_id's log size: 0, 1 when it has no events (or no row), -1
static int
s_org_size (pg_conn_t *conn, const char *org_id, uint64_t *size)
{
    const char *values [] = { org_id };
    PGresult *result = pg_conn_run (conn, &s_org, 1, values);
    if (!result)
        return -1;
    *size = PQntuples (result) == 1? (uint64_t) pg_conn_int (result, 0, 0): 0;
    PQclear (result);
    return *size > 0? 0: 1;
}

//  A tree that should be there and is not: the store was changed
static int
s_broken (const char *org_id, const char *what)
{
    audit_log_error ("msg=\"the organisation's tree is incomplete\" org=%s what=%s", org_id, what);
    return -1;
}

int
pg_log_size (audit_store_t *store, const char *org_id, uint64_t *size)
{
    assert (store);
    *size = 0;
    return s_org_size (pg_core_self (store)->conn, org_id, size) < 0? -1: 0;
}

int
pg_log_version (audit_store_t *store, uint64_t *version)
{
    assert (store);
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, &s_version, 0, NULL);
    int rc = result && PQntuples (result) == 1? 0: -1;
    if (rc == 0)
        *version = (uint64_t) pg_conn_int (result, 0, 0);
    PQclear (result);
    return rc;
}

//  --------------------------------------------------------------------------
//  Roots and proofs: audit_merkle twice, the subtrees fetched in between

typedef enum { s_ROOT, s_INCLUSION, s_CONSISTENCY } s_kind_t;

typedef struct {
    s_kind_t kind;
    uint64_t from, size;                //  the index or the old size, and the size
    audit_merkle_hash_t *out;           //  the root, or the proof
    size_t *count;                      //  the proof's length
} s_proof_t;

static int
s_proof_run (const s_proof_t *proof, pg_tree_asked_t *asked)
{
    switch (proof->kind) {
        case s_ROOT:
            return audit_merkle_root (proof->size, pg_tree_asked_subtree, asked, *proof->out);
        case s_INCLUSION:
            return audit_merkle_inclusion (proof->from, proof->size, pg_tree_asked_subtree, asked,
                                           proof->out, proof->count);
        default:
            return audit_merkle_consistency (proof->from, proof->size, pg_tree_asked_subtree, asked,
                                             proof->out, proof->count);
    }
}

//  The proof (or root) of org_id's tree: 0, or -1 (a subtree log_node
//  lacks is logged as a broken tree)
static int
s_proof (pg_conn_t *conn, const char *org_id, const s_proof_t *proof, const char *what)
{
    pg_tree_asked_t asked = { 0 };
    int rc = s_proof_run (proof, &asked) == 0
          && pg_tree_asked_fetch (&asked, conn, org_id) == 0? 0: -1;
    if (rc == 0)
        rc = s_proof_run (proof, &asked) == 0? 0: s_broken (org_id, what);
    pg_tree_asked_free (&asked);
    return rc;
}

//  The log must hold need events: 0, 1 when it holds fewer, -1
static int
s_holds (pg_conn_t *conn, const char *org_id, uint64_t need)
{
    uint64_t size = 0;
    int rc = s_org_size (conn, org_id, &size);
    return rc != 0? rc: size < need? 1: 0;
}

int
pg_log_root (audit_store_t *store, const char *org_id, uint64_t size, audit_merkle_hash_t root)
{
    assert (store);
    pg_conn_t *conn = pg_core_self (store)->conn;
    int rc = s_holds (conn, org_id, size);
    if (rc != 0)
        return rc;
    if (size == 0) {
        audit_merkle_empty_hash (root);
        return 0;
    }
    s_proof_t proof = { s_ROOT, 0, size, (audit_merkle_hash_t *) root, NULL };
    return s_proof (conn, org_id, &proof, "root");
}

int
pg_log_inclusion (audit_store_t *store, const char *org_id, uint64_t index, uint64_t size,
                  audit_merkle_hash_t *proof, size_t *count)
{
    assert (store);
    if (index >= size)
        return 1;
    pg_conn_t *conn = pg_core_self (store)->conn;
    int rc = s_holds (conn, org_id, size);
    s_proof_t asked = { s_INCLUSION, index, size, proof, count };
    return rc != 0? rc: s_proof (conn, org_id, &asked, "inclusion");
}

int
pg_log_consistency (audit_store_t *store, const char *org_id, uint64_t from_size,
                    uint64_t size, audit_merkle_hash_t *proof, size_t *count)
{
    assert (store);
    if (from_size == 0 || from_size > size)
        return 1;
    pg_conn_t *conn = pg_core_self (store)->conn;
    int rc = s_holds (conn, org_id, size);
    s_proof_t asked = { s_CONSISTENCY, from_size, size, proof, count };
    return rc != 0? rc: s_proof (conn, org_id, &asked, "consistency");
}

//  --------------------------------------------------------------------------
//  Checkpoints

//  A bigint parameter's text
static void
s_int_text (uint64_t value, char *text, size_t size)
{
    snprintf (text, size, "%" PRIu64, value);
}

int
pg_checkpoint_get (audit_store_t *store, const char *org_id, uint64_t size,
                   char *note, size_t note_size, uint64_t *signed_size)
{
    assert (store);
    char size_text [24];
    s_int_text (size, size_text, sizeof size_text);
    const char *values [] = { org_id, size_text };
    PGresult *result = pg_conn_run (pg_core_self (store)->conn, size? &s_cp_size: &s_cp_newest,
                                    size? 2: 1, values);
    if (!result)
        return -1;
    //  No organisation, or one without events, is not found; so is a size
    //  it has no note of
    int rc = PQntuples (result) == 1 && pg_conn_int (result, 0, 0) > 0
          && !PQgetisnull (result, 0, 1)? 0: 1;
    if (rc == 0) {
        if (signed_size)
            *signed_size = (uint64_t) pg_conn_int (result, 0, 1);
        if (note && note_size)
            snprintf (note, note_size, "%s", PQgetvalue (result, 0, 2));
    }
    PQclear (result);
    return rc;
}

//  Insert the note when the log holds size: 0 and *kept, or -1 (no such
//  organisation, a size it does not hold, a failure)
static int
s_checkpoint_insert (pg_conn_t *conn, const char *org_id, uint64_t size,
                     const audit_merkle_hash_t root, const char *note, bool *kept)
{
    char size_text [24], root_text [2 * AUDIT_MERKLE_HASH_SIZE + 3], now_text [24];
    s_int_text (size, size_text, sizeof size_text);
    pg_conn_hex (root, AUDIT_MERKLE_HASH_SIZE, root_text);
    //  This process's clock, as the before_ms of the walk of those due is
    snprintf (now_text, sizeof now_text, "%" PRId64, audit_time_now_ms ());
    const char *values [] = { org_id, size_text, root_text, note, now_text };
    PGresult *result = pg_conn_run (conn, &s_cp_insert, 5, values);
    if (!result)
        return -1;
    bool known = PQntuples (result) == 1 && !PQgetisnull (result, 0, 0);
    uint64_t log_size = known? (uint64_t) pg_conn_int (result, 0, 0): 0;
    *kept = known && pg_conn_int (result, 0, 1) == 1;
    PQclear (result);
    return log_size > 0 && size > 0 && size <= log_size? 0: -1;
}

int
pg_checkpoint_put (audit_store_t *store, const char *org_id, uint64_t size,
                   const audit_merkle_hash_t root, const char *note,
                   char *note_kept, size_t kept_size)
{
    assert (store);
    pg_conn_t *conn = pg_core_self (store)->conn;
    bool kept = false;
    if (s_checkpoint_insert (conn, org_id, size, root, note, &kept) != 0)
        return -1;
    if (kept)
        return 0;
    char size_text [24];
    s_int_text (size, size_text, sizeof size_text);
    const char *values [] = { org_id, size_text };
    PGresult *result = pg_conn_run (conn, &s_cp_kept, 2, values);
    if (!result)
        return -1;
    audit_merkle_hash_t signed_root;
    int rc = PQntuples (result) == 1
          && pg_conn_bytea (result, 0, 0, signed_root, AUDIT_MERKLE_HASH_SIZE) == 0? 0: -1;
    if (rc == 0 && note_kept && kept_size)
        snprintf (note_kept, kept_size, "%s", PQgetvalue (result, 0, 1));
    PQclear (result);
    if (rc != 0)
        return -1;
    return audit_store_root_signed_again (org_id, size, signed_root, root);
}

//  The walk, inside the transaction pg_checkpoint_due opened: the rows are
//  all read first, so that fn's statements may run on the connection
static int
s_due_walk (pg_conn_t *conn, int64_t before_ms, audit_store_log_due_fn *fn, void *arg)
{
    char before_text [24];
    snprintf (before_text, sizeof before_text, "%" PRId64, before_ms);
    const char *values [] = { before_text };
    PGresult *result = pg_conn_run (conn, &s_due, 1, values);
    if (!result)
        return -1;
    int stopped = 0;
    for (int row = 0; !stopped && row < PQntuples (result); row++) {
        char org_id [AUDIT_IDENT_MAX + 1];
        snprintf (org_id, sizeof org_id, "%s", PQgetvalue (result, row, 0));
        stopped = fn (org_id, (uint64_t) pg_conn_int (result, row, 1), arg);
    }
    PQclear (result);
    return 0;
}

//  One transaction for the walk and what fn keeps, as the SQLite engine's
//  (a commit per checkpoint would cost a round trip and a flush each); one
//  walk at a time, so that two workers do not sign the same sizes twice.
//  A worker that finds another one walking leaves the walk to it (0):
//  waiting for it would hold the ingest writer that calls this.
static int
s_sign_turn (pg_conn_t *conn, bool *mine)
{
    static const pg_stmt_t s_try = { "log_sign_turn",
        "SELECT pg_try_advisory_xact_lock ($1::bigint)" };
    char key [24];
    snprintf (key, sizeof key, "%d", PG_SCHEMA_LOCK_SIGN);
    const char *values [] = { key };
    PGresult *result = pg_conn_run (conn, &s_try, 1, values);
    if (!result)
        return -1;
    *mine = PQntuples (result) == 1 && strcmp (PQgetvalue (result, 0, 0), "t") == 0;
    PQclear (result);
    return 0;
}

int
pg_checkpoint_due (audit_store_t *store, int64_t before_ms, audit_store_log_due_fn *fn,
                   void *arg)
{
    assert (store);
    pg_conn_t *conn = pg_core_self (store)->conn;
    bool mine = false;
    int rc = pg_conn_begin (conn, false) == 0 && s_sign_turn (conn, &mine) == 0? 0: -1;
    if (rc == 0 && !mine) {
        pg_conn_rollback (conn);
        return 0;
    }
    if (rc == 0)
        rc = s_due_walk (conn, before_ms, fn, arg);
    //  A statement of fn's that failed aborted the transaction: its COMMIT
    //  would roll back and say it committed
    PGconn *handle = rc == 0? pg_conn_handle (conn): NULL;
    if (rc == 0 && (!handle || PQtransactionStatus (handle) != PQTRANS_INTRANS))
        rc = -1;
    if (rc == 0 && pg_conn_commit (conn) == 0)
        return 0;
    pg_conn_rollback (conn);
    return -1;
}
