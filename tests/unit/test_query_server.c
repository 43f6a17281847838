/*  The query server actor with one worker thread: a request that waited in
    the queue longer than the limit is answered unavailable, not run.

    The worker is held deterministically, not by a slow query: the test
    takes the shared writer lock, so the worker blocks inside mq_ack until
    the test lets go. Requests go over one DEALER, so they reach the server
    in the order they were sent. */

#include <criterion/criterion.h>

#include "sqlite_store.h"
#include "audit_actor.h"
#include "audit_ident.h"
#include "query_server.h"
#include "query_worker.h"
#include "test_support.h"

#define S_SECRET    "query-server-test-secret"
//  A queued request waits at least this long in the lateness test: far
//  past its limit, so that the test does not depend on scheduling
#define S_HOLD_MS   500
#define S_LATE_MS   50
//  Requests queued behind the held worker
#define S_QUEUED    3

static char *s_dir;
static query_shared_t s_shared;
static zactor_t *s_server;
static zsock_t *s_dealer;
static char *s_token;
static char s_id [37];          //  the one message in the queue

//  One message for phone-1 in the queue, which a queued mq_ack would delete
static void
s_queue_message (void)
{
    test_uuid (s_id);
    uint8_t uuid [AUDIT_UUID_SIZE];
    cr_assert_eq (audit_ident_uuid_parse (s_id, strlen (s_id), uuid), 0);
    sqlite3 *db = audit_store_db (s_shared.writer, AUDIT_DB_QUEUE);
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, "INSERT INTO message (uuid, org, device, ts,"
                  " received, payload) VALUES (?1, 'org-a', 'phone-1', 1, 1, x'01')",
                  -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_blob (stmt, 1, uuid, sizeof uuid, SQLITE_STATIC);
    cr_assert_eq (sqlite3_step (stmt), SQLITE_DONE);
    sqlite3_finalize (stmt);
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("qserver");
    cr_assert_eq (query_shared_open (&s_shared, s_dir, "test", (const uint8_t *) S_SECRET,
                                     strlen (S_SECRET), NULL), 0);
    s_token = test_token (S_SECRET, "device", "org-a", "phone-1", 600);
    s_queue_message ();
}

static void
s_teardown (void)
{
    zsock_destroy (&s_dealer);
    zactor_destroy (&s_server);
    query_shared_close (&s_shared);
    free (s_token);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (query_server, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  Start the server with one worker and this queue wait limit (0: default)
static void
s_start (int queue_wait_max_ms)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    query_server_options_t options = {
        .endpoint = endpoint, .workers = 1, .shared = &s_shared,
        .queue_wait_max_ms = queue_wait_max_ms
    };
    s_server = query_server_new (&options);
    cr_assert_not_null (s_server);
    cr_assert_eq (audit_actor_ask (s_server, "START"), 0);
    s_dealer = zsock_new_dealer (endpoint);
    cr_assert_not_null (s_dealer);
    zsock_set_rcvtimeo (s_dealer, 10000);
}

//  Send mq_ack of message id, or health when id is NULL, REQ-style with
//  an empty delimiter
static void
s_send (const char *id)
{
    bool ack = id != NULL;
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, ack ? 6 : 2);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", ack ? "mq_ack" : "health");
    if (ack) {
        test_pack_kv_str (pack, "token", s_token);
        test_pack_kv_str (pack, "org_id", "org-a");
        test_pack_kv_str (pack, "device_id", "phone-1");
        test_pack_str (pack, "message_ids");
        msgpack_pack_array (&pack->packer, 1);
        test_pack_str (pack, id);
    }
    cr_assert_eq (zsock_send (s_dealer, "zb", test_pack_data (pack),
                              test_pack_size (pack)), 0);
    test_pack_destroy (&pack);
}

//  The next reply's error code, "" for a success; asserts one came
static const char *
s_recv_code (void)
{
    zmsg_t *msg = zmsg_recv (s_dealer);
    cr_assert_not_null (msg, "no reply");
    cr_assert_eq (zmsg_size (msg), 2, "delimiter and reply");
    zframe_t *body = zmsg_last (msg);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_assert (test_unpack_frame (body, &reply));
    static char code [64];
    snprintf (code, sizeof code, "%s", test_reply_code (&reply));
    msgpack_unpacked_destroy (&reply);
    zmsg_destroy (&msg);
    return code;
}

static int64_t
s_queued_messages (void)
{
    sqlite3 *db = audit_store_db (s_shared.writer, AUDIT_DB_QUEUE);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (db, "SELECT count(*) FROM message", -1, &stmt, NULL);
    int64_t count = sqlite3_step (stmt) == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : -1;
    sqlite3_finalize (stmt);
    return count;
}

//  Hold the one worker in an mq_ack of a message that is not there, queue
//  mq_acks of the one that is behind it for hold_ms, then let go; the
//  first reply is the held one's
static void
s_hold_and_queue (int hold_ms)
{
    char absent [37];
    test_uuid (absent);
    pthread_mutex_lock (&s_shared.writer_lock);
    s_send (absent);
    for (int index = 0; index < S_QUEUED; index++)
        s_send (s_id);
    zclock_sleep (hold_ms);
    pthread_mutex_unlock (&s_shared.writer_lock);
    cr_assert_str_eq (s_recv_code (), "", "the held request was answered");
}

Test (query_server, a_request_that_waited_too_long_is_answered_unavailable)
{
    s_start (S_LATE_MS);
    s_hold_and_queue (S_HOLD_MS);
    for (int index = 0; index < S_QUEUED; index++)
        cr_assert_str_eq (s_recv_code (), "unavailable", "queued request %d", index);
    cr_assert_eq (s_queued_messages (), 1, "no queued mq_ack ran");
    //  The worker is free again and new requests run
    s_send (NULL);
    cr_assert_str_eq (s_recv_code (), "");
    //  Each refusal is counted like any other error reply
    zsock_destroy (&s_dealer);
    zactor_destroy (&s_server);
    query_tally_flush (s_shared.tally, s_shared.writer, &s_shared.writer_lock,
                       zclock_mono (), true);
    cr_assert_eq (test_store_counter (s_shared.writer, "query.errors.unavailable"), S_QUEUED);
}

//  Under the limit (the default, seconds) a queued request still runs
Test (query_server, a_request_that_waited_briefly_still_runs)
{
    s_start (0);
    s_hold_and_queue (S_LATE_MS);
    for (int index = 0; index < S_QUEUED; index++)
        cr_assert_str_eq (s_recv_code (), "", "queued request %d", index);
    cr_assert_eq (s_queued_messages (), 0, "the queued mq_ack deleted the message");
}

//  A worker that cannot serve is not handed out as if it could: the
//  server's start would otherwise report success with a dead worker
//  (issue 9: "a query worker whose s_self_new fails still signals success")
Test (query_server, a_worker_whose_set_up_fails_is_not_started)
{
    audit_store_t *store = NULL;
    zactor_t *worker = query_worker_new (&s_shared, &store);
    cr_expect_null (worker, "a worker without a store was started");
    zactor_destroy (&worker);
    //  A worker that can serve still starts
    store = audit_store_new (s_dir, AUDIT_STORE_READER);
    cr_assert_not_null (store);
    worker = query_worker_new (&s_shared, &store);
    cr_expect_not_null (worker);
    cr_expect_null (store, "the store moved into the worker");
    zactor_destroy (&worker);
}
