/*  =========================================================================
    query_filter - a list or export request as a page of the store

    Turns the checked request into the store's typed filter (audit_page),
    and the page's end into the next cursor: the cursor's HMAC binds it to
    the op, the organisation, every filter and the order, so a cursor is
    honoured only by the request it came from. The organisation is the
    token's (the request's org_id was checked equal to it).
    ========================================================================= */

#ifndef QUERY_FILTER_H_INCLUDED
#define QUERY_FILTER_H_INCLUDED

#include "audit_page.h"
#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    query_call_t *call;
    const char *op;                 //  binds the cursor to list or export
    audit_page_t *page;
} query_filter_t;

//  The request's organisation, time range, filters, order and limit as the
//  store's page filter (no cursor: query_filter_open adds it). tail starts
//  from this too.
void
    query_filter_of_request (const query_request_t *request, audit_page_filter_t *filter);

//  Check the cursor and open the page. Returns 0 (query_filter_close must
//  follow), or -1 with the reply failed (bad_request for a bad cursor,
//  internal for a store error) and nothing left open.
int
    query_filter_open (query_filter_t *self, query_call_t *call, const char *op);

//  Check the request's cursor only, as query_filter_open does, opening
//  nothing: 0 when it has none or one this request may use, -1 with the
//  reply failed (bad_request). For a chunk read ahead (query_export).
int
    query_filter_check (query_call_t *call, const char *op);

//  The next row of the page into *row: 1, or 0 at the page's end, or -1 on
//  a store error (reply failed).
int
    query_filter_next (query_filter_t *self, audit_row_t *row);

//  Finish the page: writes the cursor of the next page into text
//  (AUDIT_CURSOR_TEXT_SIZE) and returns true, or returns false when this
//  was the last page (or text is NULL).
bool
    query_filter_close (query_filter_t *self, char *text);

//  Finish the page early, after the row at last (one the caller kept):
//  writes the cursor of the page that starts after it into text
//  (AUDIT_CURSOR_TEXT_SIZE). false when it cannot be made.
bool
    query_filter_close_at (query_filter_t *self, const audit_page_pos_t *last, char *text);

#ifdef __cplusplus
}
#endif

#endif
