/*  The pieces of auditctl verify without a service: an export's rows
    become the contract's leaves (CSV quoting and the formula guard
    undone, ndjson keys put in their columns), malformed files are errors
    with their line; the bundle's walk makes the RFC 9162 root from any
    set of exported leaves and the subtrees it asks for, and those
    subtrees are where the inclusion proofs of its named leaves hold them;
    a bundle survives its JSON, and one changed hash is caught. */

#include <criterion/criterion.h>
#include <unistd.h>

#include "audit_merkle.h"
#include "audit_proto.h"
#include "ctl_bundle.h"
#include "ctl_logfetch.h"
#include "ctl_rows.h"

//  --------------------------------------------------------------------------
//  Rows

static const char *s_leaf_5 =
    "2026-11-18T11:06:40.005Z\x1fuser_login\x1f" "org-a\x1f-5+cmd\x1f\x1f\x1f\x1f\x1f\x1f\x1f"
    "\x1f\x1f" "0190a1b2-c3d4-7e5f-8a9b-000000000005\x1f\x1f" "5";

static int
s_read_one (const char *data, ctl_rows_row_t *row, char *error)
{
    ctl_rows_t *rows = ctl_rows_from_memory (data, strlen (data), error, 200);
    if (!rows)
        return -2;
    int rc = ctl_rows_next (rows, row, error, 200);
    ctl_rows_destroy (&rows);
    return rc;
}

Test (rows, a_csv_row_is_the_leaf_with_the_guard_undone)
{
    char data [1024], error [200] = "";
    snprintf (data, sizeof data, "%s\r\n2026-11-18T11:06:40.005Z,user_login,org-a,'-5+cmd,,,,,,"
              ",,,0190a1b2-c3d4-7e5f-8a9b-000000000005,,5\r\n", audit_proto_csv_header ());
    ctl_rows_row_t row;
    cr_assert_eq (s_read_one (data, &row, error), 1, "%s", error);
    audit_merkle_hash_t expected;
    audit_merkle_leaf_hash (s_leaf_5, strlen (s_leaf_5), expected);
    cr_expect_arr_eq (row.hash, expected, 32);
    cr_expect_eq (row.log_index, 5);
    cr_expect_str_eq (row.org_id, "org-a");
    cr_expect_eq (row.line, 2);
}

Test (rows, a_quoted_csv_field_is_unescaped)
{
    char data [1024], error [200] = "";
    //  the same row, its actor quoted for no reason, its uuid too
    snprintf (data, sizeof data, "%s\r\n2026-11-18T11:06:40.005Z,user_login,org-a,\"'-5+cmd\","
              ",,,,,,,,\"0190a1b2-c3d4-7e5f-8a9b-000000000005\",,5\r\n", audit_proto_csv_header ());
    ctl_rows_row_t row;
    cr_assert_eq (s_read_one (data, &row, error), 1, "%s", error);
    audit_merkle_hash_t expected;
    audit_merkle_leaf_hash (s_leaf_5, strlen (s_leaf_5), expected);
    cr_expect_arr_eq (row.hash, expected, 32);
}

Test (rows, an_ndjson_line_is_the_same_leaf)
{
    const char *data = "{\"event_id\":\"0190a1b2-c3d4-7e5f-8a9b-000000000005\",\"event_type\":"
        "\"user_login\",\"category\":\"authentication\",\"timestamp\":\"2026-11-18T11:06:40.005Z\","
        "\"received_at\":\"2026-11-18T11:06:41.000Z\",\"org_id\":\"org-a\",\"actor_id\":"
        "\"-5+cmd\",\"log_index\":5}\n";
    char error [200] = "";
    ctl_rows_row_t row;
    cr_assert_eq (s_read_one (data, &row, error), 1, "%s", error);
    audit_merkle_hash_t expected;
    audit_merkle_leaf_hash (s_leaf_5, strlen (s_leaf_5), expected);
    cr_expect_arr_eq (row.hash, expected, 32);
    cr_expect_eq (row.log_index, 5);
}

Test (rows, ndjson_escapes_are_undone)
{
    const char *data = "{\"org_id\":\"org-a\",\"log_index\":7,\"actor_id\":"
        "\"a\\\"b\\u00e9\\ud83d\\ude00\\/\"}\n";
    const char *leaf = "\x1f\x1f" "org-a\x1f" "a\"b\xc3\xa9\xf0\x9f\x98\x80/"
                       "\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f" "7";
    char error [200] = "";
    ctl_rows_row_t row;
    cr_assert_eq (s_read_one (data, &row, error), 1, "%s", error);
    audit_merkle_hash_t expected;
    audit_merkle_leaf_hash (leaf, strlen (leaf), expected);
    cr_expect_arr_eq (row.hash, expected, 32);
    cr_expect_eq (s_read_one ("{\"org_id\":\"o\",\"log_index\":1,\"x\":\"\\ud800\"}\n", &row,
                              error), -1, "a lone surrogate");
    cr_expect_eq (s_read_one ("{\"org_id\":\"o\",\"log_index\":1,\"org_id\":\"p\"}\n", &row,
                              error), -1, "a key twice");
    cr_expect_eq (s_read_one ("{\"org_id\":\"o\",\"log_index\":1} x\n", &row, error), -1,
                  "text after the object");
}

Test (rows, malformed_files_are_errors_with_their_line)
{
    static const char *rows [] = {
        "t,user_login,org-a,a,,,,,,,,,u,,\r\n",                     //  no log_index
        "t,user_login,org-a,a,,,,,,,,,u,,05\r\n",                   //  a leading zero
        "t,user_login,org-a,a,,,,,,,,,u,,5,6\r\n",                  //  16 fields
        "t,user_login,org-a,a,,,,,,,,u,,5\r\n",                     //  14 fields
        "t,user_login,org-a,\"a,,,,,,,,,u,,5\r\n",                  //  an open quote
        "t,user_login,org-a,a\"b,,,,,,,,,u,,5\r\n",                 //  a stray quote
        "t,user_login,,a,,,,,,,,,u,,5\r\n",                         //  no org_id
    };
    for (size_t at = 0; at < sizeof rows / sizeof rows [0]; at++) {
        char data [1024], error [200] = "";
        snprintf (data, sizeof data, "%s\r\n%s", audit_proto_csv_header (), rows [at]);
        ctl_rows_row_t row;
        cr_expect_eq (s_read_one (data, &row, error), -1, "row %zu: %s", at, rows [at]);
        cr_expect (strncmp (error, "line 2: ", 8) == 0, "%s", error);
    }
    char error [200];
    ctl_rows_row_t row;
    cr_expect_eq (s_read_one ("timestamp,event_type\r\n", &row, error), -2, "not the header");
    cr_expect_eq (s_read_one ("{\"log_index\":[1]}\n", &row, error), -1, "nested JSON");
    cr_expect_eq (s_read_one ("{\"org_id\":\"o\",\"log_index\":-1}\n", &row, error), -1);
    cr_expect_eq (s_read_one ("", &row, error), 0, "an empty ndjson export has no rows");
}

//  --------------------------------------------------------------------------
//  The bundle's walk

#define s_N 300
static audit_merkle_hash_t s_leaves [s_N];

static void
s_make_leaves (void)
{
    for (int at = 0; at < s_N; at++) {
        char text [32];
        snprintf (text, sizeof text, "leaf %d", at);
        audit_merkle_leaf_hash (text, strlen (text), s_leaves [at]);
    }
}

//  RFC 9162's MTH of leaves [first, end)
static void
s_mth (uint64_t first, uint64_t end, audit_merkle_hash_t hash)
{
    if (end - first == 1) {
        memcpy (hash, s_leaves [first], 32);
        return;
    }
    uint64_t split = 1;
    while (split * 2 < end - first)
        split *= 2;
    audit_merkle_hash_t left, right;
    s_mth (first, first + split, left);
    s_mth (first + split, end, right);
    audit_merkle_node_hash (left, right, hash);
}

static int
s_subtree (void *arg, unsigned level, uint64_t index, audit_merkle_hash_t hash)
{
    (void) arg;
    s_mth (index << level, (index + 1) << level, hash);
    return 0;
}

typedef struct {
    uint64_t size;
    ctl_bundle_t *bundle;
} s_gaps_t;

//  The true hash, checked against the inclusion proof of the named leaf
static int
s_gap (void *arg, uint64_t first, uint64_t end, uint64_t leaf, audit_merkle_hash_t hash)
{
    s_gaps_t *gaps = (s_gaps_t *) arg;
    s_mth (first, end, hash);
    if (leaf == UINT64_MAX)                 //  nothing exported: the whole tree
        return ctl_bundle_add_subtree (gaps->bundle, first, end, hash);
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX], held;
    size_t count = 0;
    cr_assert_eq (audit_merkle_inclusion (leaf, gaps->size, s_subtree, NULL, proof, &count), 0);
    cr_assert_eq (ctl_logfetch_proof_node (leaf, gaps->size, proof, count, first, end, held), 0,
                  "[%llu, %llu) is on the path of %llu", (unsigned long long) first,
                  (unsigned long long) end, (unsigned long long) leaf);
    cr_assert_arr_eq (held, hash, 32);
    return ctl_bundle_add_subtree (gaps->bundle, first, end, hash);
}

//  A bundle of the tree of size whose exported indices are those with keep (at) true
static ctl_bundle_t *
s_bundle (uint64_t size, bool (*keep) (uint64_t))
{
    ctl_bundle_t *bundle = ctl_bundle_new ();
    cr_assert (bundle && ctl_bundle_reserve (bundle, size) == 0);
    bundle->size = size;
    strcpy (bundle->org_id, "org-a");
    size_t count = 0;
    for (uint64_t at = 0; at < size; at++)
        if (keep (at)) {
            bundle->indices [count] = at;
            memcpy (bundle->leaves [count++], s_leaves [at], 32);
        }
    bundle->count = count;
    s_gaps_t gaps = { size, bundle };
    audit_merkle_hash_t root, expected;
    cr_assert_eq (ctl_bundle_walk (bundle, s_gap, &gaps, root), 0);
    s_mth (0, size, expected);
    cr_assert_arr_eq (root, expected, 32, "size %llu", (unsigned long long) size);
    return bundle;
}

static bool s_all (uint64_t at)    { (void) at; return true; }
static bool s_middle (uint64_t at) { return at >= 37 && at < 211; }
static bool s_sparse (uint64_t at) { return at % 7 == 3 || at == 150; }
static bool s_one (uint64_t at)    { return at == 129; }
static bool s_none (uint64_t at)   { (void) at; return false; }

Test (bundle, the_walk_makes_the_root_from_any_exported_set)
{
    s_make_leaves ();
    bool (*sets []) (uint64_t) = { s_all, s_middle, s_sparse, s_one };
    uint64_t sizes [] = { 1, 2, 3, 130, 211, 256, 257, 300 };
    for (size_t set = 0; set < 4; set++)
        for (size_t size = 0; size < 8; size++) {
            ctl_bundle_t *bundle = s_bundle (sizes [size], sets [set]);
            audit_merkle_hash_t root, expected;
            char error [200];
            //  the verifier's walk over the subtrees the builder's met
            cr_expect_eq (ctl_bundle_root (bundle, root, error, sizeof error), 0, "%s", error);
            s_mth (0, sizes [size], expected);
            cr_expect_arr_eq (root, expected, 32);
            ctl_bundle_destroy (&bundle);
        }
}

Test (bundle, a_contiguous_export_needs_few_subtrees)
{
    s_make_leaves ();
    ctl_bundle_t *bundle = s_bundle (300, s_middle);
    cr_expect_leq (bundle->subtree_count, 2 * 9, "a few per edge: %zu", bundle->subtree_count);
    ctl_bundle_destroy (&bundle);
}

Test (bundle, survives_its_json_and_a_changed_hash_is_caught)
{
    s_make_leaves ();
    ctl_bundle_t *bundle = s_bundle (300, s_sparse);
    bundle->note = strdup ("semafore-audit/org-a\n300\nAAAA\n\n");
    bundle->key = strdup ("k");
    audit_merkle_hash_t proof [2] = { { 1 }, { 2 } };
    cr_assert_eq (ctl_bundle_add_consistency (bundle, 100, proof, 2), 0);
    char path [] = "/tmp/test-bundle-XXXXXX";
    int fd = mkstemp (path);
    cr_assert_geq (fd, 0);
    close (fd);
    cr_assert_eq (ctl_bundle_write (bundle, path), 0);
    char error [300] = "";
    ctl_bundle_t *read = ctl_bundle_read (path, error, sizeof error);
    unlink (path);
    cr_assert (read, "%s", error);
    cr_expect_eq (read->count, bundle->count);
    cr_expect_eq (read->subtree_count, bundle->subtree_count);
    cr_expect_arr_eq (read->indices, bundle->indices, bundle->count * sizeof (uint64_t));
    cr_expect_arr_eq (read->leaves, bundle->leaves, bundle->count * 32);
    cr_expect_str_eq (read->note, bundle->note);
    const ctl_bundle_consistency_t *kept = ctl_bundle_consistency_find (read, 100);
    cr_assert (kept && kept->count == 2);
    cr_expect_arr_eq (kept->hashes, proof, 64);
    audit_merkle_hash_t root, expected;
    s_mth (0, 300, expected);
    cr_assert_eq (ctl_bundle_root (read, root, error, sizeof error), 0, "%s", error);
    cr_expect_arr_eq (root, expected, 32);
    read->subtrees [3].hash [0] ^= 1;
    cr_assert_eq (ctl_bundle_root (read, root, error, sizeof error), 0);
    cr_expect_arr_neq (root, expected, 32, "one changed subtree changes the root");
    read->subtree_count--;
    cr_expect_eq (ctl_bundle_root (read, root, error, sizeof error), -1, "a subtree short");
    ctl_bundle_destroy (&read);
    ctl_bundle_destroy (&bundle);
}

Test (bundle, an_empty_export_is_the_whole_tree)
{
    s_make_leaves ();
    ctl_bundle_t *bundle = s_bundle (300, s_none);
    cr_expect_eq (bundle->subtree_count, 1);
    ctl_bundle_destroy (&bundle);
}
