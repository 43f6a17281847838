/*  A worker that cannot start exits non-zero with a one-line reason
    (contract: "Workers"): an endpoint in use, a data directory that is not
    one, no JWT secret for the query worker. One that started stops on
    SIGTERM with status 0: every worker's main is audit_worker's. */

#include <criterion/criterion.h>
#include <signal.h>
#include <czmq.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test_keys.h"
#include "test_service.h"
#include "test_support.h"

static char *s_dir;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("startup");
    //  The store the ingest worker would have made: the query worker and
    //  the janitor start only on one
    char data [512];
    snprintf (data, sizeof data, "%s/data", s_dir);
    test_store_make (data);
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

TestSuite (startup, .init = s_setup, .fini = s_teardown, .timeout = 60);

//  Run program with env until it exits; its status, and the lines it
//  wrote to stderr in *lines (the last one in last)
static int
s_run (const char *program, const char *const *args, const char *const *env,
       int *lines, char *last, size_t last_size)
{
    char log [512];
    snprintf (log, sizeof log, "%s/%s.log", s_dir, program);
    remove (log);
    pid_t pid = test_worker_start (program, args, env, log);
    cr_assert_gt (pid, 0);
    int status = test_worker_stop (pid, 0, 15000);
    FILE *file = fopen (log, "r");
    cr_assert_not_null (file);
    char line [1024];
    *lines = 0;
    last [0] = 0;
    while (fgets (line, sizeof line, file)) {
        //  CURVE mode: the keys a worker read before it failed are said
        //  at level info, ahead of the one line about the failure
        if (test_keys_on () && strstr (line, "level=info")
        &&  (strstr (line, " msg=curve ") || strstr (line, " msg=key_added ")
          || strstr (line, " msg=keys_loaded ")))
            continue;
        (*lines)++;
        snprintf (last, last_size, "%s", line);
    }
    fclose (file);
    return status;
}

//  absent: a text the line must not hold (NULL: none)
static void
s_expect_one_line (const char *program, const char *const *args, const char *const *env,
                   const char *reason, const char *absent)
{
    int lines;
    char last [1024];
    int status = s_run (program, args, env, &lines, last, sizeof last);
    cr_expect_neq (status, 0, "%s exits non-zero", program);
    cr_expect_neq (status, -1, "%s exits at all", program);
    cr_expect_eq (lines, 1, "%s wrote %d lines, the last: %s", program, lines, last);
    cr_expect (strstr (last, "level=error") && strstr (last, reason),
               "%s: %s lacks %s", program, last, reason);
    cr_expect (!absent || !strstr (last, absent), "%s: %s holds %s", program, last, absent);
}

Test (startup, a_data_directory_that_is_a_file)
{
    //  On PostgreSQL the stores are the database's, not the directory's
    if (test_pg_on ())
        cr_skip_test ("the data directory holds no store on PostgreSQL");
    char file [512], data_dir [600];
    snprintf (file, sizeof file, "%s/file", s_dir);
    FILE *touch = fopen (file, "w");
    cr_assert_not_null (touch);
    fclose (touch);
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s", file);
    char ingest [64], query [64];
    snprintf (ingest, sizeof ingest, "AUDIT_INGEST_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    snprintf (query, sizeof query, "AUDIT_QUERY_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    const char *env [] = { data_dir, ingest, query, "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    s_expect_one_line ("audit-ingest", NULL, env, "not a directory", NULL);
    s_expect_one_line ("audit-query", NULL, env, "not a directory", NULL);
    const char *once [] = { "--once", NULL };
    s_expect_one_line ("audit-janitor", once, env, "not a directory", NULL);
}

Test (startup, an_endpoint_in_use)
{
    int port = test_free_port ();
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    zsock_t *holder = zsock_new (ZMQ_PUB);
    cr_assert_eq (zsock_bind (holder, "%s", endpoint), port);
    char data_dir [600], ingest [96], query [96];
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s/data", s_dir);
    snprintf (ingest, sizeof ingest, "AUDIT_INGEST_ENDPOINT=%s", endpoint);
    snprintf (query, sizeof query, "AUDIT_QUERY_ENDPOINT=%s", endpoint);
    const char *env [] = { data_dir, ingest, query, "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    s_expect_one_line ("audit-ingest", NULL, env, "cannot_bind", NULL);
    s_expect_one_line ("audit-query", NULL, env, "bind", NULL);
    zsock_destroy (&holder);
}

Test (startup, a_query_worker_without_a_secret)
{
    char data_dir [600], query [96];
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s/data", s_dir);
    snprintf (query, sizeof query, "AUDIT_QUERY_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    const char *env [] = { data_dir, query, "AUDIT_JWT_SECRET=", "AUDIT_JWT_SECRET_FILE=", NULL };
    s_expect_one_line ("audit-query", NULL, env, "no JWT secret", NULL);
}

//  A secret file that is named but gives no secret is reported as itself,
//  with why; the secret in the environment is not used instead, and the
//  file's content never shows
static void
s_expect_secret_file_refused (const char *path, const char *reason)
{
    char data_dir [600], query [96];
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s/data", s_dir);
    snprintf (query, sizeof query, "AUDIT_QUERY_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    const char *env [] = { data_dir, query, "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    const char *args [] = { "--jwt-secret-file", path, NULL };
    s_expect_one_line ("audit-query", args, env, reason, "sssssss");
    s_expect_one_line ("audit-query", args, env, reason, TEST_SECRET);
    s_expect_one_line ("audit-query", args, env, path, "no JWT secret");
}

static void
s_write_file (const char *path, char fill, int size)
{
    FILE *file = fopen (path, "w");
    cr_assert_not_null (file);
    for (int index = 0; index < size; index++)
        fputc (fill, file);
    fclose (file);
    cr_assert_eq (chmod (path, 0600), 0, "a secret file open to others is refused");
}

Test (startup, a_secret_file_that_gives_no_secret_says_why)
{
    char path [512];
    snprintf (path, sizeof path, "%s/missing", s_dir);
    s_expect_secret_file_refused (path, "No such file or directory");
    s_expect_secret_file_refused (s_dir, "Is a directory");
    snprintf (path, sizeof path, "%s/empty", s_dir);
    s_write_file (path, '\n', 1);
    s_expect_secret_file_refused (path, "empty");
    snprintf (path, sizeof path, "%s/long", s_dir);
    s_write_file (path, 's', 5000);
    s_expect_secret_file_refused (path, "longer than 4096 bytes");
}

//  A value in a log line cannot forge a field or a line (issue 12): the
//  data directory's name, which the error line repeats, holds a quote, a
//  space and a line end
Test (startup, a_logged_value_cannot_forge_a_field_or_a_line)
{
    //  On PostgreSQL the stores are the database's, not the directory's
    if (test_pg_on ())
        cr_skip_test ("the data directory holds no store on PostgreSQL");
    char file [512], data_dir [700], expected [700];
    snprintf (file, sizeof file, "%s/file", s_dir);
    s_write_file (file, 'x', 1);
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s/x\" forged=1\nlevel=info", file);
    snprintf (expected, sizeof expected, "dir=\"%s/x\\\" forged=1\\nlevel=info\" ", file);
    char ingest [64];
    snprintf (ingest, sizeof ingest, "AUDIT_INGEST_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    const char *env [] = { data_dir, ingest, NULL };
    s_expect_one_line ("audit-ingest", NULL, env, expected, NULL);
}

//  The janitor on its timer (no --once) takes the same start-up path
Test (startup, a_janitor_on_its_timer_that_cannot_start)
{
    //  On PostgreSQL the stores are the database's, not the directory's
    if (test_pg_on ())
        cr_skip_test ("the data directory holds no store on PostgreSQL");
    char file [512], data_dir [600];
    snprintf (file, sizeof file, "%s/file", s_dir);
    s_write_file (file, 'x', 1);
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s", file);
    const char *env [] = { data_dir, NULL };
    s_expect_one_line ("audit-janitor", NULL, env, "not a directory", NULL);
}

//  Start program, wait for ready in its log, SIGTERM it: status 0, and
//  the log says it stopped
static void
s_expect_clean_stop (const char *program, const char *ready, const char *const *env)
{
    char log [512];
    snprintf (log, sizeof log, "%s/%s.log", s_dir, program);
    remove (log);
    pid_t pid = test_worker_start (program, NULL, env, log);
    cr_assert_gt (pid, 0);
    cr_expect (test_log_holds (log, ready, 15000), "%s never logged %s", program, ready);
    //  Issue 14: SIGHUP killed the workers; now it re-reads, and they go on
    cr_assert_eq (kill (pid, SIGHUP), 0);
    cr_expect (test_log_holds (log, "msg=reload", 5000), "%s logs the SIGHUP", program);
    zclock_sleep (100);
    cr_expect_eq (kill (pid, 0), 0, "%s lives on after SIGHUP", program);
    cr_expect_eq (test_worker_stop (pid, SIGTERM, 15000), 0, "%s exits 0 on SIGTERM", program);
    cr_expect (test_log_holds (log, "msg=stopped", 0), "%s did not log msg=stopped", program);
}

//  Issue 14: a typo in AUDIT_DATA_DIR gave a healthy service with an empty
//  log and the default retention; the ingest worker says it made a store
Test (startup, only_the_ingest_worker_starts_on_a_directory_without_a_store)
{
    char data_dir [600], query [96], once [] = "--once";
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s/typo", s_dir);
    snprintf (query, sizeof query, "AUDIT_QUERY_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    const char *env [] = { data_dir, query, "AUDIT_JWT_SECRET=" TEST_SECRET, NULL };
    const char *args [] = { once, NULL };
    s_expect_one_line ("audit-query", NULL, env,
                       test_pg_on ()? "no audit store in the database"
                                    : "no audit store in the data directory", NULL);
    s_expect_one_line ("audit-janitor", args, env, "start audit-ingest first", NULL);
    char ingest [96], ack [96], log [512];
    snprintf (ingest, sizeof ingest, "AUDIT_INGEST_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    snprintf (ack, sizeof ack, "AUDIT_ACK_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    const char *ingest_env [] = { data_dir, ingest, ack, NULL };
    s_expect_clean_stop ("audit-ingest", "msg=listening", ingest_env);
    snprintf (log, sizeof log, "%s/audit-ingest.log", s_dir);
    cr_expect (test_log_holds (log, "msg=\"store created\"", 0), "ingest says it made the store");
    s_expect_clean_stop ("audit-query", "msg=listening", env);
}

Test (startup, a_worker_that_started_stops_on_sigterm_with_status_0)
{
    char data_dir [600], ingest [96], query [96];
    snprintf (data_dir, sizeof data_dir, "AUDIT_DATA_DIR=%s/data", s_dir);
    snprintf (ingest, sizeof ingest, "AUDIT_INGEST_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    snprintf (query, sizeof query, "AUDIT_QUERY_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    char ack [96];
    snprintf (ack, sizeof ack, "AUDIT_ACK_ENDPOINT=tcp://127.0.0.1:%d", test_free_port ());
    const char *env [] = { data_dir, ingest, query, ack, "AUDIT_JWT_SECRET=" TEST_SECRET,
                           "AUDIT_QUERY_THREADS=2", NULL };
    s_expect_clean_stop ("audit-ingest", "msg=listening", env);
    s_expect_clean_stop ("audit-query", "msg=listening", env);
    s_expect_clean_stop ("audit-janitor", "msg=started", env);
}
