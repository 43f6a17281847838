/*  =========================================================================
    fuzz_token - libFuzzer entry point for the token verifier

    An input is taken two ways, by its first byte:
    - even: the rest is a token's text, as a client sends it;
    - odd: the rest is a JOSE header and a claims set, split at the first
      newline, each base64url-encoded and signed with the verifier's
      secret, so that the fuzzer reaches the checks behind the signature
      (alg, aud, exp, iat, the role, org and device claims) and not only
      the parsing before it.
    The verifier must answer OK, UNAUTHENTICATED or INTERNAL for any input,
    and the claims of an OK must be what the query worker relies on: a
    known role, terminated texts, exp in the future and within the longest
    lifetime.

    Build: -DAUDIT_FUZZ=ON with clang (tests/fuzz/CMakeLists.txt); scripts/
    test runs it for a bounded time (scripts/fuzz).
    ========================================================================= */

#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "audit_token.h"

//  2026-11-26T09:47:19Z, fixed so that a crash reproduces
#define FUZZ_NOW_S    1795686439LL
#define FUZZ_MAX_AGE  86400

static const uint8_t s_secret [32] = "fuzz-token-secret-0123456789abcd";

static int64_t
s_clock (void *arg)
{
    (void) arg;
    return FUZZ_NOW_S;
}

static size_t
s_base64url (const uint8_t *data, size_t size, char *out)
{
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t length = 0;
    for (size_t at = 0; at < size; at += 3) {
        uint32_t chunk = (uint32_t) data [at] << 16;
        if (at + 1 < size)
            chunk |= (uint32_t) data [at + 1] << 8;
        if (at + 2 < size)
            chunk |= data [at + 2];
        out [length++] = alphabet [(chunk >> 18) & 63];
        out [length++] = alphabet [(chunk >> 12) & 63];
        if (at + 1 < size)
            out [length++] = alphabet [(chunk >> 6) & 63];
        if (at + 2 < size)
            out [length++] = alphabet [chunk & 63];
    }
    return length;
}

//  header "." claims "." HS256 of both, from "header\nclaims"
static void
s_signed (const uint8_t *data, size_t size, char *token)
{
    const uint8_t *newline = memchr (data, '\n', size);
    size_t header_size = newline ? (size_t) (newline - data) : size;
    size_t length = s_base64url (data, header_size, token);
    token [length++] = '.';
    if (newline)
        length += s_base64url (newline + 1, size - header_size - 1, token + length);
    uint8_t mac [32];
    unsigned int mac_size = 0;
    HMAC (EVP_sha256 (), s_secret, sizeof s_secret, (const uint8_t *) token, length,
          mac, &mac_size);
    token [length++] = '.';
    length += s_base64url (mac, mac_size, token + length);
    token [length] = 0;
}

//  What the verifier's header promises of an OK (audit_token.h): terminated
//  identifiers, sub always, org for org_admin and device, device for device
static void
s_check_claims (const audit_claims_t *claims)
{
    if (memchr (claims->sub, 0, sizeof claims->sub) == NULL
    ||  memchr (claims->org, 0, sizeof claims->org) == NULL
    ||  memchr (claims->device, 0, sizeof claims->device) == NULL)
        abort ();
    if ((int) claims->role < 0 || claims->role > AUDIT_ROLE_OTHER || claims->sub [0] == 0)
        abort ();
    if ((claims->role == AUDIT_ROLE_ORG_ADMIN || claims->role == AUDIT_ROLE_DEVICE)
    &&  claims->org [0] == 0)
        abort ();
    if (claims->role == AUDIT_ROLE_DEVICE && claims->device [0] == 0)
        abort ();
    //  Expired tokens are refused (the leeway, 60 s by default, aside);
    //  none lives longer than the longest lifetime plus the leeway
    if (claims->exp < FUZZ_NOW_S - 60 || claims->exp > FUZZ_NOW_S + FUZZ_MAX_AGE + 60)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static audit_token_t *verifier;
    if (!verifier) {
        verifier = audit_token_new (s_secret, sizeof s_secret, NULL);
        if (!verifier || audit_token_set_max_age (verifier, FUZZ_MAX_AGE) != 0)
            abort ();
        audit_token_set_clock (verifier, s_clock, NULL);
    }
    if (size == 0 || size > 8192)
        return 0;
    //  Base64 of the rest is at most 4/3 of it, plus the MAC
    static char token [8192 * 2 + 128];
    if (data [0] & 1)
        s_signed (data + 1, size - 1, token);
    else {
        memcpy (token, data + 1, size - 1);
        token [size - 1] = 0;
    }
    audit_claims_t claims;
    const char *reason = NULL;
    audit_token_result_t result = audit_token_verify (verifier, token, &claims, &reason);
    if (result == AUDIT_TOKEN_OK)
        s_check_claims (&claims);
    else
    if ((result != AUDIT_TOKEN_UNAUTHENTICATED && result != AUDIT_TOKEN_INTERNAL) || !reason)
        abort ();
    return 0;
}
