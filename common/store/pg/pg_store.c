/*  =========================================================================
    pg_store - the PostgreSQL engine: opening the database, and the
    engine's operations table (see pg_store.h)
    ========================================================================= */

#include "pg_core.h"
#include "pg_counters.h"
#include "audit_log.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

//  The engine's operations, in the row order of audit_store_ops.def
static const audit_store_ops_t s_pg_ops = {
    .name = "postgresql",
#define AUDIT_STORE_OP(type, function, op, params, args) .op = pg_##op,
#define AUDIT_STORE_VOID_OP(function, op, params, args) .op = pg_##op,
#define AUDIT_STORE_FREE(function, op, type) .op = pg_##op,
#include "audit_store_ops.def"
#undef AUDIT_STORE_OP
#undef AUDIT_STORE_VOID_OP
#undef AUDIT_STORE_FREE
};

audit_store_t *
audit_store_pg_new (const char *url, audit_store_mode_t mode)
{
    assert (url);
    pg_store_t *self = (pg_store_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->base.ops = &s_pg_ops;
    self->mode = mode;
    bool ok = (self->conn = pg_conn_new (url, mode == AUDIT_STORE_READER)) != NULL
           && pg_schema_migrate (self->conn, mode) == 0;
    if (ok && mode != AUDIT_STORE_READER)
        ok = (self->tree = pg_tree_new ()) != NULL && (self->events = pg_events_new ()) != NULL
          && pg_counters_rows (self->conn, self->family_rows) == 0;
    audit_store_t *store = &self->base;
    if (!ok)
        pg_destroy (&store);
    return store;
}

bool
audit_store_pg_exists (const char *url)
{
    pg_conn_t *conn = pg_conn_new (url, true);
    bool exists = conn && pg_schema_exists (conn) == 1;
    pg_conn_destroy (&conn);
    return exists;
}

void
pg_destroy (audit_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pg_store_t *self = pg_core_self (*self_p);
    pg_tree_destroy (&self->tree);
    pg_events_destroy (&self->events);
    pg_conn_destroy (&self->conn);
    free (self);
    *self_p = NULL;
}
