/*  =========================================================================
    test_ingest_settle - a producer's settled seq: contiguous from 1, a
    rejection settles too, an event above W + 1 waits for its resend, a
    new run at seq 1, gaps that never wrap, tentative until committed, and
    a cap on producers
    ========================================================================= */

#include <criterion/criterion.h>

#include "ingest_settle.h"

#define s_ACCEPTED ((audit_reason_t) INGEST_SETTLE_ACCEPTED)

static ingest_settle_t *s_settle;

static void s_setup (void) { s_settle = ingest_settle_new (3); cr_assert_not_null (s_settle); }
static void s_teardown (void) { ingest_settle_destroy (&s_settle); }

TestSuite (settle, .init = s_setup, .fini = s_teardown);

//  One batch of seqs of producer, rejected where reasons says so, committed
static void
s_batch (const char *producer, const uint64_t *seqs, size_t count, const audit_reason_t *reasons)
{
    ingest_settle_begin (s_settle);
    for (size_t index = 0; index < count; index++)
        ingest_settle_event (s_settle, producer, seqs [index],
                             reasons? reasons [index]: s_ACCEPTED, "", 1000 + (int64_t) index);
    ingest_settle_commit (s_settle);
}

static const audit_store_producer_t *
s_state (const char *producer)
{
    const audit_store_producer_t *state = ingest_settle_state (s_settle, producer);
    cr_assert_not_null (state, "%s is followed", producer);
    return state;
}

Test (settle, contiguous_seqs_settle_and_a_rejection_settles_too)
{
    const uint64_t seqs [] = { 1, 2, 3, 4 };
    const audit_reason_t reasons [] = { s_ACCEPTED, AUDIT_REASON_BAD_FIELD, s_ACCEPTED,
                                        AUDIT_REASON_BAD_FIELD };
    s_batch ("p", seqs, 4, reasons);
    cr_expect_eq (s_state ("p")->acked_seq, 4);
    cr_expect_eq (s_state ("p")->rejected [AUDIT_REASON_BAD_FIELD], 2);
    cr_expect_eq (s_state ("p")->gaps, 0);
    cr_expect_eq (s_state ("p")->last_seen_ms, 1003);
}

Test (settle, an_event_above_the_watermark_waits_for_its_resend)
{
    const uint64_t first [] = { 1, 2, 4, 5 };
    s_batch ("p", first, 4, NULL);
    cr_expect_eq (s_state ("p")->acked_seq, 2, "3 is missing");
    cr_expect_eq (s_state ("p")->gaps, 1);
    //  The producer resends everything above 2: 4 and 5 are duplicates now
    const uint64_t resent [] = { 3, 4, 5 };
    s_batch ("p", resent, 3, NULL);
    cr_expect_eq (s_state ("p")->acked_seq, 5);
    cr_expect_eq (s_state ("p")->gaps, 1, "a resend fills a gap, it is not another");
}

Test (settle, seq_one_after_progress_starts_a_new_run)
{
    const uint64_t seqs [] = { 1, 2, 3, 1, 2 };
    s_batch ("p", seqs, 5, NULL);
    cr_expect_eq (s_state ("p")->runs, 1);
    cr_expect_eq (s_state ("p")->acked_seq, 2);
    cr_expect_eq (s_state ("p")->last_seq, 2);
}

Test (settle, a_huge_jump_holds_the_gaps_at_their_maximum)
{
    const uint64_t seqs [] = { 1, UINT64_MAX, 7 };
    s_batch ("p", seqs, 3, NULL);
    cr_expect_eq (s_state ("p")->gaps, UINT64_MAX - 2);
    const uint64_t more [] = { UINT64_MAX };
    s_batch ("q", more, 1, NULL);
    const uint64_t after [] = { 1 };
    s_batch ("q", after, 1, NULL);
    cr_expect_eq (s_state ("q")->acked_seq, 1);
    cr_expect_eq (s_state ("q")->gaps, UINT64_MAX - 1, "no wrap");
    cr_expect_eq (ingest_settle_event (s_settle, "q", 0, s_ACCEPTED, "", 0), 0, "seq 0 is no seq");
}

Test (settle, a_batch_that_did_not_commit_leaves_nothing)
{
    const uint64_t seqs [] = { 1, 2 };
    s_batch ("p", seqs, 2, NULL);
    ingest_settle_begin (s_settle);
    ingest_settle_event (s_settle, "p", 3, s_ACCEPTED, "", 5);
    ingest_settle_event (s_settle, "new", 1, s_ACCEPTED, "", 5);
    size_t count;
    const audit_store_producer_t *changed = ingest_settle_changed (s_settle, &count);
    cr_assert_eq (count, 2, "what the transaction writes");
    cr_expect_eq (changed [0].acked_seq, 3);
    ingest_settle_abort (s_settle);
    cr_expect_eq (s_state ("p")->acked_seq, 2);
    cr_expect_null (ingest_settle_state (s_settle, "new"));
}

Test (settle, state_loaded_from_the_store_goes_on)
{
    audit_store_producer_t stored = { .producer_id = "p", .acked_seq = 40, .last_seq = 45,
                                      .gaps = 3, .runs = 1 };
    cr_assert_eq (ingest_settle_load (s_settle, &stored), 0);
    const uint64_t seqs [] = { 48, 41 };
    s_batch ("p", seqs, 2, NULL);
    cr_expect_eq (s_state ("p")->gaps, 5, "46 and 47, counted across the restart");
    cr_expect_eq (s_state ("p")->acked_seq, 41);
    cr_expect_eq (s_state ("p")->runs, 1);
}

Test (settle, made_up_producers_cannot_grow_memory)
{
    const uint64_t seqs [] = { 1 };
    s_batch ("a", seqs, 1, NULL);
    s_batch ("b", seqs, 1, NULL);
    ingest_settle_begin (s_settle);
    ingest_settle_event (s_settle, "c", 1, s_ACCEPTED, "", 1);
    ingest_settle_event (s_settle, "d", 1, s_ACCEPTED, "", 1);
    ingest_settle_commit (s_settle);
    cr_expect_not_null (ingest_settle_state (s_settle, "c"));
    cr_expect_null (ingest_settle_state (s_settle, "d"), "beyond the cap of 3");
    audit_store_producer_t more = { .producer_id = "e" };
    cr_expect_eq (ingest_settle_load (s_settle, &more), -1);
}

Test (settle, the_runs_own_seq_one_resent_is_not_a_new_run)
{
    const char *first = "0190f3f4-0000-7000-8000-000000000001";
    ingest_settle_begin (s_settle);
    ingest_settle_event (s_settle, "p", 1, s_ACCEPTED, first, 1);
    ingest_settle_event (s_settle, "p", 2, s_ACCEPTED, "0190f3f4-0000-7000-8000-000000000002", 1);
    //  resent before its ack was heard: the same event
    ingest_settle_event (s_settle, "p", 1, s_ACCEPTED, first, 2);
    ingest_settle_commit (s_settle);
    cr_expect_eq (s_state ("p")->runs, 0);
    cr_expect_eq (s_state ("p")->acked_seq, 2);
    //  a new seq 1, another event: the producer started over
    ingest_settle_begin (s_settle);
    ingest_settle_event (s_settle, "p", 1, s_ACCEPTED, "0190f3f4-0000-7000-8000-000000000003", 3);
    ingest_settle_commit (s_settle);
    cr_expect_eq (s_state ("p")->runs, 1);
    cr_expect_eq (s_state ("p")->acked_seq, 1);
    cr_expect_str_eq (s_state ("p")->run_first, "0190f3f4-0000-7000-8000-000000000003");
}
