/*  audit_conns: the cap it takes, and a connection past it refused. */

#include <criterion/criterion.h>

#include "audit_conns.h"

Test (conns, the_cap_is_the_setting_within_the_fd_limit)
{
    size_t spare = AUDIT_CONNS_FD_MARGIN + AUDIT_CONNS_RESERVE;
    cr_expect_eq (audit_conns_cap_of (1024, 1048576, 50), 1024);
    cr_expect_eq (audit_conns_cap_of (0, 1024, 50), 1024 - 50 - spare);
    cr_expect_eq (audit_conns_cap_of (1024, 256, 50), 256 - 50 - spare, "ulimit -n 256");
    cr_expect_eq (audit_conns_cap_of (1024, 40, 50), 1, "never none");
}

//  Connections to a bound socket until open stops growing
static size_t
s_wait_open (audit_conns_t *conns, size_t want)
{
    for (int attempt = 0; attempt < 200 && audit_conns_open (conns) < want; attempt++)
        zclock_sleep (10);
    return audit_conns_open (conns);
}

Test (conns, a_connection_past_the_cap_is_refused_and_counted, .timeout = 30)
{
    zsock_t *server = zsock_new (ZMQ_ROUTER);
    cr_assert_geq (zsock_bind (server, "tcp://127.0.0.1:*"), 0);
    audit_conns_t *conns = audit_conns_new (2, 0);
    cr_assert_not_null (conns);
    cr_assert_eq (audit_conns_cap (conns), 2);
    cr_assert_eq (audit_conns_watch (conns, server), 0);
    char *endpoint = zsock_last_endpoint (server);
    zsock_t *clients [3];
    for (int index = 0; index < 3; index++) {
        clients [index] = zsock_new (ZMQ_DEALER);
        zsock_set_linger (clients [index], 0);
        cr_assert_eq (zsock_connect (clients [index], "%s", endpoint), 0);
        if (index < 2)
            cr_assert_eq (s_wait_open (conns, (size_t) index + 1), (size_t) index + 1);
    }
    audit_conns_report_t report = { 0 };
    for (int attempt = 0; attempt < 200 && report.refused == 0; attempt++) {
        zclock_sleep (10);
        audit_conns_take (conns, &report);
    }
    cr_expect_geq (report.refused, 1, "the third is refused");
    cr_expect_eq (audit_conns_open (conns), 2);
    //  One ends: its end is counted, and there is room again
    zsock_destroy (&clients [0]);
    int64_t ended = 0;
    for (int attempt = 0; attempt < 200 && ended == 0; attempt++) {
        zclock_sleep (10);
        audit_conns_take (conns, &report);
        ended += report.ended [0];
    }
    cr_expect_geq (ended, 1);
    for (int index = 1; index < 3; index++)
        zsock_destroy (&clients [index]);
    audit_conns_destroy (&conns);
    zstr_free (&endpoint);
    zsock_destroy (&server);
}

//  Two watched sockets, their connections starting and ending one after
//  another, so that one socket's new connection may take the fd number
//  another's just gave up before the other's monitor tells of its end (the
//  test cannot force that order, only make it likely): once they are all
//  gone, the count of open connections is back to 0 (a count left over
//  would refuse connections the cap has room for), and no end is counted
//  twice
Test (conns, fds_reused_across_two_sockets_are_counted_once, .timeout = 60)
{
    zsock_t *servers [2] = { zsock_new (ZMQ_ROUTER), zsock_new (ZMQ_ROUTER) };
    char *endpoints [2];
    audit_conns_t *conns = audit_conns_new (256, 0);
    cr_assert_not_null (conns);
    for (int index = 0; index < 2; index++) {
        cr_assert_geq (zsock_bind (servers [index], "tcp://127.0.0.1:*"), 0);
        cr_assert_eq (audit_conns_watch (conns, servers [index]), index);
        endpoints [index] = zsock_last_endpoint (servers [index]);
    }
    const int rounds = 200;
    audit_conns_report_t report;
    int64_t ended = 0, refused = 0;
    for (int round = 0; round < rounds; round++) {
        zsock_t *client = zsock_new (ZMQ_DEALER);
        zsock_set_linger (client, 0);
        cr_assert_eq (zsock_connect (client, "%s", endpoints [round % 2]), 0);
        zclock_sleep (2);
        zsock_destroy (&client);
    }
    for (int attempt = 0; attempt < 500 && (attempt < 50 || audit_conns_open (conns)); attempt++) {
        zclock_sleep (10);
        audit_conns_take (conns, &report);
        ended += report.ended [0] + report.ended [1];
        refused += report.refused;
    }
    cr_expect_eq (audit_conns_open (conns), 0);
    cr_expect_gt (ended, 0);
    cr_expect_leq (ended, rounds, "no end twice");
    cr_expect_eq (refused, 0);
    audit_conns_destroy (&conns);
    for (int index = 0; index < 2; index++) {
        zstr_free (&endpoints [index]);
        zsock_destroy (&servers [index]);
    }
}
