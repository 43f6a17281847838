/*  =========================================================================
    ingest_watch - the producers libzmq drops from the ingest socket
    ========================================================================= */

#include "ingest_watch.h"

#include "audit_log.h"

struct _ingest_watch_t {
    zactor_t *monitor;
};

ingest_watch_t *
ingest_watch_new (zsock_t *socket)
{
    ingest_watch_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->monitor = zactor_new (zmonitor, socket);
    if (!self->monitor
    ||  zstr_sendx (self->monitor, "LISTEN", "DISCONNECTED", NULL) != 0
    ||  zstr_send (self->monitor, "START") != 0
    ||  zsock_wait (self->monitor) != 0)
        ingest_watch_destroy (&self);
    return self;
}

void
ingest_watch_destroy (ingest_watch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ingest_watch_t *self = *self_p;
    zactor_destroy (&self->monitor);
    free (self);
    *self_p = NULL;
}

zsock_t *
ingest_watch_socket (ingest_watch_t *self)
{
    assert (self);
    return zactor_sock (self->monitor);
}

int64_t
ingest_watch_recv (ingest_watch_t *self)
{
    assert (self);
    int64_t disconnected = 0;
    zmsg_t *msg;
    while (zsock_events (self->monitor) & ZMQ_POLLIN
       &&  (msg = zmsg_recv (self->monitor))) {
        char *event = zmsg_popstr (msg);
        if (event && streq (event, "DISCONNECTED")) {
            disconnected++;
            audit_log_info ("msg=producer_disconnected note=\"closed by the producer, or"
                            " dropped by libzmq for a frame over 1 MiB\"");
        }
        zstr_free (&event);
        zmsg_destroy (&msg);
    }
    return disconnected;
}
