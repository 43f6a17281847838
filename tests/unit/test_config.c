/*  Flags override the environment, which overrides the defaults */

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdlib.h>

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
    cr_assert_str_eq (audit_config_str (&config, AUDIT_SET_INGEST_ENDPOINT), "tcp://*:5570");
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

Test (config, help_is_not_an_error, .init = cr_redirect_stdout)
{
    audit_config_t config;
    char *argv [] = { "test", "--help", NULL };
    cr_assert_eq (s_load (&config, 2, argv), AUDIT_CONFIG_HELP);
}
