/*  =========================================================================
    test_example - examples/producer.py, the Python producer written from
    the contract alone, against the real workers: every event it publishes
    is acknowledged, its rejections come back with reason and field, and
    the rows are in audit.db
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "test_keys.h"
#include "test_service.h"

static test_service_t *s;

static void s_setup (void) { s = test_service_start ("example", false); }
static void s_teardown (void) { test_service_destroy (&s); }

TestSuite (example, .init = s_setup, .fini = s_teardown, .timeout = 120);

Test (example, the_python_producer_is_acknowledged_for_every_event)
{
    //  Debian's python3-zmq and python3-msgpack: /usr/bin/python3, not
    //  whatever python3 comes first on PATH
    //  CURVE mode: the service's key and example-ci's certificate
    char curve [1700] = "";
    const char *cert = test_service_client_cert (s, "example-ci");
    if (cert)
        snprintf (curve, sizeof curve, " --server-key %s --cert %s", test_keys_server (), cert);
    char command [3000];
    snprintf (command, sizeof command,
              "/usr/bin/python3 %s/examples/producer.py --endpoint %s --ack-endpoint %s"
              " --producer example-ci --count 50 --bad-every 10 --timeout 60%s 2>&1",
              AUDIT_SOURCE_DIR, s->ingest_endpoint, s->ack_endpoint, curve);
    FILE *out = popen (command, "r");
    cr_assert_not_null (out);
    char line [512], last [512] = "";
    int rejections = 0;
    while (fgets (line, sizeof line, out)) {
        if (strncmp (line, "rejected seq=", 13) == 0) {
            rejections++;
            cr_expect (strstr (line, " reason=missing_field field=actor_id\n"), "%s", line);
        }
        snprintf (last, sizeof last, "%s", line);
    }
    cr_assert_eq (pclose (out), 0, "the example exits 0 when all is acknowledged: %s", last);
    cr_expect_str_eq (last, "acked=50 stored=45 rejected=5\n");
    cr_expect_eq (rejections, 5);
    cr_expect_eq (test_service_count (s, "audit.db", "SELECT count(*) FROM event"), 45);
    cr_expect_eq (test_service_count (s, "audit.db",
                  "SELECT acked_seq FROM producer WHERE name = 'example-ci'"), 50);
}
