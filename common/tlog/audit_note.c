/*  =========================================================================
    audit_note - C2SP signed notes, Ed25519 only

    Verification reads the whole note before it checks a signature: a
    note with one malformed line is refused as a whole (as Go's note.Open
    does), so what a verifier accepts never depends on where a bad line
    sits. Ed25519 and base64 are libsodium's; its base64 decoder refuses
    missing padding and non-zero spare bits, so each byte string has one
    text form.
    ========================================================================= */

#include "audit_note.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define S_EM_DASH       "\xE2\x80\x94"      //  U+2014, the signature line's lead
#define S_SIG_PREFIX    S_EM_DASH " "
#define S_SIG_PREFIX_LEN 4
#define S_ID_SIZE       4

bool
audit_note_name_is_valid (const char *name, size_t len)
{
    if (len == 0 || len > AUDIT_NOTE_NAME_MAX)
        return false;
    for (size_t at = 0; at < len; at++)
        if (name [at] <= 0x20 || name [at] >= 0x7F || name [at] == '+')
            return false;
    return true;
}

//  The length of the UTF-8 sequence at text (at most left bytes), 0 when
//  it is not one: no overlong form, no surrogate, nothing past U+10FFFF
static size_t
s_utf8_sequence (const uint8_t *text, size_t left)
{
    uint8_t lead = text [0];
    if (lead < 0x80)
        return 1;
    size_t len = lead >= 0xF0? 4: lead >= 0xE0? 3: 2;
    if (lead < 0xC2 || lead > 0xF4 || len > left)
        return 0;
    for (size_t at = 1; at < len; at++)
        if ((text [at] & 0xC0) != 0x80)
            return 0;
    if ((lead == 0xE0 && text [1] < 0xA0) || (lead == 0xED && text [1] >= 0xA0)
    ||  (lead == 0xF0 && text [1] < 0x90) || (lead == 0xF4 && text [1] >= 0x90))
        return 0;
    return len;
}

//  Valid UTF-8 with no control character other than newline
static bool
s_clean (const char *text, size_t len)
{
    const uint8_t *bytes = (const uint8_t *) text;
    size_t at = 0;
    while (at < len) {
        if (bytes [at] < 0x20 && bytes [at] != '\n')
            return false;
        size_t step = s_utf8_sequence (bytes + at, len - at);
        if (step == 0)
            return false;
        at += step;
    }
    return true;
}

bool
audit_note_text_is_valid (const char *text, size_t len)
{
    return len > 0 && text [len - 1] == '\n' && s_clean (text, len);
}

uint32_t
audit_note_key_id (const char *name, size_t name_len, const uint8_t *public_key)
{
    const uint8_t tail [2] = { '\n', AUDIT_NOTE_ED25519 };
    uint8_t digest [crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    crypto_hash_sha256_update (&state, (const uint8_t *) name, name_len);
    crypto_hash_sha256_update (&state, tail, sizeof tail);
    crypto_hash_sha256_update (&state, public_key, AUDIT_NOTE_PUBLIC_KEY_SIZE);
    crypto_hash_sha256_final (&state, digest);
    return (uint32_t) digest [0] << 24 | (uint32_t) digest [1] << 16
         | (uint32_t) digest [2] << 8 | digest [3];
}

int
audit_note_verifier_init (audit_note_verifier_t *self, const char *name, size_t name_len,
                          const uint8_t *public_key)
{
    if (!audit_note_name_is_valid (name, name_len))
        return -1;
    memset (self, 0, sizeof *self);
    memcpy (self->name, name, name_len);
    self->name_len = name_len;
    memcpy (self->public_key, public_key, AUDIT_NOTE_PUBLIC_KEY_SIZE);
    self->key_id = audit_note_key_id (name, name_len, public_key);
    return 0;
}

//  Exactly 8 hex digits (either case) into id; 0 or -1
static int
s_hex_id (const char *text, size_t len, uint32_t *id)
{
    if (len != 8)
        return -1;
    uint32_t value = 0;
    for (size_t at = 0; at < len; at++) {
        char digit = text [at];
        int nibble = digit >= '0' && digit <= '9'? digit - '0'
                   : digit >= 'a' && digit <= 'f'? digit - 'a' + 10
                   : digit >= 'A' && digit <= 'F'? digit - 'A' + 10: -1;
        if (nibble < 0)
            return -1;
        value = value << 4 | (uint32_t) nibble;
    }
    *id = value;
    return 0;
}

//  Decode base64 text (len bytes) into at most capacity bytes; the
//  decoded length, or -1 when it is not base64 or too long
static long
s_base64_decode (const char *text, size_t len, uint8_t *bytes, size_t capacity)
{
    size_t decoded = 0;
    if (len == 0 || sodium_base642bin (bytes, capacity, text, len, NULL, &decoded, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return (long) decoded;
}

int
audit_note_key_text_split (const char *text, size_t len, const char **name, size_t *name_len,
                           uint32_t *key_id, uint8_t *key)
{
    const char *plus = memchr (text, '+', len);
    size_t head = plus? (size_t) (plus - text): len;
    if (!plus || len - head < 1 + 8 + 1 || text [head + 9] != '+')
        return -1;
    //  The key bytes may be a signer's seed: wiped once copied
    uint8_t bytes [1 + AUDIT_NOTE_PUBLIC_KEY_SIZE];
    int rc = -1;
    if (sodium_init () >= 0
    &&  audit_note_name_is_valid (text, head)
    &&  s_hex_id (text + head + 1, 8, key_id) == 0
    &&  s_base64_decode (text + head + 10, len - head - 10, bytes, sizeof bytes) == (long) sizeof bytes
    &&  bytes [0] == AUDIT_NOTE_ED25519) {
        *name = text;
        *name_len = head;
        memcpy (key, bytes + 1, AUDIT_NOTE_PUBLIC_KEY_SIZE);
        rc = 0;
    }
    sodium_memzero (bytes, sizeof bytes);
    return rc;
}

int
audit_note_verifier_parse (audit_note_verifier_t *self, const char *text, size_t len)
{
    const char *name;
    size_t name_len;
    uint32_t stated;
    uint8_t key [AUDIT_NOTE_PUBLIC_KEY_SIZE];
    audit_note_verifier_t parsed;
    if (audit_note_key_text_split (text, len, &name, &name_len, &stated, key) != 0
    ||  audit_note_verifier_init (&parsed, name, name_len, key) != 0
    ||  parsed.key_id != stated)
        return -1;
    *self = parsed;
    return 0;
}

size_t
audit_note_verifier_format (const audit_note_verifier_t *self, char *text)
{
    uint8_t key [1 + AUDIT_NOTE_PUBLIC_KEY_SIZE] = { AUDIT_NOTE_ED25519 };
    memcpy (key + 1, self->public_key, AUDIT_NOTE_PUBLIC_KEY_SIZE);
    char key_text [sodium_base64_ENCODED_LEN (sizeof key, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64 (key_text, sizeof key_text, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    int len = snprintf (text, AUDIT_NOTE_VERIFIER_TEXT_SIZE, "%.*s+%08x+%s",
                        (int) self->name_len, self->name, (unsigned) self->key_id, key_text);
    return len > 0? (size_t) len: 0;
}

size_t
audit_note_signature_line (const audit_note_verifier_t *key, const uint8_t *signature,
                           char *line)
{
    uint8_t bytes [S_ID_SIZE + AUDIT_NOTE_SIGNATURE_SIZE] = {
        (uint8_t) (key->key_id >> 24), (uint8_t) (key->key_id >> 16),
        (uint8_t) (key->key_id >> 8), (uint8_t) key->key_id
    };
    memcpy (bytes + S_ID_SIZE, signature, AUDIT_NOTE_SIGNATURE_SIZE);
    char encoded [sodium_base64_ENCODED_LEN (sizeof bytes, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64 (encoded, sizeof encoded, bytes, sizeof bytes, sodium_base64_VARIANT_ORIGINAL);
    int len = snprintf (line, AUDIT_NOTE_SIGN_EXTRA, S_SIG_PREFIX "%.*s %s\n",
                        (int) key->name_len, key->name, encoded);
    return len > 0? (size_t) len: 0;
}

// ---------------------------------------------------------------------
//  Verification

//  What one signature line says
typedef struct {
    const char *name;
    size_t name_len;
    uint32_t key_id;
    uint8_t bytes [S_ID_SIZE + AUDIT_NOTE_FOREIGN_MAX];
    size_t size;                    //  of the signature, after the id
} s_signature_t;

//  Parse the signature line at line (len bytes, its newline excluded)
static int
s_signature_parse (const char *line, size_t len, s_signature_t *signature)
{
    if (len < S_SIG_PREFIX_LEN || memcmp (line, S_SIG_PREFIX, S_SIG_PREFIX_LEN) != 0)
        return -1;
    line += S_SIG_PREFIX_LEN;
    len -= S_SIG_PREFIX_LEN;
    const char *space = memchr (line, ' ', len);
    if (!space || space == line)
        return -1;
    signature->name = line;
    signature->name_len = (size_t) (space - line);
    if (memchr (line, '+', signature->name_len))
        return -1;
    const char *encoded = space + 1;
    long decoded = s_base64_decode (encoded, len - signature->name_len - 1,
                                    signature->bytes, sizeof signature->bytes);
    if (decoded <= S_ID_SIZE)
        return -1;
    const uint8_t *id = signature->bytes;
    signature->key_id = (uint32_t) id [0] << 24 | (uint32_t) id [1] << 16
                      | (uint32_t) id [2] << 8 | id [3];
    signature->size = (size_t) decoded - S_ID_SIZE;
    return 0;
}

//  One line's verdict: 1 verified, 0 another key's, -1 a bad signature of the key
static int
s_signature_check (const audit_note_verifier_t *verifier, const s_signature_t *signature,
                   const char *text, size_t text_len)
{
    //  The key is its name and its id: both match before the signature counts
    if (signature->name_len != verifier->name_len
    ||  memcmp (signature->name, verifier->name, verifier->name_len) != 0
    ||  signature->key_id != verifier->key_id)
        return 0;
    if (signature->size != AUDIT_NOTE_SIGNATURE_SIZE
    ||  crypto_sign_verify_detached (signature->bytes + S_ID_SIZE, (const uint8_t *) text,
                                     text_len, verifier->public_key) != 0)
        return -1;
    return 1;
}

//  Where the text ends: after the newline that precedes the last blank
//  line, with at least one byte of signatures after it; 0 when none
static size_t
s_text_end (const char *note, size_t len)
{
    for (size_t at = len - 1; at-- > 1; )
        if (note [at] == '\n' && note [at - 1] == '\n')
            return at;
    return 0;
}

audit_note_result_t
audit_note_verify (const audit_note_verifier_t *verifier, const char *note, size_t len,
                   size_t *text_len)
{
    if (sodium_init () < 0 || len < 3 || note [len - 1] != '\n' || !s_clean (note, len))
        return AUDIT_NOTE_MALFORMED;
    size_t text_end = s_text_end (note, len);
    if (text_end == 0)
        return AUDIT_NOTE_MALFORMED;
    s_signature_t signature;
    bool verified = false, bad = false;
    int lines = 0;
    for (size_t at = text_end + 1; at < len; lines++) {
        const char *end = memchr (note + at, '\n', len - at);
        if (lines == AUDIT_NOTE_SIGNATURES_MAX
        ||  s_signature_parse (note + at, (size_t) (end - (note + at)), &signature) != 0)
            return AUDIT_NOTE_MALFORMED;
        int verdict = s_signature_check (verifier, &signature, note, text_end);
        bad |= verdict < 0;
        verified |= verdict > 0;
        at = (size_t) (end - note) + 1;
    }
    if (bad)
        return AUDIT_NOTE_BAD_SIGNATURE;
    if (!verified)
        return AUDIT_NOTE_UNSIGNED;
    if (text_len)
        *text_len = text_end;
    return AUDIT_NOTE_OK;
}
