/*  =========================================================================
    audit_socket - every socket that binds or connects to an endpoint is
    made here, from its settings

    One place sets the limits, the CURVE keys (audit_curve) and binds or
    connects, for every worker, auditctl and the producer library. Without
    CURVE a bind takes only loopback and ipc:// endpoints unless the
    options allow plaintext (contract: "Transport security"). Inproc
    pipes between a worker's threads are not made here.
    ========================================================================= */

#ifndef AUDIT_SOCKET_H_INCLUDED
#define AUDIT_SOCKET_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#include "audit_curve.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A high-water mark of none at all (libzmq's 0), as opposed to the
//  field's 0, which keeps libzmq's default
#define AUDIT_SOCKET_HWM_NONE   (-1)

typedef struct {
    int type;                       //  ZMQ_SUB, ZMQ_ROUTER, ZMQ_REQ...
    const char *endpoint;
    bool bind;                      //  bind, else connect
    int sndhwm;                     //  messages; 0: default, AUDIT_SOCKET_HWM_NONE
    int rcvhwm;                     //  messages; 0: default, AUDIT_SOCKET_HWM_NONE
    int maxmsgsize;                 //  bytes; 0: no limit
    int linger_ms;                  //  what close waits for unsent messages
    int sndtimeo_ms;                //  0: a send waits as long as it must
    int rcvtimeo_ms;                //  0: a receive waits as long as it must
    const audit_curve_t *curve;     //  NULL: plaintext; else CURVE server or client
    const char *zap_domain;         //  a CURVE server's ZAP domain
    bool allow_plaintext;           //  bind without CURVE beyond loopback
} audit_socket_options_t;

//  0 when endpoint can be bound or connected: a transport, and for tcp a
//  numeric port of 1..65535 (libzmq takes a larger one as some other
//  port without a word) or CZMQ's "*", "!" and ranges.
int
    audit_socket_endpoint_check (const char *endpoint);

//  true when endpoint stays on this host: ipc://, inproc://, or tcp on
//  127.0.0.0/8, ::1 or localhost.
bool
    audit_socket_is_local (const char *endpoint);

//  A socket made from options, bound or connected. NULL when it cannot be:
//  the one-line reason is then written to reason (size bytes) when reason
//  is given, else logged as msg=cannot_bind or msg=cannot_connect.
zsock_t *
    audit_socket_new (const audit_socket_options_t *options, char *reason, size_t size);

#ifdef __cplusplus
}
#endif

#endif
