/*  =========================================================================
    audit_zap - the ZAP handler (RFC 27) of a worker's CURVE sockets
    ========================================================================= */

#include "audit_zap.h"
#include "audit_log.h"

struct _audit_zap_t {
    zsock_t *handler;               //  REP at AUDIT_ZAP_ENDPOINT
    char *domain;
    char *keys_dir;                 //  NULL: any key
    audit_certs_t *certs;
    zhashx_t *noted;                //  key -> int64_t *, when it was last logged
};

void
audit_zap_destroy (audit_zap_t **self_p)
{
    audit_zap_t *self = *self_p;
    if (self) {
        zsock_destroy (&self->handler);
        audit_certs_destroy (&self->certs);
        zhashx_destroy (&self->noted);
        free (self->domain);
        free (self->keys_dir);
        free (self);
        *self_p = NULL;
    }
}

static void
s_free_item (void **item)
{
    free (*item);
    *item = NULL;
}

//  The table from the directory, logged as a whole
static int
s_load (audit_zap_t *self)
{
    audit_certs_result_t result;
    if (audit_certs_load (self->certs, self->keys_dir, &result) != 0)
        return -1;
    audit_log_info ("msg=keys_loaded domain=%s dir=%s keys=%zu added=%zu removed=%zu bad=%zu",
                    self->domain, self->keys_dir, result.loaded, result.added,
                    result.removed, result.bad);
    return 0;
}

audit_zap_t *
audit_zap_new (const audit_zap_options_t *options)
{
    audit_zap_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->domain = strdup (options->domain);
    if (options->keys_dir && *options->keys_dir)
        self->keys_dir = strdup (options->keys_dir);
    self->certs = audit_certs_new (options->producers);
    self->noted = zhashx_new ();
    if (!self->domain || !self->certs || !self->noted
    ||  (options->keys_dir && *options->keys_dir && !self->keys_dir)) {
        audit_log_error ("msg=cannot_start reason=out_of_memory");
        audit_zap_destroy (&self);
        return NULL;
    }
    zhashx_set_destructor (self->noted, s_free_item);
    if (self->keys_dir && s_load (self) != 0) {
        audit_log_error ("msg=cannot_start reason=\"cannot read the key directory %s\"",
                         self->keys_dir);
        audit_zap_destroy (&self);
        return NULL;
    }
    if (!(self->handler = zsock_new_rep (AUDIT_ZAP_ENDPOINT))) {
        audit_log_error ("msg=cannot_start reason=\"the ZAP handler cannot bind\"");
        audit_zap_destroy (&self);
    }
    return self;
}

zsock_t *
audit_zap_socket (audit_zap_t *self)
{
    return self->handler;
}

void
audit_zap_note (audit_zap_t *self, const char *what, const char *key, const char *reason)
{
    int64_t now = zclock_mono ();
    int64_t *last = (int64_t *) zhashx_lookup (self->noted, key);
    if (last && now - *last < AUDIT_ZAP_LOG_EVERY_MS)
        return;
    if (!last) {
        if (zhashx_size (self->noted) >= AUDIT_ZAP_NOTED_MAX)
            zhashx_purge (self->noted);
        if (!(last = (int64_t *) malloc (sizeof *last)))
            return;
        zhashx_insert (self->noted, key, last);
    }
    *last = now;
    audit_log_warn ("msg=%s domain=%s key=%s reason=%s note=\"this key is logged once a minute\"",
                    what, self->domain, key, reason);
}

const audit_certs_entry_t *
audit_zap_lookup (audit_zap_t *self, const char *key)
{
    return self->keys_dir ? audit_certs_lookup (self->certs, key) : NULL;
}

//  The entry of an allowed CURVE client, NULL with why when it is refused
static bool
s_allowed (audit_zap_t *self, zmsg_t *request, char *key, const char **why,
           const audit_certs_entry_t **entry)
{
    zframe_t *frames [7];
    for (int index = 0; index < 7; index++)
        frames [index] = index ? zmsg_next (request) : zmsg_first (request);
    *entry = NULL;
    *why = "not_curve";
    if (!frames [6] || !zframe_streq (frames [5], "CURVE") || zframe_size (frames [6]) != 32)
        return false;
    zmq_z85_encode (key, zframe_data (frames [6]), 32);
    *why = "wrong_domain";
    if (!zframe_streq (frames [2], self->domain))
        return false;
    *why = "unknown_key";
    *entry = audit_certs_lookup (self->certs, key);
    return !self->keys_dir || *entry;
}

//  ZMTP metadata: one property, name length in a byte, value length in four
static zframe_t *
s_metadata (const char *name, const char *value)
{
    size_t name_len = strlen (name), value_len = strlen (value);
    zframe_t *frame = zframe_new (NULL, 1 + name_len + 4 + value_len);
    uint8_t *at = frame ? zframe_data (frame) : NULL;
    if (at) {
        *at++ = (uint8_t) name_len;
        memcpy (at, name, name_len);
        at += name_len;
        for (int shift = 24; shift >= 0; shift -= 8)
            *at++ = (uint8_t) (value_len >> shift);
        memcpy (at, value, value_len);
    }
    return frame;
}

//  One request answered; true when it was refused
static bool
s_answer (audit_zap_t *self, zmsg_t *request)
{
    char key [AUDIT_CURVE_KEY_TEXT_SIZE] = "-";
    const char *why = "not_zap";
    const audit_certs_entry_t *entry = NULL;
    bool allowed = zmsg_size (request) >= 7 && s_allowed (self, request, key, &why, &entry);
    zframe_t *id = NULL;
    if (zmsg_size (request) >= 2) {
        zmsg_first (request);
        id = zframe_dup (zmsg_next (request));
    }
    zmsg_t *reply = zmsg_new ();
    zmsg_addstr (reply, "1.0");
    if (id)
        zmsg_append (reply, &id);
    else
        zmsg_addstr (reply, "");
    zmsg_addstr (reply, allowed ? "200" : "400");
    zmsg_addstr (reply, allowed ? "OK" : "not allowed");
    zmsg_addstr (reply, allowed && entry ? entry->producer_id : "");
    zframe_t *metadata = allowed ? s_metadata (AUDIT_CURVE_PROPERTY_KEY, key) : zframe_new (NULL, 0);
    zmsg_append (reply, &metadata);
    zmsg_send (&reply, self->handler);
    if (!allowed)
        audit_zap_note (self, "curve_refused", key, why);
    return !allowed;
}

size_t
audit_zap_handle (audit_zap_t *self)
{
    size_t refused = 0;
    while (zsock_events (self->handler) & ZMQ_POLLIN) {
        zmsg_t *request = zmsg_recv (self->handler);
        if (!request)
            break;
        refused += s_answer (self, request);
        zmsg_destroy (&request);
    }
    return refused;
}

int
audit_zap_reload (audit_zap_t *self)
{
    return self->keys_dir ? s_load (self) : 0;
}
