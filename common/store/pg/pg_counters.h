/*  =========================================================================
    pg_counters - the persistent counter totals in audit.counter, added to
    in the transaction of the batch they count

    As the SQLite engine does: a new name of an open counter family gets a
    row while its family has fewer than PG_COUNTERS_FAMILY_ROWS_MAX rows,
    else its delta goes to its folded name (audit_counters_fold), so that
    a hostile producer can grow neither the table nor one family at
    another's cost. A batch's deltas are two statements: which names exist,
    then one upsert of them all.
    ========================================================================= */

#ifndef PG_COUNTERS_H_INCLUDED
#define PG_COUNTERS_H_INCLUDED

#include "pg_conn.h"
#include "audit_counters.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PG_COUNTERS_FAMILY_ROWS_MAX 8192

//  Rows of each open family now (at open; the writer counts on). 0 or -1.
int
    pg_counters_rows (pg_conn_t *conn, int64_t *family_rows);

//  Add counters' deltas, and stored and duplicate to ingest.stored and
//  ingest.duplicate, in the open transaction. 0 or -1.
int
    pg_counters_write (pg_conn_t *conn, int64_t *family_rows, audit_counters_t *counters,
                       int64_t stored, int64_t duplicate);

#ifdef __cplusplus
}
#endif

#endif
