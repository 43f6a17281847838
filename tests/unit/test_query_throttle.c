/*  query_throttle: past its burst a peer's unauthenticated replies are
    held, then dropped; other peers are not slowed; memory is bounded.
    The clock is the test's, so nothing sleeps. */

#include <criterion/criterion.h>

#include "query_throttle.h"

#define S_NOW   1000000
#define S_INTERVAL  (1000 / QUERY_THROTTLE_PER_SECOND)

static zmsg_t *
s_msg (int tag)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, &tag, sizeof tag);
    return msg;
}

static query_throttle_outcome_t
s_charge (query_throttle_t *throttle, const char *peer, int64_t now)
{
    zmsg_t *msg = s_msg (0);
    query_throttle_outcome_t outcome = query_throttle_charge (throttle, peer, &msg, now);
    cr_expect_eq (msg == NULL, outcome != QUERY_THROTTLE_SEND, "held or dropped take it");
    zmsg_destroy (&msg);
    return outcome;
}

Test (query_throttle, a_burst_goes_then_replies_wait_their_turn)
{
    query_throttle_t *throttle = query_throttle_new ();
    cr_assert_not_null (throttle);
    for (int index = 0; index < QUERY_THROTTLE_BURST; index++)
        cr_expect_eq (s_charge (throttle, "ip:10.0.0.1", S_NOW), QUERY_THROTTLE_SEND, "%d", index);
    cr_expect_eq (query_throttle_wait_ms (throttle, S_NOW), -1, "nothing held");
    cr_expect_eq (s_charge (throttle, "ip:10.0.0.1", S_NOW), QUERY_THROTTLE_HELD);
    cr_expect_eq (query_throttle_wait_ms (throttle, S_NOW), S_INTERVAL);
    cr_expect_null (query_throttle_due (throttle, S_NOW + S_INTERVAL - 1));
    zmsg_t *due = query_throttle_due (throttle, S_NOW + S_INTERVAL);
    cr_expect_not_null (due);
    zmsg_destroy (&due);
    cr_expect_eq (query_throttle_wait_ms (throttle, S_NOW), -1);
    //  Another peer has a bucket of its own
    cr_expect_eq (s_charge (throttle, "ip:10.0.0.2", S_NOW), QUERY_THROTTLE_SEND);
    //  The bucket refills with time
    cr_expect_eq (s_charge (throttle, "ip:10.0.0.1", S_NOW + 60000), QUERY_THROTTLE_SEND);
    query_throttle_destroy (&throttle);
    query_throttle_destroy (&throttle);
    query_throttle_destroy (NULL);
}

Test (query_throttle, a_flood_is_dropped_past_the_longest_hold)
{
    query_throttle_t *throttle = query_throttle_new ();
    int sent = 0, held = 0, dropped = 0;
    for (int index = 0; index < 1000; index++) {
        query_throttle_outcome_t outcome = s_charge (throttle, "key:flood", S_NOW);
        sent += outcome == QUERY_THROTTLE_SEND;
        held += outcome == QUERY_THROTTLE_HELD;
        dropped += outcome == QUERY_THROTTLE_DROPPED;
    }
    cr_expect_eq (sent, QUERY_THROTTLE_BURST);
    cr_expect_eq (held, QUERY_THROTTLE_HOLD_MAX_MS / S_INTERVAL);
    cr_expect_eq (dropped, 1000 - sent - held);
    //  Drops do not push the recovery further: after the longest hold
    //  and one more interval, one may go again
    zmsg_t *msg;
    while ((msg = query_throttle_due (throttle, S_NOW + QUERY_THROTTLE_HOLD_MAX_MS)))
        zmsg_destroy (&msg);
    cr_expect_eq (s_charge (throttle, "key:flood",
                            S_NOW + QUERY_THROTTLE_HOLD_MAX_MS + QUERY_THROTTLE_BURST * S_INTERVAL),
                  QUERY_THROTTLE_SEND);
    query_throttle_destroy (&throttle);
}

Test (query_throttle, held_replies_are_bounded_across_peers)
{
    query_throttle_t *throttle = query_throttle_new ();
    int held = 0;
    for (int peer = 0; peer < 100; peer++) {
        char name [32];
        snprintf (name, sizeof name, "ip:10.1.0.%d", peer);
        for (int index = 0; index < QUERY_THROTTLE_BURST + 5; index++)
            held += s_charge (throttle, name, S_NOW) == QUERY_THROTTLE_HELD;
    }
    cr_expect_eq (held, QUERY_THROTTLE_HELD_MAX);
    query_throttle_destroy (&throttle);     //  frees what it holds (ASan)
}

Test (query_throttle, peers_are_bounded_and_idle_ones_forgotten)
{
    query_throttle_t *throttle = query_throttle_new ();
    char name [32];
    for (int peer = 0; peer < 2 * QUERY_THROTTLE_PEERS_MAX; peer++) {
        snprintf (name, sizeof name, "id:%08x", peer);
        s_charge (throttle, name, S_NOW);
    }
    cr_expect_leq (query_throttle_peers (throttle), QUERY_THROTTLE_PEERS_MAX + 1,
                   "and one bucket the rest share");
    //  Later, every bucket is full again: new peers take their places
    snprintf (name, sizeof name, "id:new");
    cr_expect_eq (s_charge (throttle, name, S_NOW + 60000), QUERY_THROTTLE_SEND);
    cr_expect_leq (query_throttle_peers (throttle), 2);
    query_throttle_destroy (&throttle);
}

Test (query_throttle, a_peer_is_named_by_its_routing_id_without_metadata)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, "\x01\xff", 2);
    zmsg_addmem (msg, "", 0);
    zmsg_addstr (msg, "body");
    char name [QUERY_THROTTLE_PEER_MAX + 1];
    query_throttle_peer_name (msg, name);
    cr_expect_str_eq (name, "id:01ff");
    zmsg_destroy (&msg);
}
