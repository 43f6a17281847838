/*  =========================================================================
    audit_merkle - RFC 9162 section 2.1 Merkle trees over SHA-256

    SHA-256 is OpenSSL's low-level SHA256_Init/Update/Final: its state
    lives on the stack (nothing allocates, so a verifier can run proofs
    in a tight loop) and it runs OpenSSL's SHA-NI/AVX2 code. Measured on
    the build machine, one 65-byte node hash: about 95 ns here, 111 ns with a
    reused EVP_MD_CTX (which needs a context allocated per thread), 330 ns
    with libsodium's portable crypto_hash_sha256 and 380 ns with the
    one-shot SHA256 (), which fetches the algorithm on every call in
    OpenSSL 3 (bench/RESULTS.md, issue 13). The low-level calls are
    deprecated in OpenSSL 3.0 but present; should they go, the two hash
    functions alone move to a per-thread EVP context.

    Every subtree a proof names is a range [lo, hi) whose lo is a multiple
    of the power of two at or above its width (RFC 9162's split at the
    largest power of two below the width keeps it so), hence the hash of
    a range is the complete subtrees its width's bits name, folded from
    the right: at most 64 calls to the caller's function.
    ========================================================================= */

//  SHA256_Init and friends: deprecated, not removed, in OpenSSL 3.0
#define OPENSSL_SUPPRESS_DEPRECATED

#include "audit_merkle.h"

#include <openssl/sha.h>
#include <stdbool.h>
#include <string.h>

void
audit_merkle_leaf_hash (const void *leaf, size_t size, audit_merkle_hash_t hash)
{
    const uint8_t prefix = 0x00;
    SHA256_CTX context;
    SHA256_Init (&context);
    SHA256_Update (&context, &prefix, 1);
    SHA256_Update (&context, leaf, size);
    SHA256_Final (hash, &context);
}

//  The 65 bytes in one buffer and one update: 8 % faster than three
//  updates, and this is nearly all a verifier does
void
audit_merkle_node_hash (const audit_merkle_hash_t left, const audit_merkle_hash_t right,
                        audit_merkle_hash_t hash)
{
    uint8_t node [1 + 2 * AUDIT_MERKLE_HASH_SIZE];
    node [0] = 0x01;
    memcpy (node + 1, left, AUDIT_MERKLE_HASH_SIZE);
    memcpy (node + 1 + AUDIT_MERKLE_HASH_SIZE, right, AUDIT_MERKLE_HASH_SIZE);
    SHA256_CTX context;
    SHA256_Init (&context);
    SHA256_Update (&context, node, sizeof node);
    SHA256_Final (hash, &context);
}

void
audit_merkle_empty_hash (audit_merkle_hash_t hash)
{
    SHA256_CTX context;
    SHA256_Init (&context);
    SHA256_Final (hash, &context);
}

//  The level of the highest set bit of value (> 0)
static unsigned
s_top_level (uint64_t value)
{
    return 63 - (unsigned) __builtin_clzll (value);
}

//  The largest power of two below width (> 1): RFC 9162's k
static uint64_t
s_split (uint64_t width)
{
    return (uint64_t) 1 << s_top_level (width - 1);
}

//  The hash of leaves [lo, hi), lo < hi, lo aligned as the file's head
//  says: the complete subtrees of hi - lo's bits, folded from the right
static int
s_range_hash (uint64_t lo, uint64_t hi, audit_merkle_subtree_fn *subtree, void *arg,
              audit_merkle_hash_t hash)
{
    uint64_t width = hi - lo;
    uint64_t end = hi;
    audit_merkle_hash_t part;
    bool first = true;
    while (width) {
        unsigned level = (unsigned) __builtin_ctzll (width);
        end -= (uint64_t) 1 << level;
        if (subtree (arg, level, end >> level, first? hash: part) != 0)
            return -1;
        if (!first)
            audit_merkle_node_hash (part, hash, hash);
        first = false;
        width &= width - 1;
    }
    return 0;
}

//  Proofs are gathered root downward; RFC 9162 lists them leaf upward
static void
s_reverse (audit_merkle_hash_t *proof, size_t count)
{
    for (size_t low = 0, high = count; low + 1 < high; low++, high--) {
        audit_merkle_hash_t swap;
        memcpy (swap, proof [low], sizeof swap);
        memcpy (proof [low], proof [high - 1], sizeof swap);
        memcpy (proof [high - 1], swap, sizeof swap);
    }
}

// ---------------------------------------------------------------------
//  The frontier

void
audit_merkle_frontier_init (audit_merkle_frontier_t *self)
{
    memset (self, 0, sizeof *self);
}

int
audit_merkle_frontier_load (audit_merkle_frontier_t *self, uint64_t size,
                            audit_merkle_subtree_fn *subtree, void *arg)
{
    audit_merkle_frontier_t loaded = { .size = size };
    uint64_t start = 0;
    size_t count = 0;
    for (int level = 63; level >= 0; level--) {
        if (!(size >> level & 1))
            continue;
        if (subtree (arg, (unsigned) level, start >> level, loaded.hashes [count++]) != 0)
            return -1;
        start += (uint64_t) 1 << level;
    }
    *self = loaded;
    return 0;
}

int
audit_merkle_frontier_append (audit_merkle_frontier_t *self, const audit_merkle_hash_t leaf_hash,
                              audit_merkle_completed_fn *completed, void *arg)
{
    if (self->size == UINT64_MAX)
        return -1;
    //  The trailing ones of size are the subtrees this leaf completes
    unsigned merges = (unsigned) __builtin_ctzll (~self->size);
    size_t count = (size_t) __builtin_popcountll (self->size);
    audit_merkle_hash_t hash;
    memcpy (hash, leaf_hash, sizeof hash);
    if (completed && completed (arg, 0, self->size, hash) != 0)
        return -1;
    for (unsigned level = 1; level <= merges; level++) {
        audit_merkle_node_hash (self->hashes [count - level], hash, hash);
        if (completed && completed (arg, level, self->size >> level, hash) != 0)
            return -1;
    }
    memcpy (self->hashes [count - merges], hash, sizeof hash);
    self->size++;
    return 0;
}

void
audit_merkle_frontier_root (const audit_merkle_frontier_t *self, audit_merkle_hash_t root)
{
    size_t count = (size_t) __builtin_popcountll (self->size);
    if (count == 0) {
        audit_merkle_empty_hash (root);
        return;
    }
    memcpy (root, self->hashes [count - 1], AUDIT_MERKLE_HASH_SIZE);
    for (size_t index = count - 1; index-- > 0; )
        audit_merkle_node_hash (self->hashes [index], root, root);
}

// ---------------------------------------------------------------------
//  Proofs

int
audit_merkle_root (uint64_t size, audit_merkle_subtree_fn *subtree, void *arg,
                   audit_merkle_hash_t root)
{
    if (size == 0) {
        audit_merkle_empty_hash (root);
        return 0;
    }
    return s_range_hash (0, size, subtree, arg, root);
}

//  RFC 9162 2.1.3.1 PATH (m, D[n]), walked from the root
int
audit_merkle_inclusion (uint64_t index, uint64_t size, audit_merkle_subtree_fn *subtree,
                        void *arg, audit_merkle_hash_t *proof, size_t *count)
{
    if (index >= size)
        return -1;
    uint64_t lo = 0, hi = size;
    size_t found = 0;
    while (hi - lo > 1) {
        uint64_t mid = lo + s_split (hi - lo);
        int rc = index < mid
            ? s_range_hash (mid, hi, subtree, arg, proof [found])
            : s_range_hash (lo, mid, subtree, arg, proof [found]);
        if (rc != 0)
            return -1;
        found++;
        if (index < mid)
            hi = mid;
        else
            lo = mid;
    }
    s_reverse (proof, found);
    *count = found;
    return 0;
}

//  RFC 9162 2.1.4.1 SUBPROOF (m, D[n], b), walked from the root
int
audit_merkle_consistency (uint64_t from_size, uint64_t size, audit_merkle_subtree_fn *subtree,
                          void *arg, audit_merkle_hash_t *proof, size_t *count)
{
    if (from_size == 0 || from_size > size)
        return -1;
    uint64_t lo = 0, hi = size;
    size_t found = 0;
    bool whole = true;              //  b: the old tree is this whole subtree
    while (from_size < hi) {
        uint64_t mid = lo + s_split (hi - lo);
        int rc = from_size <= mid
            ? s_range_hash (mid, hi, subtree, arg, proof [found])
            : s_range_hash (lo, mid, subtree, arg, proof [found]);
        if (rc != 0)
            return -1;
        found++;
        if (from_size <= mid)
            hi = mid;
        else {
            lo = mid;
            whole = false;
        }
    }
    if (!whole && s_range_hash (lo, hi, subtree, arg, proof [found++]) != 0)
        return -1;
    s_reverse (proof, found);
    *count = found;
    return 0;
}

// ---------------------------------------------------------------------
//  Verification, RFC 9162 2.1.3.2 and 2.1.4.2, step for step

//  Shift fn and sn right while fn is even and not zero (steps "until
//  either LSB(fn) is set or fn is 0")
static void
s_shift_even (uint64_t *fn, uint64_t *sn)
{
    if (*fn == 0)
        return;
    unsigned shift = (unsigned) __builtin_ctzll (*fn);
    *fn >>= shift;
    *sn >>= shift;
}

int
audit_merkle_inclusion_verify (uint64_t index, uint64_t size, const audit_merkle_hash_t leaf_hash,
                               const audit_merkle_hash_t *proof, size_t count,
                               const audit_merkle_hash_t root)
{
    if (index >= size)
        return -1;
    uint64_t fn = index, sn = size - 1;
    audit_merkle_hash_t r;
    memcpy (r, leaf_hash, sizeof r);
    for (size_t at = 0; at < count; at++) {
        if (sn == 0)
            return -1;
        //  Which side the proof's hash is on, chosen without a branch:
        //  per level it is a coin toss no predictor learns
        bool on_left = (fn & 1) || fn == sn;
        const uint8_t *left = on_left? proof [at]: r;
        const uint8_t *right = on_left? r: proof [at];
        audit_merkle_node_hash (left, right, r);
        if (on_left && !(fn & 1))
            s_shift_even (&fn, &sn);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp (r, root, sizeof r) == 0? 0: -1;
}

int
audit_merkle_consistency_verify (uint64_t from_size, uint64_t size,
                                 const audit_merkle_hash_t from_root, const audit_merkle_hash_t root,
                                 const audit_merkle_hash_t *proof, size_t count)
{
    if (from_size == 0 || from_size > size)
        return -1;
    if (from_size == size)
        return count == 0 && memcmp (from_root, root, AUDIT_MERKLE_HASH_SIZE) == 0? 0: -1;
    if (count == 0)
        return -1;
    //  Step 2: a power-of-two old tree is a subtree of the new one, its
    //  root the proof's implicit first hash
    bool implicit = (from_size & (from_size - 1)) == 0;
    uint64_t fn = from_size - 1, sn = size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    audit_merkle_hash_t fr, sr;
    memcpy (fr, implicit? from_root: proof [0], sizeof fr);
    memcpy (sr, fr, sizeof sr);
    for (size_t at = implicit? 0: 1; at < count; at++) {
        if (sn == 0)
            return -1;
        if ((fn & 1) || fn == sn) {
            audit_merkle_node_hash (proof [at], fr, fr);
            audit_merkle_node_hash (proof [at], sr, sr);
            if (!(fn & 1))
                s_shift_even (&fn, &sn);
        }
        else
            audit_merkle_node_hash (sr, proof [at], sr);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp (fr, from_root, sizeof fr) == 0
                   && memcmp (sr, root, sizeof sr) == 0? 0: -1;
}
