/*  =========================================================================
    audit_signer - the Ed25519 key that signs notes, and its key file

    The key file (AUDIT_SIGNING_KEY_FILE) is one line, the signer key text
    of Go's golang.org/x/mod/sumdb/note, so that Go's note.NewSigner reads
    it as it is:

      PRIVATE+KEY+<name>+<8 hex digits of the key id>+<base64 (0x01 || 32-byte seed)>

    The file names its key: a key id depends on the name, so a key loaded
    under another name would sign notes no published verifier key matches.
    Loading compares the two and refuses a file of another name.

    A file that is absent is created: a new key in a temporary file (mode
    0600 from the start), fsynced, then link ()ed into place, which fails
    when the name exists, as O_EXCL does, but only ever shows a complete
    file. Of two workers starting together one links, the other reads the
    winner's key. A file that group or others may read or write is
    refused, with a reason.
    ========================================================================= */

#ifndef AUDIT_SIGNER_H_INCLUDED
#define AUDIT_SIGNER_H_INCLUDED

#include "audit_note.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_SIGNER_SEED_SIZE  32
//  Bytes of a signer key text, with its NUL: "PRIVATE+KEY+", the name,
//  8 hex digits, base64 of 33 bytes, the separators
#define AUDIT_SIGNER_TEXT_SIZE  (12 + AUDIT_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

typedef struct _audit_signer_t audit_signer_t;

//  A signer named name from a 32-byte seed, or from a new random key when
//  seed is NULL. NULL when the name is not a key name.
audit_signer_t *
    audit_signer_new (const char *name, const uint8_t *seed);

//  Destroy the signer (its secret wiped); safe twice.
void
    audit_signer_destroy (audit_signer_t **self_p);

//  The signer of name from the key file at path, created when absent.
//  NULL with a reason (never a byte of the key) when it cannot be.
audit_signer_t *
    audit_signer_load (const char *path, const char *name, char *reason, size_t size);

//  The signer from a signer key text (len bytes, one trailing newline
//  allowed) whose name must be name. NULL when it is not one.
audit_signer_t *
    audit_signer_from_text (const char *text, size_t len, const char *name);

//  The signer key text into text (AUDIT_SIGNER_TEXT_SIZE bytes); its length.
size_t
    audit_signer_text (const audit_signer_t *self, char *text);

//  The verifier of this signer's notes: name, key id, public key.
const audit_note_verifier_t *
    audit_signer_verifier (const audit_signer_t *self);

//  Sign text (len bytes, audit_note_text_is_valid) into note (size bytes;
//  len + AUDIT_NOTE_SIGN_EXTRA suffice), NUL-terminated. The note's
//  length, or -1 when the text may not be signed or note is too small.
long
    audit_signer_sign (const audit_signer_t *self, const char *text, size_t len,
                       char *note, size_t size);

#ifdef __cplusplus
}
#endif

#endif
