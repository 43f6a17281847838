/*  The real audit-ingest, audit-query and audit-janitor, as a client that
    knows only the contract sees them: after `audit-janitor --once` every
    retention rule holds, with the janitor's clock moved forward (Debian's
    libfaketime) where a rule is days long, and what was deleted is in no
    file of the data directory, WAL included. On PostgreSQL the files are
    the server's (its WAL and dead tuples until a vacuum are its own
    business, as a backup is): there what was deleted is in none of the
    database's data, as pg_dump reads it (test_pg_dump_contains). */

#include <criterion/criterion.h>
#include <signal.h>

#include "audit_time.h"
#include "test_service.h"

#define s_DAY   AUDIT_MS_PER_DAY
//  How long one --once may take here (sanitizer builds are slow)
#define s_ONCE_TIMEOUT_MS   60000

static test_service_t *s;

static void
s_setup (void)
{
    s = test_service_start ("janitor", true);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
}

TestSuite (janitor, .init = s_setup, .fini = s_teardown, .timeout = 240);

//  --------------------------------------------------------------------------
//  Publishing old things

static void
s_kv_time (test_pack_t *pack, int64_t ms)
{
    char text [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (ms, text);
    test_pack_kv_str (pack, "timestamp", text);
}

//  A user_login of org at ts, from device; its event_id goes to uuid
//  (37 bytes) when not NULL
static void
s_publish_login_id (const char *org, const char *device, int64_t ts, char *id)
{
    char uuid [37];
    test_uuid (uuid);
    if (id)
        memcpy (id, uuid, sizeof uuid);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 7);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", uuid);
    test_pack_kv_str (pack, "event_type", "user_login");
    s_kv_time (pack, ts);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", "janitor-test-user");
    test_pack_kv_str (pack, "device_id", device);
    test_service_publish (s, "audit", pack);
    test_pack_destroy (&pack);
}

static void
s_publish_login (const char *org, const char *device, int64_t ts)
{
    s_publish_login_id (org, device, ts, NULL);
}

static void
s_publish_ops (const char *path, int64_t ts)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    s_kv_time (pack, ts);
    test_pack_kv_str (pack, "client_ip", "192.0.2.10");
    test_pack_kv_str (pack, "method", "GET");
    test_pack_kv_str (pack, "path", path);
    test_pack_kv_uint (pack, "status", 200);
    test_service_publish (s, "ops", pack);
    test_pack_destroy (&pack);
}

static void
s_publish_mq (const char *payload)
{
    char uuid [37];
    test_uuid (uuid);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "message_id", uuid);
    test_pack_kv_str (pack, "org_id", "org-mq");
    test_pack_kv_str (pack, "device_id", "phone-mq");
    s_kv_time (pack, test_now_ms ());
    test_pack_str (pack, "payload");
    msgpack_pack_bin (&pack->packer, strlen (payload));
    msgpack_pack_bin_body (&pack->packer, payload, strlen (payload));
    test_service_publish (s, "mq", pack);
    test_pack_destroy (&pack);
}

//  --------------------------------------------------------------------------
//  Queries

//  Events of org whose device is named device
static int64_t
s_events (const char *org, const char *device)
{
    char sql [512];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event e JOIN org o ON o.id = e.org"
              " WHERE o.name = '%s' AND e.device = '%s'",
              org, device);
    return test_service_count (s, "audit.db", sql);
}

static int64_t
s_ops_rows (const char *path)
{
    char sql [512];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM ops WHERE path = '%s'", path);
    return test_service_count (s, "ops.db", sql);
}

//  Whether canary is in any file of the data directory (on PostgreSQL:
//  in the data of its database)
static bool
s_in_files (const char *canary)
{
    if (test_pg_on ())
        return test_pg_dump_contains (s->dir, NULL, canary, strlen (canary));
    return test_dir_contains (s->dir, canary, strlen (canary));
}

//  A unique value to look for in the files afterwards
static void
s_canary (const char *kind, char *text, size_t size)
{
    char uuid [37];
    test_uuid (uuid);
    //  A leading '/' (an ops path) stays in front
    snprintf (text, size, "%s%s-canary-%.12s", *kind == '/'? "/": "", kind + (*kind == '/'), uuid);
}

//  Whether the 16 bytes of event id text (as audit.db stores it) are in
//  any file of the data directory; on PostgreSQL, whether the id is in
//  the data of its database (a uuid column: pg_dump writes it as text)
static bool
s_id_in_files (const char *text)
{
    if (test_pg_on ())
        return test_pg_dump_contains (s->dir, NULL, text, strlen (text));
    uint8_t bytes [16];
    size_t count = 0;
    for (const char *digit = text; *digit && count < 2 * sizeof bytes; digit++) {
        if (*digit == '-')
            continue;
        unsigned value = (unsigned) (*digit <= '9'? *digit - '0': (*digit | 0x20) - 'a' + 10);
        bytes [count / 2] = (uint8_t) (count % 2? bytes [count / 2] | value: value << 4);
        count++;
    }
    cr_assert_eq (count, 32, "a uuid: %s", text);
    return test_dir_contains (s->dir, (const char *) bytes, sizeof bytes);
}

static void
s_fill_retention (test_pack_t *pack, void *arg)
{
    test_pack_kv_str (pack, "org_id", (const char *) arg);
    test_pack_kv_uint (pack, "retention_days", 90);
}

//  The stats reply's janitor map, in the reply the caller destroys
static const msgpack_object *
s_janitor_stats (msgpack_unpacked *reply)
{
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    test_service_call (s, "stats", token, 0, NULL, NULL, reply);
    free (token);
    return test_obj_get (test_obj_get (&reply->data, "stats"), "janitor");
}

//  --------------------------------------------------------------------------
//  The rules

Test (janitor, audit_retention_per_org_and_ops_after_thirty_days)
{
    //  org-ninety keeps 90 days, through the contract's own op
    char *admin = test_token (TEST_SECRET, "org_admin", "org-ninety", NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (s, "retention_set", admin, 2, s_fill_retention, "org-ninety", &reply);
    cr_assert_str_eq (test_reply_code (&reply), "", "retention_set refused");
    free (admin);
    char old_device [64], old_path [64], default_device [64];
    s_canary ("device", old_device, sizeof old_device);
    s_canary ("/path", old_path, sizeof old_path);
    s_canary ("kept", default_device, sizeof default_device);
    int64_t now = test_now_ms ();
    char old_id [37], kept_id [37];
    s_publish_login_id ("org-ninety", old_device, now - 100 * s_DAY, old_id);
    s_publish_login ("org-ninety", "recent-device", now - 10 * s_DAY);
    s_publish_login_id ("org-default", default_device, now - 100 * s_DAY, kept_id);
    s_publish_ops (old_path, now - 40 * s_DAY);
    s_publish_ops ("/twenty-days", now - 20 * s_DAY);
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event", 4, 10000), 4,
                  "three logins and the retention_changed event");
    cr_assert_eq (test_service_wait_count (s, "ops.db", "SELECT count(*) FROM ops WHERE path != '/probe'",
                                           2, 10000), 2);
    cr_assert (s_in_files (old_device), "the device canary is stored first");
    cr_assert (s_in_files (old_path), "the path canary is stored first");
    cr_assert (s_id_in_files (old_id), "the event id is stored first");

    cr_assert_eq (test_service_janitor_once (s, NULL, s_ONCE_TIMEOUT_MS), 0);

    cr_expect_eq (s_events ("org-ninety", old_device), 0, "100 days old, 90-day org: gone");
    cr_expect_eq (s_events ("org-ninety", "recent-device"), 1, "10 days old: kept");
    cr_expect_eq (s_events ("org-default", default_device), 1, "100 days old, default org: kept");
    cr_expect_eq (s_ops_rows (old_path), 0, "ops 40 days old: gone");
    cr_expect_eq (s_ops_rows ("/twenty-days"), 1, "ops 20 days old: kept");
    cr_expect (!s_in_files (old_device), "no trace of the deleted event in any file");
    cr_expect (!s_in_files (old_path), "no trace of the deleted ops record in any file");
    cr_expect (s_in_files (default_device), "what is kept is still there");
    cr_expect (!s_id_in_files (old_id), "nor of the deleted event's id (its key too)");
    cr_expect (s_id_in_files (kept_id), "the kept event's id is still there");
    const msgpack_object *janitor = s_janitor_stats (&reply);
    cr_assert_not_null (janitor);
    const msgpack_object *deleted = test_obj_get (janitor, "deleted");
    cr_expect_eq (test_obj_get (deleted, "audit")->via.u64, 1);
    cr_expect_eq (test_obj_get (deleted, "ops")->via.u64, 1);
    const msgpack_object *last = test_obj_get (janitor, "last_pass");
    cr_expect (last && last->type == MSGPACK_OBJECT_STR, "last_pass is set");
    msgpack_unpacked_destroy (&reply);
}

Test (janitor, queue_messages_go_seven_days_after_they_were_received)
{
    const char *env [4];
    cr_assert (test_faketime_env ("+6d", env),
               "libfaketime is needed (Debian package faketime, see scripts/deps)");
    char payload [64];
    s_canary ("payload", payload, sizeof payload);
    s_publish_mq (payload);
    s_publish_mq ("second-message");
    const char *count = "SELECT count(*) FROM message";
    cr_assert_eq (test_service_wait_count (s, "queue.db", count, 2, 10000), 2);
    cr_assert (s_in_files (payload));

    //  Six days after they were received: kept
    cr_assert_eq (test_service_janitor_once (s, env, s_ONCE_TIMEOUT_MS), 0);
    cr_expect_eq (test_service_count (s, "queue.db", count), 2);
    //  Eight days after: gone, and the payload with them
    test_faketime_env ("+8d", env);
    cr_assert_eq (test_service_janitor_once (s, env, s_ONCE_TIMEOUT_MS), 0);
    cr_expect_eq (test_service_count (s, "queue.db", count), 0);
    cr_expect (!s_in_files (payload), "no trace of the payload in any file");
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    const msgpack_object *janitor = s_janitor_stats (&reply);
    cr_expect_eq (test_obj_get (test_obj_get (janitor, "deleted"), "queue")->via.u64, 2);
    msgpack_unpacked_destroy (&reply);
}

Test (janitor, runs_on_its_timer_and_stops_on_sigterm)
{
    char old_path [64];
    s_canary ("/timer", old_path, sizeof old_path);
    s_publish_ops (old_path, test_now_ms () - 40 * s_DAY);
    cr_assert_eq (test_service_wait_count (s, "ops.db", "SELECT count(*) FROM ops WHERE path != '/probe'",
                                           1, 10000), 1);
    char log_path [512];
    snprintf (log_path, sizeof log_path, "%s.audit-janitor.log", s->dir);
    const char *args [] = { "--data-dir", s->dir, "--janitor-interval", "1", NULL };
    pid_t pid = test_worker_start ("audit-janitor", args, NULL, log_path);
    cr_assert_gt (pid, 0);
    int64_t left = -1;
    for (int waited = 0; waited < 10000 && left != 0; waited += 50) {
        left = s_ops_rows (old_path);
        zclock_sleep (50);
    }
    cr_expect_eq (left, 0, "the first timer pass deleted the old record");
    cr_expect_eq (test_worker_stop (pid, SIGTERM, 10000), 0, "exits 0 on SIGTERM");
}
