/*  =========================================================================
    test_bounds - memory in bytes, fair service and the fd limit (issue
    12, items 1 and 2), with the real workers: each finding of the
    hostile run in a form that takes seconds. The long shapes (RSS under
    minutes of flood, health p99 under a hog, CPU at `ulimit -n 256`) are
    tests/soak/hostile-soak.sh. Nothing here asserts on a latency: on
    counters, replies and the workers' peak RSS (VmHWM), with margins.
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit_time.h"
#include "test_keys.h"
#include "test_service.h"
#include "test_support.h"

//  The bound README states for a worker's RSS. Under AddressSanitizer a
//  worker's RSS holds its shadow memory and the quarantine of what it freed
//  (256 MiB by default): the bound is then not asserted, only reported.
#define S_RSS_MAX_KB  (128 * 1024)
#if defined (__SANITIZE_ADDRESS__)
#   define S_RSS_CHECKED false
#else
#   define S_RSS_CHECKED true
#endif

TestSuite (bounds, .timeout = 240);

//  A field of /proc/PID/status in kB ("VmHWM", "VmRSS"), -1 when unread
static long
s_status_kb (pid_t pid, const char *field)
{
    char path [64], line [256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    long value = -1;
    size_t len = strlen (field);
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, field, len) == 0 && line [len] == ':')
            value = atol (line + len + 1);
    if (file)
        fclose (file);
    return value;
}

static void
s_expect_rss_bound (pid_t pid, const char *worker)
{
    long peak = s_status_kb (pid, "VmHWM");
    cr_log_info ("%s's peak RSS %ld kB", worker, peak);
    if (S_RSS_CHECKED)
        cr_expect (peak > 0 && peak < S_RSS_MAX_KB, "%s's peak RSS %ld kB", worker, peak);
}

//  CPU seconds a process has used (all its threads)
static double
s_cpu_seconds (pid_t pid)
{
    char path [64], text [1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    cr_assert_not_null (file);
    size_t size = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text [size] = 0;
    //  utime and stime are fields 14 and 15, after the ")" of the name
    char *cursor = strrchr (text, ')');
    unsigned long utime = 0, stime = 0;
    cr_assert_eq (sscanf (cursor + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                          &utime, &stime), 2);
    return (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
}

static const char *
s_health_code (test_service_t *service)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (service, "health", NULL, 0, NULL, NULL, &reply);
    static char code [64];
    snprintf (code, sizeof code, "%s", test_reply_code (&reply));
    msgpack_unpacked_destroy (&reply);
    return code;
}

static zsock_t *
s_dealer (test_service_t *service)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (dealer, 20000);
    zsock_set_sndhwm (dealer, 0);
    zsock_set_linger (dealer, 0);
    test_keys_apply (dealer, NULL);
    cr_assert_eq (zsock_connect (dealer, "%s", service->query_endpoint), 0);
    return dealer;
}

//  A request from a DEALER, REQ-framed: the empty delimiter, then the body
static void
s_send_request (zsock_t *dealer, test_pack_t *request)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, "", 0);
    zmsg_addmem (msg, test_pack_data (request), test_pack_size (request));
    cr_assert_eq (zmsg_send (&msg, dealer), 0);
}

//  Take want replies (0: what is there now) from dealer: ok ones, and
//  unavailable ones that say the connection has too many outstanding
static void
s_take_replies (zsock_t *dealer, int want, int *ok, int *busy, int *answered)
{
    for (int index = 0; want == 0 || index < want; index++) {
        if (want == 0 && !(zsock_events (dealer) & ZMQ_POLLIN))
            break;
        zmsg_t *msg = zmsg_recv (dealer);
        if (!msg)
            break;
        zframe_t *body = zmsg_last (msg);
        msgpack_unpacked reply;
        msgpack_unpacked_init (&reply);
        cr_assert (test_unpack_frame (body, &reply));
        const char *code = test_reply_code (&reply);
        *ok += streq (code, "");
        *busy += streq (code, "unavailable")
              && memmem (zframe_data (body), zframe_size (body), "outstanding", 11);
        (*answered)++;
        msgpack_unpacked_destroy (&reply);
        zmsg_destroy (&msg);
    }
}

static test_pack_t *
s_request (const char *op, const char *token, const char *org, uint64_t limit)
{
    test_pack_t *request = test_pack_new ();
    test_pack_map (request, 2 + (token ? 1 : 0) + (org ? 2 : 0));
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", op);
    if (token)
        test_pack_kv_str (request, "token", token);
    if (org) {
        test_pack_kv_str (request, "org_id", org);
        test_pack_kv_uint (request, "limit", limit);
    }
    return request;
}

//  Issue 12: one client keeping ~3,000 requests outstanding turned half its
//  own into unavailable and held up another client's health. Past its
//  cap (AUDIT_QUERY_PEER_REQUESTS, 32) a connection's requests are
//  answered unavailable at once, each one; another client is served.
//  1,000 here (the soak keeps 3,000 outstanding for 20 s).
Test (bounds, a_hog_is_told_unavailable_and_another_client_is_served)
{
    test_service_t *service = test_service_start ("bounds-hog", true);
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    zsock_t *hog = s_dealer (service);
    zsock_set_rcvtimeo (hog, 6000);
    const int sent = 1000;
    test_pack_t *request = s_request ("stats", token, NULL, 0);
    for (int index = 0; index < sent; index++)
        s_send_request (hog, request);
    test_pack_destroy (&request);
    //  Meanwhile another client: never unavailable; the hog reads too
    int ok = 0, busy = 0, answered = 0;
    for (int index = 0; index < 20; index++) {
        cr_expect_str_eq (s_health_code (service), "", "another client's health, call %d", index);
        s_take_replies (hog, 0, &ok, &busy, &answered);
    }
    s_take_replies (hog, sent - answered, &ok, &busy, &answered);
    //  Every request is answered; on a slow machine a reply may wait
    //  unread past its 5 s and be dropped, and is counted then
    int64_t dropped = ok + busy < sent
                    ? test_service_counter (service, "query.replies_dropped", sent - ok - busy) : 0;
    cr_expect_eq (ok + busy + dropped, sent, "every request is answered: %d ok, %d told the cap,"
                  " %lld dropped", ok, busy, (long long) dropped);
    cr_expect_geq (ok, 32, "the cap's worth are run");
    cr_expect_gt (busy, 0);
    cr_expect_geq (test_service_counter (service, "query.peer_busy", busy), busy);
    zsock_destroy (&hog);
    free (token);
    test_service_destroy (&service);
}

static void
s_publish_logins (test_service_t *service, int count)
{
    for (int index = 0; index < count; index++) {
        test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "org-a", "user-with-a-name",
                                             0, NULL);
        test_service_publish (service, "audit", pack);
        test_pack_destroy (&pack);
    }
    cr_assert_eq (test_service_wait_count (service, "audit.db", "SELECT count(*) FROM event",
                                           count, 60000), count);
}

//  Issue 12: an org admin who sent 60 exports and never read the replies
//  held 412 MB of query memory. A chunk is at most 4 MiB, libzmq holds at
//  most two replies for a connection, and what it will not take is held
//  within AUDIT_QUERY_PEER_BYTES, then dropped and counted.
Test (bounds, unread_exports_stay_within_the_memory_bound)
{
    test_service_t *service = test_service_start ("bounds-export", true);
    s_publish_logins (service, 30000);
    char *token = test_token (TEST_SECRET, "org_admin", "org-a", NULL, 600);
    zsock_t *hog = s_dealer (service);
    //  It reads nothing: one reply fills what it takes in
    zsock_set_rcvhwm (hog, 1);
    test_pack_t *request = s_request ("export", token, "org-a", 50000);
    for (int index = 0; index < 60; index++)
        s_send_request (hog, request);
    test_pack_destroy (&request);
    //  Until every export ran: each is told the cap, or answered and held,
    //  or dropped once held too long
    cr_expect_geq (test_service_counter (service, "query.peer_busy", 1), 1);
    cr_expect_geq (test_service_counter (service, "query.replies_dropped", 1), 1);
    //  Time for the rest of the 32 run to finish (the peak only grows)
    zclock_sleep (3000);
    s_expect_rss_bound (service->query_pid, "query");
    cr_expect_str_eq (s_health_code (service), "", "another client is served");
    zsock_destroy (&hog);
    free (token);
    test_service_destroy (&service);
}

//  Issue 12: 10,000 mq messages of 256 KiB took ingest from 10 MB to
//  1.83 GB: the high-water mark counted 20,000 messages whatever their
//  size. 1,000 of them (256 MiB) now pass through at most
//  AUDIT_INGEST_HWM (64) messages in libzmq and two 16 MiB batches.
Test (bounds, an_mq_flood_stays_within_the_memory_bound)
{
    test_service_t *service = test_service_start ("bounds-mq", false);
    const int count = 1000;
    static uint8_t payload [256 * 1024];
    memset (payload, 0x5a, sizeof payload);
    char now [AUDIT_TIME_TEXT_SIZE];
    for (int index = 0; index < count; index++) {
        char id [40];
        test_uuid (id);
        audit_time_format (test_now_ms (), now);
        test_pack_t *pack = test_pack_new ();
        test_pack_map (pack, 6);
        test_pack_kv_uint (pack, "v", 1);
        test_pack_kv_str (pack, "message_id", id);
        test_pack_kv_str (pack, "org_id", "org-a");
        test_pack_kv_str (pack, "device_id", "phone-1");
        test_pack_kv_str (pack, "timestamp", now);
        test_pack_str (pack, "payload");
        msgpack_pack_bin (&pack->packer, sizeof payload);
        msgpack_pack_bin_body (&pack->packer, payload, sizeof payload);
        test_service_publish (service, "mq", pack);
        test_pack_destroy (&pack);
    }
    cr_expect_eq (test_service_wait_count (service, "queue.db", "SELECT count(*) FROM message",
                                           count, 120000), count);
    s_expect_rss_bound (service->ingest_pid, "ingest");
    test_service_destroy (&service);
}

//  Every frame of a message of many points at this one buffer (zero copy),
//  so that the test holds no more of it than the worker is sent
static uint8_t s_frame [1024 * 1024];

static void
s_no_free (void *data, void *hint)
{
    (void) data;
    (void) hint;
}

//  head, then count frames of size bytes, as one message on socket
static void
s_send_frames (zsock_t *socket, const char *head, int count, size_t size)
{
    void *handle = zsock_resolve (socket);
    cr_assert_eq (zmq_send (handle, head, strlen (head), ZMQ_SNDMORE), (int) strlen (head));
    for (int index = 0; index < count; index++) {
        zmq_msg_t frame;
        zmq_msg_init_data (&frame, s_frame, size, s_no_free, NULL);
        cr_assert_geq (zmq_msg_send (&frame, handle, index + 1 < count ? ZMQ_SNDMORE : 0), 0);
    }
}

//  Issue 12: one message of 300 frames of 1 MiB took ingest to 369 MiB.
//  libzmq holds a message whole before the worker sees its first frame;
//  the memory guard drops the connection that brings it instead, and the
//  worker goes on storing what its producers send.
Test (bounds, a_message_of_many_frames_is_dropped_within_the_memory_bound)
{
    if (!S_RSS_CHECKED)
        cr_skip_test ("no memory guard under AddressSanitizer (audit_memguard.h)");
    test_service_t *service = test_service_start ("bounds-frames", false);
    zsock_t *pub = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (pub, 0);
    zsock_set_linger (pub, 0);
    test_service_keys (service, pub, "hostile");
    cr_assert_eq (zsock_connect (pub, "%s", service->ingest_endpoint), 0);
    zclock_sleep (500);             //  PUB drops what it sends before it connects
    s_send_frames (pub, "audit", 300, sizeof s_frame);
    cr_expect_geq (test_service_counter (service, "ingest.connections_dropped_for_memory", 1), 1);
    zsock_destroy (&pub);
    char id [40];
    test_uuid (id);
    test_pack_t *event = test_pack_login (id, "org-a", "alice", test_now_ms ());
    test_service_publish (service, "audit", event);
    test_pack_destroy (&event);
    cr_expect_eq (test_service_wait_count (service, "audit.db", "SELECT count(*) FROM event",
                                           1, 10000), 1, "stored after the drop");
    s_expect_rss_bound (service->ingest_pid, "ingest");
    test_service_destroy (&service);
}

//  The same on the query socket, in frames it takes (at most 128 KiB):
//  3,000 of them, 375 MiB, before any request is read
Test (bounds, a_request_of_many_frames_is_dropped_within_the_memory_bound)
{
    if (!S_RSS_CHECKED)
        cr_skip_test ("no memory guard under AddressSanitizer (audit_memguard.h)");
    test_service_t *service = test_service_start ("bounds-qframes", true);
    cr_assert_str_eq (s_health_code (service), "");
    zsock_t *dealer = s_dealer (service);
    s_send_frames (dealer, "", 3000, 128 * 1024);
    cr_expect_geq (test_service_counter (service, "query.connections_dropped_for_memory", 1), 1);
    cr_expect_str_eq (s_health_code (service), "", "another client is served");
    zsock_destroy (&dealer);
    s_expect_rss_bound (service->query_pid, "query");
    test_service_destroy (&service);
}

//  count TCP connections to endpoint's port, not waited for (the worker
//  accepts them, or they wait in its backlog); their fds go in fds
static void
s_connect_raw (const char *endpoint, int *fds, int count)
{
    int port = atoi (strrchr (endpoint, ':') + 1);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    inet_pton (AF_INET, "127.0.0.1", &address.sin_addr);
    for (int index = 0; index < count; index++) {
        fds [index] = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        cr_assert_geq (fds [index], 0, "the test's own fd limit");
        connect (fds [index], (struct sockaddr *) &address, sizeof address);
    }
}

static void
s_close_raw (int *fds, int count)
{
    for (int index = 0; index < count; index++)
        close (fds [index]);
}

//  This process may hold what the test opens
static void
s_raise_own_limit (rlim_t want)
{
    struct rlimit limit;
    cr_assert_eq (getrlimit (RLIMIT_NOFILE, &limit), 0);
    if (limit.rlim_max < want)
        cr_skip_test ("the hard fd limit %lu is under %lu", (unsigned long) limit.rlim_max,
                      (unsigned long) want);
    limit.rlim_cur = limit.rlim_max;
    cr_assert_eq (setrlimit (RLIMIT_NOFILE, &limit), 0);
}

//  Past AUDIT_MAX_CONNECTIONS a connection is refused at once and counted;
//  the connections the worker has are served throughout, and a new client
//  is let in once there is room
Test (bounds, connections_past_the_cap_are_refused)
{
    s_raise_own_limit (1024);
    test_service_t *service = test_service_start ("bounds-cap", true);
    const char *env [] = { "AUDIT_MAX_CONNECTIONS=16", NULL };
    test_service_restart_query_env (service, env);
    cr_assert_str_eq (s_health_code (service), "");
    static int fds [100];
    s_connect_raw (service->query_endpoint, fds, 100);
    cr_expect_geq (test_service_counter (service, "query.connections_refused", 1), 1);
    cr_expect_str_eq (s_health_code (service), "", "a connection it has is served");
    //  Not asserted: that a client arriving while the worker is full is
    //  never served. libzmq accepts it before the connection monitor can
    //  refuse it, and on a loaded machine (CI, twice) a health round trip
    //  won that race. A client is let in once there is room again:
    test_pack_t *request = s_request ("health", NULL, NULL, 0);
    msgpack_unpacked reply;
    s_close_raw (fds, 100);
    zsock_t *late = zsock_new (ZMQ_REQ);
    zsock_set_rcvtimeo (late, 10000);
    zsock_set_linger (late, 0);
    test_keys_apply (late, NULL);
    cr_assert_eq (zsock_connect (late, "%s", service->query_endpoint), 0);
    msgpack_unpacked_init (&reply);
    cr_expect_eq (test_request (zsock_resolve (late), request, &reply), 0, "let in again");
    msgpack_unpacked_destroy (&reply);
    test_pack_destroy (&request);
    zsock_destroy (&late);
    test_service_destroy (&service);
}

//  Issue 12: at the fd limit (`ulimit -n 256`, 600 connections) both
//  workers spun at 99.8 % CPU and served no one. The limit is lowered
//  under a running query worker here (prlimit), so the cap it took at
//  start is too high: it meets EMFILE, gives up its spare fds, takes its
//  cap again from the fds in use, and refuses the rest without spinning.
Test (bounds, at_the_fd_limit_the_worker_does_not_spin)
{
    s_raise_own_limit (1024);
    test_service_t *service = test_service_start ("bounds-fds", true);
    cr_assert_str_eq (s_health_code (service), "");
    struct rlimit limit = { 256, 256 };
    cr_assert_eq (prlimit (service->query_pid, RLIMIT_NOFILE, &limit, NULL), 0);
    static int fds [600];
    s_connect_raw (service->query_endpoint, fds, 600);
    zclock_sleep (1500);
    double before = s_cpu_seconds (service->query_pid);
    zclock_sleep (2000);
    double used = s_cpu_seconds (service->query_pid) - before;
    //  A spin is a whole core: about 2 s in these 2 s
    cr_expect_lt (used, 0.5, "query used %.2f s of CPU in 2 s at its fd limit", used);
    cr_expect_str_eq (s_health_code (service), "", "a connection it has is served");
    cr_expect_geq (test_service_counter (service, "query.connections_refused", 1), 1);
    s_close_raw (fds, 600);
    test_service_destroy (&service);
}
