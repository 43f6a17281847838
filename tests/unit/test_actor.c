/*  audit_actor: an actor whose set-up fails is never handed out, one that
    is ready answers its commands, and neither holds up destruction. */

#include <criterion/criterion.h>
#include <czmq.h>

#include "audit_actor.h"

//  Ready when *args is 0; then answers START with "i" 7 until $TERM
static void
s_actor (zsock_t *pipe, void *args)
{
    int rc = *(int *) args;
    audit_actor_ready (pipe, rc);
    if (rc != 0)
        return;
    char *command;
    while ((command = zstr_recv (pipe)) && !streq (command, "$TERM")) {
        zsock_send (pipe, "i", 7);
        zstr_free (&command);
    }
    zstr_free (&command);
}

TestSuite (actor, .timeout = 30);

Test (actor, one_whose_set_up_failed_is_not_handed_out)
{
    int rc = -1;
    zactor_t *actor = audit_actor_new (s_actor, &rc);
    cr_expect_null (actor);
    zactor_destroy (&actor);
}

Test (actor, one_that_is_ready_answers_and_stops)
{
    int rc = 0;
    zactor_t *actor = audit_actor_new (s_actor, &rc);
    cr_assert_not_null (actor);
    cr_expect_eq (audit_actor_ask (actor, "START"), 7);
    zactor_destroy (&actor);
    cr_expect_null (actor);
}

//  Many in a row, so that a failed actor's leftover signals or an
//  unanswered pipe would show as a hang or a wrong answer
Test (actor, failures_and_successes_do_not_mix)
{
    for (int round = 0; round < 50; round++) {
        int rc = round % 2 ? 0 : -1;
        zactor_t *actor = audit_actor_new (s_actor, &rc);
        cr_assert_eq (actor != NULL, rc == 0, "round %d", round);
        if (actor)
            cr_assert_eq (audit_actor_ask (actor, "START"), 7);
        zactor_destroy (&actor);
    }
}
