/*  =========================================================================
    test_private - private files and sane secrets (issue 12, item 4), with
    the real workers: files under the data directory are the service
    user's only whatever the umask, weak secrets and secrets on the
    command line are refused, a token lives at most AUDIT_JWT_MAX_AGE
    ========================================================================= */

#include <criterion/criterion.h>
#include <czmq.h>
#include <dirent.h>
#include <jwt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "query_throttle.h"
#include "test_keys.h"
#include "test_service.h"
#include "test_support.h"

static char *s_dir;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("private");
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

TestSuite (private, .init = s_setup, .fini = s_teardown, .timeout = 120);

static void
s_write_file (const char *path, const char *content, mode_t mode)
{
    FILE *file = fopen (path, "w");
    cr_assert_not_null (file);
    fputs (content, file);
    fclose (file);
    cr_assert_eq (chmod (path, mode), 0);
}

//  Run program until it exits; its status, and its log in log (path)
static int
s_run (const char *program, const char *const *args, const char *const *env, char *log,
       size_t size)
{
    snprintf (log, size, "%s/%s.log", s_dir, program);
    remove (log);
    pid_t pid = test_worker_start (program, args, env, log);
    cr_assert_gt (pid, 0);
    return test_worker_stop (pid, 0, 15000);
}

//  audit-query refuses to start, with a line holding reason
static void
s_expect_query_refused (const char *const *args, const char *const *env, const char *reason)
{
    char log [600];
    int status = s_run ("audit-query", args, env, log, sizeof log);
    cr_expect (status > 0, "audit-query exits non-zero, not %d", status);
    cr_expect (test_log_holds (log, reason, 0), "the log lacks %s", reason);
    cr_expect (!test_log_holds (log, TEST_SECRET, 0), "the secret never shows");
}

//  Every file under dir (one level) is 0600 at most, dir itself 0700, and
//  there are at least min_files
static void
s_expect_private (const char *dir, int min_files)
{
    struct stat info;
    cr_assert_eq (stat (dir, &info), 0);
    cr_expect_eq (info.st_mode & 0777, 0700, "the data directory is 0%o", info.st_mode & 0777);
    DIR *listing = opendir (dir);
    cr_assert_not_null (listing);
    int files = 0;
    struct dirent *entry;
    while ((entry = readdir (listing))) {
        char path [1024];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        if (entry->d_name [0] == '.' && (!entry->d_name [1] || entry->d_name [1] == '.'))
            continue;
        cr_assert_eq (stat (path, &info), 0);
        cr_expect_eq (info.st_mode & 077, 0, "%s is 0%o", entry->d_name, info.st_mode & 0777);
        files++;
    }
    closedir (listing);
    cr_expect_geq (files, min_files, "%d files", files);
}

//  Issue 12: every .db, -wal and -shm was 0644, the directory 0755
Test (private, files_are_private_after_workers_ran_under_umask_022)
{
    mode_t saved = umask (022);
    test_service_t *service = test_service_start ("private", true);
    test_service_t *check = service;
    //  The janitor too: it makes the reserve file
    const char *env [] = { NULL };
    cr_expect_eq (test_service_janitor_once (service, env, 30000), 0);
    umask (saved);
    s_expect_private (check->dir, 9);       //  the stores, their -wal and -shm
    test_service_destroy (&service);
}

//  An older version's files and directory are made private, and said so
Test (private, older_files_open_to_others_are_made_private_and_logged)
{
    char data [600], data_env [700], log [600];
    snprintf (data, sizeof data, "%s/data", s_dir);
    snprintf (data_env, sizeof data_env, "AUDIT_DATA_DIR=%s", data);
    const char *once [] = { "--once", NULL };
    const char *env [] = { data_env, NULL };
    test_store_make (data);
    cr_assert_eq (s_run ("audit-janitor", once, env, log, sizeof log), 0);
    cr_assert_eq (chmod (data, 0755), 0);
    char path [700];
    snprintf (path, sizeof path, "%s/audit.db", data);
    cr_assert_eq (chmod (path, 0644), 0);
    cr_assert_eq (s_run ("audit-janitor", once, env, log, sizeof log), 0);
    s_expect_private (data, 3);             //  the stores at least
    cr_expect (test_log_holds (log, "msg=data_directory_made_private", 0));
    cr_expect (test_log_holds (log, "msg=file_made_private file=audit.db was=0644 now=0600", 0));
}

static void
s_query_env (char *data, char *endpoint, size_t size)
{
    snprintf (data, size, "AUDIT_DATA_DIR=%s/data", s_dir);
    snprintf (endpoint, size, "AUDIT_QUERY_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    test_store_make (data + strlen ("AUDIT_DATA_DIR="));
}

//  Issue 12: secrets of 1 byte, 8 bytes or one space were accepted
Test (private, a_short_secret_is_refused)
{
    char data [600], endpoint [600];
    s_query_env (data, endpoint, sizeof data);
    const char *shorts [] = { "AUDIT_JWT_SECRET=k", "AUDIT_JWT_SECRET=8 bytes!",
                              "AUDIT_JWT_SECRET= " };
    for (size_t index = 0; index < 3; index++) {
        const char *env [] = { data, endpoint, shorts [index], NULL };
        s_expect_query_refused (NULL, env, "cannot use AUDIT_JWT_SECRET: it is shorter than 32 bytes");
    }
    char file [700], file_env [800];
    snprintf (file, sizeof file, "%s/jwt", s_dir);
    snprintf (file_env, sizeof file_env, "AUDIT_JWT_SECRET_FILE=%s", file);
    s_write_file (file, "k\n", 0600);
    const char *env [] = { data, endpoint, file_env, NULL };
    s_expect_query_refused (NULL, env, "it is shorter than 32 bytes");
}

//  Issue 12: a secret file of mode 0644 was accepted
Test (private, a_secret_file_others_can_read_is_refused)
{
    char data [600], endpoint [600], file [700], file_env [800];
    s_query_env (data, endpoint, sizeof data);
    snprintf (file, sizeof file, "%s/jwt", s_dir);
    snprintf (file_env, sizeof file_env, "AUDIT_JWT_SECRET_FILE=%s", file);
    s_write_file (file, TEST_SECRET "\n", 0644);
    const char *env [] = { data, endpoint, file_env, NULL };
    s_expect_query_refused (NULL, env, "it is open to others (mode 0644): chmod 0600 it");
}

//  Issue 12: --jwt-secret showed the secret in /proc/PID/cmdline
Test (private, the_secret_on_the_command_line_is_refused)
{
    char data [600], endpoint [600];
    s_query_env (data, endpoint, sizeof data);
    const char *env [] = { data, endpoint, NULL };
    const char *args [] = { "--jwt-secret", TEST_SECRET, NULL };
    char log [600];
    int status = s_run ("audit-query", args, env, log, sizeof log);
    cr_expect_eq (status, 2, "a refused setting exits 2");
    cr_expect (test_log_holds (log, "--jwt-secret is refused", 0));
    cr_expect (test_log_holds (log, "set AUDIT_JWT_SECRET instead", 0));
    cr_expect (!test_log_holds (log, TEST_SECRET, 0), "the secret never shows");
}

//  A token signed with TEST_SECRET of exp (and iat, unless < 0)
static char *
s_token_at (int64_t iat, int64_t exp)
{
    jwt_t *jwt = NULL;
    cr_assert_eq (jwt_new (&jwt), 0);
    cr_assert_eq (jwt_add_grant (jwt, "sub", "ops-1"), 0);
    cr_assert_eq (jwt_add_grant (jwt, "role", "platform_ops"), 0);
    cr_assert_eq (jwt_add_grant (jwt, "aud", "semafore-audit"), 0);
    if (iat >= 0)
        cr_assert_eq (jwt_add_grant_int (jwt, "iat", (long) iat), 0);
    cr_assert_eq (jwt_add_grant_int (jwt, "exp", (long) exp), 0);
    cr_assert_eq (jwt_set_alg (jwt, JWT_ALG_HS256, (const unsigned char *) TEST_SECRET,
                               (int) strlen (TEST_SECRET)), 0);
    char *token = jwt_encode_str (jwt);
    jwt_free (jwt);
    return token;
}

static const char *
s_stats_code (test_service_t *service, const char *token)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    test_service_call (service, "stats", token, 0, NULL, NULL, &reply);
    static char code [64];
    snprintf (code, sizeof code, "%s", test_reply_code (&reply));
    msgpack_unpacked_destroy (&reply);
    return code;
}

//  Issue 12: a token of exp 100 years ahead was accepted
Test (private, a_token_past_the_max_age_is_unauthenticated)
{
    test_service_t *service = test_service_start ("private-age", true);
    int64_t now = test_now_ms () / 1000;
    int64_t century = 100LL * 365 * 86400;
    char *token = s_token_at (now, now + 600);
    cr_expect_str_eq (s_stats_code (service, token), "", "a 10-minute token is good");
    free (token);
    token = s_token_at (now, now + century);
    cr_expect_str_eq (s_stats_code (service, token), "unauthenticated", "100 years, from iat");
    free (token);
    token = s_token_at (-1, now + century);
    cr_expect_str_eq (s_stats_code (service, token), "unauthenticated", "100 years, no iat");
    free (token);
    token = s_token_at (now - 3600, now + 86400 - 3600);
    cr_expect_str_eq (s_stats_code (service, token), "", "24 h from iat: the default max age");
    free (token);
    test_service_destroy (&service);
}

//  A SIGHUP that finds a weak secret keeps the one before, with a warn line
Test (private, a_reload_to_a_short_secret_keeps_the_old_one)
{
    char data [600], endpoint [600], file [700], file_env [800], log [700];
    s_query_env (data, endpoint, sizeof data);
    snprintf (file, sizeof file, "%s/jwt", s_dir);
    snprintf (file_env, sizeof file_env, "AUDIT_JWT_SECRET_FILE=%s", file);
    snprintf (log, sizeof log, "%s/query.log", s_dir);
    s_write_file (file, TEST_SECRET "\n", 0600);
    const char *env [] = { data, endpoint, file_env, NULL };
    pid_t pid = test_worker_start ("audit-query", NULL, env, log);
    cr_assert_gt (pid, 0);
    cr_assert (test_log_holds (log, "msg=listening", 15000));
    s_write_file (file, "short\n", 0600);
    cr_assert_eq (kill (pid, SIGHUP), 0);
    cr_expect (test_log_holds (log, "level=warn svc=query msg=jwt_secret_not_reloaded", 10000));
    cr_expect (test_log_holds (log, "shorter than 32 bytes", 0));
    zsock_t *req = zsock_new (ZMQ_REQ);
    zsock_set_rcvtimeo (req, 10000);
    test_keys_apply (req, NULL);
    cr_assert_eq (zsock_connect (req, "%s", strchr (endpoint, '=') + 1), 0);
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    test_pack_t *request = test_pack_new ();
    test_pack_map (request, 3);
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", "stats");
    test_pack_kv_str (request, "token", token);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    cr_assert_eq (test_request (req, request, &reply), 0);
    cr_expect_str_eq (test_reply_code (&reply), "", "the old secret still verifies");
    msgpack_unpacked_destroy (&reply);
    test_pack_destroy (&request);
    free (token);
    zsock_destroy (&req);
    cr_expect_eq (kill (pid, 0), 0, "the worker still runs");
    test_worker_stop (pid, SIGTERM, 10000);
}

//  Issue 12: nothing throttled ~4,750 wrong-key attempts a second. Past
//  its burst, a peer's unauthenticated replies are held (and counted);
//  every one still arrives, and its good requests are not held
Test (private, unauthenticated_replies_are_rate_limited_per_peer)
{
    test_service_t *service = test_service_start ("private-throttle", true);
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    zsock_set_rcvtimeo (dealer, 10000);
    test_keys_apply (dealer, NULL);
    cr_assert_eq (zsock_connect (dealer, "%s", service->query_endpoint), 0);
    const int sent = 3 * QUERY_THROTTLE_BURST;
    test_pack_t *request = test_pack_new ();
    test_pack_map (request, 3);
    test_pack_kv_uint (request, "v", 1);
    test_pack_kv_str (request, "op", "stats");
    test_pack_kv_str (request, "token", "a.wrong.token");
    for (int index = 0; index < sent; index++) {
        zmsg_t *msg = zmsg_new ();
        zmsg_addmem (msg, "", 0);
        zmsg_addmem (msg, test_pack_data (request), test_pack_size (request));
        cr_assert_eq (zmsg_send (&msg, dealer), 0);
    }
    test_pack_destroy (&request);
    //  A good request of the same peer (loopback) is answered meanwhile
    char *token = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    cr_expect_str_eq (s_stats_code (service, token), "");
    free (token);
    int unauthenticated = 0;
    for (int index = 0; index < sent; index++) {
        zmsg_t *msg = zmsg_recv (dealer);
        if (!msg)
            break;
        zframe_t *body = zmsg_last (msg);
        unauthenticated += memmem (zframe_data (body), zframe_size (body), "unauthenticated",
                                   15) != NULL;
        zmsg_destroy (&msg);
    }
    cr_expect_eq (unauthenticated, sent, "every reply arrives, late");
    int64_t delayed = test_service_counter (service, "query.unauthenticated_delayed",
                                            sent - QUERY_THROTTLE_BURST);
    cr_expect_eq (delayed, sent - QUERY_THROTTLE_BURST, "all past the burst were held");
    zsock_destroy (&dealer);
    test_service_destroy (&service);
}
