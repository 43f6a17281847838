/*  CURVE and ZAP on the real workers (contract: "Transport security"):
    only the producers' certificates may write, the producer comes from
    the certificate (bad_producer), a key removed and SIGHUP stops it
    while the worker runs on, plaintext clients get nowhere, and without
    CURVE a worker binds loopback only. */

#include <criterion/criterion.h>
#include <signal.h>
#include <czmq.h>

#include "test_service.h"
#include "test_support.h"

static test_service_t *s_service;
static zcert_t *s_server;           //  the service's keypair
static zcert_t *s_producer;         //  prod-a, allowed for org-1 and org-2
static char s_keys [512];           //  AUDIT_PRODUCER_KEYS_DIR
static char s_producer_file [600];

#define S_EVENTS "SELECT count(*) FROM event"

static pid_t
s_start_ingest (test_service_t *self)
{
    char log [512], secret [600], keys [600];
    snprintf (log, sizeof log, "%s.audit-ingest.log", self->dir);
    snprintf (secret, sizeof secret, "AUDIT_CURVE_SECRET_FILE=%s/server.cert", self->dir);
    snprintf (keys, sizeof keys, "AUDIT_PRODUCER_KEYS_DIR=%s", s_keys);
    const char *args [] = { "--ingest-endpoint", self->ingest_endpoint, "--data-dir", self->dir,
                            "--ack-endpoint", self->ack_endpoint, NULL };
    const char *env [] = { secret, keys, NULL };
    pid_t pid = test_worker_start ("audit-ingest", args, env, log);
    cr_assert_gt (pid, 0);
    return pid;
}

static void
s_setup (void)
{
    s_service = calloc (1, sizeof *s_service);
    s_service->dir = test_tmpdir_new ("curve");
    snprintf (s_service->ingest_endpoint, 64, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (s_service->ack_endpoint, 64, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (s_service->query_endpoint, 64, "tcp://127.0.0.1:%d", test_free_port ());
    char path [600];
    s_server = zcert_new ();
    snprintf (path, sizeof path, "%s/server.cert", s_service->dir);
    cr_assert_eq (zcert_save (s_server, path), 0);
    snprintf (s_keys, sizeof s_keys, "%s.keys", s_service->dir);
    cr_assert_eq (zsys_dir_create ("%s", s_keys), 0);
    s_producer = zcert_new ();
    zcert_set_meta (s_producer, "producer_id", "prod-a");
    zcert_set_meta (s_producer, "orgs", "org-1, org-2");
    snprintf (s_producer_file, sizeof s_producer_file, "%s/prod-a.cert", s_keys);
    cr_assert_eq (zcert_save_public (s_producer, s_producer_file), 0);
    s_service->ingest_pid = s_start_ingest (s_service);
}

static void
s_teardown (void)
{
    char command [700];
    snprintf (command, sizeof command, "rm -rf '%s'", s_keys);
    cr_expect_eq (system (command), 0);
    test_service_destroy (&s_service);
    zcert_destroy (&s_server);
    zcert_destroy (&s_producer);
}

TestSuite (curve, .init = s_setup, .fini = s_teardown, .timeout = 120);

//  A PUB connected with cert (NULL: plaintext)
static zsock_t *
s_pub (zcert_t *cert)
{
    zsock_t *pub = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (pub, 0);
    zsock_set_linger (pub, 0);
    if (cert) {
        zcert_apply (cert, pub);
        zsock_set_curve_serverkey (pub, zcert_public_txt (s_server));
    }
    cr_assert_eq (zsock_connect (pub, "%s", s_service->ingest_endpoint), 0);
    return pub;
}

//  Publish a user_login of org, claiming producer (NULL: none)
static void
s_publish (zsock_t *pub, const char *org, const char *producer)
{
    test_pack_t *event = test_pack_event (AUDIT_EVENT_USER_LOGIN, org, "user-1",
                                          producer ? 1 : 0, NULL);
    if (producer)
        test_pack_kv_str (event, "producer_id", producer);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "audit");
    zmsg_addmem (msg, test_pack_data (event), test_pack_size (event));
    cr_assert_eq (zmsg_send (&msg, pub), 0);
    test_pack_destroy (&event);
}

//  Publish from pub until `want` events are stored (the slow joiner)
static void
s_publish_until_stored (zsock_t *pub, int64_t want)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        s_publish (pub, "org-1", "prod-a");
        if (test_service_wait_count (s_service, "audit.db", S_EVENTS, want, 100) >= want)
            return;
    }
    cr_assert_fail ("a known producer's event was never stored");
}

Test (curve, a_known_producer_writes_an_unknown_key_is_refused_and_counted)
{
    zsock_t *known = s_pub (s_producer);
    s_publish_until_stored (known, 1);
    zcert_t *stranger = zcert_new ();
    zsock_t *unknown = s_pub (stranger);
    for (int index = 0; index < 20; index++) {
        s_publish (unknown, "org-1", "prod-a");
        zclock_sleep (10);
    }
    cr_expect_geq (test_service_counter (s_service, "ingest.curve_refused", 1), 1);
    int64_t stored = test_service_count (s_service, "audit.db", S_EVENTS);
    //  The known one still writes, with a seq but no producer_id: it is
    //  the certificate's; the stranger's events never arrived
    test_pack_t *event = test_pack_event (AUDIT_EVENT_USER_LOGIN, "org-2", "user-1", 1, NULL);
    test_pack_kv_uint (event, "seq", 1);
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "audit");
    zmsg_addmem (msg, test_pack_data (event), test_pack_size (event));
    cr_assert_eq (zmsg_send (&msg, known), 0);
    test_pack_destroy (&event);
    cr_expect_eq (test_service_wait_count (s_service, "audit.db", S_EVENTS, stored + 1, 5000),
                  stored + 1);
    cr_expect_eq (test_service_wait_count (s_service, "audit.db",
                  "SELECT acked_seq FROM producer WHERE name = 'prod-a'", 1, 5000), 1,
                  "an event naming no producer is the certificate's");
    zclock_sleep (300);
    cr_expect_eq (test_service_count (s_service, "audit.db", S_EVENTS), stored + 1);
    zsock_destroy (&unknown);
    zsock_destroy (&known);
    zcert_destroy (&stranger);
}

Test (curve, a_producer_claiming_another_producer_or_org_is_bad_producer)
{
    zsock_t *known = s_pub (s_producer);
    s_publish_until_stored (known, 1);
    zclock_sleep (300);             //  the probes still on their way land first
    int64_t stored = test_service_count (s_service, "audit.db", S_EVENTS);
    s_publish (known, "org-1", "prod-b");
    s_publish (known, "org-9", "prod-a");
    cr_expect_eq (test_service_counter (s_service, "ingest.rejected.bad_producer", 2), 2);
    cr_expect_eq (test_service_count (s_service, "audit.db", S_EVENTS), stored);
    cr_expect_eq (test_service_count (s_service, "audit.db",
                  "SELECT count(*) FROM counter WHERE name LIKE '%prod-b%'"), 0,
                  "a claimed producer enters no counter");
    zsock_destroy (&known);
}

Test (curve, a_plaintext_client_gets_nothing_stored)
{
    zsock_t *known = s_pub (s_producer);
    s_publish_until_stored (known, 1);
    zclock_sleep (300);             //  the probes still on their way land first
    int64_t stored = test_service_count (s_service, "audit.db", S_EVENTS);
    zsock_t *plain = s_pub (NULL);
    for (int index = 0; index < 20; index++) {
        s_publish (plain, "org-1", "prod-a");
        zclock_sleep (10);
    }
    zclock_sleep (500);
    //  Its handshake fails before ZAP is asked: nothing to count, nothing stored
    cr_expect_eq (test_service_count (s_service, "audit.db", S_EVENTS), stored);
    zsock_destroy (&plain);
    zsock_destroy (&known);
}

Test (curve, a_key_removed_and_sighup_stops_working_the_worker_runs_on)
{
    zsock_t *known = s_pub (s_producer);
    s_publish_until_stored (known, 1);
    zclock_sleep (300);             //  the probes still on their way land first
    int64_t stored = test_service_count (s_service, "audit.db", S_EVENTS);
    cr_assert_eq (unlink (s_producer_file), 0);
    cr_assert_eq (kill (s_service->ingest_pid, SIGHUP), 0);
    zclock_sleep (500);
    cr_expect_eq (kill (s_service->ingest_pid, 0), 0, "the worker still runs");
    for (int index = 0; index < 10; index++)
        s_publish (known, "org-1", "prod-a");
    cr_expect_geq (test_service_counter (s_service, "ingest.curve_revoked", 10), 10);
    cr_expect_eq (test_service_count (s_service, "audit.db", S_EVENTS), stored);
    //  Back in the directory, the key works again after the next SIGHUP
    cr_assert_eq (zcert_save_public (s_producer, s_producer_file), 0);
    cr_assert_eq (kill (s_service->ingest_pid, SIGHUP), 0);
    zclock_sleep (300);
    s_publish_until_stored (known, stored + 1);
    zsock_destroy (&known);
    cr_expect_eq (test_worker_stop (s_service->ingest_pid, SIGTERM, 10000), 0);
    s_service->ingest_pid = 0;
}

//  A hello for producer on dealer: true when it was answered within 2 s
static bool
s_hello (zsock_t *dealer, const char *producer)
{
    test_pack_t *hello = test_pack_new ();
    test_pack_map (hello, 3);
    test_pack_kv_uint (hello, "v", 1);
    test_pack_kv_str (hello, "op", "hello");
    test_pack_kv_str (hello, "producer_id", producer);
    zframe_t *frame = zframe_new (test_pack_data (hello), test_pack_size (hello));
    cr_assert_eq (zframe_send (&frame, dealer, 0), 0);
    test_pack_destroy (&hello);
    zframe_t *answer = zframe_recv (dealer);
    bool answered = answer != NULL;
    zframe_destroy (&answer);
    return answered;
}

Test (curve, a_hello_must_name_the_certificates_producer)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (dealer, 2000);
    zsock_set_linger (dealer, 0);
    zcert_apply (s_producer, dealer);
    zsock_set_curve_serverkey (dealer, zcert_public_txt (s_server));
    cr_assert_eq (zsock_connect (dealer, "%s", s_service->ack_endpoint), 0);
    bool answered = false;
    for (int attempt = 0; attempt < 5 && !answered; attempt++)
        answered = s_hello (dealer, "prod-a");
    cr_expect (answered, "the certificate's own producer is answered");
    cr_expect_not (s_hello (dealer, "prod-b"), "another producer's hello is not");
    cr_expect_eq (test_service_counter (s_service, "ingest.ack_refused", 1), 1);
    zsock_destroy (&dealer);
}

//  examples/producer.py with the certificate at cert: its last line
static int
s_example (const char *cert, int count, int timeout_s, char *last, size_t size)
{
    char command [2048];
    snprintf (command, sizeof command,
              "/usr/bin/python3 %s/examples/producer.py --endpoint %s --ack-endpoint %s"
              " --producer prod-a --count %d --bad-every 10 --timeout %d --org org-2"
              " --server-key %s/server.cert --cert %s 2>&1", AUDIT_SOURCE_DIR,
              s_service->ingest_endpoint, s_service->ack_endpoint, count, timeout_s,
              s_service->dir, cert);
    FILE *out = popen (command, "r");
    cr_assert_not_null (out);
    char line [512];
    last [0] = 0;
    while (fgets (line, sizeof line, out))
        snprintf (last, size, "%s", line);
    return pclose (out);
}

Test (curve, the_python_example_with_a_certificate_publishes_and_is_acknowledged)
{
    char cert [600], last [512];
    snprintf (cert, sizeof cert, "%s/prod-a.cert", s_service->dir);
    cr_assert_eq (zcert_save (s_producer, cert), 0);
    cr_expect_eq (s_example (cert, 20, 60, last, sizeof last), 0, "%s", last);
    cr_expect_str_eq (last, "acked=20 stored=18 rejected=2\n");
    cr_expect_geq (test_service_count (s_service, "audit.db", S_EVENTS), 18);
}

//  --- Without CURVE ------------------------------------------------------

static int
s_run_plain (const char *endpoint, const char *allow, char *line, size_t size)
{
    char log [600], ack [64];
    snprintf (log, sizeof log, "%s.plain.log", s_service->dir);
    snprintf (ack, sizeof ack, "tcp://127.0.0.1:%d", test_free_port ());
    const char *args [] = { "--ingest-endpoint", endpoint, "--data-dir", s_service->dir,
                            "--ack-endpoint", ack, NULL };
    const char *env [] = { allow, NULL };
    pid_t pid = test_worker_start ("audit-ingest", args, env, log);
    cr_assert_gt (pid, 0);
    if (allow)
        zclock_sleep (500);             //  started: the signals are its own now
    int status = test_worker_stop (pid, allow ? SIGTERM : 0, allow ? 5000 : 10000);
    FILE *file = fopen (log, "r");
    cr_assert_not_null (file);
    //  The line that says why: the first above info (info lines, such as
    //  the store's creation, may come first)
    line [0] = 0;
    char *got;
    while ((got = fgets (line, (int) size, file)) && strstr (line, "level=info"))
        ;
    fclose (file);
    unlink (log);
    return got ? status : -2;
}

Test (curve, without_curve_a_worker_binds_loopback_only)
{
    test_worker_stop (s_service->ingest_pid, SIGKILL, 2000);
    s_service->ingest_pid = 0;
    char line [1024], endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://0.0.0.0:%d", test_free_port ());
    cr_expect_neq (s_run_plain (endpoint, NULL, line, sizeof line), 0);
    cr_expect (strstr (line, "level=error") && strstr (line, "AUDIT_ALLOW_PLAINTEXT"),
               "the one line says why: %s", line);
    cr_expect_eq (s_run_plain (endpoint, "AUDIT_ALLOW_PLAINTEXT=1", line, sizeof line), 0);
    cr_expect (strstr (line, "level=warn") && strstr (line, "msg=plaintext"),
               "plaintext is warned of at start: %s", line);
}
