/*  =========================================================================
    ingest_settle - each producer's settled seq, runs, gaps, rejections

    The committed states are a hash of producer id to state; a batch's
    tentative states are copies in an array (with a hash from id to
    position), which is what the store writes and, on commit, is copied
    back over the committed ones.
    ========================================================================= */

#include "ingest_settle.h"

#include <czmq.h>

struct _ingest_settle_t {
    size_t producers_max;
    zhashx_t *committed;                //  producer_id -> audit_store_producer_t *
    zhashx_t *changed_at;               //  producer_id -> position + 1 in changed
    audit_store_producer_t *changed;
    size_t changed_count, changed_capacity;
};

ingest_settle_t *
ingest_settle_new (size_t producers_max)
{
    ingest_settle_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->producers_max = producers_max;
    self->committed = zhashx_new ();
    self->changed_at = zhashx_new ();
    if (!self->committed || !self->changed_at)
        ingest_settle_destroy (&self);
    else
        zhashx_set_destructor (self->committed, (zhashx_destructor_fn *) zstr_free);
    return self;
}

void
ingest_settle_destroy (ingest_settle_t **self_p)
{
    ingest_settle_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->committed);
        zhashx_destroy (&self->changed_at);
        free (self->changed);
        free (self);
        *self_p = NULL;
    }
}

int
ingest_settle_load (ingest_settle_t *self, const audit_store_producer_t *producer)
{
    audit_store_producer_t *state = (audit_store_producer_t *)
        zhashx_lookup (self->committed, producer->producer_id);
    if (!state) {
        if (zhashx_size (self->committed) >= self->producers_max
        ||  !(state = (audit_store_producer_t *) malloc (sizeof *state)))
            return -1;
        zhashx_insert (self->committed, producer->producer_id, state);
    }
    *state = *producer;
    return 0;
}

void
ingest_settle_begin (ingest_settle_t *self)
{
    zhashx_purge (self->changed_at);
    self->changed_count = 0;
}

//  The tentative state of a producer, copied from its committed one or
//  new, or NULL when it is not followed (too many producers)
static audit_store_producer_t *
s_tentative (ingest_settle_t *self, const char *producer_id)
{
    size_t at = (size_t) (uintptr_t) zhashx_lookup (self->changed_at, producer_id);
    if (at)
        return &self->changed [at - 1];
    const audit_store_producer_t *committed = ingest_settle_state (self, producer_id);
    if (!committed && zhashx_size (self->committed) + self->changed_count >= self->producers_max)
        return NULL;
    if (self->changed_count == self->changed_capacity) {
        size_t capacity = self->changed_capacity? self->changed_capacity * 2: 16;
        audit_store_producer_t *grown = realloc (self->changed, capacity * sizeof *grown);
        if (!grown)
            return NULL;
        self->changed = grown;
        self->changed_capacity = capacity;
    }
    audit_store_producer_t *state = &self->changed [self->changed_count++];
    if (committed)
        *state = *committed;
    else {
        memset (state, 0, sizeof *state);
        snprintf (state->producer_id, sizeof state->producer_id, "%s", producer_id);
    }
    zhashx_insert (self->changed_at, producer_id, (void *) (uintptr_t) self->changed_count);
    return state;
}

//  Written so that nothing wraps: a seq at UINT64_MAX after seq 1 is a
//  huge gap (the count holds at its maximum), never a negative one
static uint64_t
s_gap (audit_store_producer_t *state, uint64_t seq)
{
    uint64_t missing = seq > state->last_seq? seq - state->last_seq - 1: 0;
    if (seq > state->last_seq)
        state->last_seq = seq;
    state->gaps = state->gaps > UINT64_MAX - missing? UINT64_MAX: state->gaps + missing;
    return missing;
}

//  seq 1 after progress starts a new run (contract: "Acknowledgements"),
//  unless it is the run's own seq 1 resent: the same event_id
static void
s_run (audit_store_producer_t *state, const char *event_id)
{
    bool resent = *event_id && strcmp (event_id, state->run_first) == 0;
    if (state->acked_seq > 0 && !resent) {
        state->runs++;                  //  the producer started over
        state->acked_seq = 0;
        state->last_seq = 0;
    }
    snprintf (state->run_first, sizeof state->run_first, "%s", event_id);
}

uint64_t
ingest_settle_event (ingest_settle_t *self, const char *producer_id, uint64_t seq,
                     audit_reason_t reason, const char *event_id, int64_t now_ms)
{
    audit_store_producer_t *state = seq? s_tentative (self, producer_id): NULL;
    if (!state)
        return 0;                       //  seq 0 is no seq: a run starts at 1
    state->last_seen_ms = now_ms;
    if (reason < AUDIT_REASON_COUNT)
        state->rejected [reason]++;
    if (seq == 1)
        s_run (state, event_id? event_id: "");
    uint64_t missing = s_gap (state, seq);
    if (seq == state->acked_seq + 1)
        state->acked_seq = seq;
    return missing;
}

const audit_store_producer_t *
ingest_settle_changed (ingest_settle_t *self, size_t *count)
{
    *count = self->changed_count;
    return self->changed;
}

void
ingest_settle_commit (ingest_settle_t *self)
{
    for (size_t index = 0; index < self->changed_count; index++)
        ingest_settle_load (self, &self->changed [index]);
    ingest_settle_begin (self);
}

void
ingest_settle_abort (ingest_settle_t *self)
{
    ingest_settle_begin (self);
}

const audit_store_producer_t *
ingest_settle_state (ingest_settle_t *self, const char *producer_id)
{
    return (const audit_store_producer_t *) zhashx_lookup (self->committed, producer_id);
}
