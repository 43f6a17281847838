/*  =========================================================================
    audit_orglog - the next log_index of each organisation, and the events
    found fresh, per transaction

    Every stored event gets its organisation's next log_index: 0, 1, 2, ...
    in commit order, never reused. Two processes write audit.db (ingest,
    and the query worker's own audit_access events), so no process may
    cache the next index across transactions: each write transaction reads
    an organisation's org.next_index the first time it stores an event of
    it, under the write lock, counts up in memory, and writes every touched
    organisation's value back before it commits. A rollback forgets it all.
    The same first read takes the latest ts the organisation holds, so that
    most events need no look for a duplicate (audit_orglog_fresh: the
    writer's one random descent of the event table an event fewer).
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

//  1 when an event of organisation org (its row id in org) stamped ts
//  with id (AUDIT_UUID_SIZE bytes) is surely not held: later than every
//  event the organisation held when this transaction first read it, and
//  no event found fresh before in this transaction has its (ts, id), or
//  a fingerprint equal to its own. It is then remembered as found fresh,
//  for the rest of the transaction: the caller stores it, or rolls back.
//  0 when the store must be asked (its own statement sees the rows this
//  transaction wrote), -1 on error. Events mostly come in time order, and
//  a duplicate has the ts of an event held (contract: the same event_id
//  with the same timestamp), so most events need no look for one.
int
    audit_orglog_fresh (audit_orglog_t *self, int64_t org, int64_t ts, const uint8_t *id);

//  The log_index of the next event of organisation org. Its next_index
//  (and latest ts) is read from the store on first use in this
//  transaction, and in *user (when not NULL) the organisation's pointer
//  for the caller in this transaction: NULL at first, valid until the
//  next take or fresh (either may grow the table; the tree keeps its
//  frontier there, one lookup of memory an event fewer). 0 or -1.
int
    audit_orglog_take (audit_orglog_t *self, int64_t org, uint64_t *index, void ***user);

//  Write back the next index of every organisation that took one, inside
//  the transaction (one only looked at by fresh is left as it was), and
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
