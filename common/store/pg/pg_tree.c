/*  =========================================================================
    pg_tree - the writer's side of each organisation's Merkle tree (see
    pg_tree.h): frontiers cached across transactions, the subtrees a batch
    completes collected for one insert
    ========================================================================= */

#include "pg_tree.h"
#include "pg_array.h"
#include "audit_log.h"

#include <assert.h>
#include <inttypes.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>

//  An organisation's frontier
typedef struct {
    audit_merkle_frontier_t frontier;
} s_entry_t;

struct _pg_tree_t {
    zhashx_t *frontiers;                //  org_id -> s_entry_t
    pg_array_t node_org, node_level, node_idx, node_hash, node_ts;  //  the batch's subtrees
    const char *append_org;             //  the org of the append in progress
    int64_t append_ts;                  //  and its leaf's ts
};

static void
s_entry_free (void **item)
{
    free (*item);
    *item = NULL;
}

pg_tree_t *
pg_tree_new (void)
{
    pg_tree_t *self = (pg_tree_t *) calloc (1, sizeof *self);
    if (!self || !(self->frontiers = zhashx_new ())) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->frontiers, s_entry_free);
    pg_array_init (&self->node_org);
    pg_array_init (&self->node_level);
    pg_array_init (&self->node_idx);
    pg_array_init (&self->node_hash);
    pg_array_init (&self->node_ts);
    return self;
}

void
pg_tree_destroy (pg_tree_t **self_p)
{
    assert (self_p);
    pg_tree_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy (&self->frontiers);
    pg_array_free (&self->node_org);
    pg_array_free (&self->node_level);
    pg_array_free (&self->node_idx);
    pg_array_free (&self->node_hash);
    pg_array_free (&self->node_ts);
    free (self);
    *self_p = NULL;
}

//  The frontier's subtrees, one query (pg_tree_asked_t)
static int
s_frontier_load (pg_conn_t *conn, const char *org_id, uint64_t size,
                 audit_merkle_frontier_t *frontier)
{
    pg_tree_asked_t asked = { 0 };
    int rc = audit_merkle_frontier_load (frontier, size, pg_tree_asked_subtree, &asked) == 0
          && pg_tree_asked_fetch (&asked, conn, org_id) == 0? 0: -1;
    if (rc == 0 && audit_merkle_frontier_load (frontier, size, pg_tree_asked_subtree,
                                               &asked) != 0) {
        audit_log_error ("msg=\"log incomplete\" engine=postgresql org_id=%s size=%" PRIu64
                         " reason=\"a subtree of the frontier is missing from log_node\"",
                         org_id, size);
        rc = -1;
    }
    pg_tree_asked_free (&asked);
    return rc;
}

int
pg_tree_frontier (pg_tree_t *self, pg_conn_t *conn, const char *org_id, uint64_t size,
                  audit_merkle_frontier_t **frontier)
{
    assert (self && conn && org_id && frontier);
    s_entry_t *entry = (s_entry_t *) zhashx_lookup (self->frontiers, org_id);
    if (entry && entry->frontier.size == size) {
        *frontier = &entry->frontier;
        return 0;
    }
    if (!entry) {
        if (!(entry = (s_entry_t *) calloc (1, sizeof *entry)))
            return -1;
        zhashx_insert (self->frontiers, org_id, entry);
    }
    //  Another writer appended since: read the frontier again
    if (s_frontier_load (conn, org_id, size, &entry->frontier) != 0) {
        zhashx_delete (self->frontiers, org_id);
        return -1;
    }
    *frontier = &entry->frontier;
    return 0;
}

static int
s_completed (void *arg, unsigned level, uint64_t index, const audit_merkle_hash_t hash)
{
    pg_tree_t *self = (pg_tree_t *) arg;
    pg_array_text_add (&self->node_org, self->append_org);
    pg_array_int_add (&self->node_level, (int64_t) level);
    pg_array_int_add (&self->node_idx, (int64_t) index);
    pg_array_bytea_add (&self->node_hash, hash, AUDIT_MERKLE_HASH_SIZE);
    if (level == 0 && self->append_ts != PG_TREE_TS_UNKNOWN)
        pg_array_int_add (&self->node_ts, self->append_ts);
    else
        pg_array_text_add (&self->node_ts, NULL);
    return 0;
}

int
pg_tree_append (pg_tree_t *self, const char *org_id, audit_merkle_frontier_t *frontier,
                const audit_merkle_hash_t leaf, int64_t ts)
{
    assert (self && org_id && frontier);
    self->append_org = org_id;
    self->append_ts = ts;
    return audit_merkle_frontier_append (frontier, leaf, s_completed, self);
}

int
pg_tree_nodes_write (pg_tree_t *self, pg_conn_t *conn)
{
    static const pg_stmt_t insert = { "tree_nodes_insert",
        "INSERT INTO audit.log_node (org_id, level, idx, hash, ts)"
        " SELECT * FROM unnest ($1::text[], $2::smallint[], $3::bigint[], $4::bytea[],"
        " $5::bigint[])" };
    if (self->node_org.count == 0)
        return 0;
    const char *values [] = {
        pg_array_text (&self->node_org), pg_array_text (&self->node_level),
        pg_array_text (&self->node_idx), pg_array_text (&self->node_hash),
        pg_array_text (&self->node_ts)
    };
    for (size_t at = 0; at < sizeof values / sizeof *values; at++)
        if (!values [at])
            return -1;
    return pg_conn_do (conn, &insert, 5, values, NULL);
}

static void
s_nodes_reset (pg_tree_t *self)
{
    pg_array_reset (&self->node_org);
    pg_array_reset (&self->node_level);
    pg_array_reset (&self->node_idx);
    pg_array_reset (&self->node_hash);
    pg_array_reset (&self->node_ts);
}

void
pg_tree_commit (pg_tree_t *self)
{
    assert (self);
    //  Between transactions, where no one holds a frontier: start over
    if (zhashx_size (self->frontiers) > PG_TREE_CACHED_MAX)
        zhashx_purge (self->frontiers);
    s_nodes_reset (self);
}

//  Simpler than undoing each append, and rare: every frontier is read
//  again on its organisation's next event
void
pg_tree_rollback (pg_tree_t *self)
{
    assert (self);
    zhashx_purge (self->frontiers);
    s_nodes_reset (self);
}

