/*  =========================================================================
    fuzz_request - libFuzzer entry point for the query request decoder

    Every input is one request frame. The decoder must return 0 or -1 for
    any bytes at all, and what it fills in is checked for what the query
    worker's handlers rely on without looking again: a known op whose role
    and arguments the op table allows, a limit within the op's, texts that
    are terminated, a message that names a key and is terminated, and
    filter bytes that are the same each time they are made.

    Build: -DAUDIT_FUZZ=ON with clang (tests/fuzz/CMakeLists.txt); scripts/
    test runs it for a bounded time (scripts/fuzz), from tests/fuzz/corpus/
    request.
    ========================================================================= */

#include <stdlib.h>
#include <string.h>

#include "query_request.h"

//  What every decoded request must hold
static void
s_check_request (const query_request_t *request)
{
    if ((int) request->op < 0 || request->op >= QUERY_OP_COUNT)
        abort ();
    const query_op_info_t *info = query_request_op_info (request->op);
    //  Only what the op takes, and all it needs
    if (request->present & ~(info->required | info->optional))
        abort ();
    if ((request->present & info->required) != info->required)
        abort ();
    if (info->max_limit && (request->limit == 0 || request->limit > info->max_limit))
        abort ();
    if (memchr (request->token, 0, sizeof request->token) == NULL
    ||  memchr (request->cursor, 0, sizeof request->cursor) == NULL
    ||  memchr (request->client_ip, 0, sizeof request->client_ip) == NULL)
        abort ();
    if (request->has_token && strlen (request->token) == 0)
        abort ();
    if (request->message_id_count > QUERY_MESSAGE_IDS_MAX)
        abort ();
    if ((int) request->format < 0 || request->format >= QUERY_FORMAT_COUNT)
        abort ();
    if (request->wait_ms > QUERY_TAIL_WAIT_MAX_MS)
        abort ();
    if (request->order != AUDIT_CURSOR_ASC && request->order != AUDIT_CURSOR_DESC)
        abort ();
}

//  The cursor's binding: the same filters, the same bytes
static void
s_check_filter_bytes (const query_request_t *request)
{
    static uint8_t first [QUERY_REQUEST_MAX_BYTES], second [QUERY_REQUEST_MAX_BYTES];
    size_t length = query_request_filter_bytes (request, first, sizeof first);
    if (length > sizeof first
    ||  query_request_filter_bytes (request, second, sizeof second) != length
    ||  memcmp (first, second, length) != 0)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  Static: the request holds 1,000 message ids
    static query_request_t request;
    audit_error_t error = AUDIT_ERROR_INTERNAL;
    char message [256];
    memset (message, 'x', sizeof message);
    int rc = query_request_decode (data, size, &request, &error, message, sizeof message);
    if (rc == 0) {
        s_check_request (&request);
        s_check_filter_bytes (&request);
    }
    else
    if (rc != -1
    ||  (error != AUDIT_ERROR_BAD_REQUEST && error != AUDIT_ERROR_TOO_LARGE)
    ||  memchr (message, 0, sizeof message) == NULL || message [0] == 0)
        abort ();
    return 0;
}
