/*  =========================================================================
    sqlite_core - the SQLite store's own state, shared by the two halves of
    its core: opening and closing (sqlite_store.c) and the batch writer
    (sqlite_write.c). Private to those two files.
    ========================================================================= */

#ifndef SQLITE_CORE_H_INCLUDED
#define SQLITE_CORE_H_INCLUDED

#include "audit_conn.h"
#include "audit_idcache.h"
#include "audit_orglog.h"
#include "audit_subjects.h"
#include "audit_tree.h"
#include "audit_store_sql.h"
#include "sqlite_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The event INSERT's parameters: the envelope ?1..?6, then one per
//  resource field in audit_field_t order, then the uuid and the leaf's tag
#define SQLITE_EVENT_FIELD_PARAM 7
#define SQLITE_EVENT_UUID_PARAM  (SQLITE_EVENT_FIELD_PARAM + AUDIT_FIELD_COUNT)
#define SQLITE_EVENT_LEAF_PARAM  (SQLITE_EVENT_UUID_PARAM + 1)

//  The statements the core prepares at open (sqlite_store.c has their SQL)
typedef enum {
    SQLITE_Q_BEGIN,                            //  SQLITE_Q_BEGIN + db, and so on
    SQLITE_Q_COMMIT = SQLITE_Q_BEGIN + AUDIT_DB_COUNT,
    SQLITE_Q_ROLLBACK = SQLITE_Q_COMMIT + AUDIT_DB_COUNT,
    SQLITE_Q_EVENT_SEEN = SQLITE_Q_ROLLBACK + AUDIT_DB_COUNT, SQLITE_Q_EVENT_INSERT,
    SQLITE_Q_COUNTER_UPDATE, SQLITE_Q_COUNTER_UPSERT, SQLITE_Q_COUNTER_ROWS,
    SQLITE_Q_OPS_INSERT, SQLITE_Q_MESSAGE_INSERT, SQLITE_Q_ORG_RETENTION,
    SQLITE_Q_COUNTER_SELECT,                   //  the only one a READER prepares
    SQLITE_Q_COUNT
} sqlite_query_t;

struct _sqlite_store_t {
    audit_store_t base;                 //  the engine's operations table: first
    audit_store_mode_t mode;
    audit_conn_t *conn [AUDIT_DB_COUNT];
    sqlite3 *db [AUDIT_DB_COUNT];       //  each conn's handle
    sqlite3_stmt *query [SQLITE_Q_COUNT];
    audit_stmts_t *stmts [AUDIT_DB_COUNT];  //  the typed operations' statements
    audit_idcache_t *idcache;           //  audit.db's org and ident rows, both ways
    audit_orglog_t *orglog;             //  not for a READER
    audit_tree_t *tree;                 //  nor this
    audit_subjects_t *subjects;         //  nor this: the tree's tile callback
    bool tree_off;                      //  bench-log's "log off" (audit_store_tree_off)
    int64_t family_rows [AUDIT_COUNTERS_FAMILIES];  //  rows in counter, about
    bool failed_full;                   //  the last failed write ran out of space
    bool failing;                       //  the last write failed (logged once)
    bool defer_housekeeping;            //  checkpoints wait for sqlite_housekeep
};

typedef struct _sqlite_store_t sqlite_store_t;

//  The engine's store behind the generic handle
static inline sqlite_store_t *
sqlite_core_self (audit_store_t *store)
{
    return (sqlite_store_t *) store;
}


#ifdef __cplusplus
}
#endif

#endif
