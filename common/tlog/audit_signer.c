/*  =========================================================================
    audit_signer - the Ed25519 key that signs notes, and its key file

    The key in memory is libsodium's 64-byte secret key (seed || public
    key); the file holds the seed only, as Go's signer key text does. Both
    are wiped with sodium_memzero when done with.
    ========================================================================= */

#include "audit_signer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_PREFIX      "PRIVATE+KEY+"
#define S_PREFIX_LEN  12

struct _audit_signer_t {
    audit_note_verifier_t verifier;     //  name, key id, public key
    uint8_t secret_key [crypto_sign_SECRETKEYBYTES];
};

audit_signer_t *
audit_signer_new (const char *name, const uint8_t *seed)
{
    if (sodium_init () < 0 || !audit_note_name_is_valid (name, strlen (name)))
        return NULL;
    audit_signer_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    uint8_t public_key [crypto_sign_PUBLICKEYBYTES];
    uint8_t random_seed [crypto_sign_SEEDBYTES];
    if (!seed) {
        randombytes_buf (random_seed, sizeof random_seed);
        seed = random_seed;
    }
    crypto_sign_seed_keypair (public_key, self->secret_key, seed);
    sodium_memzero (random_seed, sizeof random_seed);
    audit_note_verifier_init (&self->verifier, name, strlen (name), public_key);
    return self;
}

void
audit_signer_destroy (audit_signer_t **self_p)
{
    audit_signer_t *self = *self_p;
    if (self) {
        sodium_memzero (self, sizeof *self);
        free (self);
        *self_p = NULL;
    }
}

const audit_note_verifier_t *
audit_signer_verifier (const audit_signer_t *self)
{
    return &self->verifier;
}

size_t
audit_signer_text (const audit_signer_t *self, char *text)
{
    uint8_t key [1 + crypto_sign_SEEDBYTES] = { AUDIT_NOTE_ED25519 };
    char encoded [sodium_base64_ENCODED_LEN (sizeof key, sodium_base64_VARIANT_ORIGINAL)];
    //  The seed is the secret key's first half
    memcpy (key + 1, self->secret_key, crypto_sign_SEEDBYTES);
    sodium_bin2base64 (encoded, sizeof encoded, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    const audit_note_verifier_t *verifier = &self->verifier;
    int len = snprintf (text, AUDIT_SIGNER_TEXT_SIZE, S_PREFIX "%.*s+%08x+%s",
                        (int) verifier->name_len, verifier->name,
                        (unsigned) verifier->key_id, encoded);
    sodium_memzero (key, sizeof key);
    sodium_memzero (encoded, sizeof encoded);
    return len > 0? (size_t) len: 0;
}

//  The signer of a signer key text, or NULL with why it is not one
static audit_signer_t *
s_from_text (const char *text, size_t len, const char *name, const char **why)
{
    if (len && text [len - 1] == '\n')
        len--;
    const char *stated_name;
    size_t name_len;
    uint32_t stated_id;
    uint8_t seed [crypto_sign_SEEDBYTES];
    *why = "it is not a signer key (one line: PRIVATE+KEY+<name>+<key id>+<key>)";
    if (len < S_PREFIX_LEN || memcmp (text, S_PREFIX, S_PREFIX_LEN) != 0
    ||  audit_note_key_text_split (text + S_PREFIX_LEN, len - S_PREFIX_LEN,
                                   &stated_name, &name_len, &stated_id, seed) != 0)
        return NULL;
    audit_signer_t *self = NULL;
    if (name_len != strlen (name) || memcmp (stated_name, name, name_len) != 0)
        *why = "it holds the key of another key name";
    else
    if (!(self = audit_signer_new (name, seed)))
        *why = "cannot make the key";
    else
    //  The id is checked, as a verifier key's is: a mangled seed shows here
    if (self->verifier.key_id != stated_id) {
        *why = "its key id is not its key's";
        audit_signer_destroy (&self);
    }
    sodium_memzero (seed, sizeof seed);
    return self;
}

audit_signer_t *
audit_signer_from_text (const char *text, size_t len, const char *name)
{
    const char *why;
    return s_from_text (text, len, name, &why);
}

long
audit_signer_sign (const audit_signer_t *self, const char *text, size_t len,
                   char *note, size_t size)
{
    if (!audit_note_text_is_valid (text, len) || size < len + AUDIT_NOTE_SIGN_EXTRA)
        return -1;
    uint8_t signature [crypto_sign_BYTES];
    crypto_sign_detached (signature, NULL, (const uint8_t *) text, len, self->secret_key);
    memmove (note, text, len);
    note [len] = '\n';
    size_t line = audit_note_signature_line (&self->verifier, signature, note + len + 1);
    return (long) (len + 1 + line);
}

// ---------------------------------------------------------------------
//  The key file

//  Read the signer of name from the open key file fd (closed here)
static audit_signer_t *
s_file_read (int fd, const char *name, char *reason, size_t size)
{
    struct stat info;
    char text [AUDIT_SIGNER_TEXT_SIZE + 1];
    audit_signer_t *self = NULL;
    const char *why;
    ssize_t got = -1;
    if (fstat (fd, &info) != 0)
        snprintf (reason, size, "cannot stat it: %s", strerror (errno));
    else
    if (!S_ISREG (info.st_mode))
        snprintf (reason, size, "it is not a regular file");
    else
    if (info.st_mode & (S_IRWXG | S_IRWXO))
        snprintf (reason, size, "its mode %04o lets group or others at it: chmod 600 it",
                  (unsigned) (info.st_mode & 07777));
    else
    if ((got = read (fd, text, sizeof text)) < 0)
        snprintf (reason, size, "cannot read it: %s", strerror (errno));
    else
    if (!(self = s_from_text (text, (size_t) got, name, &why)))
        snprintf (reason, size, "%s", why);
    sodium_memzero (text, sizeof text);
    close (fd);
    return self;
}

//  Write text (len bytes) to a new file of mode 0600 at path; 0 or -1
static int
s_write_new (char *path, const char *text, size_t len)
{
    int fd = mkstemp (path);
    if (fd < 0)
        return -1;
    int rc = fchmod (fd, 0600) == 0
          && write (fd, text, len) == (ssize_t) len
          && fsync (fd) == 0? 0: -1;
    if (close (fd) != 0)
        rc = -1;
    if (rc != 0)
        unlink (path);
    return rc;
}

//  Make the new name durable: fsync the directory that holds path
static void
s_sync_directory (const char *path)
{
    char directory [PATH_MAX];
    snprintf (directory, sizeof directory, "%s", path);
    char *slash = strrchr (directory, '/');
    if (slash == directory)
        slash [1] = 0;
    else
    if (slash)
        *slash = 0;
    else
        snprintf (directory, sizeof directory, ".");
    int fd = open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync (fd);
        close (fd);
    }
}

//  Create the key file at path with a new key: 0 with *created, 1 when
//  another process linked its file first, -1 with a reason
static int
s_file_create (const char *path, const char *name, audit_signer_t **created,
               char *reason, size_t size)
{
    char temporary [PATH_MAX];
    char text [AUDIT_SIGNER_TEXT_SIZE + 1];
    if (snprintf (temporary, sizeof temporary, "%s.XXXXXX", path) >= (int) sizeof temporary) {
        snprintf (reason, size, "its path is too long");
        return -1;
    }
    audit_signer_t *self = audit_signer_new (name, NULL);
    if (!self) {
        snprintf (reason, size, "cannot make a key");
        return -1;
    }
    size_t len = audit_signer_text (self, text);
    text [len++] = '\n';
    int rc = s_write_new (temporary, text, len);
    sodium_memzero (text, sizeof text);
    if (rc == 0) {
        rc = link (temporary, path) == 0? 0: errno == EEXIST? 1: -1;
        if (rc < 0)
            snprintf (reason, size, "cannot create it: %s", strerror (errno));
        unlink (temporary);
    }
    else
        snprintf (reason, size, "cannot create it: %s", strerror (errno));
    if (rc == 0) {
        s_sync_directory (path);
        *created = self;
    }
    else
        audit_signer_destroy (&self);
    return rc;
}

audit_signer_t *
audit_signer_load (const char *path, const char *name, char *reason, size_t size)
{
    if (!audit_note_name_is_valid (name, strlen (name))) {
        snprintf (reason, size, "the key name is not a note key name");
        return NULL;
    }
    //  Twice at most: a file another process created just now is read
    //  on the second round
    for (int round = 0; round < 2; round++) {
        int fd = open (path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0)
            return s_file_read (fd, name, reason, size);
        if (errno != ENOENT) {
            snprintf (reason, size, "cannot open it: %s", strerror (errno));
            return NULL;
        }
        audit_signer_t *created = NULL;
        int rc = s_file_create (path, name, &created, reason, size);
        if (rc <= 0)
            return created;
    }
    snprintf (reason, size, "it came and went while it was being created");
    return NULL;
}
