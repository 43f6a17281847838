/*  =========================================================================
    pg_store - the PostgreSQL engine of the store, private to it

    Chosen by a location that is a postgresql:// (or postgres://) URL,
    AUDIT_DATABASE_URL (contract: "Data directory"). The three stores are
    the schemas audit, ops and queue of that database (pg_schema); a store
    is one connection (pg_conn), so one per worker thread, as a store
    belongs to one thread. Every statement is prepared, with text
    parameters; a batch is a few statements over arrays (unnest), not a
    round trip a row.

    Several ingest workers may write one database: each batch locks the
    rows of its organisations in audit.org (SELECT ... FOR UPDATE, in
    org_id order, so that two batches cannot deadlock) before it gives
    them log indices, so every organisation's log_index and tree stay
    exact, in commit order (pg_write.c).

    This header is for the engine's own modules (pg_*.c) and its tests.
    ========================================================================= */

#ifndef PG_STORE_H_INCLUDED
#define PG_STORE_H_INCLUDED

#include "audit_store_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The engine's implementation of every row of audit_store_ops.def:
//  pg_<op>, put together in its table by pg_store.c
#define AUDIT_STORE_OP(type, function, op, params, args) type pg_##op params;
#define AUDIT_STORE_VOID_OP(function, op, params, args) void pg_##op params;
#define AUDIT_STORE_FREE(function, op, type) void pg_##op (type **self_p);
#include "audit_store_ops.def"
#undef AUDIT_STORE_OP
#undef AUDIT_STORE_VOID_OP
#undef AUDIT_STORE_FREE

#ifdef __cplusplus
}
#endif

#endif
