/*  =========================================================================
    query_export - the export op: the audit log as CSV or ndjson, chunk by
    chunk

    Each event is the one rendering of audit_render. A CSV chunk without a
    cursor starts with the header; an ndjson chunk has none.
    ========================================================================= */

#include "query_export.h"
#include "query_log.h"
#include "audit_store_log.h"
#include "query_admin.h"
#include "query_filter.h"

#include "audit_render.h"

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

//  Write the page; 0, or -1 with the reply failed. A row that would pass
//  the chunk's cap ends the chunk early: *cut is then the last row kept
static int
s_write_chunk (query_call_t *call, query_filter_t *filter, audit_csv_t *chunk,
               bool *cut, audit_page_pos_t *last)
{
    query_format_t format = call->request->format;
    if (format == QUERY_FORMAT_CSV && !call->request->cursor [0]
    &&  audit_csv_header (chunk) != 0) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "chunk buffer too small");
        return -1;
    }
    audit_row_t row;
    int rc;
    while ((rc = query_filter_next (filter, &row)) == 1) {
        if (s_write_row (&row, format, chunk) != 0) {
            *cut = audit_csv_row_count (chunk) > 0;
            if (*cut)
                return 0;
            query_reply_fail (call->reply, AUDIT_ERROR_TOO_LARGE, "one event is larger than a chunk");
            return -1;
        }
        *last = (audit_page_pos_t) { row.timestamp_ms, row.log_index };
    }
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

void
query_export_run (query_call_t *call)
{
    query_filter_t filter;
    if (query_filter_open (&filter, call, "export") != 0)
        return;
    audit_csv_t *chunk = call->chunk;
    audit_csv_reset (chunk);
    bool cut = false;
    audit_page_pos_t last = { 0, 0 };
    int rc = s_write_chunk (call, &filter, chunk, &cut, &last);
    char cursor [AUDIT_CURSOR_TEXT_SIZE];
    bool more = cut ? query_filter_close_at (&filter, &last, cursor)
                    : query_filter_close (&filter, cursor);
    if (cut && !more) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "the cursor could not be made");
        rc = -1;
    }
    //  The export is complete when this chunk is the last: record it, and
    //  sign the log with that record in it, so the size covers every row
    char note [AUDIT_STORE_NOTE_MAX] = "";
    if (rc == 0 && !more)
        rc = query_admin_record (call, AUDIT_EVENT_AUDIT_LOG_EXPORTED);
    if (rc == 0 && !more)
        rc = query_log_sign (call, note, sizeof note) < 0? -1: 0;
    if (rc == 0)
        s_reply (call, chunk, more, cursor, note);
}
