/*  =========================================================================
    ctl_token - auditctl token: mint a development token from the local
    secret
    ========================================================================= */

#include "ctl_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_config.h"
#include "audit_time.h"
#include "audit_token.h"
#include "ctl_client.h"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_JWT_SECRET_FILE, AUDIT_SET_JWT_SECRET, AUDIT_SET_JWT_AUDIENCE
};

//  The secret as the query worker finds it: the file first, then the text
static int
s_load_secret (const audit_config_t *config, const char *secret_file,
               uint8_t **secret, size_t *len)
{
    const char *file = secret_file ? secret_file : audit_config_str (config, AUDIT_SET_JWT_SECRET_FILE);
    const char *text = audit_config_str (config, AUDIT_SET_JWT_SECRET);
    char reason [AUDIT_TOKEN_REASON_MAX];
    if (*file) {
        if (audit_token_secret_from_file (file, secret, len, reason) == 0)
            return 0;
        fprintf (stderr, "auditctl: cannot use the secret file %s: %s\n", file, reason);
        return -1;
    }
    if (*text) {
        if (audit_token_secret_from_text (text, secret, len, reason) == 0)
            return 0;
        fprintf (stderr, "auditctl: cannot use AUDIT_JWT_SECRET: %s\n", reason);
        return -1;
    }
    fprintf (stderr, "auditctl: no secret: --secret-file F, AUDIT_JWT_SECRET_FILE or AUDIT_JWT_SECRET\n");
    return -1;
}

static int
s_role (const char *name, audit_role_t *role)
{
    for (int index = AUDIT_ROLE_ORG_ADMIN; index < AUDIT_ROLE_OTHER; index++)
        if (strcmp (name, audit_token_role_name ((audit_role_t) index)) == 0)
            return *role = (audit_role_t) index, 0;
    return -1;
}

//  The claims of role: org for org_admin and device, device for device
static int
s_claims (audit_claims_t *claims, const char *role, const char *org,
          const char *device, const char *sub)
{
    memset (claims, 0, sizeof *claims);
    if (s_role (role, &claims->role))
        return fprintf (stderr, "auditctl: unknown role %s\n", role), -1;
    if (claims->role != AUDIT_ROLE_PLATFORM_OPS && !org)
        return fprintf (stderr, "auditctl: %s %s token needs --org\n",
                        strchr ("aeiou", role [0]) ? "an" : "a", role), -1;
    if (claims->role == AUDIT_ROLE_DEVICE && !device)
        return fprintf (stderr, "auditctl: a device token needs --device\n"), -1;
    if (sub)
        snprintf (claims->sub, sizeof claims->sub, "%s", sub);
    else
        snprintf (claims->sub, sizeof claims->sub, "auditctl-%s", role);
    snprintf (claims->org, sizeof claims->org, "%s", org ? org : "");
    snprintf (claims->device, sizeof claims->device, "%s", device ? device : "");
    return 0;
}

int
ctl_token_mint (const char *secret_file, const char *role, const char *org,
                const char *device, const char *sub, int64_t ttl_s, char **token_out)
{
    static audit_config_t config;
    char *argv [] = { (char *) "auditctl", NULL };
    audit_claims_t claims;
    *token_out = NULL;
    if (audit_config_load (&config, 1, argv, "auditctl", "", s_settings,
                           sizeof s_settings / sizeof s_settings [0]) != AUDIT_CONFIG_OK
    ||  s_claims (&claims, role, org, device, sub))
        return -1;
    uint8_t *secret = NULL;
    size_t secret_len = 0;
    if (s_load_secret (&config, secret_file, &secret, &secret_len))
        return -1;
    int rc = audit_token_mint (secret, secret_len, &claims,
                               audit_config_str (&config, AUDIT_SET_JWT_AUDIENCE), ttl_s,
                               audit_time_now_ms () / 1000, token_out);
    audit_token_secret_free (&secret, secret_len);
    if (rc)
        fprintf (stderr, "auditctl: cannot mint the token\n");
    return rc;
}

int
ctl_token_run (const ctl_args_t *args)
{
    char *token;
    int64_t ttl_s = args->given [CTL_OPT_TTL] ? (int64_t) args->number [CTL_OPT_TTL]
                                              : CTL_TOKEN_TTL_DEFAULT_S;
    if (ctl_token_mint (args->text [CTL_OPT_SECRET_FILE], args->text [CTL_OPT_ROLE],
                        ctl_request_str (args->request, "org_id"),
                        ctl_request_str (args->request, "device_id"),
                        args->text [CTL_OPT_SUB], ttl_s, &token))
        return CTL_EXIT_USAGE;
    printf ("%s\n", token);
    free (token);
    return CTL_EXIT_OK;
}
