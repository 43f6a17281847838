/*  =========================================================================
    audit_note - C2SP signed notes (c2sp.org/signed-note), Ed25519 only

    A note is a text (valid UTF-8, no control character but newline,
    ending in a newline), a blank line, then signature lines:

      — <key name> <base64 (4-byte big-endian key id || signature)>

    A key is known by its name AND its id: a verifier checks both before
    it checks a signature, and skips every signature line of another key,
    as C2SP says. The id is the first four bytes of SHA-256 (name || 0x0A
    || 0x01 || 32-byte public key); the verifier key text, what the
    log_key op publishes, is <name>+<8 hex digits of the id>+<base64
    (0x01 || public key)>, Go's golang.org/x/mod/sumdb/note form.

    Key names here are 1..AUDIT_NOTE_NAME_MAX bytes of printable ASCII
    other than space and '+': C2SP's rule (no Unicode space, no plus)
    restricted to what an operator can type and a log can show. Signing
    is audit_signer's. Nothing here allocates; text from outside gets a
    result code, never an abort.
    ========================================================================= */

#ifndef AUDIT_NOTE_H_INCLUDED
#define AUDIT_NOTE_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_NOTE_NAME_MAX         255
#define AUDIT_NOTE_PUBLIC_KEY_SIZE  32
#define AUDIT_NOTE_SIGNATURE_SIZE   64
//  Signature type byte of Ed25519 (C2SP signed-note, "Signature types")
#define AUDIT_NOTE_ED25519          0x01
//  Signature lines a note may carry (C2SP: at least 16 must be accepted),
//  and the largest signature of another key read (post-quantum ones run
//  to nearly 5 kB)
#define AUDIT_NOTE_SIGNATURES_MAX   100
#define AUDIT_NOTE_FOREIGN_MAX      5120
//  Bytes of a verifier key text, with its NUL: name + 8 hex + base64 of 33
#define AUDIT_NOTE_VERIFIER_TEXT_SIZE  (AUDIT_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)
//  Bytes a signature adds to a text: the blank line and
//  "— " name " " base64 (68 bytes) "\n", with the note's NUL
#define AUDIT_NOTE_SIGN_EXTRA       (1 + 4 + AUDIT_NOTE_NAME_MAX + 1 + 92 + 1 + 1)

//  How a note's verification ended
typedef enum {
    AUDIT_NOTE_OK,                  //  signed by the verifier's key, no bad signature of it
    AUDIT_NOTE_MALFORMED,           //  not a signed note (text, separator or a signature line)
    AUDIT_NOTE_UNSIGNED,            //  no signature line of the verifier's name and id
    AUDIT_NOTE_BAD_SIGNATURE        //  a signature line of that key that does not verify
} audit_note_result_t;

//  A public key, known by name and id
typedef struct {
    char name [AUDIT_NOTE_NAME_MAX + 1];
    size_t name_len;
    uint32_t key_id;
    uint8_t public_key [AUDIT_NOTE_PUBLIC_KEY_SIZE];
} audit_note_verifier_t;

//  True when name (len bytes) may name a key.
bool
    audit_note_name_is_valid (const char *name, size_t len);

//  True when text (len bytes) may be signed: valid UTF-8, no control
//  character but newline, not empty, ending in a newline.
bool
    audit_note_text_is_valid (const char *text, size_t len);

//  The key id of an Ed25519 public key under name.
uint32_t
    audit_note_key_id (const char *name, size_t name_len, const uint8_t *public_key);

//  A verifier from its name and public key (its id computed). 0, or -1
//  when the name is not valid.
int
    audit_note_verifier_init (audit_note_verifier_t *self, const char *name, size_t name_len,
                              const uint8_t *public_key);

//  Split a key text <name>+<8 hex digits>+<base64 (0x01 || 32 bytes)> (len
//  bytes): its name (borrowed), the id it states, its 32 key bytes. 0 or -1.
int
    audit_note_key_text_split (const char *text, size_t len, const char **name, size_t *name_len,
                               uint32_t *key_id, uint8_t *key);

//  A verifier from a verifier key text (len bytes); the id it states
//  must be the one its name and key give. 0, or -1.
int
    audit_note_verifier_parse (audit_note_verifier_t *self, const char *text, size_t len);

//  The verifier key text into text (AUDIT_NOTE_VERIFIER_TEXT_SIZE bytes);
//  its length.
size_t
    audit_note_verifier_format (const audit_note_verifier_t *self, char *text);

//  Verify note (len bytes) against the verifier; on AUDIT_NOTE_OK the
//  signed text is note's first *text_len bytes (text_len may be NULL).
audit_note_result_t
    audit_note_verify (const audit_note_verifier_t *verifier, const char *note, size_t len,
                       size_t *text_len);

//  The signature line of (name, key id, signature) into line
//  (AUDIT_NOTE_SIGN_EXTRA bytes, NUL-terminated); its length. For signers.
size_t
    audit_note_signature_line (const audit_note_verifier_t *key, const uint8_t *signature,
                               char *line);

#ifdef __cplusplus
}
#endif

#endif
