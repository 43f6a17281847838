/*  audit_keys: the one map walker of events and requests, under both
    policies for an unknown key, and every way a walk can end */

#include <criterion/criterion.h>
#include <string.h>

#include "audit_keys.h"
#include "test_support.h"

enum { K_V, K_NAME, K_COUNT };

static const audit_keys_key_t s_keys [K_COUNT] = {
    AUDIT_KEYS_KEY ("v"), AUDIT_KEYS_KEY ("name")
};

//  What the handlers saw
typedef struct {
    audit_mp_reader_t reader;
    int values;                         //  known values read
    int dropped;                        //  unknown keys told
    char last_dropped [32];
    int stop_at;                        //  the key whose value stops the walk, or -1
} s_seen_t;

static int
s_value (void *arg, int key)
{
    s_seen_t *seen = (s_seen_t *) arg;
    seen->values++;
    if (key == seen->stop_at)
        return -1;
    return audit_mp_skip (&seen->reader) == AUDIT_MP_OK? 0: -1;
}

static void
s_dropped (void *arg, const char *name, uint32_t len)
{
    s_seen_t *seen = (s_seen_t *) arg;
    seen->dropped++;
    snprintf (seen->last_dropped, sizeof seen->last_dropped, "%.*s", (int) len, name);
}

static audit_keys_result_t
s_walk (test_pack_t *pack, audit_keys_policy_t policy, s_seen_t *seen, audit_keys_walk_t *walk)
{
    audit_keys_table_t table = { s_keys, K_COUNT, policy, s_value, s_dropped };
    memset (seen, 0, sizeof *seen);
    seen->stop_at = -1;
    audit_mp_reader_init (&seen->reader, test_pack_data (pack), test_pack_size (pack));
    return audit_keys_walk (&seen->reader, &table, seen, walk);
}

//  { v: 1, colour: "red", name: "x" }
static test_pack_t *
s_with_unknown (void)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 3);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "colour", "red");
    test_pack_kv_str (pack, "name", "x");
    return pack;
}

Test (keys, drop_skips_and_tells_an_unknown_key)
{
    test_pack_t *pack = s_with_unknown ();
    s_seen_t seen;
    audit_keys_walk_t walk;
    cr_assert_eq (s_walk (pack, AUDIT_KEYS_DROP, &seen, &walk), AUDIT_KEYS_OK);
    cr_expect_eq (seen.values, 2, "both known keys read, after the dropped one");
    cr_expect_eq (seen.dropped, 1);
    cr_expect_str_eq (seen.last_dropped, "colour");
    cr_expect_eq (walk.seen, (1ULL << K_V) | (1ULL << K_NAME));
    cr_expect_eq (walk.key, -1);
    test_pack_destroy (&pack);
}

Test (keys, refuse_stops_at_an_unknown_key)
{
    test_pack_t *pack = s_with_unknown ();
    s_seen_t seen;
    audit_keys_walk_t walk;
    cr_assert_eq (s_walk (pack, AUDIT_KEYS_REFUSE, &seen, &walk), AUDIT_KEYS_UNKNOWN);
    cr_expect_eq (seen.values, 1, "nothing is read past the refused key");
    cr_expect_eq (seen.dropped, 0, "a refused key is not dropped");
    cr_expect_eq (walk.len, 6);
    cr_expect_eq (memcmp (walk.name, "colour", 6), 0);
    cr_expect_eq (walk.seen, 1ULL << K_V);
    test_pack_destroy (&pack);
}

Test (keys, a_known_key_twice_stops_either_way)
{
    for (int policy = AUDIT_KEYS_DROP; policy <= AUDIT_KEYS_REFUSE; policy++) {
        test_pack_t *pack = test_pack_new ();
        test_pack_map (pack, 3);
        test_pack_kv_str (pack, "name", "a");
        test_pack_kv_uint (pack, "v", 1);
        test_pack_kv_str (pack, "name", "b");
        s_seen_t seen;
        audit_keys_walk_t walk;
        cr_expect_eq (s_walk (pack, (audit_keys_policy_t) policy, &seen, &walk), AUDIT_KEYS_TWICE);
        cr_expect_eq (walk.key, K_NAME);
        cr_expect_eq (seen.values, 2, "the second value is never read");
        test_pack_destroy (&pack);
    }
}

//  An unknown key met twice is dropped twice: nothing of it is kept
Test (keys, an_unknown_key_twice_is_dropped_twice)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 2);
    test_pack_kv_str (pack, "colour", "red");
    test_pack_kv_str (pack, "colour", "blue");
    s_seen_t seen;
    audit_keys_walk_t walk;
    cr_expect_eq (s_walk (pack, AUDIT_KEYS_DROP, &seen, &walk), AUDIT_KEYS_OK);
    cr_expect_eq (seen.dropped, 2);
    cr_expect_eq (walk.seen, 0);
    test_pack_destroy (&pack);
}

Test (keys, structural_ends)
{
    s_seen_t seen;
    audit_keys_walk_t walk;
    test_pack_t *pack = test_pack_new ();
    test_pack_str (pack, "not a map");
    cr_expect_eq (s_walk (pack, AUDIT_KEYS_DROP, &seen, &walk), AUDIT_KEYS_NOT_MAP);
    test_pack_destroy (&pack);

    pack = test_pack_new ();
    test_pack_map (pack, 1);
    test_pack_uint (pack, 7);
    test_pack_uint (pack, 1);
    cr_expect_eq (s_walk (pack, AUDIT_KEYS_REFUSE, &seen, &walk), AUDIT_KEYS_NOT_STR);
    test_pack_destroy (&pack);

    pack = test_pack_new ();
    test_pack_map (pack, 1);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_uint (pack, 1);
    cr_expect_eq (s_walk (pack, AUDIT_KEYS_DROP, &seen, &walk), AUDIT_KEYS_TRAILING);
    test_pack_destroy (&pack);

    //  an unknown key whose value is cut short cannot be skipped
    static const uint8_t cut [] = { 0x81, 0xa1, 'x', 0xa5, 'a', 'b' };
    audit_keys_table_t table = { s_keys, K_COUNT, AUDIT_KEYS_DROP, s_value, s_dropped };
    memset (&seen, 0, sizeof seen);
    audit_mp_reader_init (&seen.reader, cut, sizeof cut);
    cr_expect_eq (audit_keys_walk (&seen.reader, &table, &seen, &walk), AUDIT_KEYS_MALFORMED);
    cr_expect_eq (seen.dropped, 0, "a key whose value cannot be skipped is not told");

    pack = s_with_unknown ();
    memset (&seen, 0, sizeof seen);
    seen.stop_at = K_NAME;
    audit_mp_reader_init (&seen.reader, test_pack_data (pack), test_pack_size (pack));
    cr_expect_eq (audit_keys_walk (&seen.reader, &table, &seen, &walk), AUDIT_KEYS_STOPPED);
    cr_expect_eq (walk.key, K_NAME);
    test_pack_destroy (&pack);
}

Test (keys, find)
{
    cr_expect_eq (audit_keys_find (s_keys, K_COUNT, "name", 4), K_NAME);
    cr_expect_eq (audit_keys_find (s_keys, K_COUNT, "names", 4), K_NAME, "by length, not NUL");
    cr_expect_eq (audit_keys_find (s_keys, K_COUNT, "nam", 3), -1);
    cr_expect_eq (audit_keys_find (s_keys, K_COUNT, "v\0", 2), -1);
}

//  A hole keeps its index but matches no key, not even the empty one
Test (keys, a_hole_matches_nothing)
{
    static const audit_keys_key_t keys [] = {
        AUDIT_KEYS_KEY ("a"), AUDIT_KEYS_HOLE, AUDIT_KEYS_KEY ("c")
    };
    cr_expect_eq (audit_keys_find (keys, 3, "", 0), -1);
    cr_expect_eq (audit_keys_find (keys, 3, "c", 1), 2);
    cr_expect_eq (audit_keys_find (keys, 3, "b", 1), -1);
}
