/*  =========================================================================
    ctl_bundle - the proof bundle of an export: its tree walk
    (ctl_bundle_io.c reads and writes its JSON)
    ========================================================================= */

#include "ctl_bundle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ctl_bundle_t *
ctl_bundle_new (void)
{
    return (ctl_bundle_t *) calloc (1, sizeof (ctl_bundle_t));
}

void
ctl_bundle_destroy (ctl_bundle_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_bundle_t *self = *self_p;
    free (self->note);
    free (self->key);
    free (self->indices);
    free (self->leaves);
    free (self->subtrees);
    free (self->consistency);
    free (self);
    *self_p = NULL;
}

int
ctl_bundle_reserve (ctl_bundle_t *self, size_t count)
{
    free (self->indices);
    free (self->leaves);
    self->indices = (uint64_t *) malloc ((count? count: 1) * sizeof *self->indices);
    self->leaves = (audit_merkle_hash_t *) malloc ((count? count: 1) * sizeof *self->leaves);
    self->count = self->indices && self->leaves? count: 0;
    return self->indices && self->leaves? 0: -1;
}

int
ctl_bundle_add_subtree (ctl_bundle_t *self, uint64_t first, uint64_t end,
                        const audit_merkle_hash_t hash)
{
    if (self->subtree_count == self->subtree_max) {
        size_t max = self->subtree_max? 2 * self->subtree_max: 64;
        ctl_bundle_subtree_t *grown = (ctl_bundle_subtree_t *)
            realloc (self->subtrees, max * sizeof *grown);
        if (!grown)
            return -1;
        self->subtrees = grown;
        self->subtree_max = max;
    }
    ctl_bundle_subtree_t *subtree = &self->subtrees [self->subtree_count++];
    subtree->first = first;
    subtree->end = end;
    memcpy (subtree->hash, hash, AUDIT_MERKLE_HASH_SIZE);
    return 0;
}

//  The first position in [from, to) whose index is at least value
static size_t
s_lower (const uint64_t *indices, size_t from, size_t to, uint64_t value)
{
    while (from < to) {
        size_t mid = from + (to - from) / 2;
        if (indices [mid] < value)
            from = mid + 1;
        else
            to = mid;
    }
    return from;
}

long
ctl_bundle_find (const ctl_bundle_t *self, uint64_t log_index, size_t hint)
{
    if (hint < self->count && self->indices [hint] == log_index)
        return (long) hint;
    size_t at = s_lower (self->indices, 0, self->count, log_index);
    return at < self->count && self->indices [at] == log_index? (long) at: -1;
}

typedef struct {
    const ctl_bundle_t *bundle;
    ctl_bundle_gap_fn *gap;
    void *arg;
} s_walk_t;

//  The largest power of two below width (at least 2): RFC 9162's split
static uint64_t
s_split (uint64_t width)
{
    return 1ull << (63 - __builtin_clzll (width - 1));
}

//  The hash of the node [first, end), whose exported leaves are the
//  bundle's positions [from, to); left: it is its parent's left child
static int
s_node (const s_walk_t *walk, uint64_t first, uint64_t end, size_t from, size_t to, bool left,
        audit_merkle_hash_t hash)
{
    const ctl_bundle_t *bundle = walk->bundle;
    if (from == to) {
        //  Its sibling holds an exported leaf, whose proof holds this node
        uint64_t leaf = left? bundle->indices [to]: bundle->indices [from - 1];
        return walk->gap (walk->arg, first, end, leaf, hash);
    }
    if (end - first == 1) {
        memcpy (hash, bundle->leaves [from], AUDIT_MERKLE_HASH_SIZE);
        return 0;
    }
    uint64_t mid = first + s_split (end - first);
    size_t at = s_lower (bundle->indices, from, to, mid);
    audit_merkle_hash_t left_hash, right_hash;
    if (s_node (walk, first, mid, from, at, true, left_hash) != 0
    ||  s_node (walk, mid, end, at, to, false, right_hash) != 0)
        return -1;
    audit_merkle_node_hash (left_hash, right_hash, hash);
    return 0;
}

int
ctl_bundle_walk (const ctl_bundle_t *self, ctl_bundle_gap_fn *gap, void *arg,
                 audit_merkle_hash_t root)
{
    if (self->size == 0)
        return -1;
    for (size_t at = 0; at < self->count; at++)
        if (self->indices [at] >= self->size || (at > 0 && self->indices [at] <= self->indices [at - 1]))
            return -1;
    if (self->count == 0)
        return gap (arg, 0, self->size, UINT64_MAX, root);
    s_walk_t walk = { self, gap, arg };
    return s_node (&walk, 0, self->size, 0, self->count, true, root);
}

typedef struct {
    const ctl_bundle_t *bundle;
    size_t next;
    char *error;
    size_t error_size;
} s_taken_t;

//  The bundle's next subtree, which must be the one the walk meets
static int
s_take (void *arg, uint64_t first, uint64_t end, uint64_t leaf, audit_merkle_hash_t hash)
{
    (void) leaf;
    s_taken_t *taken = (s_taken_t *) arg;
    const ctl_bundle_t *bundle = taken->bundle;
    const ctl_bundle_subtree_t *subtree = taken->next < bundle->subtree_count
                                        ? &bundle->subtrees [taken->next]: NULL;
    //  A subtree read from a file knows no range (0, 0): the walk gives it
    if (!subtree || (subtree->end && (subtree->first != first || subtree->end != end))) {
        snprintf (taken->error, taken->error_size, "subtree_hashes: hash %zu should be of"
                  " [%llu, %llu), and there %s", taken->next + 1, (unsigned long long) first,
                  (unsigned long long) end, subtree? "is another": "is none");
        return -1;
    }
    memcpy (hash, bundle->subtrees [taken->next++].hash, AUDIT_MERKLE_HASH_SIZE);
    return 0;
}

int
ctl_bundle_root (const ctl_bundle_t *self, audit_merkle_hash_t root, char *error,
                 size_t error_size)
{
    s_taken_t taken = { self, 0, error, error_size };
    snprintf (error, error_size, "leaves: not ascending, or past the size");
    if (ctl_bundle_walk (self, s_take, &taken, root) != 0)
        return -1;
    if (taken.next != self->subtree_count) {
        snprintf (error, error_size, "subtree_hashes: %zu more than the tree needs",
                  self->subtree_count - taken.next);
        return -1;
    }
    return 0;
}

const ctl_bundle_consistency_t *
ctl_bundle_consistency_find (const ctl_bundle_t *self, uint64_t from_size)
{
    for (size_t at = 0; at < self->consistency_count; at++)
        if (self->consistency [at].from_size == from_size)
            return &self->consistency [at];
    return NULL;
}

int
ctl_bundle_add_consistency (ctl_bundle_t *self, uint64_t from_size,
                            const audit_merkle_hash_t *hashes, size_t count)
{
    if (count > AUDIT_MERKLE_PROOF_MAX)
        return -1;
    ctl_bundle_consistency_t *grown = (ctl_bundle_consistency_t *)
        realloc (self->consistency, (self->consistency_count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    self->consistency = grown;
    ctl_bundle_consistency_t *proof = &grown [self->consistency_count++];
    proof->from_size = from_size;
    proof->count = count;
    memcpy (proof->hashes, hashes, count * sizeof *hashes);
    return 0;
}
