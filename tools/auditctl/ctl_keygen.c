/*  =========================================================================
    ctl_keygen - auditctl keygen: a CURVE certificate in zcert format
    ========================================================================= */

#include "ctl_keygen.h"
#include "ctl_client.h"

#include <czmq.h>
#include <sys/stat.h>

#include "audit_certs.h"
#include "audit_ident.h"

//  "a,b" when every member is an identifier
static int
s_check_orgs (const char *orgs)
{
    char *copy = strdup (orgs);
    int rc = copy && *copy ? 0 : -1;
    for (char *save = NULL, *org = copy ? strtok_r (copy, ",", &save) : NULL; org;
         org = strtok_r (NULL, ",", &save))
        if (!audit_ident_is_valid (org, strlen (org)))
            rc = -1;
    free (copy);
    return rc;
}

//  Neither the public nor the secret file may be there already
static int
s_check_free (const char *path, const char *secret)
{
    struct stat info;
    const char *taken = stat (path, &info) == 0 ? path : stat (secret, &info) == 0 ? secret : NULL;
    if (taken)
        fprintf (stderr, "auditctl: %s exists; keygen never replaces a key\n", taken);
    return taken ? -1 : 0;
}

int
ctl_keygen_write (const char *path, const char *producer_id, const char *orgs, char *key_out)
{
    char secret [4096];
    if (snprintf (secret, sizeof secret, "%s_secret", path) >= (int) sizeof secret
    ||  s_check_free (path, secret) != 0)
        return -1;
    zcert_t *cert = zcert_new ();
    if (!cert)
        return -1;
    if (producer_id)
        zcert_set_meta (cert, "producer_id", "%s", producer_id);
    if (orgs)
        zcert_set_meta (cert, "orgs", "%s", orgs);
    //  The secret file is made 0600 from the start, never readable in between
    mode_t mask = umask (077);
    int rc = zcert_save (cert, path);
    umask (mask);
    if (rc == 0)
        rc = chmod (secret, 0600) == 0 && chmod (path, 0644) == 0 ? 0 : -1;
    if (rc == 0)
        snprintf (key_out, AUDIT_CURVE_KEY_TEXT_SIZE, "%s", zcert_public_txt (cert));
    else
        fprintf (stderr, "auditctl: cannot write %s and %s\n", path, secret);
    zcert_destroy (&cert);
    return rc;
}

int
ctl_keygen_run (const ctl_args_t *args)
{
    const char *producer = args->given [CTL_OPT_PRODUCER] ? args->text [CTL_OPT_PRODUCER] : NULL;
    const char *orgs = args->given [CTL_OPT_ORGS] ? args->text [CTL_OPT_ORGS] : NULL;
    if (orgs && (!producer || s_check_orgs (orgs) != 0)) {
        fprintf (stderr, "auditctl: --orgs needs --producer and a comma-separated list of org_ids\n");
        return CTL_EXIT_USAGE;
    }
    char key [AUDIT_CURVE_KEY_TEXT_SIZE];
    if (ctl_keygen_write (args->text [CTL_OPT_OUTPUT], producer, orgs, key) != 0)
        return CTL_EXIT_USAGE;
    if (args->json)
        printf ("{\"public_key\":\"%s\"}\n", key);     //  Z85 has no quote nor backslash
    else
        printf ("%s\n", key);
    return CTL_EXIT_OK;
}
