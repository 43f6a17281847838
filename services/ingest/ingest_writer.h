/*  =========================================================================
    ingest_writer - the one thread that writes to the stores

    Decoding stays on the ingest actor's thread; this thread only runs
    transactions, so the two cores each do one job. It owns the store:
    each batch's counter deltas are committed in the batch's own audit.db
    transaction, with its events; only the deltas of a batch given up for
    lost wait for the flush, at least once a second (INGEST_WRITER_FLUSH_MS).

    Commands on its pipe (zsock_send picture):
      "BATCH" ingest_batch_t *  ("sp") settle and write the batch, retrying
                                until it commits (never dropped), then send
                                "BATCH" back ("sp8"), with what its
                                producers settled when it committed, so
                                that the actor acknowledges and reuses it
      "STOP" NULL            ("sp") stop retrying: a batch that cannot
                                commit now is given back unsettled; replies
                                "STOPPED" NULL count ("sp8"), the records
                                given up (the exit status says so)
      $TERM                  flush the counters, close the store, stop

    And unasked, "DEGRADED" / "RESUMED" NULL 0 ("sp8") when a commit first
    fails (the actor stops reading its SUB socket: backpressure; the
    producers' outboxes hold the events) and when one commits again.

    Once a second it signs the checkpoints that are due (audit_logsign):
    a growing log is signed at least once a checkpoint interval; every
    INGEST_WRITER_BEAT_MS it writes its heartbeat (audit_store_workers).
    ========================================================================= */

#ifndef INGEST_WRITER_H_INCLUDED
#define INGEST_WRITER_H_INCLUDED

#include <czmq.h>

#include "audit_signer.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Producers whose settled seq and gaps are followed, at most; events of
//  more are stored and counted, but neither settle nor count gaps
#define INGEST_WRITER_PRODUCERS_MAX 10000
//  Counters reach audit.db at least this often
#define INGEST_WRITER_FLUSH_MS   1000
//  How long readers get to leave the last commit's snapshot before the
//  checkpoint after it (see s_housekeep)
#define INGEST_WRITER_QUIET_MS   10
//  A failed transaction is retried after this long, doubled each time up
//  to the most, so that ingest resumes within that of space returning
#define INGEST_WRITER_RETRY_MS      100
#define INGEST_WRITER_RETRY_MAX_MS  1000

//  How often the writer looks for organisations whose checkpoint is due,
//  and how many it signs at a time (the rest wait a round: a batch waits
//  for no more than that)
#define INGEST_WRITER_SIGN_MS       1000
//  How often the writer writes its heartbeat (health says "up" for 10 s)
#define INGEST_WRITER_BEAT_MS       2000
#define INGEST_WRITER_SIGN_MAX      64

//  Start the writer; ownership of the store moves to it. With signer
//  (borrowed; it must outlive the writer), it signs the checkpoint of
//  every organisation whose log grew, at most once per interval_ms each.
//  NULL when its thread cannot set up (the reason is logged; the store is
//  freed).
zactor_t *
    ingest_writer_new (audit_store_t **store_p, const audit_signer_t *signer, int interval_ms);

#ifdef __cplusplus
}
#endif

#endif
