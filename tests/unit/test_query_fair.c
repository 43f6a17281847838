/*  query_fair on an inproc ROUTER: the per-connection cap, the turn each
    connection takes, and the replies held while a peer's pipe is full. */

#include <criterion/criterion.h>

#include "query_fair.h"

static zsock_t *s_router;
static zsock_t *s_peers [2];

static void
s_setup (void)
{
    s_router = zsock_new (ZMQ_ROUTER);
    zsock_set_sndhwm (s_router, QUERY_FAIR_SNDHWM);
    zsock_set_router_mandatory (s_router, 1);
    cr_assert_eq (zsock_bind (s_router, "inproc://test-query-fair"), 0);
    for (int index = 0; index < 2; index++) {
        s_peers [index] = zsock_new (ZMQ_DEALER);
        zsock_set_rcvhwm (s_peers [index], 1);
        zsock_set_rcvtimeo (s_peers [index], 2000);
        zsock_set_identity (s_peers [index], index ? "peer-b" : "peer-a");
        cr_assert_eq (zsock_connect (s_peers [index], "inproc://test-query-fair"), 0);
    }
}

static void
s_teardown (void)
{
    for (int index = 0; index < 2; index++)
        zsock_destroy (&s_peers [index]);
    zsock_destroy (&s_router);
}

TestSuite (query_fair, .init = s_setup, .fini = s_teardown, .timeout = 30);

//  A request of peer (0 or 1) as the ROUTER would give it: [id, "", body]
static zmsg_t *
s_request (int peer, const char *body)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, peer ? "peer-b" : "peer-a");
    zmsg_addmem (msg, "", 0);
    zmsg_addstr (msg, body);
    return msg;
}

Test (query_fair, past_its_cap_a_connection_is_not_admitted)
{
    query_fair_t *fair = query_fair_new (s_router, 2, 1 << 20);
    zmsg_t *first = s_request (0, "1"), *second = s_request (0, "2"), *third = s_request (0, "3");
    zmsg_t *other = s_request (1, "x");
    cr_assert (query_fair_admit (fair, first));
    cr_assert (query_fair_admit (fair, second));
    cr_assert_not (query_fair_admit (fair, third), "a third outstanding is one too many");
    cr_assert (query_fair_admit (fair, other), "another connection has its own count");
    //  Once a reply is sent, there is room again
    cr_assert_eq (query_fair_send (fair, &first, true), QUERY_FAIR_SENT);
    cr_assert (query_fair_admit (fair, third));
    zmsg_destroy (&second);
    zmsg_destroy (&third);
    zmsg_destroy (&other);
    query_fair_destroy (&fair);
}

Test (query_fair, connections_take_turns)
{
    query_fair_t *fair = query_fair_new (s_router, 32, 1 << 20);
    const char *order [] = { "a1", "a2", "a3", "b1" };
    for (int index = 0; index < 4; index++) {
        zmsg_t *msg = s_request (index == 3, order [index]);
        zframe_t *id = zframe_dup (zmsg_first (msg));
        query_fair_enqueue (fair, id, &msg);
        zframe_destroy (&id);
    }
    cr_assert_eq (query_fair_waiting (fair), 4);
    const char *expected [] = { "a1", "b1", "a2", "a3" };
    for (int index = 0; index < 4; index++) {
        zmsg_t *msg = query_fair_next (fair);
        cr_assert_not_null (msg);
        char *body = zframe_strdup (zmsg_last (msg));
        cr_expect_str_eq (body, expected [index], "turn %d", index);
        free (body);
        zmsg_destroy (&msg);
    }
    cr_assert_null (query_fair_next (fair));
    cr_assert_eq (query_fair_waiting_bytes (fair), 0);
    query_fair_destroy (&fair);
}

Test (query_fair, replies_a_peer_does_not_read_are_held_then_sent_in_order)
{
    query_fair_t *fair = query_fair_new (s_router, 32, 1 << 20);
    int held = 0;
    for (int index = 0; index < 6; index++) {
        zmsg_t *msg = s_request (0, "reply");
        zframe_reset (zmsg_last (msg), &"0123456789" [index], 1);
        cr_assert (query_fair_admit (fair, msg));
        held += query_fair_send (fair, &msg, true) == QUERY_FAIR_HELD;
        cr_assert_null (msg);
    }
    cr_assert_gt (held, 0, "the peer's pipe filled");
    cr_assert_gt (query_fair_held_bytes (fair), 0);
    //  The peer reads: every reply arrives, in order
    for (int index = 0; index < 6; index++) {
        zmsg_t *msg = zmsg_recv (s_peers [0]);
        for (int attempt = 0; !msg && attempt < 50; attempt++) {
            query_fair_retry (fair, zclock_mono ());
            msg = zmsg_recv (s_peers [0]);
        }
        cr_assert_not_null (msg, "reply %d", index);
        cr_expect_eq (*(char *) zframe_data (zmsg_last (msg)), '0' + index);
        zmsg_destroy (&msg);
        query_fair_retry (fair, zclock_mono ());
    }
    cr_expect_eq (query_fair_held_bytes (fair), 0);
    cr_expect_eq (query_fair_take_dropped (fair), 0);
    query_fair_destroy (&fair);
}

Test (query_fair, past_its_bytes_a_reply_is_dropped_and_counted)
{
    query_fair_t *fair = query_fair_new (s_router, 32, 65536);
    static char big [40000];
    size_t dropped = 0;
    for (int index = 0; index < 8; index++) {
        zmsg_t *msg = zmsg_new ();
        zmsg_addstr (msg, "peer-a");
        zmsg_addmem (msg, "", 0);
        zmsg_addmem (msg, big, sizeof big);
        cr_assert (query_fair_admit (fair, msg));
        dropped += query_fair_send (fair, &msg, true) == QUERY_FAIR_DROPPED;
    }
    cr_expect_gt (dropped, 0);
    cr_expect_eq (query_fair_take_dropped (fair), dropped);
    cr_expect_leq (query_fair_held_bytes (fair), 65536);
    query_fair_destroy (&fair);
}
