/*  =========================================================================
    pg_tree - each organisation's Merkle tree in audit.log_node

    log_node holds every complete subtree (level, idx) of each
    organisation's tree: the leaves at level 0 (SHA-256 of the event's
    leaf text, audit_render), and each node an append completes
    (audit_merkle names them: leaves [idx << level, (idx + 1) << level)).
    Retention deletes events, never nodes, so roots and proofs never
    change, and any subtree is one row: a root or a proof reads its
    O(log n) rows in one query (pg_tree_asked_t).

    The writer keeps each organisation's frontier in memory across
    transactions, checked against the size its org row says under the
    batch's lock: another writer (a second ingest worker, the query
    worker's own audit_access events) that appended in between makes the
    sizes differ, and the frontier is read again from log_node. The nodes
    a batch completes are collected and inserted at once
    (pg_tree_nodes_write), in the batch's transaction.
    ========================================================================= */

#ifndef PG_TREE_H_INCLUDED
#define PG_TREE_H_INCLUDED

#include "audit_merkle.h"
#include "audit_row.h"
#include "pg_conn.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Frontiers the writer keeps; past this the cache starts over (each is
//  read again on its organisation's next event, one query)
#define PG_TREE_CACHED_MAX  4096

typedef struct _pg_tree_t pg_tree_t;

//  A writer's tree state. NULL when out of memory.
pg_tree_t *
    pg_tree_new (void);

//  Free; safe on NULL and twice.
void
    pg_tree_destroy (pg_tree_t **self_p);

//  The frontier of organisation org_id at size leaves (its org row's
//  next_index, read under the batch's lock), for appends in this
//  transaction: the cached one when it is of that size, else read from
//  log_node. 0 or -1.
int
    pg_tree_frontier (pg_tree_t *self, pg_conn_t *conn, const char *org_id, uint64_t size,
                      audit_merkle_frontier_t **frontier);

//  Append leaf (the hash of the event stored at frontier->size, whose
//  timestamp is ts; PG_TREE_TS_UNKNOWN when it is not known) to the
//  frontier pg_tree_frontier gave for org_id; the subtrees it completes
//  are collected for pg_tree_nodes_write, the leaf with its ts. 0 or -1.
#define PG_TREE_TS_UNKNOWN INT64_MIN
int
    pg_tree_append (pg_tree_t *self, const char *org_id, audit_merkle_frontier_t *frontier,
                    const audit_merkle_hash_t leaf, int64_t ts);

//  Insert the collected subtrees into log_node, in the transaction. 0 or -1.
int
    pg_tree_nodes_write (pg_tree_t *self, pg_conn_t *conn);

//  The transaction committed: the frontiers stand. Rolled back: forget
//  every frontier (read again on next use) and the collected nodes.
void
    pg_tree_commit (pg_tree_t *self);
void
    pg_tree_rollback (pg_tree_t *self);

//  The subtrees audit_merkle asks for, read in one query: run an
//  audit_merkle function (root, proof, frontier load) once with
//  pg_tree_asked_subtree, which notes each (level, index) and answers
//  zeros; pg_tree_asked_fetch reads them all from org_id's log_node; the
//  same run again is answered from what was read. Zeroed to start.
typedef struct {
    size_t count, capacity;
    unsigned *levels;
    uint64_t *indices;
    audit_merkle_hash_t *hashes;
    bool *found;
    bool answering;                     //  false: noting what is asked
    size_t next;                        //  answering: the next one asked
} pg_tree_asked_t;

//  audit_merkle_subtree_fn over a pg_tree_asked_t.
int
    pg_tree_asked_subtree (void *asked, unsigned level, uint64_t index,
                           audit_merkle_hash_t hash);

//  Read every subtree noted, and answer from them from now on. 0 or -1;
//  a subtree log_node lacks is not an error here (the second run fails).
int
    pg_tree_asked_fetch (pg_tree_asked_t *self, pg_conn_t *conn, const char *org_id);

//  Free what was noted and read.
void
    pg_tree_asked_free (pg_tree_asked_t *self);

#ifdef __cplusplus
}
#endif

#endif
