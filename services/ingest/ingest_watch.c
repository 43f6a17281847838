/*  =========================================================================
    ingest_watch - the connections of the ingest sockets
    ========================================================================= */

#include "ingest_watch.h"

#include "audit_conns.h"
#include "audit_log.h"

struct _ingest_watch_t {
    audit_conns_t *conns;
    int sub;                        //  the SUB socket's index in the reports
};

ingest_watch_t *
ingest_watch_new (zsock_t *sub, zsock_t *ack, size_t max_connections, size_t memory_guard)
{
    ingest_watch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conns = audit_conns_new (max_connections, memory_guard);
    if (!self->conns
    ||  (self->sub = audit_conns_watch (self->conns, sub)) < 0
    ||  (ack && audit_conns_watch (self->conns, ack) < 0))
        ingest_watch_destroy (&self);
    return self;
}

void
ingest_watch_destroy (ingest_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ingest_watch_t *self = *self_p;
    audit_conns_destroy (&self->conns);
    free (self);
    *self_p = NULL;
}

zsock_t *
ingest_watch_socket (ingest_watch_t *self)
{
    assert (self);
    return audit_conns_socket (self->conns);
}

void
ingest_watch_recv (ingest_watch_t *self, ingest_watch_report_t *report)
{
    assert (self);
    audit_conns_report_t conns;
    audit_conns_take (self->conns, &conns);
    report->ended = conns.ended [self->sub];
    report->refused = conns.refused;
    report->dropped_for_memory = conns.dropped_for_memory;
    if (report->ended)
        audit_log_info ("msg=producer_disconnected count=%" PRId64 " note=\"closed by the"
                        " producer, or dropped by libzmq for a frame over 1 MiB\"",
                        report->ended);
}
