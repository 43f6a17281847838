/*  The export's read ahead: the next chunk is read while the client takes
    the last one, and served only to the request that brings its cursor
    back, with its token and cursor checked as for any read.

    The chunk read ahead is told apart from a read made when it is asked
    for by an event stored in between, inside the chunk's range: a read
    ahead does not have it, a fresh read does. The events are a second
    apart, on whole seconds; the one stored in between is on a half
    second, so its timestamp alone ends in ".500Z". */

#include <criterion/criterion.h>

#include "query_export.h"
#include "query_worker.h"
#include "query_server.h"
#include "audit_actor.h"
#include "test_support.h"

#define S_SECRET    "query-export-test-secret"
#define S_EVENTS    35              //  more than three chunks: none is the last
#define S_LIMIT     10

static char *s_dir;
static audit_store_t *s_writer;
static query_shared_t s_shared;
static query_call_t s_call;
static query_reply_t s_reply;
static query_request_t *s_request;
static char *s_token;
static int64_t s_base;
static msgpack_unpacked s_unpacked;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("qexport");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_writer);
    //  Whole seconds, within retention
    s_base = (test_now_ms () - 86400000) / 1000 * 1000;
    for (int at = 0; at < S_EVENTS; at++)
        cr_assert_eq (test_store_login (s_writer, "org-a", s_base + at * 1000, test_now_ms ()), 0);
    cr_assert_eq (query_shared_open (&s_shared, s_dir, "test", (const uint8_t *) S_SECRET,
                                     strlen (S_SECRET), NULL), 0);
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    query_reply_init (&s_reply);
    cr_assert_eq (query_worker_call_init (&s_call, &s_shared, &reader, &s_reply), 0);
    s_request = calloc (1, sizeof *s_request);
    cr_assert_not_null (s_request);
    s_token = test_token (S_SECRET, "org_admin", "org-a", NULL, 600);
    msgpack_unpacked_init (&s_unpacked);
}

static void
s_teardown (void)
{
    msgpack_unpacked_destroy (&s_unpacked);
    free (s_token);
    free (s_request);
    query_worker_call_release (&s_call);
    query_reply_release (&s_reply);
    query_shared_close (&s_shared);
    audit_store_destroy (&s_writer);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (query_export, .init = s_setup, .fini = s_teardown, .timeout = 60);

typedef struct {
    char code [32];                     //  "" when ok
    char data [8192];
    uint64_t rows;
    char cursor [AUDIT_CURSOR_TEXT_SIZE];
} s_chunk_t;

//  One export request, answered in-process as a worker does; actor_id,
//  cursor and token may be NULL (token: the org_admin's)
static s_chunk_t
s_export (const char *format, const char *cursor, const char *actor_id, const char *token)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6 + (cursor? 1: 0) + (actor_id? 1: 0));
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", "export");
    test_pack_kv_str (pack, "token", token? token: s_token);
    test_pack_kv_str (pack, "org_id", "org-a");
    test_pack_kv_str (pack, "format", format);
    test_pack_kv_uint (pack, "limit", S_LIMIT);
    if (cursor)
        test_pack_kv_str (pack, "cursor", cursor);
    if (actor_id)
        test_pack_kv_str (pack, "actor_id", actor_id);
    query_worker_answer (&s_call, s_request, test_pack_data (pack), test_pack_size (pack));
    test_pack_destroy (&pack);
    size_t offset = 0;
    cr_assert_eq (msgpack_unpack_next (&s_unpacked, s_reply.buffer.data, s_reply.buffer.size,
                                       &offset), MSGPACK_UNPACK_SUCCESS);
    s_chunk_t chunk = { .rows = 0 };
    snprintf (chunk.code, sizeof chunk.code, "%s", test_reply_code (&s_unpacked));
    if (chunk.code [0])
        return chunk;
    const msgpack_object *data = test_obj_get (&s_unpacked.data, "data");
    cr_assert (data && data->type == MSGPACK_OBJECT_BIN && data->via.bin.size < sizeof chunk.data);
    memcpy (chunk.data, data->via.bin.ptr, data->via.bin.size);
    chunk.rows = test_obj_get (&s_unpacked.data, "rows")->via.u64;
    const msgpack_object *next = test_obj_get (&s_unpacked.data, "next_cursor");
    if (next && next->type == MSGPACK_OBJECT_STR)
        snprintf (chunk.cursor, sizeof chunk.cursor, "%.*s", (int) next->via.str.size,
                  next->via.str.ptr);
    return chunk;
}

//  The first chunk, its next one read ahead as the worker does once the
//  reply is sent, then an event stored inside that next chunk's range
static s_chunk_t
s_first_then_ahead (query_export_stop_fn *stop)
{
    s_chunk_t first = s_export ("ndjson", NULL, NULL, NULL);
    cr_assert_str_empty (first.code);
    cr_assert_eq (first.rows, S_LIMIT);
    cr_assert_str_not_empty (first.cursor);
    cr_assert (query_export_ahead_due (&s_call));
    query_export_ahead (&s_call, s_request, stop, NULL);
    cr_assert_eq (test_store_login (s_writer, "org-a", s_base + 15500, test_now_ms ()), 0);
    return first;
}

static bool
s_no_stop (void *arg)
{
    (void) arg;
    return false;
}

static bool
s_stop_at_once (void *arg)
{
    (void) arg;
    return true;
}

Test (query_export, the_next_chunk_read_ahead_answers_the_request_that_brings_its_cursor)
{
    s_chunk_t first = s_first_then_ahead (s_no_stop);
    s_chunk_t ahead = s_export ("ndjson", first.cursor, NULL, NULL);
    cr_assert_str_empty (ahead.code);
    cr_expect_eq (ahead.rows, S_LIMIT);
    cr_expect_null (strstr (ahead.data, ".500Z"), "read before the event was stored");
    cr_expect_str_not_empty (ahead.cursor);
    //  The same cursor read afresh (another format, never read ahead)
    s_chunk_t fresh = s_export ("csv", first.cursor, NULL, NULL);
    cr_assert_str_empty (fresh.code);
    cr_expect_not_null (strstr (fresh.data, ".500Z"), "read when asked for");
    cr_expect_str_neq (fresh.cursor, ahead.cursor);
}

Test (query_export, the_chunk_read_ahead_goes_on_chunk_after_chunk)
{
    s_chunk_t first = s_first_then_ahead (s_no_stop);
    s_chunk_t second = s_export ("ndjson", first.cursor, NULL, NULL);
    cr_assert_str_empty (second.code);
    cr_expect_null (strstr (second.data, ".500Z"));
    cr_assert (query_export_ahead_due (&s_call), "the third is due");
    query_export_ahead (&s_call, s_request, s_no_stop, NULL);
    //  Inside the third chunk's range, after it was read
    cr_assert_eq (test_store_login (s_writer, "org-a", s_base + 25500, test_now_ms ()), 0);
    s_chunk_t third = s_export ("ndjson", second.cursor, NULL, NULL);
    cr_assert_str_empty (third.code);
    cr_expect_eq (third.rows, S_LIMIT);
    cr_expect_null (strstr (third.data, ".500Z"), "read ahead too");
}

Test (query_export, a_chunk_read_ahead_is_not_given_to_a_request_of_other_filters)
{
    s_chunk_t first = s_first_then_ahead (s_no_stop);
    s_chunk_t other = s_export ("ndjson", first.cursor, "someone-else", NULL);
    cr_expect_str_eq (other.code, "bad_request", "the cursor is bound to the filters");
}

Test (query_export, a_chunk_read_ahead_is_not_given_without_a_good_token)
{
    s_chunk_t first = s_first_then_ahead (s_no_stop);
    char *stranger = test_token ("another-secret", "org_admin", "org-a", NULL, 600);
    s_chunk_t refused = s_export ("ndjson", first.cursor, NULL, stranger);
    free (stranger);
    cr_expect_str_eq (refused.code, "unauthenticated");
    char *device = test_token (S_SECRET, "device", "org-a", "d-1", 600);
    s_chunk_t forbidden = s_export ("ndjson", first.cursor, NULL, device);
    free (device);
    cr_expect_str_eq (forbidden.code, "forbidden");
}

Test (query_export, a_read_ahead_that_gives_way_leaves_the_request_to_read_for_itself)
{
    s_chunk_t first = s_first_then_ahead (s_stop_at_once);
    s_chunk_t second = s_export ("ndjson", first.cursor, NULL, NULL);
    cr_assert_str_empty (second.code);
    cr_expect_eq (second.rows, S_LIMIT);
    cr_expect_not_null (strstr (second.data, ".500Z"), "read when asked for");
}

//  --------------------------------------------------------------------------
//  The worker's side: a request that arrives while it reads ahead is
//  answered, whoever sent it. One worker, so that every request reaches
//  the one that reads ahead; chunks of 3,000 events, so that the read
//  lasts while the next request comes.

#define S_BIG_EVENTS    10000           //  more than three chunks: none is the last
#define S_BIG_LIMIT     3000

static zactor_t *s_server;
static zsock_t *s_client [2];

static void
s_server_setup (void)
{
    s_dir = test_tmpdir_new ("qexport-worker");
    audit_store_t *writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (writer);
    static audit_record_t records [1000];
    int64_t base = test_now_ms () - 86400000;
    for (uint32_t n = 0; n < S_BIG_EVENTS; n++) {
        test_record_login (&records [n % 1000], "org-a", "actor", n, base + n);
        audit_store_outcome_t outcomes [1000];
        if (n % 1000 == 999)
            cr_assert_eq (audit_store_write (writer, records, 1000, outcomes, NULL), 0);
    }
    audit_store_destroy (&writer);
    cr_assert_eq (query_shared_open (&s_shared, s_dir, "test", (const uint8_t *) S_SECRET,
                                     strlen (S_SECRET), NULL), 0);
    s_token = test_token (S_SECRET, "org_admin", "org-a", NULL, 600);
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    query_server_options_t options = { .endpoint = endpoint, .workers = 1, .shared = &s_shared };
    s_server = query_server_new (&options);
    cr_assert_not_null (s_server);
    cr_assert_eq (audit_actor_ask (s_server, "START"), 0);
    for (int client = 0; client < 2; client++) {
        s_client [client] = zsock_new_dealer (endpoint);
        cr_assert_not_null (s_client [client]);
        zsock_set_rcvtimeo (s_client [client], 10000);
    }
}

static void
s_server_teardown (void)
{
    for (int client = 0; client < 2; client++)
        zsock_destroy (&s_client [client]);
    zactor_destroy (&s_server);
    query_shared_close (&s_shared);
    free (s_token);
    test_tmpdir_destroy (&s_dir);
}

//  export (with cursor when not NULL) or health, REQ-style
static void
s_send (zsock_t *client, const char *op, const char *cursor)
{
    bool export = streq (op, "export");
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, export? 6 + (cursor? 1: 0): 2);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", op);
    if (export) {
        test_pack_kv_str (pack, "token", s_token);
        test_pack_kv_str (pack, "org_id", "org-a");
        test_pack_kv_str (pack, "format", "ndjson");
        test_pack_kv_uint (pack, "limit", S_BIG_LIMIT);
        if (cursor)
            test_pack_kv_str (pack, "cursor", cursor);
    }
    cr_assert_eq (zsock_send (client, "zb", test_pack_data (pack), test_pack_size (pack)), 0);
    test_pack_destroy (&pack);
}

//  The next reply of client: ok, with rows (health: none) and its
//  next_cursor into cursor ("" without)
static uint64_t
s_recv (zsock_t *client, char *cursor)
{
    zmsg_t *msg = zmsg_recv (client);
    cr_assert_not_null (msg, "no reply");
    zframe_t *body = zmsg_last (msg);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_assert (test_unpack_frame (body, &reply));
    cr_assert_str_empty (test_reply_code (&reply));
    const msgpack_object *rows = test_obj_get (&reply.data, "rows");
    const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
    cursor [0] = 0;
    if (next && next->type == MSGPACK_OBJECT_STR)
        snprintf (cursor, AUDIT_CURSOR_TEXT_SIZE, "%.*s", (int) next->via.str.size,
                  next->via.str.ptr);
    uint64_t count = rows? rows->via.u64: 0;
    msgpack_unpacked_destroy (&reply);
    zmsg_destroy (&msg);
    return count;
}

TestSuite (query_export_worker, .init = s_server_setup, .fini = s_server_teardown,
           .timeout = 60);

//  Another client's request, sent behind the first chunk's, reaches the
//  worker while it reads the second: it is answered, and the export goes on
Test (query_export_worker, another_clients_request_during_a_read_ahead_is_answered)
{
    char cursor [AUDIT_CURSOR_TEXT_SIZE], none [AUDIT_CURSOR_TEXT_SIZE];
    s_send (s_client [0], "export", NULL);
    s_send (s_client [1], "health", NULL);
    cr_expect_eq (s_recv (s_client [0], cursor), S_BIG_LIMIT);
    cr_assert_str_not_empty (cursor);
    s_recv (s_client [1], none);
    s_send (s_client [0], "export", cursor);
    cr_expect_eq (s_recv (s_client [0], cursor), S_BIG_LIMIT);
    cr_expect_str_not_empty (cursor);
}

//  The exporting client's own request, sent behind its chunk's, is taken
//  in while the read goes on, and answered once it ends
Test (query_export_worker, the_exporting_clients_own_request_waits_for_the_read_ahead)
{
    char cursor [AUDIT_CURSOR_TEXT_SIZE], none [AUDIT_CURSOR_TEXT_SIZE];
    s_send (s_client [0], "export", NULL);
    s_send (s_client [0], "health", NULL);
    cr_expect_eq (s_recv (s_client [0], cursor), S_BIG_LIMIT);
    cr_expect_eq (s_recv (s_client [0], none), 0, "health");
    cr_assert_str_not_empty (cursor);
    s_send (s_client [0], "export", cursor);
    cr_expect_eq (s_recv (s_client [0], cursor), S_BIG_LIMIT);
    s_send (s_client [0], "export", cursor);
    cr_expect_eq (s_recv (s_client [0], cursor), S_BIG_LIMIT, "the third, read ahead too");
}
