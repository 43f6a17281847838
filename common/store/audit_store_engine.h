/*  =========================================================================
    audit_store_engine - what a store engine implements

    For engines only (common/store/<engine>/), never for services. An
    engine fills one audit_store_ops_t, in the row order of
    audit_store_ops.def, and makes its store and its handles (pages) as
    structs whose first member is the generic one below, pointing at its
    table: the public functions (audit_store.c) find the engine through
    it, as NNG's sockets find their protocol through nni_proto_sock_ops.
    A second engine (PostgreSQL) is a second table; no service changes.
    ========================================================================= */

#ifndef AUDIT_STORE_ENGINE_H_INCLUDED
#define AUDIT_STORE_ENGINE_H_INCLUDED

#include "audit_page.h"
#include "audit_store.h"
#include "audit_store_health.h"
#include "audit_store_import.h"
#include "audit_store_log.h"
#include "audit_store_mq.h"
#include "audit_store_opslog.h"
#include "audit_store_org.h"
#include "audit_store_purge.h"
#include "audit_store_space.h"
#include "audit_store_producers.h"
#include "audit_store_stats.h"
#include "audit_store_sweep.h"
#include "audit_store_workers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _audit_store_ops_t audit_store_ops_t;

//  The first member of every engine's store, page and ops-log page. A
//  page also keeps where it ended, which the engine sets as it reads and
//  audit_page_more and audit_page_log_next answer from, the same for all
struct _audit_store_t { const audit_store_ops_t *ops; };
struct _audit_page_t {
    const audit_store_ops_t *ops;
    bool more;                          //  a row exists past the page
    audit_page_pos_t last;              //  of the last row returned
    uint64_t log_size;                  //  log order: org.next_index in its snapshot
    uint64_t from_index;                //  log order: the filter's first index
};
struct _audit_store_opslog_t { const audit_store_ops_t *ops; };

struct _audit_store_ops_t {
    const char *name;                   //  of the engine, for log lines
#define AUDIT_STORE_OP(type, function, op, params, args) type (*op) params;
#define AUDIT_STORE_VOID_OP(function, op, params, args) void (*op) params;
#define AUDIT_STORE_FREE(function, op, type) void (*op) (type **self_p);
#include "audit_store_ops.def"
#undef AUDIT_STORE_OP
#undef AUDIT_STORE_VOID_OP
#undef AUDIT_STORE_FREE
};

//  For checkpoint_put, when size was already signed: 1 when its signed
//  root is root (the same checkpoint again), else -1, logged: no two roots
//  are ever signed for one size.
int
    audit_store_root_signed_again (const char *org_id, uint64_t size,
                                   const audit_merkle_hash_t signed_root,
                                   const audit_merkle_hash_t root);

//  Open the SQLite engine's stores in data_dir (common/store/sqlite/).
audit_store_t *
    audit_store_sqlite_new (const char *data_dir, audit_store_mode_t mode);
bool
    audit_store_sqlite_exists (const char *data_dir);

//  Open the PostgreSQL engine's stores in the database of url, a
//  postgresql:// URL (common/store/pg/).
audit_store_t *
    audit_store_pg_new (const char *url, audit_store_mode_t mode);
bool
    audit_store_pg_exists (const char *url);

#ifdef __cplusplus
}
#endif

#endif
