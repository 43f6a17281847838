/*  auditctl verify against the real workers, as an auditor and an operator
    use it: an export and its proof bundle (auditctl export --proof)
    verify offline, in CSV and ndjson, and online, and an independent
    verifier written from PROTOCOL.md (examples/verify_bundle.py, Python
    with PyNaCl) agrees with auditctl on them; an edited export names
    its row; a data directory changed with the workers stopped (a flipped
    identifier, a deleted row, two rows swapped, an inserted row, a stored
    subtree hash that proofs are made from; on PostgreSQL the same change
    made in its database with SQL, test_pg_exec) is named by verify --db,
    and the export made after it fails against the bundle made before it,
    naming the row; an export after a retention purge
    verifies and is consistent with a checkpoint signed before the purge. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <sys/wait.h>

#include "audit_note.h"
#include "audit_time.h"
#include "test_keys.h"
#include "test_service.h"

#define s_DAY   AUDIT_MS_PER_DAY
#define s_LOGINS 30

static test_service_t *s;
static char *s_admin;
static char s_key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
static char s_out [16384];

static void
s_setup (void)
{
    s = test_service_start ("verify", true);
    s_admin = test_token (TEST_SECRET, "org_admin", "org-v", NULL, 600);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
    free (s_admin);
}

TestSuite (verify, .init = s_setup, .fini = s_teardown, .timeout = 240);

//  --------------------------------------------------------------------------
//  Helpers

//  Run auditctl with the arguments (NULL-terminated); its output (stdout
//  and stderr) into s_out; its exit status
static int
s_run (const char *const *argv)
{
    int pipe_fds [2];
    cr_assert_eq (pipe (pipe_fds), 0);
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (pipe_fds [1], 1);
        dup2 (pipe_fds [1], 2);
        close (pipe_fds [0]);
        //  In the CURVE pass: the client settings auditctl connects with
        const char *env [3] = { NULL };
        int count = test_keys_env ("auditctl", env);
        for (int at = 0; at < count; at++)
            putenv ((char *) env [at]);
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

//  argv of program and the arguments after it (NULL-terminated)
#define s_ARGV(program, first) \
    const char *argv [40] = { program, first }; \
    int count = 2; \
    va_list args; \
    va_start (args, first); \
    while (count < 39 && (argv [count] = va_arg (args, const char *))) \
        count++; \
    va_end (args); \
    argv [count] = NULL

static int
s_auditctl (const char *first, ...)
{
    s_ARGV (AUDIT_BIN_DIR "/auditctl", first);
    return s_run (argv);
}

static int
s_auditctl_program (const char *program, const char *first, ...)
{
    s_ARGV (program, first);
    return s_run (argv);
}

//  A path in the service's directory's parent, unique to this test
static const char *
s_path (const char *name)
{
    static char paths [8][600];
    static int next;
    char *path = paths [next++ % 8];
    snprintf (path, sizeof paths [0], "%s.%s", s->dir, name);
    return path;
}

static void
s_publish_login (int at, int64_t ts)
{
    char id [40];
    snprintf (id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", at);
    char actor [32];
    snprintf (actor, sizeof actor, "actor-%d", at);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", id);
    test_pack_kv_str (pack, "event_type", "user_login");
    char text [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (ts, text);
    test_pack_kv_str (pack, "timestamp", text);
    test_pack_kv_str (pack, "org_id", "org-v");
    //  one actor that the CSV formula guard must neutralise, and undo
    test_pack_kv_str (pack, "actor_id", at == 5? "-5+cmd": actor);
    test_service_publish (s, "audit", pack);
    test_pack_destroy (&pack);
}

static void
s_publish_logins (int first, int count, int64_t ts)
{
    for (int at = first; at < first + count; at++)
        s_publish_login (at, ts + at);
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                           first + count, 10000), first + count);
}

static void
s_log_key (void)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "log_key", NULL, 0, NULL, NULL, &reply);
    const msgpack_object *key = test_obj_get (&reply.data, "key");
    cr_assert (key && key->type == MSGPACK_OBJECT_STR && key->via.str.size < sizeof s_key);
    memcpy (s_key, key->via.str.ptr, key->via.str.size);
    s_key [key->via.str.size] = 0;
    msgpack_unpacked_destroy (&reply);
}

static void
s_fill_org (test_pack_t *pack, void *arg)
{
    (void) arg;
    test_pack_kv_str (pack, "org_id", "org-v");
}

//  The newest signed checkpoint of org-v, written to path
static void
s_save_checkpoint (const char *path)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "checkpoint", s_admin, 1, s_fill_org, NULL, &reply);
    const msgpack_object *note = test_obj_get (&reply.data, "checkpoint");
    cr_assert (note && note->type == MSGPACK_OBJECT_STR, "a checkpoint: %s",
               test_reply_code (&reply));
    FILE *file = fopen (path, "w");
    cr_assert (file);
    fwrite (note->via.str.ptr, 1, note->via.str.size, file);
    fclose (file);
    msgpack_unpacked_destroy (&reply);
}

//  auditctl export of org-v's logins into path (and its bundle, when not NULL)
static void
s_export (const char *format, const char *path, const char *bundle, const char *old)
{
    int rc = bundle && old
           ? s_auditctl ("export", "--endpoint", s->query_endpoint, "--token", s_admin,
                         "--org", "org-v", "--type", "user_login", "--format", format,
                         "-o", path, "--proof", bundle, "--checkpoint", old, NULL)
           : bundle
           ? s_auditctl ("export", "--endpoint", s->query_endpoint, "--token", s_admin,
                         "--org", "org-v", "--type", "user_login", "--format", format,
                         "-o", path, "--proof", bundle, NULL)
           : s_auditctl ("export", "--endpoint", s->query_endpoint, "--token", s_admin,
                         "--org", "org-v", "--type", "user_login", "--format", format,
                         "-o", path, NULL);
    cr_assert_eq (rc, 0, "export: %s", s_out);
}

static int
s_verify_offline (const char *path, const char *bundle)
{
    return s_auditctl ("verify", "--export", path, "--key", s_key, "--bundle", bundle, NULL);
}

//  The independent verifier (examples/verify_bundle.py, Python and
//  PyNaCl, written from PROTOCOL.md alone) on the same files
static int
s_verify_python (const char *path, const char *bundle)
{
    return s_auditctl_program ("/usr/bin/python3", AUDIT_SOURCE_DIR "/examples/verify_bundle.py",
                               path, bundle, s_key, NULL);
}

static int
s_verify_db (void)
{
    return s_auditctl ("verify", "--db", test_store_location (s->dir), "--key", s_key, NULL);
}

//  Change the store by hand, the workers stopped: sql on SQLite's
//  audit.db, pg_sql (the same change on the engine's own tables,
//  pg_schema.c) on PostgreSQL
static void
s_sql (const char *sql, const char *pg_sql)
{
    if (test_pg_on ()) {
        cr_assert_gt (test_pg_exec (s->dir, pg_sql), 0, "%s changed nothing", pg_sql);
        return;
    }
    char path [600];
    snprintf (path, sizeof path, "%s/audit.db", s->dir);
    sqlite3 *db = NULL;
    cr_assert_eq (sqlite3_open (path, &db), SQLITE_OK);
    char *error = NULL;
    cr_assert_eq (sqlite3_exec (db, sql, NULL, NULL, &error), SQLITE_OK, "%s: %s", sql, error);
    cr_assert_gt (sqlite3_changes (db), 0, "%s changed nothing", sql);
    sqlite3_close (db);
}

//  --------------------------------------------------------------------------
//  Untampered

Test (verify, an_export_verifies_offline_in_both_formats_and_online)
{
    s_publish_logins (0, s_LOGINS, 1795000000000LL);
    s_log_key ();
    s_export ("csv", s_path ("csv"), s_path ("csv.bundle"), NULL);
    cr_expect_eq (s_verify_offline (s_path ("csv"), s_path ("csv.bundle")), 0, "%s", s_out);
    cr_expect (strstr (s_out, "verified: 30 rows of org-v"), "%s", s_out);
    s_export ("ndjson", s_path ("ndjson"), s_path ("nd.bundle"), NULL);
    cr_expect_eq (s_verify_offline (s_path ("ndjson"), s_path ("nd.bundle")), 0, "%s", s_out);
    cr_expect (strstr (s_out, "verified: 30 rows of org-v"), "%s", s_out);
    cr_expect_eq (s_verify_python (s_path ("csv"), s_path ("csv.bundle")), 0, "%s", s_out);
    cr_expect_eq (s_verify_python (s_path ("ndjson"), s_path ("nd.bundle")), 0, "%s", s_out);
    cr_expect_eq (s_auditctl ("verify", "--export", s_path ("csv"), "--key", s_key, "--org", "org-v",
                              "--endpoint", s->query_endpoint, "--token", s_admin, NULL), 0,
                  "online: %s", s_out);
    cr_expect_eq (s_verify_db (), 0, "--db: %s", s_out);
    //  The operator's way to the key: the signer key file
    char key_file [600];
    snprintf (key_file, sizeof key_file, "AUDIT_SIGNING_KEY_FILE=%s.signing.key", s->dir);
    putenv (key_file);
    cr_expect_eq (s_auditctl ("verify", "--db", test_store_location (s->dir), NULL), 0,
                  "--db: %s", s_out);
    unsetenv ("AUDIT_SIGNING_KEY_FILE");
}

Test (verify, an_edited_export_names_its_row_and_bad_input_is_a_usage_error)
{
    s_publish_logins (0, s_LOGINS, 1795000000000LL);
    s_log_key ();
    const char *csv = s_path ("csv"), *bundle = s_path ("csv.bundle"), *edited = s_path ("ed");
    s_export ("csv", csv, bundle, NULL);
    //  Row 12 (actor-11): one character of its actor changed
    char command [2000];
    snprintf (command, sizeof command, "sed 's/,actor-11,/,actor-71,/' '%s' > '%s'", csv, edited);
    cr_assert_eq (system (command), 0);
    cr_expect_eq (s_verify_offline (edited, bundle), 1, "%s", s_out);
    cr_expect (strstr (s_out, "row 12 (line 13, log_index 11): its leaf does not match"), "%s", s_out);
    cr_expect_eq (s_verify_python (edited, bundle), 1, "%s", s_out);
    cr_expect (strstr (s_out, "row 12 (line 13, log_index 11): its leaf does not match"), "%s", s_out);
    //  Another key (the same public key under another name, so another
    //  key id): the checkpoint is not signed by it
    audit_note_verifier_t verifier;
    cr_assert_eq (audit_note_verifier_parse (&verifier, s_key, strlen (s_key)), 0);
    cr_assert_eq (audit_note_verifier_init (&verifier, "other", 5, verifier.public_key), 0);
    char other [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    audit_note_verifier_format (&verifier, other);
    cr_expect_eq (s_auditctl ("verify", "--export", csv, "--key", other, "--bundle", bundle, NULL), 1,
                  "%s", s_out);
    cr_expect (strstr (s_out, "is not signed by the key other+"), "%s", s_out);
    //  A key text whose id does not match its name and key is no key
    other [strlen ("other+")] ^= 1;
    cr_expect_eq (s_auditctl ("verify", "--export", csv, "--key", other, "--bundle", bundle, NULL), 2,
                  "%s", s_out);
    //  Not an export, not a bundle
    cr_expect_eq (s_verify_offline (bundle, bundle), 2, "%s", s_out);
    cr_expect_eq (s_verify_offline (csv, csv), 2, "%s", s_out);
    cr_expect_eq (s_auditctl ("verify", "--export", csv, NULL), 2, "%s", s_out);
}

//  --------------------------------------------------------------------------
//  The data directory changed with the workers stopped

//  Publish, export with a bundle, stop, change the store with sql, check
//  --db names want_db; start again, export, and check the new export
//  against the old bundle names want_export
static void
s_tamper (const char *sql, const char *pg_sql, const char *want_db, const char *want_export,
          int online_rc)
{
    s_publish_logins (0, s_LOGINS, 1795000000000LL);
    s_log_key ();
    s_export ("csv", s_path ("before"), s_path ("bundle"), NULL);
    test_service_stop (s);
    s_sql (sql, pg_sql);
    cr_expect_eq (s_verify_db (), 1, "--db: %s", s_out);
    cr_expect (strstr (s_out, want_db), "--db names %s: %s", want_db, s_out);
    test_service_resume (s);
    s_export ("csv", s_path ("after"), NULL, NULL);
    cr_expect_eq (s_verify_offline (s_path ("after"), s_path ("bundle")), 1, "%s", s_out);
    cr_expect (strstr (s_out, want_export), "the export names %s: %s", want_export, s_out);
    //  and the service's own proofs say the same
    cr_expect_eq (s_auditctl ("verify", "--export", s_path ("after"), "--key", s_key, "--org",
                              "org-v", "--endpoint", s->query_endpoint, "--token", s_admin, NULL),
                  online_rc, "online: %s", s_out);
}

Test (verify, a_flipped_identifier_is_named)
{
    s_tamper ("UPDATE event SET actor = 'actor-97' WHERE actor = 'actor-7'",
              "UPDATE audit.event SET actor = 'actor-97' WHERE actor = 'actor-7'",
              "org org-v log_index 7: the event does not match its leaf",
              "row 8 (line 9, log_index 7): its leaf does not match the signed log", 1);
}

Test (verify, a_deleted_row_is_named)
{
    s_tamper ("DELETE FROM event WHERE log_index = 9",
              "DELETE FROM audit.event WHERE log_index = 9",
              "org org-v log_index 9: the event is missing",
              "log_index 9: in the export the bundle was made for, but not in this file",
              //  online, the export holds no trace of the row, but on SQLite
              //  its leaf went with it (the store makes a kept event's leaf
              //  from its row): the service cannot prove the rows of its
              //  tile. PostgreSQL keeps every leaf in audit.log_node, so the
              //  29 rows left are proved, as they are in the signed log:
              //  what names the deletion there is --db and the old bundle
              test_pg_on ()? 0: 1);
}

Test (verify, two_swapped_rows_are_named)
{
    s_tamper ("UPDATE event SET log_index = 23 - log_index WHERE log_index IN (11, 12)",
              "UPDATE audit.event SET log_index = 23 - log_index WHERE log_index IN (11, 12)",
              "org org-v log_index 11: the event does not match its leaf",
              "row 12 (line 13, log_index 12): its leaf does not match the signed log", 1);
}

Test (verify, an_inserted_row_is_named)
{
    s_tamper ("INSERT INTO event (org, ts, log_index, received, type, actor, user, device,"
              " grp, role, broadcast, file_ref, recipient_count, file_size, retention_days,"
              " uuid) SELECT org, ts, 900, received, type, 'intruder', user,"
              " device, grp, role, broadcast, file_ref, recipient_count, file_size,"
              " retention_days, randomblob (16) FROM event WHERE log_index = 14",
              //  "user" quoted: bare, it is PostgreSQL's current_user
              "INSERT INTO audit.event (org_id, ts, log_index, received, type, actor, \"user\","
              " device, grp, role, broadcast, file_ref, recipient_count, file_size,"
              " retention_days, event_id) SELECT org_id, ts, 900, received, type, 'intruder',"
              " \"user\", device, grp, role, broadcast, file_ref, recipient_count, file_size,"
              " retention_days, gen_random_uuid () FROM audit.event WHERE log_index = 14",
              "org org-v log_index 900: an event past the log's size",
              "row 16 (line 17, log_index 900): its log_index is past the checkpoint's size", 1);
}

Test (verify, a_changed_subtree_hash_of_the_proofs_is_named)
{
    //  300 events: the store keeps the subtree of the first 256, proofs use it
    s_publish_logins (0, 300, 1795000000000LL);
    s_log_key ();
    s_export ("csv", s_path ("before"), s_path ("bundle"), NULL);
    test_service_stop (s);
    s_sql ("UPDATE tree_node SET hash = zeroblob (32) WHERE level = 8 AND idx = 0",
           "UPDATE audit.log_node SET hash = decode (repeat ('00', 32), 'hex')"
           " WHERE level = 8 AND idx = 0");
    cr_expect_eq (s_verify_db (), 1, "--db: %s", s_out);
    cr_expect (strstr (s_out, "org org-v log_index 0-255: the stored subtree hash over them"
                              " does not match their leaves"), "%s", s_out);
    //  the rows themselves are intact: the bundle made before still proves them
    cr_expect_eq (s_verify_offline (s_path ("before"), s_path ("bundle")), 0, "%s", s_out);
}

//  --------------------------------------------------------------------------
//  Retention

static void
s_fill_retention (test_pack_t *pack, void *arg)
{
    (void) arg;
    test_pack_kv_str (pack, "org_id", "org-v");
    test_pack_kv_uint (pack, "retention_days", 90);
}

Test (verify, an_export_after_a_purge_verifies_and_is_consistent_with_an_older_checkpoint)
{
    int64_t now = test_now_ms ();
    s_publish_logins (0, 20, now - 200 * s_DAY);
    s_publish_logins (20, 20, now - s_DAY);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "retention_set", s_admin, 2, s_fill_retention, NULL, &reply);
    cr_assert_str_eq (test_reply_code (&reply), "", "retention_set refused");
    msgpack_unpacked_destroy (&reply);
    s_log_key ();
    const char *old = s_path ("old.note");
    s_save_checkpoint (old);
    cr_assert_eq (test_service_janitor_once (s, NULL, 60000), 0);
    cr_assert_eq (test_service_count (s, "audit.db", "SELECT count(*) FROM event"), 21,
                  "the 20 recent logins and retention_changed are left");
    s_export ("csv", s_path ("csv"), s_path ("bundle"), old);
    cr_expect_eq (s_auditctl ("verify", "--export", s_path ("csv"), "--key", s_key, "--bundle",
                              s_path ("bundle"), "--checkpoint", old, NULL), 0, "%s", s_out);
    cr_expect (strstr (s_out, "verified: 20 rows of org-v"), "%s", s_out);
    cr_expect (strstr (s_out, "; consistent with the checkpoint of size 4"), "%s", s_out);
    cr_expect_eq (s_auditctl ("verify", "--export", s_path ("csv"), "--key", s_key, "--org", "org-v",
                              "--endpoint", s->query_endpoint, "--token", s_admin, "--checkpoint",
                              old, NULL), 0, "online: %s", s_out);
    cr_expect_eq (s_verify_db (), 0, "--db after a purge: %s", s_out);
}
