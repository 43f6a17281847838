/*  =========================================================================
    audit_logsign - signing the organisations' checkpoints into the store

    Whoever signs (the ingest writer once a checkpoint interval while a log
    grows, the query worker at the end of an export, the janitor after a
    pass that deleted events) computes the root of the tree the store
    holds, formats the C2SP checkpoint (audit_checkpoint), signs it
    (audit_signer) and keeps the note (audit_store_checkpoint_put). Two
    signers of one size compute the same root and Ed25519 signs it the
    same way; the store keeps the first note and refuses another root.
    ========================================================================= */

#ifndef AUDIT_LOGSIGN_H_INCLUDED
#define AUDIT_LOGSIGN_H_INCLUDED

#include "audit_signer.h"
#include "audit_store_log.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The name of the key every checkpoint is signed with (its key id
//  depends on it, so it is part of the key file: audit_signer)
#define AUDIT_LOGSIGN_KEY_NAME  "semafore-audit"

//  Sign org_id's log at its current size unless that size is signed, and
//  copy the note of that size into note (note_size bytes, at least
//  AUDIT_STORE_NOTE_MAX), its size into *size. 0, 1 when the organisation
//  has no events, -1 (logged).
int
    audit_logsign_org (audit_store_t *store, const audit_signer_t *signer, const char *org_id,
                       char *note, size_t note_size, uint64_t *size);

//  Sign, at most max of them, the organisations whose log grew past their
//  newest checkpoint and whose newest was signed before before_ms;
//  *signed_count gets how many were signed. 0 or -1.
int
    audit_logsign_due (audit_store_t *store, const audit_signer_t *signer, int64_t before_ms,
                       size_t max, size_t *signed_count);

//  The signer of AUDIT_LOGSIGN_KEY_NAME from the key file at path, created
//  when absent; NULL with the reason logged.
audit_signer_t *
    audit_logsign_signer (const char *path);

#ifdef __cplusplus
}
#endif

#endif
