/*  =========================================================================
    audit_config - settings from flags, then environment, then defaults

    The table in audit_settings.def is expanded once here; getopt_long's
    option table and --help are built from the subset a worker uses, so a
    flag and its environment variable can never drift apart.
    ========================================================================= */

#include "audit_config.h"
#include "audit_log.h"
#include "audit_socket.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_KIND_STR, S_KIND_UINT, S_KIND_FLAG, S_KIND_ENV } s_kind_t;

typedef struct {
    const char *flag;
    const char *env;
    const char *fallback;
    s_kind_t kind;
    uint64_t min, max;
    const char *help;
} s_setting_t;

//  Longest value a refusal repeats
#define S_ECHO_MAX 64

static const s_setting_t s_settings [AUDIT_SET_COUNT] = {
#define AUDIT_SETTING(NAME, flag, env, def, kind, min, max, help) \
    [AUDIT_SET_##NAME] = { flag, env, def, S_KIND_##kind, min, max, help },
#include "audit_settings.def"
#undef AUDIT_SETTING
};

//  Parse a decimal in [min, max]; 0 or -1
static int
s_parse_uint (const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    if (!*text || *text == '-' || *text == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long long parsed = strtoull (text, &end, 10);
    if (errno || *end || parsed < min || parsed > max)
        return -1;
    *value = parsed;
    return 0;
}

//  0 when setting accepts text. The log level is checked here, not only
//  at start-up, so that a bad one is blamed on the flag or variable
//  that gave it; an endpoint by the rule every socket is made by
static int
s_check (audit_setting_t setting, const char *text)
{
    const s_setting_t *row = &s_settings [setting];
    uint64_t ignored;
    audit_log_level_t level;
    if (strlen (text) >= AUDIT_CONFIG_VALUE_MAX)
        return -1;
    if (row->kind == S_KIND_UINT)
        return s_parse_uint (text, row->min, row->max, &ignored);
    if (setting == AUDIT_SET_LOG_LEVEL)
        return audit_log_level_parse (text, &level);
    if (setting == AUDIT_SET_INGEST_ENDPOINT || setting == AUDIT_SET_QUERY_ENDPOINT)
        return audit_socket_endpoint_check (text);
    return 0;
}

//  What setting accepts, in words, for the line that refuses a value
static void
s_allowed (audit_setting_t setting, char *text, size_t size)
{
    const s_setting_t *row = &s_settings [setting];
    if (setting == AUDIT_SET_LOG_LEVEL)
        snprintf (text, size, "one of debug, info, warn or error");
    else
    if (setting == AUDIT_SET_INGEST_ENDPOINT || setting == AUDIT_SET_QUERY_ENDPOINT)
        snprintf (text, size, "an endpoint such as tcp://*:5570 (port 1 to 65535) or ipc:///path");
    else
    if (row->kind == S_KIND_UINT)
        snprintf (text, size, "a whole number from %" PRIu64 " to %" PRIu64, row->min, row->max);
    else
        snprintf (text, size, "text of at most %d bytes", AUDIT_CONFIG_VALUE_MAX - 1);
}

//  One line: the value, where it came from (a variable or a flag) and what
//  is allowed. A long value is only measured: text fails only by its
//  length, and it may be the JWT secret
static void
s_refuse (const char *program, audit_setting_t setting, bool from_env, const char *text)
{
    const s_setting_t *row = &s_settings [setting];
    char allowed [96], value [32];
    s_allowed (setting, allowed, sizeof allowed);
    size_t len = strlen (text);
    if (len > S_ECHO_MAX)
        snprintf (value, sizeof value, "%zu bytes", len);
    fprintf (stderr, "%s: invalid value %s%s (%s): %s\n", program, from_env ? "in " : "for --",
             from_env ? row->env : row->flag, len > S_ECHO_MAX ? value : text, allowed);
}

int
audit_config_set (audit_config_t *self, audit_setting_t setting, const char *text)
{
    if (s_check (setting, text))
        return -1;
    strcpy (self->value [setting], text);
    self->is_set [setting] = true;
    return 0;
}

static void
s_print_help (const char *program, const char *purpose,
              const audit_setting_t *used, size_t used_count)
{
    printf ("Usage: %s [OPTIONS]\n%s\n\nOptions (flag, environment variable, default):\n",
            program, purpose);
    for (size_t index = 0; index < used_count; index++) {
        const s_setting_t *row = &s_settings [used [index]];
        if (row->kind == S_KIND_ENV)
            printf ("  %-20s %s\n", row->env, row->help);
        else
            printf ("  --%-18s %s\n", row->flag, row->help);
        if (row->env && row->kind != S_KIND_ENV)
            printf ("  %-20s   env %s, default \"%s\"\n", "", row->env, row->fallback);
    }
    printf ("  --%-18s %s\n", "help", "print this help and exit");
}

//  Defaults then environment, for the settings in use
static int
s_load_env (audit_config_t *self, const char *program,
            const audit_setting_t *used, size_t used_count)
{
    for (size_t index = 0; index < used_count; index++) {
        audit_setting_t setting = used [index];
        const s_setting_t *row = &s_settings [setting];
        snprintf (self->value [setting], AUDIT_CONFIG_VALUE_MAX, "%s", row->fallback);
        const char *text = row->env ? getenv (row->env) : NULL;
        if (text && *text && audit_config_set (self, setting, text)) {
            s_refuse (program, setting, true, text);
            return -1;
        }
    }
    return 0;
}

//  Flags last, so they override the environment
static audit_config_result_t
s_load_flags (audit_config_t *self, int argc, char **argv, const char *program,
              const char *purpose, const audit_setting_t *used, size_t used_count)
{
    struct option options [AUDIT_SET_COUNT + 2];
    size_t count = 0;
    for (; count < used_count; count++) {
        const s_setting_t *row = &s_settings [used [count]];
        int has_arg = row->kind == S_KIND_FLAG ? no_argument : required_argument;
        options [count] = (struct option) { row->flag, has_arg, NULL, (int) count };
    }
    options [count] = (struct option) { "help", no_argument, NULL, 'h' + 1000 };
    options [count + 1] = (struct option) { NULL, 0, NULL, 0 };
    optind = 1;
    int opt;
    while ((opt = getopt_long (argc, argv, "", options, NULL)) != -1) {
        if (opt == 'h' + 1000) {
            s_print_help (program, purpose, used, used_count);
            return AUDIT_CONFIG_HELP;
        }
        if (opt < 0 || (size_t) opt >= used_count)
            return AUDIT_CONFIG_ERROR;      //  getopt printed the reason
        audit_setting_t setting = used [opt];
        if (s_settings [setting].kind == S_KIND_ENV) {
            fprintf (stderr, "%s: --%s is refused: a command line shows in /proc/PID/cmdline"
                     " and ps; set %s instead\n", program, s_settings [setting].flag,
                     s_settings [setting].env);
            return AUDIT_CONFIG_ERROR;
        }
        const char *text = s_settings [setting].kind == S_KIND_FLAG ? "1" : optarg;
        if (audit_config_set (self, setting, text)) {
            s_refuse (program, setting, false, text);
            return AUDIT_CONFIG_ERROR;
        }
    }
    if (optind < argc) {
        fprintf (stderr, "%s: unexpected argument '%s' (see --help)\n", program, argv [optind]);
        return AUDIT_CONFIG_ERROR;
    }
    return AUDIT_CONFIG_OK;
}

audit_config_result_t
audit_config_load (audit_config_t *self, int argc, char **argv,
                   const char *program, const char *purpose,
                   const audit_setting_t *used, size_t used_count)
{
    memset (self, 0, sizeof *self);
    if (s_load_env (self, program, used, used_count))
        return AUDIT_CONFIG_ERROR;
    return s_load_flags (self, argc, argv, program, purpose, used, used_count);
}

const char *
audit_config_str (const audit_config_t *self, audit_setting_t setting)
{
    return self->value [setting];
}

uint64_t
audit_config_uint (const audit_config_t *self, audit_setting_t setting)
{
    uint64_t value = 0;
    const s_setting_t *row = &s_settings [setting];
    if (s_parse_uint (self->value [setting], row->min, row->max, &value))
        return row->min;
    return value;
}

bool
audit_config_flag (const audit_config_t *self, audit_setting_t setting)
{
    return self->is_set [setting] && self->value [setting][0] == '1';
}

int
audit_config_startup (audit_config_t *self, int argc, char **argv,
                      const char *program, const char *service, const char *purpose,
                      const audit_setting_t *used, size_t used_count)
{
    audit_config_result_t rc = audit_config_load (self, argc, argv, program, purpose,
                                                  used, used_count);
    if (rc != AUDIT_CONFIG_OK)
        return rc == AUDIT_CONFIG_HELP ? 0 : 2;
    //  A bad level was refused at load, naming its flag or variable; this
    //  fails only when used does not list LOG_LEVEL
    audit_log_level_t level;
    if (audit_log_level_parse (audit_config_str (self, AUDIT_SET_LOG_LEVEL), &level)) {
        fprintf (stderr, "%s: no log level: LOG_LEVEL is not among the settings used\n", program);
        return 2;
    }
    audit_log_init (service, level);
    return -1;
}
