/*  =========================================================================
    audit_store - the public store functions, each a call through the
    operations table of the store's engine

    Made from audit_store_ops.def, so that a new operation is a row there,
    its declaration in the header of its area, and its implementation in
    each engine.
    ========================================================================= */

#include "audit_store_engine.h"

#include <assert.h>

audit_store_t *
audit_store_new (const char *data_dir, audit_store_mode_t mode)
{
    assert (data_dir);
    return audit_store_sqlite_new (data_dir, mode);
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

void
audit_store_sweep_key_first (audit_store_event_key_t *key)
{
    assert (key);
    key->org = key->ts = key->log_index = INT64_MIN;
}
