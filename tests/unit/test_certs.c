/*  audit_certs: a key directory becomes a table by public key; a file that
    is not a producer certificate is counted as bad and skipped, never a
    crash; a reload says what was added and removed; orgs limits. Also
    audit_socket's loopback rule for plaintext binds. */

#include <criterion/criterion.h>
#include <czmq.h>
#include <stdio.h>

#include "audit_certs.h"
#include "audit_socket.h"
#include "test_support.h"

static char *s_dir;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("certs");
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

TestSuite (certs, .init = s_setup, .fini = s_teardown, .timeout = 30);

//  A producer certificate in the directory; its key in key when given
static void
s_cert (const char *file, const char *producer, const char *orgs, char *key)
{
    zcert_t *cert = zcert_new ();
    if (producer)
        zcert_set_meta (cert, "producer_id", "%s", producer);
    if (orgs)
        zcert_set_meta (cert, "orgs", "%s", orgs);
    char path [600];
    snprintf (path, sizeof path, "%s/%s", s_dir, file);
    cr_assert_eq (zcert_save (cert, path), 0);
    if (key)
        strcpy (key, zcert_public_txt (cert));
    zcert_destroy (&cert);
}

static void
s_file (const char *file, const void *data, size_t size)
{
    char path [600];
    snprintf (path, sizeof path, "%s/%s", s_dir, file);
    FILE *handle = fopen (path, "wb");
    cr_assert_not_null (handle);
    fwrite (data, 1, size, handle);
    fclose (handle);
}

Test (certs, good_ones_load_bad_ones_are_counted_and_skipped)
{
    char a [41], b [41];
    s_cert ("a.cert", "prod-a", NULL, a);
    s_cert ("b.cert", "prod-b", "org-1,org-2", b);
    s_cert ("nameless.cert", NULL, NULL, NULL);
    s_cert ("bad-org.cert", "prod-c", "org-1,,x", NULL);
    s_file ("garbage", "\x00\xff\x01 curve\n    public-key = \"short\"\n", 36);
    char noise [4096];
    for (size_t index = 0; index < sizeof noise; index++)
        noise [index] = (char) (index * 131 + 7);
    s_file ("noise", noise, sizeof noise);
    audit_certs_t *certs = audit_certs_new (true);
    audit_certs_result_t result;
    cr_assert_eq (audit_certs_load (certs, s_dir, &result), 0);
    cr_expect_eq (result.loaded, 2);
    cr_expect_eq (result.bad, 4, "nameless, bad-org, garbage, noise");
    cr_expect_eq (result.added, 2);
    const audit_certs_entry_t *entry = audit_certs_lookup (certs, a);
    cr_assert_not_null (entry);
    cr_expect_str_eq (entry->producer_id, "prod-a");
    cr_expect (audit_certs_allows_org (entry, "any-org"));
    entry = audit_certs_lookup (certs, b);
    cr_assert_not_null (entry);
    cr_expect (audit_certs_allows_org (entry, "org-2"));
    cr_expect_not (audit_certs_allows_org (entry, "org-3"));
    cr_expect_not (audit_certs_allows_org (entry, "org"));
    cr_expect_not (audit_certs_allows_org (entry, "org-1,org-2"));
    cr_expect_null (audit_certs_lookup (certs, "not a key"));
    cr_expect_null (audit_certs_lookup (certs, NULL));
    audit_certs_destroy (&certs);
    audit_certs_destroy (&certs);
}

Test (certs, a_reload_tells_what_changed_a_missing_directory_changes_nothing)
{
    char a [41], b [41];
    s_cert ("a.cert", "prod-a", NULL, a);
    audit_certs_t *certs = audit_certs_new (true);
    audit_certs_result_t result;
    cr_assert_eq (audit_certs_load (certs, s_dir, &result), 0);
    char path [600];
    snprintf (path, sizeof path, "%s/a.cert", s_dir);
    cr_assert_eq (unlink (path), 0);
    s_cert ("b.cert", "prod-b", NULL, b);
    cr_assert_eq (audit_certs_load (certs, s_dir, &result), 0);
    cr_expect_eq (result.added, 1);
    cr_expect_eq (result.removed, 1);
    cr_expect_null (audit_certs_lookup (certs, a));
    cr_expect_not_null (audit_certs_lookup (certs, b));
    snprintf (path, sizeof path, "%s/none", s_dir);
    cr_expect_eq (audit_certs_load (certs, path, &result), -1);
    cr_expect_not_null (audit_certs_lookup (certs, b), "the table stays as it was");
    audit_certs_destroy (&certs);
}

Test (certs, query_keys_need_no_producer)
{
    s_cert ("c.cert", NULL, NULL, NULL);
    audit_certs_t *certs = audit_certs_new (false);
    audit_certs_result_t result;
    cr_assert_eq (audit_certs_load (certs, s_dir, &result), 0);
    cr_expect_eq (result.loaded, 1);
    cr_expect_eq (result.bad, 0, "the _secret file beside it is skipped, not bad");
    audit_certs_destroy (&certs);
}

Test (certs, plaintext_binds_stay_on_this_host)
{
    const char *local [] = { "tcp://127.0.0.1:5570", "tcp://127.1.2.3:1", "tcp://[::1]:5570",
                             "tcp://localhost:5570", "ipc:///tmp/x", "inproc://x" };
    for (size_t index = 0; index < sizeof local / sizeof *local; index++)
        cr_expect (audit_socket_is_local (local [index]), "%s", local [index]);
    const char *remote [] = { "tcp://*:5570", "tcp://0.0.0.0:5570", "tcp://10.0.0.1:5570",
                              "tcp://127.0.0.1.evil:5570", "tcp://eth0:5570", "ws://127.0.0.1:1" };
    for (size_t index = 0; index < sizeof remote / sizeof *remote; index++)
        cr_expect_not (audit_socket_is_local (remote [index]), "%s", remote [index]);
    audit_socket_options_t options = { .type = ZMQ_PUB, .endpoint = "tcp://0.0.0.0:*", .bind = true };
    char reason [256];
    cr_expect_null (audit_socket_new (&options, reason, sizeof reason));
    cr_expect (strstr (reason, "AUDIT_ALLOW_PLAINTEXT"), "%s", reason);
    options.allow_plaintext = true;
    zsock_t *socket = audit_socket_new (&options, reason, sizeof reason);
    cr_expect_not_null (socket);
    zsock_destroy (&socket);
}
