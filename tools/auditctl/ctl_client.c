/*  =========================================================================
    ctl_client - one REQ socket to the query worker
    ========================================================================= */

#include "ctl_client.h"
#include "ctl_json.h"

#include "audit_config.h"

#include <czmq.h>

#include "audit_socket.h"

struct _ctl_client_t {
    zsock_t *socket;
    int timeout_ms;
    bool broken;                    //  a call timed out: REQ state is lost
    bool json;                      //  refusals as a JSON line
};

int
ctl_client_curve_settings (const char **server_key, const char **client_cert)
{
    static audit_config_t config;       //  large: not on the stack
    static const audit_setting_t settings [] = {
        AUDIT_SET_CURVE_SERVER_KEY, AUDIT_SET_CURVE_CLIENT_CERT
    };
    char *argv [] = { (char *) "auditctl", NULL };
    if (audit_config_load (&config, 1, argv, "auditctl", "", settings, 2) != AUDIT_CONFIG_OK)
        return -1;
    *server_key = audit_config_str (&config, AUDIT_SET_CURVE_SERVER_KEY);
    *client_cert = audit_config_str (&config, AUDIT_SET_CURVE_CLIENT_CERT);
    return 0;
}

int
ctl_client_curve (audit_curve_t **curve)
{
    const char *server_key, *client_cert;
    char reason [512];
    *curve = NULL;
    if (ctl_client_curve_settings (&server_key, &client_cert) != 0)
        return -1;
    if (*server_key && !(*curve = audit_curve_client_new (server_key, client_cert,
                                                          reason, sizeof reason))) {
        fprintf (stderr, "auditctl: CURVE: %s\n", reason);
        return -1;
    }
    return 0;
}

ctl_client_t *
ctl_client_new (const char *endpoint, int timeout_ms)
{
    ctl_client_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->timeout_ms = timeout_ms;
    //  Never hold the process at exit (linger 0) for a request nobody took
    audit_curve_t *curve = NULL;
    if (ctl_client_curve (&curve) != 0) {
        ctl_client_destroy (&self);
        return NULL;
    }
    audit_socket_options_t options = {
        .type = ZMQ_REQ, .endpoint = endpoint,
        .sndtimeo_ms = timeout_ms, .rcvtimeo_ms = timeout_ms, .curve = curve
    };
    char reason [256];
    self->socket = audit_socket_new (&options, reason, sizeof reason);
    audit_curve_destroy (&curve);
    if (!self->socket) {
        fprintf (stderr, "auditctl: %s\n", reason);
        ctl_client_destroy (&self);
    }
    return self;
}

void
ctl_client_destroy (ctl_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_client_t *self = *self_p;
    zsock_destroy (&self->socket);
    free (self);
    *self_p = NULL;
}

static int
s_send (ctl_client_t *self, const ctl_request_t *request)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int rc = ctl_request_encode (request, &buffer);
    if (rc == 0)
        rc = zmq_send (zsock_resolve (self->socket), buffer.data, buffer.size, 0) < 0 ? -1 : 0;
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

void
ctl_client_set_json (ctl_client_t *self, bool json)
{
    self->json = json;
}

static void
s_print_error (bool json, const char *code, const char *message)
{
    if (!json) {
        fprintf (stderr, "error: %s: %s\n", code, message);
        return;
    }
    fputs ("{\"error\":{\"code\":", stderr);
    ctl_json_write_str (stderr, code, strlen (code));
    fputs (",\"message\":", stderr);
    ctl_json_write_str (stderr, message, strlen (message));
    fputs ("}}\n", stderr);
}

//  Print a refused or malformed reply and say REFUSED
static int
s_refused (const ctl_client_t *self, const ctl_reply_t *reply)
{
    char code [64], message [512];
    if (reply)
        ctl_reply_error (reply, code, sizeof code, message, sizeof message);
    else {
        snprintf (code, sizeof code, "bad_reply");
        snprintf (message, sizeof message, "the reply is not a MessagePack map");
    }
    s_print_error (self->json, code, message);
    return CTL_EXIT_REFUSED;
}

static int
s_no_answer (ctl_client_t *self)
{
    self->broken = true;
    char message [128];
    if (zsys_interrupted)               //  CZMQ's handler caught Ctrl-C
        snprintf (message, sizeof message, "interrupted");
    else
        snprintf (message, sizeof message, "no answer from the query service within %d ms",
                  self->timeout_ms);
    if (self->json)
        s_print_error (true, "no_answer", message);
    else
        fprintf (stderr, "error: %s\n", message);
    return CTL_EXIT_NO_ANSWER;
}

int
ctl_client_call (ctl_client_t *self, const ctl_request_t *request, ctl_reply_t **reply_p)
{
    *reply_p = NULL;
    if (self->broken)
        return CTL_EXIT_NO_ANSWER;
    if (s_send (self, request) != 0)
        return s_no_answer (self);
    zframe_t *frame = zframe_recv (self->socket);
    if (!frame)
        return s_no_answer (self);
    bool more = zframe_more (frame);
    ctl_reply_t *reply = more ? NULL : ctl_reply_new (zframe_data (frame), zframe_size (frame));
    zframe_destroy (&frame);
    if (more)                           //  drain the rest so REQ stays in step
        while (zsock_rcvmore (self->socket)) {
            zframe_t *extra = zframe_recv (self->socket);
            zframe_destroy (&extra);
        }
    if (!reply || !ctl_reply_ok (reply)) {
        int rc = s_refused (self, reply);
        ctl_reply_destroy (&reply);
        return rc;
    }
    *reply_p = reply;
    return CTL_EXIT_OK;
}
