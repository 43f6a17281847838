/*  =========================================================================
    audit_handoff - the queue and counters shared by the publishing threads
    and the producer's background thread
    ========================================================================= */

#include "audit_handoff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void
audit_handoff_init (audit_handoff_t *self, uint64_t last_seq, uint64_t acked_seq,
                    uint64_t held, uint64_t held_max)
{
    memset (self, 0, sizeof *self);
    pthread_mutex_init (&self->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init (&attr);
    pthread_condattr_setclock (&attr, CLOCK_MONOTONIC);
    pthread_cond_init (&self->changed, &attr);
    pthread_condattr_destroy (&attr);
    self->held_max = held_max;
    self->stats.last_seq = last_seq;
    self->stats.durable_seq = last_seq;
    self->stats.acked_seq = acked_seq;
    self->stats.held = held;
}

void
audit_handoff_destroy (audit_handoff_t *self)
{
    audit_handoff_free (self->head);
    self->head = self->tail = NULL;
    pthread_cond_destroy (&self->changed);
    pthread_mutex_destroy (&self->lock);
}

audit_handoff_item_t *
audit_handoff_item_new (const char *topic, const void *body, size_t size)
{
    size_t topic_size = strlen (topic) + 1;
    audit_handoff_item_t *item = malloc (sizeof *item + topic_size + size);
    if (!item)
        return NULL;
    char *room = (char *) (item + 1);
    memcpy (room, topic, topic_size);
    memcpy (room + topic_size, body, size);
    item->next = NULL;
    item->seq = 0;
    item->topic = room;
    item->body = (uint8_t *) room + topic_size;
    item->size = size;
    return item;
}

void
audit_handoff_free (audit_handoff_item_t *items)
{
    while (items) {
        audit_handoff_item_t *next = items->next;
        free (items);
        items = next;
    }
}

int
audit_handoff_room (audit_handoff_t *self)
{
    return self->stats.held < self->held_max ? 0 : -1;
}

bool
audit_handoff_push (audit_handoff_t *self, audit_handoff_item_t *item)
{
    bool was_empty = self->head == NULL;
    if (self->tail)
        self->tail->next = item;
    else
        self->head = item;
    self->tail = item;
    self->stats.last_seq = item->seq;
    self->queued++;
    self->stats.held++;
    self->stats.published++;
    return was_empty;
}

audit_handoff_item_t *
audit_handoff_take (audit_handoff_t *self)
{
    pthread_mutex_lock (&self->lock);
    audit_handoff_item_t *items = self->head;
    self->head = self->tail = NULL;
    self->queued = 0;
    pthread_mutex_unlock (&self->lock);
    return items;
}

//  The background thread owns these counters; publish owns the others
void
audit_handoff_report (audit_handoff_t *self, const audit_producer_stats_t *news)
{
    pthread_mutex_lock (&self->lock);
    audit_producer_stats_t *stats = &self->stats;
    stats->durable_seq = news->durable_seq;
    stats->acked_seq = news->acked_seq;
    stats->acked = news->acked;
    stats->rejected = news->rejected;
    stats->sent = news->sent;
    stats->resent = news->resent;
    stats->ready = news->ready;
    //  held counts queued events too: what the thread holds plus the queue
    stats->held = news->held + self->queued;
    pthread_cond_broadcast (&self->changed);
    pthread_mutex_unlock (&self->lock);
}

int
audit_handoff_wait (audit_handoff_t *self, bool acked, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime (CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long) (timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&self->lock);
    uint64_t target = self->stats.last_seq;
    int rc = 0;
    while (rc == 0 && (acked ? self->stats.acked_seq : self->stats.durable_seq) < target)
        rc = pthread_cond_timedwait (&self->changed, &self->lock, &deadline);
    bool reached = (acked ? self->stats.acked_seq : self->stats.durable_seq) >= target;
    pthread_mutex_unlock (&self->lock);
    return reached ? 0 : -1;
}
