/*  =========================================================================
    bench-merkle - how fast are proofs made and checked, and what bounds it?

    1. Append SIZE leaves (default 1,000,000) through the frontier, keeping
       every complete subtree its callback tells in memory (what a store
       of tile hashes would hold): appends/s.
    2. Make PROOFS inclusion proofs (default 200,000) of random leaves from
       those subtrees, and as many consistency proofs from random sizes:
       proofs/s, as the query worker's `proof` op would make them.
    3. Verify the inclusion proofs ROUNDS times (default 5) and the
       consistency proofs once: proofs/s and ns per hash. The ceiling,
       measured in the same run: SHA-256 node hashes/s on the same 64-byte
       pairs, divided by the mean proof length.
    4. Checkpoint notes: Ed25519 signatures made and verified per second.

    Usage: bench-merkle [-n SIZE] [-p PROOFS] [-r ROUNDS]
    ========================================================================= */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_checkpoint.h"
#include "audit_merkle.h"
#include "audit_signer.h"

#define S_PROOF_LEN 64                  //  inclusion proofs hold at most this many

typedef audit_merkle_hash_t hash_t;

typedef struct {
    hash_t *levels [AUDIT_MERKLE_LEVELS];   //  [level][index], complete subtrees
    uint64_t size;
} s_tree_t;

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

static uint64_t s_random_state = 88172645463325252ULL;

static uint64_t
s_random (void)
{
    s_random_state ^= s_random_state << 13;
    s_random_state ^= s_random_state >> 7;
    s_random_state ^= s_random_state << 17;
    return s_random_state;
}

static int
s_keep (void *arg, unsigned level, uint64_t index, const hash_t hash)
{
    s_tree_t *tree = arg;
    memcpy (tree->levels [level][index], hash, sizeof (hash_t));
    return 0;
}

static int
s_subtree (void *arg, unsigned level, uint64_t index, hash_t hash)
{
    s_tree_t *tree = arg;
    if (level >= AUDIT_MERKLE_LEVELS || !tree->levels [level] || (index + 1) << level > tree->size)
        return -1;
    memcpy (hash, tree->levels [level][index], sizeof (hash_t));
    return 0;
}

static void
s_build (s_tree_t *tree, uint64_t size, hash_t root)
{
    for (unsigned level = 0; level < AUDIT_MERKLE_LEVELS && (size >> level); level++)
        tree->levels [level] = malloc ((size >> level) * sizeof (hash_t));
    audit_merkle_frontier_t frontier;
    audit_merkle_frontier_init (&frontier);
    double start = s_now ();
    for (uint64_t index = 0; index < size; index++) {
        hash_t leaf;
        audit_merkle_leaf_hash (&index, sizeof index, leaf);
        if (audit_merkle_frontier_append (&frontier, leaf, s_keep, tree) != 0)
            exit (1);
    }
    double took = s_now () - start;
    tree->size = size;
    audit_merkle_frontier_root (&frontier, root);
    printf ("append (leaf hash + frontier): %.0f leaves/s, %.0f ns each\n",
            (double) size / took, took / (double) size * 1e9);
}

//  Node hashes/s on the same pairs a verifier hashes
static double
s_ceiling (size_t hashes)
{
    hash_t pair [2] = { { 1 }, { 2 } };
    double start = s_now ();
    for (size_t at = 0; at < hashes; at++)
        audit_merkle_node_hash (pair [0], pair [1], pair [at & 1]);
    return (double) hashes / (s_now () - start);
}

//  Proofs are packed one after another, as a verifier reads them in
static void
s_inclusion (s_tree_t *tree, const hash_t root, size_t proofs, int rounds)
{
    hash_t *proof = malloc (proofs * S_PROOF_LEN * sizeof (hash_t));
    uint64_t *indices = malloc (proofs * sizeof (uint64_t));
    size_t *counts = malloc (proofs * sizeof (size_t)), total = 0;
    double start = s_now ();
    for (size_t at = 0; at < proofs; at++) {
        indices [at] = s_random () % tree->size;
        if (audit_merkle_inclusion (indices [at], tree->size, s_subtree, tree,
                                    proof + total, &counts [at]) != 0)
            exit (1);
        total += counts [at];
    }
    double took = s_now () - start;
    printf ("inclusion proofs made: %.0f/s (mean %.1f hashes)\n",
            (double) proofs / took, (double) total / (double) proofs);
    size_t failed = 0;
    start = s_now ();
    for (int round = 0; round < rounds; round++)
        for (size_t at = 0, offset = 0; at < proofs; offset += counts [at++])
            failed += audit_merkle_inclusion_verify (indices [at], tree->size,
                                                     tree->levels [0][indices [at]],
                                                     proof + offset, counts [at], root) != 0;
    took = s_now () - start;
    double verified = (double) proofs * rounds / took;
    double ceiling = s_ceiling (total * (size_t) rounds) / ((double) total / (double) proofs);
    printf ("inclusion proofs verified: %.0f/s (%.1f ns a hash), %zu failed; "
            "ceiling (node hashes/s / mean length) %.0f/s: %.0f %%\n",
            verified, took / (double) (total * (size_t) rounds) * 1e9, failed,
            ceiling, verified / ceiling * 100);
    free (proof);
    free (indices);
    free (counts);
}

static void
s_consistency (s_tree_t *tree, const hash_t root, size_t proofs)
{
    hash_t proof [AUDIT_MERKLE_PROOF_MAX], from_root;
    size_t count, failed = 0;
    double made = 0, checked = 0;
    for (size_t at = 0; at < proofs; at++) {
        uint64_t from_size = 1 + s_random () % tree->size;
        if (audit_merkle_root (from_size, s_subtree, tree, from_root) != 0)
            exit (1);
        double start = s_now ();
        if (audit_merkle_consistency (from_size, tree->size, s_subtree, tree, proof, &count) != 0)
            exit (1);
        double middle = s_now ();
        failed += audit_merkle_consistency_verify (from_size, tree->size, from_root, root,
                                                   proof, count) != 0;
        checked += s_now () - middle;
        made += middle - start;
    }
    printf ("consistency proofs: made %.0f/s, verified %.0f/s, %zu failed\n",
            (double) proofs / made, (double) proofs / checked, failed);
}

static void
s_notes (const hash_t root, uint64_t size, int count)
{
    audit_signer_t *signer = audit_signer_new ("semafore-audit", NULL);
    char text [AUDIT_CHECKPOINT_TEXT_SIZE], note [AUDIT_CHECKPOINT_TEXT_SIZE + AUDIT_NOTE_SIGN_EXTRA];
    int len = audit_checkpoint_format ("org_000", size, root, text);
    long note_len = 0;
    double start = s_now ();
    for (int at = 0; at < count; at++)
        note_len = audit_signer_sign (signer, text, (size_t) len, note, sizeof note);
    double signed_took = s_now () - start;
    int failed = 0;
    start = s_now ();
    for (int at = 0; at < count; at++)
        failed += audit_note_verify (audit_signer_verifier (signer), note, (size_t) note_len, NULL)
                  != AUDIT_NOTE_OK;
    double verified_took = s_now () - start;
    printf ("checkpoint notes: signed %.0f/s, verified %.0f/s, %d failed\n",
            count / signed_took, count / verified_took, failed);
    audit_signer_destroy (&signer);
}

int
main (int argc, char *argv [])
{
    uint64_t size = 1000000;
    size_t proofs = 200000;
    int rounds = 5, option;
    while ((option = getopt (argc, argv, "n:p:r:")) != -1)
        switch (option) {
            case 'n': size = strtoull (optarg, NULL, 10); break;
            case 'p': proofs = strtoull (optarg, NULL, 10); break;
            case 'r': rounds = atoi (optarg); break;
            default:
                fprintf (stderr, "usage: bench-merkle [-n SIZE] [-p PROOFS] [-r ROUNDS]\n");
                return 1;
        }
    if (size < 2 || proofs < 1 || rounds < 1) {
        fprintf (stderr, "bench-merkle: SIZE >= 2, PROOFS >= 1, ROUNDS >= 1\n");
        return 1;
    }
    printf ("bench-merkle: %llu leaves, %zu proofs, %d rounds\n",
            (unsigned long long) size, proofs, rounds);
    s_tree_t tree = { .size = 0 };
    hash_t root;
    s_build (&tree, size, root);
    s_inclusion (&tree, root, proofs, rounds);
    s_consistency (&tree, root, proofs / 10);
    s_notes (root, size, 5000);
    for (unsigned level = 0; level < AUDIT_MERKLE_LEVELS; level++)
        free (tree.levels [level]);
    return 0;
}
