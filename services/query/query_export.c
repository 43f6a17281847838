/*  =========================================================================
    query_export - the export op: the audit log as CSV, chunk by chunk
    ========================================================================= */

#include "query_export.h"
#include "query_admin.h"
#include "query_filter.h"

#include <inttypes.h>
#include <stdio.h>

#include "audit_csv.h"
#include "audit_decode.h"
#include "audit_time.h"

//  Texts of one row's cells, alive until the row is written
typedef struct {
    char timestamp [AUDIT_TIME_TEXT_SIZE];
    char event_id [AUDIT_UUID_TEXT_LEN + 1];
    char number [AUDIT_FIELD_COUNT][24];
    audit_csv_row_t row;
} s_cells_t;

static void
s_fill (s_cells_t *cells, const query_row_t *row, const char *org_id)
{
    const audit_event_info_t *info = audit_proto_event_info (row->type);
    memset (&cells->row, 0, sizeof cells->row);
    audit_time_format (row->timestamp_ms, cells->timestamp);
    audit_decode_uuid_format (row->event_id, cells->event_id);
    cells->row.column [AUDIT_CSV_COL_TIMESTAMP] = cells->timestamp;
    cells->row.column [AUDIT_CSV_COL_EVENT_TYPE] = info ? info->name : "unknown";
    cells->row.column [AUDIT_CSV_COL_ORG_ID] = org_id;
    cells->row.column [AUDIT_CSV_COL_ACTOR_ID] = row->actor_id;
    cells->row.column [AUDIT_CSV_COL_EVENT_ID] = cells->event_id;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        int column = audit_csv_field_column ((audit_field_t) field);
        if (column < 0)
            continue;
        if (row->has_number [field]) {
            snprintf (cells->number [field], sizeof cells->number [field], "%" PRIu64, row->number [field]);
            cells->row.column [column] = cells->number [field];
        }
        else
            cells->row.column [column] = row->text [field];
    }
}

//  Write the page as CSV; 0, or -1 with the reply failed
static int
s_write_chunk (query_call_t *call, query_filter_t *filter, audit_csv_t *csv)
{
    if (!call->request->cursor [0] && audit_csv_header (csv) != 0)
        return -1;
    query_row_t row;
    s_cells_t cells;
    int rc;
    while ((rc = query_filter_next (filter, &row)) == 1) {
        s_fill (&cells, &row, call->request->org_id);
        if (audit_csv_row (csv, &cells.row) != 0) {
            query_reply_fail (call->reply, AUDIT_ERROR_TOO_LARGE,
                              "chunk too large: ask for fewer rows per chunk");
            return -1;
        }
    }
    return rc;
}

void
query_export_run (query_call_t *call)
{
    query_filter_t filter;
    if (query_filter_open (&filter, call, "export") != 0)
        return;
    audit_csv_t *csv = audit_csv_new (0);
    if (!csv) {
        query_reply_fail (call->reply, AUDIT_ERROR_INTERNAL, "out of memory");
        query_filter_close (&filter, NULL);
        return;
    }
    int rc = s_write_chunk (call, &filter, csv);
    char cursor [AUDIT_CURSOR_TEXT_SIZE];
    bool more = query_filter_close (&filter, cursor);
    //  The export is complete when this chunk is the last: record it
    if (rc == 0 && !more)
        rc = query_admin_record (call, AUDIT_EVENT_AUDIT_LOG_EXPORTED);
    if (rc == 0) {
        query_reply_ok (call->reply, 4);
        query_reply_kv_str (call->reply, "format", "csv");
        query_reply_str (call->reply, "data");
        msgpack_pack_bin (&call->reply->packer, audit_csv_size (csv));
        msgpack_pack_bin_body (&call->reply->packer, audit_csv_data (csv), audit_csv_size (csv));
        query_reply_kv_uint (call->reply, "rows", audit_csv_row_count (csv));
        query_reply_kv_str_or_nil (call->reply, "next_cursor", more ? cursor : NULL);
    }
    audit_csv_destroy (&csv);
}
