/*  =========================================================================
    audit_tree - the organisation's Merkle tree in audit.db

    A kept event's leaf is made again from its row (audit_render's leaf
    text, SHA-256) when it is read; the row keeps the first bytes of its
    leaf hash (event.leaf_tag), so that a changed row is told from its leaf.
    A table of leaves, a row per event, cost every event one more B-tree
    insert and every batch a tail page per organisation: half the writer's
    rate (bench/RESULTS.md, "Issue 13: the cost of the log, schema 7").

    Every complete subtree of 2^8, 2^16, ... leaves goes in table tree_node
    once, when its last leaf is appended (audit_merkle's frontier says
    when). A tile of 256 leaves (level 8) also keeps the range of its
    events' ts and its 16 subtrees of level 4; the organisation's row keeps
    the range of its last, incomplete tile and that tile's complete
    subtrees at the log's size (tail_nodes). A range and the primary key
    (org, ts, log_index) find a tile's events: its leaves are the rows of
    that range whose log_index is in the tile. When retention deletes
    events of a tile, the janitor first copies the tile's leaf hashes into
    leaf_tile (a prefix of the tile, one blob), so the proofs of the
    others, and the roots, never change.

    A proof then makes at most 16 leaves of a complete tile (256 of the last
    one), and reads a few rows of tree_node: roots and proofs come from
    those, never from rehashing the log.

    The writer keeps each organisation's frontier (and its last tile's
    range and subtrees) in memory across transactions, checked against the
    log_index it is given: a mismatch means another process (the query
    worker's own audit_access events) appended, and the frontier is read
    again from the tables (tail_nodes and tree_node: no leaf). A rollback
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

//  Leaves in a tile
#define AUDIT_TREE_TILE_LEAVES  (1u << AUDIT_TREE_TILE_LEVELS)
//  A complete tile's row keeps its subtrees of this level (subtrees, 16 of
//  them, 2 bytes an event): a proof then makes 16 leaves, not 256
#define AUDIT_TREE_INNER_LEVEL  4
#define AUDIT_TREE_INNER_COUNT  (1u << (AUDIT_TREE_TILE_LEVELS - AUDIT_TREE_INNER_LEVEL))

//  Bytes of its leaf hash an event row keeps (event.leaf_tag): enough to
//  tell a changed row from its leaf, at a few bytes a row, where the hash
//  itself cost a third more bytes in the hot tail pages (bench/RESULTS.md)
#define AUDIT_TREE_TAG_SIZE     4

//  The statements a reader of the tree uses (cached by whoever owns the
//  connection), in the order of audit_tree_reader_t's stmt array: the
//  events of a range of a tile (every column the leaf is made of, built
//  from audit_fields.def), the saved leaves of a tile, a tile's ts
//  range, the last tile's, and a range of nodes
#define AUDIT_TREE_SQL_SAVED    "SELECT hashes FROM leaf_tile WHERE org = ?1 AND tile = ?2"
#define AUDIT_TREE_SQL_RANGE    "SELECT min_ts, max_ts, subtrees FROM tree_node WHERE org = ?1" \
                                " AND level = 8 AND idx = ?2"
#define AUDIT_TREE_SQL_TAIL     "SELECT tail_min_ts, tail_max_ts, next_index, tail_nodes" \
                                " FROM org WHERE id = ?1"
#define AUDIT_TREE_SQL_NODES    "SELECT hash FROM tree_node WHERE org = ?1 AND level = ?2" \
                                " AND idx >= ?3 AND idx < ?4 ORDER BY idx"
#define AUDIT_TREE_SQL_SPAN     "SELECT count (*), min (min_ts), max (max_ts) FROM tree_node" \
                                " WHERE org = ?1 AND level = 8 AND idx >= ?2 AND idx < ?3"

typedef enum {
    AUDIT_TREE_Q_LEAVES, AUDIT_TREE_Q_SAVED, AUDIT_TREE_Q_RANGE, AUDIT_TREE_Q_TAIL,
    AUDIT_TREE_Q_NODES, AUDIT_TREE_Q_SPAN, AUDIT_TREE_Q_COUNT
} audit_tree_query_t;

//  The SQL of each audit_tree_query_t (set before main runs)
extern const char *audit_tree_sql [AUDIT_TREE_Q_COUNT];

//  One organisation's tree, as audit_merkle's subtree function reads it.
//  The tile of leaves read last is kept: a proof asks for up to eight
//  subtrees of one tile, and each read of it scans its events. So are the
//  org row's tail nodes: the complete subtrees of its last tile at the
//  log's size, which the writer keeps there at each commit, so that the
//  root of the log and a writer's frontier need no leaf.
typedef struct {
    sqlite3_stmt *stmt [AUDIT_TREE_Q_COUNT];    //  audit_tree_sql's, prepared
    int64_t org;                        //  its row id in org
    const char *org_id;                 //  its name, the leaves' org_id
    bool strict;                        //  a changed row's leaf fails (the writer's)
    bool has_leaves;                    //  false: leaf_* hold nothing (yet)
    uint64_t leaf_first, leaf_count;    //  the leaves read last: a tile, or 16 of it
    audit_merkle_hash_t leaf_hashes [1u << 8];
    uint8_t leaf_found [1u << 8];
    bool has_inner;                     //  false: inner_* not read (yet)
    uint64_t inner_tile;
    bool inner_ok;                      //  the tile is complete and its row has them
    audit_merkle_hash_t inner [16];
    bool has_tail;                      //  false: tail_* not read (yet)
    uint64_t tail_size;                 //  the log's size they are of; 0: none
    audit_merkle_hash_t tail_nodes [8];
} audit_tree_reader_t;

//  How a leaf was found by audit_tree_leaves: made from its event's row,
//  from the tile's saved hashes (retention deleted its event, or may), or
//  both (the saved hash is the tree's); CHANGED: its event's row no
//  longer makes the leaf its tag was cut from (the hash is the row's)
#define AUDIT_TREE_FROM_EVENT   1
#define AUDIT_TREE_FROM_SAVED   2
#define AUDIT_TREE_CHANGED      4

//  The leaf hashes first .. first + count - 1 into hashes, and how each
//  was found into found (0: not at all, a changed store). They may span
//  tiles: their events are read in one scan of the tiles' joint range of
//  ts, where a scan per tile reads the same rows again for each tile when
//  timestamps came out of order. 0 or -1 on a store error.
int
    audit_tree_leaves (audit_tree_reader_t *reader, uint64_t first, uint64_t count,
                       audit_merkle_hash_t *hashes, uint8_t *found);

typedef struct _audit_tree_t audit_tree_t;

//  The writer's side on conn (borrowed, audit.db). NULL when a statement
//  cannot be prepared (logged) or out of memory.
audit_tree_t *
    audit_tree_new (sqlite3 *conn);

//  Finalize; safe on NULL and twice.
void
    audit_tree_destroy (audit_tree_t **self_p);

//  Append hash, the leaf of the event just stored at index of
//  organisation org (named org_id) with time ts, inside the write
//  transaction: the nodes it completes, and its tile's range. 0 or -1.
//  *handle is the organisation's for this transaction (audit_orglog's):
//  NULL the first time, then the tree's, so that it is found in one step.
int
    audit_tree_append (audit_tree_t *self, void **handle, int64_t org, const char *org_id,
                       uint64_t index, int64_t ts, const audit_merkle_hash_t hash);

//  A tile of organisation org is complete: its 256th event was appended,
//  after its row was stored, inside the write transaction; its events'
//  ts are in min_ts .. max_ts (not known when min_ts > max_ts). 0, or -1,
//  which fails the append.
typedef int (audit_tree_tile_fn) (void *arg, int64_t org, uint64_t tile, int64_t min_ts,
                                  int64_t max_ts);

//  Call fn with arg at each tile completed from now on (the subject runs,
//  audit_subjects); NULL: none.
void
    audit_tree_on_tile (audit_tree_t *self, audit_tree_tile_fn *fn, void *arg);

//  An event of the organisation of *handle (audit_tree_append's) is
//  coming: its frontier is brought toward the CPU while the store does
//  other work (an append otherwise waits for memory: a batch meets its
//  organisations in random order).
void
    audit_tree_prefetch (void **handle);

//  Before the commit: each organisation this transaction appended to
//  keeps its last tile's ts range and subtrees in its row, and its log's
//  size as next_index (in the same UPDATE: the writer's one of that row;
//  every index audit_orglog gave out was appended). 0 or -1.
int
    audit_tree_flush (audit_tree_t *self);

//  The transaction committed: the frontiers stand.
void
    audit_tree_commit (audit_tree_t *self);

//  The transaction rolled back: the frontiers are as before it.
void
    audit_tree_rollback (audit_tree_t *self);

//  The range of ts of the events of the tiles that hold indices first ..
//  end - 1 (their rows are among the organisation's with a ts in it), into
//  *min and *max; none when *min > *max. 0 or -1.
int
    audit_tree_span (audit_tree_reader_t *reader, uint64_t first, uint64_t end,
                     int64_t *min, int64_t *max);

//  audit_merkle_subtree_fn over an audit_tree_reader_t.
int
    audit_tree_subtree (void *reader, unsigned level, uint64_t index, audit_merkle_hash_t hash);

#ifdef __cplusplus
}
#endif

#endif
