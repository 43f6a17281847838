/*  =========================================================================
    ctl_doctab - auditctl's commands and options as the documentation sees
    them: the rows of ctl_commands.def and ctl_options.def, and the values
    an enumerated option takes

    The bash completion and the man pages (ctl_completion, ctl_manpage)
    are generated from these rows at build time, so that they can never
    disagree with getopt and --help, which ctl_args derives from the same
    tables. A row added to either table shows in both without a change
    here.
    ========================================================================= */

#ifndef CTL_DOCTAB_H_INCLUDED
#define CTL_DOCTAB_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_args.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *flag;               //  "org": --org
    int shrt;                       //  getopt letter, or 0
    const char *hint;               //  "O", "asc|desc"; NULL for a flag
    const char *kind;               //  the table's kind: "FLAG", "ORDER" ...
    const char *help;
} ctl_doc_option_t;

typedef struct {
    const char *words;              //  "retention get"
    uint64_t options;               //  its own options (no global ones)
    uint64_t required;
    const char *rest;               //  what positional words fill, or NULL
    const char *purpose;
    const char *notes;              //  lines ending in \n, or NULL
} ctl_doc_command_t;

//  The row of an option / a command.
const ctl_doc_option_t *
    ctl_doctab_option (ctl_option_t option);
const ctl_doc_command_t *
    ctl_doctab_command (ctl_command_t command);

//  True when option is in mask.
bool
    ctl_doctab_has (uint64_t mask, ctl_option_t option);

//  The global options: those no command lists, which auditctl takes
//  before or after any command (--endpoint, --token, --help ...).
uint64_t
    ctl_doctab_globals (void);

//  True when a row of ctl_options.def is --flag.
bool
    ctl_doctab_has_flag (const char *flag);

//  True when an option takes a value.
bool
    ctl_doctab_takes_value (ctl_option_t option);

//  The length of the first word of a command's words ("retention").
size_t
    ctl_doctab_first_len (const char *words);

//  True when command is the first with its first word (each group of
//  two-word commands, and each one-word command, is named once).
bool
    ctl_doctab_first_of_group (ctl_command_t command);

//  Print the values an option takes, separated by sep, when they are a
//  known set: the hint's alternatives ("asc|desc"), the roles, the event
//  types or the categories of the catalogue. The count printed, 0 when
//  the values are not enumerated. out NULL: only count them.
size_t
    ctl_doctab_values (ctl_option_t option, const char *sep, FILE *out);

//  What completes an option's value when it is not enumerated: 'f' a
//  file, 'd' a directory, 0 nothing (from its kind and hint).
int
    ctl_doctab_value_path (ctl_option_t option);

#ifdef __cplusplus
}
#endif

#endif
