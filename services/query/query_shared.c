/*  =========================================================================
    query_shared - what every worker thread of audit-query shares
    ========================================================================= */

#include "query_shared.h"

#include <czmq.h>

#include "audit_log.h"

static void
s_keys_destroy (query_keys_t **keys_p)
{
    query_keys_t *keys = *keys_p;
    if (keys) {
        audit_token_destroy (&keys->verifier);
        audit_cursor_key_destroy (&keys->cursor_key);
        free (keys);
        *keys_p = NULL;
    }
}

static query_keys_t *
s_keys_new (const uint8_t *secret, size_t len, const char *audience, int64_t max_age_s)
{
    query_keys_t *keys = calloc (1, sizeof *keys);
    if (!keys)
        return NULL;
    keys->verifier = audit_token_new (secret, len, audience);
    keys->cursor_key = audit_cursor_key_new_from_bytes (secret, len);
    keys->holders = 1;
    if (!keys->verifier || !keys->cursor_key
    ||  audit_token_set_max_age (keys->verifier, max_age_s) != 0)
        s_keys_destroy (&keys);
    return keys;
}

int
query_shared_open (query_shared_t *self, const char *data_dir, const char *version,
                   const uint8_t *secret, size_t len, const char *audience)
{
    memset (self, 0, sizeof *self);
    pthread_mutex_init (&self->writer_lock, NULL);
    pthread_mutex_init (&self->keys_lock, NULL);
    self->data_dir = data_dir;
    self->version = version;
    self->audience = audience;
    self->max_age_s = AUDIT_TOKEN_MAX_AGE_DEFAULT_S;
    self->keys = s_keys_new (secret, len, audience, self->max_age_s);
    if (!self->keys) {
        audit_log_error ("msg=cannot_start reason=\"JWT secret or audience not usable\"");
        return -1;
    }
    self->writer = audit_store_new (data_dir, AUDIT_STORE_MAINTAINER);
    self->tally = query_tally_new ();
    if (!self->writer || !self->tally)
        return -1;
    return 0;
}

int
query_shared_set_max_age (query_shared_t *self, int64_t max_age_s)
{
    if (audit_token_set_max_age (self->keys->verifier, max_age_s) != 0)
        return -1;
    self->max_age_s = max_age_s;
    return 0;
}

const query_keys_t *
query_shared_keys_hold (query_shared_t *self)
{
    pthread_mutex_lock (&self->keys_lock);
    query_keys_t *keys = self->keys;
    keys->holders++;
    pthread_mutex_unlock (&self->keys_lock);
    return keys;
}

void
query_shared_keys_release (query_shared_t *self, const query_keys_t **keys_p)
{
    query_keys_t *keys = (query_keys_t *) *keys_p;
    if (!keys)
        return;
    pthread_mutex_lock (&self->keys_lock);
    bool last = --keys->holders == 0;
    pthread_mutex_unlock (&self->keys_lock);
    if (last)
        s_keys_destroy (&keys);
    *keys_p = NULL;
}

int
query_shared_rekey (query_shared_t *self, const uint8_t *secret, size_t len)
{
    query_keys_t *keys = s_keys_new (secret, len, self->audience, self->max_age_s);
    if (!keys) {
        audit_log_error ("msg=rekey_failed reason=\"JWT secret or audience not usable\"");
        return -1;
    }
    pthread_mutex_lock (&self->keys_lock);
    const query_keys_t *old = self->keys;
    self->keys = keys;
    pthread_mutex_unlock (&self->keys_lock);
    query_shared_keys_release (self, &old);
    return 0;
}

void
query_shared_close (query_shared_t *self)
{
    if (self->tally && self->writer)
        query_tally_flush (self->tally, self->writer, &self->writer_lock, zclock_mono (), true);
    query_tally_destroy (&self->tally);
    const query_keys_t *keys = self->keys;
    self->keys = NULL;
    query_shared_keys_release (self, &keys);
    audit_store_destroy (&self->writer);
    audit_signer_destroy (&self->signer);
    if (self->data_dir) {               //  open ran, so the mutexes exist
        pthread_mutex_destroy (&self->writer_lock);
        pthread_mutex_destroy (&self->keys_lock);
    }
    self->data_dir = NULL;
}
