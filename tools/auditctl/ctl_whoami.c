/*  =========================================================================
    ctl_whoami - auditctl whoami
    ========================================================================= */

#include "ctl_whoami.h"

#include <sodium.h>
#include <string.h>

#include "audit_time.h"
#include "ctl_client.h"
#include "ctl_json.h"

//  Larger than any token the service takes (AUDIT_TOKEN_TEXT_MAX)
#define s_CLAIMS_MAX 8192

//  The token's middle segment, base64url-decoded, into claims (NUL-ended)
static int
s_claims_text (const char *token, char *claims, size_t size)
{
    const char *first = strchr (token, '.');
    const char *second = first? strchr (first + 1, '.'): NULL;
    size_t len = 0;
    if (!second || second == first + 1
    ||  sodium_base642bin ((unsigned char *) claims, size - 1, first + 1,
                           (size_t) (second - first - 1), NULL, &len, NULL,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    claims [len] = 0;
    return 0;
}

static void
s_line (FILE *out, const ctl_json_object_t *claims, const char *label, const char *key)
{
    const ctl_json_pair_t *pair = ctl_json_find (claims, key);
    fprintf (out, "%-9s %s\n", label, pair && pair->kind == CTL_JSON_STR? pair->text: "-");
}

static void
s_expiry (FILE *out, const ctl_json_object_t *claims, int64_t now_ms)
{
    const ctl_json_pair_t *exp = ctl_json_find (claims, "exp");
    if (!exp || exp->kind != CTL_JSON_INT) {
        fprintf (out, "%-9s -\n", "expires");
        return;
    }
    char when [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (exp->integer * 1000, when);
    int64_t left_s = exp->integer - now_ms / 1000;
    if (left_s < 0)
        fprintf (out, "%-9s %s (expired %lld s ago)\n", "expires", when, (long long) -left_s);
    else
        fprintf (out, "%-9s %s (in %lld s)\n", "expires", when, (long long) left_s);
}

int
ctl_whoami_print (const char *token, bool json, int64_t now_ms, FILE *out)
{
    static char text [s_CLAIMS_MAX];
    ctl_json_object_t claims = { .count = 0 };
    char error [128];
    if (!token || s_claims_text (token, text, sizeof text) != 0
    ||  ctl_json_parse (text, strlen (text), &claims, error, sizeof error) != 0) {
        fprintf (stderr, "auditctl: the token is not a JWT with flat claims\n");
        ctl_json_clear (&claims);
        return CTL_EXIT_USAGE;
    }
    if (json)
        fprintf (out, "%s\n", text);
    else {
        s_line (out, &claims, "subject", "sub");
        s_line (out, &claims, "role", "role");
        s_line (out, &claims, "org", "org");
        s_line (out, &claims, "device", "device");
        s_line (out, &claims, "audience", "aud");
        s_expiry (out, &claims, now_ms);
        fprintf (out, "(read from the token, not verified: the service checks its signature)\n");
    }
    ctl_json_clear (&claims);
    return CTL_EXIT_OK;
}

int
ctl_whoami_run (const ctl_args_t *args)
{
    return ctl_whoami_print (args->token, args->json, audit_time_now_ms (), stdout);
}
