/*  =========================================================================
    test_store_log - the organisation's Merkle tree in the store: the
    writer extends it with every event, and its roots and proofs agree
    with a tree computed here from leaves written by hand from the
    contract's rule; two writers take turns; retention keeps every proof;
    a size is signed once
    ========================================================================= */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_merkle.h"
#include "audit_store.h"
#include "audit_store_log.h"
#include "audit_store_purge.h"
#include "audit_store_space.h"
#include "audit_time.h"
#include "sqlite_store.h"
#include "test_support.h"

#define s_NOW       1795000000000LL
#define s_MAX       70000               //  past 2^16: a node of the second tile level

static char *s_dir;
static audit_store_t *s_writer;
static audit_merkle_hash_t *s_leaves;   //  the leaf hashes of org-a, by log_index
static uint64_t s_size;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("store-log");
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_writer);
    s_leaves = calloc (s_MAX, sizeof *s_leaves);
    s_size = 0;
}

static void
s_teardown (void)
{
    audit_store_destroy (&s_writer);
    test_tmpdir_destroy (&s_dir);
    free (s_leaves);
}

TestSuite (store_log, .init = s_setup, .fini = s_teardown);

//  The contract's leaf of a user_login with only an actor, by hand: the
//  15 columns in header order, 0x1F between, absent ones empty
static void
s_expected_leaf (const audit_event_t *event, uint64_t index, audit_merkle_hash_t hash)
{
    time_t seconds = (time_t) (event->timestamp_ms / 1000);
    struct tm tm;
    gmtime_r (&seconds, &tm);
    char when [32], uuid [40], leaf [512];
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    const uint8_t *u = event->event_id;
    snprintf (uuid, sizeof uuid, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
              "%02x%02x%02x%02x%02x%02x", u [0], u [1], u [2], u [3], u [4], u [5], u [6],
              u [7], u [8], u [9], u [10], u [11], u [12], u [13], u [14], u [15]);
    int len = snprintf (leaf, sizeof leaf, "%s.%03dZ\x1fuser_login\x1f%s\x1f%s"
                        "\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f%s\x1f\x1f%llu", when,
                        (int) (event->timestamp_ms % 1000), event->org_id, event->actor_id,
                        uuid, (unsigned long long) index);
    audit_merkle_leaf_hash (leaf, (size_t) len, hash);
}

static void
s_login (audit_record_t *record, const char *org, uint32_t serial)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = s_NOW;
    audit_event_t *event = &record->u.event;
    memset (event->event_id, 0x5a, AUDIT_UUID_SIZE);
    memcpy (event->event_id + 8, &serial, sizeof serial);
    event->type = AUDIT_EVENT_USER_LOGIN;
    event->timestamp_ms = s_NOW - 1000000 + (serial * 7919) % 1000000;   //  out of order
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "actor-%u", serial % 13);
}

//  count events of org-a through store, in batches of up to 1,000
static void
s_append (audit_store_t *store, uint64_t count)
{
    static audit_record_t records [1000];
    static audit_store_outcome_t outcomes [1000];
    while (count > 0) {
        size_t batch = count < 1000? (size_t) count: 1000;
        for (size_t at = 0; at < batch; at++) {
            s_login (&records [at], "org-a", (uint32_t) (s_size + at));
            s_expected_leaf (&records [at].u.event, s_size + at, s_leaves [s_size + at]);
        }
        cr_assert_eq (audit_store_write (store, records, batch, outcomes, NULL), 0);
        s_size += batch;
        count -= batch;
    }
}

//  RFC 9162's MTH over s_leaves [from, to), the slow way
static void
s_mth (uint64_t from, uint64_t to, audit_merkle_hash_t hash)
{
    if (to - from == 1) {
        memcpy (hash, s_leaves [from], AUDIT_MERKLE_HASH_SIZE);
        return;
    }
    uint64_t split = 1;
    while (split * 2 < to - from)
        split *= 2;
    audit_merkle_hash_t left, right;
    s_mth (from, from + split, left);
    s_mth (from + split, to, right);
    audit_merkle_node_hash (left, right, hash);
}

static void
s_expect_root (audit_store_t *store, uint64_t size)
{
    audit_merkle_hash_t root, expected;
    cr_assert_eq (audit_store_log_root (store, "org-a", size, root), 0, "size %llu",
                  (unsigned long long) size);
    s_mth (0, size, expected);
    cr_expect_arr_eq (root, expected, AUDIT_MERKLE_HASH_SIZE, "root of size %llu",
                      (unsigned long long) size);
}

static void
s_expect_inclusion (audit_store_t *store, uint64_t index, uint64_t size)
{
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX], root;
    size_t count = 0;
    cr_assert_eq (audit_store_log_inclusion (store, "org-a", index, size, proof, &count), 0);
    s_mth (0, size, root);
    cr_expect_eq (audit_merkle_inclusion_verify (index, size, s_leaves [index], proof, count,
                                                 root), 0, "index %llu of %llu",
                  (unsigned long long) index, (unsigned long long) size);
}

Test (store_log, roots_and_proofs_agree_with_the_contracts_tree)
{
    uint64_t sizes [] = { 1, 2, 3, 255, 256, 257, 511, 1000, 4097 };
    for (size_t at = 0; at < sizeof sizes / sizeof *sizes; at++) {
        s_append (s_writer, sizes [at] - s_size);
        s_expect_root (s_writer, s_size);
    }
    s_expect_root (s_writer, 300);      //  an older size, too
    //  Each complete tile keeps its 16 subtrees of level 4, which the
    //  proofs below read in place of 240 of its leaves
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT, "SELECT count(*) FROM tree_node"
                                  " WHERE level = 8 AND length (subtrees) = 16 * 32"), 16);
    for (uint64_t index = 0; index < s_size; index += 97)
        s_expect_inclusion (s_writer, index, s_size);
    s_expect_inclusion (s_writer, 4096, 4097);
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX], old_root, root;
    size_t count;
    cr_assert_eq (audit_store_log_consistency (s_writer, "org-a", 257, 4097, proof, &count), 0);
    s_mth (0, 257, old_root);
    s_mth (0, 4097, root);
    cr_expect_eq (audit_merkle_consistency_verify (257, 4097, old_root, root, proof, count), 0);
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT,
                                  "SELECT count(*) FROM tree_node WHERE level = 8"), 16);
}

Test (store_log, a_tree_past_two_tile_levels, .timeout = 60)
{
    s_append (s_writer, s_MAX);
    s_expect_root (s_writer, s_MAX);
    s_expect_root (s_writer, 65536);
    s_expect_inclusion (s_writer, 0, s_MAX);
    s_expect_inclusion (s_writer, 65535, s_MAX);
    s_expect_inclusion (s_writer, s_MAX - 1, s_MAX);
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT,
                                  "SELECT count(*) FROM tree_node WHERE level = 16"), 1);
}

Test (store_log, two_writers_take_turns)
{
    //  the query worker writes its own audit_access events into the log too
    audit_store_t *other = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert_not_null (other);
    for (int turn = 0; turn < 6; turn++)
        s_append (turn % 2? other: s_writer, 100 + turn * 37);
    s_expect_root (s_writer, s_size);
    s_expect_root (other, s_size);
    for (uint64_t index = 0; index < s_size; index += 41)
        s_expect_inclusion (other, index, s_size);
    audit_store_destroy (&other);
}

//  What the waiting tails look at before they read any log
Test (store_log, the_log_version_moves_with_another_connections_commit)
{
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    cr_assert_not_null (reader);
    uint64_t before = 0, same = 0, after = 0;
    cr_assert_eq (audit_store_log_version (reader, &before), 0);
    cr_assert_eq (audit_store_log_version (reader, &same), 0);
    cr_expect_eq (same, before, "no commit, no move");
    s_append (s_writer, 3);
    cr_assert_eq (audit_store_log_version (reader, &after), 0);
    cr_expect_neq (after, before, "a commit of the writer moves it");
    audit_store_destroy (&reader);
}

Test (store_log, retention_keeps_the_proofs_of_the_events_kept)
{
    s_append (s_writer, 600);
    audit_merkle_hash_t before;
    cr_assert_eq (audit_store_log_root (s_writer, "org-a", 600, before), 0);
    audit_store_t *janitor = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    int64_t org = test_store_int (janitor, AUDIT_DB_AUDIT, "SELECT id FROM org WHERE name = 'org-a'");
    int64_t deleted = 0;
    bool more = false;
    cr_assert_eq (audit_store_space_begin (janitor, AUDIT_DB_AUDIT), 0);
    int rc = audit_store_purge_events (janitor, org, s_NOW - 500000, 100000, &deleted, &more);
    cr_assert_eq (audit_store_space_end (janitor, AUDIT_DB_AUDIT, rc), 0);
    cr_assert_gt (deleted, 200);
    cr_expect_eq (test_store_int (janitor, AUDIT_DB_AUDIT, "SELECT count(*) FROM event"),
                  600 - deleted);
    //  The tiles of the deleted events keep their leaves' hashes, up to the log's size
    cr_expect_eq (test_store_int (janitor, AUDIT_DB_AUDIT,
                                  "SELECT sum (length (hashes)) FROM leaf_tile"), 600 * 32,
                  "a deleted event's tile keeps its leaves");
    s_expect_root (janitor, 600);
    for (uint64_t index = 0; index < 600; index += 7)
        s_expect_inclusion (janitor, index, 600);
    s_append (s_writer, 10);            //  and the log goes on
    s_expect_root (janitor, 610);
    audit_store_destroy (&janitor);
}

//  The janitor purges in batches; with timestamps out of order each batch
//  holds events of every tile. The tiles' leaves are read a span of tiles
//  at a time, and a tile saved whole is never saved again (before, each
//  batch saved every tile anew, each from a scan of the organisation's
//  range: bench-janitor -S did not finish)
Test (store_log, retention_in_batches_saves_each_whole_tile_once, .timeout = 60)
{
    s_append (s_writer, 9000);          //  35 whole tiles and a part: past one span
    audit_store_t *janitor = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    sqlite3 *db = audit_store_db (janitor, AUDIT_DB_AUDIT);
    cr_assert_eq (sqlite3_exec (db,
        "CREATE TEMP TABLE saves (n INT); INSERT INTO saves VALUES (0);"
        "CREATE TEMP TRIGGER saved_new AFTER INSERT ON leaf_tile"
        " BEGIN UPDATE saves SET n = n + 1; END;"
        "CREATE TEMP TRIGGER saved_again AFTER UPDATE ON leaf_tile"
        " BEGIN UPDATE saves SET n = n + 1; END;", NULL, NULL, NULL), SQLITE_OK);
    int64_t org = test_store_int (janitor, AUDIT_DB_AUDIT, "SELECT id FROM org WHERE name = 'org-a'");
    int64_t deleted = 0, rounds = 0, total = 0;
    bool more = true;
    while (more && rounds < 100) {
        cr_assert_eq (audit_store_space_begin (janitor, AUDIT_DB_AUDIT), 0);
        int rc = audit_store_purge_events (janitor, org, s_NOW - 500000, 300, &deleted, &more);
        cr_assert_eq (audit_store_space_end (janitor, AUDIT_DB_AUDIT, rc), 0);
        total += deleted;
        rounds++;
    }
    cr_assert_gt (rounds, 10, "the purge took batches: %lld", (long long) rounds);
    cr_expect_eq (test_store_int (janitor, AUDIT_DB_AUDIT, "SELECT count(*) FROM event"),
                  9000 - total);
    cr_expect_eq (test_store_int (janitor, AUDIT_DB_AUDIT,
                                  "SELECT sum (length (hashes)) FROM leaf_tile"), 9000 * 32,
                  "every tile keeps its leaves");
    int64_t saves = test_store_int (janitor, AUDIT_DB_AUDIT, "SELECT n FROM temp.saves");
    cr_expect (saves >= 36 && saves <= 35 + rounds, "35 whole tiles once, the part each round:"
               " %lld saves in %lld rounds", (long long) saves, (long long) rounds);
    s_expect_root (janitor, 9000);
    for (uint64_t index = 0; index < 9000; index += 97)
        s_expect_inclusion (janitor, index, 9000);
    audit_store_destroy (&janitor);
}

Test (store_log, a_size_is_signed_once)
{
    s_append (s_writer, 10);
    audit_merkle_hash_t root, other;
    cr_assert_eq (audit_store_log_root (s_writer, "org-a", 10, root), 0);
    memcpy (other, root, sizeof other);
    other [0] ^= 1;
    char kept [AUDIT_STORE_NOTE_MAX] = "", note [AUDIT_STORE_NOTE_MAX];
    uint64_t size = 0;
    cr_expect_eq (audit_store_checkpoint_get (s_writer, "org-a", 0, note, sizeof note, &size), 1);
    cr_expect_eq (audit_store_checkpoint_put (s_writer, "org-a", 10, root, "note one\n",
                                              kept, sizeof kept), 0);
    cr_expect_eq (audit_store_checkpoint_put (s_writer, "org-a", 10, root, "note two\n",
                                              kept, sizeof kept), 1);
    cr_expect_str_eq (kept, "note one\n", "the first note of a size stays");
    cr_expect_eq (audit_store_checkpoint_put (s_writer, "org-a", 10, other, "forged\n",
                                              kept, sizeof kept), -1);
    cr_expect_eq (audit_store_checkpoint_put (s_writer, "org-a", 11, root, "too far\n",
                                              kept, sizeof kept), -1, "past the log");
    cr_expect_eq (audit_store_checkpoint_get (s_writer, "org-a", 0, note, sizeof note, &size), 0);
    cr_expect_str_eq (note, "note one\n");
    cr_expect_eq (size, 10);
    cr_expect_eq (audit_store_checkpoint_get (s_writer, "org-a", 9, note, sizeof note, &size), 1);
    cr_expect_eq (audit_store_checkpoint_get (s_writer, "org-b", 0, note, sizeof note, &size), 1);
}

static int
s_due (const char *org_id, uint64_t size, void *arg)
{
    char *seen = (char *) arg;
    char line [64];
    snprintf (line, sizeof line, "%s=%llu;", org_id, (unsigned long long) size);
    strcat (seen, line);
    return 0;
}

Test (store_log, organisations_are_due_when_their_log_grew)
{
    s_append (s_writer, 5);
    audit_record_t record;
    s_login (&record, "org-b", 99);
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
    audit_merkle_hash_t root;
    cr_assert_eq (audit_store_log_root (s_writer, "org-b", 1, root), 0);
    char kept [AUDIT_STORE_NOTE_MAX];
    cr_assert_eq (audit_store_checkpoint_put (s_writer, "org-b", 1, root, "b\n", kept,
                                              sizeof kept), 0);
    char seen [256] = "";
    cr_assert_eq (audit_store_checkpoint_due (s_writer, INT64_MAX, s_due, seen), 0);
    cr_expect_str_eq (seen, "org-a=5;");
    s_login (&record, "org-b", 100);
    cr_assert_eq (audit_store_write (s_writer, &record, 1, &outcome, NULL), 0);
    cr_assert_eq (outcome, AUDIT_STORE_STORED);
    seen [0] = 0;
    cr_assert_eq (audit_store_checkpoint_due (s_writer, test_now_ms () - 60000, s_due, seen), 0);
    cr_expect_str_eq (seen, "org-a=5;", "org-b grew, but was signed just now");
}

Test (store_log, proofs_outside_the_log_are_not_found)
{
    s_append (s_writer, 8);
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX], root;
    size_t count;
    cr_expect_eq (audit_store_log_inclusion (s_writer, "org-a", 8, 8, proof, &count), 1);
    cr_expect_eq (audit_store_log_inclusion (s_writer, "org-a", 0, 9, proof, &count), 1);
    cr_expect_eq (audit_store_log_consistency (s_writer, "org-a", 9, 8, proof, &count), 1);
    cr_expect_eq (audit_store_log_consistency (s_writer, "org-a", 0, 8, proof, &count), 1);
    cr_expect_eq (audit_store_log_root (s_writer, "nobody", 1, root), 1);
    uint64_t size = 99;
    cr_expect_eq (audit_store_log_size (s_writer, "nobody", &size), 0);
    cr_expect_eq (size, 0);
}

//  audit.db itself, the store closed, to turn it into an older version
static sqlite3 *
s_raw_audit_db (void)
{
    char path [512];
    snprintf (path, sizeof path, "%s/audit.db", s_dir);
    sqlite3 *db = NULL;
    cr_assert_eq (sqlite3_open (path, &db), SQLITE_OK);
    return db;
}

//  A file of version 4 (before the tree): the step to 5 computes the same
//  leaves and nodes as the writer, and an index whose event retention had
//  deleted gets the leaf of the empty text
Test (store_log, the_migration_builds_the_writers_tree)
{
    s_append (s_writer, 700);
    audit_merkle_hash_t root;
    cr_assert_eq (audit_store_log_root (s_writer, "org-a", 700, root), 0);
    audit_store_destroy (&s_writer);
    sqlite3 *db = s_raw_audit_db ();
    cr_assert_eq (sqlite3_exec (db, "DROP TABLE leaf_tile; DROP TABLE tree_node;"
                                " DROP TABLE checkpoint; ALTER TABLE event DROP COLUMN leaf_tag;"
                                " ALTER TABLE org DROP COLUMN tail_min_ts;"
                                " ALTER TABLE org DROP COLUMN tail_max_ts;"
                                " ALTER TABLE org DROP COLUMN tail_nodes;"
                                " CREATE UNIQUE INDEX event_org_index ON event (org, log_index);"
                                " DELETE FROM event WHERE log_index = 5;"
                                " DROP TABLE subject_run; DROP TABLE subject_entry;"
                                " DROP INDEX org_subjects_owed;"
                                " ALTER TABLE org DROP COLUMN subject_merged;"
                                " PRAGMA user_version = 4;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_writer);
    audit_merkle_leaf_hash ("", 0, s_leaves [5]);
    s_expect_root (s_writer, 700);
    s_expect_inclusion (s_writer, 699, 700);
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT,
                                  "SELECT count(*) FROM tree_node WHERE level = 8"), 2);
    //  through step 7: the tile of the deleted event keeps its leaves
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT,
                                  "SELECT group_concat (tile) FROM leaf_tile"), 0);
    s_append (s_writer, 10);            //  and the writer goes on from it
    s_expect_root (s_writer, 710);
}

//  Counts the walk's leaves, and those whose event retention deleted
static int
s_count_leaf (uint64_t index, const audit_merkle_hash_t hash, bool kept, void *arg)
{
    uint64_t *counts = (uint64_t *) arg;
    counts [0]++;
    counts [1] += !kept;
    cr_expect_arr_eq (hash, s_leaves [index], AUDIT_MERKLE_HASH_SIZE, "leaf %llu",
                      (unsigned long long) index);
    return 0;
}

//  A file of version 6 (a leaf row per event, the hash of a deleted event
//  kept with a NULL ts): the step to 7 moves the hashes out of table leaf,
//  a tag into each event and the deleted events' tiles into leaf_tile;
//  roots, proofs and the walk are the same, and the writer goes on
Test (store_log, a_version_6_file_keeps_its_tree_through_step_7)
{
    s_append (s_writer, 600);
    audit_store_destroy (&s_writer);
    sqlite3 *db = s_raw_audit_db ();
    cr_assert_eq (sqlite3_exec (db, "CREATE TABLE leaf (org INT NOT NULL, log_index INT NOT NULL,"
                                " ts INT, hash BLOB NOT NULL, PRIMARY KEY (org, log_index))"
                                " WITHOUT ROWID; INSERT INTO leaf SELECT org, log_index, ts,"
                                " zeroblob (32) FROM event;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, "UPDATE leaf SET hash = ?1 WHERE log_index = ?2", -1,
                                      &stmt, NULL), SQLITE_OK);
    for (uint64_t index = 0; index < 600; index++) {
        sqlite3_bind_blob (stmt, 1, s_leaves [index], AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 2, (int64_t) index);
        cr_assert_eq (sqlite3_step (stmt), SQLITE_DONE);
        sqlite3_reset (stmt);
    }
    sqlite3_finalize (stmt);
    cr_assert_eq (sqlite3_exec (db, "DELETE FROM event WHERE log_index IN (3, 300);"
                                " UPDATE leaf SET ts = NULL WHERE log_index IN (3, 300);"
                                " DROP TABLE leaf_tile; ALTER TABLE event DROP COLUMN leaf_tag;"
                                " ALTER TABLE org DROP COLUMN tail_min_ts;"
                                " ALTER TABLE org DROP COLUMN tail_max_ts;"
                                " ALTER TABLE org DROP COLUMN tail_nodes;"
                                " ALTER TABLE tree_node DROP COLUMN min_ts;"
                                " ALTER TABLE tree_node DROP COLUMN max_ts;"
                                " ALTER TABLE tree_node DROP COLUMN subtrees;"
                                " DROP TABLE subject_run; DROP TABLE subject_entry;"
                                " DROP INDEX org_subjects_owed;"
                                " ALTER TABLE org DROP COLUMN subject_merged;"
                                " PRAGMA user_version = 6;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
    s_writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (s_writer);
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT, "PRAGMA user_version"),
                  audit_schema_version (AUDIT_DB_AUDIT));
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT,
                                  "SELECT count(*) FROM event WHERE length (leaf_tag) = 4"), 598);
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT,
                                  "SELECT sum (length (hashes)) FROM leaf_tile"), 512 * 32,
                  "tiles 0 and 1 keep their leaves");
    cr_expect_eq (test_store_int (s_writer, AUDIT_DB_AUDIT, "SELECT count(*) FROM tree_node"
                                  " WHERE level = 8 AND length (subtrees) = 16 * 32"), 2,
                  "the complete tiles get their inner subtrees");
    s_expect_root (s_writer, 600);
    for (uint64_t index = 0; index < 600; index += 13)
        s_expect_inclusion (s_writer, index, 600);
    uint64_t counts [2] = { 0, 0 };
    cr_expect_eq (audit_store_log_leaves (s_writer, "org-a", s_count_leaf, counts), 0);
    cr_expect_eq (counts [0], 600);
    cr_expect_eq (counts [1], 2, "the two deleted events' leaves are not kept");
    s_append (s_writer, 10);            //  and the writer goes on from it
    s_expect_root (s_writer, 610);
    s_expect_inclusion (s_writer, 605, 610);
}
