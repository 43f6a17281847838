/*  =========================================================================
    test_janitor_limits - the pause after a batch and how a batch's size
    adapts toward the time it may hold the lock
    ========================================================================= */

#include <criterion/criterion.h>

#include "audit_store.h"
#include "janitor_limits.h"

static janitor_limits_t
s_limits (int target_ms)
{
    janitor_limits_t limits;
    janitor_limits_default (&limits);
    limits.batch_target_ms = target_ms;
    return limits;
}

Test (janitor_limits, pause_outlasts_one_retry_of_a_waiting_writer)
{
    janitor_limits_t limits;
    janitor_limits_default (&limits);
    int poll_ms = (AUDIT_STORE_BUSY_POLL_US + 999) / 1000;
    cr_expect_eq (janitor_limits_pause_ms (&limits), poll_ms + JANITOR_PAUSE_MARGIN_MS);
    limits.pause_max_ms = 1;
    cr_expect_eq (janitor_limits_pause_ms (&limits), 1, "within the bounds");
    limits.pause_max_ms = 100;
    limits.pause_min_ms = 40;
    cr_expect_eq (janitor_limits_pause_ms (&limits), 40);
}

Test (janitor_limits, a_batch_that_held_too_long_shrinks_toward_the_target)
{
    janitor_limits_t limits = s_limits (30);
    //  1,000 rows in 40 ms: 750 would have taken the 30 ms target
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 1000, 40000, 16, 50000), 750);
    //  ten times too long: never below half at once
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 1000, 300000, 16, 50000), 500);
    //  nor below the minimum
    cr_expect_eq (janitor_limits_adapt (&limits, 20, 20, 300000, 16, 50000), 16);
}

Test (janitor_limits, only_a_full_and_quick_batch_grows)
{
    janitor_limits_t limits = s_limits (30);
    //  full in 20 ms: toward 30 ms
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 1000, 20000, 16, 50000), 1500);
    //  full in 1 ms: never more than double at once
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 1000, 1000, 16, 50000), 2000);
    //  nor above the maximum
    cr_expect_eq (janitor_limits_adapt (&limits, 40000, 40000, 1000, 16, 50000), 50000);
    //  quick because there was little to do: the size stays
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 10, 1000, 16, 50000), 1000);
    //  a batch that held no measurable time does not divide by zero
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 1000, 0, 16, 50000), 2000);
}

Test (janitor_limits, a_batch_on_target_keeps_its_size)
{
    janitor_limits_t limits = s_limits (30);
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 1000, 30000, 16, 50000), 1000);
    cr_expect_eq (janitor_limits_adapt (&limits, 1000, 400, 30000, 16, 50000), 1000);
}
