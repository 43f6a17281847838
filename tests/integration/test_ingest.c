/*  The real audit-ingest on tcp://127.0.0.1 with a fresh data directory:
    what a producer that knows only the contract publishes is stored
    exactly once when valid, never when rejected, and no forbidden value
    reaches any file. */

#include <criterion/criterion.h>
#include <inttypes.h>
#include <czmq.h>
#include <signal.h>
#include <sqlite3.h>

#include "sqlite_store.h"
#include "audit_time.h"
#include "test_service.h"

static test_service_t *s;

static int64_t
s_count (const char *db, const char *sql)
{
    return test_service_count (s, db, sql);
}

static int64_t
s_wait_count (const char *db, const char *sql, int64_t want, int timeout_ms)
{
    return test_service_wait_count (s, db, sql, want, timeout_ms);
}

static void
s_send (const char *topic, test_pack_t *pack)
{
    test_service_publish (s, topic, pack);
}

static void
s_setup (void)
{
    s = test_service_start ("ingest", false);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
}

TestSuite (ingest, .init = s_setup, .fini = s_teardown, .timeout = 60);

static bool
s_still_running (void)
{
    return waitpid (s->ingest_pid, NULL, WNOHANG) == 0;
}

static int64_t
s_counter (const char *name, int64_t want)
{
    return test_service_counter (s, name, want);
}

static int64_t
s_events_with_id (const char *uuid_text)
{
    char sql [256], hex [33];
    int out = 0;
    for (const char *c = uuid_text; *c; c++)
        if (*c != '-')
            hex [out++] = *c;
    hex [out] = 0;
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE hex (uuid) = upper ('%s')", hex);
    return s_count ("audit.db", sql);
}

//  ingest.stored less the ops probes stored: the probes that the start
//  sent while it waited for the subscription may still land after the
//  events, so both are read together until they agree with want
static int64_t
s_stored_besides_probes (int64_t want)
{
    int64_t besides = -1;
    for (int waited = 0; waited < 5000; waited += 20) {
        int64_t probes = s_count ("ops.db", "SELECT count(*) FROM ops");
        besides = s_counter ("ingest.stored", 0) - probes;
        if (besides == want)
            break;
        zclock_sleep (20);
    }
    return besides;
}

Test (ingest, every_catalogue_type_is_stored_exactly_once)
{
    const int rounds = 150;
    int published = 0;
    char first_id [37] = "";
    for (int round = 0; round < rounds; round++)
        for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
            if (audit_proto_event_info ((audit_event_type_t) type)->reserved)
                continue;
            char org [32], id [37];
            snprintf (org, sizeof org, "org-%d", round % 7);
            test_pack_t *pack = test_pack_event ((audit_event_type_t) type, org, "admin-1", 0, id);
            s_send ("audit.shard", pack);
            if (published == 0)
                memcpy (first_id, id, sizeof id);
            test_pack_destroy (&pack);
            published++;
        }
    cr_assert_eq (published, rounds * 18);
    cr_assert_eq (s_wait_count ("audit.db", "SELECT count(*) FROM event", published, 10000), published);
    cr_assert_eq (s_count ("audit.db", "SELECT count(DISTINCT type) FROM event"), 18);
    cr_assert_eq (s_count ("audit.db", "SELECT count(DISTINCT org) FROM event"), 7);
    cr_assert_eq (s_events_with_id (first_id), 1);
    cr_assert_eq (s_stored_besides_probes (published), published, "events besides the probes");
    cr_assert (s_still_running ());
}

Test (ingest, a_duplicate_event_id_is_stored_once_and_counted)
{
    char id [37];
    test_pack_t *pack = test_pack_event (AUDIT_EVENT_GROUP_CREATED, "acme", "admin-1", 0, id);
    for (int copy = 0; copy < 3; copy++)
        s_send ("audit", pack);
    test_pack_destroy (&pack);
    cr_assert_eq (s_counter ("ingest.duplicate", 2), 2);
    cr_assert_eq (s_events_with_id (id), 1);
    cr_assert (s_still_running ());
}

//  An event of six envelope keys with one of them replaced by (key, value)
static test_pack_t *
s_event_with (const char *id, const char *key, const char *value, uint32_t extra)
{
    const char *keys [] = { "event_id", "event_type", "timestamp", "org_id", "actor_id" };
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms (), now);
    const char *values [] = { id, "user_login", now, "acme", "admin-1" };
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6 + extra);
    test_pack_kv_uint (pack, "v", 1);
    for (int index = 0; index < 5; index++)
        test_pack_kv_str (pack, keys [index],
                          key && streq (key, keys [index]) ? value : values [index]);
    return pack;
}

static void
s_send_raw (const char *topic, const void *data, size_t size)
{
    test_service_publish_raw (s, topic, data, size);
}

Test (ingest, rejected_events_are_never_stored_and_the_worker_goes_on)
{
    char ids [8][37];
    for (int index = 0; index < 8; index++)
        test_uuid (ids [index]);
    char future [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms () + 2 * 3600 * 1000, future);
    test_pack_t *packs [] = {
        s_event_with (ids [0], "event_type", "user_dance", 0),          //  unknown_type
        s_event_with (ids [1], "event_type", "audit_log_exported", 0),  //  reserved_type
        s_event_with (ids [2], "org_id", "has space", 0),               //  bad_field
        s_event_with (ids [3], "timestamp", future, 0),                 //  bad_timestamp
        s_event_with (ids [4], "timestamp", "yesterday", 0),            //  bad_timestamp
    };
    for (size_t index = 0; index < sizeof packs / sizeof packs [0]; index++) {
        s_send ("audit", packs [index]);
        test_pack_destroy (&packs [index]);
    }
    //  bad_version: v = 2, then the rest of a valid event
    test_pack_t *version = test_pack_new ();
    test_pack_map (version, 1);
    test_pack_kv_uint (version, "v", 2);
    s_send ("audit", version);
    test_pack_destroy (&version);
    //  malformed: not MessagePack, an array, trailing bytes, one frame only, oversized
    s_send_raw ("audit", "\xc1\xc1", 2);
    s_send_raw ("audit", "\x92\x01\x02", 3);
    test_pack_t *trailing = s_event_with (ids [5], NULL, NULL, 0);
    msgpack_pack_nil (&trailing->packer);
    s_send ("audit", trailing);
    test_pack_destroy (&trailing);
    zstr_send (s->pub, "audit");
    test_pack_t *huge = s_event_with (ids [6], NULL, NULL, 1);
    char *filler = calloc (70 * 1024, 1);
    memset (filler, 'x', 70 * 1024 - 1);
    test_pack_kv_str (huge, "notes", filler);
    free (filler);
    s_send ("audit", huge);
    test_pack_destroy (&huge);
    //  A valid event after all of them is still taken
    test_pack_t *valid = s_event_with (ids [7], NULL, NULL, 0);
    s_send ("audit", valid);
    test_pack_destroy (&valid);

    cr_assert_eq (s_wait_count ("audit.db", "SELECT count(*) FROM event", 1, 5000), 1);
    cr_assert_eq (s_events_with_id (ids [7]), 1);
    for (int index = 0; index < 7; index++)
        cr_assert_eq (s_events_with_id (ids [index]), 0, "rejected event %d stored", index);
    cr_assert_eq (s_counter ("ingest.rejected.unknown_type", 1), 1);
    cr_assert_eq (s_counter ("ingest.rejected.reserved_type", 1), 1);
    cr_assert_eq (s_counter ("ingest.rejected.bad_field", 1), 1);
    cr_assert_eq (s_counter ("ingest.rejected.bad_timestamp", 2), 2);
    cr_assert_eq (s_counter ("ingest.rejected.bad_version", 1), 1);
    cr_assert_eq (s_counter ("ingest.rejected.malformed", 5), 5);
    cr_assert (s_still_running ());
}

Test (ingest, no_forbidden_value_reaches_any_file)
{
    const char *forbidden [] = { "message_body", "otp", "password", "recipients",
                                 "push_content", "client_ip" };
    const int keys = sizeof forbidden / sizeof forbidden [0];
    char canary [64];
    snprintf (canary, sizeof canary, "CANARY-%08x-%08x", (unsigned) rand (), (unsigned) getpid ());
    int sent = 0;
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        if (audit_proto_event_info ((audit_event_type_t) type)->reserved)
            continue;
        test_pack_t *pack = test_pack_event ((audit_event_type_t) type, "canary-org",
                                             "admin-1", (uint32_t) keys, NULL);
        for (int key = 0; key < keys; key++)
            test_pack_kv_str (pack, forbidden [key], canary);
        s_send ("audit", pack);
        test_pack_destroy (&pack);
        sent++;
    }
    //  The events themselves are kept; only the forbidden keys are dropped
    cr_assert_eq (s_wait_count ("audit.db", "SELECT count(*) FROM event", sent, 5000), sent);
    cr_assert_eq (s_counter ("ingest.dropped_keys.message_body", sent), sent);
    cr_assert_eq (s_counter ("ingest.dropped_keys.otp", sent), sent);
    cr_assert_eq (test_worker_stop (s->ingest_pid, SIGTERM, 10000), 0);
    s->ingest_pid = -1;
    //  The search works: a value that is stored is found
    cr_assert (test_dir_contains (s->dir, "canary-org", 10));
    cr_assert_not (test_dir_contains (s->dir, canary, strlen (canary)),
                   "a forbidden value was written to the data directory");
}

Test (ingest, sigterm_mid_stream_commits_everything_received)
{
    const int total = 50000;
    for (int seq = 1; seq <= total; seq++) {
        test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "acme", "admin-1", 2, NULL);
        test_pack_kv_str (pack, "producer_id", "auth-1");
        test_pack_kv_uint (pack, "seq", (uint64_t) seq);
        s_send ("audit", pack);
        test_pack_destroy (&pack);
        if (seq == total / 4)
            kill (s->ingest_pid, SIGTERM);
    }
    cr_assert_eq (test_worker_stop (s->ingest_pid, 0, 20000), 0, "exit 0 on SIGTERM");
    s->ingest_pid = -1;
    int64_t stored = s_count ("audit.db", "SELECT count(*) FROM event");
    int64_t received = s_count ("audit.db",
        "SELECT value FROM counter WHERE name = 'ingest.received'");
    int64_t probes = s_count ("ops.db", "SELECT count(*) FROM ops");
    cr_assert_gt (stored, 0);
    cr_assert_eq (received, stored + probes, "received %lld, stored %lld + %lld probes",
                  (long long) received, (long long) stored, (long long) probes);
    cr_assert_eq (s_count ("audit.db", "SELECT count(*) FROM counter WHERE name LIKE 'ingest.gaps.%'"), 0);
}

//  Gaps in a producer's seq are counted from seq 1, where a run starts (a
//  first event with seq 10 means 9 were missed); a lower seq is a resend
//  and fills nothing; a jump as large as the type allows holds the
//  counter at its maximum rather than wrapping it below what it was
Test (ingest, seq_gaps_are_counted_and_never_go_down)
{
    const uint64_t seqs [] = { 10, 11, 11, 15, 9, 10, UINT64_MAX, 5, 7 };
    const int64_t gaps_after [] = { 9, 9, 9, 12, 12, 12, INT64_MAX, INT64_MAX, INT64_MAX };
    for (size_t index = 0; index < sizeof seqs / sizeof seqs [0]; index++) {
        test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "acme", "admin-1", 2, NULL);
        test_pack_kv_str (pack, "producer_id", "gappy");
        test_pack_kv_uint (pack, "seq", seqs [index]);
        s_send ("audit", pack);
        test_pack_destroy (&pack);
        //  The counters go in with the batch that holds the event
        cr_assert_eq (s_wait_count ("audit.db", "SELECT count(*) FROM event",
                                    (int64_t) index + 1, 5000), (int64_t) index + 1);
        cr_expect_eq (s_counter ("ingest.gaps.gappy", gaps_after [index]), gaps_after [index],
                      "after seq %" PRIu64, seqs [index]);
    }
}

//  Thousands of new dropped key names between two flushes fold into their
//  own family's "(other)"; the fixed counters keep their own rows and stay
//  consistent. Rejected events (a second "v": malformed) write nothing, so
//  their key names pile up in memory until the next flush.
Test (ingest, a_flood_of_key_names_does_not_fold_the_totals)
{
    const int rejected = 150, keys = 16;
    for (int index = 0; index < rejected; index++) {
        test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "acme", "admin-1",
                                             (uint32_t) keys + 1, NULL);
        for (int key = 0; key < keys; key++) {
            char name [32];
            snprintf (name, sizeof name, "flood_%d_%d", index, key);
            test_pack_kv_uint (pack, name, 1);
        }
        test_pack_kv_uint (pack, "v", 1);
        s_send ("audit", pack);
        test_pack_destroy (&pack);
    }
    test_pack_t *valid = test_pack_event (AUDIT_EVENT_USER_LOGIN, "acme", "admin-1", 0, NULL);
    s_send ("audit", valid);
    test_pack_destroy (&valid);
    cr_assert_eq (s_wait_count ("audit.db", "SELECT count(*) FROM event", 1, 10000), 1);
    cr_expect_eq (s_counter ("ingest.rejected.malformed", rejected), rejected);
    int64_t received = s_counter ("ingest.received", rejected + 1);
    int64_t stored = s_counter ("ingest.stored", 1);
    cr_expect_eq (received - stored, rejected, "received %lld, stored %lld",
                  (long long) received, (long long) stored);
    cr_expect_eq (s_count ("audit.db", "SELECT count(*) FROM counter WHERE name LIKE '%(other)'"
                                       " AND name NOT LIKE 'ingest.dropped%'"), 0,
                  "no fixed counter folded");
    int64_t dropped = s_counter ("ingest.dropped_keys.(other)", 1)
                    + s_count ("audit.db", "SELECT coalesce (sum (value), 0) FROM counter"
                                           " WHERE name LIKE 'ingest.dropped_keys.flood%'");
    cr_expect_eq (dropped, rejected * keys, "every dropped key counted once");
}

//  Lines of the ingest worker's log that hold text
static int
s_log_lines_with (const char *text)
{
    char path [512], line [2048];
    snprintf (path, sizeof path, "%s.audit-ingest.log", s->dir);
    FILE *file = fopen (path, "r");
    cr_assert_not_null (file, "%s", path);
    int lines = 0;
    while (fgets (line, sizeof line, file))
        lines += strstr (line, text) != NULL;
    fclose (file);
    return lines;
}

//  Keys past the names one message reports still count per producer, and a
//  rejected event that carried a dropped key gets its one rejection line
Test (ingest, every_dropped_key_counts_per_producer_and_a_rejection_is_one_line)
{
    const int keys = 20;
    test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "acme", "admin-1",
                                         (uint32_t) keys + 1, NULL);
    test_pack_kv_str (pack, "producer_id", "p-many");
    for (int key = 0; key < keys; key++) {
        char name [32];
        snprintf (name, sizeof name, "ykey%02d", key);
        test_pack_kv_uint (pack, name, 1);
    }
    s_send ("audit", pack);
    test_pack_destroy (&pack);
    char rejected_id [37];
    pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "acme", "admin-1", 2, rejected_id);
    test_pack_kv_str (pack, "stray_key", "x");
    test_pack_kv_str (pack, "device_id", "not an id");          //  bad_field
    s_send ("audit", pack);
    test_pack_destroy (&pack);
    cr_assert_eq (s_counter ("ingest.rejected.bad_field", 1), 1);
    int64_t by_producer = s_count ("audit.db", "SELECT coalesce (sum (value), 0) FROM counter"
                                   " WHERE name LIKE 'ingest.dropped_by_producer.p-many %'");
    cr_expect_eq (by_producer, keys, "all %d keys under p-many, not %lld", keys,
                  (long long) by_producer);
    cr_expect_eq (s_counter ("ingest.dropped_by_producer.p-many (other)", keys - 16), keys - 16);
    cr_expect_eq (s_log_lines_with (rejected_id), 1, "one line for the rejected event");
}

//  Issue 12: a body over 1 MiB was dropped by libzmq and counted nowhere.
//  libzmq closes that producer's connection, which the monitor of the
//  socket counts (ingest.disconnected); the producer reconnects and goes on
Test (ingest, a_body_libzmq_drops_is_counted)
{
    int64_t before = s_counter ("ingest.disconnected", 0);
    size_t size = 2 * 1024 * 1024;
    char *big = calloc (1, size);
    cr_assert_not_null (big);
    test_service_publish_raw (s, "audit", big, size);
    free (big);
    cr_expect_geq (s_counter ("ingest.disconnected", before + 1), before + 1);
    cr_expect (s_still_running ());
    int64_t probes = s_count ("ops.db", "SELECT count(*) FROM ops");
    test_pack_t *pack = test_pack_ops_probe ("/after-the-drop");
    int64_t stored = probes;
    for (int attempt = 0; attempt < 100 && stored <= probes; attempt++) {
        s_send ("ops", pack);
        stored = s_wait_count ("ops.db", "SELECT count(*) FROM ops", probes + 1, 100);
    }
    test_pack_destroy (&pack);
    cr_expect_gt (stored, probes, "the producer is heard again");
}

//  16 complete tiles of one organisation written by a store that merges
//  nothing (a MAINTAINER: the query worker's audit_access, the janitor's
//  events), as their own batches; a user for every other event
static void
s_owed_write (const char *org)
{
    audit_store_t *store = audit_store_new (s->dir, AUDIT_STORE_MAINTAINER);
    cr_assert_not_null (store);
    audit_record_t records [256];
    audit_store_outcome_t outcomes [256];
    int64_t now = audit_time_now_ms ();
    for (uint32_t tile = 0; tile < 16; tile++) {
        for (uint32_t at = 0; at < 256; at++) {
            uint32_t n = tile * 256 + at;
            char actor [16];
            snprintf (actor, sizeof actor, "actor-%u", n % 7);
            test_record_login (&records [at], org, actor, n, now - 3600000 + n);
            audit_event_t *event = &records [at].u.event;
            if (n % 2) {
                event->present = AUDIT_FIELD_BIT (AUDIT_FIELD_USER_ID);
                snprintf (event->text [AUDIT_FIELD_USER_ID], sizeof (audit_ident_t), "user-%u",
                          n % 5);
            }
        }
        cr_assert_eq (audit_store_write (store, records, 256, outcomes, NULL), 0);
    }
    audit_store_destroy (&store);
}

//  What the store's other writers leave owed, the worker merges in its
//  housekeeping, with no new event of that organisation: its 16 runs of a
//  tile become one. SQLite only: the PostgreSQL store has no subject runs.
Test (ingest, the_worker_merges_the_subject_runs_other_writers_left_owed)
{
    if (test_pg_on ())
        cr_skip_test ("the PostgreSQL store has no subject runs");
    const char *merged = "SELECT subject_merged FROM org WHERE name = 'org-owed'";
    const char *runs = "SELECT count (*) FROM subject_run r JOIN org o ON o.id = r.org"
                       " WHERE o.name = 'org-owed'";
    test_service_kill_ingest (s, SIGTERM);
    s_owed_write ("org-owed");
    cr_assert_eq (s_count ("audit.db", merged), 0, "the maintainer merged nothing");
    cr_assert_eq (s_count ("audit.db", runs), 16);
    test_service_restart_ingest (s);
    cr_expect_eq (s_wait_count ("audit.db", merged, 16, 10000), 16);
    cr_expect_eq (s_count ("audit.db", runs), 1, "one run of 16 tiles");
    cr_expect_eq (s_count ("audit.db", "SELECT count (*) FROM subject_entry"),
                  16 * 256 + 16 * 128, "an entry per actor, and per user of every other event");
    cr_expect (s_still_running ());
}
