/*  =========================================================================
    ingest_batch - records waiting to be written in one transaction
    ========================================================================= */

#include "ingest_batch.h"

#include <stdlib.h>
#include <string.h>

ingest_batch_t *
ingest_batch_new (size_t capacity)
{
    ingest_batch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->capacity = capacity;
    self->records = calloc (capacity, sizeof *self->records);
    self->outcomes = calloc (capacity, sizeof *self->outcomes);
    self->arena = malloc (INGEST_BATCH_ARENA_SIZE);
    self->counters = audit_counters_new ();
    if (!self->records || !self->outcomes || !self->arena || !self->counters)
        ingest_batch_destroy (&self);
    return self;
}

void
ingest_batch_destroy (ingest_batch_t **self_p)
{
    ingest_batch_t *self = *self_p;
    if (self) {
        free (self->records);
        free (self->outcomes);
        free (self->arena);
        audit_counters_destroy (&self->counters);
        free (self);
        *self_p = NULL;
    }
}

audit_record_t *
ingest_batch_slot (ingest_batch_t *self)
{
    return self->count < self->capacity ? &self->records [self->count] : NULL;
}

int
ingest_batch_commit (ingest_batch_t *self, int64_t now_ms)
{
    audit_record_t *record = &self->records [self->count];
    if (record->kind == AUDIT_TOPIC_KIND_MQ) {
        audit_mq_t *mq = &record->u.mq;
        if (mq->payload_size > INGEST_BATCH_ARENA_SIZE - self->arena_used)
            return -1;
        uint8_t *copy = self->arena + self->arena_used;
        memcpy (copy, mq->payload, mq->payload_size);
        mq->payload = copy;
        self->arena_used += mq->payload_size;
    }
    if (self->first_ms == 0)
        self->first_ms = now_ms;
    self->count++;
    return 0;
}

bool
ingest_batch_has_work (ingest_batch_t *self)
{
    return self->count > 0 || self->received > 0 || audit_counters_size (self->counters) > 0;
}

void
ingest_batch_reset (ingest_batch_t *self)
{
    self->count = 0;
    self->arena_used = 0;
    self->first_ms = 0;
    self->received = 0;
    audit_counters_clear (self->counters);
}
