/*  =========================================================================
    ctl_client - one REQ socket to the query worker

    Each call is one request and one reply, with send and receive timeouts
    and no retry: a REQ socket that timed out cannot be reused, and a
    person at a terminal (or a HEALTHCHECK) is better served by a clear
    "no answer" than by a client that hides an outage behind retries.
    ========================================================================= */

#ifndef CTL_CLIENT_H_INCLUDED
#define CTL_CLIENT_H_INCLUDED

#include "audit_curve.h"
#include "ctl_reply.h"
#include "ctl_request.h"

#ifdef __cplusplus
extern "C" {
#endif

//  auditctl's exit codes
#define CTL_EXIT_OK         0       //  done
#define CTL_EXIT_REFUSED    1       //  the service answered ok: false (or nonsense)
#define CTL_EXIT_USAGE      2       //  bad flags or arguments
#define CTL_EXIT_NO_ANSWER  3       //  no answer within the timeout

typedef struct _ctl_client_t ctl_client_t;

//  The CURVE client settings from the environment (AUDIT_CURVE_SERVER_KEY,
//  AUDIT_CURVE_CLIENT_CERT): "" when not set; the texts live to the end.
//  0, or -1 with a line on stderr when a value is not usable.
int
    ctl_client_curve_settings (const char **server_key, const char **client_cert);

//  The CURVE client keys those settings name: 0 with *curve, NULL when no
//  server key is set; -1 with a line on stderr.
int
    ctl_client_curve (audit_curve_t **curve);

//  Connect a REQ socket to endpoint (CURVE when the settings say so). NULL (with a line on stderr) when the
//  endpoint is not valid.
ctl_client_t *
    ctl_client_new (const char *endpoint, int timeout_ms);

//  From now on print a refusal as one JSON line on stderr,
//  {"error":{"code":...,"message":...}}, for a program reading --json.
void
    ctl_client_set_json (ctl_client_t *self, bool json);

//  Destroy; safe on NULL and twice.
void
    ctl_client_destroy (ctl_client_t **self_p);

//  Send request and wait for its reply. CTL_EXIT_OK with *reply_p set (the
//  caller destroys it); CTL_EXIT_REFUSED when the reply is ok: false or
//  not a reply at all (the error is printed as "error: <code>: <message>");
//  CTL_EXIT_NO_ANSWER on timeout (printed too). After a NO_ANSWER the
//  client is unusable.
int
    ctl_client_call (ctl_client_t *self, const ctl_request_t *request, ctl_reply_t **reply_p);

#ifdef __cplusplus
}
#endif

#endif
