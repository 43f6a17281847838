/*  =========================================================================
    query_shared - what every worker thread of audit-query shares
    ========================================================================= */

#include "query_shared.h"

#include <czmq.h>

#include "audit_log.h"

int
query_shared_open (query_shared_t *self, const char *data_dir, const char *version,
                   const uint8_t *secret, size_t len, const char *audience)
{
    memset (self, 0, sizeof *self);
    pthread_mutex_init (&self->writer_lock, NULL);
    self->data_dir = data_dir;
    self->version = version;
    self->verifier = audit_token_new (secret, len, audience);
    self->cursor_key = audit_cursor_key_new_from_bytes (secret, len);
    if (!self->verifier || !self->cursor_key) {
        audit_log_error ("msg=cannot_start reason=\"JWT secret or audience not usable\"");
        return -1;
    }
    self->writer = audit_store_new (data_dir, AUDIT_STORE_MAINTAINER);
    self->tally = query_tally_new ();
    if (!self->writer || !self->tally)
        return -1;
    return 0;
}

void
query_shared_close (query_shared_t *self)
{
    if (self->tally && self->writer)
        query_tally_flush (self->tally, self->writer, &self->writer_lock, zclock_mono (), true);
    query_tally_destroy (&self->tally);
    audit_token_destroy (&self->verifier);
    audit_cursor_key_destroy (&self->cursor_key);
    audit_store_destroy (&self->writer);
    if (self->data_dir)                 //  open ran, so the mutex exists
        pthread_mutex_destroy (&self->writer_lock);
    self->data_dir = NULL;
}
