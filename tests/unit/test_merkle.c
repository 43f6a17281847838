/*  audit_merkle: RFC 6962/9162 trees. The Certificate Transparency 8-leaf
    data set with its roots and proofs; every proof of every tree up to
    S_SWEEP leaves against a naive recursive MTH/PATH/SUBPROOF written
    here from RFC 9162 2.1.1-2.1.4, and what verification refuses; the
    frontier against the same; sizes near 2^64.

    Test vectors: transparency-dev/merkle (Apache-2.0), testonly/
    constants.go (LeafInputs, NodeHashes, RootHashes) and proof/
    verify_test.go (inclusionProofs, consistencyProofs; commit 02194e9a),
    themselves from the C++ Certificate Transparency merkle_tree_test.cc. */

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "audit_merkle.h"

#define S_SWEEP     70              //  trees of 1..S_SWEEP leaves, every proof
#define S_LEAVES    128             //  leaves the subtree table holds
#define S_LEVELS    8               //  log2 (S_LEAVES) + 1

typedef audit_merkle_hash_t hash_t;

static void
s_hex (const char *text, uint8_t *bytes)
{
    size_t len = strlen (text);
    for (size_t at = 0; at < len / 2; at++) {
        unsigned value;
        cr_assert_eq (sscanf (text + 2 * at, "%2x", &value), 1);
        bytes [at] = (uint8_t) value;
    }
}

static void
s_hash (const char *text, hash_t hash)
{
    cr_assert_eq (strlen (text), 64);
    s_hex (text, hash);
}

// ---------------------------------------------------------------------
//  A tree of leaves: its complete subtrees, answered as a store would

typedef struct {
    hash_t leaves [S_LEAVES];
    hash_t table [S_LEVELS][S_LEAVES];  //  [level][index], complete subtrees
    uint64_t count;                     //  leaves known
    uint64_t size;                      //  the tree asked about: nothing past it
    bool overreach;                     //  a subtree past size was asked for
    int lookups;
} s_tree_t;

static s_tree_t s_tree;

static int
s_subtree (void *arg, unsigned level, uint64_t index, hash_t hash)
{
    s_tree_t *tree = arg;
    tree->lookups++;
    if (level >= S_LEVELS || (index + 1) << level > tree->count)
        return -1;
    if ((index + 1) << level > tree->size) {
        tree->overreach = true;
        return -1;
    }
    memcpy (hash, tree->table [level][index], sizeof (hash_t));
    return 0;
}

static void
s_tree_build (s_tree_t *tree, uint64_t count)
{
    tree->count = count;
    for (uint64_t index = 0; index < count; index++)
        memcpy (tree->table [0][index], tree->leaves [index], sizeof (hash_t));
    for (unsigned level = 1; level < S_LEVELS; level++)
        for (uint64_t index = 0; (index + 1) << level <= count; index++)
            audit_merkle_node_hash (tree->table [level - 1][2 * index],
                                    tree->table [level - 1][2 * index + 1],
                                    tree->table [level][index]);
}

//  Leaves i: the hash of i's four bytes
static void
s_tree_sweep (void)
{
    for (uint32_t index = 0; index < S_LEAVES; index++)
        audit_merkle_leaf_hash (&index, sizeof index, s_tree.leaves [index]);
    s_tree_build (&s_tree, S_LEAVES);
}

// ---------------------------------------------------------------------
//  RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1, as written there

static uint64_t
s_k (uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void
s_mth (const hash_t *leaves, uint64_t n, hash_t out)
{
    if (n == 0)
        audit_merkle_empty_hash (out);
    else
    if (n == 1)
        memcpy (out, leaves [0], sizeof (hash_t));
    else {
        hash_t left, right;
        uint64_t k = s_k (n);
        s_mth (leaves, k, left);
        s_mth (leaves + k, n - k, right);
        audit_merkle_node_hash (left, right, out);
    }
}

static void
s_path (uint64_t m, const hash_t *leaves, uint64_t n, hash_t *proof, size_t *count)
{
    if (n <= 1)
        return;
    uint64_t k = s_k (n);
    if (m < k) {
        s_path (m, leaves, k, proof, count);
        s_mth (leaves + k, n - k, proof [(*count)++]);
    }
    else {
        s_path (m - k, leaves + k, n - k, proof, count);
        s_mth (leaves, k, proof [(*count)++]);
    }
}

static void
s_subproof (uint64_t m, const hash_t *leaves, uint64_t n, bool b, hash_t *proof, size_t *count)
{
    if (m == n) {
        if (!b)
            s_mth (leaves, n, proof [(*count)++]);
        return;
    }
    uint64_t k = s_k (n);
    if (m <= k) {
        s_subproof (m, leaves, k, b, proof, count);
        s_mth (leaves + k, n - k, proof [(*count)++]);
    }
    else {
        s_subproof (m - k, leaves + k, n - k, false, proof, count);
        s_mth (leaves, k, proof [(*count)++]);
    }
}

// ---------------------------------------------------------------------
//  The Certificate Transparency data set

static const char *s_ct_leaves [] = {
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"
};

static const char *s_ct_roots [] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
};

//  Go's vectors number leaves from 1; these are 0-based indices
static const struct {
    uint64_t index, size;
    size_t count;
    const char *proof [3];
} s_ct_inclusion [] = {
    { 0, 8, 3, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
    { 5, 8, 3, { "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
    { 2, 3, 1, { "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" } },
    { 1, 5, 3, { "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                 "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
    { 0, 1, 0, { NULL } }
};

static const struct {
    uint64_t from_size, size;
    size_t count;
    const char *proof [3];
} s_ct_consistency [] = {
    { 1, 1, 0, { NULL } },
    { 1, 8, 3, { "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" } },
    { 6, 8, 3, { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } },
    { 2, 5, 2, { "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                 "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" } },
    { 6, 7, 3, { "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                 "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" } }
};

#define S_COUNT(array) (sizeof (array) / sizeof (array) [0])

static void
s_tree_ct (void)
{
    memset (&s_tree, 0, sizeof s_tree);
    for (size_t index = 0; index < 8; index++) {
        uint8_t leaf [16];
        s_hex (s_ct_leaves [index], leaf);
        audit_merkle_leaf_hash (leaf, strlen (s_ct_leaves [index]) / 2, s_tree.leaves [index]);
    }
    s_tree_build (&s_tree, 8);
}

Test (merkle, hashes_are_rfc_6962s)
{
    hash_t hash, expected;
    audit_merkle_empty_hash (hash);
    s_hash (s_ct_roots [0], expected);
    cr_assert_arr_eq (hash, expected, sizeof hash);
    audit_merkle_leaf_hash ("", 0, hash);
    s_hash ("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", expected);
    cr_assert_arr_eq (hash, expected, sizeof hash, "leaf hash = SHA-256 (0x00 || leaf)");
    s_tree_ct ();
    s_hash ("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", expected);
    audit_merkle_node_hash (s_tree.leaves [0], s_tree.leaves [1], hash);
    cr_assert_arr_eq (hash, expected, sizeof hash, "node hash = SHA-256 (0x01 || l || r)");
}

Test (merkle, ct_roots_of_every_size)
{
    s_tree_ct ();
    audit_merkle_frontier_t frontier;
    audit_merkle_frontier_init (&frontier);
    for (uint64_t size = 0; size <= 8; size++) {
        hash_t expected, root;
        s_hash (s_ct_roots [size], expected);
        s_tree.size = size;
        cr_assert_eq (audit_merkle_root (size, s_subtree, &s_tree, root), 0);
        cr_assert_arr_eq (root, expected, sizeof root, "root of %d leaves", (int) size);
        audit_merkle_frontier_root (&frontier, root);
        cr_assert_arr_eq (root, expected, sizeof root, "frontier root of %d leaves", (int) size);
        if (size < 8)
            cr_assert_eq (audit_merkle_frontier_append (&frontier, s_tree.leaves [size], NULL, NULL), 0);
    }
}

//  A proof made against a vector's: its count hashes, given in hex
static void
s_expect_proof (const hash_t *proof, size_t count, const char *const *want, size_t want_count,
                size_t vector)
{
    cr_assert_eq (count, want_count, "vector %zu", vector);
    for (size_t at = 0; at < count; at++) {
        hash_t expected;
        s_hash (want [at], expected);
        cr_assert_arr_eq (proof [at], expected, sizeof expected, "vector %zu hash %zu", vector, at);
    }
}

Test (merkle, ct_inclusion_proofs)
{
    s_tree_ct ();
    for (size_t vector = 0; vector < S_COUNT (s_ct_inclusion); vector++) {
        uint64_t index = s_ct_inclusion [vector].index, size = s_ct_inclusion [vector].size;
        hash_t proof [AUDIT_MERKLE_PROOF_MAX], root;
        size_t count = 99;
        s_tree.size = size;
        cr_assert_eq (audit_merkle_inclusion (index, size, s_subtree, &s_tree, proof, &count), 0);
        s_expect_proof (proof, count, s_ct_inclusion [vector].proof,
                        s_ct_inclusion [vector].count, vector);
        s_hash (s_ct_roots [size], root);
        cr_assert_eq (audit_merkle_inclusion_verify (index, size, s_tree.leaves [index],
                                                     proof, count, root), 0);
    }
}

Test (merkle, ct_consistency_proofs)
{
    s_tree_ct ();
    for (size_t vector = 0; vector < S_COUNT (s_ct_consistency); vector++) {
        uint64_t from_size = s_ct_consistency [vector].from_size;
        uint64_t size = s_ct_consistency [vector].size;
        hash_t proof [AUDIT_MERKLE_PROOF_MAX], from_root, root;
        size_t count = 99;
        s_tree.size = size;
        cr_assert_eq (audit_merkle_consistency (from_size, size, s_subtree, &s_tree, proof, &count), 0);
        s_expect_proof (proof, count, s_ct_consistency [vector].proof,
                        s_ct_consistency [vector].count, vector);
        s_hash (s_ct_roots [from_size], from_root);
        s_hash (s_ct_roots [size], root);
        cr_assert_eq (audit_merkle_consistency_verify (from_size, size, from_root, root,
                                                       proof, count), 0, "vector %zu", vector);
    }
}

//  transparency-dev's corruptInclusionProof and corruptConsistencyProof:
//  each probe must fail for every CT vector with a non-empty proof
Test (merkle, ct_corrupted_proofs_fail)
{
    s_tree_ct ();
    hash_t some, empty, proof [AUDIT_MERKLE_PROOF_MAX + 2], root, from_root;
    s_hash ("abacaba000000000000000000000000000000000000000000060061e00123456", some);
    audit_merkle_empty_hash (empty);
    size_t count;
    for (size_t vector = 0; vector < 4; vector++) {
        uint64_t i = s_ct_inclusion [vector].index, n = s_ct_inclusion [vector].size;
        const uint8_t *leaf = s_tree.leaves [i];
        s_tree.size = n;
        cr_assert_eq (audit_merkle_inclusion (i, n, s_subtree, &s_tree, proof, &count), 0);
        s_hash (s_ct_roots [n], root);
        cr_assert_eq (audit_merkle_inclusion_verify (i - 1, n, leaf, proof, count, root), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i + 1, n, leaf, proof, count, root), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i ^ 2, n, leaf, proof, count, root), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n * 2, leaf, proof, count, root), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n / 2, leaf, proof, count, root), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n, leaf, proof, count, empty), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n, leaf, proof, count, some), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n, some, proof, count, root), -1);
        memcpy (proof [count], root, sizeof root);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n, leaf, proof, count + 1, root), -1);
        memmove (proof [1], proof [0], count * sizeof (hash_t));
        memcpy (proof [0], root, sizeof root);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n, leaf, proof, count + 1, root), -1);
        cr_assert_eq (audit_merkle_inclusion_verify (i, n, leaf, proof + 1, count - 1, root), -1);
    }
    for (size_t vector = 1; vector < S_COUNT (s_ct_consistency); vector++) {
        uint64_t m = s_ct_consistency [vector].from_size, n = s_ct_consistency [vector].size;
        s_tree.size = n;
        cr_assert_eq (audit_merkle_consistency (m, n, s_subtree, &s_tree, proof, &count), 0);
        s_hash (s_ct_roots [m], from_root);
        s_hash (s_ct_roots [n], root);
        cr_assert_eq (audit_merkle_consistency_verify (m - 1, n, from_root, root, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m + 1, n, from_root, root, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m ^ 2, n, from_root, root, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m, n * 2, from_root, root, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m, n / 2, from_root, root, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, some, root, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, some, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, root, from_root, proof, count), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, root, proof, 0), -1);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, root, proof, count - 1), -1);
        memcpy (proof [count], from_root, sizeof root);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, root, proof, count + 1), -1);
        memcpy (proof [count], root, sizeof root);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, root, proof, count + 1), -1);
        memmove (proof [1], proof [0], count * sizeof (hash_t));
        memcpy (proof [0], from_root, sizeof root);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, root, proof, count + 1), -1);
        memcpy (proof [0], root, sizeof root);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, root, proof, count + 1), -1);
        memcpy (proof [0], proof [1], sizeof root);
        cr_assert_eq (audit_merkle_consistency_verify (m, n, from_root, root, proof, count + 1), -1);
    }
}

// ---------------------------------------------------------------------
//  Every proof of every small tree

//  What an inclusion proof must not be taken for. Not another size: a
//  proof binds the size only as far as its shape does (the proof of leaf
//  0 in a tree of 3 is also one in a tree of 4, its last hash standing
//  for leaves 2-3); the checkpoint signs the size with the root
static void
s_inclusion_refusals (uint64_t index, uint64_t size, hash_t *proof, size_t count, const hash_t root)
{
    const uint8_t *leaf = s_tree.leaves [index];
    for (size_t at = 0; at < count; at++)
        for (size_t byte = 0; byte < sizeof (hash_t); byte += 31) {
            proof [at][byte] ^= 0x08;
            cr_assert_eq (audit_merkle_inclusion_verify (index, size, leaf, proof, count, root), -1,
                          "flipped proof [%zu] of %d in %d", at, (int) index, (int) size);
            proof [at][byte] ^= 0x08;
        }
    if (count > 0)
        cr_assert_eq (audit_merkle_inclusion_verify (index, size, leaf, proof, count - 1, root), -1);
    memcpy (proof [count], root, sizeof (hash_t));
    cr_assert_eq (audit_merkle_inclusion_verify (index, size, leaf, proof, count + 1, root), -1);
    for (uint64_t other = 0; other < size + 2; other++)
        if (other != index)
            cr_assert_eq (audit_merkle_inclusion_verify (other, size, leaf, proof, count, root), -1,
                          "index %d taken for %d in %d", (int) other, (int) index, (int) size);
    hash_t wrong;
    memcpy (wrong, root, sizeof wrong);
    wrong [31] ^= 1;
    cr_assert_eq (audit_merkle_inclusion_verify (index, size, leaf, proof, count, wrong), -1);
    cr_assert_eq (audit_merkle_inclusion_verify (index, size, wrong, proof, count, root), -1);
}

Test (merkle, inclusion_proofs_match_rfc_9162_for_every_tree)
{
    s_tree_sweep ();
    for (uint64_t size = 1; size <= S_SWEEP; size++) {
        hash_t root, naive_root;
        s_tree.size = size;
        cr_assert_eq (audit_merkle_root (size, s_subtree, &s_tree, root), 0);
        s_mth (s_tree.leaves, size, naive_root);
        cr_assert_arr_eq (root, naive_root, sizeof root, "root of %d", (int) size);
        for (uint64_t index = 0; index < size; index++) {
            hash_t proof [AUDIT_MERKLE_PROOF_MAX], naive [AUDIT_MERKLE_PROOF_MAX];
            size_t count = 0, naive_count = 0;
            cr_assert_eq (audit_merkle_inclusion (index, size, s_subtree, &s_tree, proof, &count), 0);
            s_path (index, s_tree.leaves, size, naive, &naive_count);
            cr_assert_eq (count, naive_count, "proof of %d in %d", (int) index, (int) size);
            cr_assert_arr_eq (proof, naive, count * sizeof (hash_t), "%d in %d", (int) index, (int) size);
            cr_assert_eq (audit_merkle_inclusion_verify (index, size, s_tree.leaves [index],
                                                         proof, count, root), 0);
            s_inclusion_refusals (index, size, proof, count, root);
        }
    }
    cr_assert_not (s_tree.overreach, "a proof asked for a subtree past its tree");
}

static void
s_consistency_refusals (uint64_t from_size, uint64_t size, hash_t *proof, size_t count,
                        const hash_t from_root, const hash_t root)
{
    for (size_t at = 0; at < count; at++) {
        proof [at][0] ^= 0x10;
        cr_assert_eq (audit_merkle_consistency_verify (from_size, size, from_root, root, proof, count), -1,
                      "flipped [%zu] of %d to %d", at, (int) from_size, (int) size);
        proof [at][0] ^= 0x10;
    }
    if (count > 0)
        cr_assert_eq (audit_merkle_consistency_verify (from_size, size, from_root, root,
                                                       proof, count - 1), -1);
    memcpy (proof [count], root, sizeof (hash_t));
    cr_assert_eq (audit_merkle_consistency_verify (from_size, size, from_root, root, proof, count + 1), -1);
    hash_t wrong;
    memcpy (wrong, root, sizeof wrong);
    wrong [7] ^= 1;
    cr_assert_eq (audit_merkle_consistency_verify (from_size, size, from_root, wrong, proof, count), -1);
    cr_assert_eq (audit_merkle_consistency_verify (from_size, size, wrong, root, proof, count), -1);
    if (from_size < size)
        cr_assert_eq (audit_merkle_consistency_verify (from_size, size, root, from_root, proof, count), -1);
}

Test (merkle, consistency_proofs_match_rfc_9162_for_every_pair)
{
    s_tree_sweep ();
    for (uint64_t size = 1; size <= S_SWEEP; size++)
        for (uint64_t from_size = 1; from_size <= size; from_size++) {
            hash_t proof [AUDIT_MERKLE_PROOF_MAX], naive [AUDIT_MERKLE_PROOF_MAX];
            hash_t from_root, root;
            size_t count = 0, naive_count = 0;
            s_tree.size = size;
            cr_assert_eq (audit_merkle_consistency (from_size, size, s_subtree, &s_tree,
                                                    proof, &count), 0);
            s_subproof (from_size, s_tree.leaves, size, true, naive, &naive_count);
            cr_assert_eq (count, naive_count, "%d to %d", (int) from_size, (int) size);
            cr_assert_arr_eq (proof, naive, count * sizeof (hash_t),
                              "%d to %d", (int) from_size, (int) size);
            s_mth (s_tree.leaves, from_size, from_root);
            s_mth (s_tree.leaves, size, root);
            cr_assert_eq (audit_merkle_consistency_verify (from_size, size, from_root, root,
                                                           proof, count), 0,
                          "%d to %d", (int) from_size, (int) size);
            s_consistency_refusals (from_size, size, proof, count, from_root, root);
        }
    cr_assert_not (s_tree.overreach, "a proof asked for a subtree past its tree");
}

Test (merkle, proofs_refuse_what_is_out_of_range)
{
    s_tree_sweep ();
    hash_t proof [AUDIT_MERKLE_PROOF_MAX], root;
    size_t count = 0;
    s_tree.size = 10;
    s_mth (s_tree.leaves, 10, root);
    cr_assert_eq (audit_merkle_inclusion (10, 10, s_subtree, &s_tree, proof, &count), -1);
    cr_assert_eq (audit_merkle_inclusion (0, 0, s_subtree, &s_tree, proof, &count), -1);
    cr_assert_eq (audit_merkle_consistency (0, 10, s_subtree, &s_tree, proof, &count), -1);
    cr_assert_eq (audit_merkle_consistency (11, 10, s_subtree, &s_tree, proof, &count), -1);
    cr_assert_eq (audit_merkle_inclusion_verify (10, 10, s_tree.leaves [0], proof, 0, root), -1);
    cr_assert_eq (audit_merkle_inclusion_verify (0, 0, s_tree.leaves [0], proof, 0, root), -1);
    cr_assert_eq (audit_merkle_consistency_verify (0, 10, root, root, proof, 0), -1);
    cr_assert_eq (audit_merkle_consistency_verify (11, 10, root, root, proof, 0), -1);
    cr_assert_eq (audit_merkle_consistency_verify (10, 10, root, root, proof, 0), 0);
    memcpy (proof [0], root, sizeof root);
    cr_assert_eq (audit_merkle_consistency_verify (10, 10, root, root, proof, 1), -1,
                  "equal sizes take an empty proof");
    cr_assert_eq (audit_merkle_consistency_verify (3, 10, root, root, proof, 0), -1,
                  "different sizes never take an empty proof");
}

Test (merkle, an_unknown_subtree_fails_the_proof)
{
    s_tree_sweep ();
    hash_t proof [AUDIT_MERKLE_PROOF_MAX], root;
    size_t count = 0;
    s_tree.count = 20;              //  the store knows 20 leaves, not 40
    s_tree.size = 40;
    cr_assert_eq (audit_merkle_root (40, s_subtree, &s_tree, root), -1);
    cr_assert_eq (audit_merkle_inclusion (3, 40, s_subtree, &s_tree, proof, &count), -1);
    cr_assert_eq (audit_merkle_consistency (7, 40, s_subtree, &s_tree, proof, &count), -1);
    audit_merkle_frontier_t frontier;
    audit_merkle_frontier_init (&frontier);
    cr_assert_eq (audit_merkle_frontier_load (&frontier, 40, s_subtree, &s_tree), -1);
    cr_assert_eq (frontier.size, 0, "a failed load leaves the frontier as it was");
}

// ---------------------------------------------------------------------
//  The frontier

typedef struct {
    uint64_t seen [S_LEVELS];       //  subtrees told, per level: 0, 1, ... in order
    bool out_of_order;
    bool wrong_hash;
    int fail_at_level;              //  fail when told of this level, or -1
} s_completed_t;

static int
s_completed (void *arg, unsigned level, uint64_t index, const hash_t hash)
{
    s_completed_t *told = arg;
    if ((int) level == told->fail_at_level)
        return -1;
    if (level >= S_LEVELS || index != told->seen [level]) {
        told->out_of_order = true;
        return 0;
    }
    told->seen [level]++;
    if (memcmp (hash, s_tree.table [level][index], sizeof (hash_t)) != 0)
        told->wrong_hash = true;
    return 0;
}

Test (merkle, frontier_follows_the_tree_leaf_by_leaf)
{
    s_tree_sweep ();
    audit_merkle_frontier_t frontier;
    audit_merkle_frontier_init (&frontier);
    s_completed_t told = { .fail_at_level = -1 };
    for (uint64_t size = 0; size <= S_LEAVES; size++) {
        hash_t root, naive;
        audit_merkle_frontier_root (&frontier, root);
        s_mth (s_tree.leaves, size, naive);
        cr_assert_arr_eq (root, naive, sizeof root, "frontier root of %d", (int) size);
        //  Exactly the complete subtrees of size leaves were told, each once
        for (unsigned level = 0; level < S_LEVELS; level++)
            cr_assert_eq (told.seen [level], size >> level, "level %u at %d", level, (int) size);
        audit_merkle_frontier_t loaded;
        s_tree.size = size;
        cr_assert_eq (audit_merkle_frontier_load (&loaded, size, s_subtree, &s_tree), 0);
        cr_assert_eq (loaded.size, frontier.size);
        cr_assert_arr_eq (loaded.hashes, frontier.hashes,
                          (size_t) __builtin_popcountll (size) * sizeof (hash_t));
        if (size < S_LEAVES)
            cr_assert_eq (audit_merkle_frontier_append (&frontier, s_tree.leaves [size],
                                                        s_completed, &told), 0);
    }
    cr_assert_not (told.out_of_order);
    cr_assert_not (told.wrong_hash);
}

Test (merkle, frontier_loaded_appends_as_the_appended_one)
{
    s_tree_sweep ();
    s_completed_t told = { .fail_at_level = -1 };
    for (uint64_t start = 0; start < 40; start++) {
        audit_merkle_frontier_t frontier;
        s_tree.size = start;
        cr_assert_eq (audit_merkle_frontier_load (&frontier, start, s_subtree, &s_tree), 0);
        for (uint64_t size = start; size < start + 30; size++)
            cr_assert_eq (audit_merkle_frontier_append (&frontier, s_tree.leaves [size], NULL, NULL), 0);
        hash_t root, naive;
        audit_merkle_frontier_root (&frontier, root);
        s_mth (s_tree.leaves, start + 30, naive);
        cr_assert_arr_eq (root, naive, sizeof root, "loaded at %d, appended to %d",
                          (int) start, (int) start + 30);
    }
    (void) told;
}

Test (merkle, a_refused_completion_leaves_the_frontier_unchanged)
{
    s_tree_sweep ();
    audit_merkle_frontier_t frontier, before;
    s_tree.size = 7;
    cr_assert_eq (audit_merkle_frontier_load (&frontier, 7, s_subtree, &s_tree), 0);
    before = frontier;
    //  The 8th leaf completes levels 0..3; the store refuses level 2
    s_completed_t told = { .seen = { 7, 3, 1, 0 }, .fail_at_level = 2 };
    cr_assert_eq (audit_merkle_frontier_append (&frontier, s_tree.leaves [7], s_completed, &told), -1);
    cr_assert_eq (memcmp (&frontier, &before, sizeof frontier), 0);
    told.fail_at_level = 0;
    cr_assert_eq (audit_merkle_frontier_append (&frontier, s_tree.leaves [7], s_completed, &told), -1);
    cr_assert_eq (memcmp (&frontier, &before, sizeof frontier), 0);
    told = (s_completed_t) { .seen = { 7, 3, 1, 0 }, .fail_at_level = -1 };
    cr_assert_eq (audit_merkle_frontier_append (&frontier, s_tree.leaves [7], s_completed, &told), 0);
    cr_assert_eq (frontier.size, 8);
    cr_assert_eq (told.seen [3], 1);
    cr_assert_not (told.out_of_order);
}

// ---------------------------------------------------------------------
//  Sizes near 2^64: a tree whose leaves are all one hash has one hash per
//  level, so its complete subtrees are known without its leaves

static hash_t s_level_hash [AUDIT_MERKLE_LEVELS];

static int
s_uniform (void *arg, unsigned level, uint64_t index, hash_t hash)
{
    (void) arg;
    (void) index;
    if (level >= AUDIT_MERKLE_LEVELS)
        return -1;
    memcpy (hash, s_level_hash [level], sizeof (hash_t));
    return 0;
}

Test (merkle, huge_trees_prove_and_verify)
{
    audit_merkle_leaf_hash ("x", 1, s_level_hash [0]);
    for (unsigned level = 1; level < AUDIT_MERKLE_LEVELS; level++)
        audit_merkle_node_hash (s_level_hash [level - 1], s_level_hash [level - 1], s_level_hash [level]);
    const uint64_t sizes [] = {
        (uint64_t) 1 << 40, ((uint64_t) 1 << 40) + 1, ((uint64_t) 1 << 63) + 12345,
        UINT64_MAX - 1, UINT64_MAX
    };
    for (size_t at = 0; at < S_COUNT (sizes); at++) {
        uint64_t size = sizes [at];
        hash_t root, proof [AUDIT_MERKLE_PROOF_MAX], from_root;
        size_t count = 0;
        cr_assert_eq (audit_merkle_root (size, s_uniform, NULL, root), 0);
        audit_merkle_frontier_t frontier;
        cr_assert_eq (audit_merkle_frontier_load (&frontier, size, s_uniform, NULL), 0);
        audit_merkle_frontier_root (&frontier, from_root);
        cr_assert_arr_eq (root, from_root, sizeof root);
        const uint64_t indices [] = { 0, size / 2, size - 2, size - 1 };
        for (size_t which = 0; which < S_COUNT (indices); which++) {
            cr_assert_eq (audit_merkle_inclusion (indices [which], size, s_uniform, NULL, proof, &count), 0);
            cr_assert_leq (count, 64);
            cr_assert_eq (audit_merkle_inclusion_verify (indices [which], size, s_level_hash [0],
                                                         proof, count, root), 0);
        }
        uint64_t from_size = size / 3 + 1;
        cr_assert_eq (audit_merkle_root (from_size, s_uniform, NULL, from_root), 0);
        cr_assert_eq (audit_merkle_consistency (from_size, size, s_uniform, NULL, proof, &count), 0);
        cr_assert_leq (count, AUDIT_MERKLE_PROOF_MAX);
        cr_assert_eq (audit_merkle_consistency_verify (from_size, size, from_root, root, proof, count), 0);
    }
    audit_merkle_frontier_t full = { .size = UINT64_MAX };
    cr_assert_eq (audit_merkle_frontier_append (&full, s_level_hash [0], NULL, NULL), -1,
                  "a full tree takes no leaf");
}
