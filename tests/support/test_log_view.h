/*  =========================================================================
    test_log_view - an organisation's log as list and the exports show it:
    every event by its log_index, walked to the end, and both export
    formats checked field by field against it (CSV through libcsv, with
    the formula guard undone; ndjson through auditctl's JSON reader).
    A test that uses it links auditctl_lib.
    ========================================================================= */

#ifndef TEST_LOG_VIEW_H_INCLUDED
#define TEST_LOG_VIEW_H_INCLUDED

#include "test_service.h"

//  Arguments of a request: up to 6 string pairs (the first NULL key ends
//  them) and one uint pair when uint_key is set
typedef struct {
    const char *keys [6];
    const char *values [6];
    const char *uint_key;
    uint64_t uint_value;
} test_args_t;

//  The events of one organisation, by log_index
typedef struct {
    zhashx_t **at;              //  key -> value text (numbers in decimal); NULL: not listed
    size_t slots;
    size_t events;
} test_log_t;

//  Send {v, op, token, ...args} and assert an ok reply.
void test_call_ok (test_service_t *service, const char *op, const char *token,
                   const test_args_t *args, msgpack_unpacked *reply);

//  Add org's whole log to log (zeroed by the caller): list, oldest first,
//  following next_cursor. Asserts no log_index comes twice.
void test_log_walk (test_service_t *service, test_log_t *log, const char *token,
                    const char *org);

//  The text of key of the event at log_index at (asserted listed), or NULL
//  when the event has no such key.
const char *test_log_value (const test_log_t *log, size_t at, const char *key);

//  Assert the log holds exactly the indexes 0 .. n-1, each once.
void test_log_expect_contiguous (const test_log_t *log, size_t n, const char *org);

//  Free every event and zero the log; safe twice.
void test_log_clear (test_log_t *log);

//  With org's log at n events: export it as CSV in chunks of limit rows
//  and assert every row is list's event of its log_index, then (the export
//  recorded itself at index n) as ndjson, the same with n + 1 events.
void test_log_expect_exports (test_service_t *service, const char *token, const char *org,
                              size_t n, uint64_t limit);

#endif
