/*  auditctl migrate as an operator runs it (issue 15): the real workers
    fill an SQLite data directory (three organisations, a retention set,
    checkpoints signed, a janitor pass that deleted old events so that
    some leaves have no event, an undelivered message), are stopped, the
    directory is moved into a fresh PostgreSQL database, and the workers
    started on that database show the same: every organisation's events
    by log_index with every field, the same newest signed note, proofs
    that verify against it, the message still there, and a new event at
    the next log_index. A second move into the same database is refused.
    Needs a cluster (AUDIT_TEST_DATABASE_URL, scripts/pg-cluster); skipped
    without one. */

#include <criterion/criterion.h>
#include <sys/wait.h>

#include "audit_checkpoint.h"
#include "audit_merkle.h"
#include "audit_note.h"
#include "audit_store_log.h"
#include "audit_time.h"
#include "test_log_view.h"

#define s_DAY   AUDIT_MS_PER_DAY

static const char *s_orgs [] = { "org-a", "org-b", "org-c" };
#define s_ORG_COUNT 3

static test_service_t *s;
static char s_out [16384];

static void
s_teardown (void)
{
    test_service_destroy (&s);
}

TestSuite (migrate, .fini = s_teardown, .timeout = 240);

//  auditctl with the arguments (NULL-terminated), its output into s_out
static int
s_auditctl (const char *const *args)
{
    int pipe_fds [2];
    cr_assert_eq (pipe (pipe_fds), 0);
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (pipe_fds [1], 1);
        dup2 (pipe_fds [1], 2);
        close (pipe_fds [0]);
        const char *argv [16] = { AUDIT_BIN_DIR "/auditctl" };
        for (int at = 0; at < 14 && args [at]; at++)
            argv [at + 1] = args [at];
        execv (argv [0], (char *const *) argv);
        _exit (127);
    }
    close (pipe_fds [1]);
    size_t used = 0;
    ssize_t got;
    while ((got = read (pipe_fds [0], s_out + used, sizeof s_out - 1 - used)) > 0)
        used += (size_t) got;
    s_out [used] = 0;
    close (pipe_fds [0]);
    int status = 0;
    waitpid (pid, &status, 0);
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

static void
s_publish (const char *org, int at, int64_t ts)
{
    char id [40], actor [32], user [32];
    snprintf (id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", at);
    snprintf (actor, sizeof actor, "actor-%d", at % 3);
    snprintf (user, sizeof user, "user-%d", at);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 7);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", id);
    test_pack_kv_str (pack, "event_type", "user_login");
    char text [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (ts, text);
    test_pack_kv_str (pack, "timestamp", text);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", actor);
    test_pack_kv_str (pack, "user_id", user);
    test_service_publish (s, "audit", pack);
    test_pack_destroy (&pack);
}

static void
s_publish_mq (const char *id)
{
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms (), now);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "message_id", id);
    test_pack_kv_str (pack, "org_id", "org-b");
    test_pack_kv_str (pack, "device_id", "phone-1");
    test_pack_kv_str (pack, "timestamp", now);
    test_pack_str (pack, "payload");
    msgpack_pack_bin (&pack->packer, 13);
    msgpack_pack_bin_body (&pack->packer, "MIGRATED-BODY", 13);
    test_service_publish (s, "mq", pack);
    test_pack_destroy (&pack);
}

static void
s_str (const msgpack_unpacked *reply, const char *key, char *text, size_t size)
{
    const msgpack_object *value = test_obj_get (&reply->data, key);
    cr_assert (value && value->type == MSGPACK_OBJECT_STR, "%s is a str", key);
    cr_assert_lt (value->via.str.size, size);
    memcpy (text, value->via.str.ptr, value->via.str.size);
    text [value->via.str.size] = 0;
}

//  The newest signed note of org, and its checkpoint
static void
s_newest (const char *org, char *note, size_t size, audit_checkpoint_t *checkpoint)
{
    char *token = test_token (TEST_SECRET, "org_admin", org, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t args = { { "org_id" }, { org } };
    test_call_ok (s, "checkpoint", token, &args, &reply);
    s_str (&reply, "checkpoint", note, size);
    msgpack_unpacked_destroy (&reply);
    msgpack_unpacked_init (&reply);
    test_args_t none = { { NULL } };
    test_call_ok (s, "log_key", NULL, &none, &reply);
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    s_str (&reply, "key", key, sizeof key);
    msgpack_unpacked_destroy (&reply);
    audit_note_verifier_t verifier;
    cr_assert_eq (audit_note_verifier_parse (&verifier, key, strlen (key)), 0);
    size_t text_len = 0;
    cr_assert_eq (audit_note_verify (&verifier, note, strlen (note), &text_len), AUDIT_NOTE_OK,
                  "%s", note);
    cr_assert_eq (audit_checkpoint_parse (note, text_len, checkpoint), AUDIT_CHECKPOINT_OK);
    free (token);
}

//  Wait until the service signed org's log at size
static void
s_wait_signed (const char *org, uint64_t size)
{
    char note [AUDIT_STORE_NOTE_MAX];
    audit_checkpoint_t checkpoint = { 0 };
    for (int round = 0; round < 200; round++) {
        s_newest (org, note, sizeof note, &checkpoint);
        if (checkpoint.size == size)
            return;
        zclock_sleep (50);
    }
    cr_assert_fail ("%s was not signed at size %llu (newest %llu)", org,
                    (unsigned long long) size, (unsigned long long) checkpoint.size);
}

static void
s_fill_retention (test_pack_t *pack, void *arg)
{
    test_pack_kv_str (pack, "org_id", (const char *) arg);
    test_pack_kv_uint (pack, "retention_days", 90);
}

static void
s_walk (test_log_t *log, const char *org)
{
    char *token = test_token (TEST_SECRET, "org_admin", org, NULL, 600);
    memset (log, 0, sizeof *log);
    test_log_walk (s, log, token, org);
    free (token);
}

//  Every event of before is in after at its log_index, every key the same
static void
s_expect_same (const test_log_t *before, const test_log_t *after, const char *org)
{
    cr_expect_eq (after->events, before->events, "%s: events", org);
    for (size_t at = 0; at < before->slots; at++) {
        if (!before->at [at]) {
            cr_expect (at >= after->slots || !after->at [at],
                       "%s: log_index %zu has an event only after the move", org, at);
            continue;
        }
        cr_assert (at < after->slots && after->at [at], "%s: log_index %zu lost", org, at);
        zhashx_t *was = before->at [at], *is = after->at [at];
        cr_expect_eq (zhashx_size (is), zhashx_size (was), "%s: %zu: keys", org, at);
        for (const char *value = (const char *) zhashx_first (was); value;
             value = (const char *) zhashx_next (was)) {
            const char *key = (const char *) zhashx_cursor (was);
            const char *now = (const char *) zhashx_lookup (is, key);
            cr_expect (now && strcmp (now, value) == 0, "%s: %zu: %s was %s, is %s", org, at,
                       key, value, now? now: "absent");
        }
    }
}

typedef struct {
    uint64_t index;
    audit_merkle_hash_t hash;
    bool found;
} s_leaf_t;

static int
s_keep_leaf (uint64_t index, const audit_merkle_hash_t hash, bool kept, void *arg)
{
    s_leaf_t *wanted = (s_leaf_t *) arg;
    if (index != wanted->index)
        return 0;
    memcpy (wanted->hash, hash, 32);
    wanted->found = kept;
    return 1;
}

typedef struct {
    const char *org;
    uint64_t size, index;
} s_proof_args_t;

static void
s_fill_proof (test_pack_t *pack, void *arg)
{
    s_proof_args_t *args = (s_proof_args_t *) arg;
    test_pack_kv_str (pack, "org_id", args->org);
    test_pack_kv_uint (pack, "size", args->size);
    test_pack_kv_uint (pack, "log_index", args->index);
}

//  The inclusion proof of index in the signed checkpoint verifies, from
//  the leaf the database keeps
static void
s_expect_proof (const char *org, const audit_checkpoint_t *checkpoint, uint64_t index)
{
    audit_store_t *store = audit_store_new (test_store_location (s->dir), AUDIT_STORE_READER);
    cr_assert_not_null (store);
    s_leaf_t leaf = { index, { 0 }, false };
    cr_assert_eq (audit_store_log_leaves (store, org, s_keep_leaf, &leaf), 0);
    audit_store_destroy (&store);
    cr_assert (leaf.found, "%s: leaf %llu kept", org, (unsigned long long) index);
    char *token = test_token (TEST_SECRET, "org_admin", org, NULL, 600);
    s_proof_args_t args = { org, checkpoint->size, index };
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "proof", token, 3, s_fill_proof, &args, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "", "proof of %s %llu", org,
                      (unsigned long long) index);
    const msgpack_object *hashes = test_obj_get (&reply.data, "hashes");
    cr_assert (hashes && hashes->type == MSGPACK_OBJECT_ARRAY);
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX];
    size_t count = 0;
    for (uint32_t at = 0; at < hashes->via.array.size && count < AUDIT_MERKLE_PROOF_MAX; at++)
        memcpy (proof [count++], hashes->via.array.ptr [at].via.bin.ptr, 32);
    msgpack_unpacked_destroy (&reply);
    free (token);
    cr_expect_eq (audit_merkle_inclusion_verify (index, checkpoint->size, leaf.hash, proof,
                                                 count, checkpoint->root), 0,
                  "%s: log_index %llu proven in the moved log", org, (unsigned long long) index);
}

//  The service on the data directory alone: AUDIT_TEST_DATABASE_URL is
//  taken out of this process's environment while it runs (test_pg reads
//  it at each call), so that its workers and counts are SQLite's
static void
s_fill_sqlite (int64_t now)
{
    s = test_service_start ("migrate", true);
    for (int at = 0; at < 20; at++)
        s_publish ("org-a", at, now - 200 * s_DAY + at);    //  gone after the janitor
    for (int at = 20; at < 30; at++)
        s_publish ("org-a", at, now - s_DAY + at);
    for (int at = 30; at < 45; at++)
        s_publish ("org-b", at, now - 2 * s_DAY + at);
    for (int at = 45; at < 50; at++)
        s_publish ("org-c", at, now + at);
    s_publish_mq ("0190a1b2-c3d4-7e5f-8a9b-00000000beef");
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event", 50,
                                           10000), 50);
    cr_assert_eq (test_service_wait_count (s, "queue.db", "SELECT count(*) FROM message", 1,
                                           10000), 1);
    char *token = test_token (TEST_SECRET, "org_admin", "org-a", NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "retention_set", token, 2, s_fill_retention, (void *) "org-a", &reply);
    cr_assert_str_eq (test_reply_code (&reply), "", "retention_set refused");
    msgpack_unpacked_destroy (&reply);
    free (token);
    s_wait_signed ("org-a", 31);
    s_wait_signed ("org-b", 15);
    s_wait_signed ("org-c", 5);
    cr_assert_eq (test_service_janitor_once (s, NULL, 60000), 0);
    cr_assert_eq (test_service_count (s, "audit.db", "SELECT count(*) FROM event"), 31,
                  "the 20 old logins of org-a are deleted");
}

Test (migrate, a_data_directory_moves_into_postgresql_with_its_roots)
{
    if (!test_pg_on ())
        cr_skip_test ("needs a PostgreSQL cluster: AUDIT_TEST_DATABASE_URL (scripts/pg-cluster)");
    char *cluster = strdup (getenv ("AUDIT_TEST_DATABASE_URL"));
    unsetenv ("AUDIT_TEST_DATABASE_URL");
    setenv ("AUDIT_CHECKPOINT_INTERVAL", "1", 1);       //  the workers inherit it
    int64_t now = test_now_ms ();
    s_fill_sqlite (now);
    test_log_t before [s_ORG_COUNT], after [s_ORG_COUNT];
    char notes [s_ORG_COUNT][AUDIT_STORE_NOTE_MAX];
    audit_checkpoint_t checkpoints [s_ORG_COUNT];
    for (int org = 0; org < s_ORG_COUNT; org++) {
        s_walk (&before [org], s_orgs [org]);
        s_newest (s_orgs [org], notes [org], sizeof notes [org], &checkpoints [org]);
    }
    cr_assert_eq (before [0].events, 11, "org-a: 10 logins and retention_changed left");
    test_service_stop (s);

    //  Into the database of the same directory, which the workers then use
    setenv ("AUDIT_TEST_DATABASE_URL", cluster, 1);
    free (cluster);
    const char *url = test_store_location (s->dir);
    const char *move [] = { "migrate", "--from", s->dir, "--to", url, "--batch", "4", NULL };
    cr_assert_eq (s_auditctl (move), 0, "%s", s_out);
    cr_expect (strstr (s_out, "org org-a: 31 leaves, 11 events (20 deleted by retention)"),
               "%s", s_out);
    cr_expect (strstr (s_out, "3 organisations, 31 events"), "%s", s_out);
    cr_expect (strstr (s_out, "1 undelivered messages; every root matches"), "%s", s_out);
    cr_assert_eq (s_auditctl (move), 2, "a second move is refused: %s", s_out);
    cr_expect (strstr (s_out, "already holds events"), "%s", s_out);
    const char *to_dir [] = { "migrate", "--from", s->dir, "--to", s->dir, NULL };
    cr_expect_eq (s_auditctl (to_dir), 2, "SQLite is no target: %s", s_out);

    test_service_resume (s);
    for (int org = 0; org < s_ORG_COUNT; org++) {
        s_walk (&after [org], s_orgs [org]);
        s_expect_same (&before [org], &after [org], s_orgs [org]);
        char note [AUDIT_STORE_NOTE_MAX];
        audit_checkpoint_t checkpoint;
        s_newest (s_orgs [org], note, sizeof note, &checkpoint);
        cr_expect_str_eq (note, notes [org], "%s: the same signed note", s_orgs [org]);
        test_log_clear (&before [org]);
        test_log_clear (&after [org]);
    }
    s_expect_proof ("org-a", &checkpoints [0], 25);
    s_expect_proof ("org-b", &checkpoints [1], 0);
    s_expect_proof ("org-c", &checkpoints [2], 4);
    cr_expect_eq (test_service_count (s, "queue.db", "SELECT count(*) FROM message"), 1,
                  "the undelivered message moved");

    //  The log goes on where it was
    s_publish ("org-a", 99, now);
    cr_expect_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event"
                                           " WHERE org_id = 'org-a' AND log_index = 31"
                                           " AND event_id = '0190a1b2-c3d4-7e5f-8a9b-000000000099'",
                                           1, 10000), 1,
                  "a new event at the next log_index");
}
