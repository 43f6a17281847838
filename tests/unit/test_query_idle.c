/*  The server's idle workers: a client's request goes to the worker that
    reads ahead for it, any other request to a worker that reads for no
    one, while there is one */

#include <criterion/criterion.h>

#include "query_idle.h"

static zframe_t *s_alice, *s_bob;
static query_idle_t s_idle;

static void
s_setup (void)
{
    s_alice = zframe_new ("alice", 5);
    s_bob = zframe_new ("bob", 3);
    query_idle_init (&s_idle);
}

static void
s_teardown (void)
{
    query_idle_release (&s_idle);
    zframe_destroy (&s_alice);
    zframe_destroy (&s_bob);
}

TestSuite (query_idle, .init = s_setup, .fini = s_teardown);

Test (query_idle, the_last_to_go_idle_is_taken_first)
{
    query_idle_add (&s_idle, 0, NULL);
    query_idle_add (&s_idle, 1, NULL);
    cr_expect_eq (query_idle_take (&s_idle, s_alice), 1);
    cr_expect_eq (query_idle_take (&s_idle, NULL), 0);
    cr_expect_eq (query_idle_take (&s_idle, NULL), -1, "none left");
}

Test (query_idle, a_clients_request_goes_to_the_worker_reading_ahead_for_it)
{
    query_idle_add (&s_idle, 0, s_alice);
    query_idle_add (&s_idle, 1, NULL);
    query_idle_add (&s_idle, 2, s_bob);
    cr_expect_eq (query_idle_take (&s_idle, s_alice), 0);
    cr_expect_eq (query_idle_take (&s_idle, s_bob), 2);
    cr_expect_eq (s_idle.count, 1);
}

Test (query_idle, other_requests_go_to_a_worker_reading_for_no_one_while_one_is_idle)
{
    query_idle_add (&s_idle, 0, NULL);
    query_idle_add (&s_idle, 1, s_alice);
    zframe_t *carol = zframe_new ("carol", 5);
    cr_expect_eq (query_idle_take (&s_idle, carol), 0, "not the one reading for alice");
    cr_expect_eq (query_idle_take (&s_idle, carol), 1, "then it, which gives way");
    zframe_destroy (&carol);
}

Test (query_idle, a_worker_taken_reads_for_no_one_once_idle_again)
{
    query_idle_add (&s_idle, 0, s_alice);
    cr_expect_eq (query_idle_take (&s_idle, s_bob), 0);
    query_idle_add (&s_idle, 0, NULL);
    query_idle_add (&s_idle, 1, NULL);
    cr_expect_eq (query_idle_take (&s_idle, s_alice), 1, "alice's read is gone: the last idle");
}
