/*  =========================================================================
    test_acks - the acknowledgement channel through the real workers, with
    a client that knows only the contract: a PUB socket that publishes
    events with producer_id and seq, and a DEALER that says hello and reads
    acks (contract: "Acknowledgements"). No producer library.
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <inttypes.h>
#include <msgpack.h>
#include <signal.h>

#include "audit_time.h"
#include "test_service.h"

static test_service_t *s;

static void s_setup (void) { s = test_service_start ("acks", true); }
static void s_teardown (void) { test_service_destroy (&s); }

TestSuite (acks, .init = s_setup, .fini = s_teardown, .timeout = 120);

//  --------------------------------------------------------------------------
//  The client

#define s_EVENTS_MAX 4000

typedef struct {
    uint64_t seq;
    char event_id [37];
    char reason [32];
    char field [64];
} s_rejected_t;

typedef struct {
    zsock_t *dealer;
    const char *producer;
    const char *topic;                          //  "audit", or "mq"
    test_pack_t *events [s_EVENTS_MAX + 1];     //  by seq: resent as the same bytes
    char event_ids [s_EVENTS_MAX + 1][37];
    uint64_t acked;                             //  highest seq acknowledged
    int acks;                                   //  ack messages read
    s_rejected_t rejected [s_EVENTS_MAX];
    int rejected_count;
} s_client_t;

static s_client_t *
s_client_new (const char *producer)
{
    s_client_t *self = calloc (1, sizeof *self);
    self->producer = producer;
    self->topic = "audit";
    self->dealer = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (self->dealer, 200);
    zsock_set_linger (self->dealer, 0);
    test_service_keys (s, self->dealer, producer);
    cr_assert_eq (zsock_connect (self->dealer, "%s", s->ack_endpoint), 0);
    return self;
}

static void
s_client_destroy (s_client_t **self_p)
{
    s_client_t *self = *self_p;
    for (int seq = 0; seq <= s_EVENTS_MAX; seq++)
        test_pack_destroy (&self->events [seq]);
    zsock_destroy (&self->dealer);
    free (self);
    *self_p = NULL;
}

static void
s_hello (s_client_t *self)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 3);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", "hello");
    test_pack_kv_str (pack, "producer_id", self->producer);
    cr_assert_eq (zmq_send (zsock_resolve (self->dealer), test_pack_data (pack),
                            test_pack_size (pack), 0), (int) test_pack_size (pack));
    test_pack_destroy (&pack);
}

//  Text of a str object into text (size bytes), "" for nil
static void
s_text (const msgpack_object *object, char *text, size_t size)
{
    text [0] = 0;
    if (object && object->type == MSGPACK_OBJECT_STR)
        snprintf (text, size, "%.*s", (int) object->via.str.size, object->via.str.ptr);
    else
        cr_assert (!object || object->type == MSGPACK_OBJECT_NIL, "a str or nil");
}

static void
s_take_ack (s_client_t *self, const msgpack_object *ack)
{
    cr_assert (test_obj_str_eq (test_obj_get (ack, "op"), "ack"));
    cr_assert (test_obj_str_eq (test_obj_get (ack, "producer_id"), self->producer));
    cr_assert_eq (test_obj_get (ack, "v")->via.u64, 1);
    const msgpack_object *seq = test_obj_get (ack, "seq");
    cr_assert (seq && seq->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_assert_geq (seq->via.u64, self->acked, "an ack never goes back in a run");
    self->acked = seq->via.u64;
    const msgpack_object *rejected = test_obj_get (ack, "rejected");
    cr_assert (rejected && rejected->type == MSGPACK_OBJECT_ARRAY);
    cr_assert_leq (rejected->via.array.size, 1000);
    for (uint32_t index = 0; index < rejected->via.array.size; index++) {
        const msgpack_object *entry = &rejected->via.array.ptr [index];
        cr_assert_lt (self->rejected_count, s_EVENTS_MAX);
        s_rejected_t *into = &self->rejected [self->rejected_count++];
        into->seq = test_obj_get (entry, "seq")->via.u64;
        s_text (test_obj_get (entry, "event_id"), into->event_id, sizeof into->event_id);
        s_text (test_obj_get (entry, "reason"), into->reason, sizeof into->reason);
        s_text (test_obj_get (entry, "field"), into->field, sizeof into->field);
    }
    self->acks++;
}

//  Read one ack within the socket's timeout; false when none came
static bool
s_recv_ack (s_client_t *self)
{
    zframe_t *frame = zframe_recv (self->dealer);
    if (!frame)
        return false;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    cr_assert_eq (msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame),
                                       zframe_size (frame), &offset), MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq (offset, zframe_size (frame), "one map, nothing after it");
    s_take_ack (self, &unpacked.data);
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&frame);
    return true;
}

//  Say hello until the worker answers (it may be restarting)
static void
s_hello_answered (s_client_t *self)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        s_hello (self);
        if (s_recv_ack (self))
            return;
    }
    cr_assert_fail ("no answer to hello");
}

//  Event seq of the client: a good login, or one that breaks the rule of
//  the key named broken (actor_id left out, device_id not an identifier)
static void
s_make (s_client_t *self, uint64_t seq, const char *broken)
{
    bool no_actor = broken && strcmp (broken, "actor_id") == 0;
    bool bad_device = broken && strcmp (broken, "device_id") == 0;
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms (), now);
    test_uuid (self->event_ids [seq]);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 8 - no_actor + bad_device);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", self->event_ids [seq]);
    test_pack_kv_str (pack, "event_type", "user_login");
    test_pack_kv_str (pack, "timestamp", now);
    test_pack_kv_str (pack, "org_id", "org-acks");
    if (!no_actor)
        test_pack_kv_str (pack, "actor_id", "actor-1");
    if (bad_device)
        test_pack_kv_str (pack, "device_id", "not an identifier");
    test_pack_kv_str (pack, "producer_id", self->producer);
    test_pack_kv_uint (pack, "seq", seq);
    self->events [seq] = pack;
}

static void
s_publish (s_client_t *self, uint64_t from, uint64_t to)
{
    for (uint64_t seq = from; seq <= to; seq++)
        test_service_publish (s, self->topic, self->events [seq]);
}

//  Read acks until seq reaches at least want, resending what is above the
//  acked seq whenever a second passes without one (the contract's retry)
static void
s_wait_at_least (s_client_t *self, uint64_t want, uint64_t last)
{
    int64_t deadline = zclock_mono () + 30000, quiet_since = zclock_mono ();
    while (self->acked < want && zclock_mono () < deadline) {
        if (s_recv_ack (self))
            quiet_since = zclock_mono ();
        else
        if (zclock_mono () - quiet_since > 1000) {
            s_hello (self);
            s_publish (self, self->acked + 1, last);
            quiet_since = zclock_mono ();
        }
    }
    cr_assert_geq (self->acked, want, "acked %" PRIu64 " of %" PRIu64, self->acked, want);
}

//  The same, for exactly want: the last seq published
static void
s_wait_acked (s_client_t *self, uint64_t want, uint64_t last)
{
    s_wait_at_least (self, want, last);
    cr_assert_eq (self->acked, want);
}

static int64_t
s_rows (const char *sql)
{
    return test_service_count (s, "audit.db", sql);
}

//  --------------------------------------------------------------------------

Test (acks, every_event_is_acknowledged_and_each_rejection_named)
{
    s_client_t *client = s_client_new ("svc-acks");
    s_hello_answered (client);
    cr_expect_eq (client->acked, 0, "a new producer has settled nothing");
    const int total = 300;
    for (int seq = 1; seq <= total; seq++)
        s_make (client, (uint64_t) seq, seq == 10? "actor_id": seq == 20? "device_id": NULL);
    //  an unknown type, by bytes of its own
    test_pack_destroy (&client->events [30]);
    test_pack_t *unknown = test_pack_new ();
    test_pack_map (unknown, 8);
    test_pack_kv_uint (unknown, "v", 1);
    test_pack_kv_str (unknown, "event_id", client->event_ids [30]);
    test_pack_kv_str (unknown, "event_type", "no_such_type");
    test_pack_kv_str (unknown, "timestamp", "2026-12-01T10:00:00Z");
    test_pack_kv_str (unknown, "org_id", "org-acks");
    test_pack_kv_str (unknown, "actor_id", "actor-1");
    test_pack_kv_str (unknown, "producer_id", "svc-acks");
    test_pack_kv_uint (unknown, "seq", 30);
    client->events [30] = unknown;
    s_publish (client, 1, (uint64_t) total);
    s_wait_acked (client, (uint64_t) total, (uint64_t) total);

    cr_assert_eq (client->rejected_count, 3, "each rejection once");
    const struct { uint64_t seq; const char *reason, *field; } want [] = {
        { 10, "missing_field", "actor_id" }, { 20, "bad_field", "device_id" },
        { 30, "unknown_type", "event_type" }
    };
    for (int index = 0; index < 3; index++) {
        cr_expect_eq (client->rejected [index].seq, want [index].seq);
        cr_expect_str_eq (client->rejected [index].reason, want [index].reason);
        cr_expect_str_eq (client->rejected [index].field, want [index].field);
        cr_expect_str_eq (client->rejected [index].event_id,
                          client->event_ids [want [index].seq]);
    }
    cr_expect_eq (s_rows ("SELECT count(*) FROM event"), total - 3);
    s_client_destroy (&client);
}

Test (acks, a_message_that_is_not_a_hello_is_counted_and_the_worker_goes_on)
{
    s_client_t *client = s_client_new ("svc-odd");
    zmq_send (zsock_resolve (client->dealer), "\xc1", 1, 0);
    zmq_send (zsock_resolve (client->dealer), "\x81\xa2op\xa3" "ack", 8, 0);
    s_hello_answered (client);
    cr_expect_eq (test_service_counter (s, "ingest.ack_malformed", 2), 2);
    s_client_destroy (&client);
}

//  The acked seq is in audit.db with the events: after a SIGKILL and a
//  restart, hello answers it, and resending everything above it loses
//  nothing and stores nothing twice
Test (acks, the_acked_seq_survives_sigkill_and_a_resend_completes_the_run)
{
    s_client_t *client = s_client_new ("svc-kill");
    s_hello_answered (client);
    const uint64_t total = s_EVENTS_MAX;
    for (uint64_t seq = 1; seq <= total; seq++)
        s_make (client, seq, NULL);
    s_publish (client, 1, total / 2);
    s_wait_at_least (client, total / 4, total / 2);     //  some of it, at least
    s_publish (client, total / 2 + 1, total);
    test_service_restart_ingest (s);                //  SIGKILL mid-stream
    uint64_t before = client->acked;
    client->acked = 0;
    s_hello_answered (client);
    cr_expect_geq (client->acked, before, "nothing acknowledged was forgotten");
    cr_expect_leq ((int64_t) client->acked, s_rows ("SELECT count(*) FROM event"),
                   "the ack is never ahead of the rows");
    s_publish (client, client->acked + 1, total);
    s_wait_acked (client, total, total);
    cr_expect_eq (s_rows ("SELECT count(*) FROM event"), (int64_t) total);
    cr_expect_eq (s_rows ("SELECT count(DISTINCT uuid) FROM event"), (int64_t) total);
    cr_expect_eq (client->rejected_count, 0);
    s_client_destroy (&client);
}

//  --------------------------------------------------------------------------
//  stats after a SIGKILL: the counters and the producers' state went in
//  with the rows, so they agree with them

static uint64_t
s_uint (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = test_obj_get (map, key);
    cr_assert (value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER, "%s", key);
    return value->via.u64;
}

Test (acks, stats_agree_with_the_rows_after_sigkill)
{
    s_client_t *client = s_client_new ("svc-stats");
    s_hello_answered (client);
    const uint64_t total = 3000;
    for (uint64_t seq = 1; seq <= total; seq++)
        s_make (client, seq, seq % 500 == 0? "actor_id": NULL);
    s_publish (client, 1, total);
    s_wait_at_least (client, 1000, total);
    test_service_restart_ingest (s);
    client->acked = 0;
    s_hello_answered (client);
    uint64_t acked = client->acked;
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    //  The restarted worker's probes may still be landing: read until two
    //  reads agree; a count committed apart from its rows never would
    const msgpack_object *stats = NULL;
    uint64_t stored = 0;
    int64_t rows = -1;
    for (int64_t deadline = zclock_mono () + 5000; zclock_mono () < deadline; zclock_sleep (100)) {
        msgpack_unpacked_destroy (&reply);
        msgpack_unpacked_init (&reply);
        rows = s_rows ("SELECT count(*) FROM event")
             + test_service_count (s, "ops.db", "SELECT count(*) FROM ops");
        test_service_call (s, "stats", token, 0, NULL, NULL, &reply);
        stats = test_obj_get (&reply.data, "stats");
        stored = s_uint (test_obj_get (stats, "ingest"), "stored");
        if ((int64_t) stored == rows)
            break;
    }
    cr_expect_eq ((int64_t) stored, rows, "stored %" PRIu64 ", rows %" PRId64, stored, rows);
    const msgpack_object *producer = test_obj_get (test_obj_get (stats, "producers"), "svc-stats");
    cr_assert_not_null (producer, "stats.producers holds the producer");
    cr_expect_eq (s_uint (producer, "acked_seq"), acked, "the acked seq hello answered");
    cr_expect_eq (s_uint (producer, "runs"), 0);
    uint64_t rejected = s_uint (test_obj_get (producer, "rejected"), "missing_field");
    cr_expect_eq (rejected, acked / 500, "rejections settled so far, %" PRIu64, rejected);
    cr_expect (test_obj_get (producer, "last_seen")->type == MSGPACK_OBJECT_STR);
    cr_expect_eq ((int64_t) s_uint (producer, "gaps"), 0);
    msgpack_unpacked_destroy (&reply);
    free (token);
    s_client_destroy (&client);
}

Test (acks, seq_one_again_starts_a_new_run)
{
    s_client_t *client = s_client_new ("svc-runs");
    s_hello_answered (client);
    for (uint64_t seq = 1; seq <= 5; seq++)
        s_make (client, seq, NULL);
    s_publish (client, 1, 5);
    s_wait_acked (client, 5, 5);
    //  The producer starts over (a new outbox): new events from seq 1
    for (uint64_t seq = 1; seq <= 3; seq++) {
        test_pack_destroy (&client->events [seq]);
        s_make (client, seq, NULL);
    }
    client->acked = 0;
    s_publish (client, 1, 3);
    s_wait_acked (client, 3, 3);
    cr_expect_eq (s_rows ("SELECT count(*) FROM event"), 8);
    cr_expect_eq (test_service_count (s, "audit.db",
                  "SELECT runs FROM producer WHERE name = 'svc-runs'"), 1);
    s_client_destroy (&client);
}

//  The mq topic is acknowledged the same way, by its producer_id and seq;
//  a message without a payload is rejected with the field named
static test_pack_t *
s_mq (const char *producer, uint64_t seq, bool with_payload)
{
    char id [37], now [AUDIT_TIME_TEXT_SIZE];
    test_uuid (id);
    audit_time_format (test_now_ms (), now);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 7 + with_payload);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "message_id", id);
    test_pack_kv_str (pack, "org_id", "org-acks");
    test_pack_kv_str (pack, "device_id", "device-1");
    test_pack_kv_str (pack, "timestamp", now);
    if (with_payload) {
        test_pack_str (pack, "payload");
        msgpack_pack_bin (&pack->packer, 3);
        msgpack_pack_bin_body (&pack->packer, "\x01\x02\x03", 3);
    }
    test_pack_kv_str (pack, "producer_id", producer);
    test_pack_kv_uint (pack, "seq", seq);
    return pack;
}

Test (acks, undelivered_messages_are_acknowledged_too)
{
    s_client_t *client = s_client_new ("svc-mq");
    s_hello_answered (client);
    for (uint64_t seq = 1; seq <= 20; seq++)
        client->events [seq] = s_mq ("svc-mq", seq, seq != 7);
    client->topic = "mq";
    s_publish (client, 1, 20);
    s_wait_acked (client, 20, 20);
    cr_assert_eq (client->rejected_count, 1);
    cr_expect_eq (client->rejected [0].seq, 7);
    cr_expect_str_eq (client->rejected [0].reason, "missing_field");
    cr_expect_str_eq (client->rejected [0].field, "payload");
    cr_expect_eq (test_service_count (s, "queue.db", "SELECT count(*) FROM message"), 19);
    s_client_destroy (&client);
}

//  Killed three times while the producer publishes, resending as the
//  contract says after each restart: every event is stored exactly once,
//  audit.db passes its integrity check after each kill, and the acked seq
//  in stats is the last one
Test (acks, three_sigkills_mid_stream_lose_nothing_and_store_nothing_twice)
{
    s_client_t *client = s_client_new ("svc-loop");
    s_hello_answered (client);
    const uint64_t total = s_EVENTS_MAX, step = total / 4;
    for (uint64_t seq = 1; seq <= total; seq++)
        s_make (client, seq, seq % 1000 == 1? "device_id": NULL);
    for (int kill = 0; kill < 3; kill++) {
        s_publish (client, client->acked + 1, (uint64_t) (kill + 1) * step);
        zclock_sleep (20 + 40 * kill);          //  a different moment each time
        test_service_restart_ingest (s);
        int64_t ok = test_service_count (s, "audit.db",
            "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'");
        cr_expect_eq (ok, 1, "integrity_check after kill %d", kill + 1);
        uint64_t before = client->acked;
        client->acked = 0;
        s_hello_answered (client);
        cr_expect_geq (client->acked, before, "kill %d forgot an ack", kill + 1);
    }
    s_publish (client, client->acked + 1, total);
    s_wait_acked (client, total, total);
    cr_expect_eq (s_rows ("SELECT count(*) FROM event"), (int64_t) (total - 4));
    cr_expect_eq (s_rows ("SELECT count(DISTINCT uuid) FROM event"), (int64_t) (total - 4));
    cr_expect_eq (test_service_count (s, "audit.db",
                  "SELECT acked_seq FROM producer WHERE name = 'svc-loop'"), (int64_t) total);
    s_client_destroy (&client);
}

//  Thousands of rejections in a commit come in acks of at most 1,000 each
//  (s_take_ack checks the size of every one), none left out
Test (acks, many_rejections_come_in_messages_of_at_most_a_thousand)
{
    s_client_t *client = s_client_new ("svc-bad");
    s_hello_answered (client);
    const uint64_t total = 3500;
    for (uint64_t seq = 1; seq <= total; seq++)
        s_make (client, seq, "actor_id");
    s_publish (client, 1, total);
    s_wait_acked (client, total, total);
    cr_expect_eq (client->rejected_count, (int) total, "every rejection, once: %d in %d acks",
                  client->rejected_count, client->acks);
    cr_expect_geq (client->acks, 1 + (int) total / 1000, "split into several messages");
    cr_expect_eq (client->rejected [total - 1].seq, total);
    cr_expect_eq (s_rows ("SELECT count(*) FROM event"), 0);
    s_client_destroy (&client);
}
