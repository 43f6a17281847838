/*  =========================================================================
    pg_events - a batch's audit events into audit.event, inside the
    batch's transaction: each organisation's rows locked, duplicates
    found, log indices given, leaves appended to the tree, and the rows
    inserted, in a handful of statements for the whole batch

    Exact under several writers (pg_store.h): the batch first locks the
    org rows of all its organisations in one statement, in one order
    (ORDER BY org_id: the database's, the same for every writer), so two
    batches wait for each other instead of deadlocking, and reads their
    next_index under that lock. Nothing is cached across transactions
    but the tree's frontiers, which are checked against that next_index.
    ========================================================================= */

#ifndef PG_EVENTS_H_INCLUDED
#define PG_EVENTS_H_INCLUDED

#include "pg_conn.h"
#include "pg_tree.h"
#include "audit_row.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _pg_events_t pg_events_t;

//  The writer's buffers, kept across batches. NULL when out of memory.
pg_events_t *
    pg_events_new (void);

//  Free; safe on NULL and twice.
void
    pg_events_destroy (pg_events_t **self_p);

//  Write the audit events among records 0..count-1 (next gives them) in
//  the transaction open on conn, their outcomes into outcomes; tree gets
//  their leaves. *lock_waited_us grows by the time the org lock took.
//  0 or -1 (the caller rolls back).
int
    pg_events_write (pg_events_t *self, pg_conn_t *conn, pg_tree_t *tree,
                     audit_store_next_fn *next, void *arg, size_t count,
                     audit_store_outcome_t *outcomes, int64_t *lock_waited_us);

//  Insert rows 0..count-1 (a NULL one skipped) into audit.event as they
//  are, log_index and received time kept, in one statement in the
//  transaction open on conn: the events of an imported log (pg_import.c),
//  whose org rows, leaves and tree the caller writes. 0 or -1.
int
    pg_events_insert (pg_events_t *self, pg_conn_t *conn, const audit_row_t *const *rows,
                      size_t count);

#ifdef __cplusplus
}
#endif

#endif
