/*  =========================================================================
    audit_zap - the ZAP handler (RFC 27) of a worker's CURVE sockets

    libzmq asks the handler bound at inproc://zeromq.zap.01 about every
    CURVE handshake; a CURVE server with no handler there accepts every
    client key, so a worker makes this before it binds any CURVE socket,
    and polls its socket on the thread that reads the CURVE sockets (one
    thread owns the key table: no lock). One per process.

    It serves one domain. With a key directory, only the keys of its
    certificates are allowed; without one (query alone), any key. An
    allowed connection gets the producer_id of its certificate as its
    User-Id and its public key as the property "Key", which every message
    on it carries (zmq_msg_gets), so that a worker can tell, message by
    message, whose certificate sent it and whether it is still allowed.
    A refusal is counted by the caller and logged at most once per key
    per minute.
    ========================================================================= */

#ifndef AUDIT_ZAP_H_INCLUDED
#define AUDIT_ZAP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#include "audit_certs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_ZAP_ENDPOINT      "inproc://zeromq.zap.01"
//  A key refused is logged again after this long, at the earliest
#define AUDIT_ZAP_LOG_EVERY_MS  60000
//  Keys whose last log line the handler remembers
#define AUDIT_ZAP_NOTED_MAX     4096

typedef struct {
    const char *domain;             //  the ZAP domain it serves
    const char *keys_dir;           //  NULL or "": any key
    bool producers;                 //  every certificate names a producer
} audit_zap_options_t;

typedef struct _audit_zap_t audit_zap_t;

//  Load the directory, then bind the handler. NULL when either fails (the
//  reason is logged).
audit_zap_t *
    audit_zap_new (const audit_zap_options_t *options);

//  Unbind; after the CURVE sockets are closed. Safe on NULL and twice.
void
    audit_zap_destroy (audit_zap_t **self_p);

//  The handler's socket, for the owner's poller.
zsock_t *
    audit_zap_socket (audit_zap_t *self);

//  Answer every request waiting; returns how many were refused.
size_t
    audit_zap_handle (audit_zap_t *self);

//  Re-read the key directory, logging what changed. 0, or -1 when it
//  cannot be read (the keys stay as they were).
int
    audit_zap_reload (audit_zap_t *self);

//  The certificate of key (Z85) while it is allowed, else NULL; NULL too
//  when the handler allows any key.
const audit_certs_entry_t *
    audit_zap_lookup (audit_zap_t *self, const char *key);

//  Log "msg=<what> key=<key> reason=<reason>" unless that key was logged
//  in the last minute.
void
    audit_zap_note (audit_zap_t *self, const char *what, const char *key, const char *reason);

#ifdef __cplusplus
}
#endif

#endif
