/*  CURVE on the query socket and the ack socket (contract: "Transport
    security"): tokens never cross the wire in clear (a recording TCP proxy
    between the client and the worker looks for them), a plaintext client
    gets no answer, AUDIT_QUERY_KEYS_DIR limits the client keys and a key
    removed + SIGHUP is refused, SIGHUP re-reads the JWT secret, and a
    hello on the ack socket must name the certificate's producer. */

#include <criterion/criterion.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <czmq.h>

#include "test_service.h"
#include "test_support.h"

static char *s_dir;
static zcert_t *s_server;
static zcert_t *s_client;           //  in the query keys directory
static char s_keys [600];
static char s_client_file [700];
static char s_secret_file [600];
static char s_query [64];
static pid_t s_pid;

static void
s_write_secret (const char *secret)
{
    FILE *file = fopen (s_secret_file, "w");
    cr_assert_not_null (file);
    fputs (secret, file);
    fclose (file);
    cr_assert_eq (chmod (s_secret_file, 0600), 0, "a secret file open to others is refused");
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("curveq");
    char path [600];
    s_server = zcert_new ();
    snprintf (path, sizeof path, "%s/server.cert", s_dir);
    cr_assert_eq (zcert_save (s_server, path), 0);
    snprintf (s_keys, sizeof s_keys, "%s/keys", s_dir);
    cr_assert_eq (zsys_dir_create ("%s", s_keys), 0);
    s_client = zcert_new ();
    zcert_set_meta (s_client, "producer_id", "prod-a");
    snprintf (s_client_file, sizeof s_client_file, "%s/client.cert", s_keys);
    cr_assert_eq (zcert_save_public (s_client, s_client_file), 0);
    snprintf (s_secret_file, sizeof s_secret_file, "%s/jwt", s_dir);
    s_write_secret (TEST_SECRET);
    snprintf (s_query, sizeof s_query, "tcp://127.0.0.1:%d", test_free_port ());
}

static void
s_teardown (void)
{
    if (s_pid > 0)
        test_worker_stop (s_pid, SIGKILL, 2000);
    s_pid = 0;
    test_tmpdir_destroy (&s_dir);
    zcert_destroy (&s_server);
    zcert_destroy (&s_client);
}

TestSuite (curve_query, .init = s_setup, .fini = s_teardown, .timeout = 120);

static void
s_start_query (bool with_keys)
{
    char log [700], secret [700], curve [700], keys [700], data [700];
    snprintf (log, sizeof log, "%s/query.log", s_dir);
    snprintf (data, sizeof data, "%s/data", s_dir);
    test_store_make (data);
    snprintf (secret, sizeof secret, "AUDIT_JWT_SECRET_FILE=%s", s_secret_file);
    snprintf (curve, sizeof curve, "AUDIT_CURVE_SECRET_FILE=%s/server.cert", s_dir);
    snprintf (keys, sizeof keys, "AUDIT_QUERY_KEYS_DIR=%s", with_keys ? s_keys : "");
    const char *args [] = { "--query-endpoint", s_query, "--data-dir", data, NULL };
    const char *env [] = { secret, curve, keys, NULL };
    s_pid = test_worker_start ("audit-query", args, env, log);
    cr_assert_gt (s_pid, 0);
}

//  A REQ to endpoint with cert (NULL: plaintext), its receive timeout ms
static zsock_t *
s_req (const char *endpoint, zcert_t *cert, int timeout_ms)
{
    zsock_t *req = zsock_new (ZMQ_REQ);
    zsock_set_rcvtimeo (req, timeout_ms);
    zsock_set_linger (req, 0);
    if (cert) {
        zcert_apply (cert, req);
        zsock_set_curve_serverkey (req, zcert_public_txt (s_server));
    }
    cr_assert_eq (zsock_connect (req, "%s", endpoint), 0);
    return req;
}

//  Send {v, op, token?} on req: 0 and the reply, or -1 when none came
static int
s_call (zsock_t *req, const char *op, const char *token, msgpack_unpacked *reply)
{
    test_pack_t *request = test_pack_new ();
    test_pack_map (request, token ? 3 : 2);
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", op);
    if (token)
        test_pack_kv_str (request, "token", token);
    int rc = test_request (zsock_resolve (req), request, reply);
    test_pack_destroy (&request);
    return rc;
}

//  health until the worker answers (it starts in the background)
static void
s_wait_up (zcert_t *cert)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    for (int attempt = 0; attempt < 50; attempt++) {
        zsock_t *req = s_req (s_query, cert, 200);
        int rc = s_call (req, "health", NULL, &reply);
        zsock_destroy (&req);
        if (rc == 0) {
            msgpack_unpacked_destroy (&reply);
            return;
        }
    }
    cr_assert_fail ("the query worker never answered health over CURVE");
}

//  --- A recording proxy: one connection, both directions, every byte -------

typedef struct {
    int listener;
    int port;                       //  the worker's
    char *bytes;
    size_t size;
} s_proxy_t;

static void
s_record (s_proxy_t *proxy, const char *data, ssize_t len)
{
    proxy->bytes = realloc (proxy->bytes, proxy->size + (size_t) len);
    memcpy (proxy->bytes + proxy->size, data, (size_t) len);
    proxy->size += (size_t) len;
}

static int
s_connect_port (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

static void *
s_proxy_run (void *arg)
{
    s_proxy_t *proxy = (s_proxy_t *) arg;
    int client = accept (proxy->listener, NULL, NULL);
    int server = client >= 0 ? s_connect_port (proxy->port) : -1;
    struct pollfd fds [2] = { { client, POLLIN, 0 }, { server, POLLIN, 0 } };
    char buffer [65536];
    while (server >= 0 && poll (fds, 2, 3000) > 0) {
        int from = fds [0].revents ? 0 : 1;
        ssize_t len = read (fds [from].fd, buffer, sizeof buffer);
        if (len <= 0 || write (fds [1 - from].fd, buffer, (size_t) len) != len)
            break;
        s_record (proxy, buffer, len);
    }
    if (client >= 0)
        close (client);
    if (server >= 0)
        close (server);
    return NULL;
}

//  Listen on a free loopback port; its number in *port
static int
s_listen (int *port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    cr_assert_eq (bind (fd, (struct sockaddr *) &addr, sizeof addr), 0);
    cr_assert_eq (listen (fd, 1), 0);
    cr_assert_eq (getsockname (fd, (struct sockaddr *) &addr, &len), 0);
    *port = ntohs (addr.sin_port);
    return fd;
}

Test (curve_query, no_token_crosses_the_wire_in_clear)
{
    s_start_query (false);
    zcert_t *anyone = zcert_new ();             //  any key: no keys directory
    s_wait_up (anyone);
    s_proxy_t proxy = { .port = atoi (strrchr (s_query, ':') + 1) };
    int port;
    proxy.listener = s_listen (&port);
    pthread_t thread;
    cr_assert_eq (pthread_create (&thread, NULL, s_proxy_run, &proxy), 0);
    char via [64];
    snprintf (via, sizeof via, "tcp://127.0.0.1:%d", port);
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    zsock_t *req = s_req (via, anyone, 5000);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_assert_eq (s_call (req, "stats", token, &reply), 0, "stats through the proxy");
    cr_expect_str_eq (test_reply_code (&reply), "");
    msgpack_unpacked_destroy (&reply);
    zsock_destroy (&req);
    pthread_join (thread, NULL);
    close (proxy.listener);
    cr_expect_gt (proxy.size, 200, "the proxy saw the conversation");
    cr_expect_null (memmem (proxy.bytes, proxy.size, token, strlen (token)), "the token in clear");
    //  Its signature alone neither: no part of the token is readable
    cr_expect_null (memmem (proxy.bytes, proxy.size, strrchr (token, '.') + 1, 20));
    cr_expect_null (memmem (proxy.bytes, proxy.size, "platform_ops", 12));
    free (proxy.bytes);
    free (token);
    zcert_destroy (&anyone);
}

Test (curve_query, a_plaintext_client_gets_no_answer)
{
    s_start_query (false);
    s_wait_up (s_client);
    zsock_t *plain = s_req (s_query, NULL, 1000);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_expect_eq (s_call (plain, "health", NULL, &reply), -1);
    msgpack_unpacked_destroy (&reply);
    zsock_destroy (&plain);
}

Test (curve_query, the_keys_directory_limits_clients_and_sighup_rereads_it)
{
    s_start_query (true);
    s_wait_up (s_client);
    zcert_t *stranger = zcert_new ();
    zsock_t *req = s_req (s_query, stranger, 1000);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_expect_eq (s_call (req, "health", NULL, &reply), -1, "an unknown key is refused");
    zsock_destroy (&req);
    //  A connection that is open when its key goes keeps no right to answers
    zsock_t *known = s_req (s_query, s_client, 5000);
    cr_assert_eq (s_call (known, "health", NULL, &reply), 0);
    cr_assert_eq (unlink (s_client_file), 0);
    cr_assert_eq (kill (s_pid, SIGHUP), 0);
    zclock_sleep (500);
    cr_expect_eq (kill (s_pid, 0), 0, "the worker still runs");
    cr_assert_eq (s_call (known, "health", NULL, &reply), 0);
    cr_expect_str_eq (test_reply_code (&reply), "unauthenticated");
    msgpack_unpacked_destroy (&reply);
    zsock_destroy (&known);
    zcert_destroy (&stranger);
}

Test (curve_query, sighup_rereads_the_jwt_secret)
{
    s_start_query (false);
    s_wait_up (s_client);
    char *old_token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    char *new_token = test_token ("a-rotated-secret-for-the-test-0123456789", "platform_ops", NULL, NULL, 600);
    zsock_t *req = s_req (s_query, s_client, 5000);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_assert_eq (s_call (req, "stats", old_token, &reply), 0);
    cr_expect_str_eq (test_reply_code (&reply), "");
    s_write_secret ("a-rotated-secret-for-the-test-0123456789");
    cr_assert_eq (kill (s_pid, SIGHUP), 0);
    zclock_sleep (500);
    cr_assert_eq (s_call (req, "stats", old_token, &reply), 0);
    cr_expect_str_eq (test_reply_code (&reply), "unauthenticated");
    cr_assert_eq (s_call (req, "stats", new_token, &reply), 0);
    cr_expect_str_eq (test_reply_code (&reply), "");
    msgpack_unpacked_destroy (&reply);
    zsock_destroy (&req);
    free (old_token);
    free (new_token);
}
