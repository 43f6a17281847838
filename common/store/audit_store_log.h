/*  =========================================================================
    audit_store_log - the organisation's log as evidence: its Merkle tree,
    proofs from it, and the checkpoints signed over it (contract: "The
    organisation's log: order, checkpoints, proofs")

    The writer extends each organisation's tree in the transaction of its
    events (audit_store_write); these operations read it, on any store,
    and keep the signed notes. A size is signed once: the store refuses a
    second root for a size it holds, so no one can sign two histories of
    the same length through it.

    Return codes: 0 done, 1 not found (an organisation without events, a
    size never signed, an index at or past the size), -1 failure (logged).
    ========================================================================= */

#ifndef AUDIT_STORE_LOG_H_INCLUDED
#define AUDIT_STORE_LOG_H_INCLUDED

#include "audit_merkle.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A signed note: a checkpoint and its one signature line, with room
#define AUDIT_STORE_NOTE_MAX    1024

//  The number of events org_id's log holds: its next log_index.
int
    audit_store_log_size (audit_store_t *self, const char *org_id, uint64_t *size);

//  A number that changes whenever another connection has committed to the
//  audit store since the last call: the same number, and no log grew. The
//  waiting tails look at their logs only when it moves. 0, or -1.
int
    audit_store_log_version (audit_store_t *self, uint64_t *version);

//  The root of org_id's tree of its first size events (size <= its log's).
int
    audit_store_log_root (audit_store_t *self, const char *org_id, uint64_t size,
                          audit_merkle_hash_t root);

//  The RFC 9162 inclusion proof of event index in the tree of size events
//  into proof (AUDIT_MERKLE_PROOF_MAX hashes), *count of them.
int
    audit_store_log_inclusion (audit_store_t *self, const char *org_id, uint64_t index,
                               uint64_t size, audit_merkle_hash_t *proof, size_t *count);

//  The consistency proof from the tree of from_size events to that of size.
int
    audit_store_log_consistency (audit_store_t *self, const char *org_id, uint64_t from_size,
                                 uint64_t size, audit_merkle_hash_t *proof, size_t *count);

//  Keep note, the signed checkpoint of org_id's tree of size events whose
//  root is root. 0 kept; 1 when that size was signed before with the same
//  root (that note is kept, and copied into note_kept); -1 on failure or
//  when it was signed with another root (logged as an error: the tree or
//  the store was changed).
int
    audit_store_checkpoint_put (audit_store_t *self, const char *org_id, uint64_t size,
                                const audit_merkle_hash_t root, const char *note,
                                char *note_kept, size_t kept_size);

//  The signed note of org_id's tree of size events into note (size 0: the
//  newest), and its size into *signed_size.
int
    audit_store_checkpoint_get (audit_store_t *self, const char *org_id, uint64_t size,
                                char *note, size_t note_size, uint64_t *signed_size);

//  Receives an organisation whose log grew past its newest checkpoint; a
//  non-zero return stops the walk.
typedef int (audit_store_log_due_fn) (const char *org_id, uint64_t size, void *arg);

//  Visit every organisation whose log holds more events than its newest
//  checkpoint covers, and whose newest checkpoint was signed before
//  before_ms (or that has none), in one write transaction that fn's
//  audit_store_checkpoint_put calls join. 0 or -1.
int
    audit_store_checkpoint_due (audit_store_t *self, int64_t before_ms,
                                audit_store_log_due_fn *fn, void *arg);

//  ---------------------------------------------------------------------
//  Walks for an operator's check of the whole store (auditctl verify --db,
//  with the workers stopped): every organisation, every stored leaf, every
//  signed checkpoint. A non-zero return of fn stops a walk (which then
//  returns 0).

//  Receives an organisation and the size of its log.
typedef int (audit_store_log_org_fn) (const char *org_id, uint64_t size, void *arg);

//  Visit every organisation, in the order they were first seen. 0 or -1.
int
    audit_store_log_orgs (audit_store_t *self, audit_store_log_org_fn *fn, void *arg);

//  Receives a stored leaf: its index, its hash, and whether its event is
//  kept (false once retention deleted it: the hash stays).
typedef int (audit_store_log_leaf_fn) (uint64_t index, const audit_merkle_hash_t hash,
                                       bool kept, void *arg);

//  Visit org_id's stored leaves in log_index order. 0 or -1.
int
    audit_store_log_leaves (audit_store_t *self, const char *org_id,
                            audit_store_log_leaf_fn *fn, void *arg);

//  Receives a stored subtree hash: the complete subtree (level, index)
//  over leaves [index << level, (index + 1) << level), as audit_merkle
//  names them. Which subtrees an engine keeps is its own business.
typedef int (audit_store_log_node_fn) (unsigned level, uint64_t index,
                                       const audit_merkle_hash_t hash, void *arg);

//  Visit the subtree hashes the store keeps of org_id's tree (what its
//  proofs are made from). 0 or -1.
int
    audit_store_log_nodes (audit_store_t *self, const char *org_id,
                           audit_store_log_node_fn *fn, void *arg);

//  Receives a signed checkpoint: its size, the root it was signed for, its note.
typedef int (audit_store_checkpoint_fn) (uint64_t size, const audit_merkle_hash_t root,
                                         const char *note, void *arg);

//  Visit org_id's signed checkpoints, smallest size first. 0 or -1.
int
    audit_store_checkpoint_each (audit_store_t *self, const char *org_id,
                                 audit_store_checkpoint_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
