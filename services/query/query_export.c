/*  =========================================================================
    query_export - the export op: the audit log as CSV, chunk by chunk
    ========================================================================= */

#include "query_export.h"
#include "query_admin.h"
#include "query_filter.h"

#include <string.h>

#include "audit_csv.h"
#include "audit_decode.h"
#include "audit_time.h"

//  CSV column of each resource field, -1 when it is not exported: from
//  the proto table once, not per row
static int s_field_column [AUDIT_FIELD_COUNT];

__attribute__ ((constructor)) static void
s_build_columns (void)
{
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        s_field_column [field] = audit_csv_field_column ((audit_field_t) field);
}

//  Texts of one row's cells, alive until the row is written; the
//  formatted time is kept for the next row, which is often in the same
//  second (a burst of events)
typedef struct {
    char timestamp [AUDIT_TIME_TEXT_SIZE];
    int64_t second;                 //  of timestamp, -1: none yet
    char event_id [AUDIT_UUID_TEXT_LEN + 1];
    char number [AUDIT_FIELD_COUNT][24];
    audit_csv_row_t row;
} s_cells_t;

#define s_TIME_TEXT_MAX_MS  253402300799999LL      //  9999-12-31T23:59:59.999Z

//  Decimal digits of value into text (24 bytes), without printf's parsing
static const char *
s_format_uint (uint64_t value, char *text)
{
    char *end = text + 23;
    *end = 0;
    do
        *--end = (char) ('0' + value % 10);
    while (value /= 10);
    return end;
}

//  "YYYY-MM-DDTHH:MM:SS.mmmZ": within the same second only mmm changes
static void
s_format_time (s_cells_t *cells, int64_t ms)
{
    if (ms >= 0 && ms / 1000 == cells->second) {
        int milli = (int) (ms % 1000);
        cells->timestamp [20] = (char) ('0' + milli / 100);
        cells->timestamp [21] = (char) ('0' + milli / 10 % 10);
        cells->timestamp [22] = (char) ('0' + milli % 10);
        return;
    }
    audit_time_format (ms, cells->timestamp);
    //  Past year 9999 the text is held at its end (audit_time_format), so
    //  there the digits are not the time's: such a second is not kept
    cells->second = ms >= 0 && ms <= s_TIME_TEXT_MAX_MS ? ms / 1000 : -1;
}

static void
s_fill (s_cells_t *cells, const query_row_t *row, const char *org_id)
{
    const audit_event_info_t *info = audit_proto_event_info (row->type);
    memset (&cells->row, 0, sizeof cells->row);
    s_format_time (cells, row->timestamp_ms);
    audit_decode_uuid_format (row->event_id, cells->event_id);
    cells->row.column [AUDIT_CSV_COL_TIMESTAMP] = cells->timestamp;
    cells->row.column [AUDIT_CSV_COL_EVENT_TYPE] = info ? info->name : "unknown";
    cells->row.column [AUDIT_CSV_COL_ORG_ID] = org_id;
    cells->row.column [AUDIT_CSV_COL_ACTOR_ID] = row->actor_id;
    cells->row.column [AUDIT_CSV_COL_EVENT_ID] = cells->event_id;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        int column = s_field_column [field];
        if (column < 0)
            continue;
        if (row->has_number [field])
            cells->row.column [column] = s_format_uint (row->number [field], cells->number [field]);
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
    s_cells_t cells = { .second = -1 };
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
