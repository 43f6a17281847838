/*  Flags override the environment, which overrides the defaults; a value
    refused says what is allowed and whether a flag or a variable gave it */

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_config.h"

static const audit_setting_t s_used [] = {
    AUDIT_SET_DATA_DIR, AUDIT_SET_INGEST_ENDPOINT, AUDIT_SET_JANITOR_INTERVAL, AUDIT_SET_ONCE
};
#define S_USED_COUNT (sizeof s_used / sizeof s_used [0])

static audit_config_result_t
s_load (audit_config_t *config, int argc, char **argv)
{
    return audit_config_load (config, argc, argv, "test", "purpose", s_used, S_USED_COUNT);
}

Test (config, defaults_when_nothing_given)
{
    unsetenv ("AUDIT_DATA_DIR");
    unsetenv ("AUDIT_JANITOR_INTERVAL");
    audit_config_t config;
    char *argv [] = { "test", NULL };
    cr_assert_eq (s_load (&config, 1, argv), AUDIT_CONFIG_OK);
    cr_assert_str_eq (audit_config_str (&config, AUDIT_SET_DATA_DIR), "./data");
    cr_assert_str_eq (audit_config_str (&config, AUDIT_SET_INGEST_ENDPOINT), "tcp://127.0.0.1:5570");
    cr_assert_eq (audit_config_uint (&config, AUDIT_SET_JANITOR_INTERVAL), 60);
    cr_assert_not (audit_config_flag (&config, AUDIT_SET_ONCE));
}

Test (config, environment_then_flags)
{
    setenv ("AUDIT_DATA_DIR", "/env/dir", 1);
    setenv ("AUDIT_JANITOR_INTERVAL", "5", 1);
    audit_config_t config;
    char *argv [] = { "test", "--data-dir", "/flag/dir", "--once", NULL };
    cr_assert_eq (s_load (&config, 4, argv), AUDIT_CONFIG_OK);
    cr_assert_str_eq (audit_config_str (&config, AUDIT_SET_DATA_DIR), "/flag/dir");
    cr_assert_eq (audit_config_uint (&config, AUDIT_SET_JANITOR_INTERVAL), 5);
    cr_assert (audit_config_flag (&config, AUDIT_SET_ONCE));
}

Test (config, bad_values_are_refused)
{
    audit_config_t config;
    setenv ("AUDIT_JANITOR_INTERVAL", "soon", 1);
    char *argv [] = { "test", NULL };
    cr_assert_eq (s_load (&config, 1, argv), AUDIT_CONFIG_ERROR);
    setenv ("AUDIT_JANITOR_INTERVAL", "0", 1);
    cr_assert_eq (s_load (&config, 1, argv), AUDIT_CONFIG_ERROR);
    unsetenv ("AUDIT_JANITOR_INTERVAL");
    char *range [] = { "test", "--janitor-interval", "-3", NULL };
    cr_assert_eq (s_load (&config, 3, range), AUDIT_CONFIG_ERROR);
    char *stray [] = { "test", "extra", NULL };
    cr_assert_eq (s_load (&config, 2, stray), AUDIT_CONFIG_ERROR);
}

//  libzmq binds a tcp port beyond 65535 to some other port without a
//  word, so the setting refuses it; transports and CZMQ's forms pass
Test (config, endpoints_are_checked)
{
    audit_config_t config;
    const char *refused [] = { "tcp://*:99999", "tcp://*:0", "tcp://*:", "tcp://*",
                               "5570", "://x", "tcp://" };
    for (size_t index = 0; index < sizeof refused / sizeof refused [0]; index++) {
        char *argv [] = { "test", "--ingest-endpoint", (char *) refused [index], NULL };
        cr_expect_eq (s_load (&config, 3, argv), AUDIT_CONFIG_ERROR, "%s", refused [index]);
    }
    const char *accepted [] = { "tcp://*:5570", "tcp://127.0.0.1:65535", "tcp://[::1]:5570",
                                "tcp://*:*", "ipc:///tmp/audit.sock", "inproc://x" };
    for (size_t index = 0; index < sizeof accepted / sizeof accepted [0]; index++) {
        char *argv [] = { "test", "--ingest-endpoint", (char *) accepted [index], NULL };
        cr_expect_eq (s_load (&config, 3, argv), AUDIT_CONFIG_OK, "%s", accepted [index]);
    }
}

//  stderr into a temporary file while a load runs, so a test can read the
//  line that refused a value
static int s_saved_stderr = -1;
static FILE *s_capture;

static void
s_capture_start (void)
{
    fflush (stderr);
    s_capture = tmpfile ();
    cr_assert_not_null (s_capture);
    s_saved_stderr = dup (STDERR_FILENO);
    dup2 (fileno (s_capture), STDERR_FILENO);
}

//  Restore stderr; the first line written meanwhile, without its newline
static void
s_capture_end (char *line, size_t size)
{
    fflush (stderr);
    dup2 (s_saved_stderr, STDERR_FILENO);
    close (s_saved_stderr);
    rewind (s_capture);
    if (!fgets (line, (int) size, s_capture))
        line [0] = 0;
    line [strcspn (line, "\n")] = 0;
    fclose (s_capture);
}

//  Load argv with env (one NAME=value, or NULL) set; the refusal line
static void
s_expect_refusal (const char *env, char **argv, int argc, const char *want)
{
    char line [256], name [64];
    const char *equals = env ? strchr (env, '=') : NULL;
    if (equals) {
        snprintf (name, sizeof name, "%.*s", (int) (equals - env), env);
        setenv (name, equals + 1, 1);
    }
    audit_config_t config;
    s_capture_start ();
    audit_config_result_t rc = s_load (&config, argc, argv);
    s_capture_end (line, sizeof line);
    if (equals)
        unsetenv (name);
    cr_expect_eq (rc, AUDIT_CONFIG_ERROR, "%s", want);
    cr_expect_str_eq (line, want);
}

Test (config, a_refusal_names_the_range_and_where_the_value_came_from)
{
    char *zero [] = { "test", "--janitor-interval", "0", NULL };
    s_expect_refusal (NULL, zero, 3,
        "test: invalid value for --janitor-interval (0): a whole number from 1 to 86400");
    char *plain [] = { "test", NULL };
    s_expect_refusal ("AUDIT_JANITOR_INTERVAL=100000", plain, 1,
        "test: invalid value in AUDIT_JANITOR_INTERVAL (100000): a whole number from 1 to 86400");
    s_expect_refusal ("AUDIT_JANITOR_INTERVAL=abc", plain, 1,
        "test: invalid value in AUDIT_JANITOR_INTERVAL (abc): a whole number from 1 to 86400");
    //  Text fails only by its length, and may be a secret: measured, not shown
    char long_dir [AUDIT_CONFIG_VALUE_MAX + 8];
    memset (long_dir, 'x', sizeof long_dir - 1);
    long_dir [sizeof long_dir - 1] = 0;
    char *too_long [] = { "test", "--data-dir", long_dir, NULL };
    s_expect_refusal (NULL, too_long, 3,
        "test: invalid value for --data-dir (1031 bytes): text of at most 1023 bytes");
}

//  audit_config_startup as a worker's main calls it, for the log level
static int
s_startup (char **argv, int argc, char *line, size_t size)
{
    static const audit_setting_t used [] = { AUDIT_SET_QUERY_THREADS, AUDIT_SET_LOG_LEVEL };
    audit_config_t config;
    s_capture_start ();
    int rc = audit_config_startup (&config, argc, argv, "audit-test", "test", "purpose", used, 2);
    s_capture_end (line, size);
    return rc;
}

Test (config, a_bad_log_level_names_its_variable_or_its_flag)
{
    char line [256];
    char *plain [] = { "audit-test", NULL };
    setenv ("AUDIT_LOG_LEVEL", "trace", 1);
    cr_expect_eq (s_startup (plain, 1, line, sizeof line), 2);
    cr_expect_str_eq (line, "audit-test: invalid value in AUDIT_LOG_LEVEL (trace):"
                            " one of debug, info, warn or error");
    unsetenv ("AUDIT_LOG_LEVEL");
    char *flag [] = { "audit-test", "--log-level", "loud", NULL };
    cr_expect_eq (s_startup (flag, 3, line, sizeof line), 2);
    cr_expect_str_eq (line, "audit-test: invalid value for --log-level (loud):"
                            " one of debug, info, warn or error");
    setenv ("AUDIT_QUERY_THREADS", "10000", 1);
    cr_expect_eq (s_startup (plain, 1, line, sizeof line), 2);
    cr_expect_str_eq (line, "audit-test: invalid value in AUDIT_QUERY_THREADS (10000):"
                            " a whole number from 0 to 64");
    unsetenv ("AUDIT_QUERY_THREADS");
    char *good [] = { "audit-test", "--log-level", "warn", NULL };
    cr_expect_eq (s_startup (good, 3, line, sizeof line), -1);
    cr_expect_str_eq (line, "");
}

Test (config, help_is_not_an_error, .init = cr_redirect_stdout)
{
    audit_config_t config;
    char *argv [] = { "test", "--help", NULL };
    cr_assert_eq (s_load (&config, 2, argv), AUDIT_CONFIG_HELP);
}

//  A secret on a command line shows in /proc/PID/cmdline and ps (issue
//  12): --jwt-secret is refused, naming the variable to use instead; the
//  variable still gives the secret
Test (config, a_secret_flag_is_refused_and_its_variable_stays)
{
    static const audit_setting_t used [] = { AUDIT_SET_JWT_SECRET, AUDIT_SET_JWT_MAX_AGE };
    audit_config_t config;
    char line [256];
    char *argv [] = { "test", "--jwt-secret", "0123456789abcdef0123456789abcdef", NULL };
    s_capture_start ();
    audit_config_result_t rc = audit_config_load (&config, 3, argv, "test", "purpose", used, 2);
    s_capture_end (line, sizeof line);
    cr_expect_eq (rc, AUDIT_CONFIG_ERROR);
    cr_expect_str_eq (line, "test: --jwt-secret is refused: a command line shows in"
                            " /proc/PID/cmdline and ps; set AUDIT_JWT_SECRET instead");
    setenv ("AUDIT_JWT_SECRET", "from-the-environment", 1);
    char *plain [] = { "test", NULL };
    cr_expect_eq (audit_config_load (&config, 1, plain, "test", "purpose", used, 2), AUDIT_CONFIG_OK);
    cr_expect_str_eq (audit_config_str (&config, AUDIT_SET_JWT_SECRET), "from-the-environment");
    cr_expect_eq (audit_config_uint (&config, AUDIT_SET_JWT_MAX_AGE), 86400, "a day by default");
    unsetenv ("AUDIT_JWT_SECRET");
}
