/*  Tokens: the three roles verify, and every way a token can be wrong is
    unauthenticated. Tokens are built with libjwt directly (any alg, any
    claims) or by hand where libjwt would refuse to build them. */

#include <criterion/criterion.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_token.h"

#define NOW     1800000000LL
#define SECRET  "test-secret-0123456789abcdef-0123456789"
#define AUD     "semafore-audit"

static audit_token_t *s_verifier;

static int64_t
s_fixed_clock (void *arg)
{
    return *(int64_t *) arg;
}

static int64_t s_now = NOW;

static void
s_setup (void)
{
    s_now = NOW;
    s_verifier = audit_token_new ((const uint8_t *) SECRET, strlen (SECRET), NULL);
    cr_assert_not_null (s_verifier);
    audit_token_set_clock (s_verifier, s_fixed_clock, &s_now);
}

static void
s_teardown (void)
{
    audit_token_destroy (&s_verifier);
}

TestSuite (token, .init = s_setup, .fini = s_teardown);

//  A token of alg, signed with key, whose claims are the JSON object text
static char *
s_jwt (jwt_alg_t alg, const char *key, const char *claims_json)
{
    jwt_t *jwt = NULL;
    cr_assert_eq (jwt_new (&jwt), 0);
    cr_assert_eq (jwt_add_grants_json (jwt, claims_json), 0, "bad test JSON %s", claims_json);
    cr_assert_eq (jwt_set_alg (jwt, alg, (const unsigned char *) key, (int) strlen (key)), 0);
    char *token = jwt_encode_str (jwt);
    cr_assert_not_null (token);
    jwt_free (jwt);
    return token;
}

static char *
s_hs256 (const char *claims_json)
{
    return s_jwt (JWT_ALG_HS256, SECRET, claims_json);
}

static void
s_base64url (const void *data, size_t len, char *text)
{
    int written = EVP_EncodeBlock ((unsigned char *) text, data, (int) len);
    for (int at = 0; at < written; at++)
        if (text [at] == '+')
            text [at] = '-';
        else
        if (text [at] == '/')
            text [at] = '_';
    while (written > 0 && text [written - 1] == '=')
        written--;
    text [written] = '\0';
}

//  header.payload.signature by hand; signature = HMAC-SHA256 over the
//  first two parts with SECRET when sign, else the given text
static void
s_by_hand (const char *header, const char *claims, bool sign,
           const char *signature, char *token)
{
    char part [2048];
    s_base64url (header, strlen (header), part);
    strcpy (token, part);
    strcat (token, ".");
    s_base64url (claims, strlen (claims), part);
    strcat (token, part);
    if (sign) {
        unsigned char mac [32];
        unsigned int mac_len = 0;
        HMAC (EVP_sha256 (), SECRET, strlen (SECRET), (unsigned char *) token,
              strlen (token), mac, &mac_len);
        s_base64url (mac, mac_len, part);
        signature = part;
    }
    strcat (token, ".");
    strcat (token, signature);
}

static audit_token_result_t
s_verify (const char *token, audit_claims_t *claims, const char **reason)
{
    return audit_token_verify (s_verifier, token, claims, reason);
}

static void
s_expect_unauthenticated (const char *token, const char *why)
{
    audit_claims_t claims;
    const char *reason = NULL;
    cr_expect_eq (s_verify (token, &claims, &reason), AUDIT_TOKEN_UNAUTHENTICATED,
                  "accepted: %s", why);
    cr_expect_not_null (reason);
}

//  Refused for exactly this reason: shows which defence caught it
static void
s_expect_reason (const char *token, const char *expected)
{
    audit_claims_t claims;
    const char *reason = NULL;
    cr_expect_eq (s_verify (token, &claims, &reason), AUDIT_TOKEN_UNAUTHENTICATED);
    cr_expect_str_eq (reason, expected);
}

static void
s_expect_claims_unauthenticated (const char *claims_json)
{
    char *token = s_hs256 (claims_json);
    s_expect_unauthenticated (token, claims_json);
    free (token);
}

static void
s_expect_claims_ok (const char *claims_json, audit_claims_t *claims)
{
    char *token = s_hs256 (claims_json);
    const char *reason = NULL;
    cr_expect_eq (s_verify (token, claims, &reason), AUDIT_TOKEN_OK,
                  "refused (%s): %s", reason, claims_json);
    free (token);
}

//  Claims JSON with exp NOW + 300 and the standard audience, plus extra
static const char *
s_claims (const char *extra)
{
    static char json [4096];
    snprintf (json, sizeof json,
              "{\"aud\":\"" AUD "\",\"exp\":%lld%s%s}", NOW + 300,
              extra [0]? ",": "", extra);
    return json;
}

Test (token, org_admin_verifies)
{
    audit_claims_t claims;
    s_expect_claims_ok (s_claims ("\"sub\":\"admin-1\",\"role\":\"org_admin\",\"org\":\"acme\""),
                        &claims);
    cr_assert_str_eq (claims.sub, "admin-1");
    cr_assert_eq (claims.role, AUDIT_ROLE_ORG_ADMIN);
    cr_assert_str_eq (claims.org, "acme");
    cr_assert_str_eq (claims.device, "");
    cr_assert_eq (claims.exp, NOW + 300);
}

Test (token, platform_ops_verifies_without_org)
{
    audit_claims_t claims;
    s_expect_claims_ok (s_claims ("\"sub\":\"ops-1\",\"role\":\"platform_ops\""), &claims);
    cr_assert_eq (claims.role, AUDIT_ROLE_PLATFORM_OPS);
    cr_assert_str_eq (claims.org, "");
}

Test (token, device_verifies)
{
    audit_claims_t claims;
    s_expect_claims_ok (s_claims ("\"sub\":\"u7\",\"role\":\"device\",\"org\":\"acme\","
                                  "\"device\":\"dev-9\""), &claims);
    cr_assert_eq (claims.role, AUDIT_ROLE_DEVICE);
    cr_assert_str_eq (claims.org, "acme");
    cr_assert_str_eq (claims.device, "dev-9");
}

Test (token, unknown_role_is_valid_but_other)
{
    audit_claims_t claims;
    s_expect_claims_ok (s_claims ("\"sub\":\"u1\",\"role\":\"auditor\",\"org\":\"acme\""), &claims);
    cr_assert_eq (claims.role, AUDIT_ROLE_OTHER);
}

Test (token, aud_array_containing_the_audience)
{
    audit_claims_t claims;
    char json [512];
    snprintf (json, sizeof json, "{\"aud\":[\"portal\",\"" AUD "\"],\"exp\":%lld,"
              "\"sub\":\"u1\",\"role\":\"platform_ops\"}", NOW + 300);
    s_expect_claims_ok (json, &claims);
}

Test (token, minted_tokens_verify)
{
    audit_claims_t claims = { .sub = "admin-1", .role = AUDIT_ROLE_ORG_ADMIN, .org = "acme" };
    char *token = NULL;
    cr_assert_eq (audit_token_mint ((const uint8_t *) SECRET, strlen (SECRET), &claims,
                                    NULL, 600, NOW, &token), 0);
    audit_claims_t found;
    cr_assert_eq (s_verify (token, &found, NULL), AUDIT_TOKEN_OK);
    cr_assert_str_eq (found.sub, "admin-1");
    cr_assert_str_eq (found.org, "acme");
    cr_assert_eq (found.exp, NOW + 600);
    free (token);

    audit_claims_t device = { .sub = "u", .role = AUDIT_ROLE_DEVICE, .org = "o", .device = "d" };
    cr_assert_eq (audit_token_mint ((const uint8_t *) SECRET, strlen (SECRET), &device,
                                    AUD, 60, NOW, &token), 0);
    cr_assert_eq (s_verify (token, &found, NULL), AUDIT_TOKEN_OK);
    cr_assert_str_eq (found.device, "d");
    free (token);
}

Test (token, mint_refuses_bad_arguments)
{
    audit_claims_t claims = { .sub = "u", .role = AUDIT_ROLE_OTHER };
    char *token = NULL;
    const uint8_t *key = (const uint8_t *) SECRET;
    cr_assert_eq (audit_token_mint (key, strlen (SECRET), &claims, NULL, 60, NOW, &token), -1);
    claims.role = AUDIT_ROLE_PLATFORM_OPS;
    cr_assert_eq (audit_token_mint (key, 0, &claims, NULL, 60, NOW, &token), -1);
    cr_assert_eq (audit_token_mint (key, strlen (SECRET), &claims, NULL, 0, NOW, &token), -1);
    strcpy (claims.sub, "has space");
    cr_assert_eq (audit_token_mint (key, strlen (SECRET), &claims, NULL, 60, NOW, &token), -1);
    cr_assert_null (token);
}

Test (token, missing_and_garbage)
{
    s_expect_unauthenticated (NULL, "NULL");
    s_expect_unauthenticated ("", "empty");
    s_expect_unauthenticated ("garbage", "garbage");
    s_expect_unauthenticated ("not a token at all", "spaces");
    s_expect_unauthenticated ("..", "only dots");
    s_expect_unauthenticated ("a.b.c", "three junk segments");
    s_expect_unauthenticated ("a.b.c.d", "four segments");
    s_expect_unauthenticated ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0", "two parts");
}

Test (token, two_part_of_a_real_token)
{
    char *token = s_hs256 (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    *strrchr (token, '.') = '\0';
    s_expect_unauthenticated (token, "header.payload only");
    free (token);
}

Test (token, bad_base64)
{
    char *token = s_hs256 (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    char copy [4096];
    strcpy (copy, token);
    copy [3] = '+';                 //  standard base64, not base64url
    s_expect_unauthenticated (copy, "plus in header");
    strcpy (copy, token);
    copy [strlen (copy) - 1] = '=';
    s_expect_unauthenticated (copy, "padding");
    //  A payload of 4n+1 characters cannot be base64 at all
    char *payload = strchr (token, '.') + 1;
    snprintf (copy, sizeof copy, "%.*sA%s", (int) (payload - token), token, payload);
    s_expect_unauthenticated (copy, "one char too many");
    free (token);
}

Test (token, bad_signature_and_wrong_secret)
{
    char *token = s_hs256 (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    char *signature = strrchr (token, '.') + 1;
    signature [5] = signature [5] == 'A'? 'B': 'A';
    s_expect_unauthenticated (token, "flipped signature");
    free (token);

    token = s_jwt (JWT_ALG_HS256, "another-secret-0123456789abcdef-01234",
                   s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    s_expect_unauthenticated (token, "wrong secret");
    free (token);

    //  The signature of one token on another's payload
    char *other = s_hs256 (s_claims ("\"sub\":\"v\",\"role\":\"platform_ops\""));
    token = s_hs256 (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    char spliced [4096];
    snprintf (spliced, sizeof spliced, "%.*s%s",
              (int) (strrchr (token, '.') - token), token, strrchr (other, '.'));
    s_expect_unauthenticated (spliced, "spliced signature");
    free (token);
    free (other);
}

Test (token, alg_none_is_refused)
{
    const char *claims = s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\"");
    char token [4096];
    s_by_hand ("{\"alg\":\"none\"}", claims, false, "", token);
    cr_assert (strncmp (token, "eyJhbGciOiJub25lIn0.", 20) == 0);
    s_expect_reason (token, "malformed");      //  no signature: never reaches libjwt
    s_by_hand ("{\"alg\":\"none\",\"typ\":\"JWT\"}", claims, false, "", token);
    s_expect_unauthenticated (token, "alg none, typ JWT");
    s_by_hand ("{\"alg\":\"none\"}", claims, true, NULL, token);
    s_expect_unauthenticated (token, "alg none with an HMAC signature");
    s_by_hand ("{\"alg\":\"None\"}", claims, true, NULL, token);
    s_expect_unauthenticated (token, "alg None");
    s_by_hand ("{\"alg\":\"hs256\"}", claims, true, NULL, token);
    s_expect_reason (token, "bad_alg");        //  libjwt takes it; the header check does not
    s_by_hand ("{\"typ\":\"JWT\"}", claims, true, NULL, token);
    s_expect_unauthenticated (token, "no alg");
}

Test (token, other_hmac_algs_with_the_same_secret)
{
    const char *claims = s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\"");
    char *token = s_jwt (JWT_ALG_HS384, SECRET, claims);
    s_expect_reason (token, "bad_alg");
    free (token);
    token = s_jwt (JWT_ALG_HS512, SECRET, claims);
    s_expect_reason (token, "bad_alg");
    free (token);
}

Test (token, rs256_header_is_refused)
{
    const char *claims = s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\"");
    char token [4096];
    //  The key-confusion attack: an RS256 header, an HMAC made with our secret
    s_by_hand ("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims, true, NULL, token);
    s_expect_unauthenticated (token, "RS256 header, HMAC signature");
    s_by_hand ("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", claims, true, NULL, token);
    s_expect_unauthenticated (token, "ES256 header, HMAC signature");
}

Test (token, header_alg_and_typ_are_checked)
{
    const char *claims = s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\"");
    char token [4096];
    s_by_hand ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, true, NULL, token);
    audit_claims_t found;
    cr_assert_eq (s_verify (token, &found, NULL), AUDIT_TOKEN_OK, "hand-built control");
    s_by_hand ("{\"alg\":\"HS256\",\"typ\":\"XML\"}", claims, true, NULL, token);
    s_expect_unauthenticated (token, "typ XML");
    s_by_hand ("{\"alg\":[\"HS256\"]}", claims, true, NULL, token);
    s_expect_unauthenticated (token, "alg array");
}

//  RFC 7515, 4.1.11: crit lists extensions the recipient must understand;
//  we understand none, so a token that has the member at all is refused
Test (token, a_crit_header_is_refused)
{
    const char *claims = s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\"");
    char token [4096];
    s_by_hand ("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", claims, true, NULL, token);
    audit_claims_t found;
    cr_assert_eq (s_verify (token, &found, NULL), AUDIT_TOKEN_OK, "hand-built control");
    const char *headers [] = {
        "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
        "{\"alg\":\"HS256\",\"b64\":false,\"crit\":[\"b64\"]}",
        "{\"alg\":\"HS256\",\"crit\":[]}",
        "{\"alg\":\"HS256\",\"crit\":\"b64\"}",
        "{\"alg\":\"HS256\",\"crit\":null}",
    };
    for (size_t index = 0; index < sizeof headers / sizeof headers [0]; index++) {
        s_by_hand (headers [index], claims, true, NULL, token);
        s_expect_reason (token, "crit");
    }
}

static void
s_expect_exp (long long exp, audit_token_result_t expected)
{
    char json [512];
    snprintf (json, sizeof json, "{\"aud\":\"" AUD "\",\"exp\":%lld,"
              "\"sub\":\"u\",\"role\":\"platform_ops\"}", exp);
    char *token = s_hs256 (json);
    audit_claims_t claims;
    cr_expect_eq (s_verify (token, &claims, NULL), expected, "exp now%+lld", exp - NOW);
    free (token);
}

Test (token, expiry_with_leeway)
{
    s_expect_exp (NOW + 1, AUDIT_TOKEN_OK);
    s_expect_exp (NOW - 30, AUDIT_TOKEN_OK);        //  within the leeway
    s_expect_exp (NOW - 59, AUDIT_TOKEN_OK);
    s_expect_exp (NOW - 60, AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_exp (NOW - 61, AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_exp (NOW - 86400, AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_exp (0, AUDIT_TOKEN_UNAUTHENTICATED);
}

Test (token, leeway_is_configurable)
{
    cr_assert_eq (audit_token_set_leeway (s_verifier, 0), 0);
    s_expect_exp (NOW - 30, AUDIT_TOKEN_UNAUTHENTICATED);
    cr_assert_eq (audit_token_set_leeway (s_verifier, -1), -1);
    cr_assert_eq (audit_token_set_leeway (s_verifier, 86400), -1);
}

Test (token, the_clock_moves)
{
    char *token = s_hs256 (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    audit_claims_t claims;
    cr_assert_eq (s_verify (token, &claims, NULL), AUDIT_TOKEN_OK);
    s_now = NOW + 300 + 61;
    cr_assert_eq (s_verify (token, &claims, NULL), AUDIT_TOKEN_UNAUTHENTICATED);
    free (token);
}

Test (token, exp_missing_or_not_a_number)
{
    s_expect_claims_unauthenticated ("{\"aud\":\"" AUD "\",\"sub\":\"u\",\"role\":\"platform_ops\"}");
    s_expect_claims_unauthenticated ("{\"aud\":\"" AUD "\",\"exp\":\"2000000000\","
                                     "\"sub\":\"u\",\"role\":\"platform_ops\"}");
    s_expect_claims_unauthenticated ("{\"aud\":\"" AUD "\",\"exp\":null,"
                                     "\"sub\":\"u\",\"role\":\"platform_ops\"}");
    s_expect_claims_unauthenticated ("{\"aud\":\"" AUD "\",\"exp\":true,"
                                     "\"sub\":\"u\",\"role\":\"platform_ops\"}");
}

//  A NumericDate may have a fraction (RFC 7519, section 2), as tokens
//  minted from a floating clock have; it never makes a token good longer
static void
s_expect_times (const char *times, audit_token_result_t expected)
{
    char extra [256];
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"platform_ops\",%s", times);
    char json [512];
    snprintf (json, sizeof json, "{\"aud\":\"" AUD "\",%s}", extra);
    char *token = s_hs256 (json);
    audit_claims_t claims;
    cr_expect_eq (s_verify (token, &claims, NULL), expected, "%s", times);
    free (token);
}

Test (token, fractional_times_are_numeric_dates)
{
    char times [128];
    snprintf (times, sizeof times, "\"exp\":%lld.75", NOW + 100);
    s_expect_times (times, AUDIT_TOKEN_OK);
    snprintf (times, sizeof times, "\"exp\":%lld.5", NOW - 61);
    s_expect_times (times, AUDIT_TOKEN_UNAUTHENTICATED);
    snprintf (times, sizeof times, "\"exp\":%lld.999", NOW - 60);
    s_expect_times (times, AUDIT_TOKEN_UNAUTHENTICATED);       //  cut to the second
    snprintf (times, sizeof times, "\"exp\":%lld,\"nbf\":%lld.5", NOW + 100, NOW + 59);
    s_expect_times (times, AUDIT_TOKEN_OK);
    snprintf (times, sizeof times, "\"exp\":%lld,\"nbf\":%lld.001", NOW + 100, NOW + 60);
    s_expect_times (times, AUDIT_TOKEN_UNAUTHENTICATED);       //  rounded up
    snprintf (times, sizeof times, "\"exp\":%lld,\"iat\":%lld.5", NOW + 100, NOW - 5);
    s_expect_times (times, AUDIT_TOKEN_OK);
    snprintf (times, sizeof times, "\"exp\":%lld.0", NOW + 100);
    s_expect_times (times, AUDIT_TOKEN_OK);
}

//  Claims are read back from jansson, which prints a real without an
//  exponent below 1e17: 1e10 arrives as 10000000000.0, a usable time
Test (token, exponent_times_are_read_as_their_value)
{
    const char *header = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char token [4096];
    audit_claims_t claims;
    s_now = 10000000000LL - 1000;           //  within the longest lifetime of exp
    s_by_hand (header, "{\"aud\":\"" AUD "\",\"exp\":1e10,"
               "\"sub\":\"u\",\"role\":\"platform_ops\"}", true, NULL, token);
    cr_assert_eq (s_verify (token, &claims, NULL), AUDIT_TOKEN_OK);
    cr_assert_eq (claims.exp, 10000000000LL);
    s_by_hand (header, "{\"aud\":\"" AUD "\",\"exp\":1e17,"
               "\"sub\":\"u\",\"role\":\"platform_ops\"}", true, NULL, token);
    s_expect_reason (token, "bad_exp");             //  printed back as 1e17
    s_by_hand (header, "{\"aud\":\"" AUD "\",\"exp\":\"1e10\","
               "\"sub\":\"u\",\"role\":\"platform_ops\"}", true, NULL, token);
    s_expect_reason (token, "bad_exp");
}

Test (token, nbf_and_iat)
{
    char extra [256];
    audit_claims_t claims;
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"platform_ops\",\"nbf\":%lld",
              NOW + 120);
    s_expect_claims_unauthenticated (s_claims (extra));
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"platform_ops\",\"nbf\":%lld",
              NOW + 30);
    s_expect_claims_ok (s_claims (extra), &claims);
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"platform_ops\",\"iat\":%lld",
              NOW + 120);
    s_expect_claims_unauthenticated (s_claims (extra));
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"platform_ops\",\"iat\":%lld",
              NOW - 10);
    s_expect_claims_ok (s_claims (extra), &claims);
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\","
                                               "\"nbf\":\"soon\""));
    //  Extremes must neither overflow (UBSan) nor wrap into acceptance; an
    //  iat of the far past makes a token too long-lived
    s_expect_claims_ok (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\","
                                  "\"nbf\":-9223372036854775808"), &claims);
    char *token = s_hs256 (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\","
                                     "\"iat\":-9223372036854775808"));
    s_expect_reason (token, "too_long_lived");
    free (token);
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\","
                                               "\"nbf\":9223372036854775807"));
    s_expect_exp (9223372036854775807LL, AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_exp (-9223372036854775807LL - 1, AUDIT_TOKEN_UNAUTHENTICATED);
}

//  A token lives at most max age (AUDIT_JWT_MAX_AGE, default 24 h): exp
//  from iat when the token has one, else from now (with the leeway)
static void
s_expect_lifetime (const char *iat, int64_t exp, const char *expected)
{
    char json [512];
    snprintf (json, sizeof json, "{\"aud\":\"" AUD "\",\"sub\":\"u\",\"role\":\"platform_ops\","
              "\"exp\":%lld%s%s}", (long long) exp, iat? ",\"iat\":": "", iat? iat: "");
    char *token = s_hs256 (json);
    audit_claims_t claims;
    const char *reason = NULL;
    audit_token_result_t result = s_verify (token, &claims, &reason);
    cr_expect_str_eq (reason, expected, "%s", json);
    cr_expect_eq (result, strcmp (expected, "ok") == 0? AUDIT_TOKEN_OK: AUDIT_TOKEN_UNAUTHENTICATED);
    free (token);
}

Test (token, a_token_lives_at_most_the_max_age)
{
    const int64_t day = AUDIT_TOKEN_MAX_AGE_DEFAULT_S;
    cr_assert_eq (day, 86400);
    char iat [32];
    snprintf (iat, sizeof iat, "%lld", NOW - 3600);
    s_expect_lifetime (iat, NOW - 3600 + day, "ok");
    s_expect_lifetime (iat, NOW - 3600 + day + 1, "too_long_lived");
    s_expect_lifetime (NULL, NOW + day + AUDIT_TOKEN_LEEWAY_DEFAULT_S, "ok");
    s_expect_lifetime (NULL, NOW + day + AUDIT_TOKEN_LEEWAY_DEFAULT_S + 1, "too_long_lived");
    //  exp 100 years ahead (issue 12): accepted before
    int64_t century = NOW + 100LL * 365 * 86400;
    snprintf (iat, sizeof iat, "%lld", NOW);
    s_expect_lifetime (iat, century, "too_long_lived");
    s_expect_lifetime (NULL, century, "too_long_lived");
}

Test (token, max_age_is_configurable)
{
    cr_assert_eq (audit_token_set_max_age (s_verifier, 600), 0);
    char iat [32];
    snprintf (iat, sizeof iat, "%lld", NOW);
    s_expect_lifetime (iat, NOW + 600, "ok");
    s_expect_lifetime (iat, NOW + 601, "too_long_lived");
    cr_assert_eq (audit_token_set_max_age (s_verifier, 0), -1);
    cr_assert_eq (audit_token_set_max_age (s_verifier, -5), -1);
    cr_assert_eq (audit_token_set_max_age (s_verifier, 11LL * 366 * 86400), -1);
    cr_assert_eq (audit_token_set_max_age (NULL, 600), -1);
}

Test (token, audience)
{
    char json [512];
    snprintf (json, sizeof json, "{\"exp\":%lld,\"sub\":\"u\",\"role\":\"platform_ops\"}",
              NOW + 300);
    s_expect_claims_unauthenticated (json);                 //  missing
    snprintf (json, sizeof json, "{\"aud\":\"portal\",\"exp\":%lld,"
              "\"sub\":\"u\",\"role\":\"platform_ops\"}", NOW + 300);
    s_expect_claims_unauthenticated (json);                 //  another
    snprintf (json, sizeof json, "{\"aud\":\"semafore-audit-x\",\"exp\":%lld,"
              "\"sub\":\"u\",\"role\":\"platform_ops\"}", NOW + 300);
    s_expect_claims_unauthenticated (json);                 //  a prefix match is no match
    snprintf (json, sizeof json, "{\"aud\":[\"portal\",\"semafore\"],\"exp\":%lld,"
              "\"sub\":\"u\",\"role\":\"platform_ops\"}", NOW + 300);
    s_expect_claims_unauthenticated (json);                 //  array without it
    snprintf (json, sizeof json, "{\"aud\":[],\"exp\":%lld,"
              "\"sub\":\"u\",\"role\":\"platform_ops\"}", NOW + 300);
    s_expect_claims_unauthenticated (json);
    snprintf (json, sizeof json, "{\"aud\":[1,{\"a\":\"" AUD "\"}],\"exp\":%lld,"
              "\"sub\":\"u\",\"role\":\"platform_ops\"}", NOW + 300);
    s_expect_claims_unauthenticated (json);
    snprintf (json, sizeof json, "{\"aud\":[\"x\\\"" AUD "\"],\"exp\":%lld,"
              "\"sub\":\"u\",\"role\":\"platform_ops\"}", NOW + 300);
    s_expect_claims_unauthenticated (json);                 //  escape tricks
}

Test (token, custom_audience)
{
    audit_token_t *verifier = audit_token_new ((const uint8_t *) SECRET, strlen (SECRET),
                                               "other-aud");
    cr_assert_not_null (verifier);
    char *token = s_hs256 (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    audit_claims_t claims;
    cr_assert_eq (audit_token_verify (verifier, token, &claims, NULL),
                  AUDIT_TOKEN_UNAUTHENTICATED);
    free (token);
    audit_token_destroy (&verifier);
}

Test (token, required_claims)
{
    s_expect_claims_unauthenticated (s_claims ("\"role\":\"platform_ops\""));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":42,\"role\":\"platform_ops\""));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\""));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":[\"org_admin\"]"));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":\"org_admin\""));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":\"org_admin\",\"org\":7"));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":\"device\","
                                               "\"org\":\"acme\""));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":\"device\","
                                               "\"device\":\"d\""));
    s_expect_claims_unauthenticated (s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\","
                                               "\"org\":\"\""));
}

static void
s_expect_sub (const char *sub, audit_token_result_t expected)
{
    char extra [1024];
    snprintf (extra, sizeof extra, "\"sub\":\"%s\",\"role\":\"platform_ops\"", sub);
    char *token = s_hs256 (s_claims (extra));
    audit_claims_t claims;
    cr_expect_eq (s_verify (token, &claims, NULL), expected, "sub %s", sub);
    free (token);
}

Test (token, claim_size_and_form)
{
    char sub [300];
    memset (sub, 'a', 128);
    sub [128] = '\0';
    s_expect_sub (sub, AUDIT_TOKEN_OK);
    memset (sub, 'a', 129);
    sub [129] = '\0';
    s_expect_sub (sub, AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_sub ("", AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_sub ("has space", AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_sub ("tab\\there", AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_sub ("ctl\\u0001", AUDIT_TOKEN_UNAUTHENTICATED);
    s_expect_sub ("caf\\u00e9", AUDIT_TOKEN_UNAUTHENTICATED);

    char extra [600];
    memset (sub, 'o', 200);
    sub [200] = '\0';
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"org_admin\",\"org\":\"%s\"", sub);
    s_expect_claims_unauthenticated (s_claims (extra));
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"device\",\"org\":\"o\","
              "\"device\":\"%s\"", sub);
    s_expect_claims_unauthenticated (s_claims (extra));
    snprintf (extra, sizeof extra, "\"sub\":\"u\",\"role\":\"%s\"", sub);
    s_expect_claims_unauthenticated (s_claims (extra));
}

Test (token, oversized_token_is_refused_unread)
{
    size_t size = AUDIT_TOKEN_TEXT_MAX + 10;
    char *token = malloc (size + 1);
    memset (token, 'A', size);
    token [10] = '.';
    token [20] = '.';
    token [size] = '\0';
    const char *reason = NULL;
    audit_claims_t claims;
    cr_assert_eq (s_verify (token, &claims, &reason), AUDIT_TOKEN_UNAUTHENTICATED);
    cr_assert_str_eq (reason, "malformed");
    free (token);
}

Test (token, reasons_are_short_words)
{
    char *token = s_jwt (JWT_ALG_HS512, SECRET, s_claims ("\"sub\":\"u\",\"role\":\"platform_ops\""));
    const char *reason = NULL;
    audit_claims_t claims;
    cr_assert_eq (s_verify (token, &claims, &reason), AUDIT_TOKEN_UNAUTHENTICATED);
    cr_assert_str_eq (reason, "bad_alg");
    cr_assert_null (strstr (token, reason));
    free (token);
}

Test (token, verifier_construction)
{
    cr_assert_null (audit_token_new ((const uint8_t *) "", 0, NULL));
    cr_assert_null (audit_token_new (NULL, 5, NULL));
    cr_assert_null (audit_token_new ((const uint8_t *) SECRET, strlen (SECRET), "has space"));
    cr_assert_null (audit_token_new ((const uint8_t *) SECRET, strlen (SECRET), "a\"b"));
    audit_token_t *verifier = audit_token_new ((const uint8_t *) SECRET, strlen (SECRET), NULL);
    cr_assert_not_null (verifier);
    audit_token_destroy (&verifier);
    audit_token_destroy (&verifier);
    cr_assert_null (verifier);
    audit_token_destroy (NULL);
    cr_assert_str_eq (audit_token_role_name (AUDIT_ROLE_DEVICE), "device");
}

static char *
s_write_file (const char *content, size_t len)
{
    char *path = strdup ("/tmp/test_token_XXXXXX");
    int fd = mkstemp (path);
    cr_assert (fd >= 0);
    cr_assert_eq (write (fd, content, len), (ssize_t) len);
    close (fd);
    return path;
}

//  A secret of 32 bytes and more
#define S_GOOD "0123456789abcdef0123456789abcdef"

static void
s_expect_file_secret_mode (const char *content, mode_t mode, const char *expected,
                           const char *why)
{
    char *path = s_write_file (content, strlen (content));
    cr_assert_eq (chmod (path, mode), 0);
    uint8_t *secret = NULL;
    size_t len = 0;
    char reason [AUDIT_TOKEN_REASON_MAX] = "";
    int rc = audit_token_secret_from_file (path, &secret, &len, reason);
    if (expected) {
        cr_expect_eq (rc, 0, "file %s: %s", content, reason);
        cr_expect_eq (len, strlen (expected));
        cr_expect (rc || memcmp (secret, expected, len) == 0);
    }
    else {
        cr_expect_eq (rc, -1, "file %s", content);
        cr_expect (strstr (reason, why), "%s lacks %s", reason, why);
        cr_expect (!strstr (reason, S_GOOD), "the secret never shows");
    }
    audit_token_secret_free (&secret, len);
    audit_token_secret_free (&secret, len);
    unlink (path);
    free (path);
}

static void
s_expect_file_secret (const char *content, const char *expected, const char *why)
{
    s_expect_file_secret_mode (content, 0600, expected, why);
}

Test (token, secret_from_file)
{
    s_expect_file_secret (S_GOOD "\n", S_GOOD, NULL);
    s_expect_file_secret (S_GOOD "\r\n", S_GOOD, NULL);
    s_expect_file_secret (S_GOOD, S_GOOD, NULL);
    s_expect_file_secret (S_GOOD "\n\n", S_GOOD "\n", NULL);  //  one newline only
    s_expect_file_secret ("", NULL, "empty");
    s_expect_file_secret ("\n", NULL, "empty");
    uint8_t *secret = NULL;
    size_t len = 0;
    char reason [AUDIT_TOKEN_REASON_MAX] = "";
    cr_assert_eq (audit_token_secret_from_file ("/nonexistent/secret", &secret, &len, reason), -1);
    cr_expect_str_eq (reason, "No such file or directory");
    cr_assert_eq (audit_token_secret_from_file ("/tmp", &secret, &len, NULL), -1);
    char big [AUDIT_TOKEN_SECRET_MAX + 10];
    memset (big, 'k', sizeof big - 1);
    big [sizeof big - 1] = '\0';
    s_expect_file_secret (big, NULL, "longer than 4096 bytes");
}

//  Issue 12: 1 byte, 8 bytes and one space were accepted
Test (token, a_short_secret_is_refused)
{
    s_expect_file_secret ("k", NULL, "shorter than 32 bytes");
    s_expect_file_secret ("8 bytes!\n", NULL, "shorter than 32 bytes");
    s_expect_file_secret (" ", NULL, "shorter than 32 bytes");
    s_expect_file_secret ("0123456789abcdef0123456789abcde\n", NULL, "shorter than 32 bytes");
    uint8_t *secret = NULL;
    size_t len = 0;
    char reason [AUDIT_TOKEN_REASON_MAX] = "";
    cr_expect_eq (audit_token_secret_from_text ("k", &secret, &len, reason), -1);
    cr_expect (strstr (reason, "shorter than 32 bytes"), "%s", reason);
}

//  Issue 12: a secret file of mode 0644 was accepted
Test (token, a_secret_file_open_to_others_is_refused)
{
    s_expect_file_secret_mode (S_GOOD, 0644, NULL, "open to others (mode 0644)");
    s_expect_file_secret_mode (S_GOOD, 0604, NULL, "open to others");
    s_expect_file_secret_mode (S_GOOD, 0620, NULL, "open to its group");
    s_expect_file_secret_mode (S_GOOD, 0400, S_GOOD, NULL);
    //  Group read: only when root owns the file (root:service 0640)
    bool root = geteuid () == 0;
    s_expect_file_secret_mode (S_GOOD, 0640, root? S_GOOD: NULL, "open to its group");
    if (root) {
        char *path = s_write_file (S_GOOD, strlen (S_GOOD));
        cr_assert_eq (chmod (path, 0640), 0);
        cr_assert_eq (chown (path, 12345, 12345), 0);
        uint8_t *secret = NULL;
        size_t len = 0;
        char reason [AUDIT_TOKEN_REASON_MAX] = "";
        cr_expect_eq (audit_token_secret_from_file (path, &secret, &len, reason), -1,
                      "group read of a file root does not own");
        cr_expect (strstr (reason, "open to its group"), "%s", reason);
        unlink (path);
        free (path);
    }
}

Test (token, secret_from_text)
{
    uint8_t *secret = NULL;
    size_t len = 0;
    cr_assert_eq (audit_token_secret_from_text (S_GOOD "\n", &secret, &len, NULL), 0);
    cr_assert_eq (len, 32);
    cr_assert (memcmp (secret, S_GOOD, 32) == 0);
    audit_token_secret_free (&secret, len);
    cr_assert_null (secret);
    cr_assert_eq (audit_token_secret_from_text ("", &secret, &len, NULL), -1);
    cr_assert_eq (audit_token_secret_from_text (NULL, &secret, &len, NULL), -1);
}
