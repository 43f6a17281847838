/*  =========================================================================
    audit_orglog - the next log_index of each organisation, per transaction

    Every stored event gets its organisation's next log_index: 0, 1, 2, ...
    in commit order, never reused. Two processes write audit.db (ingest,
    and the query worker's own audit_access events), so no process may
    cache the next index across transactions: each write transaction reads
    an organisation's org.next_index the first time it stores an event of
    it, under the write lock, counts up in memory, and writes every touched
    organisation's value back before it commits. A rollback forgets it all.
    The same first read takes the latest ts the organisation holds, so that
    an event later than it needs no look for a duplicate (the writer's one
    random descent of the event table an event fewer).
    Since schema 6 no unique index backs this up: the writer's tree
    (audit_tree) checks that each index is its organisation's log size.
    ========================================================================= */

#ifndef AUDIT_ORGLOG_H_INCLUDED
#define AUDIT_ORGLOG_H_INCLUDED

#include <sqlite3.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _audit_orglog_t audit_orglog_t;

//  On conn (borrowed, audit.db; it must outlive this). NULL when a
//  statement cannot be prepared (logged) or out of memory.
audit_orglog_t *
    audit_orglog_new (sqlite3 *conn);

//  Finalize the statements; safe on NULL and twice.
void
    audit_orglog_destroy (audit_orglog_t **self_p);

//  1 when ts is later than the ts of every event organisation org (its
//  row id in org) holds, stored or taken in this transaction, 0 when not,
//  -1 on error. Events mostly come in time order, and a duplicate has the
//  ts of an event held (contract: the same event_id with the same
//  timestamp), so such an event needs no look for one.
int
    audit_orglog_newer (audit_orglog_t *self, int64_t org, int64_t ts);

//  The log_index of the next event of organisation org, stamped ts. Both
//  read from the store on first use in this transaction (org.next_index
//  and the latest ts), and in *user (when not NULL) the organisation's
//  pointer for the caller in this transaction: NULL at first, valid until
//  the next take or newer (either may grow the table; the tree keeps its
//  frontier there, one lookup of memory an event fewer). 0 or -1.
int
    audit_orglog_take (audit_orglog_t *self, int64_t org, int64_t ts, uint64_t *index,
                       void ***user);

//  Write back the next index of every organisation that took one, inside
//  the transaction (one only looked at by newer is left as it was), and
//  start over. 0 or -1.
int
    audit_orglog_flush (audit_orglog_t *self);

//  After a rollback: drop what this transaction counted.
void
    audit_orglog_forget (audit_orglog_t *self);

#ifdef __cplusplus
}
#endif

#endif
