/*  =========================================================================
    audit_cursor - authenticated keyset pagination cursors

    See the header for the layout. Decoding is strict: exactly 88 characters
    of the base64url alphabet, so every bit of the text is covered by the
    MAC and no two texts decode to the same cursor.
    ========================================================================= */

#include "audit_cursor.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define CURSOR_VERSION   1
#define DIGEST_SIZE      32
#define MAC_SIZE         16
#define OFF_VERSION      0
#define OFF_ORDER        1
#define OFF_TS           2
#define OFF_ROW          10
#define OFF_BINDING      18
#define OFF_MAC          (OFF_BINDING + DIGEST_SIZE)
#define RAW_SIZE         (OFF_MAC + MAC_SIZE)

//  Domain labels keep these digests apart from any other use of the bytes
#define BINDING_LABEL    "semafore-audit/cursor-binding/v1"
#define KEY_LABEL        "semafore-audit/cursor-key/v1"

#if (RAW_SIZE % 3) != 0 || (RAW_SIZE / 3 * 4) != AUDIT_CURSOR_TEXT_LEN
#   error "cursor text length must be a whole number of base64 groups"
#endif

struct _audit_cursor_key_t {
    uint8_t bytes [AUDIT_CURSOR_KEY_SIZE];
};

static const char s_alphabet [] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

audit_cursor_key_t *
audit_cursor_key_new_random (void)
{
    audit_cursor_key_t *self = calloc (1, sizeof (audit_cursor_key_t));
    if (!self)
        return NULL;
    size_t filled = 0;
    while (filled < sizeof self->bytes) {
        ssize_t got = getrandom (self->bytes + filled, sizeof self->bytes - filled, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            audit_cursor_key_destroy (&self);
            return NULL;
        }
        filled += (size_t) got;
    }
    return self;
}

audit_cursor_key_t *
audit_cursor_key_new_from_bytes (const void *secret, size_t len)
{
    if (!secret || len == 0 || len > INT32_MAX)
        return NULL;
    audit_cursor_key_t *self = calloc (1, sizeof (audit_cursor_key_t));
    if (!self)
        return NULL;
    unsigned int out_len = 0;
    if (!HMAC (EVP_sha256 (), secret, (int) len,
               (const unsigned char *) KEY_LABEL, strlen (KEY_LABEL),
               self->bytes, &out_len) || out_len != sizeof self->bytes)
        audit_cursor_key_destroy (&self);
    return self;
}

void
audit_cursor_key_destroy (audit_cursor_key_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    OPENSSL_cleanse ((*self_p)->bytes, sizeof (*self_p)->bytes);
    free (*self_p);
    *self_p = NULL;
}

static bool
s_digest_part (EVP_MD_CTX *ctx, const void *data, size_t len)
{
    //  Length-prefixed, so ("ab","c") and ("a","bc") differ
    uint8_t prefix [8];
    for (int byte = 0; byte < 8; byte++)
        prefix [byte] = (uint8_t) ((uint64_t) len >> (56 - 8 * byte));
    return EVP_DigestUpdate (ctx, prefix, sizeof prefix)
        && (len == 0 || EVP_DigestUpdate (ctx, data, len));
}

//  One digest over op, org and the digest of the filter bytes
static int
s_binding_digest (const audit_cursor_binding_t *binding, uint8_t *digest)
{
    uint8_t filter_digest [DIGEST_SIZE];
    const char *org = binding->org? binding->org: "";
    if (!binding->op || (!binding->filter && binding->filter_len))
        return -1;
    if (!EVP_Digest (binding->filter_len? binding->filter: "", binding->filter_len,
                     filter_digest, NULL, EVP_sha256 (), NULL))
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
    unsigned int digest_len = 0;
    bool ok = ctx
        && EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL)
        && s_digest_part (ctx, BINDING_LABEL, strlen (BINDING_LABEL))
        && s_digest_part (ctx, binding->op, strlen (binding->op))
        && s_digest_part (ctx, org, strlen (org))
        && s_digest_part (ctx, filter_digest, sizeof filter_digest)
        && EVP_DigestFinal_ex (ctx, digest, &digest_len)
        && digest_len == DIGEST_SIZE;
    EVP_MD_CTX_free (ctx);
    return ok? 0: -1;
}

static int
s_mac (const audit_cursor_key_t *key, const uint8_t *raw, uint8_t *mac)
{
    uint8_t full [EVP_MAX_MD_SIZE];
    unsigned int full_len = 0;
    if (!HMAC (EVP_sha256 (), key->bytes, sizeof key->bytes,
               raw, OFF_MAC, full, &full_len) || full_len < MAC_SIZE)
        return -1;
    memcpy (mac, full, MAC_SIZE);
    return 0;
}

static void
s_put_int64 (uint8_t *dest, int64_t value)
{
    for (int byte = 0; byte < 8; byte++)
        dest [byte] = (uint8_t) ((uint64_t) value >> (56 - 8 * byte));
}

static int64_t
s_get_int64 (const uint8_t *source)
{
    uint64_t value = 0;
    for (int byte = 0; byte < 8; byte++)
        value = (value << 8) | source [byte];
    return (int64_t) value;
}

//  RAW_SIZE bytes, a whole number of groups, into AUDIT_CURSOR_TEXT_LEN chars
static void
s_base64url_encode (const uint8_t *raw, char *text)
{
    for (size_t in = 0, out = 0; in < RAW_SIZE; in += 3, out += 4) {
        uint32_t group = (uint32_t) raw [in] << 16
                       | (uint32_t) raw [in + 1] << 8 | raw [in + 2];
        for (int sextet = 0; sextet < 4; sextet++)
            text [out + sextet] = s_alphabet [(group >> (18 - 6 * sextet)) & 0x3F];
    }
    text [AUDIT_CURSOR_TEXT_LEN] = '\0';
}

static int
s_sextet (char c)
{
    const char *found = c? strchr (s_alphabet, c): NULL;
    return found? (int) (found - s_alphabet): -1;
}

static int
s_base64url_decode (const char *text, uint8_t *raw)
{
    for (size_t in = 0, out = 0; in < AUDIT_CURSOR_TEXT_LEN; in += 4, out += 3) {
        uint32_t group = 0;
        for (int sextet = 0; sextet < 4; sextet++) {
            int value = s_sextet (text [in + sextet]);
            if (value < 0)
                return -1;
            group = (group << 6) | (uint32_t) value;
        }
        raw [out] = (uint8_t) (group >> 16);
        raw [out + 1] = (uint8_t) (group >> 8);
        raw [out + 2] = (uint8_t) group;
    }
    return 0;
}

int
audit_cursor_encode (const audit_cursor_key_t *key,
                     const audit_cursor_binding_t *binding,
                     const audit_cursor_pos_t *pos, char *text)
{
    uint8_t raw [RAW_SIZE];
    if (!key || !binding || !pos || !text || pos->order != binding->order
    ||  (pos->order != AUDIT_CURSOR_ASC && pos->order != AUDIT_CURSOR_DESC))
        return -1;
    raw [OFF_VERSION] = CURSOR_VERSION;
    raw [OFF_ORDER] = (uint8_t) pos->order;
    s_put_int64 (raw + OFF_TS, pos->ts_ms);
    s_put_int64 (raw + OFF_ROW, pos->row_id);
    if (s_binding_digest (binding, raw + OFF_BINDING)
    ||  s_mac (key, raw, raw + OFF_MAC))
        return -1;
    s_base64url_encode (raw, text);
    return 0;
}

//  MAC first, so nothing of an unauthenticated cursor is looked at
static int
s_verify_raw (const audit_cursor_key_t *key,
              const audit_cursor_binding_t *binding, const uint8_t *raw)
{
    uint8_t mac [MAC_SIZE];
    uint8_t expected [DIGEST_SIZE];
    if (s_mac (key, raw, mac)
    ||  CRYPTO_memcmp (mac, raw + OFF_MAC, MAC_SIZE) != 0)
        return -1;
    if (raw [OFF_VERSION] != CURSOR_VERSION
    ||  raw [OFF_ORDER] != (uint8_t) binding->order
    ||  s_binding_digest (binding, expected)
    ||  CRYPTO_memcmp (expected, raw + OFF_BINDING, DIGEST_SIZE) != 0)
        return -1;
    return 0;
}

int
audit_cursor_decode (const audit_cursor_key_t *key,
                     const audit_cursor_binding_t *binding,
                     const char *text, size_t len, audit_cursor_pos_t *pos)
{
    uint8_t raw [RAW_SIZE];
    if (!key || !binding || !text || !pos || len != AUDIT_CURSOR_TEXT_LEN
    ||  s_base64url_decode (text, raw)
    ||  s_verify_raw (key, binding, raw))
        return -1;
    pos->order = (audit_cursor_order_t) raw [OFF_ORDER];
    pos->ts_ms = s_get_int64 (raw + OFF_TS);
    pos->row_id = s_get_int64 (raw + OFF_ROW);
    return 0;
}
