/*  =========================================================================
    audit_curve - the CURVE keys one side of a connection uses
    ========================================================================= */

#include "audit_curve.h"

#include <errno.h>
#include <sys/stat.h>

struct _audit_curve_t {
    bool server;
    zcert_t *cert;                  //  this side's keypair
    char server_key [AUDIT_CURVE_KEY_TEXT_SIZE];    //  client: the service's
};

int
audit_curve_key_check (const char *text)
{
    uint8_t key [32];
    if (!text || strlen (text) != AUDIT_CURVE_KEY_TEXT_LEN)
        return -1;
    return zmq_z85_decode (key, text) ? 0 : -1;
}

//  A certificate file that exists, for a reason better than zcert's NULL
static int
s_file_check (const char *path, char *reason, size_t size)
{
    struct stat info;
    if (stat (path, &info) != 0 || !S_ISREG (info.st_mode)) {
        snprintf (reason, size, "cannot use the certificate %s: %s", path,
                  errno && !S_ISDIR (info.st_mode) ? strerror (errno) : "not a file");
        return -1;
    }
    return 0;
}

zconfig_t *
audit_curve_config_load (const char *path)
{
    struct stat info;
    if (stat (path, &info) != 0 || !S_ISREG (info.st_mode) || info.st_size > AUDIT_CURVE_FILE_MAX)
        return NULL;
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    zchunk_t *chunk = zchunk_read (file, AUDIT_CURVE_FILE_MAX + 1);
    fclose (file);
    zconfig_t *root = NULL;
    if (chunk && zchunk_size (chunk) > 0 && zchunk_size (chunk) <= AUDIT_CURVE_FILE_MAX)
        root = zconfig_chunk_load (chunk);
    zchunk_destroy (&chunk);
    return root;
}

//  The key at name (curve/public-key or curve/secret-key) of the
//  certificate at path into out; -1 when it has none that decodes
static int
s_key_read (const char *path, const char *name, char *out)
{
    zconfig_t *root = audit_curve_config_load (path);
    const char *key = root ? zconfig_get (root, name, NULL) : NULL;
    int rc = audit_curve_key_check (key);
    if (rc == 0)
        memcpy (out, key, AUDIT_CURVE_KEY_TEXT_SIZE);
    zconfig_destroy (&root);
    return rc;
}

//  A certificate from two keys already checked (zcert_new_from_txt is draft)
static zcert_t *
s_cert_from_txt (const char *public_txt, const char *secret_txt)
{
    uint8_t public_key [32], secret_key [32];
    zmq_z85_decode (public_key, public_txt);
    zmq_z85_decode (secret_key, secret_txt);
    zcert_t *cert = zcert_new_from (public_key, secret_key);
    memset (secret_key, 0, sizeof secret_key);
    return cert;
}

//  A certificate with a secret key that decodes, or NULL: the public file
//  at path, the secret beside it as path "_secret", as zcert_save writes
static zcert_t *
s_load_keypair (const char *path, char *reason, size_t size)
{
    if (s_file_check (path, reason, size) != 0)
        return NULL;
    char public_txt [AUDIT_CURVE_KEY_TEXT_SIZE], secret_txt [AUDIT_CURVE_KEY_TEXT_SIZE];
    char secret_path [4096];
    zcert_t *cert = NULL;
    if (snprintf (secret_path, sizeof secret_path, "%s_secret", path) < (int) sizeof secret_path
    &&  s_key_read (path, "curve/public-key", public_txt) == 0
    &&  s_key_read (secret_path, "curve/secret-key", secret_txt) == 0
    &&  !streq (secret_txt, "0000000000000000000000000000000000000000"))
        cert = s_cert_from_txt (public_txt, secret_txt);
    //  a secret that is not the public key's own would fail every handshake
    if (cert && !streq (zcert_public_txt (cert), public_txt))
        zcert_destroy (&cert);
    if (!cert)
        snprintf (reason, size, "cannot use the certificate %s: no keypair in it"
                  " (a zcert file, its secret key beside it as %s_secret)", path, path);
    return cert;
}

audit_curve_t *
audit_curve_server_new (const char *secret_file, char *reason, size_t size)
{
    audit_curve_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (reason, size, "out of memory");
        return NULL;
    }
    self->server = true;
    self->cert = s_load_keypair (secret_file, reason, size);
    if (!self->cert)
        audit_curve_destroy (&self);
    return self;
}

//  The service's public key, given as text or as its public certificate
static int
s_server_key (audit_curve_t *self, const char *server_key, char *reason, size_t size)
{
    //  A file first: a path can be 40 characters of the Z85 alphabet too
    struct stat info;
    if (stat (server_key, &info) != 0 && audit_curve_key_check (server_key) == 0) {
        snprintf (self->server_key, sizeof self->server_key, "%s", server_key);
        return 0;
    }
    if (s_file_check (server_key, reason, size) != 0)
        return -1;
    int rc = s_key_read (server_key, "curve/public-key", self->server_key);
    if (rc != 0)
        snprintf (reason, size, "the server key is neither 40 Z85 characters nor a certificate");
    return rc;
}

audit_curve_t *
audit_curve_client_new (const char *server_key, const char *cert_file,
                        char *reason, size_t size)
{
    audit_curve_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (reason, size, "out of memory");
        return NULL;
    }
    if (s_server_key (self, server_key ? server_key : "", reason, size) != 0) {
        audit_curve_destroy (&self);
        return NULL;
    }
    self->cert = cert_file && *cert_file ? s_load_keypair (cert_file, reason, size)
                                         : zcert_new ();
    if (!self->cert) {
        if (!cert_file || !*cert_file)
            snprintf (reason, size, "cannot make a CURVE keypair");
        audit_curve_destroy (&self);
    }
    return self;
}

void
audit_curve_destroy (audit_curve_t **self_p)
{
    audit_curve_t *self = *self_p;
    if (self) {
        zcert_destroy (&self->cert);
        free (self);
        *self_p = NULL;
    }
}

bool
audit_curve_is_server (const audit_curve_t *self)
{
    return self->server;
}

const char *
audit_curve_public_txt (const audit_curve_t *self)
{
    return zcert_public_txt (self->cert);
}

void
audit_curve_apply (const audit_curve_t *self, zsock_t *socket, const char *zap_domain)
{
    zcert_apply (self->cert, socket);
    if (self->server) {
        zsock_set_curve_server (socket, 1);
        zsock_set_zap_domain (socket, zap_domain ? zap_domain : "");
    }
    else
        zsock_set_curve_serverkey (socket, self->server_key);
}
