/*  =========================================================================
    ctl_logfetch - what auditctl asks the service about an organisation's
    log: its newest checkpoint, proofs, and the subtrees of a proof bundle

    Only the contract's ops: checkpoint, proof (inclusion and
    consistency). The subtrees a bundle needs are read out of inclusion
    proofs: each unexported subtree of the walk is the sibling of a node
    on the path of its nearest exported leaf, so that leaf's proof holds
    it. A contiguous export needs two proofs, one per gap edge in general;
    the last two proofs are kept, as neighbouring subtrees share them.
    ========================================================================= */

#ifndef CTL_LOGFETCH_H_INCLUDED
#define CTL_LOGFETCH_H_INCLUDED

#include "audit_merkle.h"
#include "ctl_bundle.h"
#include "ctl_client.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Who asks, and about which organisation
typedef struct {
    ctl_client_t *client;
    const char *token;
    const char *org_id;
} ctl_logfetch_t;

//  The newest signed checkpoint of the organisation (heap, caller frees)
//  into *note. An exit code (ctl_client.h); errors are printed.
int
    ctl_logfetch_checkpoint (const ctl_logfetch_t *self, char **note);

//  The verifier key the service publishes (log_key) into key
//  (AUDIT_NOTE_VERIFIER_TEXT_SIZE bytes). An exit code.
int
    ctl_logfetch_key (const ctl_logfetch_t *self, char *key);

//  The inclusion proof of log_index in the tree of size (a signed size)
//  into proof (AUDIT_MERKLE_PROOF_MAX), *count of them. An exit code.
int
    ctl_logfetch_inclusion (const ctl_logfetch_t *self, uint64_t log_index, uint64_t size,
                            audit_merkle_hash_t *proof, size_t *count);

//  The consistency proof from from_size to size. An exit code.
int
    ctl_logfetch_consistency (const ctl_logfetch_t *self, uint64_t from_size, uint64_t size,
                              audit_merkle_hash_t *proof, size_t *count);

//  Fill bundle's subtrees (its indices, leaves and size set) from
//  inclusion proofs of the tree whose signed root is root; the root the
//  walk computes into computed. An exit code.
int
    ctl_logfetch_subtrees (const ctl_logfetch_t *self, ctl_bundle_t *bundle,
                           const audit_merkle_hash_t root, audit_merkle_hash_t computed);

//  The hash the inclusion proof of leaf (in the tree of size) holds for
//  the node [first, end). 0, or -1 when that node is not on its path.
int
    ctl_logfetch_proof_node (uint64_t leaf, uint64_t size, const audit_merkle_hash_t *proof,
                             size_t count, uint64_t first, uint64_t end, audit_merkle_hash_t hash);

#ifdef __cplusplus
}
#endif

#endif
