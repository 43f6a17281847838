/*  =========================================================================
    query_tally - the error replies of the query worker, counted by code

    A request the worker refuses (a bad request, a missing or bad token, a
    token that does not fit, an overload) is an event an operator and an
    incident responder want to see in numbers, not only in log lines. Each
    error reply adds one to the persistent counter query.errors.<code>,
    which stats reports as query: {errors: {<code>: uint}}.

    Any thread counts (the server's own replies too); a worker thread
    writes the counts to audit.db through the shared writer at most every
    QUERY_TALLY_FLUSH_MS, outside the tally's lock, so that counting never
    waits for the database.
    ========================================================================= */

#ifndef QUERY_TALLY_H_INCLUDED
#define QUERY_TALLY_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>

#include "audit_counters.h"
#include "audit_proto.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The counts reach audit.db at least this often while there are any
#define QUERY_TALLY_FLUSH_MS    1000

typedef struct _query_tally_t query_tally_t;

//  An empty tally. NULL on allocation failure.
query_tally_t *
    query_tally_new (void);

//  Destroy the tally (counts not yet written are lost); safe twice.
void
    query_tally_destroy (query_tally_t **self_p);

//  Count one error reply. Any thread.
void
    query_tally_error (query_tally_t *self, audit_error_t error);

//  Count n of a counter of its own (query.curve_refused). Any thread.
void
    query_tally_count (query_tally_t *self, audit_counter_t counter, int64_t n);

//  Write the counts to store, under store_lock, when QUERY_TALLY_FLUSH_MS
//  have passed since the last write (now_ms is monotonic), or at once when
//  force. Counts that could not be written are kept for the next time.
//  0, or -1 when a write failed.
int
    query_tally_flush (query_tally_t *self, audit_store_t *store,
                       pthread_mutex_t *store_lock, int64_t now_ms, bool force);

#ifdef __cplusplus
}
#endif

#endif
