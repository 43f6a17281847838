/*  =========================================================================
    query_export - the export op: the audit log as CSV or ndjson, chunk by
    chunk, the next one read ahead

    Each chunk is one keyset page, at most QUERY_EXPORT_CHUNK_BYTES_MAX
    bytes, so memory stays flat whatever the export's size; the first CSV
    chunk carries the header. The chunk that ends the export is itself
    recorded in the audit log as an audit_log_exported event by the admin
    who asked for it.

    While the client takes one chunk, its worker reads the next
    (query_export_ahead): the request that brings back the cursor just
    given, with the same format and limit, gets it at once, once its token
    and its cursor have been checked as for any read. Reading and sending
    then overlap, where a client and a worker otherwise wait for each
    other in turn. The chunk answers as a read made when it was read
    would: a row committed since, within its range, is in none of the
    chunks, as a row committed behind the cursor never is. It is read
    again after QUERY_EXPORT_AHEAD_FRESH_MS.
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

//  A chunk read ahead is served for this long after it was read, then
//  read again: an export client asks for the next chunk as soon as it
//  has the last one
#define QUERY_EXPORT_AHEAD_FRESH_MS   1000

//  Answer export: {ok, format, data: bin, rows, next_cursor}, and plan
//  the read ahead of the next chunk when there is one.
void
    query_export_run (query_call_t *call);

//  Whether reading ahead should give way now (to a request of another
//  client, say)
typedef bool (query_export_stop_fn) (void *arg);

//  True when the last export chunk answered has a next one to read ahead.
bool
    query_export_ahead_due (const query_call_t *call);

//  After the chunk's reply is sent: read the next one into call's read
//  ahead, with the request it came from (its cursor is then the next),
//  until stop (called every few hundred rows) says to give way. Reading
//  fails quietly: the request reads for itself then.
void
    query_export_ahead (query_call_t *call, query_request_t *request,
                        query_export_stop_fn *stop, void *arg);

//  Before a new request: a read ahead planned and not begun is dropped.
void
    query_export_ahead_cancel (query_call_t *call);

//  True when the request body (msgpack, not yet decoded) brings back the
//  cursor of the chunk being read ahead: that reading then goes on.
bool
    query_export_ahead_asked (const query_call_t *call, const void *body, size_t size);

//  The worker has had nothing to do for a while: a chunk read ahead and
//  no longer fresh gives its memory back (4 MiB at most).
void
    query_export_ahead_idle (query_call_t *call);

//  Free a read ahead; safe on NULL and twice.
void
    query_export_ahead_destroy (query_ahead_t **self_p);

#ifdef __cplusplus
}
#endif

#endif
