/*  =========================================================================
    query_export - the export op: the audit log as CSV, chunk by chunk

    Each chunk is one keyset page written as CSV, at most
    QUERY_EXPORT_CHUNK_BYTES_MAX bytes, so memory stays flat whatever the
    export's size; the first chunk carries the header. The
    chunk that ends the export is itself recorded in the audit log as an
    audit_log_exported event by the admin who asked for it.
    ========================================================================= */

#ifndef QUERY_EXPORT_H_INCLUDED
#define QUERY_EXPORT_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Bytes of one chunk at most: a chunk that would pass it ends early, with
//  fewer rows than asked and a next_cursor, so that a reply stays within
//  the memory bounds (README "Memory bounds"), whatever the limit
#define QUERY_EXPORT_CHUNK_BYTES_MAX  (4 * 1024 * 1024)

//  Answer export: {ok, format: "csv", data: bin, rows, next_cursor}.
void
    query_export_run (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
