/*  =========================================================================
    audit_merkle - RFC 9162 section 2.1 Merkle trees over SHA-256

    The organisation's log is such a tree (contract: "The organisation's
    log"). This module is the arithmetic only: hashes, the frontier an
    appender keeps, proofs and their verification. Where hashes live is
    the store's business: proofs are computed from the hashes of complete
    subtrees that a caller-supplied function returns, never by rehashing
    the log, as Go's tlog and Certificate Transparency do.

    Indices and sizes are uint64_t. A complete subtree is named by
    (level, index): it covers leaves [index << level, (index + 1) << level).
    A proof or a root of a tree of size leaves asks only for subtrees
    within those leaves, at most 64 per hash it returns.

    Nothing here allocates, and verification calls nothing but SHA-256:
    a verifier checks hundreds of thousands of proofs a second.
    ========================================================================= */

#ifndef AUDIT_MERKLE_H_INCLUDED
#define AUDIT_MERKLE_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_MERKLE_HASH_SIZE  32
//  The most hashes a proof or a frontier holds: one per level of a tree
//  of at most 2^63 leaves, consistency proofs one more
#define AUDIT_MERKLE_PROOF_MAX  128
#define AUDIT_MERKLE_LEVELS     64

typedef uint8_t audit_merkle_hash_t [AUDIT_MERKLE_HASH_SIZE];

//  The hash of the complete subtree (level, index) into hash; 0, or -1
//  when it is not known (the proof then fails with -1).
typedef int (audit_merkle_subtree_fn) (void *arg, unsigned level, uint64_t index,
                                       audit_merkle_hash_t hash);

//  SHA-256(0x00 || leaf)
void
    audit_merkle_leaf_hash (const void *leaf, size_t size, audit_merkle_hash_t hash);

//  SHA-256(0x01 || left || right)
void
    audit_merkle_node_hash (const audit_merkle_hash_t left, const audit_merkle_hash_t right,
                            audit_merkle_hash_t hash);

//  The hash of the empty tree: SHA-256 of nothing
void
    audit_merkle_empty_hash (audit_merkle_hash_t hash);

//  ---------------------------------------------------------------------
//  The frontier: what an appender keeps to extend a tree and know its root
//  without reading it back: the roots of the complete subtrees that make
//  up size leaves (one per set bit of size, largest first).

typedef struct {
    uint64_t size;
    audit_merkle_hash_t hashes [AUDIT_MERKLE_LEVELS];   //  hashes [i]: level of i-th set bit, high to low
} audit_merkle_frontier_t;

//  Called for every complete subtree that an append completes, level 0
//  (the leaf itself) upward; a store keeps those it wants. 0, or -1 to
//  fail the append (the frontier is then unchanged).
typedef int (audit_merkle_completed_fn) (void *arg, unsigned level, uint64_t index,
                                         const audit_merkle_hash_t hash);

//  An empty tree.
void
    audit_merkle_frontier_init (audit_merkle_frontier_t *self);

//  The frontier of a tree of size leaves, from its complete subtrees. 0 or -1.
int
    audit_merkle_frontier_load (audit_merkle_frontier_t *self, uint64_t size,
                                audit_merkle_subtree_fn *subtree, void *arg);

//  Append the leaf whose hash is leaf_hash; completed may be NULL. 0, or
//  -1 when completed refuses or the tree already holds 2^64 - 1 leaves.
int
    audit_merkle_frontier_append (audit_merkle_frontier_t *self, const audit_merkle_hash_t leaf_hash,
                                  audit_merkle_completed_fn *completed, void *arg);

//  The root of the tree the frontier describes (the empty hash for size 0).
void
    audit_merkle_frontier_root (const audit_merkle_frontier_t *self, audit_merkle_hash_t root);

//  ---------------------------------------------------------------------
//  Proofs, RFC 9162 sections 2.1.3 and 2.1.4, from complete subtrees.

//  The root of the tree of size leaves. 0 or -1.
int
    audit_merkle_root (uint64_t size, audit_merkle_subtree_fn *subtree, void *arg,
                       audit_merkle_hash_t root);

//  The inclusion proof of leaf index in the tree of size leaves into
//  proof (AUDIT_MERKLE_PROOF_MAX hashes), its length into count. -1 when
//  index >= size or a subtree is unknown.
int
    audit_merkle_inclusion (uint64_t index, uint64_t size, audit_merkle_subtree_fn *subtree,
                            void *arg, audit_merkle_hash_t *proof, size_t *count);

//  The consistency proof from the tree of from_size leaves to the tree of
//  size leaves (0 < from_size <= size). -1 when the sizes are out of order
//  or a subtree is unknown.
int
    audit_merkle_consistency (uint64_t from_size, uint64_t size, audit_merkle_subtree_fn *subtree,
                              void *arg, audit_merkle_hash_t *proof, size_t *count);

//  0 when proof shows leaf_hash at index in the tree of size with root
//  (RFC 9162 2.1.3.2); -1 otherwise, and when index >= size. A proof binds
//  size only as far as its shape does: a signed checkpoint binds it.
int
    audit_merkle_inclusion_verify (uint64_t index, uint64_t size, const audit_merkle_hash_t leaf_hash,
                                   const audit_merkle_hash_t *proof, size_t count,
                                   const audit_merkle_hash_t root);

//  0 when proof shows the tree (from_size, from_root) is a prefix of
//  (size, root) (RFC 9162 2.1.4.2); for from_size == size the proof is
//  empty and the roots equal. -1 otherwise, and when from_size is 0 or
//  past size.
int
    audit_merkle_consistency_verify (uint64_t from_size, uint64_t size,
                                     const audit_merkle_hash_t from_root, const audit_merkle_hash_t root,
                                     const audit_merkle_hash_t *proof, size_t count);

#ifdef __cplusplus
}
#endif

#endif
