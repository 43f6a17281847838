/*  The real workers as health and stats see them: the ingest worker and
    the janitor write heartbeats into audit.db, health.workers says "up"
    for each while they run and "down" once the ingest worker has been
    stopped for 10 s (the janitor: two of its intervals), and
    stats.workers gives when each was last seen. */

#include <criterion/criterion.h>

#include "test_log_view.h"

static test_service_t *s;

static void
s_setup (void)
{
    s = test_service_start ("workers", true);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
}

TestSuite (workers, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  health.workers.<name>, copied
static void
s_health (const char *name, char *state, size_t size)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t none = { { NULL } };
    test_call_ok (s, "health", NULL, &none, &reply);
    const msgpack_object *value = test_obj_get (test_obj_get (&reply.data, "workers"), name);
    cr_assert (value && value->type == MSGPACK_OBJECT_STR, "health.workers.%s", name);
    snprintf (state, size, "%.*s", (int) value->via.str.size, value->via.str.ptr);
    msgpack_unpacked_destroy (&reply);
}

//  Poll health until name is state, for at most timeout_ms
static bool
s_health_becomes (const char *name, const char *state, int timeout_ms)
{
    char now [16] = "";
    for (int waited = 0; waited <= timeout_ms; waited += 200) {
        s_health (name, now, sizeof now);
        if (streq (now, state))
            return true;
        usleep (200 * 1000);
    }
    return false;
}

static pid_t
s_janitor_start (void)
{
    char log_path [512];
    snprintf (log_path, sizeof log_path, "%s.audit-janitor.log", s->dir);
    const char *args [] = { "--data-dir", s->dir, "--janitor-interval", "1", NULL };
    const char *env [] = { "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    pid_t pid = test_worker_start ("audit-janitor", args, env, log_path);
    cr_assert_gt (pid, 0);
    return pid;
}

Test (workers, health_follows_the_ingest_worker)
{
    cr_expect (s_health_becomes ("ingest", "up", 5000), "a running ingest worker is up");
    char state [16];
    s_health ("janitor", state, sizeof state);
    cr_expect_str_eq (state, "down", "no janitor has run here");
    test_service_kill_ingest (s, SIGTERM);
    cr_expect (s_health_becomes ("ingest", "down", 13000),
               "a stopped ingest worker is down within 10 s of its last heartbeat");
}

Test (workers, health_follows_the_janitor)
{
    pid_t janitor = s_janitor_start ();
    cr_expect (s_health_becomes ("janitor", "up", 5000), "a running janitor is up");
    test_worker_stop (janitor, SIGTERM, 5000);
    cr_expect (s_health_becomes ("janitor", "down", 5000),
               "a stopped janitor is down after two of its intervals");
}

Test (workers, stats_says_when_each_was_last_seen)
{
    cr_assert (s_health_becomes ("ingest", "up", 5000));
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_args_t none = { { NULL } };
    test_call_ok (s, "stats", token, &none, &reply);
    const msgpack_object *workers = test_obj_get (test_obj_get (&reply.data, "stats"), "workers");
    const msgpack_object *ingest = test_obj_get (test_obj_get (workers, "ingest"), "last_seen");
    const msgpack_object *janitor = test_obj_get (test_obj_get (workers, "janitor"), "last_seen");
    cr_assert (ingest && ingest->type == MSGPACK_OBJECT_STR, "ingest.last_seen is a timestamp");
    cr_expect_eq (ingest->via.str.size, 24, "YYYY-MM-DDTHH:MM:SS.mmmZ");
    cr_assert (janitor && janitor->type == MSGPACK_OBJECT_NIL, "a janitor never seen is nil");
    msgpack_unpacked_destroy (&reply);
    free (token);
}
