/*  =========================================================================
    audit_token - bearer tokens of the query API: JWT, HS256 only, via libjwt

    A verifier holds the shared secret, the expected audience, the clock
    leeway and a clock. Verifying a token either yields typed claims or says
    "unauthenticated" with a short reason for the log (never the token).
    Whether the claims fit an operation (forbidden) is the caller's call.

    Choices the contract leaves open:
    - sub, role, org and device must each be an identifier of the contract
      (1..128 bytes of 0x21..0x7E), because sub becomes an event's actor_id
      and org/device are bound into queries. Anything else: unauthenticated.
    - A role outside org_admin | platform_ops | device is a valid token that
      fits no op (AUDIT_ROLE_OTHER, forbidden later).
    - A token of role org_admin or device without org, or of role device
      without device, is malformed for its role: unauthenticated, not
      forbidden, so a broken token issuer shows up as an auth failure.
    - exp is required and must be a NumericDate (RFC 7519: a JSON number of
      seconds, a fraction allowed: cut from exp, rounded up in nbf and
      iat); nbf and iat, when present, likewise. exp/nbf/iat are checked
      with the leeway; an iat in the future beyond the leeway is refused.
    - A token lives at most max_age seconds (AUDIT_JWT_MAX_AGE): exp may
      be at most that after iat, or, without iat, after now (plus the
      leeway, for the issuer's clock). A longer-lived one is
      unauthenticated (too_long_lived): a leaked token of exp 100 years
      ahead must not be good for 100 years.
    - aud is a string equal to the audience or an array holding it.
    - A header with a crit member is refused: its extensions are none this
      verifier understands (RFC 7515, 4.1.11).
    ========================================================================= */

#ifndef AUDIT_TOKEN_H_INCLUDED
#define AUDIT_TOKEN_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_TOKEN_AUDIENCE_DEFAULT  "semafore-audit"
#define AUDIT_TOKEN_LEEWAY_DEFAULT_S  60
#define AUDIT_TOKEN_MAX_AGE_DEFAULT_S 86400     //  AUDIT_JWT_MAX_AGE's default
#define AUDIT_TOKEN_CLAIM_MAX         128       //  bytes of sub/role/org/device
#define AUDIT_TOKEN_TEXT_MAX          8192      //  longer tokens are refused unread
#define AUDIT_TOKEN_SECRET_MAX        4096      //  bytes of a secret (file or text)
//  Fewest bytes of a loaded secret: HS256's key is as strong as its
//  256-bit hash only when it is that long (RFC 7518, 3.2)
#define AUDIT_TOKEN_SECRET_MIN        32
#define AUDIT_TOKEN_REASON_MAX        160       //  of a loader's reason, NUL included

typedef enum {
    AUDIT_ROLE_ORG_ADMIN,
    AUDIT_ROLE_PLATFORM_OPS,
    AUDIT_ROLE_DEVICE,
    AUDIT_ROLE_OTHER                //  valid token, fits no operation
} audit_role_t;

//  Verified claims; org and device are "" when the token has none
typedef struct {
    char sub [AUDIT_TOKEN_CLAIM_MAX + 1];
    audit_role_t role;
    char org [AUDIT_TOKEN_CLAIM_MAX + 1];
    char device [AUDIT_TOKEN_CLAIM_MAX + 1];
    int64_t exp;                    //  seconds since the epoch
} audit_claims_t;

typedef enum {
    AUDIT_TOKEN_OK = 0,
    AUDIT_TOKEN_UNAUTHENTICATED = 1,    //  the contract's unauthenticated
    AUDIT_TOKEN_INTERNAL = 2            //  out of memory inside libjwt
} audit_token_result_t;

//  The verifier's clock: seconds since the epoch (injectable for tests)
typedef int64_t (audit_token_clock_fn) (void *arg);

typedef struct _audit_token_t audit_token_t;

//  Create a verifier for secret (copied) and audience (NULL: the default).
//  NULL when the secret is empty or too long, or the audience is not an
//  identifier, or on allocation failure.
audit_token_t *
    audit_token_new (const uint8_t *secret, size_t secret_len, const char *audience);

//  Destroy, wiping the secret; safe on NULL and twice.
void
    audit_token_destroy (audit_token_t **self_p);

//  Set the clock leeway in seconds (0 .. 3600; default 60). 0 or -1.
int
    audit_token_set_leeway (audit_token_t *self, int64_t leeway_s);

//  Set the longest lifetime of a token in seconds (1 .. 10 years;
//  default AUDIT_TOKEN_MAX_AGE_DEFAULT_S). 0 or -1.
int
    audit_token_set_max_age (audit_token_t *self, int64_t max_age_s);

//  Replace the wall clock (tests). fn NULL restores the wall clock.
void
    audit_token_set_clock (audit_token_t *self, audit_token_clock_fn *fn, void *arg);

//  Verify token (NUL-terminated; NULL counts as missing) into *claims.
//  *reason (when reason is not NULL) gets a static word for the log.
//  Does not change self: one configured verifier serves many threads.
audit_token_result_t
    audit_token_verify (const audit_token_t *self, const char *token,
                        audit_claims_t *claims, const char **reason);

//  Wire name of a role ("org_admin", ...; "other" for AUDIT_ROLE_OTHER).
const char *
    audit_token_role_name (audit_role_t role);

//  Mint an HS256 token for claims (role must not be OTHER; empty org or
//  device are left out), aud = audience (NULL: the default), iat = now,
//  exp = now + ttl_s. *token_out is heap text for the caller to free.
//  Returns 0, or -1 on bad arguments or allocation failure.
int
    audit_token_mint (const uint8_t *secret, size_t secret_len,
                      const audit_claims_t *claims, const char *audience,
                      int64_t ttl_s, int64_t now, char **token_out);

//  Load a secret from a file: its bytes less one trailing "\n" or "\r\n".
//  Refuses an unreadable file, one that group or others may read or write
//  (group read is allowed when root owns the file: root:service 0640),
//  and a secret shorter than AUDIT_TOKEN_SECRET_MIN or longer than
//  AUDIT_TOKEN_SECRET_MAX. *secret_p is heap memory for
//  audit_token_secret_free. 0, or -1 with why in reason (when not NULL,
//  AUDIT_TOKEN_REASON_MAX bytes; never the secret).
int
    audit_token_secret_from_file (const char *path, uint8_t **secret_p, size_t *len_p,
                                  char *reason);

//  Take a secret from text (e.g. an environment variable), as for a file.
int
    audit_token_secret_from_text (const char *text, uint8_t **secret_p, size_t *len_p,
                                  char *reason);

//  Wipe and free a loaded secret; safe on NULL and twice.
void
    audit_token_secret_free (uint8_t **secret_p, size_t len);

#ifdef __cplusplus
}
#endif

#endif
