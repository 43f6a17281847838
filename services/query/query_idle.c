/*  =========================================================================
    query_idle - the server's idle workers, and which one holds a client's
    next export chunk
    ========================================================================= */

#include "query_idle.h"

#include <assert.h>

void
query_idle_init (query_idle_t *self)
{
    memset (self, 0, sizeof *self);
}

void
query_idle_release (query_idle_t *self)
{
    for (int at = 0; at < self->count; at++)
        zframe_destroy (&self->ahead_for [at]);
    self->count = 0;
}

void
query_idle_add (query_idle_t *self, int index, zframe_t *ahead_for)
{
    assert (self->count < QUERY_IDLE_MAX);
    self->index [self->count] = index;
    //  Out of memory it reads for no one known: any request may take it
    self->ahead_for [self->count] = ahead_for? zframe_dup (ahead_for): NULL;
    self->count++;
}

//  The position of the worker to take, or -1
static int
s_pick (const query_idle_t *self, zframe_t *routing_id)
{
    for (int at = 0; routing_id && at < self->count; at++)
        if (self->ahead_for [at] && zframe_eq (self->ahead_for [at], routing_id))
            return at;
    for (int at = self->count - 1; at >= 0; at--)
        if (!self->ahead_for [at])
            return at;
    return self->count - 1;
}

int
query_idle_take (query_idle_t *self, zframe_t *routing_id)
{
    int at = s_pick (self, routing_id);
    if (at < 0)
        return -1;
    int index = self->index [at];
    zframe_destroy (&self->ahead_for [at]);
    for (; at + 1 < self->count; at++) {
        self->index [at] = self->index [at + 1];
        self->ahead_for [at] = self->ahead_for [at + 1];
    }
    self->ahead_for [--self->count] = NULL;
    return index;
}
