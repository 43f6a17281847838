/*  =========================================================================
    query_log - checkpoint, proof and log_key
    ========================================================================= */

#include "query_log.h"

#include "audit_log.h"
#include "audit_logsign.h"
#include "audit_store_log.h"

int
query_log_sign (query_call_t *call, char *note, size_t size)
{
    if (!call->shared->signer) {
        query_reply_fail (call->reply, AUDIT_ERROR_UNAVAILABLE, "no log signing key");
        return -1;
    }
    uint64_t signed_size = 0;
    pthread_mutex_lock (&call->shared->writer_lock);
    int rc = audit_logsign_org (call->shared->writer, call->shared->signer,
                                call->request->org_id, note, size, &signed_size);
    pthread_mutex_unlock (&call->shared->writer_lock);
    if (rc < 0)
        query_reply_fail (call->reply, AUDIT_ERROR_UNAVAILABLE, "the log cannot be signed now");
    return rc;
}

//  The note of a size the service signed, or the newest (signing one when
//  there is none yet)
void
query_log_checkpoint (query_call_t *call)
{
    const query_request_t *request = call->request;
    char note [AUDIT_STORE_NOTE_MAX];
    uint64_t size = 0;
    int rc = audit_store_checkpoint_get (call->store, request->org_id, request->size, note,
                                         sizeof note, &size);
    if (rc == 1 && !(request->present & QUERY_ARG_BIT (QUERY_ARG_SIZE)))
        rc = query_log_sign (call, note, sizeof note);
    if (rc < 0 && !call->reply->failed)
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the store could not be read");
    if (rc == 1)
        query_reply_fail (call->reply, AUDIT_ERROR_NOT_FOUND, "no checkpoint of that size");
    if (rc != 0)
        return;
    query_reply_ok (call->reply, 1);
    query_reply_kv_str (call->reply, "checkpoint", note);
}

//  The proof asked for, of a size the service signed: 0, 1 not found, -1
static int
s_proof (query_call_t *call, audit_merkle_hash_t *hashes, size_t *count)
{
    const query_request_t *request = call->request;
    uint64_t signed_size;
    int rc = audit_store_checkpoint_get (call->store, request->org_id, request->size, NULL, 0,
                                         &signed_size);
    if (rc != 0 || request->size == 0)
        return rc == 0? 1: rc;
    if (request->present & QUERY_ARG_BIT (QUERY_ARG_LOG_INDEX))
        return audit_store_log_inclusion (call->store, request->org_id, request->log_index,
                                          request->size, hashes, count);
    return audit_store_log_consistency (call->store, request->org_id, request->from_size,
                                        request->size, hashes, count);
}

void
query_log_proof (query_call_t *call)
{
    query_arg_mask_t which = call->request->present
                           & (QUERY_ARG_BIT (QUERY_ARG_LOG_INDEX) | QUERY_ARG_BIT (QUERY_ARG_FROM_SIZE));
    if (which != QUERY_ARG_BIT (QUERY_ARG_LOG_INDEX) && which != QUERY_ARG_BIT (QUERY_ARG_FROM_SIZE)) {
        query_reply_fail (call->reply, AUDIT_ERROR_BAD_REQUEST,
                          "proof needs either log_index or from_size");
        return;
    }
    audit_merkle_hash_t hashes [AUDIT_MERKLE_PROOF_MAX];
    size_t count = 0;
    int rc = s_proof (call, hashes, &count);
    if (rc != 0) {
        if (rc == 1)
            query_reply_fail (call->reply, AUDIT_ERROR_NOT_FOUND,
                              "no signed size of that, or the index is past it");
        else
            query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the proof could not be read");
        return;
    }
    query_reply_ok (call->reply, 1);
    msgpack_packer *packer = &call->reply->packer;
    query_reply_str (call->reply, "hashes");
    msgpack_pack_array (packer, (uint32_t) count);
    for (size_t at = 0; at < count; at++) {
        msgpack_pack_bin (packer, AUDIT_MERKLE_HASH_SIZE);
        msgpack_pack_bin_body (packer, hashes [at], AUDIT_MERKLE_HASH_SIZE);
    }
}

void
query_log_key (query_call_t *call)
{
    if (!call->shared->signer) {
        query_reply_fail (call->reply, AUDIT_ERROR_UNAVAILABLE, "no log signing key");
        return;
    }
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    audit_note_verifier_format (audit_signer_verifier (call->shared->signer), key);
    query_reply_ok (call->reply, 1);
    query_reply_kv_str (call->reply, "key", key);
}
