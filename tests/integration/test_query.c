/*  The real audit-query (and audit-ingest feeding it) over
    tcp://127.0.0.1, as a portal that knows only the contract sees them:
    tokens, tenant isolation, filters, pagination, export, retention. */

#include <criterion/criterion.h>
#include <signal.h>

#include "audit_time.h"
#include "audit_token.h"
#include "test_keys.h"
#include "test_service.h"
#include "ctl_json.h"

static test_service_t *s;
static char *s_admin_a;         //  org_admin of org-a
static char *s_admin_b;         //  org_admin of org-b
static char *s_ops;             //  platform_ops

static void
s_setup (void)
{
    s = test_service_start ("query", true);
    s_admin_a = test_token (TEST_SECRET, "org_admin", "org-a", NULL, 600);
    s_admin_b = test_token (TEST_SECRET, "org_admin", "org-b", NULL, 600);
    s_ops = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
}

static void
s_teardown (void)
{
    free (s_admin_a);
    free (s_admin_b);
    free (s_ops);
    test_service_destroy (&s);
}

TestSuite (query, .init = s_setup, .fini = s_teardown, .timeout = 120);

//  Arguments of a request: up to 8 string pairs and one uint pair
typedef struct {
    const char *keys [8];
    const char *values [8];
    const char *uint_key;
    uint64_t uint_value;
} s_args_t;

static uint32_t
s_pairs (const s_args_t *args)
{
    uint32_t pairs = args->uint_key ? 1 : 0;
    for (int index = 0; index < 8 && args->keys [index]; index++)
        pairs++;
    return pairs;
}

static void
s_fill (test_pack_t *pack, void *arg)
{
    const s_args_t *args = (const s_args_t *) arg;
    for (int index = 0; index < 8 && args->keys [index]; index++)
        test_pack_kv_str (pack, args->keys [index], args->values [index]);
    if (args->uint_key)
        test_pack_kv_uint (pack, args->uint_key, args->uint_value);
}

static void
s_call (const char *op, const char *token, s_args_t *args, msgpack_unpacked *reply)
{
    test_service_call (s, op, token, args ? s_pairs (args) : 0, args ? s_fill : NULL, args, reply);
}

static bool
s_ok (const msgpack_unpacked *reply)
{
    const msgpack_object *ok = test_obj_get (&reply->data, "ok");
    return ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
}

//  Publish count events of type into org by actor; returns when stored
//  (for as long as they are still being stored: 100,000 take a loaded
//  PostgreSQL run longer than any fixed time we would pick)
static void
s_publish (const char *org, const char *actor, audit_event_type_t type, int count)
{
    int64_t before = test_service_count (s, "audit.db", "SELECT count(*) FROM event");
    for (int index = 0; index < count; index++) {
        test_pack_t *pack = test_pack_event (type, org, actor, 0, NULL);
        test_service_publish (s, "audit", pack);
        test_pack_destroy (&pack);
    }
    cr_assert_eq (test_service_wait_count_moving (s, "audit.db", "SELECT count(*) FROM event",
                                                  before + count, 20000), before + count);
}

Test (query, health_and_catalog_need_no_token)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_call ("health", NULL, NULL, &reply);
    cr_assert (s_ok (&reply));
    cr_assert (test_obj_str_eq (test_obj_get (&reply.data, "service"), "query"));
    s_call ("catalog", NULL, NULL, &reply);
    cr_assert (s_ok (&reply));
    const msgpack_object *types = test_obj_get (&reply.data, "event_types");
    cr_assert_not_null (types);
    cr_assert_eq (types->via.array.size, AUDIT_EVENT_COUNT);
    const msgpack_object *first = &types->via.array.ptr [0];
    cr_assert (test_obj_str_eq (test_obj_get (first, "event_type"), "user_login"));
    cr_assert (test_obj_str_eq (test_obj_get (first, "category"), "authentication"));
    //  Fields in the order the contract's catalogue lists them
    const struct { const char *type, *list, *fields [2]; } orders [] = {
        { "group_member_added", "required", { "group_id", "user_id" } },
        { "group_member_removed", "required", { "group_id", "user_id" } },
        { "broadcast_sent", "required", { "broadcast_id", "recipient_count" } },
        { "user_login_failed", "optional", { "user_id", "device_id" } },
        { "role_changed", "required", { "user_id", "role" } },
    };
    for (size_t row = 0; row < sizeof orders / sizeof orders [0]; row++)
        for (uint32_t index = 0; index < types->via.array.size; index++) {
            const msgpack_object *type = &types->via.array.ptr [index];
            if (!test_obj_str_eq (test_obj_get (type, "event_type"), orders [row].type))
                continue;
            //  the two in this order, whatever other fields the type gains
            const msgpack_object *fields = test_obj_get (type, orders [row].list);
            uint32_t next = 0;
            for (uint32_t field = 0; field < fields->via.array.size && next < 2; field++)
                next += test_obj_str_eq (&fields->via.array.ptr [field], orders [row].fields [next]);
            cr_expect_eq (next, 2, "%s: %s", orders [row].type, orders [row].list);
        }
    msgpack_unpacked_destroy (&reply);
}

//  A token issued issued_ago seconds ago that lived for ttl_s seconds
static char *
s_token_with (const char *secret, const char *audience, int64_t issued_ago, int64_t ttl_s)
{
    audit_claims_t claims = { .role = AUDIT_ROLE_ORG_ADMIN };
    strcpy (claims.sub, "admin-x");
    strcpy (claims.org, "org-a");
    char *token = NULL;
    audit_token_mint ((const uint8_t *) secret, strlen (secret), &claims, audience, ttl_s,
                      test_now_ms () / 1000 - issued_ago, &token);
    cr_assert_not_null (token);
    return token;
}

static const char *
s_list_code (const char *token, const char *org)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_args_t args = { { "org_id" }, { org } };
    s_call ("list", token, &args, &reply);
    static char code [64];
    snprintf (code, sizeof code, "%s", s_ok (&reply) ? "ok" : test_reply_code (&reply));
    msgpack_unpacked_destroy (&reply);
    return code;
}

//  The error message of a list of org with token
static const char *
s_list_message (const char *token, const char *org)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_args_t args = { { "org_id" }, { org } };
    s_call ("list", token, &args, &reply);
    static char text [256];
    const msgpack_object *message = test_obj_get (test_obj_get (&reply.data, "error"), "message");
    snprintf (text, sizeof text, "%.*s", message? (int) message->via.str.size: 0,
              message? message->via.str.ptr: "");
    msgpack_unpacked_destroy (&reply);
    return text;
}

Test (query, a_refused_token_is_told_why)
{
    char *wrong_secret = s_token_with ("another-secret-of-32-bytes-at-least", NULL, 0, 600);
    char *wrong_audience = s_token_with (TEST_SECRET, "someone-else", 0, 600);
    char *expired = s_token_with (TEST_SECRET, NULL, 1000, 300);
    cr_expect (strstr (s_list_message (expired, "org-a"), "expired"), "%s", s_list_message (expired, "org-a"));
    cr_expect (strstr (s_list_message (wrong_secret, "org-a"), "bad_signature"));
    cr_expect (strstr (s_list_message (wrong_audience, "org-a"), "bad_aud"));
    cr_expect (strstr (s_list_message (NULL, "org-a"), "missing"));
    cr_expect (strstr (s_list_message (s_ops, "org-a"), "org_admin"), "the role it needs");
    cr_expect (strstr (s_list_message (s_admin_b, "org-a"), "organisation"), "%s",
               s_list_message (s_admin_b, "org-a"));
    cr_expect_null (strstr (s_list_message (expired, "org-a"), expired), "never the token");
    free (wrong_secret);
    free (wrong_audience);
    free (expired);
}

Test (query, every_bad_token_gets_the_contract_code)
{
    char *wrong_secret = s_token_with ("another-secret", NULL, 0, 600);
    char *wrong_audience = s_token_with (TEST_SECRET, "someone-else", 0, 600);
    char *expired = s_token_with (TEST_SECRET, NULL, 1000, 300);        //  700 s ago
    char *within_leeway = s_token_with (TEST_SECRET, NULL, 330, 300);   //  30 s ago
    char *device = test_token (TEST_SECRET, "device", "org-a", "phone-1", 600);
    //  {"alg":"none","typ":"JWT"} . claims of an org_admin of org-a . no signature
    const char *alg_none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
        "eyJzdWIiOiJ4Iiwicm9sZSI6Im9yZ19hZG1pbiIsIm9yZyI6Im9yZy1hIiwiYXVkIjoic2VtYWZvcmUtYXVkaXQiLCJleHAiOjQxMDI0NDQ4MDB9.";
    cr_assert_str_eq (s_list_code (NULL, "org-a"), "unauthenticated");
    cr_assert_str_eq (s_list_code ("not-a-token", "org-a"), "unauthenticated");
    cr_assert_str_eq (s_list_code (wrong_secret, "org-a"), "unauthenticated");
    cr_assert_str_eq (s_list_code (wrong_audience, "org-a"), "unauthenticated");
    cr_assert_str_eq (s_list_code (expired, "org-a"), "unauthenticated");
    cr_assert_str_eq (s_list_code (alg_none, "org-a"), "unauthenticated");
    cr_assert_str_eq (s_list_code (within_leeway, "org-a"), "ok");
    cr_assert_str_eq (s_list_code (s_admin_b, "org-a"), "forbidden");
    cr_assert_str_eq (s_list_code (s_ops, "org-a"), "forbidden");
    cr_assert_str_eq (s_list_code (device, "org-a"), "forbidden");
    cr_assert_str_eq (s_list_code (s_admin_a, "org-a"), "ok");
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_call ("stats", s_admin_a, NULL, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "forbidden");
    s_args_t mq = { { "org_id", "device_id" }, { "org-a", "phone-1" } };
    s_call ("mq_fetch", s_admin_a, &mq, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "forbidden", "no org_admin reads a payload");
    s_call ("mq_fetch", s_ops, &mq, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "forbidden", "no platform_ops reads a payload");
    msgpack_unpacked_destroy (&reply);
    free (wrong_secret);
    free (wrong_audience);
    free (expired);
    free (within_leeway);
    free (device);
}

Test (query, bad_requests_are_answered_and_the_worker_goes_on)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    const char *raw [] = { "\xc1", "\x92\x01\x02", "\x81\xa1v\x02" };
    for (int index = 0; index < 3; index++) {
        zframe_t *frame = zframe_new (raw [index], strlen (raw [index]));
        zframe_send (&frame, s->req, 0);
        zframe_t *answer = zframe_recv (s->req);
        cr_assert_not_null (answer);
        zframe_destroy (&answer);
    }
    s_call ("dance", s_admin_a, NULL, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "bad_request");
    s_args_t stray = { { "org_id", "colour" }, { "org-a", "blue" } };
    s_call ("list", s_admin_a, &stray, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "bad_request");
    s_args_t limit = { { "org_id" }, { "org-a" }, "limit", 1001 };
    s_call ("list", s_admin_a, &limit, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "bad_request");
    s_args_t cursor = { { "org_id", "cursor" }, { "org-a", "AAAA" } };
    s_call ("list", s_admin_a, &cursor, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "bad_request");
    s_call ("health", NULL, NULL, &reply);
    cr_assert (s_ok (&reply), "still serving");
    msgpack_unpacked_destroy (&reply);
}

//  A request is one frame: more (or none) after the REQ delimiter is one
//  bad_request frame back, never an echo of what was sent
Test (query, a_request_of_several_frames_is_one_bad_request)
{
    const char *secret_token = s_admin_a;
    for (int shape = 0; shape < 3; shape++) {
        zmsg_t *request = zmsg_new ();
        if (shape == 0) {           //  a good request, then a stray frame
            zmsg_addstr (request, secret_token);
            zmsg_addstr (request, "x");
        }
        else
        if (shape == 1) {           //  a frame before a good request
            zmsg_addstr (request, "hello");
            zmsg_addmem (request, "\x82\xa1v\x01\xa2op\xa6" "health", 14);
        }
        else {                      //  an empty frame in the middle
            zmsg_addmem (request, "\x82\xa1v\x01\xa2op\xa6" "health", 14);
            zmsg_addmem (request, "", 0);
            zmsg_addmem (request, "\x82\xa1v\x01\xa2op\xa7" "catalog", 15);
        }
        cr_assert_eq (zmsg_send (&request, s->req), 0);
        zmsg_t *answer = zmsg_recv (s->req);
        cr_assert_not_null (answer, "shape %d: answered", shape);
        cr_expect_eq (zmsg_size (answer), 1, "shape %d: one frame back", shape);
        zframe_t *frame = zmsg_first (answer);
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        cr_assert_eq (msgpack_unpack_next (&reply, (const char *) zframe_data (frame),
                                           zframe_size (frame), NULL), MSGPACK_UNPACK_SUCCESS);
        cr_expect_str_eq (test_reply_code (&reply), "bad_request", "shape %d", shape);
        cr_expect_null (memmem (zframe_data (frame), zframe_size (frame),
                                secret_token, strlen (secret_token)), "the token came back");
        msgpack_unpacked_destroy (&reply);
        zmsg_destroy (&answer);
    }
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_call ("health", NULL, NULL, &reply);
    cr_assert (s_ok (&reply), "still serving");
    msgpack_unpacked_destroy (&reply);
}

//  Follow next_cursor from the first page to the last; every event_id
//  goes into seen (a duplicate fails the test). Returns the pages read.
static int
s_follow (const char *op, const char *token, s_args_t *args, zhashx_t *seen,
          void (*check) (const msgpack_object *event, void *), void *check_arg)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    char cursor [128] = "";
    int pages = 0;
    int slot = (int) s_pairs (args) - (args->uint_key ? 1 : 0);
    do {
        if (cursor [0]) {
            args->keys [slot] = "cursor";
            args->values [slot] = cursor;
        }
        s_call (op, token, args, &reply);
        cr_assert (s_ok (&reply), "page %d: %s", pages, test_reply_code (&reply));
        const msgpack_object *events = test_obj_get (&reply.data, "events");
        for (uint32_t index = 0; index < events->via.array.size; index++) {
            const msgpack_object *event = &events->via.array.ptr [index];
            const msgpack_object *id = test_obj_get (event, "event_id");
            char text [64];
            snprintf (text, sizeof text, "%.*s", (int) id->via.str.size, id->via.str.ptr);
            cr_assert_null (zhashx_lookup (seen, text), "event %s seen twice", text);
            zhashx_insert (seen, text, (void *) 1);
            if (check)
                check (event, check_arg);
        }
        const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
        cursor [0] = 0;
        if (next && next->type == MSGPACK_OBJECT_STR)
            snprintf (cursor, sizeof cursor, "%.*s", (int) next->via.str.size, next->via.str.ptr);
        pages++;
    } while (cursor [0]);
    args->keys [slot] = NULL;
    msgpack_unpacked_destroy (&reply);
    return pages;
}

static void
s_check_org_a (const msgpack_object *event, void *arg)
{
    (void) arg;
    cr_assert (test_obj_str_eq (test_obj_get (event, "org_id"), "org-a"),
               "another organisation's event in org-a's page");
}

Test (query, events_have_exactly_the_contract_keys)
{
    s_publish ("org-a", "admin-1", AUDIT_EVENT_BROADCAST_SENT, 1);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_args_t args = { { "org_id" }, { "org-a" } };
    s_call ("list", s_admin_a, &args, &reply);
    cr_assert (s_ok (&reply));
    const msgpack_object *event = &test_obj_get (&reply.data, "events")->via.array.ptr [0];
    const char *keys [] = { "event_id", "event_type", "category", "timestamp", "received_at",
                            "org_id", "actor_id", "log_index", "broadcast_id",
                            "recipient_count" };
    cr_assert_eq (event->via.map.size, 10);
    for (int index = 0; index < 10; index++)
        cr_assert_not_null (test_obj_get (event, keys [index]), "%s", keys [index]);
    cr_assert (test_obj_str_eq (test_obj_get (event, "category"), "broadcast"));
    const msgpack_object *when = test_obj_get (event, "timestamp");
    cr_assert_eq (when->via.str.size, 24, "YYYY-MM-DDTHH:MM:SS.mmmZ");
    cr_assert_eq (when->via.str.ptr [23], 'Z');
    msgpack_unpacked_destroy (&reply);
}

Test (query, tenant_isolation_under_every_filter)
{
    s_publish ("org-a", "alice", AUDIT_EVENT_USER_LOGIN, 30);
    s_publish ("org-b", "alice", AUDIT_EVENT_USER_LOGIN, 30);
    s_publish ("org-b", "bob", AUDIT_EVENT_DEVICE_REGISTERED, 30);
    const char *filters [][2] = {
        { NULL, NULL }, { "actor_id", "alice" }, { "actor_id", "bob" }, { "subject", "alice" },
        { "subject", "bob" }, { "user_id", "bob" }
    };
    for (size_t index = 0; index < sizeof filters / sizeof filters [0]; index++) {
        s_args_t args = { { "org_id", filters [index][0] }, { "org-a", filters [index][1] },
                          "limit", 7 };
        zhashx_t *seen = zhashx_new ();
        s_follow ("list", s_admin_a, &args, seen, s_check_org_a, NULL);
        size_t expected = index == 0 || index == 1 || index == 3 ? 30 : 0;
        cr_assert_eq (zhashx_size (seen), expected, "filter %zu", index);
        zhashx_destroy (&seen);
    }
    //  A cursor of org-a's is no good for org-b, even to org-b's own admin
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_args_t first = { { "org_id" }, { "org-a" }, "limit", 5 };
    s_call ("list", s_admin_a, &first, &reply);
    const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
    char cursor [128];
    snprintf (cursor, sizeof cursor, "%.*s", (int) next->via.str.size, next->via.str.ptr);
    s_args_t replay = { { "org_id", "cursor" }, { "org-b", cursor }, "limit", 5 };
    s_call ("list", s_admin_b, &replay, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "bad_request");
    msgpack_unpacked_destroy (&reply);
}

static void *
s_keep_publishing (void *arg)
{
    volatile bool *stop = (volatile bool *) arg;
    zsock_t *pub = zsock_new (ZMQ_PUB);
    test_keys_apply (pub, NULL);
    zsock_connect (pub, "%s", s->ingest_endpoint);
    zclock_sleep (200);
    while (!*stop) {
        test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGOUT, "org-a", "late", 0, NULL);
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, "audit");
        zmsg_addmem (msg, test_pack_data (pack), test_pack_size (pack));
        zmsg_send (&msg, pub);
        test_pack_destroy (&pack);
        zclock_sleep (1);
    }
    zsock_destroy (&pub);
    return NULL;
}

Test (query, pagination_is_complete_while_new_events_arrive)
{
    s_publish ("org-a", "alice", AUDIT_EVENT_USER_LOGIN, 2000);
    volatile bool stop = false;
    pthread_t writer;
    pthread_create (&writer, NULL, s_keep_publishing, (void *) &stop);
    //  Walk only once the late events are landing
    cr_assert_gt (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                           2001, 10000), 2000);
    for (int asc = 0; asc < 2; asc++) {
        s_args_t args = { { "org_id", "actor_id", "order" },
                          { "org-a", "alice", asc ? "asc" : "desc" }, "limit", 37 };
        zhashx_t *seen = zhashx_new ();
        int pages = s_follow ("list", s_admin_a, &args, seen, NULL, NULL);
        cr_assert_eq (zhashx_size (seen), 2000);
        cr_assert_eq (pages, 55, "2000 events in pages of 37");
        zhashx_destroy (&seen);
    }
    stop = true;
    pthread_join (writer, NULL);
    cr_assert_gt (test_service_count (s, "audit.db",
                  "SELECT count(*) FROM event e WHERE e.actor = 'late'"),
                  0, "events kept arriving during the walk");
}

static int
s_list_count (s_args_t *args)
{
    zhashx_t *seen = zhashx_new ();
    s_follow ("list", s_admin_a, args, seen, NULL, NULL);
    int count = (int) zhashx_size (seen);
    zhashx_destroy (&seen);
    return count;
}

Test (query, filters_select_what_they_name)
{
    s_publish ("org-a", "alice", AUDIT_EVENT_USER_LOGIN, 10);
    s_publish ("org-a", "alice", AUDIT_EVENT_GROUP_CREATED, 7);
    s_publish ("org-a", "bob", AUDIT_EVENT_FILE_TRANSFERRED, 5);
    s_args_t category = { { "org_id" }, { "org-a" } };
    cr_assert_eq (s_list_count (&category), 22);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    //  event_types and categories are arrays: packed by hand
    test_pack_t *request = test_pack_new ();
    test_pack_map (request, 5);
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", "list");
    test_pack_kv_str (request, "token", s_admin_a);
    test_pack_kv_str (request, "org_id", "org-a");
    test_pack_str (request, "categories");
    msgpack_pack_array (&request->packer, 2);
    test_pack_str (request, "organisation_management");
    test_pack_str (request, "file_transfer");
    cr_assert_eq (test_request (s->req, request, &reply), 0);
    cr_assert_eq (test_obj_get (&reply.data, "events")->via.array.size, 12);
    test_pack_destroy (&request);
    s_args_t actor = { { "org_id", "actor_id" }, { "org-a", "bob" } };
    cr_assert_eq (s_list_count (&actor), 5);
    char future [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms () + 60000, future);
    s_args_t later = { { "org_id", "from" }, { "org-a", future } };
    cr_assert_eq (s_list_count (&later), 0);
    s_args_t until = { { "org_id", "to" }, { "org-a", future } };
    cr_assert_eq (s_list_count (&until), 22);
    msgpack_unpacked_destroy (&reply);
}

//  The contract's header, revision 2: 15 columns
#define S_CSV_HEADER "timestamp,event_type,org_id,actor_id,user_id,device_id,group_id,role," \
                     "broadcast_id,recipient_count,file_ref,file_size,event_id," \
                     "retention_days,log_index"

//  Field number column of a line of plain fields (no quotes), copied into
//  out; the line must have exactly 15
static void
s_csv_field (const char *line, size_t len, int column, char *out, size_t size)
{
    int at = 0;
    const char *start = line, *end = line + len;
    for (const char *cursor = line; cursor <= end; cursor++)
        if (cursor == end || *cursor == ',') {
            if (at == column)
                snprintf (out, size, "%.*s", (int) (cursor - start), start);
            at++;
            start = cursor + 1;
        }
    cr_assert_eq (at, 15, "a row has the 15 columns");
}

//  The event_id of every CSV row (column 12), into ids
static size_t
s_csv_ids (const char *csv, size_t size, zhashx_t *ids, bool *header_seen)
{
    size_t rows = 0;
    const char *line = csv, *end = csv + size;
    while (line < end) {
        const char *crlf = memmem (line, (size_t) (end - line), "\r\n", 2);
        cr_assert_not_null (crlf, "every line ends in CRLF");
        if (strncmp (line, "timestamp,", 10) == 0) {
            cr_assert_eq ((size_t) (crlf - line), strlen (S_CSV_HEADER));
            cr_assert (memcmp (line, S_CSV_HEADER, strlen (S_CSV_HEADER)) == 0);
            *header_seen = true;
        }
        else {
            char id [40] = "", index [24] = "";
            s_csv_field (line, (size_t) (crlf - line), 12, id, sizeof id);
            s_csv_field (line, (size_t) (crlf - line), 14, index, sizeof index);
            cr_assert_eq (strlen (id), 36);
            cr_assert (index [0] && strspn (index, "0123456789") == strlen (index),
                       "log_index is a decimal");
            cr_assert_null (zhashx_lookup (ids, id), "row exported twice");
            zhashx_insert (ids, id, (void *) 1);
            rows++;
        }
        line = crlf + 2;
    }
    return rows;
}

Test (query, export_of_100000_events_reassembles_to_the_stored_rows, .timeout = 240)
{
    char *admin = test_token (TEST_SECRET, "org_admin", "org-x", NULL, 600);
    s_publish ("org-x", "alice", AUDIT_EVENT_USER_LOGIN, 100000);
    zhashx_t *ids = zhashx_new ();
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_args_t args = { { "org_id", "format" }, { "org-x", "csv" } };
    char cursor [128] = "";
    bool header = false;
    size_t rows = 0;
    int chunks = 0;
    do {
        args.keys [2] = cursor [0] ? "cursor" : NULL;
        args.values [2] = cursor;
        s_call ("export", admin, &args, &reply);
        cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
        const msgpack_object *data = test_obj_get (&reply.data, "data");
        cr_assert_eq (data->type, MSGPACK_OBJECT_BIN);
        bool was_header = header;
        size_t chunk_rows = s_csv_ids (data->via.bin.ptr, data->via.bin.size, ids, &header);
        cr_assert (chunks == 0 ? header : was_header, "header in the first chunk only");
        cr_assert_eq (test_obj_get (&reply.data, "rows")->via.u64, chunk_rows);
        rows += chunk_rows;
        const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
        cursor [0] = 0;
        if (next->type == MSGPACK_OBJECT_STR)
            snprintf (cursor, sizeof cursor, "%.*s", (int) next->via.str.size, next->via.str.ptr);
        chunks++;
    } while (cursor [0]);
    cr_assert_eq (rows, 100000);
    cr_assert_eq (chunks, 10);
    cr_assert_eq (test_service_count (s, "audit.db",
        "SELECT count(*) FROM event WHERE org = (SELECT id FROM org WHERE name = 'org-x')"
        " AND type = 0"), 100000);
    //  The completed export is itself in the audit log, by the admin
    cr_assert_eq (test_service_count (s, "audit.db",
        "SELECT count(*) FROM event e"
        " WHERE e.type = 18 AND e.actor = 'sub-org_admin'"), 1);
    msgpack_unpacked_destroy (&reply);
    zhashx_destroy (&ids);
    free (admin);
}

//  A JSON pair of an ndjson line equals the list map's value of its key
static void
s_expect_same_value (const ctl_json_pair_t *pair, const msgpack_object *value, size_t line)
{
    cr_assert_not_null (value, "line %zu: %s is not in the list event", line, pair->key);
    if (pair->kind == CTL_JSON_INT) {
        cr_assert_eq (value->type, MSGPACK_OBJECT_POSITIVE_INTEGER, "line %zu: %s", line, pair->key);
        cr_assert_eq (value->via.u64, (uint64_t) pair->integer, "line %zu: %s", line, pair->key);
    }
    else {
        cr_assert_eq (pair->kind, CTL_JSON_STR, "line %zu: %s", line, pair->key);
        cr_assert_eq (value->type, MSGPACK_OBJECT_STR, "line %zu: %s", line, pair->key);
        cr_assert_eq (value->via.str.size, pair->text_len, "line %zu: %s", line, pair->key);
        cr_assert (memcmp (value->via.str.ptr, pair->text, pair->text_len) == 0,
                   "line %zu: %s", line, pair->key);
    }
}

//  Every line of an ndjson export parses and is the list event of its place
static size_t
s_expect_ndjson_is_list (const char *data, size_t size, const msgpack_object *events)
{
    size_t lines = 0;
    const char *line = data, *end = data + size;
    while (line < end) {
        const char *lf = memchr (line, '\n', (size_t) (end - line));
        cr_assert_not_null (lf, "every line ends in LF");
        cr_assert_lt (lines, events->via.array.size, "more lines than list events");
        ctl_json_object_t object = { .count = 0 };
        char error [128];
        cr_assert_eq (ctl_json_parse (line, (size_t) (lf - line), &object, error, sizeof error),
                      0, "line %zu: %s", lines, error);
        const msgpack_object *event = &events->via.array.ptr [lines];
        cr_assert_eq (object.count, event->via.map.size, "line %zu: as many keys as list", lines);
        for (size_t at = 0; at < object.count; at++)
            s_expect_same_value (&object.pairs [at], test_obj_get (event, object.pairs [at].key),
                                 lines);
        ctl_json_clear (&object);
        lines++;
        line = lf + 1;
    }
    return lines;
}

Test (query, ndjson_export_is_the_list_events_line_by_line)
{
    char *admin = test_token (TEST_SECRET, "org_admin", "org-n", NULL, 600);
    int stored = 0;
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        if (!audit_proto_event_info ((audit_event_type_t) type)->reserved) {
            s_publish ("org-n", "admin-\"1\\", (audit_event_type_t) type, 3);
            stored += 3;
        }
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    //  The service's own events are exported too, retention_days and all
    s_args_t change = { { "org_id" }, { "org-n" }, "retention_days", 30 };
    s_call ("retention_set", admin, &change, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    stored++;

    s_args_t args = { { "org_id", "format" }, { "org-n", "ndjson" }, "limit", 20 };
    char *data = NULL;
    size_t size = 0, rows = 0;
    char cursor [128] = "";
    int chunks = 0;
    do {
        args.keys [2] = cursor [0] ? "cursor" : NULL;
        args.values [2] = cursor;
        s_call ("export", admin, &args, &reply);
        cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
        cr_assert (test_obj_str_eq (test_obj_get (&reply.data, "format"), "ndjson"));
        const msgpack_object *chunk = test_obj_get (&reply.data, "data");
        cr_assert_eq (chunk->type, MSGPACK_OBJECT_BIN);
        cr_assert (chunk->via.bin.size > 0 && chunk->via.bin.ptr [0] == '{', "no header");
        data = realloc (data, size + chunk->via.bin.size);
        memcpy (data + size, chunk->via.bin.ptr, chunk->via.bin.size);
        size += chunk->via.bin.size;
        rows += test_obj_get (&reply.data, "rows")->via.u64;
        const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
        cursor [0] = 0;
        if (next->type == MSGPACK_OBJECT_STR)
            snprintf (cursor, sizeof cursor, "%.*s", (int) next->via.str.size, next->via.str.ptr);
        chunks++;
    } while (cursor [0]);
    cr_assert_eq (chunks, (stored + 19) / 20);
    cr_assert_eq (rows, (size_t) stored);

    //  Listed after the export, since a reply lives only until the next
    //  request: one publisher's events in time order are in log order, the
    //  retention change follows them, and the export recorded itself last
    msgpack_unpacked list;
    msgpack_unpacked_init (&list);
    s_args_t list_args = { { "org_id", "order" }, { "org-n", "asc" }, "limit", 1000 };
    s_call ("list", admin, &list_args, &list);
    cr_assert (s_ok (&list), "%s", test_reply_code (&list));
    const msgpack_object *events = test_obj_get (&list.data, "events");
    cr_assert_eq (events->via.array.size, (uint32_t) stored + 1);
    for (uint32_t index = 0; index <= (uint32_t) stored; index++)
        cr_assert_eq (test_obj_get (&events->via.array.ptr [index], "log_index")->via.u64, index);
    const msgpack_object *days = test_obj_get (&events->via.array.ptr [stored - 1],
                                               "retention_days");
    cr_assert (days && days->via.u64 == 30, "the retention change follows the published events");
    cr_assert (test_obj_str_eq (test_obj_get (&events->via.array.ptr [stored], "event_type"),
                                "audit_log_exported"));
    cr_assert_eq (s_expect_ndjson_is_list (data, size, events), (size_t) stored);
    free (data);
    msgpack_unpacked_destroy (&list);

    //  A format the contract does not name is a bad request
    s_args_t bad = { { "org_id", "format" }, { "org-n", "xml" } };
    s_call ("export", admin, &bad, &reply);
    cr_assert (!s_ok (&reply));
    cr_assert_str_eq (test_reply_code (&reply), "bad_request");
    msgpack_unpacked_destroy (&reply);
    free (admin);
}

Test (query, retention_defaults_to_12_months_and_cannot_exceed_it)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_args_t get = { { "org_id" }, { "org-a" } };
    s_call ("retention_get", s_admin_a, &get, &reply);
    cr_assert_eq (test_obj_get (&reply.data, "retention_days")->via.u64, 365);
    s_args_t longer = { { "org_id" }, { "org-a" }, "retention_days", 366 };
    s_call ("retention_set", s_admin_a, &longer, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "bad_request");
    const msgpack_object *message = test_obj_get (test_obj_get (&reply.data, "error"), "message");
    cr_assert (memmem (message->via.str.ptr, message->via.str.size, "12 months", 9));
    s_args_t shorter = { { "org_id" }, { "org-a" }, "retention_days", 90 };
    s_call ("retention_set", s_admin_a, &shorter, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    s_call ("retention_get", s_admin_a, &get, &reply);
    cr_assert_eq (test_obj_get (&reply.data, "retention_days")->via.u64, 90);
    s_call ("retention_set", s_admin_b, &shorter, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "forbidden");
    cr_assert_eq (test_service_count (s, "audit.db",
        "SELECT count(*) FROM event WHERE type = 19 AND retention_days = 90"), 1,
        "the change is in the audit log");
    msgpack_unpacked_destroy (&reply);
}

Test (query, stats_report_the_counters)
{
    s_publish ("org-a", "alice", AUDIT_EVENT_USER_LOGIN, 3);
    test_service_counter (s, "ingest.stored", 4);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_call ("stats", s_ops, NULL, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    const msgpack_object *stats = test_obj_get (&reply.data, "stats");
    const msgpack_object *ingest = test_obj_get (stats, "ingest");
    cr_assert_geq (test_obj_get (ingest, "stored")->via.u64, 4);
    cr_assert_not_null (test_obj_get (test_obj_get (ingest, "rejected"), "malformed"));
    const msgpack_object *store = test_obj_get (stats, "store");
    cr_assert_eq (test_obj_get (store, "audit_events")->via.u64, 3);
    cr_assert_not_null (test_obj_get (test_obj_get (stats, "janitor"), "last_pass"));
    msgpack_unpacked_destroy (&reply);
}

//  The error replies of one code, as stats reports them
static uint64_t
s_errors (const char *code)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_call ("stats", s_ops, NULL, &reply);
    cr_assert (s_ok (&reply), "%s", test_reply_code (&reply));
    const msgpack_object *errors = test_obj_get (test_obj_get (test_obj_get (&reply.data, "stats"),
                                                               "query"), "errors");
    const msgpack_object *count = test_obj_get (errors, code);
    cr_assert_not_null (count, "stats.query.errors.%s", code);
    uint64_t value = count->via.u64;
    msgpack_unpacked_destroy (&reply);
    return value;
}

//  Every refusal is counted by its code, and the counts reach stats
//  within about a second even when no request follows
Test (query, refused_requests_are_counted_by_code)
{
    uint64_t bad = s_errors ("bad_request"), unauthenticated = s_errors ("unauthenticated");
    uint64_t forbidden = s_errors ("forbidden");
    cr_expect_eq (s_errors ("internal"), 0);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_call ("dance", s_admin_a, NULL, &reply);
    zframe_t *frame = zframe_new ("\xc1", 1);
    zframe_send (&frame, s->req, 0);
    zframe_t *answer = zframe_recv (s->req);
    zframe_destroy (&answer);
    s_args_t org_a = { { "org_id" }, { "org-a" } };
    s_call ("list", NULL, &org_a, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "unauthenticated");
    s_call ("list", s_admin_b, &org_a, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "forbidden");
    msgpack_unpacked_destroy (&reply);
    int64_t deadline = zclock_mono () + 5000;
    while (s_errors ("forbidden") < forbidden + 1 && zclock_mono () < deadline)
        zclock_sleep (50);
    cr_expect_eq (s_errors ("bad_request"), bad + 2);
    cr_expect_eq (s_errors ("unauthenticated"), unauthenticated + 1);
    cr_expect_eq (s_errors ("forbidden"), forbidden + 1);
}
