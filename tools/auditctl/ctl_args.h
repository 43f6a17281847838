/*  =========================================================================
    ctl_args - auditctl's command line: which subcommand, its flags, and
    the request they make

    Flags map straight into the request they stand for (ctl_options.def),
    so "what would be sent" is testable without a server. Flags that
    auditctl uses itself (--all, -o, --demo ...) are kept by option.
    Global flags (--endpoint, --token, --timeout, --json) may come before
    or after the subcommand.
    ========================================================================= */

#ifndef CTL_ARGS_H_INCLUDED
#define CTL_ARGS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_request.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
#define CTL_OPTION(NAME, flag, shrt, hint, kind, key, min, max, help) CTL_OPT_##NAME,
#include "ctl_options.def"
#undef CTL_OPTION
    CTL_OPT_COUNT
} ctl_option_t;

typedef enum {
#define CTL_COMMAND(NAME, words, op, endpoint, token, options, required, rest, purpose, notes) \
    CTL_COMMAND_##NAME,
#include "ctl_commands.def"
#undef CTL_COMMAND
    CTL_COMMAND_COUNT
} ctl_command_t;

#define CTL_TIMEOUT_DEFAULT_MS  10000
#define CTL_ENDPOINT_MAX        1024

typedef enum {
    CTL_ARGS_OK = 0,
    CTL_ARGS_HELP = 1,              //  help was printed: exit 0
    CTL_ARGS_USAGE = 2              //  a reason was printed: exit 2
} ctl_args_result_t;

typedef struct {
    ctl_command_t command;
    ctl_request_t *request;         //  op, token and arguments (owned)
    char endpoint [CTL_ENDPOINT_MAX];   //  flag, or the default for the command
    const char *token;              //  flag or AUDIT_TOKEN; NULL when none
    int timeout_ms;
    bool json;
    bool given [CTL_OPT_COUNT];     //  which flags were given
    const char *text [CTL_OPT_COUNT];   //  each flag's value (borrowed from argv)
    uint64_t number [CTL_OPT_COUNT];    //  UINT and RATE values
} ctl_args_t;

//  Parse argv into *self (which ctl_args_destroy must release whatever the
//  result). Reasons and help go to stderr / stdout.
ctl_args_result_t
    ctl_args_parse (ctl_args_t *self, int argc, char **argv);

//  Free the request; safe twice.
void
    ctl_args_destroy (ctl_args_t *self);

//  The words of a command, e.g. "retention get".
const char *
    ctl_args_command_words (ctl_command_t command);

//  --max: the limit of the next page, so that with printed items shown
//  the total stays within --max (pages are --limit, else the largest the
//  contract allows); sets it in the request. 0, or -1 when it could not.
//  Without --max, 0 and nothing set.
int
    ctl_args_cap_page (const ctl_args_t *self, uint64_t printed);

//  The largest page list, ops and tail take (--limit's maximum)
uint64_t
    ctl_args_page_max (void);

//  Whether --max is given and printed items reach it
bool
    ctl_args_at_max (const ctl_args_t *self, uint64_t printed);

//  Print the list of subcommands.
void
    ctl_args_usage (FILE *out);

//  Turn a bind endpoint into one a client can connect to: a wildcard
//  host ("*", "0.0.0.0") becomes 127.0.0.1. 0, or -1 when it does not fit.
int
    ctl_args_connectable (const char *bind, char *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif
