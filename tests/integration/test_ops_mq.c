/*  The operational log and the undelivered-message queue end to end, as
    the contract's clients see them: ops records carry no identity, and a
    payload reaches its recipient device and nothing else. */

#include <criterion/criterion.h>

#include "audit_time.h"
#include "test_service.h"

static test_service_t *s;

static void
s_setup (void)
{
    s = test_service_start ("opsmq", true);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
}

TestSuite (ops_mq, .init = s_setup, .fini = s_teardown, .timeout = 120);

static bool
s_ok (const msgpack_unpacked *reply)
{
    const msgpack_object *ok = test_obj_get (&reply->data, "ok");
    return ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
}

//  True when needle is in the file at dir/name (dir NULL: the path is name)
static bool
s_file_has (const char *name, const char *needle)
{
    char path [512];
    snprintf (path, sizeof path, "%s%s", s->dir, name);
    FILE *file = fopen (path, "rb");
    if (!file)
        return false;
    static char data [4 * 1024 * 1024];
    size_t size = fread (data, 1, sizeof data, file);
    fclose (file);
    return memmem (data, size, needle, strlen (needle)) != NULL;
}

//  The stores and logs that must never hold a payload or an identity of
//  an operational record (queue.db holds payloads by design)
static const char *s_places [] = {
    "/audit.db", "/audit.db-wal", "/ops.db", "/ops.db-wal",
    ".audit-ingest.log", ".audit-query.log"
};

static bool
s_anywhere_but_the_queue (const char *needle)
{
    //  On PostgreSQL: the schemas audit and ops of the test's database
    if (test_pg_dump_contains (s->dir, "-N queue", needle, strlen (needle)))
        return true;
    for (size_t index = 0; index < sizeof s_places / sizeof s_places [0]; index++)
        if (s_file_has (s_places [index], needle))
            return true;
    return false;
}

static void
s_publish_ops (const char *path, const char *extra_key, const char *extra_value)
{
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms (), now);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6 + (extra_key ? 1 : 0));
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "timestamp", now);
    test_pack_kv_str (pack, "client_ip", "2001:db8::7");
    test_pack_kv_str (pack, "method", "POST");
    test_pack_kv_str (pack, "path", path);
    test_pack_kv_uint (pack, "status", 201);
    if (extra_key)
        test_pack_kv_str (pack, extra_key, extra_value);
    test_service_publish (s, "ops.edge-1", pack);
    test_pack_destroy (&pack);
}

Test (ops_mq, operational_records_carry_no_identity)
{
    const char *keys [] = { "user_id", "sub", "email", "authorization", "cookie", "token",
                            "actor_id", "org_id", "device_id", "user_agent" };
    const int count = sizeof keys / sizeof keys [0];
    for (int index = 0; index < count; index++)
        s_publish_ops ("/v1/messages?user=ID-CANARY-q&token=TOKEN-CANARY#frag-CANARY",
                       keys [index], "alice.CANARY@example.com");
    cr_assert_eq (test_service_wait_count (s, "ops.db",
        "SELECT count(*) FROM ops WHERE path = '/v1/messages'", count, 5000), count);
    cr_assert_eq (test_service_counter (s, "ingest.dropped_keys.email", 1), 1);
    char *ops = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "ops_list", ops, 0, NULL, NULL, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    const msgpack_object *records = test_obj_get (&reply.data, "records");
    cr_assert_geq (records->via.array.size, (uint32_t) count);
    cr_assert_eq (records->via.array.ptr [0].via.map.size, 5, "timestamp, client_ip, method, path, status");
    msgpack_unpacked_destroy (&reply);
    free (ops);
    const char *canaries [] = { "ID-CANARY", "TOKEN-CANARY", "frag-CANARY", "alice.CANARY" };
    for (int index = 0; index < 4; index++)
        cr_assert_not (s_anywhere_but_the_queue (canaries [index]), "%s was kept", canaries [index]);
    //  The search works: what is stored is found
    cr_assert (s_anywhere_but_the_queue ("/v1/messages"));
}

static void
s_publish_mq_sized (const char *device, const void *payload, size_t size, int64_t ago_ms,
                    char *id)
{
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms () - ago_ms, now);
    test_uuid (id);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "message_id", id);
    test_pack_kv_str (pack, "org_id", "org-a");
    test_pack_kv_str (pack, "device_id", device);
    test_pack_kv_str (pack, "timestamp", now);
    test_pack_str (pack, "payload");
    msgpack_pack_bin (&pack->packer, size);
    msgpack_pack_bin_body (&pack->packer, payload, size);
    test_service_publish (s, "mq", pack);
    test_pack_destroy (&pack);
}

static void
s_publish_mq (const char *device, const char *payload, int64_t ago_ms, char *id)
{
    s_publish_mq_sized (device, payload, strlen (payload), ago_ms, id);
}

typedef struct {
    const char *device;
    const char *id;
} s_mq_args_t;

static void
s_fill_mq (test_pack_t *pack, void *arg)
{
    const s_mq_args_t *args = (const s_mq_args_t *) arg;
    test_pack_kv_str (pack, "org_id", "org-a");
    test_pack_kv_str (pack, "device_id", args->device);
    if (args->id) {
        test_pack_str (pack, "message_ids");
        msgpack_pack_array (&pack->packer, 1);
        test_pack_str (pack, args->id);
    }
}

Test (ops_mq, a_payload_reaches_its_device_and_nothing_else)
{
    char first [37], second [37], other [37];
    s_publish_mq ("phone-1", "PAYLOAD-CANARY-1", 0, first);
    s_publish_mq ("phone-1", "PAYLOAD-CANARY-2", 0, second);
    s_publish_mq ("phone-2", "PAYLOAD-CANARY-3", 0, other);
    cr_assert_eq (test_service_wait_count (s, "queue.db", "SELECT count(*) FROM message", 3, 5000), 3);
    char *phone = test_token (TEST_SECRET, "device", "org-a", "phone-1", 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_mq_args_t mine = { "phone-1", NULL };
    test_service_call (s, "mq_fetch", phone, 2, s_fill_mq, &mine, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    const msgpack_object *messages = test_obj_get (&reply.data, "messages");
    cr_assert_eq (messages->via.array.size, 2, "only phone-1's messages");
    cr_assert (test_obj_str_eq (test_obj_get (&messages->via.array.ptr [0], "message_id"), first),
               "oldest first");
    const msgpack_object *payload = test_obj_get (&messages->via.array.ptr [0], "payload");
    cr_assert_eq (payload->type, MSGPACK_OBJECT_BIN);
    cr_assert_eq (memcmp (payload->via.bin.ptr, "PAYLOAD-CANARY-1", 16), 0);
    //  Another device's messages stay out of reach
    s_mq_args_t theirs = { "phone-2", NULL };
    test_service_call (s, "mq_fetch", phone, 2, s_fill_mq, &theirs, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "forbidden");
    //  An acknowledged message is gone at once
    s_mq_args_t ack = { "phone-1", first };
    test_service_call (s, "mq_ack", phone, 3, s_fill_mq, &ack, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    cr_assert_eq (test_obj_get (&reply.data, "deleted")->via.u64, 1);
    cr_assert_eq (test_service_count (s, "queue.db", "SELECT count(*) FROM message"), 2);
    msgpack_unpacked_destroy (&reply);
    free (phone);
    //  No payload in the audit log, the counters, the ops log or a log line
    cr_assert_not (s_anywhere_but_the_queue ("PAYLOAD-CANARY"), "a payload left the queue");
    cr_assert (s_file_has ("/queue.db", "PAYLOAD-CANARY-2") || s_file_has ("/queue.db-wal", "PAYLOAD-CANARY-2")
            || test_pg_dump_contains (s->dir, "-n queue", "PAYLOAD-CANARY-2", 16),
               "the search works: the queue holds the unacknowledged payload");
}

//  Oldest by the time the platform queued a message, which is the time a
//  device is shown, not by when it reached this service
Test (ops_mq, messages_are_fetched_in_the_order_they_were_queued)
{
    char ids [4][37];
    const int64_t ago_min [4] = { 1, 30, 10, 20 };
    for (int index = 0; index < 4; index++)
        s_publish_mq ("tablet", "queued", ago_min [index] * 60000, ids [index]);
    cr_assert_eq (test_service_wait_count (s, "queue.db", "SELECT count(*) FROM message", 4, 5000), 4);
    char *token = test_token (TEST_SECRET, "device", "org-a", "tablet", 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_mq_args_t mine = { "tablet", NULL };
    test_service_call (s, "mq_fetch", token, 2, s_fill_mq, &mine, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    const msgpack_object *messages = test_obj_get (&reply.data, "messages");
    cr_assert_eq (messages->via.array.size, 4);
    const int expected [4] = { 1, 3, 2, 0 };     //  30, 20, 10 and 1 minute ago
    for (int index = 0; index < 4; index++)
        cr_expect (test_obj_str_eq (test_obj_get (&messages->via.array.ptr [index], "message_id"),
                                    ids [expected [index]]), "message %d", index);
    msgpack_unpacked_destroy (&reply);
    free (token);
}

//  What query_mq.h names QUERY_MQ_REPLY_BYTES_MAX (not linked here)
#define S_REPLY_BYTES_MAX   (8 * 1024 * 1024)
//  Enough largest payloads that all of them pass the budget
#define S_BIG_COUNT         40

typedef struct {
    const char *device;
    const msgpack_object *ack;          //  the messages to acknowledge, or NULL
} s_loop_args_t;

//  mq_fetch with the largest limit, or mq_ack of every message of a fetch
static void
s_fill_loop (test_pack_t *pack, void *arg)
{
    const s_loop_args_t *args = (const s_loop_args_t *) arg;
    test_pack_kv_str (pack, "org_id", "org-a");
    test_pack_kv_str (pack, "device_id", args->device);
    if (!args->ack) {
        test_pack_kv_uint (pack, "limit", 1000);
        return;
    }
    test_pack_str (pack, "message_ids");
    msgpack_pack_array (&pack->packer, args->ack->via.array.size);
    for (uint32_t index = 0; index < args->ack->via.array.size; index++) {
        const msgpack_object *id = test_obj_get (&args->ack->via.array.ptr [index], "message_id");
        msgpack_pack_str_with_body (&pack->packer, id->via.str.ptr, id->via.str.size);
    }
}

//  Check one fetch's messages are the next ones, oldest first, within the
//  budget; counts each delivery in seen and returns how many came
static uint32_t
s_check_batch (const msgpack_object *messages, char ids [][37], int *seen, int *next)
{
    size_t bytes = 0;
    for (uint32_t index = 0; index < messages->via.array.size; index++) {
        const msgpack_object *message = &messages->via.array.ptr [index];
        const msgpack_object *payload = test_obj_get (message, "payload");
        cr_assert_lt (*next, S_BIG_COUNT, "more messages than were queued");
        cr_assert (test_obj_str_eq (test_obj_get (message, "message_id"), ids [*next]),
                   "message %d in order", *next);
        cr_assert_eq (payload->via.bin.size, AUDIT_MQ_PAYLOAD_MAX);
        cr_assert_eq ((unsigned char) payload->via.bin.ptr [0], (unsigned char) *next);
        bytes += payload->via.bin.size;
        seen [(*next)++]++;
    }
    cr_assert_leq (bytes, S_REPLY_BYTES_MAX, "%zu payload bytes in one reply", bytes);
    return messages->via.array.size;
}

//  One round of a device's loop: fetch with the largest limit, check the
//  batch, acknowledge all of it; how many messages came
static uint32_t
s_fetch_and_ack (const char *token, char ids [][37], int *seen, int *next)
{
    msgpack_unpacked reply, ack_reply;
    msgpack_unpacked_init (&reply);
    msgpack_unpacked_init (&ack_reply);
    s_loop_args_t fetch = { "kiosk", NULL };
    test_service_call (s, "mq_fetch", token, 3, s_fill_loop, &fetch, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    const msgpack_object *messages = test_obj_get (&reply.data, "messages");
    uint32_t got = s_check_batch (messages, ids, seen, next);
    if (got > 0) {
        //  The fetch's reply stays valid while the ack request is packed
        s_loop_args_t ack = { "kiosk", messages };
        test_service_call (s, "mq_ack", token, 3, s_fill_loop, &ack, &ack_reply);
        cr_assert (s_ok (&ack_reply), "%s", test_reply_code (&ack_reply));
        cr_assert_eq (test_obj_get (&ack_reply.data, "deleted")->via.u64, got);
    }
    msgpack_unpacked_destroy (&ack_reply);
    msgpack_unpacked_destroy (&reply);
    return got;
}

//  A reply holds a bounded number of payload bytes, not limit x 256 KiB;
//  fetch and ack in a loop still delivers every message once, in order
Test (ops_mq, a_fetch_is_bounded_by_payload_bytes)
{
    static char payload [AUDIT_MQ_PAYLOAD_MAX];
    char ids [S_BIG_COUNT][37];
    for (int index = 0; index < S_BIG_COUNT; index++) {
        memset (payload, index, sizeof payload);
        s_publish_mq_sized ("kiosk", payload, sizeof payload,
                            (S_BIG_COUNT - index) * 1000, ids [index]);
    }
    cr_assert_eq (test_service_wait_count (s, "queue.db", "SELECT count(*) FROM message",
                                           S_BIG_COUNT, 30000), S_BIG_COUNT);
    char *token = test_token (TEST_SECRET, "device", "org-a", "kiosk", 600);
    int seen [S_BIG_COUNT] = { 0 };
    int next = 0;
    uint32_t first = s_fetch_and_ack (token, ids, seen, &next);
    cr_assert (first >= 1 && first < S_BIG_COUNT, "the first fetch gave %u of %d",
               first, S_BIG_COUNT);
    //  Each round delivers at least one message, so this many always suffice
    for (int round = 0; round < S_BIG_COUNT && s_fetch_and_ack (token, ids, seen, &next); round++)
        ;
    for (int index = 0; index < S_BIG_COUNT; index++)
        cr_expect_eq (seen [index], 1, "message %d delivered %d times", index, seen [index]);
    cr_assert_eq (test_service_count (s, "queue.db", "SELECT count(*) FROM message"), 0);
    free (token);
}
