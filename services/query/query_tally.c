/*  =========================================================================
    query_tally - the error replies of the query worker, counted by code
    ========================================================================= */

#include "query_tally.h"

#include <czmq.h>

#include "audit_counters.h"
#include "audit_log.h"

struct _query_tally_t {
    pthread_mutex_t lock;               //  over the fields below
    audit_counters_t *counts;           //  not yet written
    audit_counters_t *writing;          //  taken out by the flush under way
    bool flushing;
    int64_t flushed_ms;                 //  monotonic, of the last flush
};

query_tally_t *
query_tally_new (void)
{
    query_tally_t *self = (query_tally_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init (&self->lock, NULL);
    self->counts = audit_counters_new ();
    self->writing = audit_counters_new ();
    if (!self->counts || !self->writing)
        query_tally_destroy (&self);
    return self;
}

void
query_tally_destroy (query_tally_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    query_tally_t *self = *self_p;
    audit_counters_destroy (&self->counts);
    audit_counters_destroy (&self->writing);
    pthread_mutex_destroy (&self->lock);
    free (self);
    *self_p = NULL;
}

void
query_tally_error (query_tally_t *self, audit_error_t error)
{
    assert (self);
    pthread_mutex_lock (&self->lock);
    audit_counters_count_in (self->counts, AUDIT_COUNTER_FAMILY_QUERY_ERRORS,
                             audit_proto_error_code (error), 1);
    pthread_mutex_unlock (&self->lock);
}

void
query_tally_count (query_tally_t *self, audit_counter_t counter, int64_t n)
{
    assert (self);
    pthread_mutex_lock (&self->lock);
    audit_counters_count (self->counts, counter, n);
    pthread_mutex_unlock (&self->lock);
}

//  Swap the counts out for writing when a flush is due and none runs
static bool
s_take (query_tally_t *self, int64_t now_ms, bool force)
{
    pthread_mutex_lock (&self->lock);
    bool due = force || now_ms - self->flushed_ms >= QUERY_TALLY_FLUSH_MS;
    bool take = due && !self->flushing && audit_counters_size (self->counts) > 0;
    if (take) {
        audit_counters_t *counts = self->counts;
        self->counts = self->writing;
        self->writing = counts;
        self->flushing = true;
        self->flushed_ms = now_ms;
    }
    pthread_mutex_unlock (&self->lock);
    return take;
}

int
query_tally_flush (query_tally_t *self, audit_store_t *store,
                   pthread_mutex_t *store_lock, int64_t now_ms, bool force)
{
    assert (self);
    if (!s_take (self, now_ms, force))
        return 0;
    //  self->writing is this thread's until flushing is cleared
    pthread_mutex_lock (store_lock);
    int rc = audit_store_counters_flush (store, self->writing);
    pthread_mutex_unlock (store_lock);
    if (rc != 0)
        audit_log_warn ("msg=\"query counters not saved\" retry_in_ms=%d", QUERY_TALLY_FLUSH_MS);
    pthread_mutex_lock (&self->lock);
    audit_counters_merge (self->counts, self->writing);     //  what was not written
    self->flushing = false;
    pthread_mutex_unlock (&self->lock);
    return rc;
}
