/*  =========================================================================
    pg_core - the PostgreSQL store's own state, for the engine's modules
    ========================================================================= */

#ifndef PG_CORE_H_INCLUDED
#define PG_CORE_H_INCLUDED

#include "pg_conn.h"
#include "pg_events.h"
#include "pg_schema.h"
#include "pg_store.h"
#include "pg_tree.h"

#ifdef __cplusplus
extern "C" {
#endif

struct _pg_store_t {
    audit_store_t base;                 //  the engine's operations table: first
    audit_store_mode_t mode;
    pg_conn_t *conn;
    pg_schema_months_t months;          //  partitions of audit.event known to exist
    pg_tree_t *tree;                    //  the writer's frontiers; not a READER's
    pg_events_t *events;                //  the writer's batch buffers; nor this
    int64_t family_rows [AUDIT_COUNTERS_FAMILIES];  //  rows in audit.counter, about
    int64_t lock_waited_us;             //  in the batches' org row locks, since asked
    bool failing;                       //  the last write failed (logged once)
    bool failed_full;                   //  the last failed write: a full disk
    uint64_t lock_generation;           //  the connection that took the maintainer
                                        //  lock; 0: not taken (pg_space.c)
};

typedef struct _pg_store_t pg_store_t;

//  The engine's store behind the generic handle
static inline pg_store_t *
pg_core_self (audit_store_t *store)
{
    return (pg_store_t *) store;
}

//  False once the connection that took the maintainer lock was made
//  again (the lock went with the session; logged once): a janitor's
//  writes stop until its next pass asks for the lock. True when no lock
//  was taken (not a janitor). pg_space.c.
bool
    pg_space_lock_kept (pg_store_t *self);

#ifdef __cplusplus
}
#endif

#endif
