/*  =========================================================================
    audit_socket - every socket that binds or connects to an endpoint is
    made here, from its settings
    ========================================================================= */

#include "audit_socket.h"
#include "audit_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

//  A port given as digits must be one libzmq keeps as given
static int
s_check_port (const char *digits)
{
    if (!*digits || strspn (digits, "0123456789") != strlen (digits))
        return -1;
    char *end;
    errno = 0;
    unsigned long port = strtoul (digits, &end, 10);
    return errno || *end || port < 1 || port > 65535 ? -1 : 0;
}

int
audit_socket_endpoint_check (const char *endpoint)
{
    const char *scheme = strstr (endpoint, "://");
    if (!scheme || scheme == endpoint || !scheme [3])
        return -1;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return 0;
    const char *port = strrchr (endpoint + 6, ':');
    if (!port || !port [1])
        return -1;
    if (strspn (port + 1, "0123456789") != strlen (port + 1))
        return 0;                       //  "*", "!", a range: CZMQ's to judge
    return s_check_port (port + 1);
}

bool
audit_socket_is_local (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6) == 0 || strncmp (endpoint, "inproc://", 9) == 0)
        return true;
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return false;
    const char *host = endpoint + 6;
    const char *port = strrchr (host, ':');
    size_t len = port ? (size_t) (port - host) : strlen (host);
    if (len == 9 && strncmp (host, "localhost", 9) == 0)
        return true;
    if (len == 5 && strncmp (host, "[::1]", 5) == 0)
        return true;
    //  127.d.d.d: the whole 127.0.0.0/8 is loopback
    unsigned a, b, c, d;
    char tail;
    char text [64];
    if (len >= sizeof text || strncmp (host, "127.", 4) != 0)
        return false;
    memcpy (text, host, len);
    text [len] = 0;
    return sscanf (text, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4
        && b < 256 && c < 256 && d < 256;
}

static int
s_hwm (int hwm)
{
    return hwm == AUDIT_SOCKET_HWM_NONE ? 0 : hwm;
}

static void
s_set_limits (zsock_t *socket, const audit_socket_options_t *options)
{
    if (options->sndhwm)
        zsock_set_sndhwm (socket, s_hwm (options->sndhwm));
    if (options->rcvhwm)
        zsock_set_rcvhwm (socket, s_hwm (options->rcvhwm));
    if (options->maxmsgsize)
        zsock_set_maxmsgsize (socket, options->maxmsgsize);
    zsock_set_linger (socket, options->linger_ms);
    if (options->sndtimeo_ms)
        zsock_set_sndtimeo (socket, options->sndtimeo_ms);
    if (options->rcvtimeo_ms)
        zsock_set_rcvtimeo (socket, options->rcvtimeo_ms);
}

zsock_t *
audit_socket_new (const audit_socket_options_t *options, char *reason, size_t size)
{
    const char *verb = options->bind ? "bind" : "connect";
    const char *why = "not an endpoint (tcp port 1 to 65535)";
    zsock_t *socket = NULL;
    bool refused = options->bind && !options->curve && !options->allow_plaintext
                && !audit_socket_is_local (options->endpoint);
    if (refused)
        why = "plaintext beyond loopback: set AUDIT_CURVE_SECRET_FILE, or AUDIT_ALLOW_PLAINTEXT=1";
    else
    if (audit_socket_endpoint_check (options->endpoint) == 0) {
        why = "cannot make the socket";
        socket = zsock_new (options->type);
    }
    if (socket) {
        s_set_limits (socket, options);
        if (options->curve)
            audit_curve_apply (options->curve, socket, options->zap_domain);
        int rc = options->bind ? zsock_bind (socket, "%s", options->endpoint)
                               : zsock_connect (socket, "%s", options->endpoint);
        if (rc != -1)
            return socket;
        why = zmq_strerror (zmq_errno ());
        zsock_destroy (&socket);
    }
    if (reason)
        snprintf (reason, size, "cannot %s to %s: %s", verb, options->endpoint, why);
    else
        audit_log_error ("msg=cannot_%s endpoint=%s reason=\"%s\"", verb, options->endpoint, why);
    return NULL;
}
