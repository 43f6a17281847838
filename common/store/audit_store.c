/*  =========================================================================
    audit_store - the public store functions, each a call through the
    operations table of the store's engine

    Made from audit_store_ops.def, so that a new operation is a row there,
    its declaration in the header of its area, and its implementation in
    each engine.
    ========================================================================= */

#include "audit_store_engine.h"
#include "audit_reserve.h"
#include "audit_log.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool
audit_store_is_url (const char *location)
{
    return location && (strncmp (location, "postgresql://", 13) == 0
                     || strncmp (location, "postgres://", 11) == 0);
}

void
audit_store_redact (const char *url, char *out, size_t size)
{
    if (!audit_store_is_url (url)) {
        snprintf (out, size, "%s", url);
        return;
    }
    //  postgresql://user:password@host/db: the password is between the
    //  first ':' after the scheme and the '@'
    const char *scheme = strstr (url, "://");
    const char *auth = scheme? scheme + 3: url;
    const char *at = strchr (auth, '@');
    const char *colon = at? memchr (auth, ':', (size_t) (at - auth)): NULL;
    if (colon)
        snprintf (out, size, "%.*s:***%s", (int) (colon - url), url, at);
    else
        snprintf (out, size, "%s", url);
    //  and a password=... parameter of the query string
    char *param = strstr (out, "password=");
    if (param) {
        char *end = strchr (param, '&');
        char rest [256] = "";
        if (end)
            snprintf (rest, sizeof rest, "%s", end);
        snprintf (param, size - (size_t) (param - out), "password=***%s", rest);
    }
}

//  On a full disk (issue 12): the janitor (a MAINTAINER) takes the reserve
//  to purge in; any worker that cannot open takes it to open, once; a
//  worker that opened on a short disk says it is degraded
audit_store_t *
audit_store_new (const char *data_dir, audit_store_mode_t mode)
{
    assert (data_dir);
    //  A database has no reserve file and no directory to make
    if (audit_store_is_url (data_dir))
        return audit_store_pg_new (data_dir, mode);
    bool writes = mode != AUDIT_STORE_READER;
    bool existed = audit_store_exists (data_dir);
    if (mode == AUDIT_STORE_MAINTAINER)
        audit_reserve_relieve (data_dir, "maintenance");
    audit_store_t *store = audit_store_sqlite_new (data_dir, mode);
    if (!store && writes && audit_reserve_relieve (data_dir, "open"))
        store = audit_store_sqlite_new (data_dir, mode);
    if (!store && writes && audit_reserve_pressed (data_dir))
        audit_log_error ("msg=cannot_open reason=disk_full free_bytes=%" PRId64
                         " hint=\"a migration or the WAL needs room: free some\"",
                         audit_reserve_free_bytes (data_dir));
    if (store && writes && audit_reserve_make (data_dir) != 0)
        audit_log_warn ("msg=degraded reason=disk_full free_bytes=%" PRId64
                        " reserve=missing", audit_reserve_free_bytes (data_dir));
    //  Said once, by whoever made it: a new store where one was expected
    //  is how a wrong AUDIT_DATA_DIR shows itself
    if (store && !existed)
        audit_log_info ("msg=\"store created\" data_dir=%s", data_dir);
    return store;
}

bool
audit_store_exists (const char *data_dir)
{
    assert (data_dir);
    if (audit_store_is_url (data_dir))
        return audit_store_pg_exists (data_dir);
    return audit_store_sqlite_exists (data_dir);
}

#define AUDIT_STORE_OP(type, function, op, params, args) \
    type function params { assert (self && self->ops->op); return self->ops->op args; }
#define AUDIT_STORE_VOID_OP(function, op, params, args) \
    void function params { assert (self && self->ops->op); self->ops->op args; }
#define AUDIT_STORE_FREE(function, op, type) \
    void function (type **self_p) { if (self_p && *self_p) (*self_p)->ops->op (self_p); }
#include "audit_store_ops.def"
#undef AUDIT_STORE_OP
#undef AUDIT_STORE_VOID_OP
#undef AUDIT_STORE_FREE

int
audit_store_root_signed_again (const char *org_id, uint64_t size,
                               const audit_merkle_hash_t signed_root,
                               const audit_merkle_hash_t root)
{
    if (memcmp (signed_root, root, AUDIT_MERKLE_HASH_SIZE) == 0)
        return 1;
    audit_log_error ("msg=\"a second root for a signed size: not signed\" org=%s size=%llu",
                     org_id, (unsigned long long) size);
    return -1;
}

bool
audit_page_more (audit_page_t *self, audit_page_pos_t *last)
{
    assert (self);
    if (self->more && last)
        *last = self->last;
    return self->more;
}

uint64_t
audit_page_log_next (audit_page_t *self)
{
    assert (self);
    if (self->more)
        return self->last.log_index + 1;
    return self->log_size > self->from_index? self->log_size: self->from_index;
}

void
audit_store_sweep_key_first (audit_store_event_key_t *key)
{
    assert (key);
    key->org = key->ts = key->log_index = INT64_MIN;
}
