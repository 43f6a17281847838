/*  =========================================================================
    query_log - the organisation's log as evidence: checkpoint, proof and
    log_key (contract: "The organisation's log: order, checkpoints, proofs")

    Proofs are read from this thread's read-only store; a checkpoint that
    does not exist yet is signed through the shared maintainer store, so
    that an organisation can check its log before the ingest worker's next
    signing round.
    ========================================================================= */

#ifndef QUERY_LOG_H_INCLUDED
#define QUERY_LOG_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer checkpoint: {ok, checkpoint: str}.
void
    query_log_checkpoint (query_call_t *call);

//  Answer proof: {ok, hashes: [bin]}.
void
    query_log_proof (query_call_t *call);

//  Answer log_key: {ok, key: str}.
void
    query_log_key (query_call_t *call);

//  Sign the organisation's log at its current size (unless signed) into
//  note (AUDIT_STORE_NOTE_MAX bytes). 0, 1 when it has no events, -1
//  (the reply is failed).
int
    query_log_sign (query_call_t *call, char *note, size_t size);

#ifdef __cplusplus
}
#endif

#endif
