/*  =========================================================================
    audit_logsign - signing the organisations' checkpoints into the store
    ========================================================================= */

#include "audit_logsign.h"
#include "audit_checkpoint.h"
#include "audit_log.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

//  Sign (org_id, size, root) and keep it; the kept note into note
static int
s_sign (audit_store_t *store, const audit_signer_t *signer, const char *org_id, uint64_t size,
        const audit_merkle_hash_t root, char *note, size_t note_size)
{
    char text [AUDIT_CHECKPOINT_TEXT_SIZE];
    int len = audit_checkpoint_format (org_id, size, root, text);
    char signed_note [AUDIT_STORE_NOTE_MAX];
    if (len < 0 || audit_signer_sign (signer, text, (size_t) len, signed_note,
                                      sizeof signed_note) < 0) {
        audit_log_error ("msg=\"cannot sign a checkpoint\" org=%s size=%llu", org_id,
                         (unsigned long long) size);
        return -1;
    }
    int rc = audit_store_checkpoint_put (store, org_id, size, root, signed_note, note, note_size);
    if (rc == 0)
        snprintf (note, note_size, "%s", signed_note);
    return rc < 0? -1: 0;
}

int
audit_logsign_org (audit_store_t *store, const audit_signer_t *signer, const char *org_id,
                   char *note, size_t note_size, uint64_t *size)
{
    assert (store && signer && org_id);
    if (audit_store_log_size (store, org_id, size) != 0)
        return -1;
    if (*size == 0)
        return 1;
    uint64_t signed_size = 0;
    int rc = audit_store_checkpoint_get (store, org_id, *size, note, note_size, &signed_size);
    if (rc <= 0)
        return rc;                      //  signed already, or failed
    audit_merkle_hash_t root;
    if (audit_store_log_root (store, org_id, *size, root) != 0)
        return -1;
    return s_sign (store, signer, org_id, *size, root, note, note_size);
}

typedef struct {
    audit_store_t *store;
    const audit_signer_t *signer;
    size_t max, done;
    int rc;
} s_due_t;

static int
s_due_one (const char *org_id, uint64_t size, void *arg)
{
    s_due_t *due = (s_due_t *) arg;
    audit_merkle_hash_t root;
    char note [AUDIT_STORE_NOTE_MAX];
    if (audit_store_log_root (due->store, org_id, size, root) != 0
    ||  s_sign (due->store, due->signer, org_id, size, root, note, sizeof note) != 0)
        due->rc = -1;
    else
        due->done++;
    return due->done >= due->max;
}

int
audit_logsign_due (audit_store_t *store, const audit_signer_t *signer, int64_t before_ms,
                   size_t max, size_t *signed_count)
{
    assert (store && signer);
    s_due_t due = { store, signer, max, 0, 0 };
    *signed_count = 0;
    if (max == 0)
        return 0;
    int rc = audit_store_checkpoint_due (store, before_ms, s_due_one, &due);
    *signed_count = due.done;
    return rc == 0 && due.rc == 0? 0: -1;
}

audit_signer_t *
audit_logsign_signer (const char *path)
{
    char reason [256] = "";
    audit_signer_t *signer = path && *path
                           ? audit_signer_load (path, AUDIT_LOGSIGN_KEY_NAME, reason, sizeof reason)
                           : NULL;
    if (!signer)
        audit_log_error ("msg=\"no log signing key\" file=%s reason=\"%s\"", path? path: "",
                         path && *path? reason: "AUDIT_SIGNING_KEY_FILE is not set");
    return signer;
}
