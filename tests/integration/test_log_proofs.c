/*  The real audit-ingest and audit-query as a verifier of an organisation's
    log sees them: log_key publishes the C2SP verifier key; the service
    signs the growing log by itself; checkpoint returns a note that
    verifies with that key and commits to the leaves the contract defines;
    proof gives inclusion proofs of every event and consistency proofs
    between two signed sizes; the final export chunk carries a checkpoint
    covering every row; sizes never signed are not_found. */

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "audit_checkpoint.h"
#include "audit_merkle.h"
#include "audit_note.h"
#include "audit_store_log.h"
#include "audit_time.h"
#include "test_log_view.h"

static test_service_t *s;
static char *s_admin;

static void
s_setup (void)
{
    setenv ("AUDIT_CHECKPOINT_INTERVAL", "1", 1);   //  the workers inherit it
    s = test_service_start ("checkpoint", true);
    s_admin = test_token (TEST_SECRET, "org_admin", "org-a", NULL, 600);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
    free (s_admin);
}

TestSuite (log_proofs, .init = s_setup, .fini = s_teardown, .timeout = 120);

static void
s_publish_logins (int first, int count)
{
    for (int at = first; at < first + count; at++) {
        char id [40];
        snprintf (id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", at);
        test_pack_t *pack = test_pack_new ();
        test_pack_map (pack, 6);
        test_pack_kv_uint (pack, "v", 1);
        test_pack_kv_str (pack, "event_id", id);
        test_pack_kv_str (pack, "event_type", "user_login");
        test_pack_kv_ts_ext (pack, "timestamp", 1795000000000LL + at, 12);
        test_pack_kv_str (pack, "org_id", "org-a");
        test_pack_kv_str (pack, "actor_id", "actor-1");
        test_service_publish (s, "audit", pack);
        test_pack_destroy (&pack);
    }
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                           first + count, 10000), first + count);
}

//  The str at key of reply, copied into text
static void
s_str (const msgpack_unpacked *reply, const char *key, char *text, size_t size)
{
    const msgpack_object *value = test_obj_get (&reply->data, key);
    cr_assert (value && value->type == MSGPACK_OBJECT_STR, "%s is a str", key);
    cr_assert_lt (value->via.str.size, size);
    memcpy (text, value->via.str.ptr, value->via.str.size);
    text [value->via.str.size] = 0;
}

static void
s_verifier (audit_note_verifier_t *verifier)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t none = { { NULL } };
    test_call_ok (s, "log_key", NULL, &none, &reply);
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    s_str (&reply, "key", key, sizeof key);
    msgpack_unpacked_destroy (&reply);
    cr_assert_eq (audit_note_verifier_parse (verifier, key, strlen (key)), 0, "%s", key);
}

//  A note that verifies, and its checkpoint
static void
s_checkpoint_of (const char *note, audit_checkpoint_t *checkpoint)
{
    audit_note_verifier_t verifier;
    s_verifier (&verifier);
    size_t text_len = 0;
    cr_assert_eq (audit_note_verify (&verifier, note, strlen (note), &text_len), AUDIT_NOTE_OK,
                  "%s", note);
    cr_assert_eq (audit_checkpoint_parse (note, text_len, checkpoint), AUDIT_CHECKPOINT_OK);
    cr_expect_str_eq (checkpoint->org_id, "org-a");
}

static void
s_newest (audit_checkpoint_t *checkpoint)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t args = { { "org_id" }, { "org-a" } };
    test_call_ok (s, "checkpoint", s_admin, &args, &reply);
    char note [1024];
    s_str (&reply, "checkpoint", note, sizeof note);
    msgpack_unpacked_destroy (&reply);
    s_checkpoint_of (note, checkpoint);
}

typedef struct {
    uint64_t size, second;
    const char *second_key;
} s_proof_args_t;

static void
s_fill_proof (test_pack_t *pack, void *arg)
{
    s_proof_args_t *args = (s_proof_args_t *) arg;
    test_pack_kv_str (pack, "org_id", "org-a");
    test_pack_kv_uint (pack, "size", args->size);
    if (args->second_key)
        test_pack_kv_uint (pack, args->second_key, args->second);
}

//  The proof's hashes into proof; the reply's error code, or NULL
static const char *
s_proof (s_proof_args_t *args, audit_merkle_hash_t *proof, size_t *count)
{
    static char code [32];
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "proof", s_admin, args->second_key? 3: 2, s_fill_proof, args, &reply);
    const char *error = test_reply_code (&reply);
    snprintf (code, sizeof code, "%s", error);
    error = *code? code: NULL;
    *count = 0;
    const msgpack_object *hashes = error? NULL: test_obj_get (&reply.data, "hashes");
    for (uint32_t at = 0; hashes && at < hashes->via.array.size; at++) {
        const msgpack_object *hash = &hashes->via.array.ptr [at];
        cr_assert (hash->type == MSGPACK_OBJECT_BIN && hash->via.bin.size == 32);
        memcpy (proof [(*count)++], hash->via.bin.ptr, 32);
    }
    msgpack_unpacked_destroy (&reply);
    return error;
}

typedef struct {
    uint64_t index;
    audit_merkle_hash_t *hash;
    bool found;
} s_wanted_leaf_t;

static int
s_keep_leaf (uint64_t index, const audit_merkle_hash_t hash, bool kept, void *arg)
{
    s_wanted_leaf_t *wanted = (s_wanted_leaf_t *) arg;
    if (index != wanted->index || !kept)
        return 0;
    memcpy (*wanted->hash, hash, 32);
    wanted->found = true;
    return 1;
}

//  The leaf hash the service holds for index (read from audit.db through
//  a store of its own), and the tag its event row keeps is that hash's
//  (the SQLite engine's column: not looked at on PostgreSQL)
static void
s_stored_leaf (uint64_t index, audit_merkle_hash_t hash)
{
    audit_store_t *store = audit_store_new (test_store_location (s->dir), AUDIT_STORE_READER);
    cr_assert_not_null (store);
    s_wanted_leaf_t wanted = { index, (audit_merkle_hash_t *) hash, false };
    cr_assert_eq (audit_store_log_leaves (store, "org-a", s_keep_leaf, &wanted), 0);
    cr_assert (wanted.found, "leaf %llu", (unsigned long long) index);
    audit_store_destroy (&store);
    if (test_pg_on ())
        return;
    char path [600];
    snprintf (path, sizeof path, "%s/audit.db", s->dir);
    sqlite3 *db = NULL;
    cr_assert_eq (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (db, "SELECT leaf_tag FROM event e JOIN org o ON o.id = e.org"
                        " WHERE o.name = 'org-a' AND e.log_index = ?1", -1, &stmt, NULL);
    sqlite3_bind_int64 (stmt, 1, (int64_t) index);
    cr_assert_eq (sqlite3_step (stmt), SQLITE_ROW);
    cr_expect_eq (sqlite3_column_bytes (stmt, 0), 4);
    cr_expect_arr_eq (sqlite3_column_blob (stmt, 0), hash, 4, "the row's tag is its leaf's");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
}

Test (log_proofs, the_log_is_signed_and_every_event_proven)
{
    s_publish_logins (0, 40);
    audit_checkpoint_t checkpoint;
    s_newest (&checkpoint);
    cr_assert_geq (checkpoint.size, 1);
    //  The leaf of event 0, written by hand from the contract's rule
    const char *leaf = "2026-11-18T11:06:40.000Z\x1fuser_login\x1forg-a\x1f" "actor-1"
                       "\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f"
                       "0190a1b2-c3d4-7e5f-8a9b-000000000000\x1f\x1f" "0";
    audit_merkle_hash_t expected, stored;
    audit_merkle_leaf_hash (leaf, strlen (leaf), expected);
    s_stored_leaf (0, stored);
    cr_expect_arr_eq (stored, expected, 32, "the leaf is the contract's");
    for (uint64_t index = 0; index < checkpoint.size; index++) {
        s_proof_args_t args = { checkpoint.size, index, "log_index" };
        audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX], leaf_hash;
        size_t count;
        cr_assert_null (s_proof (&args, proof, &count));
        s_stored_leaf (index, leaf_hash);
        cr_expect_eq (audit_merkle_inclusion_verify (index, checkpoint.size, leaf_hash, proof,
                                                     count, checkpoint.root), 0,
                      "event %llu", (unsigned long long) index);
    }
}

Test (log_proofs, a_grown_log_is_consistent_with_its_older_checkpoint)
{
    s_publish_logins (0, 10);
    audit_checkpoint_t before, after;
    s_newest (&before);
    s_publish_logins (10, 25);
    //  signed by ingest within its interval (1 s here)
    for (int tries = 0; tries < 50; tries++) {
        s_newest (&after);
        if (after.size >= 35)
            break;
        usleep (100 * 1000);
    }
    cr_assert_geq (after.size, 35, "ingest signs a growing log by itself");
    s_proof_args_t args = { after.size, before.size, "from_size" };
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX];
    size_t count;
    cr_assert_null (s_proof (&args, proof, &count));
    cr_expect_eq (audit_merkle_consistency_verify (before.size, after.size, before.root,
                                                   after.root, proof, count), 0);
}

Test (log_proofs, the_last_export_chunk_carries_a_checkpoint_over_it)
{
    s_publish_logins (0, 12);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t args = { { "org_id" }, { "org-a" } };
    test_call_ok (s, "export", s_admin, &args, &reply);
    char note [1024];
    s_str (&reply, "checkpoint", note, sizeof note);
    msgpack_unpacked_destroy (&reply);
    audit_checkpoint_t checkpoint;
    s_checkpoint_of (note, &checkpoint);
    cr_expect_geq (checkpoint.size, 13, "the 12 rows and the export's own record");
}

Test (log_proofs, sizes_never_signed_are_not_found)
{
    s_publish_logins (0, 5);
    audit_checkpoint_t checkpoint;
    s_newest (&checkpoint);
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX];
    size_t count;
    s_proof_args_t unsigned_size = { checkpoint.size + 1000, 0, "log_index" };
    cr_expect_str_eq (s_proof (&unsigned_size, proof, &count), "not_found");
    s_proof_args_t past = { checkpoint.size, checkpoint.size, "log_index" };
    cr_expect_str_eq (s_proof (&past, proof, &count), "not_found");
    s_proof_args_t neither = { checkpoint.size, 0, NULL };
    cr_expect_str_eq (s_proof (&neither, proof, &count), "bad_request");
}
