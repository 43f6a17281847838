/*  At SIGTERM, ingest takes in what libzmq can still read within its
    drain time (issue 12): events TCP had delivered but libzmq had not
    read yet were lost at the first empty read. Here the worker is
    stopped (SIGSTOP) while a publisher queues more events than its
    receive high-water mark holds, so that most of them are still in
    TCP and the publisher's queue when SIGTERM comes; each must be
    stored. */

#include <criterion/criterion.h>
#include <czmq.h>
#include <signal.h>

#include "audit_time.h"
#include "test_keys.h"
#include "test_service.h"
#include "test_support.h"

//  Four times the smallest AUDIT_INGEST_HWM
#define S_EVENTS    4000

TestSuite (drain, .timeout = 120);

//  [topic, body] on a raw libzmq socket
static void
s_send (void *pub, const char *topic, test_pack_t *pack)
{
    cr_assert_eq (zmq_send (pub, topic, strlen (topic), ZMQ_SNDMORE), (int) strlen (topic));
    cr_assert_eq (zmq_send (pub, test_pack_data (pack), test_pack_size (pack), 0),
                  (int) test_pack_size (pack));
}

static void
s_send_probe (void *pub)
{
    test_pack_t *pack = test_pack_ops_probe ("/drain-probe");
    s_send (pub, "ops", pack);
    test_pack_destroy (&pack);
}

Test (drain, sigterm_stores_what_tcp_delivered)
{
    test_service_t *service = test_service_start ("drain", false);
    const char *env [] = { "AUDIT_INGEST_HWM=1000", NULL };
    test_service_restart_ingest_env (service, env);
    //  A publisher of its own context, whose queue is unbounded
    void *context = zmq_ctx_new ();
    void *pub = zmq_socket (context, ZMQ_PUB);
    int unbounded = 0, linger = 0;
    zmq_setsockopt (pub, ZMQ_SNDHWM, &unbounded, sizeof unbounded);
    zmq_setsockopt (pub, ZMQ_LINGER, &linger, sizeof linger);
    test_keys_apply (pub, NULL);        //  CZMQ's setters take a raw socket too
    cr_assert_eq (zmq_connect (pub, service->ingest_endpoint), 0);
    const char *probes_sql = "SELECT count(*) FROM ops WHERE path = '/drain-probe'";
    bool joined = false;
    for (int attempt = 0; attempt < 200 && !joined; attempt++) {
        s_send_probe (pub);
        joined = test_service_wait_count (service, "ops.db", probes_sql, 1, 50) >= 1;
    }
    cr_assert (joined, "the publisher never reached ingest");
    cr_assert_eq (kill (service->ingest_pid, SIGSTOP), 0);
    for (int index = 0; index < S_EVENTS; index++) {
        test_pack_t *pack = test_pack_event (AUDIT_EVENT_USER_LOGIN, "drain-org", "user-1", 0, NULL);
        s_send (pub, "audit", pack);
        test_pack_destroy (&pack);
    }
    cr_assert_eq (kill (service->ingest_pid, SIGTERM), 0);
    cr_assert_eq (kill (service->ingest_pid, SIGCONT), 0);
    int status = test_service_kill_ingest (service, 0);
    cr_expect_eq (status, 0, "a clean stop");
    int64_t stored = test_service_count (service, "audit.db",
                                         "SELECT count(*) FROM event");
    cr_expect_eq (stored, S_EVENTS, "%lld of %d stored", (long long) stored, S_EVENTS);
    zmq_close (pub);
    zmq_ctx_term (context);
    test_service_destroy (&service);
}
