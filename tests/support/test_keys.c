/*  =========================================================================
    test_keys - the CURVE mode of the integration tests
    ========================================================================= */

#include "test_keys.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *s_root;                    //  this process's keys, or NULL
static char s_server [600];             //  s_root/server.cert
static char s_producers [600];          //  s_root/producers
static char s_server_public [41];       //  its public key, Z85

bool
test_keys_on (void)
{
    const char *value = getenv ("AUDIT_TEST_CURVE");
    return value && streq (value, "1");
}

//  The keys go with the process: tests run one per process
static void
s_remove (void)
{
    test_tmpdir_destroy (&s_root);
}

//  The root, the service's certificate and the producers' directory
static void
s_ensure_root (void)
{
    if (s_root)
        return;
    s_root = test_tmpdir_new ("keys");
    atexit (s_remove);
    snprintf (s_server, sizeof s_server, "%s/server.cert", s_root);
    snprintf (s_producers, sizeof s_producers, "%s/producers", s_root);
    cr_assert_eq (zsys_dir_create ("%s", s_producers), 0);
    zcert_t *server = zcert_new ();
    cr_assert_not_null (server);
    cr_assert_eq (zcert_save (server, s_server), 0);
    snprintf (s_server_public, sizeof s_server_public, "%s", zcert_public_txt (server));
    zcert_destroy (&server);
    //  The default producer is in before any worker reads the directory
    test_keys_client (NULL, NULL);
}

const char *
test_keys_server (void)
{
    s_ensure_root ();
    return s_server;
}

const char *
test_keys_server_key (void)
{
    return test_keys_on () ? test_keys_server () : NULL;
}

const char *
test_keys_producers (void)
{
    s_ensure_root ();
    return s_producers;
}

const char *
test_keys_client (const char *producer_id, bool *made)
{
    s_ensure_root ();
    static char path [700];
    const char *id = producer_id ? producer_id : TEST_KEYS_PRODUCER;
    cr_assert (!strchr (id, '/') && *id != '.', "a producer_id usable as a file name: %s", id);
    snprintf (path, sizeof path, "%s/%s.cert", s_root, id);
    struct stat info;
    bool fresh = stat (path, &info) != 0;
    if (fresh) {
        zcert_t *cert = zcert_new ();
        zcert_set_meta (cert, "producer_id", "%s", id);
        cr_assert_eq (zcert_save (cert, path), 0);
        //  A hidden name first, then the name a reload takes: a worker
        //  reading the directory meanwhile never sees half a file
        char hidden [800], public [800];
        snprintf (hidden, sizeof hidden, "%s/.%s.cert", s_producers, id);
        snprintf (public, sizeof public, "%s/%s.cert", s_producers, id);
        cr_assert_eq (zcert_save_public (cert, hidden), 0);
        cr_assert_eq (rename (hidden, public), 0);
        zcert_destroy (&cert);
    }
    if (made)
        *made = fresh;
    return path;
}

void
test_keys_apply (zsock_t *socket, const char *producer_id)
{
    if (!test_keys_on ())
        return;
    zcert_t *cert = zcert_load (test_keys_client (producer_id, NULL));
    cr_assert_not_null (cert);
    zcert_apply (cert, socket);
    zsock_set_curve_serverkey (socket, s_server_public);
    zcert_destroy (&cert);
}

int
test_keys_env (const char *program, const char **env)
{
    if (!test_keys_on ())
        return 0;
    static char first [800], second [800];
    const char *base = strrchr (program, '/') ? strrchr (program, '/') + 1 : program;
    if (strncmp (base, "audit-", 6) == 0) {
        snprintf (first, sizeof first, "AUDIT_CURVE_SECRET_FILE=%s", test_keys_server ());
        snprintf (second, sizeof second, "AUDIT_PRODUCER_KEYS_DIR=%s", test_keys_producers ());
    }
    else {
        snprintf (first, sizeof first, "AUDIT_CURVE_SERVER_KEY=%s", test_keys_server ());
        snprintf (second, sizeof second, "AUDIT_CURVE_CLIENT_CERT=%s", test_keys_client (NULL, NULL));
    }
    env [0] = first;
    env [1] = second;
    return 2;
}
