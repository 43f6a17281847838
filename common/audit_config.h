/*  =========================================================================
    audit_config - settings from flags, then environment, then defaults

    The settings live in audit_settings.def. A worker names the ones it
    reads; audit_config_load builds its getopt table and --help from them.
    ========================================================================= */

#ifndef AUDIT_CONFIG_H_INCLUDED
#define AUDIT_CONFIG_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
#define AUDIT_SETTING(NAME, flag, env, def, kind, min, max, help) AUDIT_SET_##NAME,
#include "audit_settings.def"
#undef AUDIT_SETTING
    AUDIT_SET_COUNT
} audit_setting_t;

#define AUDIT_CONFIG_VALUE_MAX 1024

typedef struct {
    char value [AUDIT_SET_COUNT][AUDIT_CONFIG_VALUE_MAX];
    bool is_set [AUDIT_SET_COUNT];      //  given by flag or environment
} audit_config_t;

typedef enum {
    AUDIT_CONFIG_OK = 0,
    AUDIT_CONFIG_HELP = 1,              //  --help was printed: exit 0
    AUDIT_CONFIG_ERROR = -1             //  a reason was printed: exit 2
} audit_config_result_t;

//  Fill self from defaults, then the environment, then argv, for the
//  settings listed in used[0..used_count). program and purpose head --help.
//  A refused value is reported on stderr as "program: invalid value for
//  --flag (value): what is allowed", or "in VARIABLE" when it came from
//  the environment.
audit_config_result_t
    audit_config_load (audit_config_t *self, int argc, char **argv,
                       const char *program, const char *purpose,
                       const audit_setting_t *used, size_t used_count);

//  What every worker's main does first: load the settings it uses, then
//  start logging as service at the LOG_LEVEL setting (which used must
//  list). Returns -1 to go on, or the exit code: 0 after --help, 2 after
//  a bad setting (the reason is printed).
int
    audit_config_startup (audit_config_t *self, int argc, char **argv,
                          const char *program, const char *service, const char *purpose,
                          const audit_setting_t *used, size_t used_count);

//  A setting's text.
const char *
    audit_config_str (const audit_config_t *self, audit_setting_t setting);

//  A UINT setting's value (checked at load).
uint64_t
    audit_config_uint (const audit_config_t *self, audit_setting_t setting);

//  A FLAG setting: true when given.
bool
    audit_config_flag (const audit_config_t *self, audit_setting_t setting);

//  Override one setting by its text; 0, or -1 when the setting does not
//  accept it (too long, out of range, not a log level).
int
    audit_config_set (audit_config_t *self, audit_setting_t setting, const char *text);

#ifdef __cplusplus
}
#endif

#endif
