/*  =========================================================================
    audit_token - bearer tokens of the query API: JWT, HS256 only, via libjwt

    libjwt 1.10 verifies whatever algorithm the token's header names with the
    key it is given, so an HS384 or HS512 token signed with our secret passes
    jwt_decode. The algorithm is therefore checked here, twice (libjwt's
    parsed alg and the raw header text), and a token without a signature is
    refused before libjwt ever sees it. Claims are read from libjwt's JSON
    text, because its integer and string getters do not report a wrong type.
    ========================================================================= */

#include "audit_token.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LEEWAY_MAX_S  3600
#define MAX_AGE_MAX_S (10 * 366 * 86400LL)

struct _audit_token_t {
    uint8_t *secret;
    size_t secret_len;
    char audience [AUDIT_TOKEN_CLAIM_MAX + 1];
    int64_t leeway_s;
    int64_t max_age_s;
    audit_token_clock_fn *clock;
    void *clock_arg;
};

static int64_t
s_wall_clock (void *arg)
{
    (void) arg;
    return (int64_t) time (NULL);
}

//  An identifier of the contract: 1..max bytes of 0x21..0x7E
static bool
s_is_ident (const char *text, size_t max)
{
    size_t len = 0;
    for (; text [len]; len++)
        if (len >= max || text [len] < 0x21 || text [len] > 0x7E)
            return false;
    return len > 0;
}

audit_token_t *
audit_token_new (const uint8_t *secret, size_t secret_len, const char *audience)
{
    if (!audience)
        audience = AUDIT_TOKEN_AUDIENCE_DEFAULT;
    //  The aud array matcher compares unescaped JSON text, so the audience
    //  itself must need no escaping
    if (!secret || secret_len == 0 || secret_len > AUDIT_TOKEN_SECRET_MAX
    ||  !s_is_ident (audience, AUDIT_TOKEN_CLAIM_MAX)
    ||  strchr (audience, '"') || strchr (audience, '\\'))
        return NULL;
    audit_token_t *self = calloc (1, sizeof (audit_token_t));
    if (!self)
        return NULL;
    self->secret = malloc (secret_len);
    if (!self->secret) {
        free (self);
        return NULL;
    }
    memcpy (self->secret, secret, secret_len);
    self->secret_len = secret_len;
    strcpy (self->audience, audience);
    self->leeway_s = AUDIT_TOKEN_LEEWAY_DEFAULT_S;
    self->max_age_s = AUDIT_TOKEN_MAX_AGE_DEFAULT_S;
    self->clock = s_wall_clock;
    return self;
}

void
audit_token_destroy (audit_token_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_token_t *self = *self_p;
    OPENSSL_cleanse (self->secret, self->secret_len);
    free (self->secret);
    free (self);
    *self_p = NULL;
}

int
audit_token_set_leeway (audit_token_t *self, int64_t leeway_s)
{
    if (!self || leeway_s < 0 || leeway_s > LEEWAY_MAX_S)
        return -1;
    self->leeway_s = leeway_s;
    return 0;
}

int
audit_token_set_max_age (audit_token_t *self, int64_t max_age_s)
{
    if (!self || max_age_s < 1 || max_age_s > MAX_AGE_MAX_S)
        return -1;
    self->max_age_s = max_age_s;
    return 0;
}

void
audit_token_set_clock (audit_token_t *self, audit_token_clock_fn *fn, void *arg)
{
    if (!self)
        return;
    self->clock = fn? fn: s_wall_clock;
    self->clock_arg = fn? arg: NULL;
}

const char *
audit_token_role_name (audit_role_t role)
{
    switch (role) {
        case AUDIT_ROLE_ORG_ADMIN:    return "org_admin";
        case AUDIT_ROLE_PLATFORM_OPS: return "platform_ops";
        case AUDIT_ROLE_DEVICE:       return "device";
        default:                      return "other";
    }
}

//  Compact JWS shape: three non-empty base64url segments. An empty third
//  segment is how alg:none travels, so it never reaches libjwt.
static bool
s_shape_ok (const char *token)
{
    size_t dots = 0, segment = 0, len = 0;
    for (; token [len]; len++) {
        char c = token [len];
        if (len >= AUDIT_TOKEN_TEXT_MAX)
            return false;
        if (c == '.') {
            if (segment == 0 || ++dots > 2)
                return false;
            segment = 0;
        }
        else
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
        ||  (c >= '0' && c <= '9') || c == '-' || c == '_')
            segment++;
        else
            return false;
    }
    return dots == 2 && segment > 0;
}

static bool
s_alg_ok (jwt_t *jwt)
{
    const char *header_alg = jwt_get_header (jwt, "alg");
    return jwt_get_alg (jwt) == JWT_ALG_HS256
        && header_alg && strcmp (header_alg, "HS256") == 0;
}

//  RFC 7515, 4.1.11: a recipient must refuse a token whose crit header
//  lists an extension it does not understand. We understand none, so any
//  crit member at all is refused, whatever it holds. libjwt reports an
//  absent header as NULL with EINVAL; NULL with any other errno (out of
//  memory printing it) still means present, so the check fails closed.
static bool
s_crit_absent (jwt_t *jwt)
{
    char *json = jwt_get_headers_json (jwt, "crit");
    bool absent = !json && errno == EINVAL;
    free (json);
    return absent;
}

//  Read a NumericDate claim (RFC 7519: seconds, an integer or not) from
//  its JSON text: digits, with an optional fraction after a point, which
//  is dropped, or rounds up when round_up (a not-before time), so that a
//  fraction never makes a token good for longer. 1 when present and
//  usable, 0 when absent, -1 for any other value (a string, say).
//  The text is jansson's printing of the parsed claim, not the token's:
//  a real is printed back with %.17g and a ".0", so an exponent form
//  such as 1e10 arrives as "10000000000.0" and is accepted as its value.
//  Only a real that jansson itself prints with an exponent (1e17 and
//  up, or a tiny fraction such as 1e-5) is refused.
static int
s_claim_time (jwt_t *jwt, const char *name, bool round_up, int64_t *value)
{
    char *json = jwt_get_grants_json (jwt, name);
    if (!json)
        return 0;
    const char *digits = json [0] == '-'? json + 1: json;
    size_t whole = strspn (digits, "0123456789");
    size_t fraction = digits [whole] == '.'? strspn (digits + whole + 1, "0123456789"): 0;
    size_t used = whole + (digits [whole] == '.'? 1 + fraction: 0);
    bool ok = whole > 0 && digits [used] == '\0' && (digits [whole] != '.' || fraction > 0);
    if (ok) {
        errno = 0;
        long long parsed = strtoll (json, NULL, 10);
        ok = errno == 0;
        bool above = fraction > 0 && strspn (digits + whole + 1, "0") < fraction;
        if (ok && above && round_up && json [0] != '-') {
            ok = parsed < LLONG_MAX;
            parsed++;
        }
        *value = (int64_t) parsed;
    }
    free (json);
    return ok? 1: -1;
}

//  exp required; exp, nbf and iat each judged with the leeway. The claims
//  are on the side of the comparison that cannot overflow whatever they hold.
static const char *
s_check_times (const audit_token_t *self, jwt_t *jwt, audit_claims_t *claims)
{
    int64_t now = self->clock (self->clock_arg);
    int64_t nbf = 0, iat = 0;
    int have = s_claim_time (jwt, "exp", false, &claims->exp);
    if (have == 0)
        return "missing_exp";
    if (have < 0)
        return "bad_exp";
    if (now - self->leeway_s >= claims->exp)
        return "expired";
    have = s_claim_time (jwt, "nbf", true, &nbf);
    if (have < 0)
        return "bad_nbf";
    if (have > 0 && nbf > now + self->leeway_s)
        return "not_yet_valid";
    have = s_claim_time (jwt, "iat", true, &iat);
    if (have < 0)
        return "bad_iat";
    if (have > 0 && iat > now + self->leeway_s)
        return "issued_in_future";
    //  iat is at most now + leeway here, so neither sum can overflow
    int64_t born = have > 0? iat: now + self->leeway_s;
    if (claims->exp > born + self->max_age_s)
        return "too_long_lived";
    return NULL;
}

//  True when the JSON array text holds a string element equal to audience.
//  Elements with escapes cannot equal it (the audience has none to escape).
static bool
s_array_has (const char *json, const char *audience)
{
    size_t audience_len = strlen (audience);
    const char *cursor = json;
    if (*cursor++ != '[')
        return false;
    while (*cursor) {
        while (*cursor == ' ' || *cursor == ',')
            cursor++;
        if (*cursor != '"')
            return false;           //  ']' or a non-string element
        const char *start = ++cursor;
        bool escaped = false;
        while (*cursor && *cursor != '"') {
            if (*cursor == '\\' && cursor [1]) {
                escaped = true;
                cursor++;
            }
            cursor++;
        }
        if (!escaped && (size_t) (cursor - start) == audience_len
        &&  memcmp (start, audience, audience_len) == 0)
            return true;
        if (*cursor)
            cursor++;
    }
    return false;
}

static bool
s_aud_ok (const audit_token_t *self, jwt_t *jwt)
{
    const char *aud = jwt_get_grant (jwt, "aud");
    if (aud)
        return strcmp (aud, self->audience) == 0;
    char *json = jwt_get_grants_json (jwt, "aud");
    bool ok = json && s_array_has (json, self->audience);
    free (json);
    return ok;
}

//  Copy a string claim that must be an identifier. 0 when copied (or
//  absent and not required, leaving ""), -1 otherwise.
static int
s_copy_ident (jwt_t *jwt, const char *name, char *dest, bool required)
{
    const char *value = jwt_get_grant (jwt, name);
    dest [0] = '\0';
    if (!value) {
        //  Present with another type is never fine
        char *json = jwt_get_grants_json (jwt, name);
        bool present = json != NULL;
        free (json);
        return (required || present)? -1: 0;
    }
    if (!s_is_ident (value, AUDIT_TOKEN_CLAIM_MAX))
        return -1;
    strcpy (dest, value);
    return 0;
}

static audit_role_t
s_role_parse (const char *text)
{
    for (int role = AUDIT_ROLE_ORG_ADMIN; role < AUDIT_ROLE_OTHER; role++)
        if (strcmp (text, audit_token_role_name ((audit_role_t) role)) == 0)
            return (audit_role_t) role;
    return AUDIT_ROLE_OTHER;
}

static const char *
s_check_claims (jwt_t *jwt, audit_claims_t *claims)
{
    char role [AUDIT_TOKEN_CLAIM_MAX + 1];
    if (s_copy_ident (jwt, "sub", claims->sub, true))
        return "bad_sub";
    if (s_copy_ident (jwt, "role", role, true))
        return "bad_role";
    claims->role = s_role_parse (role);
    bool need_org = claims->role == AUDIT_ROLE_ORG_ADMIN
                 || claims->role == AUDIT_ROLE_DEVICE;
    if (s_copy_ident (jwt, "org", claims->org, need_org))
        return "bad_org";
    if (s_copy_ident (jwt, "device", claims->device,
                      claims->role == AUDIT_ROLE_DEVICE))
        return "bad_device";
    return NULL;
}

//  Everything after the signature: algorithm, times, audience, claims
static const char *
s_check_decoded (const audit_token_t *self, jwt_t *jwt, audit_claims_t *claims)
{
    if (!s_alg_ok (jwt))
        return "bad_alg";
    if (!s_crit_absent (jwt))
        return "crit";
    const char *reason = s_check_times (self, jwt, claims);
    if (!reason && !s_aud_ok (self, jwt))
        reason = "bad_aud";
    if (!reason)
        reason = s_check_claims (jwt, claims);
    return reason;
}

audit_token_result_t
audit_token_verify (const audit_token_t *self, const char *token,
                    audit_claims_t *claims, const char **reason)
{
    const char *why = NULL;
    audit_token_result_t result = AUDIT_TOKEN_UNAUTHENTICATED;
    audit_claims_t found;
    memset (&found, 0, sizeof found);
    jwt_t *jwt = NULL;
    if (!self || !claims)
        why = "no_verifier";
    else
    if (!token || !*token)
        why = "missing";
    else
    if (!s_shape_ok (token))
        why = "malformed";
    else {
        int rc = jwt_decode (&jwt, token, self->secret, (int) self->secret_len);
        if (rc == ENOMEM) {
            why = "out_of_memory";
            result = AUDIT_TOKEN_INTERNAL;
        }
        else
        if (rc || !jwt)
            why = "bad_signature_or_encoding";
        else
        if ((why = s_check_decoded (self, jwt, &found)) == NULL) {
            *claims = found;
            result = AUDIT_TOKEN_OK;
            why = "ok";
        }
    }
    jwt_free (jwt);
    if (reason)
        *reason = why;
    return result;
}

//  Leave out an empty optional claim; refuse one that is not an identifier
static int
s_add_ident (jwt_t *jwt, const char *name, const char *value)
{
    if (!value [0])
        return 0;
    if (!s_is_ident (value, AUDIT_TOKEN_CLAIM_MAX))
        return -1;
    return jwt_add_grant (jwt, name, value)? -1: 0;
}

static int
s_mint_grants (jwt_t *jwt, const audit_claims_t *claims, const char *audience,
               int64_t ttl_s, int64_t now)
{
    if (!s_is_ident (claims->sub, AUDIT_TOKEN_CLAIM_MAX))
        return -1;
    if (s_add_ident (jwt, "sub", claims->sub)
    ||  jwt_add_grant (jwt, "role", audit_token_role_name (claims->role))
    ||  s_add_ident (jwt, "org", claims->org)
    ||  s_add_ident (jwt, "device", claims->device)
    ||  jwt_add_grant (jwt, "aud", audience)
    ||  jwt_add_grant_int (jwt, "iat", (long) now)
    ||  jwt_add_grant_int (jwt, "exp", (long) (now + ttl_s)))
        return -1;
    return 0;
}

int
audit_token_mint (const uint8_t *secret, size_t secret_len,
                  const audit_claims_t *claims, const char *audience,
                  int64_t ttl_s, int64_t now, char **token_out)
{
    if (!audience)
        audience = AUDIT_TOKEN_AUDIENCE_DEFAULT;
    if (!token_out || !secret || secret_len == 0
    ||  secret_len > AUDIT_TOKEN_SECRET_MAX || !claims
    ||  claims->role == AUDIT_ROLE_OTHER || ttl_s <= 0 || now > INT64_MAX - ttl_s
    ||  !s_is_ident (audience, AUDIT_TOKEN_CLAIM_MAX))
        return -1;
    *token_out = NULL;
    jwt_t *jwt = NULL;
    if (jwt_new (&jwt))
        return -1;
    if (s_mint_grants (jwt, claims, audience, ttl_s, now) == 0
    &&  jwt_set_alg (jwt, JWT_ALG_HS256, secret, (int) secret_len) == 0)
        *token_out = jwt_encode_str (jwt);
    jwt_free (jwt);
    return *token_out? 0: -1;
}

static int
s_refuse (char *reason, const char *format, ...)
{
    if (reason) {
        va_list args;
        va_start (args, format);
        vsnprintf (reason, AUDIT_TOKEN_REASON_MAX, format, args);
        va_end (args);
    }
    return -1;
}

//  Own a copy of bytes less one trailing line end; refuse a weak secret
static int
s_secret_take (const char *bytes, size_t len, uint8_t **secret_p, size_t *len_p, char *reason)
{
    if (len > 0 && bytes [len - 1] == '\n')
        len--;
    if (len > 0 && bytes [len - 1] == '\r')
        len--;
    if (len == 0)
        return s_refuse (reason, "it is empty (or only a line end)");
    if (len < AUDIT_TOKEN_SECRET_MIN)
        return s_refuse (reason, "it is shorter than %d bytes (%zu): an HS256 secret needs"
                         " 32 random bytes (openssl rand -hex 32)",
                         AUDIT_TOKEN_SECRET_MIN, len);
    if (len > AUDIT_TOKEN_SECRET_MAX)
        return s_refuse (reason, "it is longer than %d bytes", AUDIT_TOKEN_SECRET_MAX);
    uint8_t *secret = malloc (len);
    if (!secret)
        return s_refuse (reason, "out of memory");
    memcpy (secret, bytes, len);
    *secret_p = secret;
    *len_p = len;
    return 0;
}

//  Only its owner may read a secret file, or root's group when root owns
//  it (how a host gives it to the container user); nobody else may write
static int
s_secret_file_private (int fd, char *reason)
{
    struct stat info;
    if (fstat (fd, &info) != 0)
        return s_refuse (reason, "%s", strerror (errno));
    if (S_ISDIR (info.st_mode))
        return s_refuse (reason, "%s", strerror (EISDIR));
    mode_t mode = info.st_mode & 07777;
    if ((mode & 0037) || ((mode & 0040) && info.st_uid != 0))
        return s_refuse (reason, "it is open to %s (mode 0%o): chmod 0600 it",
                         mode & 0007? "others": "its group", (unsigned) mode);
    return 0;
}

int
audit_token_secret_from_file (const char *path, uint8_t **secret_p, size_t *len_p, char *reason)
{
    if (!path || !secret_p || !len_p)
        return s_refuse (reason, "no file");
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_refuse (reason, "%s", strerror (errno));
    if (s_secret_file_private (fd, reason) != 0) {
        close (fd);
        return -1;
    }
    //  Room for the largest secret, its line end and one byte more to
    //  tell an oversized file from a full one
    char buffer [AUDIT_TOKEN_SECRET_MAX + 3];
    size_t len = 0;
    ssize_t got = 0;
    while (len < sizeof buffer
       &&  ((got = read (fd, buffer + len, sizeof buffer - len)) > 0 || (got < 0 && errno == EINTR)))
        len += got > 0? (size_t) got: 0;
    close (fd);
    int rc = got < 0? s_refuse (reason, "it cannot be read")
           : len == sizeof buffer? s_refuse (reason, "it is longer than %d bytes", AUDIT_TOKEN_SECRET_MAX)
           : s_secret_take (buffer, len, secret_p, len_p, reason);
    OPENSSL_cleanse (buffer, sizeof buffer);
    return rc;
}

int
audit_token_secret_from_text (const char *text, uint8_t **secret_p, size_t *len_p, char *reason)
{
    if (!text || !secret_p || !len_p)
        return s_refuse (reason, "it is empty (or only a line end)");
    size_t len = strnlen (text, AUDIT_TOKEN_SECRET_MAX + 3);
    if (len == AUDIT_TOKEN_SECRET_MAX + 3)
        return s_refuse (reason, "it is longer than %d bytes", AUDIT_TOKEN_SECRET_MAX);
    return s_secret_take (text, len, secret_p, len_p, reason);
}

void
audit_token_secret_free (uint8_t **secret_p, size_t len)
{
    if (!secret_p || !*secret_p)
        return;
    OPENSSL_cleanse (*secret_p, len);
    free (*secret_p);
    *secret_p = NULL;
}
