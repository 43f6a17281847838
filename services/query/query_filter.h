/*  =========================================================================
    query_filter - the keyset query behind list and export

    Every filter set runs as one SQL shape per order, pinned with INDEXED BY
    to event_org_ts (org, ts, id, type, actor, user, device, grp): a page is
    a range scan of one organisation in (ts, id) order, never a sort, and
    every filter is tested on the index entry, so only matching rows are
    read from the table. The store keeps this one index instead of one per
    filter because each random-keyed index costs ingest a quarter to a half
    of its rate (see audit_store.c); a filter on a rare value therefore
    walks the organisation's range, which the benchmark measures.

    The organisation is the token's (the request's org_id was checked equal
    to it); names are resolved to the store's integer ids first, and a name
    the store has never seen means an empty page, not an error. The rows'
    own identifiers are read as ids and named through the thread's
    query_names cache, but for broadcast and file ids, which are new with
    each event and are stored as text in the row. A page is one read
    transaction.
    ========================================================================= */

#ifndef QUERY_FILTER_H_INCLUDED
#define QUERY_FILTER_H_INCLUDED

#include "query_call.h"

#include "audit_row.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    query_call_t *call;
    const char *op;                 //  binds the cursor to list or export
    int64_t org;                    //  the org's row id
    int64_t ident [5];              //  actor, user, device, group, subject ids
    bool empty;                     //  nothing can match
    audit_cursor_pos_t after;       //  where the page starts
    sqlite3_stmt *stmt;
    uint32_t limit;
    uint32_t returned;
    struct {
        int64_t id, timestamp_ms;
    } last;                         //  the last row returned, for the cursor
    bool more;                      //  a row exists past the page
    struct _query_names_t *names;   //  this thread's names cache
    bool in_transaction;            //  the page's read transaction is open
} query_filter_t;

//  Open the page's read transaction, resolve names and the cursor and
//  prepare its statement. Returns 0 (query_filter_close must follow), or
//  -1 with the reply failed (bad_request for a bad cursor, internal for a
//  store error) and nothing left open.
int
    query_filter_open (query_filter_t *self, query_call_t *call, const char *op);

//  The next row of the page into *row: 1, or 0 at the page's end, or -1 on
//  a store error (reply failed). The row's texts are valid until the next
//  call; its org_id is the request's.
int
    query_filter_next (query_filter_t *self, audit_row_t *row);

//  Finish the page and its read transaction: writes the cursor of the
//  next page into text
//  (AUDIT_CURSOR_TEXT_SIZE) and returns true, or returns false when this
//  was the last page.
bool
    query_filter_close (query_filter_t *self, char *text);

//  Number of SQL shapes (one per order), and the text of one, so that a
//  test can check each one's query plan.
int
    query_filter_shape_count (void);
const char *
    query_filter_shape_sql (int shape);

#ifdef __cplusplus
}
#endif

#endif
