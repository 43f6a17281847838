/*  The real audit-ingest and audit-query as an organisation's log shows
    them: every stored event, the service's own audit_access events
    included, gets its organisation's next log_index in commit order though
    both workers write audit.db; a duplicate is the same event_id at the
    same timestamp; and the CSV and ndjson exports give back, field by
    field, what list returns for the same log_index. */

#include <criterion/criterion.h>
#include <ctype.h>
#include <pthread.h>

#include "audit_time.h"
#include "test_keys.h"
#include "test_log_view.h"

static test_service_t *s;

static void
s_setup (void)
{
    s = test_service_start ("orglog", true);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
}

TestSuite (orglog, .init = s_setup, .fini = s_teardown, .timeout = 120);

//  The actor of the service's own events: the admin token's sub
#define S_ADMIN_SUB "sub-org_admin"

//  An audit event of type user_login, with the timestamp ms in one of the
//  contract's forms: 0 RFC 3339 UTC, 1 MessagePack ext, 2 RFC 3339 +01:00,
//  3 RFC 3339 UTC with microseconds (kept to the millisecond)
static test_pack_t *
s_login (const char *org, const char *actor, const char *id, int64_t ms, int form)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", id);
    test_pack_kv_str (pack, "event_type", "user_login");
    char when [AUDIT_TIME_TEXT_SIZE + 8];
    audit_time_format (form == 2 ? ms + 3600 * 1000 : ms, when);
    if (form == 2)
        strcpy (when + strlen (when) - 1, "+01:00");
    if (form == 3)
        strcpy (when + strlen (when) - 1, "789Z");
    if (form == 1)
        test_pack_kv_ts_ext (pack, "timestamp", ms, 12);
    else
        test_pack_kv_str (pack, "timestamp", when);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", actor);
    return pack;
}

static void
s_publish (test_pack_t *pack)
{
    test_service_publish (s, "audit", pack);
    test_pack_destroy (&pack);
}

//  --------------------------------------------------------------------------
//  log_index while both workers write

#define S_ORGS          3
#define S_PUBLISHED     3000
#define S_BURST         25              //  events published before each query write
#define S_CHANGES_MAX   128

//  A retention_set, told apart by its days (unique per organisation)
typedef struct {
    int org;
    uint32_t days;
    int before;                 //  every seq below was stored before the call; -1: unknown
    int after;                  //  every seq from here was published after the reply
} s_change_t;

typedef struct {
    char org [S_ORGS][16];
    char *token [S_ORGS];
    int published [S_ORGS];
    int exports [S_ORGS];
    int changes_in [S_ORGS];
    s_change_t changes [S_CHANGES_MAX];
    int change_count;
} s_run_t;

//  One write by the query worker: a retention change, or a small export
//  that completes (of the service's own events), which records itself
static void
s_query_write (s_run_t *run, int round, int published, bool settled)
{
    int org = round % S_ORGS;
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    if ((round / S_ORGS) % 2 == 0) {
        cr_assert_lt (run->change_count, S_CHANGES_MAX);
        s_change_t *change = &run->changes [run->change_count++];
        *change = (s_change_t) { org, 1 + (uint32_t) (round / S_ORGS), settled ? published : -1 };
        test_args_t args = { { "org_id" }, { run->org [org] }, "retention_days", change->days };
        test_call_ok (s, "retention_set", run->token [org], &args, &reply);
        change->after = published;
        run->changes_in [org]++;
    }
    else {
        test_args_t args = { { "org_id", "actor_id", "format" },
                             { run->org [org], S_ADMIN_SUB, round % 4 < 2 ? "csv" : "ndjson" },
                             "limit", 1000 };
        test_call_ok (s, "export", run->token [org], &args, &reply);
        const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
        cr_assert (next && next->type == MSGPACK_OBJECT_NIL, "a small export completes");
        run->exports [org]++;
    }
    msgpack_unpacked_destroy (&reply);
}

//  Wait until ingest has stored want events; the query worker's own are
//  not counted (another client may be adding them)
static int64_t
s_wait_published (int64_t want)
{
    char sql [128];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event WHERE type = %d",
              (int) AUDIT_EVENT_USER_LOGIN);
    return test_service_wait_count (s, "audit.db", sql, want, 20000);
}

//  Another portal exporting at the same time, on a REQ socket of its own,
//  so that the query worker writes from more than one request at once.
//  No asserts off the test's thread: it counts, the test checks.
#define S_EXPORTER_ROUNDS 60

typedef struct {
    const s_run_t *run;
    int exports [S_ORGS];       //  completed, so each recorded one event
    int failures;
} s_exporter_t;

//  One small export of org that completes in one chunk; true when it did
static bool
s_export_once (zsock_t *req, const char *token, const char *org)
{
    test_pack_t *request = test_pack_new ();
    test_pack_map (request, 7);
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", "export");
    test_pack_kv_str (request, "token", token);
    test_pack_kv_str (request, "org_id", org);
    test_pack_kv_str (request, "actor_id", S_ADMIN_SUB);
    test_pack_kv_str (request, "format", "ndjson");
    test_pack_kv_uint (request, "limit", 1000);
    zframe_t *frame = zframe_new (test_pack_data (request), test_pack_size (request));
    test_pack_destroy (&request);
    bool done = false;
    if (zframe_send (&frame, req, 0) == 0 && (frame = zframe_recv (req))) {
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        if (msgpack_unpack_next (&reply, (const char *) zframe_data (frame), zframe_size (frame),
                                 NULL) == MSGPACK_UNPACK_SUCCESS) {
            const msgpack_object *ok = test_obj_get (&reply.data, "ok");
            const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
            done = ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean
                && next && next->type == MSGPACK_OBJECT_NIL;
        }
        msgpack_unpacked_destroy (&reply);
        zframe_destroy (&frame);
    }
    return done;
}

static void *
s_exporter (void *arg)
{
    s_exporter_t *self = (s_exporter_t *) arg;
    zsock_t *req = zsock_new (ZMQ_REQ);
    zsock_set_rcvtimeo (req, 10000);
    zsock_set_linger (req, 0);
    test_keys_apply (req, NULL);
    if (zsock_connect (req, "%s", s->query_endpoint) != 0)
        self->failures++;
    for (int round = 0; !self->failures && round < S_EXPORTER_ROUNDS; round++) {
        int org = round % S_ORGS;
        if (s_export_once (req, self->run->token [org], self->run->org [org]))
            self->exports [org]++;
        else
            self->failures++;
    }
    zsock_destroy (&req);
    return NULL;
}

//  Publish S_PUBLISHED events round-robin over the organisations, with
//  timestamps out of publish order, and a query write after every burst
//  while ingest commits it, as another portal exports on its own socket;
//  every 7th round first waits until ingest has stored everything, so
//  that the order of its write is known both ways
static void
s_run (s_run_t *run)
{
    int64_t now = test_now_ms ();
    int published = 0;
    s_exporter_t exporter = { .run = run };
    pthread_t thread;
    cr_assert_eq (pthread_create (&thread, NULL, s_exporter, &exporter), 0);
    for (int round = 0; published < S_PUBLISHED; round++) {
        for (int burst = 0; burst < S_BURST; burst++, published++) {
            int org = published % S_ORGS;
            char actor [16], id [37];
            snprintf (actor, sizeof actor, "p-%05d", published);
            test_uuid (id);
            s_publish (s_login (run->org [org], actor, id,
                                now - (int64_t) published * 7919 % 3600000, 0));
            run->published [org]++;
        }
        bool settled = round % 7 == 6;
        if (settled)
            cr_assert_eq (s_wait_published (published), published);
        s_query_write (run, round, published, settled);
    }
    pthread_join (thread, NULL);
    cr_assert_eq (exporter.failures, 0, "the other portal's exports all completed");
    for (int org = 0; org < S_ORGS; org++)
        run->exports [org] += exporter.exports [org];
    cr_assert_eq (s_wait_published (published), published, "every published event stored");
}

//  Log order is commit order: an organisation's published events have
//  log_index in publish order, a retention change's event is above every
//  event stored before the call and below every event published after its
//  reply, and the service's own events are all there
static void
s_expect_commit_order (const test_log_t *log, const s_run_t *run, int org)
{
    static int index_of_seq [S_PUBLISHED];
    int index_of_days [S_CHANGES_MAX + 2];
    memset (index_of_days, -1, sizeof index_of_days);
    int last_seq = -1, logins = 0, changes = 0, exports = 0;
    for (size_t at = 0; at < log->events; at++) {
        const char *type = test_log_value (log, at, "event_type");
        const char *actor = test_log_value (log, at, "actor_id");
        if (streq (type, "user_login")) {
            int seq = atoi (actor + 2);
            cr_assert (seq % S_ORGS == org && seq > last_seq,
                       "log_index %zu holds event %d, after event %d", at, seq, last_seq);
            index_of_seq [seq] = (int) at;
            last_seq = seq;
            logins++;
            continue;
        }
        cr_assert_str_eq (actor, S_ADMIN_SUB, "log_index %zu: %s", at, type);
        if (streq (type, "retention_changed")) {
            int days = atoi (test_log_value (log, at, "retention_days"));
            cr_assert (days > 0 && days < S_CHANGES_MAX + 2 && index_of_days [days] < 0);
            index_of_days [days] = (int) at;
            changes++;
        }
        else {
            cr_assert_str_eq (type, "audit_log_exported");
            exports++;
        }
    }
    cr_assert_eq (logins, run->published [org]);
    cr_assert_eq (changes, run->changes_in [org]);
    cr_assert_eq (exports, run->exports [org]);
    for (int index = 0; index < run->change_count; index++) {
        const s_change_t *change = &run->changes [index];
        if (change->org != org)
            continue;
        int at = index_of_days [change->days];
        cr_assert_geq (at, 0, "retention change to %u days not listed", change->days);
        for (int seq = org; seq < S_PUBLISHED; seq += S_ORGS) {
            if (seq >= change->after)
                cr_assert_gt (index_of_seq [seq], at, "event %d published after the change", seq);
            if (seq < change->before)
                cr_assert_lt (index_of_seq [seq], at, "event %d stored before the change", seq);
        }
    }
}

Test (orglog, log_index_is_contiguous_in_commit_order_while_both_workers_write)
{
    s_run_t run = { .change_count = 0 };
    for (int org = 0; org < S_ORGS; org++) {
        snprintf (run.org [org], sizeof run.org [org], "log-%d", org);
        run.token [org] = test_token (TEST_SECRET, "org_admin", run.org [org], NULL, 600);
    }
    s_run (&run);
    for (int org = 0; org < S_ORGS; org++) {
        size_t n = (size_t) (run.published [org] + run.changes_in [org] + run.exports [org]);
        cr_assert_gt (run.changes_in [org], 5);
        cr_assert_gt (run.exports [org], 5);
        test_log_t log = { 0 };
        test_log_walk (s, &log, run.token [org], run.org [org]);
        test_log_expect_contiguous (&log, n, run.org [org]);
        s_expect_commit_order (&log, &run, org);
        test_log_clear (&log);
        test_log_expect_exports (s, run.token [org], run.org [org], n, 400);
        //  ... and the ndjson export recorded itself as the next index
        test_log_walk (s, &log, run.token [org], run.org [org]);
        test_log_expect_contiguous (&log, n + 2, run.org [org]);
        test_log_clear (&log);
        free (run.token [org]);
    }
}

//  --------------------------------------------------------------------------
//  The duplicate rule

//  The platform's stats.ingest.duplicate, once it reaches want (it lags
//  the store by up to a second), or after 5 s
static uint64_t
s_duplicates (uint64_t want)
{
    char *ops = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    uint64_t value = 0;
    for (int64_t deadline = zclock_mono () + 5000; ; zclock_sleep (50)) {
        test_args_t none = { { NULL } };
        test_call_ok (s, "stats", ops, &none, &reply);
        const msgpack_object *ingest = test_obj_get (test_obj_get (&reply.data, "stats"), "ingest");
        const msgpack_object *duplicate = test_obj_get (ingest, "duplicate");
        cr_assert (duplicate && duplicate->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
        value = duplicate->via.u64;
        if (value >= want || zclock_mono () > deadline)
            break;
    }
    msgpack_unpacked_destroy (&reply);
    free (ops);
    return value;
}

Test (orglog, a_duplicate_is_the_same_event_id_at_the_same_timestamp)
{
    char id [37], upper [37], other [37];
    test_uuid (id);
    test_uuid (other);
    for (int at = 0; at < 37; at++)
        upper [at] = (char) toupper ((unsigned char) id [at]);
    int64_t t1 = test_now_ms () - 60000;
    test_pack_t *first = s_login ("dup-a", "alice", id, t1, 0);
    test_service_publish (s, "audit", first);
    s_publish (first);                                          //  the same bytes again
    s_publish (s_login ("dup-a", "mallory", upper, t1, 1));     //  same id and time, other forms
    s_publish (s_login ("dup-a", "mallory", id, t1, 2));
    s_publish (s_login ("dup-a", "mallory", id, t1, 3));
    s_publish (s_login ("dup-a", "bob", id, t1 + 1, 0));        //  another timestamp: stored
    s_publish (s_login ("dup-b", "carol", id, t1, 0));          //  another organisation: stored
    s_publish (s_login ("dup-b", "carol", id, t1, 0));
    //  One publisher's events arrive in order: once the last is stored,
    //  every one before it has been settled
    s_publish (s_login ("dup-a", "sentinel", other, test_now_ms (), 0));
    cr_assert_eq (test_service_wait_count (s, "audit.db",
        "SELECT count(*) FROM event e WHERE e.actor = 'sentinel'",
        1, 10000), 1);
    cr_assert_eq (test_service_count (s, "audit.db", "SELECT count(*) FROM event"), 4);
    cr_assert_eq (s_duplicates (5), 5, "stats.ingest.duplicate");

    char *token_a = test_token (TEST_SECRET, "org_admin", "dup-a", NULL, 600);
    char *token_b = test_token (TEST_SECRET, "org_admin", "dup-b", NULL, 600);
    test_log_t log = { 0 };
    test_log_walk (s, &log, token_a, "dup-a");
    test_log_expect_contiguous (&log, 3, "dup-a");
    char when [2][AUDIT_TIME_TEXT_SIZE];
    audit_time_format (t1, when [0]);
    audit_time_format (t1 + 1, when [1]);
    const char *actors [] = { "alice", "bob", "sentinel" };
    for (size_t at = 0; at < 3; at++) {
        cr_assert_str_eq (test_log_value (&log, at, "actor_id"), actors [at], "the first is kept");
        cr_assert_str_eq (test_log_value (&log, at, "event_id"), at < 2 ? id : other);
        if (at < 2)
            cr_assert_str_eq (test_log_value (&log, at, "timestamp"), when [at]);
    }
    test_log_clear (&log);
    test_log_walk (s, &log, token_b, "dup-b");
    test_log_expect_contiguous (&log, 1, "dup-b");
    cr_assert_str_eq (test_log_value (&log, 0, "event_id"), id);
    cr_assert_str_eq (test_log_value (&log, 0, "timestamp"), when [0]);
    test_log_clear (&log);
    free (token_a);
    free (token_b);
}

//  --------------------------------------------------------------------------
//  The CSV and ndjson round trips

//  An event of type with the given extra pairs (strings; a key ending in
//  "count" or "size" takes the uint in number)
static void
s_publish_tricky (const char *org, const char *type, const char *actor,
                  const char *const *pairs, uint64_t number)
{
    uint32_t extra = 0;
    while (pairs [2 * extra])
        extra++;
    char id [37], when [AUDIT_TIME_TEXT_SIZE];
    test_uuid (id);
    audit_time_format (test_now_ms () - 1000, when);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6 + extra);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", id);
    test_pack_kv_str (pack, "event_type", type);
    test_pack_kv_str (pack, "timestamp", when);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", actor);
    for (uint32_t pair = 0; pair < extra; pair++)
        if (strstr (pairs [2 * pair], "count") || strstr (pairs [2 * pair], "size"))
            test_pack_kv_uint (pack, pairs [2 * pair], number);
        else
            test_pack_kv_str (pack, pairs [2 * pair], pairs [2 * pair + 1]);
    s_publish (pack);
}

Test (orglog, csv_and_ndjson_give_back_what_list_returns)
{
    //  Identifiers are printable ASCII without space: every character a
    //  formula, CSV quoting or JSON escaping cares about, at the start too
    const char *org = "'org,=\"1\\";
    char *token = test_token (TEST_SECRET, "org_admin", org, NULL, 600);
    const char *role [] = { "user_id", "+1-555", "role", "'admin", NULL };
    const char *device [] = { "device_id", "-dev,\"1\"", "user_id", "@user", NULL };
    const char *group [] = { "group_id", "=grp\\1", "user_id", "'", NULL };
    const char *broadcast [] = { "broadcast_id", "@b;c", "recipient_count", "", "group_id",
                                 "-g", NULL };
    const char *file [] = { "file_ref", "=HYPERLINK(\"http://x\")", "file_size", "", NULL };
    const char *none [] = { NULL };
    s_publish_tricky (org, "role_changed", "=cmd|'/c'!A1", role, 0);
    s_publish_tricky (org, "device_registered", "+actor", device, 0);
    s_publish_tricky (org, "group_member_added", "-actor", group, 0);
    s_publish_tricky (org, "broadcast_sent", "@actor", broadcast, 0);
    s_publish_tricky (org, "broadcast_sent", "''twice", broadcast, 10000000);
    s_publish_tricky (org, "file_transferred", "plain\"quote", file, 9007199254740992ULL);
    s_publish_tricky (org, "user_login", "'", none, 0);
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                           7, 10000), 7);
    //  and the service's own event, with retention_days
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t change = { { "org_id" }, { org }, "retention_days", 30 };
    test_call_ok (s, "retention_set", token, &change, &reply);
    msgpack_unpacked_destroy (&reply);
    //  Chunks of 3 rows: the header only once, rows across chunk ends
    test_log_expect_exports (s, token, org, 8, 3);
    free (token);
}

//  --------------------------------------------------------------------------
//  Retention deletes events, never their indexes

Test (orglog, log_index_is_never_reused_after_the_janitor_deletes)
{
    const char *org = "purged";
    char *token = test_token (TEST_SECRET, "org_admin", org, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t change = { { "org_id" }, { org }, "retention_days", 1 };
    test_call_ok (s, "retention_set", token, &change, &reply);      //  index 0, kept
    msgpack_unpacked_destroy (&reply);
    int64_t old = test_now_ms () - 3 * 86400 * 1000LL;
    for (int index = 1; index <= 5; index++) {                      //  indexes 1 .. 5, expired
        char id [37], actor [16];
        test_uuid (id);
        snprintf (actor, sizeof actor, "old-%d", index);
        s_publish (s_login (org, actor, id, old + index, 0));
    }
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                           6, 10000), 6);
    cr_assert_eq (test_service_janitor_once (s, NULL, 60000), 0);
    cr_assert_eq (test_service_count (s, "audit.db", "SELECT count(*) FROM event"), 1,
                  "the janitor deleted the expired events");
    for (int index = 0; index < 2; index++) {
        char id [37], actor [16];
        test_uuid (id);
        snprintf (actor, sizeof actor, "new-%d", index);
        s_publish (s_login (org, actor, id, test_now_ms (), 0));
    }
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                           3, 10000), 3);
    test_log_t log = { 0 };
    test_log_walk (s, &log, token, org);
    cr_assert_eq (log.events, 3);
    cr_assert_str_eq (test_log_value (&log, 0, "event_type"), "retention_changed");
    cr_assert_str_eq (test_log_value (&log, 6, "actor_id"), "new-0", "the next index after 5");
    cr_assert_str_eq (test_log_value (&log, 7, "actor_id"), "new-1");
    test_log_clear (&log);
    free (token);
}
