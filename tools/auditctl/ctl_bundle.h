/*  =========================================================================
    ctl_bundle - the proof bundle of an export: what an offline verifier
    needs to check every exported row against the export's signed
    checkpoint (proto/PROTOCOL.md, "The proof bundle of an export")

    The bundle holds the signed note, the leaf hash of every exported
    log_index, and the hashes of the subtrees that cover every index below
    the checkpoint's size that the export does not hold: the fewest nodes
    of the RFC 9162 tree whose leaves are all unexported. From those the
    verifier recomputes the root and compares it with the signed one, so
    the leaf hashes are as good as signed; each row's own leaf is then
    compared with the bundle's at its log_index, which names the first row
    that differs. Far smaller than a proof per row: 32 bytes a row and a
    few hashes per gap.

    The walk (ctl_bundle_walk) is the one definition of which subtrees,
    in which order: the builder fills them in as it meets them, the
    verifier takes them in the same order.
    ========================================================================= */

#ifndef CTL_BUNDLE_H_INCLUDED
#define CTL_BUNDLE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_merkle.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The bundle's format name and version, its "bundle" member
#define CTL_BUNDLE_FORMAT   "semafore-audit-proof-bundle/1"

//  A subtree of the tree: leaves [first, end), and its hash (a bundle read
//  from a file holds hashes only, first and end 0: the walk says which)
typedef struct {
    uint64_t first, end;
    audit_merkle_hash_t hash;
} ctl_bundle_subtree_t;

//  A consistency proof from an earlier size to the bundle's
typedef struct {
    uint64_t from_size;
    size_t count;
    audit_merkle_hash_t hashes [AUDIT_MERKLE_PROOF_MAX];
} ctl_bundle_consistency_t;

typedef struct {
    char org_id [AUDIT_IDENT_MAX + 1];
    uint64_t size;                      //  the checkpoint's
    char *note;                         //  the signed checkpoint (heap)
    char *key;                          //  the verifier key text, for the reader (heap)
    size_t count;                       //  exported indices
    uint64_t *indices;                  //  ascending, each once
    audit_merkle_hash_t *leaves;        //  the leaf hash of each
    size_t subtree_count, subtree_max;
    ctl_bundle_subtree_t *subtrees;     //  in walk order
    size_t consistency_count;
    ctl_bundle_consistency_t *consistency;
} ctl_bundle_t;

//  Supplies the hash of the unexported subtree [first, end) met by the
//  walk; leaf is an exported index whose inclusion proof holds it (the
//  nearest one in its sibling). 0, or -1 to stop the walk.
typedef int (ctl_bundle_gap_fn) (void *arg, uint64_t first, uint64_t end, uint64_t leaf,
                                 audit_merkle_hash_t hash);

//  An empty bundle. NULL without memory.
ctl_bundle_t *
    ctl_bundle_new (void);

//  Destroy; safe on NULL and twice.
void
    ctl_bundle_destroy (ctl_bundle_t **self_p);

//  Room for count exported indices (indices and leaves), count set. 0 or -1.
int
    ctl_bundle_reserve (ctl_bundle_t *self, size_t count);

//  Append a subtree. 0 or -1.
int
    ctl_bundle_add_subtree (ctl_bundle_t *self, uint64_t first, uint64_t end,
                            const audit_merkle_hash_t hash);

//  The index of log_index in indices, or -1 when the export lacks it;
//  hint, a position where it may be (the one after the last found), is
//  tried first: an export's rows mostly come in log_index order.
long
    ctl_bundle_find (const ctl_bundle_t *self, uint64_t log_index, size_t hint);

//  The root of the tree of size leaves whose exported leaves are the
//  bundle's, the others covered by what gap supplies, into root. With
//  count 0 the one gap is the whole tree. 0, or -1 when gap fails or an
//  index is at or past size.
int
    ctl_bundle_walk (const ctl_bundle_t *self, ctl_bundle_gap_fn *gap, void *arg,
                     audit_merkle_hash_t root);

//  The root from the bundle's own subtrees, taken in walk order (one for
//  each the walk meets, no more). 0, or -1 with a reason when they are not.
int
    ctl_bundle_root (const ctl_bundle_t *self, audit_merkle_hash_t root, char *error,
                     size_t error_size);

//  The consistency proof from from_size, or NULL.
const ctl_bundle_consistency_t *
    ctl_bundle_consistency_find (const ctl_bundle_t *self, uint64_t from_size);

//  Add a consistency proof. 0 or -1.
int
    ctl_bundle_add_consistency (ctl_bundle_t *self, uint64_t from_size,
                                const audit_merkle_hash_t *hashes, size_t count);

//  Write the bundle as JSON to path, atomically (path.tmp, fsync,
//  rename), mode 0600. 0, or -1 with a line on stderr.
int
    ctl_bundle_write (const ctl_bundle_t *self, const char *path);

//  A bundle from its JSON text (len bytes, borrowed during the call). NULL
//  with a reason in error when it is not a bundle of this format.
ctl_bundle_t *
    ctl_bundle_parse (const char *text, size_t len, char *error, size_t error_size);

//  Read a bundle from path. NULL with a reason in error when it cannot be
//  read or is not a bundle of this format.
ctl_bundle_t *
    ctl_bundle_read (const char *path, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
