/*  The real audit-ingest and audit-query as a SIEM forwarder sees them
    through tail: every event once, in log_index order, however late its
    timestamp and whatever the filter; next_index passed back continues
    with nothing lost or repeated, across a restart of the query worker;
    a waiting tail gets an event committed while it waits, and hundreds
    of waiting tails hold up no other request. */

#include <criterion/criterion.h>

#include "test_keys.h"
#include "test_log_view.h"

static test_service_t *s;
static char *s_admin;

static void
s_setup (void)
{
    s = test_service_start ("tail", true);
    s_admin = test_token (TEST_SECRET, "org_admin", "org-a", NULL, 600);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
    free (s_admin);
}

TestSuite (tail, .init = s_setup, .fini = s_teardown, .timeout = 120);

static int s_published;

//  A user_login of org-a by actor, at ms (late ones have an old one)
static void
s_publish (const char *actor, int64_t ms)
{
    char id [40];
    snprintf (id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", s_published++);
    test_pack_t *pack = test_pack_login (id, "org-a", actor, ms);
    test_service_publish (s, "audit", pack);
    test_pack_destroy (&pack);
}

static void
s_stored (int want)
{
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event"
                                           " e JOIN org o ON o.id = e.org WHERE o.name = 'org-a'",
                                           want, 10000), want);
}

typedef struct {
    uint64_t from_index;
    bool has_from;
    uint32_t limit, wait_ms;
    const char *actor;
} s_tail_args_t;

static uint32_t
s_pairs (const s_tail_args_t *args)
{
    return 3 + args->has_from + (args->actor != NULL);
}

static void
s_fill (test_pack_t *pack, void *arg)
{
    s_tail_args_t *args = (s_tail_args_t *) arg;
    test_pack_kv_str (pack, "org_id", "org-a");
    test_pack_kv_uint (pack, "limit", args->limit);
    test_pack_kv_uint (pack, "wait_ms", args->wait_ms);
    if (args->has_from)
        test_pack_kv_uint (pack, "from_index", args->from_index);
    if (args->actor)
        test_pack_kv_str (pack, "actor_id", args->actor);
}

//  One tail call: the log_index of each event into seen (from *count on),
//  its next_index returned
static uint64_t
s_tail (s_tail_args_t *args, uint64_t *seen, size_t *count, size_t max)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "tail", s_admin, s_pairs (args), s_fill, args, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "", "tail answered ok");
    const msgpack_object *events = test_obj_get (&reply.data, "events");
    const msgpack_object *next = test_obj_get (&reply.data, "next_index");
    cr_assert (events && events->type == MSGPACK_OBJECT_ARRAY && next
               && next->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
    for (uint32_t at = 0; at < events->via.array.size; at++) {
        const msgpack_object *index = test_obj_get (&events->via.array.ptr [at], "log_index");
        cr_assert (index && *count < max);
        seen [(*count)++] = index->via.u64;
        if (args->actor) {
            const msgpack_object *actor = test_obj_get (&events->via.array.ptr [at], "actor_id");
            cr_expect (test_obj_str_eq (actor, args->actor));
        }
    }
    uint64_t value = next->via.u64;
    msgpack_unpacked_destroy (&reply);
    return value;
}

//  Follow from from until a call returns nothing; the next index
static uint64_t
s_follow (uint64_t from, const char *actor, uint64_t *seen, size_t *count, size_t max)
{
    while (true) {
        size_t before = *count;
        s_tail_args_t args = { from, true, 7, 0, actor };
        uint64_t next = s_tail (&args, seen, count, max);
        cr_assert_geq (next, from);
        from = next;
        if (*count == before)
            return from;
    }
}

Test (tail, every_event_once_in_log_order_however_late_and_across_a_restart)
{
    int64_t now = 1795000000000LL;
    for (int at = 0; at < 30; at++)
        s_publish ("actor-1", now + at);
    s_stored (30);
    uint64_t seen [128];
    size_t count = 0;
    uint64_t next = s_follow (0, NULL, seen, &count, 128);
    cr_expect_eq (count, 30);
    //  Late events (a day old) and a restart of the query worker between
    for (int at = 0; at < 10; at++)
        s_publish ("actor-1", now - 86400000LL + at);
    s_stored (40);
    test_service_restart_query (s);
    next = s_follow (next, NULL, seen, &count, 128);
    cr_expect_eq (count, 40, "the late events come too, once");
    for (size_t at = 0; at < count; at++)
        cr_expect_eq (seen [at], at, "log_index %zu in its place", at);
    cr_expect_eq (next, 40);
}

//  Follow as a forwarder does (wait_ms 10,000) until want events are seen;
//  a wait that brings nothing twice in a row fails
static uint64_t
s_follow_waiting (uint64_t from, uint64_t *seen, size_t *count, size_t want)
{
    for (int empty = 0; *count < want && empty < 2; ) {
        size_t before = *count;
        s_tail_args_t args = { from, true, 100, 10000, NULL };
        from = s_tail (&args, seen, count, want);
        empty = *count == before? empty + 1: 0;
    }
    cr_assert_eq (*count, want, "every event came");
    return from;
}

//  An XPUB with the default producer's keys, once ingest has subscribed
//  (audit, ops and mq): nothing published on it is lost to a slow join
static zsock_t *
s_own_pub (void)
{
    zsock_t *pub = zsock_new (ZMQ_XPUB);
    zsock_set_sndhwm (pub, 0);
    zsock_set_rcvtimeo (pub, 10000);
    test_service_keys (s, pub, NULL);
    cr_assert_eq (zsock_connect (pub, "%s", s->ingest_endpoint), 0);
    for (int subscriptions = 0; subscriptions < 3; subscriptions++) {
        zframe_t *frame = zframe_recv (pub);
        cr_assert_not_null (frame, "ingest never subscribed");
        zframe_destroy (&frame);
    }
    return pub;
}

#define S_CONCURRENT    300

//  Publishes S_CONCURRENT user_logins on the pub it is given, one every
//  millisecond or so, every third a day late, then signals
static void
s_publisher (zsock_t *pipe, void *arg)
{
    zsock_t *pub = (zsock_t *) arg;
    zsock_signal (pipe, 0);
    for (int at = 0; at < S_CONCURRENT; at++) {
        char id [40];
        snprintf (id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", 500000 + at);
        int64_t ms = 1795000000000LL + at - (at % 3 == 0? 86400000LL: 0);
        test_pack_t *pack = test_pack_login (id, "org-a", "actor-1", ms);
        zstr_sendm (pub, "audit");
        zmq_send (zsock_resolve (pub), test_pack_data (pack), test_pack_size (pack), 0);
        test_pack_destroy (&pack);
        zclock_sleep (1);
    }
    zsock_signal (pipe, 0);
}

//  Issue 14: every event once, in log_index order, while ingest commits
//  under the tail's feet, late timestamps among them
Test (tail, every_event_once_while_ingest_writes)
{
    zsock_t *pub = s_own_pub ();
    zactor_t *publisher = zactor_new (s_publisher, pub);
    uint64_t seen [S_CONCURRENT], next = 0;
    size_t count = 0;
    for (int empty = 0; count < S_CONCURRENT && empty < 3; ) {
        size_t before = count;
        s_tail_args_t args = { next, true, 7, 2000, NULL };
        next = s_tail (&args, seen, &count, S_CONCURRENT);
        empty = count == before? empty + 1: 0;
    }
    zsock_wait (publisher);
    zactor_destroy (&publisher);
    zsock_destroy (&pub);
    cr_assert_eq (count, S_CONCURRENT, "every event came");
    for (size_t at = 0; at < count; at++)
        cr_expect_eq (seen [at], at, "log_index %zu once, in its place", at);
    cr_expect_eq (next, S_CONCURRENT);
}

//  Issue 14's acceptance: a forwarder that knows only the contract follows
//  the log through a restart of each worker, every event once, in order
Test (tail, a_forwarder_follows_through_a_restart_of_each_worker)
{
    int64_t now = 1795000000000LL;
    uint64_t seen [64], next = 0;
    size_t count = 0;
    for (int round = 0; round < 4; round++) {
        if (round == 1)
            test_service_restart_ingest (s);
        if (round == 2)
            test_service_restart_query (s);
        if (round == 3)
            cr_assert_eq (test_service_janitor_once (s, NULL, 30000), 0);
        for (int at = 0; at < 10; at++)
            s_publish ("actor-1", now + round * 1000 - at);    //  late ones among them
        s_stored (10 * (round + 1));
        next = s_follow_waiting (next, seen, &count, 10 * (round + 1));
    }
    for (size_t at = 0; at < count; at++)
        cr_expect_eq (seen [at], at, "log_index %zu once, in its place", at);
    cr_expect_eq (next, 40);
}

Test (tail, a_filter_skips_what_does_not_match_and_loses_nothing)
{
    for (int at = 0; at < 21; at++)
        s_publish (at % 3? "actor-1": "actor-2", 1795000000000LL + at);
    s_stored (21);
    uint64_t seen [64];
    size_t count = 0;
    uint64_t next = s_follow (0, "actor-2", seen, &count, 64);
    cr_expect_eq (count, 7);
    for (size_t at = 0; at < count; at++)
        cr_expect_eq (seen [at] % 3, 0);
    cr_expect_eq (next, 21, "past the skipped ones");
}

//  A tail on a REQ socket of its own, sent now, read later
static zsock_t *
s_tail_send (uint64_t from, uint32_t wait_ms)
{
    zsock_t *req = zsock_new (ZMQ_REQ);
    zsock_set_rcvtimeo (req, 20000);
    zsock_set_linger (req, 0);
    test_keys_apply (req, NULL);
    cr_assert_eq (zsock_connect (req, "%s", s->query_endpoint), 0);
    test_pack_t *request = test_pack_new ();
    s_tail_args_t args = { from, true, 10, wait_ms, NULL };
    test_pack_map (request, 3 + s_pairs (&args));
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", "tail");
    test_pack_kv_str (request, "token", s_admin);
    s_fill (request, &args);
    cr_assert_eq (zmq_send (zsock_resolve (req), test_pack_data (request),
                            test_pack_size (request), 0), (int) test_pack_size (request));
    test_pack_destroy (&request);
    return req;
}

//  The events its reply holds
static uint32_t
s_tail_recv (zsock_t **req_p)
{
    zframe_t *frame = zframe_recv (*req_p);
    cr_assert_not_null (frame, "the waiting tail answered");
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_assert_eq (msgpack_unpack_next (&reply, (const char *) zframe_data (frame),
                                       zframe_size (frame), NULL), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *events = test_obj_get (&reply.data, "events");
    cr_assert (events && events->type == MSGPACK_OBJECT_ARRAY);
    uint32_t count = events->via.array.size;
    msgpack_unpacked_destroy (&reply);
    zframe_destroy (&frame);
    zsock_destroy (req_p);
    return count;
}

Test (tail, waiting_tails_get_new_events_and_hold_up_no_one)
{
    s_publish ("actor-1", 1795000000000LL);
    s_stored (1);
    //  More waiting tails than the worker has threads
    enum { TAILS = 200 };
    zsock_t *tails [TAILS];
    for (int at = 0; at < TAILS; at++)
        tails [at] = s_tail_send (1, 15000);
    //  Meanwhile the worker answers everyone else
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t args = { { "org_id" }, { "org-a" } };
    test_call_ok (s, "list", s_admin, &args, &reply);
    msgpack_unpacked_destroy (&reply);
    s_publish ("actor-1", 1795000000001LL);
    for (int at = 0; at < TAILS; at++)
        cr_expect_eq (s_tail_recv (&tails [at]), 1, "tail %d got the new event", at);
    //  One that waits for nothing answers empty when its wait is over
    zsock_t *alone = s_tail_send (2, 300);
    cr_expect_eq (s_tail_recv (&alone), 0);
}

Test (tail, wait_ms_past_the_contract_is_refused)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_tail_args_t args = { 0, true, 10, 30001, NULL };
    test_service_call (s, "tail", s_admin, s_pairs (&args), s_fill, &args, &reply);
    cr_expect_str_eq (test_reply_code (&reply), "bad_request");
    msgpack_unpacked_destroy (&reply);
}

//  auditctl tail --json --state FILE, run as a forwarder would run it:
//  its JSON lines, and the next run going on from the state file
static int
s_auditctl_tail (const char *state)
{
    //  In the CURVE pass: the client settings auditctl connects with
    const char *env [3] = { NULL };
    char keys [1200] = "";
    int count = test_keys_env ("auditctl", env);
    for (int at = 0; at < count; at++)
        snprintf (keys + strlen (keys), sizeof keys - strlen (keys), "'%s' ", env [at]);
    char command [4096];
    snprintf (command, sizeof command, "env %sAUDIT_TOKEN='%s' %s/auditctl tail --json --org org-a"
              " --from-index 0 --state '%s' --endpoint %s", keys, s_admin, AUDIT_BIN_DIR, state,
              s->query_endpoint);
    FILE *pipe = popen (command, "r");
    cr_assert_not_null (pipe);
    char line [4096];
    int lines = 0;
    while (fgets (line, sizeof line, pipe)) {
        cr_expect_eq (line [0], '{', "a JSON object a line: %s", line);
        lines++;
    }
    cr_expect_eq (pclose (pipe), 0, "auditctl tail exits 0");
    return lines;
}

Test (tail, auditctl_tail_resumes_from_its_state_file)
{
    for (int at = 0; at < 5; at++)
        s_publish ("actor-1", 1795000000000LL + at);
    s_stored (5);
    char state [600];
    snprintf (state, sizeof state, "%s.tail-state", s->dir);
    cr_expect_eq (s_auditctl_tail (state), 5);
    cr_expect_eq (s_auditctl_tail (state), 0, "nothing repeated");
    s_publish ("actor-1", 1795000000100LL);
    s_publish ("actor-1", 1795000000000LL - 86400000LL);   //  a day late
    s_stored (7);
    cr_expect_eq (s_auditctl_tail (state), 2, "nothing lost");
}
