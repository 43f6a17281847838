/*  =========================================================================
    test_rejections - libaudit-producer against the real workers: a
    producer publishes good events, duplicates, events refused at the call
    and events that pass the call but that the service rejects; it hears
    every rejection with reason and field, and its outbox empties.
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>

#include "audit_producer.h"
#include "audit_time.h"
#include "test_feed.h"
#include "test_keys.h"
#include "test_service.h"

static test_service_t *s;

static void s_setup (void) { s = test_service_start ("rejections", true); }
static void s_teardown (void) { test_service_destroy (&s); }

TestSuite (rejections, .init = s_setup, .fini = s_teardown, .timeout = 120);

static uint64_t
s_uint (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = map? test_obj_get (map, key): NULL;
    cr_assert (value && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER, "stats: %s", key);
    return value->via.u64;
}

//  Rejections the library cannot see at the call.
//
//  The library checks an event with the service's own decoder, so nothing
//  it lets through is malformed; what it cannot know is the service's
//  clock. The ingest worker here runs two days ahead (libfaketime), as on
//  a host whose clock differs from the producer's: an event 364 days old
//  by the producer's clock passes the call and is 366 days old, too old
//  (bad_timestamp), to the service. Every event still goes through the
//  library with the library's own seqs, so the acks settle a real run.
//  Duplicates (an event published twice) settle as stored, not rejected;
//  events without actor_id are refused at the call and take no seq.

#define s_MIX 300

//  The rejections the callback heard (on the producer's thread)
static struct {
    pthread_mutex_t mutex;
    int count;
    uint64_t seqs [s_MIX];
    char event_ids [s_MIX][TEST_FEED_ID_SIZE];
    char reasons [s_MIX][32], fields [s_MIX][32];
} s_heard = { .mutex = PTHREAD_MUTEX_INITIALIZER };

static void
s_on_rejected (void *arg, const audit_producer_rejection_t *rejection)
{
    (void) arg;
    pthread_mutex_lock (&s_heard.mutex);
    if (s_heard.count < s_MIX) {
        int at = s_heard.count++;
        s_heard.seqs [at] = rejection->seq;
        snprintf (s_heard.event_ids [at], TEST_FEED_ID_SIZE, "%s", rejection->event_id);
        snprintf (s_heard.reasons [at], 32, "%s", rejection->reason);
        snprintf (s_heard.fields [at], 32, "%s", rejection->field);
    }
    pthread_mutex_unlock (&s_heard.mutex);
}

//  What the mix published: by seq, the event_id and whether it was too old
typedef struct {
    char ids [s_MIX + 1][TEST_FEED_ID_SIZE];
    bool too_old [s_MIX + 1];
    uint64_t seq, refused, old, duplicates;
} s_mix_t;

//  A user_login of event_id at ts_ms, without actor_id when not with_actor
static test_pack_t *
s_login (const char *event_id, int64_t ts_ms, bool with_actor)
{
    char timestamp [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (ts_ms, timestamp);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 5 + with_actor);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", event_id);
    test_pack_kv_str (pack, "event_type", "user_login");
    test_pack_kv_str (pack, "timestamp", timestamp);
    test_pack_kv_str (pack, "org_id", "org-mix");
    if (with_actor)
        test_pack_kv_str (pack, "actor_id", "actor-1");
    return pack;
}

//  Event index of the mix: every tenth from the 3rd is 364 days old by our
//  clock, from the 7th the previous one again, from the 9th without actor_id
static int
s_mix_one (audit_producer_t *producer, int index, int64_t now, s_mix_t *mix,
           audit_producer_receipt_t *receipt)
{
    int kind = index % 10;
    char event_id [TEST_FEED_ID_SIZE];
    test_uuid (event_id);
    int64_t ts = kind == 3? now - 364 * 86400000LL: now;
    if (kind == 7) {
        snprintf (event_id, sizeof event_id, "%s", mix->ids [mix->seq]);
        ts = mix->too_old [mix->seq]? now - 364 * 86400000LL: now;
    }
    test_pack_t *pack = s_login (event_id, ts, kind != 9);
    int rc = audit_producer_publish (producer, "audit", test_pack_data (pack),
                                     test_pack_size (pack), receipt);
    test_pack_destroy (&pack);
    return rc;
}

static void
s_mix_publish (audit_producer_t *producer, s_mix_t *mix)
{
    int64_t now = test_now_ms ();
    for (int index = 1; index <= s_MIX; index++) {
        audit_producer_receipt_t receipt;
        int rc = s_mix_one (producer, index, now, mix, &receipt);
        if (index % 10 == 9) {
            cr_expect_eq (rc, -1, "an event without actor_id is refused at the call");
            cr_expect_str_eq (receipt.reason, "missing_field");
            cr_expect_str_eq (receipt.field, "actor_id");
            mix->refused++;
            continue;
        }
        cr_assert_eq (rc, 0, "%d: %s %s", index, receipt.reason, receipt.field);
        cr_assert_eq (receipt.seq, ++mix->seq, "a refusal takes no seq");
        snprintf (mix->ids [mix->seq], TEST_FEED_ID_SIZE, "%.36s", receipt.event_id);
        mix->too_old [mix->seq] = index % 10 == 3;
        mix->old += index % 10 == 3;
        mix->duplicates += index % 10 == 7;
    }
}

//  Every rejection heard once, the too old ones and only them, with the
//  reason, the field, the seq and the event_id
static void
s_mix_heard (const s_mix_t *mix)
{
    pthread_mutex_lock (&s_heard.mutex);
    cr_expect_eq ((uint64_t) s_heard.count, mix->old, "each rejection heard once");
    for (int at = 0; at < s_heard.count; at++) {
        uint64_t which = s_heard.seqs [at];
        cr_assert (which >= 1 && which <= mix->seq);
        cr_expect (mix->too_old [which], "seq %" PRIu64 " is one of the old ones", which);
        cr_expect_str_eq (s_heard.event_ids [at], mix->ids [which]);
        cr_expect_str_eq (s_heard.reasons [at], "bad_timestamp");
        cr_expect_str_eq (s_heard.fields [at], "timestamp");
    }
    pthread_mutex_unlock (&s_heard.mutex);
}

Test (rejections, come_back_with_reason_and_field_and_the_outbox_empties)
{
    const char *env [4];
    if (!test_faketime_env ("+2d", env))
        cr_skip_test ("libfaketime is not installed");
    test_service_restart_ingest_env (s, env);
    audit_producer_options_t options;
    audit_producer_options_init (&options);
    options.on_rejected = s_on_rejected;
    options.curve_server_key = test_keys_server_key ();
    options.curve_client_cert = test_service_client_cert (s, "mixed-1");
    char outbox [512];
    snprintf (outbox, sizeof outbox, "%s/outbox-mix.db", s->dir);
    audit_producer_t *producer = audit_producer_new_with (s->ingest_endpoint, s->ack_endpoint,
                                                          "mixed-1", outbox, &options);
    cr_assert_not_null (producer);
    static s_mix_t mix;
    s_mix_publish (producer, &mix);
    cr_assert_eq (audit_producer_flush (producer, 30000), 0, "everything acknowledged");
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    audit_producer_destroy (&producer);
    cr_expect_eq (stats.refused, mix.refused);
    cr_expect_eq (stats.acked, mix.seq);
    cr_expect_eq (stats.rejected, mix.old, "rejected: %" PRIu64, stats.rejected);
    cr_expect_eq (stats.held, 0);
    s_mix_heard (&mix);
    int64_t left = test_service_count (s, "outbox-mix.db", "SELECT count(*) FROM outbox_event");
    cr_expect_eq (left, 0, "the outbox is empty afterwards");
    int64_t stored = test_service_count (s, "audit.db", "SELECT count(*) FROM event"
                                     " WHERE org = (SELECT id FROM org WHERE name = 'org-mix')");
    cr_expect_eq (stored, (int64_t) (mix.seq - mix.old - mix.duplicates));
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    test_service_call (s, "stats", token, 0, NULL, NULL, &reply);
    free (token);
    const msgpack_object *service = test_obj_get (&reply.data, "stats");
    const msgpack_object *mixed = test_obj_get (test_obj_get (service, "producers"), "mixed-1");
    cr_expect_eq (s_uint (mixed, "acked_seq"), mix.seq);
    cr_expect_eq (s_uint (test_obj_get (mixed, "rejected"), "bad_timestamp"), mix.old);
    cr_expect_geq (s_uint (test_obj_get (service, "ingest"), "duplicate"), mix.duplicates);
    fprintf (stderr, "soak: test=rejections published=%" PRIu64 " refused_at_call=%" PRIu64
             " rejected=%" PRIu64 " heard=%d duplicates=%" PRIu64 " stored=%" PRId64
             " outbox_left=%" PRId64 "\n", mix.seq, mix.refused, stats.rejected, s_heard.count,
             mix.duplicates, stored, left);
    msgpack_unpacked_destroy (&reply);
}
