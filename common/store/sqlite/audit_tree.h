/*  =========================================================================
    audit_tree - the organisation's Merkle tree in audit.db

    Every stored event's leaf hash goes in table leaf (org, log_index),
    beside the time that finds its event row; every complete subtree of
    2^8, 2^16, ... leaves goes in table tree_node once, when its last leaf
    is appended (audit_merkle's frontier says when). Any complete subtree
    is then at most 128 rows away: a tile of 256 leaf hashes or of 256
    stored nodes, folded. Proofs and roots are computed from those, never
    by rehashing the log.

    The writer keeps each organisation's frontier in memory across
    transactions, checked against the log_index it is given: a mismatch
    means another process (the query worker's own audit_access events)
    appended, and the frontier is read again from the tables. A rollback
    restores the frontiers of the transaction.
    ========================================================================= */

#ifndef AUDIT_TREE_H_INCLUDED
#define AUDIT_TREE_H_INCLUDED

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit_merkle.h"
#include "audit_row.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Levels of one tile: a node is stored at every multiple of this level
#define AUDIT_TREE_TILE_LEVELS  8
//  Frontiers the writer keeps; past this the cache starts over (each
//  frontier is read again on its organisation's next event, ~1 ms)
#define AUDIT_TREE_CACHED_MAX   4096

//  The statements a reader of the tree uses (cached by whoever owns the
//  connection): the hashes of a range of leaves, of a range of nodes
#define AUDIT_TREE_SQL_LEAVES   "SELECT hash FROM leaf WHERE org = ?1 AND log_index >= ?2" \
                                " AND log_index < ?3 ORDER BY log_index"
#define AUDIT_TREE_SQL_NODES    "SELECT hash FROM tree_node WHERE org = ?1 AND level = ?2" \
                                " AND idx >= ?3 AND idx < ?4 ORDER BY idx"

//  One organisation's tree, as audit_merkle's subtree function reads it
typedef struct {
    sqlite3_stmt *leaves;               //  AUDIT_TREE_SQL_LEAVES
    sqlite3_stmt *nodes;                //  AUDIT_TREE_SQL_NODES
    int64_t org;                        //  its row id in org
} audit_tree_reader_t;

typedef struct _audit_tree_t audit_tree_t;

//  The writer's side on conn (borrowed, audit.db). NULL when a statement
//  cannot be prepared (logged) or out of memory.
audit_tree_t *
    audit_tree_new (sqlite3 *conn);

//  Finalize; safe on NULL and twice.
void
    audit_tree_destroy (audit_tree_t **self_p);

//  Append row, the event just stored at row->log_index of organisation
//  org, inside the write transaction: its leaf, and the nodes it
//  completes. 0 or -1.
int
    audit_tree_append (audit_tree_t *self, int64_t org, const audit_row_t *row);

//  The transaction committed: the frontiers stand.
void
    audit_tree_commit (audit_tree_t *self);

//  The transaction rolled back: the frontiers are as before it.
void
    audit_tree_rollback (audit_tree_t *self);

//  The leaf hash of row: SHA-256 (0x00 || its leaf text). 0 or -1.
int
    audit_tree_leaf_hash (const audit_row_t *row, audit_merkle_hash_t hash);

//  audit_merkle_subtree_fn over an audit_tree_reader_t.
int
    audit_tree_subtree (void *reader, unsigned level, uint64_t index, audit_merkle_hash_t hash);

//  Schema step 5: the leaves and nodes of every event already stored,
//  inside the migration's transaction. An index whose event retention
//  deleted before the tree existed gets the leaf of the empty text. 0 or -1.
int
    audit_tree_backfill (sqlite3 *conn);

#ifdef __cplusplus
}
#endif

#endif
