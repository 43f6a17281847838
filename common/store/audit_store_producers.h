/*  =========================================================================
    audit_store_producers - each producer's acknowledgement state, kept in
    audit.db (contract: "Acknowledgements")

    The ingest writer holds the state of every producer it follows and
    writes the rows a batch changed in the same audit.db transaction as
    the batch's events (audit_store_write_each), so that an acknowledged
    seq is never ahead of the rows and the counters are never apart from
    them. It reads them back at start; the query worker reads them for
    stats.producers.
    ========================================================================= */

#ifndef AUDIT_STORE_PRODUCERS_H_INCLUDED
#define AUDIT_STORE_PRODUCERS_H_INCLUDED

#include "audit_ident.h"
#include "audit_record.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  One producer's state, cumulative since the data directory was created
struct _audit_store_producer_t {
    audit_ident_t producer_id;
    uint64_t acked_seq;             //  every seq 1..acked_seq of the run settled
    uint64_t last_seq;              //  highest seq seen in the run (gap counting)
    uint64_t runs;                  //  runs started after the first
    uint64_t gaps;                  //  seqs skipped on arrival
    uint64_t rejected [AUDIT_REASON_COUNT];
    int64_t last_seen_ms;           //  when its last event arrived
    //  The event_id (or message_id) of the run's seq 1, "" when not known:
    //  the same event resent is not a new run
    char run_first [AUDIT_UUID_TEXT_LEN + 1];
};

//  Receives one producer's state
typedef void (audit_store_producer_fn) (const audit_store_producer_t *producer, void *arg);

//  Visit every producer's state, in producer_id order. 0 or -1.
int
    audit_store_producers_read (audit_store_t *self, audit_store_producer_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
