/*  =========================================================================
    audit_page - one page of an organisation's audit events, from a filter

    The read behind list and export (and, later, tail): open a page from a
    typed filter, step through its rows as audit_row_t, close it. The page
    is one read transaction, so its rows, the names they resolve to and
    the identifier generation the names cache checks come from one
    snapshot. Names in the filter are resolved to the store's ids first; a
    name the store has never seen means an empty page, not an error.

    Keyset order: (timestamp, log_index), newest first or oldest first. A
    page reads one row past its limit, to tell whether there is a next one,
    and audit_page_more gives the position the next page starts after.

    Log order (tail): the rows with log_index >= from_index, in log_index
    order, through the leaf table's key; the time range and the cursor do
    not apply. audit_page_log_next then says where the next page starts,
    so that a follower misses nothing and sees nothing twice, however late
    an event's timestamp and whatever the filter skipped.

    Every filter is tested on the row itself, in the table's primary key
    order (org, ts, log_index): an organisation's rows are stored together,
    so a page of 100 reads a few database pages, and a filter on a rare
    value walks the organisation's time range.
    ========================================================================= */

#ifndef AUDIT_PAGE_H_INCLUDED
#define AUDIT_PAGE_H_INCLUDED

#include "audit_cursor.h"
#include "audit_row.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Where a page ends, and the next one starts after
typedef struct {
    int64_t ts_ms;
    uint64_t log_index;
} audit_page_pos_t;

//  What the rows of a page must match. Text filters are NULL or "" for
//  any; field [f] is read only for the fields that audit_fields.def marks
//  as filters.
typedef struct {
    const char *org_id;
    int64_t from_ms, to_ms;                 //  [from, to); INT64_MIN, INT64_MAX: open
    uint32_t type_mask;                     //  bit (1 << type) of each type wanted
    const char *actor_id;
    const char *subject;                    //  actor_id or user_id equals it
    const char *field [AUDIT_FIELD_COUNT];
    audit_cursor_order_t order;
    bool has_after;                         //  start after `after`, not at an end
    audit_page_pos_t after;
    uint32_t limit;                         //  rows, at least 1
    bool log_order;                         //  tail: log_index order from from_index
    uint64_t from_index;
} audit_page_filter_t;

typedef struct _audit_page_t audit_page_t;

//  Open a page of store (its audit.db connection; a READER's or any).
//  The filter's strings are borrowed until audit_page_destroy. Returns
//  the page, or NULL when the store could not be read (logged).
audit_page_t *
    audit_page_new (audit_store_t *store, const audit_page_filter_t *filter);

//  The next row into *row: 1, 0 at the page's end, -1 on a store error
//  (logged). Its texts are valid until the next call.
int
    audit_page_next (audit_page_t *self, audit_row_t *row);

//  After the last row: true, and in *last the position of the page's last
//  row, when a row exists past the page.
bool
    audit_page_more (audit_page_t *self, audit_page_pos_t *last);

//  In log order, after the last row: the log_index the next page starts
//  at (past every row this page read or skipped, in its snapshot).
uint64_t
    audit_page_log_next (audit_page_t *self);

//  End the read transaction and free; safe on NULL and twice.
void
    audit_page_destroy (audit_page_t **self_p);

//  The SQL of each shape (one per order), so that a test can check its
//  query plan.
int
    audit_page_shape_count (void);
const char *
    audit_page_shape_sql (int shape);

#ifdef __cplusplus
}
#endif

#endif
