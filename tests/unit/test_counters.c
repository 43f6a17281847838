/*  =========================================================================
    test_counters - named deltas, their caps and folding
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "audit_counters.h"

static void
s_sum (const char *name, int64_t delta, void *arg)
{
    (void) name;
    *(int64_t *) arg += delta;
}

Test (counters, add_get_clear)
{
    audit_counters_t *counters = audit_counters_new ();
    cr_assert_not_null (counters);
    cr_expect_eq (audit_counters_get (counters, "ingest.received"), 0);
    audit_counters_add (counters, "ingest.received", 3);
    audit_counters_add (counters, "ingest.received", 4);
    audit_counters_add2 (counters, "ingest.rejected", "bad_field", 1);
    cr_expect_eq (audit_counters_get (counters, "ingest.received"), 7);
    cr_expect_eq (audit_counters_get (counters, "ingest.rejected.bad_field"), 1);
    cr_expect_eq (audit_counters_size (counters), 2);
    int64_t total = 0;
    audit_counters_each (counters, s_sum, &total);
    cr_expect_eq (total, 8);
    audit_counters_clear (counters);
    cr_expect_eq (audit_counters_size (counters), 0);
    cr_expect_eq (audit_counters_get (counters, "ingest.received"), 0);
    audit_counters_destroy (&counters);
    audit_counters_destroy (&counters);
    cr_expect_null (counters);
    audit_counters_destroy (NULL);
}

Test (counters, counters_only_grow_and_hold_at_their_maximum)
{
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_add (counters, "ingest.gaps.p", INT64_MAX - 1);
    audit_counters_add (counters, "ingest.gaps.p", 5);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.p"), INT64_MAX, "no wrap");
    audit_counters_add (counters, "ingest.gaps.p", INT64_MAX);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.p"), INT64_MAX);
    audit_counters_add (counters, "ingest.received", 2);
    audit_counters_add (counters, "ingest.received", -1);
    audit_counters_add (counters, "ingest.received", INT64_MIN);
    cr_expect_eq (audit_counters_get (counters, "ingest.received"), 2, "a negative delta is ignored");
    //  A merge adds the same way
    audit_counters_t *other = audit_counters_new ();
    audit_counters_add (other, "ingest.gaps.p", 7);
    audit_counters_merge (counters, other);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.p"), INT64_MAX);
    audit_counters_destroy (&other);
    audit_counters_destroy (&counters);
}

Test (counters, merge_moves_every_delta)
{
    audit_counters_t *self = audit_counters_new ();
    audit_counters_t *source = audit_counters_new ();
    audit_counters_add (self, "janitor.deleted.audit", 1);
    audit_counters_add (source, "janitor.deleted.audit", 2);
    audit_counters_add (source, "janitor.deleted.ops", 5);
    audit_counters_merge (self, source);
    cr_expect_eq (audit_counters_get (self, "janitor.deleted.audit"), 3);
    cr_expect_eq (audit_counters_get (self, "janitor.deleted.ops"), 5);
    cr_expect_eq (audit_counters_size (source), 0);
    audit_counters_destroy (&self);
    audit_counters_destroy (&source);
}

Test (counters, fold_climbs_one_level)
{
    char folded [AUDIT_COUNTER_NAME_MAX + 1];
    cr_expect_eq (audit_counters_fold ("ingest.gaps.p1", folded), 0);
    cr_expect_str_eq (folded, "ingest.gaps.(other)");
    cr_expect_eq (audit_counters_fold ("ingest.gaps.(other)", folded), 0);
    cr_expect_str_eq (folded, "ingest.(other)");
    cr_expect_eq (audit_counters_fold ("ingest.(other)", folded), 0);
    cr_expect_str_eq (folded, "(other)");
    cr_expect_eq (audit_counters_fold ("plain", folded), 0);
    cr_expect_str_eq (folded, "(other)");
    cr_expect_eq (audit_counters_fold ("(other)", folded), -1);
    cr_expect_str_eq (folded, "(other)");
}

Test (counters, long_name_is_folded_by_its_prefix)
{
    audit_counters_t *counters = audit_counters_new ();
    char name [600];
    int used = snprintf (name, sizeof name, "ingest.dropped_keys.");
    memset (name + used, 'k', 500);
    name [used + 500] = 0;
    audit_counters_add (counters, name, 2);
    audit_counters_add2 (counters, "ingest.dropped_keys", name + used, 3);
    cr_expect_eq (audit_counters_get (counters, "ingest.dropped_keys.(other)"), 5);
    cr_expect_eq (audit_counters_size (counters), 1);

    //  A long prefix with dots inside is cut at a dot until it fits
    char dotted [600];
    memset (dotted, 'a', 590);
    dotted [10] = '.';
    dotted [400] = '.';
    dotted [590] = 0;
    char folded [AUDIT_COUNTER_NAME_MAX + 1];
    audit_counters_fold (dotted, folded);
    cr_expect_eq (strlen (folded), 10 + strlen (".(other)"));
    audit_counters_destroy (&counters);
}

Test (counters, new_names_beyond_the_cap_are_folded)
{
    audit_counters_t *counters = audit_counters_new ();
    char name [64];
    for (int index = 0; index < AUDIT_COUNTERS_NAMES_MAX; index++) {
        snprintf (name, sizeof name, "ingest.gaps.p%d", index);
        audit_counters_add (counters, name, 1);
    }
    cr_expect_eq (audit_counters_size (counters), AUDIT_COUNTERS_NAMES_MAX);
    audit_counters_add (counters, "ingest.gaps.late1", 1);
    audit_counters_add (counters, "ingest.gaps.late2", 2);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.late1"), 0);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.(other)"), 3);
    //  Names held before the cap keep counting on their own
    audit_counters_add (counters, "ingest.gaps.p7", 1);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.p7"), 2);
    cr_expect_eq (audit_counters_size (counters), AUDIT_COUNTERS_NAMES_MAX + 1);
    audit_counters_destroy (&counters);
}

Test (counters, hostile_prefixes_stay_bounded)
{
    audit_counters_t *counters = audit_counters_new ();
    char name [128];
    int64_t added = 0;
    for (int index = 0; index < 20 * AUDIT_COUNTERS_NAMES_MAX; index++) {
        snprintf (name, sizeof name, "ingest.dropped_by_producer.p%d.key", index);
        audit_counters_add (counters, name, 1);
        added++;
    }
    cr_expect_leq (audit_counters_size (counters), AUDIT_COUNTERS_NAMES_MAX + 64 + 4);
    int64_t total = 0;
    audit_counters_each (counters, s_sum, &total);
    cr_expect_eq (total, added, "folding loses no count");
    cr_expect_gt (audit_counters_get (counters, "ingest.dropped_by_producer.(other)"), 0);
    audit_counters_destroy (&counters);
}
