/*  =========================================================================
    ctl_dbverify - auditctl verify --db: an operator's check of a data
    directory, with the workers stopped

    For every organisation, every event of audit.db is rendered into its
    leaf (audit_render, the one rendering) and compared with the leaf hash
    the store keeps at its log_index; an index whose event is gone must be
    one retention deleted (its leaf says so). The stored leaves, in
    log_index order, are then folded into the tree, and at each signed
    checkpoint's size its root must be the one signed, and the note's
    signature must verify with the key; every subtree hash the store keeps
    (what proofs are made from) must be that of its leaves. The first organisation and
    log_index (or checkpoint) that differs is named.
    ========================================================================= */

#ifndef CTL_DBVERIFY_H_INCLUDED
#define CTL_DBVERIFY_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Verify the stores in dir; key is a verifier key (text or file), or NULL
//  for the signer key file AUDIT_SIGNING_KEY_FILE names. An exit code:
//  0 all verifies, 1 the first difference printed, 2 no key or no store.
int
    ctl_dbverify_run (const char *dir, const char *key, FILE *out, bool json);

#ifdef __cplusplus
}
#endif

#endif
