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
static uint32_t s_limit = S_LIMIT;     //  of the requests s_export makes

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
    s_limit = S_LIMIT;
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
    test_pack_kv_uint (pack, "limit", s_limit);
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

Test (query_export, a_chunk_read_ahead_is_not_given_to_a_request_of_another_limit)
{
    s_chunk_t first = s_first_then_ahead (s_no_stop);
    s_limit = S_LIMIT + 1;
    s_chunk_t other = s_export ("ndjson", first.cursor, NULL, NULL);
    cr_assert_str_empty (other.code);
    cr_expect_eq (other.rows, S_LIMIT + 1);
    cr_expect_not_null (strstr (other.data, ".500Z"), "read when asked for");
}

Test (query_export, a_chunk_read_ahead_too_long_ago_is_read_again)
{
    s_chunk_t first = s_first_then_ahead (s_no_stop);
    zclock_sleep (QUERY_EXPORT_AHEAD_FRESH_MS + 100);
    s_chunk_t late = s_export ("ndjson", first.cursor, NULL, NULL);
    cr_assert_str_empty (late.code);
    cr_expect_not_null (strstr (late.data, ".500Z"), "read when asked for");
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
//  The worker's side, through the server: one worker, so that every
//  request reaches the one that reads ahead; chunks of 5,000 events, so
//  that a read lasts while the next request comes (some milliseconds)

#define S_BIG_EVENTS    16000           //  more than three chunks: none is the last
#define S_BIG_LIMIT     5000

static zactor_t *s_server;
static zsock_t *s_client [2];
static int64_t s_big_base;

//  n user_logins of actor, serials from first, a millisecond apart from
//  s_big_base + first
static void
s_store_logins (uint32_t first, uint32_t n, const char *actor)
{
    static audit_record_t records [1000];
    audit_store_outcome_t outcomes [1000];
    for (uint32_t done = 0; done < n; ) {
        uint32_t batch = n - done < 1000? n - done: 1000;
        for (uint32_t at = 0; at < batch; at++)
            test_record_login (&records [at], "org-a", actor, first + done + at,
                               s_big_base + first + done + at);
        cr_assert_eq (audit_store_write (s_writer, records, batch, outcomes, NULL), 0);
        done += batch;
    }
}

static void
s_server_setup (void)
{
    s_dir = test_tmpdir_new ("qexport-worker");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_writer);
    s_big_base = test_now_ms () - 86400000;
    s_store_logins (0, S_BIG_EVENTS, "actor");
    cr_assert_eq (query_shared_open (&s_shared, s_dir, "test", (const uint8_t *) S_SECRET,
                                     strlen (S_SECRET), NULL), 0);
    s_token = test_token (S_SECRET, "org_admin", "org-a", NULL, 600);
}

static void s_send (zsock_t *client, const char *op, const char *cursor);
typedef struct {
    uint64_t rows;                      //  0 for health
    char cursor [AUDIT_CURSOR_TEXT_SIZE];
    bool late;                          //  the data holds an event of "late-actor"
} s_answer_t;
static s_answer_t s_recv (zsock_t *client);

//  The server with workers threads, and two clients
static void
s_start (int workers)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    query_server_options_t options = { .endpoint = endpoint, .workers = workers,
                                       .shared = &s_shared };
    s_server = query_server_new (&options);
    cr_assert_not_null (s_server);
    cr_assert_eq (audit_actor_ask (s_server, "START"), 0);
    for (int client = 0; client < 2; client++) {
        s_client [client] = zsock_new_dealer (endpoint);
        cr_assert_not_null (s_client [client]);
        zsock_set_rcvtimeo (s_client [client], 10000);
        //  Connected, so that the tests' requests reach the server promptly
        s_send (s_client [client], "health", NULL);
        s_recv (s_client [client]);
    }
}

static void
s_server_teardown (void)
{
    for (int client = 0; client < 2; client++)
        zsock_destroy (&s_client [client]);
    zactor_destroy (&s_server);
    query_shared_close (&s_shared);
    audit_store_destroy (&s_writer);
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

//  The next reply of client, which must be ok
static s_answer_t
s_recv (zsock_t *client)
{
    zmsg_t *msg = zmsg_recv (client);
    cr_assert_not_null (msg, "no reply");
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_assert (test_unpack_frame (zmsg_last (msg), &reply));
    cr_assert_str_empty (test_reply_code (&reply));
    s_answer_t answer = { .rows = 0 };
    const msgpack_object *rows = test_obj_get (&reply.data, "rows");
    const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
    const msgpack_object *data = test_obj_get (&reply.data, "data");
    if (rows)
        answer.rows = rows->via.u64;
    if (next && next->type == MSGPACK_OBJECT_STR)
        snprintf (answer.cursor, sizeof answer.cursor, "%.*s", (int) next->via.str.size,
                  next->via.str.ptr);
    answer.late = data && memmem (data->via.bin.ptr, data->via.bin.size, "late-actor", 10);
    msgpack_unpacked_destroy (&reply);
    zmsg_destroy (&msg);
    return answer;
}

//  The persistent total of a query counter, the tally written first
static int64_t
s_counter (const char *name)
{
    query_tally_flush (s_shared.tally, s_shared.writer, &s_shared.writer_lock, zclock_mono (),
                       true);
    int64_t value = test_store_counter (s_shared.writer, name);
    return value < 0? 0: value;
}

//  The first chunk answered and the second read ahead by now; then an
//  event inside the second chunk's range, which only a read made when the
//  second is asked for has. One worker.
static s_answer_t
s_first_then_late_event (const char *behind_op, int behind_client)
{
    s_start (1);
    s_send (s_client [0], "export", NULL);
    if (behind_op)
        s_send (s_client [behind_client], behind_op, NULL);
    s_answer_t first = s_recv (s_client [0]);
    cr_assert_eq (first.rows, S_BIG_LIMIT);
    cr_assert_str_not_empty (first.cursor);
    if (behind_op)
        s_recv (s_client [behind_client]);
    zclock_sleep (200);                 //  the read ahead, some milliseconds, is over
    audit_record_t late;
    test_record_login (&late, "org-a", "late-actor", S_BIG_EVENTS, s_big_base + S_BIG_LIMIT + 100);
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &late, 1, &outcome, NULL), 0);
    cr_assert_eq (outcome, AUDIT_STORE_STORED);
    return first;
}

//  The second chunk, asked for with the first's cursor
static s_answer_t
s_second (const s_answer_t *first)
{
    s_send (s_client [0], "export", first->cursor);
    s_answer_t second = s_recv (s_client [0]);
    cr_expect_eq (second.rows, S_BIG_LIMIT);
    return second;
}

TestSuite (query_export_worker, .init = s_server_setup, .fini = s_server_teardown,
           .timeout = 60);

Test (query_export_worker, the_worker_reads_the_next_chunk_ahead_and_serves_it)
{
    s_answer_t first = s_first_then_late_event (NULL, 0);
    s_answer_t second = s_second (&first);
    cr_expect_not (second.late, "read before the event was stored");
    cr_expect_eq (s_counter ("query.export_served_ahead"), 1);
    cr_expect_geq (s_counter ("query.export_read_ahead"), 1, "the second (the third may be under way)");
}

//  The client asks for the next chunk as soon as it has the last: its
//  request comes while the read goes on, and waits for it
Test (query_export_worker, the_next_chunk_asked_for_during_its_read_ahead_waits_for_it)
{
    s_start (1);
    char cursor [AUDIT_CURSOR_TEXT_SIZE] = "";
    for (int chunk = 0; chunk < 3; chunk++) {
        s_send (s_client [0], "export", chunk? cursor: NULL);
        s_answer_t answer = s_recv (s_client [0]);
        cr_assert_eq (answer.rows, S_BIG_LIMIT);
        snprintf (cursor, sizeof cursor, "%s", answer.cursor);
    }
    cr_expect_eq (s_counter ("query.export_served_ahead"), 2);
    cr_expect_eq (s_counter ("query.export_ahead_gave_way"), 0);
}

//  Another client's request, sent behind the first chunk's, reaches the
//  worker while it reads the second: the read gives way, the request is
//  answered, and the second chunk is read when asked for
Test (query_export_worker, the_read_ahead_gives_way_to_another_clients_request)
{
    s_answer_t first = s_first_then_late_event ("health", 1);
    s_answer_t second = s_second (&first);
    cr_expect (second.late, "read when asked for");
    cr_expect_eq (s_counter ("query.export_ahead_gave_way"), 1);
    cr_expect_eq (s_counter ("query.export_served_ahead"), 0);
}

//  The exporting client's own request for something else ends the read
//  too: it is answered first, and the chunk read when asked for
Test (query_export_worker, the_exporters_other_request_ends_the_read_ahead)
{
    s_answer_t first = s_first_then_late_event ("health", 0);
    s_answer_t second = s_second (&first);
    cr_expect (second.late, "read when asked for");
    cr_expect_eq (s_counter ("query.export_ahead_gave_way"), 1);
}

//  Two clients export at once through two workers: each one's next
//  request goes to the worker that reads ahead for it, so every chunk
//  after the first is served from a read ahead and none is read twice
Test (query_export_worker, two_exports_at_once_each_get_their_own_worker_s_read_ahead)
{
    s_start (2);
    char cursor [2][AUDIT_CURSOR_TEXT_SIZE] = { "", "" };
    for (int chunk = 0; chunk < 3; chunk++) {
        for (int client = 0; client < 2; client++)
            s_send (s_client [client], "export", chunk? cursor [client]: NULL);
        for (int client = 0; client < 2; client++) {
            s_answer_t answer = s_recv (s_client [client]);
            cr_assert_eq (answer.rows, S_BIG_LIMIT);
            snprintf (cursor [client], sizeof cursor [client], "%s", answer.cursor);
        }
    }
    cr_expect_eq (s_counter ("query.export_served_ahead"), 4);
    cr_expect_eq (s_counter ("query.export_ahead_gave_way"), 0);
}
