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
    if (audit_socket_endpoint_check (options->endpoint) == 0) {
        why = "cannot make the socket";
        socket = zsock_new (options->type);
    }
    if (socket) {
        s_set_limits (socket, options);
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
