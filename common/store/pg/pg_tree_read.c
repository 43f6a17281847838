/*  =========================================================================
    pg_tree - the reader's side of each organisation's Merkle tree: many
    subtrees of log_node in one query (see pg_tree.h; the writer's side is
    pg_tree.c)

    A root or a proof asks for up to a few hundred subtrees, one at a time
    (audit_merkle's subtree function): a first run only notes which, then
    one statement
    over two arrays (their levels and indices, unnest WITH ORDINALITY)
    reads them all by the primary key, so a proof costs one round trip,
    not one a subtree.
    ========================================================================= */

#include "pg_tree.h"
#include "pg_array.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

//  The subtrees asked for, by their place in the arrays (1-based): a
//  missing one is a row that is not there
static const pg_stmt_t s_fetch = { "tree_read_fetch",
    "SELECT q.at, n.hash FROM unnest ($2::smallint [], $3::bigint []) WITH ORDINALITY"
    " AS q (level, idx, at) JOIN audit.log_node n ON n.org_id = $1 AND n.level = q.level"
    " AND n.idx = q.idx" };

//  The rows of result into hashes and found
static int
s_rows (const PGresult *result, size_t count, audit_merkle_hash_t *hashes, bool *found)
{
    for (int row = 0; row < PQntuples (result); row++) {
        int64_t at = pg_conn_int (result, row, 0);
        if (at < 1 || (uint64_t) at > count
        ||  pg_conn_bytea (result, row, 1, hashes [at - 1], AUDIT_MERKLE_HASH_SIZE) != 0)
            continue;                   //  not a hash: as if it were not there
        found [at - 1] = true;
    }
    return 0;
}

//  count subtrees (levels [i], indices [i]) of org_id's tree into
//  hashes [i], found [i] false for one log_node lacks. 0 or -1.
static int
s_fetch_all (pg_conn_t *conn, const char *org_id, size_t count, const unsigned *levels,
             const uint64_t *indices, audit_merkle_hash_t *hashes, bool *found)
{
    assert (conn && org_id);
    if (count == 0)
        return 0;
    memset (found, 0, count * sizeof *found);
    pg_array_t level_array, index_array;
    pg_array_init (&level_array);
    pg_array_init (&index_array);
    for (size_t at = 0; at < count; at++) {
        //  A subtree no tree holds (past smallint or bigint) is asked as
        //  one that is never there, so that the places stay in step
        bool named = levels [at] < AUDIT_MERKLE_LEVELS && indices [at] <= (uint64_t) INT64_MAX;
        pg_array_int_add (&level_array, named? (int64_t) levels [at]: -1);
        pg_array_int_add (&index_array, named? (int64_t) indices [at]: -1);
    }
    const char *values [] = { org_id, pg_array_text (&level_array), pg_array_text (&index_array) };
    int rc = -1;
    if (values [1] && values [2]) {
        PGresult *result = pg_conn_run (conn, &s_fetch, 3, values);
        if (result)
            rc = s_rows (result, count, hashes, found);
        PQclear (result);
    }
    pg_array_free (&level_array);
    pg_array_free (&index_array);
    return rc;
}

//  Room for one more; a proof asks for a few hundred at most
static int
s_asked_grow (pg_tree_asked_t *self)
{
    if (self->count < self->capacity)
        return 0;
    size_t capacity = self->capacity? 2 * self->capacity: 128;
    unsigned *levels = (unsigned *) realloc (self->levels, capacity * sizeof *levels);
    if (levels)
        self->levels = levels;
    uint64_t *indices = (uint64_t *) realloc (self->indices, capacity * sizeof *indices);
    if (indices)
        self->indices = indices;
    if (!levels || !indices)
        return -1;
    self->capacity = capacity;
    return 0;
}

int
pg_tree_asked_subtree (void *arg, unsigned level, uint64_t index, audit_merkle_hash_t hash)
{
    pg_tree_asked_t *self = (pg_tree_asked_t *) arg;
    if (!self->answering) {
        if (s_asked_grow (self) != 0)
            return -1;
        self->levels [self->count] = level;
        self->indices [self->count++] = index;
        memset (hash, 0, AUDIT_MERKLE_HASH_SIZE);
        return 0;
    }
    //  The second run asks in the same order; a search if ever it did not
    size_t at = self->next;
    if (at >= self->count || self->levels [at] != level || self->indices [at] != index)
        for (at = 0; at < self->count; at++)
            if (self->levels [at] == level && self->indices [at] == index)
                break;
    if (at >= self->count || !self->found [at])
        return -1;
    self->next = at + 1;
    memcpy (hash, self->hashes [at], AUDIT_MERKLE_HASH_SIZE);
    return 0;
}

int
pg_tree_asked_fetch (pg_tree_asked_t *self, pg_conn_t *conn, const char *org_id)
{
    assert (self && !self->answering);
    self->hashes = (audit_merkle_hash_t *) malloc ((self->count + 1) * sizeof *self->hashes);
    self->found = (bool *) calloc (self->count + 1, sizeof *self->found);
    if (!self->hashes || !self->found
    ||  s_fetch_all (conn, org_id, self->count, self->levels, self->indices, self->hashes,
                     self->found) != 0)
        return -1;
    self->answering = true;
    return 0;
}

void
pg_tree_asked_free (pg_tree_asked_t *self)
{
    free (self->levels);
    free (self->indices);
    free (self->hashes);
    free (self->found);
    memset (self, 0, sizeof *self);
}
