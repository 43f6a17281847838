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
    audit_counters_count_in (counters, AUDIT_COUNTER_FAMILY_INGEST_REJECTED, "bad_field", 1);
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

Test (counters, fold_climbs_one_level_up_to_its_family)
{
    char folded [AUDIT_COUNTER_NAME_MAX + 1];
    cr_expect_eq (audit_counters_fold ("ingest.gaps.p1", folded), 0);
    cr_expect_str_eq (folded, "ingest.gaps.(other)");
    cr_expect_eq (audit_counters_fold ("ingest.gaps.(other)", folded), -1, "the family's own");
    cr_expect_eq (audit_counters_fold ("ingest.dropped_by_producer.p.k", folded), 0);
    cr_expect_str_eq (folded, "ingest.dropped_by_producer.p.(other)");
    cr_expect_eq (audit_counters_fold ("ingest.dropped_by_producer.p.(other)", folded), 0);
    cr_expect_str_eq (folded, "ingest.dropped_by_producer.(other)");
    cr_expect_eq (audit_counters_fold ("ingest.dropped_by_producer.(other)", folded), -1);
    //  Fixed names never fold
    cr_expect_eq (audit_counters_fold ("ingest.received", folded), -1);
    cr_expect_eq (audit_counters_fold ("janitor.deleted.queue", folded), -1);
    cr_expect_eq (audit_counters_family ("ingest.received"), -1);
    cr_expect_eq (audit_counters_family ("query.errors.forbidden"), -1);
    cr_expect_geq (audit_counters_family ("ingest.dropped_keys.password"), 0);
}

//  A flood of one family's names displaces neither the fixed counters nor
//  another family's new names (the received count, a new producer's gaps)
Test (counters, families_are_capped_each_on_its_own)
{
    audit_counters_t *counters = audit_counters_new ();
    char name [64];
    for (int index = 0; index < 3 * AUDIT_COUNTERS_NAMES_MAX; index++) {
        snprintf (name, sizeof name, "ingest.dropped_keys.k%d", index);
        audit_counters_add (counters, name, 1);
    }
    audit_counters_add (counters, "ingest.received", 7);
    audit_counters_add (counters, "ingest.stored", 5);
    audit_counters_add (counters, "ingest.gaps.newcomer", 3);
    cr_expect_eq (audit_counters_get (counters, "ingest.received"), 7);
    cr_expect_eq (audit_counters_get (counters, "ingest.stored"), 5);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.newcomer"), 3);
    cr_expect_eq (audit_counters_get (counters, "ingest.dropped_keys.(other)"),
                  2 * AUDIT_COUNTERS_NAMES_MAX);
    //  A merge into a full set keeps the fixed names too
    audit_counters_t *total = audit_counters_new ();
    for (int index = 0; index < 2 * AUDIT_COUNTERS_NAMES_MAX; index++) {
        snprintf (name, sizeof name, "ingest.dropped_keys.j%d", index);
        audit_counters_add (total, name, 1);
    }
    audit_counters_merge (total, counters);
    cr_expect_eq (audit_counters_get (total, "ingest.received"), 7);
    cr_expect_eq (audit_counters_get (total, "ingest.gaps.newcomer"), 3);
    audit_counters_destroy (&total);
    audit_counters_destroy (&counters);
}

Test (counters, long_name_is_folded_by_its_prefix)
{
    audit_counters_t *counters = audit_counters_new ();
    char name [600];
    int used = snprintf (name, sizeof name, "ingest.dropped_keys.");
    memset (name + used, 'k', 500);
    name [used + 500] = 0;
    audit_counters_add (counters, name, 2);
    audit_counters_count_in (counters, AUDIT_COUNTER_FAMILY_INGEST_DROPPED_KEYS, name + used, 3);
    cr_expect_eq (audit_counters_get (counters, "ingest.dropped_keys.(other)"), 5);
    cr_expect_eq (audit_counters_size (counters), 1);

    //  A long name with dots inside is cut at a dot until it fits
    char dotted [600];
    used = snprintf (dotted, sizeof dotted, "ingest.dropped_by_producer.");
    memset (dotted + used, 'a', 590 - used);
    dotted [used + 10] = '.';
    dotted [400] = '.';
    dotted [590] = 0;
    char folded [AUDIT_COUNTER_NAME_MAX + 1];
    cr_expect_eq (audit_counters_fold (dotted, folded), 0);
    cr_expect_eq (strlen (folded), (size_t) used + 10 + strlen (".(other)"));
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

//  The names in audit.db of data directories written before the table:
//  a row whose text changed would lose its total
Test (counters, table_keeps_the_persistent_names)
{
    static const char *fixed [AUDIT_COUNTER_COUNT] = {
        "ingest.received", "ingest.stored", "ingest.duplicate", "ingest.write_failed",
        "janitor.deleted.audit", "janitor.deleted.ops", "janitor.deleted.queue",
        "ingest.ack_malformed", "ingest.write_retried", "ingest.degraded",
        "ingest.curve_refused", "ingest.curve_revoked", "ingest.ack_refused",
        "query.curve_refused", "query.unauthenticated_delayed",
        "query.unauthenticated_dropped", "ingest.disconnected",
        "ingest.connections_refused", "query.connections_refused", "query.peer_busy",
        "query.replies_dropped", "ingest.connections_dropped_for_memory",
        "query.connections_dropped_for_memory", "query.export_read_ahead",
        "query.export_served_ahead", "query.export_ahead_gave_way"
    };
    cr_assert_eq (AUDIT_COUNTER_COUNT, 26);
    for (int counter = 0; counter < AUDIT_COUNTER_COUNT; counter++)
        cr_expect_str_eq (audit_counters_name ((audit_counter_t) counter), fixed [counter]);
    cr_expect_null (audit_counters_name (AUDIT_COUNTER_COUNT));
    cr_assert_eq (AUDIT_COUNTERS_FAMILIES, 3);
    cr_assert_eq (AUDIT_COUNTER_FAMILY_COUNT, 5);
    cr_expect_str_eq (audit_counters_family_prefix (AUDIT_COUNTER_FAMILY_INGEST_DROPPED_KEYS),
                      "ingest.dropped_keys.");
    cr_expect_str_eq (audit_counters_family_prefix (AUDIT_COUNTER_FAMILY_INGEST_DROPPED_BY_PRODUCER),
                      "ingest.dropped_by_producer.");
    cr_expect_str_eq (audit_counters_family_prefix (AUDIT_COUNTER_FAMILY_INGEST_GAPS), "ingest.gaps.");
    cr_expect_str_eq (audit_counters_family_prefix (AUDIT_COUNTER_FAMILY_INGEST_REJECTED),
                      "ingest.rejected.");
    cr_expect_str_eq (audit_counters_family_prefix (AUDIT_COUNTER_FAMILY_QUERY_ERRORS),
                      "query.errors.");
    cr_expect_null (audit_counters_family_prefix (AUDIT_COUNTER_FAMILY_COUNT));
    cr_expect_null (audit_counters_family_prefix (-1));
}

//  Every name is unique, and no name nor prefix starts with another
//  family's prefix: the family of a name is found by its prefix
Test (counters, table_names_are_unique)
{
    for (int counter = 0; counter < AUDIT_COUNTER_COUNT; counter++) {
        const char *name = audit_counters_name ((audit_counter_t) counter);
        for (int other = counter + 1; other < AUDIT_COUNTER_COUNT; other++)
            cr_expect_str_neq (name, audit_counters_name ((audit_counter_t) other));
        for (int family = 0; family < AUDIT_COUNTER_FAMILY_COUNT; family++) {
            const char *prefix = audit_counters_family_prefix (family);
            cr_expect_neq (strncmp (name, prefix, strlen (prefix)), 0, "%s in %s", name, prefix);
            cr_expect_neq (strncmp (name, prefix, strlen (name)), 0, "%s is %s", name, prefix);
        }
    }
    for (int family = 0; family < AUDIT_COUNTER_FAMILY_COUNT; family++)
        for (int other = 0; other < AUDIT_COUNTER_FAMILY_COUNT; other++) {
            const char *mine = audit_counters_family_prefix (family);
            const char *theirs = audit_counters_family_prefix (other);
            if (family != other)
                cr_expect_neq (strncmp (mine, theirs, strlen (theirs)), 0, "%s in %s", mine, theirs);
        }
}

//  A counter named by enum lands under its persistent name
Test (counters, enum_names_reach_the_persistent_names)
{
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_count (counters, AUDIT_COUNTER_INGEST_STORED, 5);
    audit_counters_count (counters, AUDIT_COUNTER_JANITOR_DELETED_QUEUE, 2);
    audit_counters_count_in (counters, AUDIT_COUNTER_FAMILY_QUERY_ERRORS, "forbidden", 1);
    audit_counters_count_in (counters, AUDIT_COUNTER_FAMILY_INGEST_GAPS, "p1", 4);
    audit_counters_count_in (counters, AUDIT_COUNTER_FAMILY_INGEST_DROPPED_BY_PRODUCER, "p k", 3);
    cr_expect_eq (audit_counters_get (counters, "ingest.stored"), 5);
    cr_expect_eq (audit_counters_get (counters, "janitor.deleted.queue"), 2);
    cr_expect_eq (audit_counters_get (counters, "query.errors.forbidden"), 1);
    cr_expect_eq (audit_counters_get (counters, "ingest.gaps.p1"), 4);
    cr_expect_eq (audit_counters_get (counters, "ingest.dropped_by_producer.p k"), 3);
    cr_expect_eq (audit_counters_size (counters), 5);
    audit_counters_destroy (&counters);
}

//  Each open family holds AUDIT_COUNTERS_NAMES_MAX names, then folds, on
//  its own; a fixed set is never capped
Test (counters, families_are_capped_as_before)
{
    char suffix [32];
    for (int family = 0; family < AUDIT_COUNTER_FAMILY_COUNT; family++) {
        bool open = family < AUDIT_COUNTERS_FAMILIES;
        cr_expect_eq (audit_counters_family_cap (family), open? AUDIT_COUNTERS_NAMES_MAX: 0);
        audit_counters_t *counters = audit_counters_new ();
        for (int index = 0; index < AUDIT_COUNTERS_NAMES_MAX + 10; index++) {
            snprintf (suffix, sizeof suffix, "n%d", index);
            audit_counters_count_in (counters, (audit_counter_family_t) family, suffix, 1);
        }
        audit_counters_count (counters, AUDIT_COUNTER_INGEST_RECEIVED, 1);
        size_t names = open? AUDIT_COUNTERS_NAMES_MAX + 1: AUDIT_COUNTERS_NAMES_MAX + 10;
        cr_expect_eq (audit_counters_size (counters), names + 1, "family %d", family);
        char other [64];
        snprintf (other, sizeof other, "%s(other)", audit_counters_family_prefix (family));
        cr_expect_eq (audit_counters_get (counters, other), open? 10: 0);
        cr_expect_eq (audit_counters_get (counters, "ingest.received"), 1);
        cr_expect_eq (audit_counters_family (other), open? family: -1);
        audit_counters_destroy (&counters);
    }
    cr_expect_eq (audit_counters_family_cap (-1), 0);
    cr_expect_eq (audit_counters_family_cap (AUDIT_COUNTER_FAMILY_COUNT), 0);
}
