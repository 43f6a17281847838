/*  =========================================================================
    bench_keys - CURVE for the benchmarks
    ========================================================================= */

#include "bench_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "audit_curve.h"

int
bench_keys_make (const char *dir, const char *producer)
{
    char server [600], client [600], public [700];
    snprintf (server, sizeof server, "%s/server.cert", dir);
    snprintf (client, sizeof client, "%s/client.cert", dir);
    snprintf (public, sizeof public, "%s/producers/client.cert", dir);
    struct stat info;
    if (stat (public, &info) == 0)
        return 0;
    if (zsys_dir_create ("%s/producers", dir) != 0)
        return -1;
    zcert_t *cert = zcert_new ();
    int rc = cert && zcert_save (cert, server) == 0 ? 0 : -1;
    zcert_destroy (&cert);
    cert = zcert_new ();
    if (cert)
        zcert_set_meta (cert, AUDIT_CURVE_META_PRODUCER, "%s", producer);
    if (rc || !cert || zcert_save (cert, client) || zcert_save_public (cert, public))
        rc = -1;
    zcert_destroy (&cert);
    return rc;
}

void
bench_keys_use (const char *dir, bool on)
{
    const char *names [] = { "AUDIT_CURVE_SECRET_FILE", "AUDIT_PRODUCER_KEYS_DIR",
                             "AUDIT_CURVE_SERVER_KEY", "AUDIT_CURVE_CLIENT_CERT" };
    const char *files [] = { "server.cert", "producers", "server.cert", "client.cert" };
    for (int index = 0; index < 4; index++) {
        char path [700];
        snprintf (path, sizeof path, "%s/%s", dir, files [index]);
        if (on)
            setenv (names [index], path, 1);
        else
            unsetenv (names [index]);
    }
}

int
bench_keys_apply (zsock_t *socket)
{
    const char *server_key = getenv ("AUDIT_CURVE_SERVER_KEY");
    if (!server_key || !*server_key)
        return 0;
    char reason [256];
    audit_curve_t *curve = audit_curve_client_new (server_key, getenv ("AUDIT_CURVE_CLIENT_CERT"),
                                                   reason, sizeof reason);
    if (!curve) {
        fprintf (stderr, "bench: CURVE: %s\n", reason);
        return -1;
    }
    audit_curve_apply (curve, socket, NULL);
    audit_curve_destroy (&curve);
    return 0;
}
