/*  =========================================================================
    query_export - the export op: the audit log as CSV or ndjson, chunk by
    chunk, the next one read ahead

    Each event is the one rendering of audit_render. A CSV chunk without a
    cursor starts with the header; an ndjson chunk has none.
    ========================================================================= */

#include "query_export.h"
#include "query_log.h"
#include "audit_store_log.h"
#include "query_admin.h"
#include "query_filter.h"
#include "query_tally.h"

#include "audit_render.h"

#include <assert.h>
#include <czmq.h>

//  The chunk read ahead, and the request it answers: the one that brings
//  back the cursor the last chunk gave, with the same format and limit
struct _query_ahead_t {
    bool due;                           //  the last chunk had more: read the next one
    bool held;                          //  chunk holds it
    char cursor [AUDIT_CURSOR_TEXT_SIZE];
    query_format_t format;
    uint32_t limit;
    int64_t read_ms;                    //  monotonic, when its read began
    audit_csv_t *chunk;
    bool more;                          //  what it gives next
    char next [AUDIT_CURSOR_TEXT_SIZE];
};

//  Rows between two looks at whether reading ahead should give way; the
//  first look is after the first row
#define s_AHEAD_LOOK_ROWS   256

//  One event into the chunk in the request's format; 0, or -1 past the cap
static int
s_write_row (const audit_row_t *row, query_format_t format, audit_csv_t *chunk)
{
    if (format == QUERY_FORMAT_CSV)
        return audit_render_csv (row, chunk);
    char line [AUDIT_RENDER_LINE_MAX];
    int len = audit_render_ndjson (row, line, sizeof line);
    return len < 0 ? -1 : audit_csv_line (chunk, line, (size_t) len);
}

//  Write the page; 0, 1 when stop said so (read ahead), or -1 with the
//  reply failed. A row that would pass the chunk's cap ends the chunk
//  early: *cut is then the last row kept
static int
s_write_chunk (query_call_t *call, query_filter_t *filter, audit_csv_t *chunk,
               bool *cut, audit_page_pos_t *last, query_export_stop_fn *stop, void *arg)
{
    query_format_t format = call->request->format;
    if (format == QUERY_FORMAT_CSV && !call->request->cursor [0]
    &&  audit_csv_header (chunk) != 0) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "chunk buffer too small");
        return -1;
    }
    audit_row_t row;
    int rc;
    size_t rows = 0;
    while ((rc = query_filter_next (filter, &row)) == 1) {
        if (s_write_row (&row, format, chunk) != 0) {
            *cut = audit_csv_row_count (chunk) > 0;
            if (*cut)
                return 0;
            query_reply_fail (call->reply, AUDIT_ERROR_TOO_LARGE, "one event is larger than a chunk");
            return -1;
        }
        *last = (audit_page_pos_t) { row.timestamp_ms, row.log_index };
        if (stop && rows++ % s_AHEAD_LOOK_ROWS == 0 && stop (arg))
            return 1;
    }
    return rc;
}

//  The request's chunk into chunk, and the cursor of the next one into
//  cursor when *more. 0, 1 when stop said so, or -1 with the reply failed
static int
s_read_chunk (query_call_t *call, audit_csv_t *chunk, bool *more, char *cursor,
              query_export_stop_fn *stop, void *arg)
{
    query_filter_t filter;
    if (query_filter_open (&filter, call, "export") != 0)
        return -1;
    audit_csv_reset (chunk);
    bool cut = false;
    audit_page_pos_t last = { 0, 0 };
    int rc = s_write_chunk (call, &filter, chunk, &cut, &last, stop, arg);
    *more = cut ? query_filter_close_at (&filter, &last, cursor)
                : query_filter_close (&filter, cursor);
    if (rc == 0 && cut && !*more) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the cursor could not be made");
        rc = -1;
    }
    assert (stop || rc != 1);
    return rc;
}

static void
s_reply (query_call_t *call, audit_csv_t *chunk, bool more, const char *cursor,
         const char *note)
{
    query_reply_ok (call->reply, more? 4: 5);
    if (!more)
        query_reply_kv_str (call->reply, "checkpoint", note);
    query_reply_kv_str (call->reply, "format",
                        query_request_format_name (call->request->format));
    query_reply_str (call->reply, "data");
    msgpack_pack_bin (&call->reply->packer, audit_csv_size (chunk));
    msgpack_pack_bin_body (&call->reply->packer, audit_csv_data (chunk), audit_csv_size (chunk));
    query_reply_kv_uint (call->reply, "rows", audit_csv_row_count (chunk));
    query_reply_kv_str_or_nil (call->reply, "next_cursor", more ? cursor : NULL);
}

//  The export is complete when this chunk is the last: record it, and
//  sign the log with that record in it, so the size covers every row
static void
s_answer (query_call_t *call, audit_csv_t *chunk, bool more, const char *cursor)
{
    char note [AUDIT_STORE_NOTE_MAX] = "";
    int rc = 0;
    if (!more)
        rc = query_admin_record (call, AUDIT_EVENT_AUDIT_LOG_EXPORTED);
    if (rc == 0 && !more)
        rc = query_log_sign (call, note, sizeof note) < 0? -1: 0;
    if (rc == 0)
        s_reply (call, chunk, more, cursor, note);
}

static bool
s_fresh (const query_ahead_t *ahead)
{
    return zclock_mono () - ahead->read_ms <= QUERY_EXPORT_AHEAD_FRESH_MS;
}

//  True when the chunk read ahead answers this request, as one read now
//  would, but for what was committed since it was read
static bool
s_ahead_answers (query_call_t *call)
{
    const query_ahead_t *ahead = call->ahead;
    const query_request_t *request = call->request;
    return ahead && ahead->held && request->cursor [0]
        && streq (request->cursor, ahead->cursor)
        && request->format == ahead->format && request->limit == ahead->limit
        && s_fresh (ahead);
}

//  What the worker reads next, once this chunk is sent
static void
s_ahead_plan (query_call_t *call, bool more, const char *cursor)
{
    query_ahead_t *ahead = call->ahead;
    if (!ahead && more)
        ahead = call->ahead = (query_ahead_t *) calloc (1, sizeof *ahead);
    if (!ahead)
        return;
    ahead->held = false;
    ahead->due = more && !call->reply->failed;
    if (ahead->due) {
        snprintf (ahead->cursor, sizeof ahead->cursor, "%s", cursor);
        ahead->format = call->request->format;
        ahead->limit = call->request->limit;
    }
}

//  The chunk read ahead becomes the call's, with what it gives next
static void
s_ahead_take (query_call_t *call, bool *more, char *cursor)
{
    query_ahead_t *ahead = call->ahead;
    audit_csv_t *chunk = call->chunk;
    call->chunk = ahead->chunk;
    ahead->chunk = chunk;
    *more = ahead->more;
    snprintf (cursor, AUDIT_CURSOR_TEXT_SIZE, "%s", ahead->next);
    query_tally_count (call->shared->tally, AUDIT_COUNTER_QUERY_EXPORT_SERVED_AHEAD, 1);
}

void
query_export_run (query_call_t *call)
{
    char cursor [AUDIT_CURSOR_TEXT_SIZE] = "";
    bool more = false;
    int rc = -1;
    if (s_ahead_answers (call)) {
        //  The cursor still has to be this request's: bound to its filters
        rc = query_filter_check (call, "export");
        if (rc == 0)
            s_ahead_take (call, &more, cursor);
    }
    else
        rc = s_read_chunk (call, call->chunk, &more, cursor, NULL, NULL);
    if (rc == 0)
        s_answer (call, call->chunk, more, cursor);
    s_ahead_plan (call, more, cursor);
}

bool
query_export_ahead_due (const query_call_t *call)
{
    return call->ahead && call->ahead->due;
}

void
query_export_ahead_cancel (query_call_t *call)
{
    if (call->ahead)
        call->ahead->due = false;
}

bool
query_export_ahead_asked (const query_call_t *call, const void *body, size_t size)
{
    const query_ahead_t *ahead = call->ahead;
    //  The cursor's text is in the body as a msgpack str: a request that
    //  carries it and is another still gets its own read, after this one
    return ahead && ahead->cursor [0]
        && memmem (body, size, ahead->cursor, strlen (ahead->cursor)) != NULL;
}

void
query_export_ahead (query_call_t *call, query_request_t *request,
                    query_export_stop_fn *stop, void *arg)
{
    query_ahead_t *ahead = call->ahead;
    if (!query_export_ahead_due (call))
        return;
    ahead->due = false;
    if (!ahead->chunk && !(ahead->chunk = audit_csv_new (QUERY_EXPORT_CHUNK_BYTES_MAX)))
        return;
    //  The request that will bring the cursor back, as far as the read goes
    snprintf (request->cursor, sizeof request->cursor, "%s", ahead->cursor);
    call->request = request;
    call->claims = NULL;
    call->keys = query_shared_keys_hold (call->shared);
    //  Its age counts from its snapshot, taken as the read begins
    ahead->read_ms = zclock_mono ();
    int rc = s_read_chunk (call, ahead->chunk, &ahead->more, ahead->next, stop, arg);
    query_shared_keys_release (call->shared, &call->keys);
    ahead->held = rc == 0;
    if (rc >= 0)
        query_tally_count (call->shared->tally, rc == 0? AUDIT_COUNTER_QUERY_EXPORT_READ_AHEAD
                                              : AUDIT_COUNTER_QUERY_EXPORT_AHEAD_GAVE_WAY, 1);
    //  A failure here is found again, and answered, by the read the
    //  request then makes
    query_reply_reset (call->reply);
}

void
query_export_ahead_idle (query_call_t *call)
{
    query_ahead_t *ahead = call->ahead;
    if (ahead && ahead->chunk && !(ahead->held && s_fresh (ahead))) {
        audit_csv_destroy (&ahead->chunk);
        ahead->held = false;
    }
}

void
query_export_ahead_destroy (query_ahead_t **self_p)
{
    query_ahead_t *self = *self_p;
    if (self) {
        audit_csv_destroy (&self->chunk);
        free (self);
        *self_p = NULL;
    }
}
