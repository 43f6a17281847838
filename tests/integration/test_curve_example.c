/*  =========================================================================
    test_curve_example - issue 11's acceptance, end to end: pyzmq clients
    written from the contract alone (examples/producer.py, examples/
    query.py) with certificates from auditctl keygen publish, get their
    acks and list the events back over CURVE; the same clients with a key
    the service does not know get nothing stored and no answer.
    The workers run with AUDIT_QUERY_KEYS_DIR too, so that the query
    socket refuses unknown keys as ingest does.
    ========================================================================= */

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "test_service.h"
#include "test_support.h"

#define S_ORG "org-accept"

static test_service_t *s;
static char s_keys [600];               //  certificates made by auditctl keygen

//  auditctl keygen --output s_keys/name [--producer name]; 0 when it worked
static int
s_keygen (const char *name, bool producer)
{
    char output [800];
    snprintf (output, sizeof output, "%s/%s.cert", s_keys, name);
    const char *args [] = { "keygen", "--output", output, producer ? "--producer" : NULL,
                            name, NULL };
    pid_t pid = test_worker_start ("auditctl", args, NULL, NULL);
    cr_assert_gt (pid, 0);
    return test_worker_stop (pid, 0, 10000);
}

//  Copy the public half of s_keys/name.cert into the directory dir
static void
s_allow (const char *name, const char *dir)
{
    char command [2000];
    snprintf (command, sizeof command, "mkdir -p '%s/%s' && cp '%s/%s.cert' '%s/%s/'",
              s_keys, dir, s_keys, name, s_keys, dir);
    cr_assert_eq (system (command), 0);
}

static pid_t
s_start (const char *program, const char *flag, const char *endpoint)
{
    char log [600], secret [800], producers [800], clients [800];
    snprintf (log, sizeof log, "%s.%s.log", s->dir, program);
    snprintf (secret, sizeof secret, "AUDIT_CURVE_SECRET_FILE=%s/server.cert", s_keys);
    snprintf (producers, sizeof producers, "AUDIT_PRODUCER_KEYS_DIR=%s/producers", s_keys);
    snprintf (clients, sizeof clients, "AUDIT_QUERY_KEYS_DIR=%s/clients", s_keys);
    bool ingest = streq (program, "audit-ingest");
    const char *args [] = { flag, endpoint, "--data-dir", s->dir,
                            ingest ? "--ack-endpoint" : NULL, s->ack_endpoint, NULL };
    const char *env [] = { "AUDIT_JWT_SECRET=" TEST_SECRET, secret, producers, clients, NULL };
    pid_t pid = test_worker_start (program, args, env, log);
    cr_assert_gt (pid, 0);
    return pid;
}

static void
s_setup (void)
{
    s = calloc (1, sizeof *s);
    s->dir = test_tmpdir_new ("curve-example");
    snprintf (s->ingest_endpoint, 64, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (s->ack_endpoint, 64, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (s->query_endpoint, 64, "tcp://127.0.0.1:%d", test_free_port ());
    snprintf (s_keys, sizeof s_keys, "%s.keys", s->dir);
    cr_assert_eq (zsys_dir_create ("%s", s_keys), 0);
    cr_assert_eq (s_keygen ("server", false), 0);
    cr_assert_eq (s_keygen ("billing-1", true), 0);
    cr_assert_eq (s_keygen ("stranger", true), 0, "a key the service is never told of");
    s_allow ("billing-1", "producers");
    s_allow ("billing-1", "clients");
    s->ingest_pid = s_start ("audit-ingest", "--ingest-endpoint", s->ingest_endpoint);
    s->query_pid = s_start ("audit-query", "--query-endpoint", s->query_endpoint);
}

static void
s_teardown (void)
{
    char command [700];
    snprintf (command, sizeof command, "rm -rf '%s'", s_keys);
    cr_expect_eq (system (command), 0);
    test_service_destroy (&s);
}

TestSuite (curve_example, .init = s_setup, .fini = s_teardown, .timeout = 120);

//  Run an example with the certificate of name; its exit status, its last
//  line in last
static int
s_example (const char *script, const char *args, const char *name, char *last, size_t size)
{
    char command [4096];
    snprintf (command, sizeof command,
              "/usr/bin/python3 %s/examples/%s %s --server-key %s/server.cert"
              " --cert %s/%s.cert 2>&1", AUDIT_SOURCE_DIR, script, args, s_keys, s_keys, name);
    FILE *out = popen (command, "r");
    cr_assert_not_null (out);
    char line [512];
    *last = 0;
    while (fgets (line, sizeof line, out))
        snprintf (last, size, "%s", line);
    int status = pclose (out);
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static int
s_publish (const char *name, int count, int timeout_s, char *last, size_t size)
{
    char args [512];
    snprintf (args, sizeof args, "--endpoint %s --ack-endpoint %s --producer %s --org " S_ORG
              " --count %d --timeout %d", s->ingest_endpoint, s->ack_endpoint, name, count,
              timeout_s);
    return s_example ("producer.py", args, name, last, size);
}

static int
s_list (const char *name, int timeout_s, char *last, size_t size)
{
    char *token = test_token (TEST_SECRET, "org_admin", S_ORG, NULL, 600);
    char args [2048];
    snprintf (args, sizeof args, "--endpoint %s --org " S_ORG " --token %s --all --limit 7"
              " --timeout %d", s->query_endpoint, token, timeout_s);
    free (token);
    return s_example ("query.py", args, name, last, size);
}

Test (curve_example, a_keygen_certificate_publishes_is_acknowledged_and_lists)
{
    char last [512];
    cr_assert_eq (s_publish ("billing-1", 20, 60, last, sizeof last), 0, "%s", last);
    cr_expect_str_eq (last, "acked=20 stored=20 rejected=0\n");
    //  Acknowledged means committed: list finds every one, over pages of 7
    cr_assert_eq (s_list ("billing-1", 10, last, sizeof last), 0, "%s", last);
    cr_expect_str_eq (last, "events=20\n");
    cr_expect_eq (test_service_count (s, "audit.db",
                  "SELECT acked_seq FROM producer WHERE name = 'billing-1'"), 20);
}

Test (curve_example, an_unknown_key_gets_nothing_stored_and_no_answer)
{
    char last [512];
    //  Known first, so that a refusal below is the key's, not a slow start
    cr_assert_eq (s_publish ("billing-1", 1, 60, last, sizeof last), 0, "%s", last);
    int64_t stored = test_service_count (s, "audit.db", "SELECT count(*) FROM event");
    cr_assert_eq (stored, 1);
    cr_expect_eq (s_publish ("stranger", 5, 3, last, sizeof last), 1, "%s", last);
    cr_expect_str_eq (last, "acked=0 stored=0 rejected=0\n");
    cr_expect_eq (s_list ("stranger", 2, last, sizeof last), 2, "no answer: %s", last);
    cr_expect_geq (test_service_counter (s, "ingest.curve_refused", 1), 1);
    //  The known client still lists, and the stranger's events never landed
    cr_assert_eq (s_list ("billing-1", 10, last, sizeof last), 0, "%s", last);
    cr_expect_str_eq (last, "events=1\n");
    cr_expect_eq (test_service_count (s, "audit.db", "SELECT count(*) FROM event"), stored);
}
