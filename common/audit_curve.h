/*  =========================================================================
    audit_curve - the CURVE keys one side of a connection uses (contract:
    "Transport security (CURVE)")

    A server holds the service's certificate, secret key included (the
    file CZMQ's zcert_save writes, AUDIT_CURVE_SECRET_FILE); a client holds
    the service's public key and its own keypair, from its certificate or
    made for this run. audit_socket applies one of them to every socket it
    makes; nothing else sets a CURVE option.
    ========================================================================= */

#ifndef AUDIT_CURVE_H_INCLUDED
#define AUDIT_CURVE_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

//  A public key as Z85 text, and its size with the NUL
#define AUDIT_CURVE_KEY_TEXT_LEN    40
#define AUDIT_CURVE_KEY_TEXT_SIZE   (AUDIT_CURVE_KEY_TEXT_LEN + 1)
//  The metadata names of a producer certificate
#define AUDIT_CURVE_META_PRODUCER   "producer_id"
#define AUDIT_CURVE_META_ORGS       "orgs"
//  The ZAP domains of the service's sockets: ingest and ack, and query
#define AUDIT_CURVE_DOMAIN_PRODUCER "producer"
#define AUDIT_CURVE_DOMAIN_QUERY    "query"
//  The connection property the ZAP handler sets to the client's public key
#define AUDIT_CURVE_PROPERTY_KEY    "Key"
//  The largest certificate file read: a zcert file is a few hundred bytes
#define AUDIT_CURVE_FILE_MAX        (64 * 1024)

typedef struct _audit_curve_t audit_curve_t;

//  The server side from the certificate at secret_file (it must hold the
//  secret key). NULL with a one-line reason in reason (size bytes).
audit_curve_t *
    audit_curve_server_new (const char *secret_file, char *reason, size_t size);

//  The client side: server_key is the service's public key, as 40 Z85
//  characters or the path of its public certificate; cert_file is the
//  client's own certificate (the public file; its secret is read from
//  cert_file "_secret"), or NULL or "" for a new keypair. NULL with a
//  one-line reason in reason.
audit_curve_t *
    audit_curve_client_new (const char *server_key, const char *cert_file,
                            char *reason, size_t size);

//  Destroy; safe on NULL and twice.
void
    audit_curve_destroy (audit_curve_t **self_p);

//  true for a server side.
bool
    audit_curve_is_server (const audit_curve_t *self);

//  The public key of this side, Z85 text.
const char *
    audit_curve_public_txt (const audit_curve_t *self);

//  Make socket a CURVE server in zap_domain, or a CURVE client, before
//  it binds or connects.
void
    audit_curve_apply (const audit_curve_t *self, zsock_t *socket, const char *zap_domain);

//  0 when text is a public key: 40 Z85 characters that decode.
int
    audit_curve_key_check (const char *text);

//  The ZPL text of the regular file at path, at most AUDIT_CURVE_FILE_MAX
//  bytes, or NULL. Every certificate is read through here: CZMQ's
//  zconfig_load and zcert_load leak the file they opened when its text is
//  not ZPL, and certificates come from outside.
zconfig_t *
    audit_curve_config_load (const char *path);

#ifdef __cplusplus
}
#endif

#endif
