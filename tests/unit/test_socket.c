/*  audit_socket: sockets are made from their settings and bound or
    connected; an endpoint that cannot be used gives NULL and one reason. */

#include <criterion/criterion.h>
#include <czmq.h>
#include <string.h>

#include "audit_socket.h"
#include "test_support.h"

TestSuite (socket, .timeout = 30);

Test (socket, the_endpoint_rule_is_the_settings_rule)
{
    cr_expect_eq (audit_socket_endpoint_check ("tcp://127.0.0.1:5570"), 0);
    cr_expect_eq (audit_socket_endpoint_check ("tcp://*:5571"), 0);
    cr_expect_eq (audit_socket_endpoint_check ("tcp://*:*"), 0);
    cr_expect_eq (audit_socket_endpoint_check ("tcp://127.0.0.1:!"), 0);
    cr_expect_eq (audit_socket_endpoint_check ("tcp://[::1]:65535"), 0);
    cr_expect_eq (audit_socket_endpoint_check ("ipc:///tmp/audit.sock"), 0);
    cr_expect_eq (audit_socket_endpoint_check ("inproc://x"), 0);
    cr_expect_neq (audit_socket_endpoint_check ("tcp://127.0.0.1:65536"), 0);
    cr_expect_neq (audit_socket_endpoint_check ("tcp://127.0.0.1:0"), 0);
    cr_expect_neq (audit_socket_endpoint_check ("tcp://127.0.0.1:"), 0);
    cr_expect_neq (audit_socket_endpoint_check ("tcp://127.0.0.1"), 0);
    cr_expect_neq (audit_socket_endpoint_check ("127.0.0.1:5570"), 0);
    cr_expect_neq (audit_socket_endpoint_check ("tcp://"), 0);
    cr_expect_neq (audit_socket_endpoint_check ("://x"), 0);
}

//  A bound ROUTER and a connected REQ with a receive timeout carry a
//  request and its reply; the options are those that were asked for
Test (socket, a_bound_and_a_connected_socket_talk)
{
    char endpoint [64], reason [256] = "";
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    audit_socket_options_t bound = {
        .type = ZMQ_ROUTER, .endpoint = endpoint, .bind = true, .maxmsgsize = 4096
    };
    audit_socket_options_t connected = {
        .type = ZMQ_REQ, .endpoint = endpoint, .sndhwm = AUDIT_SOCKET_HWM_NONE,
        .rcvhwm = 7, .linger_ms = 25, .rcvtimeo_ms = 5000, .sndtimeo_ms = 5000
    };
    zsock_t *router = audit_socket_new (&bound, reason, sizeof reason);
    zsock_t *req = audit_socket_new (&connected, reason, sizeof reason);
    cr_assert_not_null (router, "%s", reason);
    cr_assert_not_null (req, "%s", reason);
    cr_expect_eq (zsock_type (router), ZMQ_ROUTER);
    cr_expect_eq (zsock_maxmsgsize (router), 4096);
    cr_expect_eq (zsock_sndhwm (req), 0);
    cr_expect_eq (zsock_rcvhwm (req), 7);
    cr_expect_eq (zsock_linger (req), 25);
    cr_expect_eq (zsock_rcvtimeo (req), 5000);
    zsock_set_rcvtimeo (router, 5000);
    cr_assert_eq (zstr_send (req, "ping"), 0);
    zmsg_t *msg = zmsg_recv (router);
    cr_assert_not_null (msg);
    cr_expect_eq (zmsg_size (msg), 3);
    cr_assert_eq (zmsg_send (&msg, router), 0);
    char *reply = zstr_recv (req);
    cr_expect_str_eq (reply, "ping");
    zstr_free (&reply);
    zsock_destroy (&req);
    zsock_destroy (&router);
}

Test (socket, an_endpoint_in_use_gives_null_and_why)
{
    char endpoint [64], reason [256] = "";
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", test_free_port ());
    audit_socket_options_t options = { .type = ZMQ_SUB, .endpoint = endpoint, .bind = true };
    zsock_t *first = audit_socket_new (&options, reason, sizeof reason);
    cr_assert_not_null (first, "%s", reason);
    cr_expect_null (audit_socket_new (&options, reason, sizeof reason));
    cr_expect (strstr (reason, "cannot bind") && strstr (reason, endpoint), "%s", reason);
    cr_expect (strstr (reason, "in use"), "%s", reason);
    zsock_destroy (&first);
}

//  Beyond 65535 libzmq would quietly use another port: refused first
Test (socket, a_port_out_of_range_is_refused)
{
    char reason [256] = "";
    audit_socket_options_t options = {
        .type = ZMQ_REQ, .endpoint = "tcp://127.0.0.1:70000"
    };
    cr_expect_null (audit_socket_new (&options, reason, sizeof reason));
    cr_expect (strstr (reason, "cannot connect") && strstr (reason, "65535"), "%s", reason);
}
