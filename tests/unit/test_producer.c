/*  test_producer - libaudit-producer against a fake ingest side inside
    the test: a SUB and a ROUTER that answers hellos and acks as told.
    Also the version-7 event_id and validation at the call.             */

#include <criterion/criterion.h>
#include <czmq.h>
#include <msgpack.h>
#include <string.h>

#include "audit_decode.h"
#include "audit_producer.h"
#include "audit_time.h"
#include "audit_uuid7.h"
#include "test_support.h"

static char *s_dir;
static char s_outbox [512], s_endpoint [64], s_ack_endpoint [64];

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("producer");
    snprintf (s_outbox, sizeof s_outbox, "%s/outbox.db", s_dir);
    snprintf (s_endpoint, sizeof s_endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (s_ack_endpoint, sizeof s_ack_endpoint, "tcp://127.0.0.1:%d", test_free_port ());
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

TestSuite (producer, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  ---------------------------------------------------------------------
//  The fake ingest side

typedef struct {
    zsock_t *sub, *router;
    zframe_t *peer;                 //  the producer's DEALER, once it said hello
} s_fake_t;

static void
s_fake_start (s_fake_t *fake)
{
    fake->sub = zsock_new (ZMQ_SUB);
    fake->router = zsock_new (ZMQ_ROUTER);
    //  a port closed a moment ago is let go by libzmq's reaper a bit later
    int tries = 0;
    while (zsock_bind (fake->sub, "%s", s_endpoint) < 0 && tries++ < 100)
        zclock_sleep (20);
    while (zsock_bind (fake->router, "%s", s_ack_endpoint) < 0 && tries++ < 200)
        zclock_sleep (20);
    cr_assert_lt (tries, 200, "cannot bind the fake's endpoints");
    zsock_set_subscribe (fake->sub, "audit");
    zsock_set_subscribe (fake->sub, "mq");
    zsock_set_rcvtimeo (fake->sub, 5000);
    zsock_set_rcvtimeo (fake->router, 5000);
    fake->peer = NULL;
}

static void
s_fake_stop (s_fake_t *fake)
{
    zframe_destroy (&fake->peer);
    zsock_destroy (&fake->sub);
    zsock_destroy (&fake->router);
}

static void
s_pack_str (msgpack_packer *packer, const char *text)
{
    msgpack_pack_str (packer, strlen (text));
    msgpack_pack_str_body (packer, text, strlen (text));
}

//  Send {v, op: ack, producer_id, seq, rejected} to the peer; rejected_seq
//  0 means none
static void
s_fake_ack (s_fake_t *fake, uint64_t seq, uint64_t rejected_seq, const char *event_id)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 5);
    s_pack_str (&packer, "v");           msgpack_pack_uint64 (&packer, 1);
    s_pack_str (&packer, "op");          s_pack_str (&packer, "ack");
    s_pack_str (&packer, "producer_id"); s_pack_str (&packer, "svc-1");
    s_pack_str (&packer, "seq");         msgpack_pack_uint64 (&packer, seq);
    s_pack_str (&packer, "rejected");
    msgpack_pack_array (&packer, rejected_seq ? 1 : 0);
    if (rejected_seq) {
        msgpack_pack_map (&packer, 4);
        s_pack_str (&packer, "seq");      msgpack_pack_uint64 (&packer, rejected_seq);
        s_pack_str (&packer, "event_id"); s_pack_str (&packer, event_id);
        s_pack_str (&packer, "reason");   s_pack_str (&packer, "bad_field");
        s_pack_str (&packer, "field");    s_pack_str (&packer, "user_id");
    }
    zframe_t *peer = zframe_dup (fake->peer);
    zframe_send (&peer, fake->router, ZFRAME_MORE);
    zmq_send (zsock_resolve (fake->router), buffer.data, buffer.size, 0);
    msgpack_sbuffer_destroy (&buffer);
}

//  Wait for a hello and answer it with seq
static void
s_fake_hello (s_fake_t *fake, uint64_t seq)
{
    zmsg_t *msg = zmsg_recv (fake->router);
    cr_assert_not_null (msg, "no hello came");
    zframe_destroy (&fake->peer);
    fake->peer = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    cr_assert_eq (msgpack_unpack_next (&unpacked, (const char *) zframe_data (body),
                                       zframe_size (body), NULL), MSGPACK_UNPACK_SUCCESS);
    cr_assert (test_obj_str_eq (test_obj_get (&unpacked.data, "op"), "hello"));
    cr_assert (test_obj_str_eq (test_obj_get (&unpacked.data, "producer_id"), "svc-1"));
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
    s_fake_ack (fake, seq, 0, NULL);
}

//  One published event: its seq, and its whole body into body (size bytes)
static uint64_t
s_fake_event (s_fake_t *fake, char *body, size_t size, size_t *len)
{
    zmsg_t *msg = zmsg_recv (fake->sub);
    cr_assert_not_null (msg, "no event came");
    cr_assert_eq (zmsg_size (msg), 2);
    char *topic = zmsg_popstr (msg);
    cr_assert_str_eq (topic, "audit");
    free (topic);
    zframe_t *frame = zmsg_pop (msg);
    static audit_event_t event;
    audit_decode_info_t info;
    cr_assert_eq (audit_decode_event (zframe_data (frame), zframe_size (frame),
                                      audit_time_now_ms (), &event, &info), 0);
    cr_assert_str_eq (event.producer_id, "svc-1");
    cr_assert (event.has_seq);
    if (body) {
        cr_assert (zframe_size (frame) <= size);
        memcpy (body, zframe_data (frame), zframe_size (frame));
        *len = zframe_size (frame);
    }
    zframe_destroy (&frame);
    zmsg_destroy (&msg);
    return event.seq;
}

//  ---------------------------------------------------------------------
//  Helpers

static audit_producer_t *
s_producer (int retry_ms, uint64_t outbox_max, audit_producer_rejected_fn *fn, void *arg)
{
    audit_producer_options_t options;
    audit_producer_options_init (&options);
    options.retry_ms = retry_ms;
    options.outbox_max = outbox_max;
    options.on_rejected = fn;
    options.on_rejected_arg = arg;
    audit_producer_t *producer = audit_producer_new_with (s_endpoint, s_ack_endpoint, "svc-1",
                                                          s_outbox, &options);
    cr_assert_not_null (producer);
    return producer;
}

//  A user_login by actor, with an event_id when given
static int
s_publish (audit_producer_t *producer, const char *actor, const char *event_id,
           audit_producer_receipt_t *receipt)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, event_id ? 6 : 5);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_type", "user_login");
    char now [32];
    audit_time_format (audit_time_now_ms (), now);
    test_pack_kv_str (pack, "timestamp", now);
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "actor_id", actor);
    if (event_id)
        test_pack_kv_str (pack, "event_id", event_id);
    int rc = audit_producer_publish (producer, "audit", test_pack_data (pack),
                                     test_pack_size (pack), receipt);
    test_pack_destroy (&pack);
    return rc;
}

//  ---------------------------------------------------------------------
//  Without a service

Test (producer, uuid7_form)
{
    int64_t now = 1764668839123LL;
    char text [AUDIT_UUID7_TEXT_SIZE], other [AUDIT_UUID7_TEXT_SIZE];
    cr_assert_eq (audit_uuid7_text (now, text), 0);
    cr_assert_eq (audit_uuid7_text (now, other), 0);
    cr_assert_eq (strlen (text), 36);
    cr_assert_str_neq (text, other, "random bits differ");
    cr_assert_eq (text [14], '7', "version 7: %s", text);
    cr_assert (strchr ("89ab", text [19]), "variant 10: %s", text);
    char hex [16];
    snprintf (hex, sizeof hex, "%012llx", (unsigned long long) now);
    cr_assert_eq (strncmp (text, hex, 8), 0, "%s starts with the time %s", text, hex);
    cr_assert_eq (strncmp (text + 9, hex + 8, 4), 0);
}

Test (producer, refuses_a_bad_event_with_reason_and_field)
{
    audit_producer_t *producer = s_producer (2000, 100, NULL, NULL);
    audit_producer_receipt_t receipt;
    test_pack_t *pack = test_pack_new ();       //  no actor_id
    test_pack_map (pack, 4);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_type", "user_login");
    test_pack_kv_str (pack, "timestamp", "2026-12-02T06:00:00Z");
    test_pack_kv_str (pack, "org_id", "acme");
    cr_assert_eq (audit_producer_publish (producer, "audit", test_pack_data (pack),
                                          test_pack_size (pack), &receipt), -1);
    test_pack_destroy (&pack);
    cr_assert_str_eq (receipt.reason, "missing_field");
    cr_assert_str_eq (receipt.field, "actor_id");
    cr_assert_eq (s_publish (producer, "has space", NULL, &receipt), -1);
    cr_assert_str_eq (receipt.reason, "bad_field");
    cr_assert_str_eq (receipt.field, "actor_id");
    cr_assert_eq (s_publish (producer, "u-1", "not-a-uuid", &receipt), -1);
    cr_assert_str_eq (receipt.field, "event_id");
    cr_assert_eq (audit_producer_publish (producer, "ops", "\x80", 1, &receipt), -1);
    cr_assert_str_eq (receipt.reason, "bad_topic");
    cr_assert_eq (audit_producer_publish (producer, "audit", "\x81", 1, &receipt), -1);
    cr_assert_str_eq (receipt.reason, "malformed");
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    cr_assert_eq (stats.refused, 5);
    cr_assert_eq (stats.last_seq, 0, "a refused event takes no seq");
    audit_producer_destroy (&producer);
}

Test (producer, refuses_reserved_type_and_old_timestamp)
{
    audit_producer_t *producer = s_producer (2000, 100, NULL, NULL);
    audit_producer_receipt_t receipt;
    test_pack_t *pack = test_pack_event (AUDIT_EVENT_RETENTION_CHANGED, "acme", "u-1", 0, NULL);
    cr_assert_eq (audit_producer_publish (producer, "audit", test_pack_data (pack),
                                          test_pack_size (pack), &receipt), -1);
    test_pack_destroy (&pack);
    cr_assert_str_eq (receipt.reason, "reserved_type");
    cr_assert_str_eq (receipt.field, "event_type");
    pack = test_pack_new ();
    test_pack_map (pack, 5);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_type", "user_login");
    test_pack_kv_str (pack, "timestamp", "2020-01-01T00:00:00Z");
    test_pack_kv_str (pack, "org_id", "acme");
    test_pack_kv_str (pack, "actor_id", "u-1");
    cr_assert_eq (audit_producer_publish (producer, "audit", test_pack_data (pack),
                                          test_pack_size (pack), &receipt), -1);
    test_pack_destroy (&pack);
    cr_assert_str_eq (receipt.reason, "bad_timestamp");
    cr_assert_str_eq (receipt.field, "timestamp");
    audit_producer_destroy (&producer);
}

Test (producer, full_outbox_refuses)
{
    audit_producer_t *producer = s_producer (2000, 2, NULL, NULL);
    audit_producer_receipt_t receipt;
    cr_assert_eq (s_publish (producer, "u-1", NULL, &receipt), 0);
    cr_assert_eq (receipt.seq, 1);
    cr_assert_eq (receipt.event_id [14], '7', "filled with a v7 id: %s", receipt.event_id);
    cr_assert_eq (s_publish (producer, "u-2", NULL, &receipt), 0);
    cr_assert_eq (s_publish (producer, "u-3", NULL, &receipt), -1);
    cr_assert_str_eq (receipt.reason, "outbox_full");
    cr_assert_eq (audit_producer_sync (producer, 5000), 0);
    cr_assert_eq (s_publish (producer, "u-3", NULL, &receipt), -1, "full until acknowledged");
    cr_assert_eq (audit_producer_flush (producer, 300), -1, "no service: the flush times out");
    audit_producer_destroy (&producer);
}

//  ---------------------------------------------------------------------
//  Against the fake

Test (producer, waits_for_hello_then_sends_and_flushes)
{
    s_fake_t fake;
    s_fake_start (&fake);
    audit_producer_t *producer = s_producer (2000, 100, NULL, NULL);
    audit_producer_receipt_t receipt;
    const char *given = "0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b";
    cr_assert_eq (s_publish (producer, "u-1", given, &receipt), 0);
    cr_assert_str_eq (receipt.event_id, given);
    cr_assert_eq (s_publish (producer, "u-2", NULL, &receipt), 0);
    zsock_set_rcvtimeo (fake.sub, 300);
    cr_assert_null (zmsg_recv (fake.sub), "nothing is sent before the hello is answered");
    zsock_set_rcvtimeo (fake.sub, 5000);
    s_fake_hello (&fake, 0);
    cr_assert_eq (s_fake_event (&fake, NULL, 0, NULL), 1);
    cr_assert_eq (s_fake_event (&fake, NULL, 0, NULL), 2);
    s_fake_ack (&fake, 2, 0, NULL);
    cr_assert_eq (audit_producer_flush (producer, 5000), 0);
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    cr_assert_eq (stats.acked, 2);
    cr_assert_eq (stats.acked_seq, 2);
    cr_assert_eq (stats.resent, 0);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);
}

Test (producer, resends_what_is_not_acknowledged)
{
    s_fake_t fake;
    s_fake_start (&fake);
    audit_producer_t *producer = s_producer (200, 100, NULL, NULL);
    audit_producer_receipt_t receipt;
    for (int index = 0; index < 3; index++)
        cr_assert_eq (s_publish (producer, "u-1", NULL, &receipt), 0);
    s_fake_hello (&fake, 0);
    char first [1024], again [1024];
    size_t first_len, again_len;
    cr_assert_eq (s_fake_event (&fake, NULL, 0, NULL), 1);
    cr_assert_eq (s_fake_event (&fake, first, sizeof first, &first_len), 2);
    cr_assert_eq (s_fake_event (&fake, NULL, 0, NULL), 3);
    s_fake_ack (&fake, 1, 0, NULL);     //  2 and 3 "dropped"
    uint64_t seq = 0;                   //  on a slow machine 1 may come again first
    for (int index = 0; index < 6 && seq != 2; index++)
        seq = s_fake_event (&fake, again, sizeof again, &again_len);
    cr_assert_eq (seq, 2);
    cr_assert_eq (first_len, again_len);
    cr_assert_eq (memcmp (first, again, first_len), 0, "resent as the same bytes");
    s_fake_ack (&fake, 3, 0, NULL);
    cr_assert_eq (audit_producer_flush (producer, 5000), 0);
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    cr_assert_geq (stats.resent, 2);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);
}

typedef struct {
    int calls;
    uint64_t seq;
    char event_id [64], reason [32], field [32];
} s_rejections_t;

static void
s_on_rejected (void *arg, const audit_producer_rejection_t *rejection)
{
    s_rejections_t *seen = arg;
    seen->calls++;
    seen->seq = rejection->seq;
    snprintf (seen->event_id, sizeof seen->event_id, "%s", rejection->event_id);
    snprintf (seen->reason, sizeof seen->reason, "%s", rejection->reason);
    snprintf (seen->field, sizeof seen->field, "%s", rejection->field);
}

Test (producer, reports_rejections_once)
{
    s_fake_t fake;
    s_fake_start (&fake);
    s_rejections_t seen = { 0 };
    audit_producer_t *producer = s_producer (2000, 100, s_on_rejected, &seen);
    audit_producer_receipt_t receipt, second;
    cr_assert_eq (s_publish (producer, "u-1", NULL, &receipt), 0);
    cr_assert_eq (s_publish (producer, "u-2", NULL, &second), 0);
    s_fake_hello (&fake, 0);
    s_fake_event (&fake, NULL, 0, NULL);
    s_fake_event (&fake, NULL, 0, NULL);
    s_fake_ack (&fake, 1, 2, second.event_id);
    s_fake_ack (&fake, 2, 2, second.event_id);  //  listed again: reported once
    cr_assert_eq (audit_producer_flush (producer, 5000), 0);
    cr_assert_eq (seen.calls, 1);
    cr_assert_eq (seen.seq, 2);
    cr_assert_str_eq (seen.event_id, second.event_id);
    cr_assert_str_eq (seen.reason, "bad_field");
    cr_assert_str_eq (seen.field, "user_id");
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    cr_assert_eq (stats.rejected, 1);
    cr_assert_eq (stats.acked, 2);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);
}

//  A run resumed on the same outbox: the events the first run never had
//  acknowledged are resent, the same bytes, and the seq goes on
Test (producer, resumes_on_the_same_outbox)
{
    s_fake_t fake;
    s_fake_start (&fake);
    audit_producer_t *producer = s_producer (5000, 100, NULL, NULL);
    audit_producer_receipt_t receipt;
    cr_assert_eq (s_publish (producer, "u-1", NULL, &receipt), 0);
    cr_assert_eq (s_publish (producer, "u-2", NULL, &receipt), 0);
    s_fake_hello (&fake, 0);
    char sent [1024], resent [1024];
    size_t sent_len, resent_len;
    s_fake_event (&fake, NULL, 0, NULL);
    cr_assert_eq (s_fake_event (&fake, sent, sizeof sent, &sent_len), 2);
    s_fake_ack (&fake, 1, 0, NULL);     //  2 was sent, never acknowledged
    zclock_sleep (100);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);

    s_fake_start (&fake);
    producer = s_producer (5000, 100, NULL, NULL);
    s_fake_hello (&fake, 1);
    cr_assert_eq (s_fake_event (&fake, resent, sizeof resent, &resent_len), 2);
    cr_assert_eq (resent_len, sent_len);
    cr_assert_eq (memcmp (sent, resent, sent_len), 0, "a resent event is the same bytes");
    cr_assert_eq (s_publish (producer, "u-3", NULL, &receipt), 0);
    cr_assert_eq (receipt.seq, 3);
    cr_assert_eq (s_fake_event (&fake, NULL, 0, NULL), 3);
    s_fake_ack (&fake, 3, 0, NULL);
    cr_assert_eq (audit_producer_flush (producer, 5000), 0);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);
}

//  A fake started, and a producer (retry_ms) that has published u-1 and
//  u-2, been answered, and sent both to it
static audit_producer_t *
s_two_sent (s_fake_t *fake, int retry_ms)
{
    s_fake_start (fake);
    audit_producer_t *producer = s_producer (retry_ms, 100, NULL, NULL);
    audit_producer_receipt_t receipt;
    cr_assert_eq (s_publish (producer, "u-1", NULL, &receipt), 0);
    cr_assert_eq (s_publish (producer, "u-2", NULL, &receipt), 0);
    s_fake_hello (fake, 0);
    cr_assert_eq (s_fake_event (fake, NULL, 0, NULL), 1);
    cr_assert_eq (s_fake_event (fake, NULL, 0, NULL), 2);
    return producer;
}

//  The ingest side restarts: its new subscription is a new connection, so
//  the producer says hello and resends everything above the answer
Test (producer, resends_after_a_reconnection)
{
    s_fake_t fake;
    audit_producer_t *producer = s_two_sent (&fake, 60000);
    s_fake_stop (&fake);                //  died with 2 unsettled
    s_fake_start (&fake);
    s_fake_hello (&fake, 1);            //  it had stored 1 before it died
    uint64_t seq = 0;
    for (int index = 0; index < 4 && seq != 2; index++)   //  1 may come again first
        seq = s_fake_event (&fake, NULL, 0, NULL);
    cr_assert_eq (seq, 2, "resent at once, not after retry_ms");
    s_fake_ack (&fake, 2, 0, NULL);
    cr_assert_eq (audit_producer_flush (producer, 5000), 0);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);
}

//  Events that arrive on the fake's SUB within ms, counted; none asserted
static int
s_fake_count (s_fake_t *fake, int ms)
{
    zsock_set_rcvtimeo (fake->sub, 50);
    int count = 0;
    for (int64_t until = zclock_mono () + ms; zclock_mono () < until; ) {
        zmsg_t *msg = zmsg_recv (fake->sub);
        count += msg != NULL;
        zmsg_destroy (&msg);
    }
    zsock_set_rcvtimeo (fake->sub, 5000);
    return count;
}

//  While the service says nothing (it is down, and the PUB's pipe keeps
//  what is sent for the connection's return) the retry timer resends once,
//  not every retry_ms; once the service speaks, it resends again
Test (producer, resends_once_while_the_service_is_silent)
{
    s_fake_t fake;
    audit_producer_t *producer = s_two_sent (&fake, 100);
    int silent = s_fake_count (&fake, 900);     //  nine retry intervals, no word
    cr_expect_eq (silent, 2, "one resend of both in the silence, not %d events", silent);
    s_fake_hello (&fake, 0);            //  the hello after a second of silence, answered
    uint64_t seq = s_fake_event (&fake, NULL, 0, NULL);
    cr_expect_eq (seq, 1, "resent again once the service spoke");
    s_fake_ack (&fake, 2, 0, NULL);
    cr_assert_eq (audit_producer_flush (producer, 5000), 0);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);
}

//  A service that answers (an ack every 50 ms) but does not get further
//  is busy, not losing events: each retry that brings no ack doubles the
//  interval, so that the same window is not sent again every retry_ms
Test (producer, a_busy_service_is_resent_to_less_and_less)
{
    s_fake_t fake;
    audit_producer_t *producer = s_two_sent (&fake, 100);
    int resent = 0;
    for (int64_t until = zclock_mono () + 3000; zclock_mono () < until; ) {
        s_fake_ack (&fake, 0, 0, NULL);
        resent += s_fake_count (&fake, 50);
    }
    //  100 + 200 + 400 + 800 + 1600 ms: at most 5 rewinds of 2 events in
    //  3 s (30 of them every 100 ms before)
    cr_expect (resent >= 2 && resent <= 10, "%d events resent in 3 s", resent);
    s_fake_ack (&fake, 2, 0, NULL);
    cr_assert_eq (audit_producer_flush (producer, 5000), 0);
    audit_producer_destroy (&producer);
    s_fake_stop (&fake);
}
