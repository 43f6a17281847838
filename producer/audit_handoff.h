/*  =========================================================================
    audit_handoff - what the publishing threads and the producer's
    background thread share: the queue of events not yet committed, the
    seqs, the bound and the counters, under one mutex

    Publishing threads push; the background thread takes the whole queue
    at once (its group commit), then says what became durable and what
    was acknowledged, which wakes whoever waits in sync or flush.
    ========================================================================= */

#ifndef AUDIT_HANDOFF_H_INCLUDED
#define AUDIT_HANDOFF_H_INCLUDED

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit_producer.h"

#ifdef __cplusplus
extern "C" {
#endif

//  One queued event, its topic and body in the same allocation
typedef struct audit_handoff_item {
    struct audit_handoff_item *next;
    uint64_t seq;
    const char *topic;
    uint8_t *body;
    size_t size;
} audit_handoff_item_t;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t changed;             //  durable_seq or acked_seq moved
    audit_handoff_item_t *head, *tail;  //  queued, not committed
    uint64_t queued;                    //  items in that list
    uint64_t held_max;
    audit_producer_stats_t stats;       //  last_seq, durable_seq, acked_seq, held...
} audit_handoff_t;

//  Start from the outbox's state: seqs given out, acknowledged, events held.
void
    audit_handoff_init (audit_handoff_t *self, uint64_t last_seq, uint64_t acked_seq,
                        uint64_t held, uint64_t held_max);

//  Free what is queued; the mutex and condition.
void
    audit_handoff_destroy (audit_handoff_t *self);

//  A new item with room for topic and body (copied), or NULL.
audit_handoff_item_t *
    audit_handoff_item_new (const char *topic, const void *body, size_t size);

//  Free a list of items.
void
    audit_handoff_free (audit_handoff_item_t *items);

//  Call with the lock held: 0 when there is room for one more event.
int
    audit_handoff_room (audit_handoff_t *self);

//  Call with the lock held: queue item, whose seq must be the next one
//  (stats.last_seq + 1). Returns true
//  when the queue was empty (the background thread needs a wake-up).
bool
    audit_handoff_push (audit_handoff_t *self, audit_handoff_item_t *item);

//  Take every queued item, in seq order (NULL when none).
audit_handoff_item_t *
    audit_handoff_take (audit_handoff_t *self);

//  The background thread's news: durable and acknowledged seqs, events
//  held in the outbox, acks and rejections counted, sends.
void
    audit_handoff_report (audit_handoff_t *self, const audit_producer_stats_t *news);

//  Wait until the seq durable (or acknowledged, when acked) reaches the
//  last seq given out when called. 0, or -1 after timeout_ms.
int
    audit_handoff_wait (audit_handoff_t *self, bool acked, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
