/*  =========================================================================
    ctl_doctab - auditctl's commands and options as the documentation sees
    them
    ========================================================================= */

#include "ctl_doctab.h"

#include <string.h>

#include "audit_proto.h"
#include "audit_token.h"

static const ctl_doc_option_t s_options [CTL_OPT_COUNT] = {
#define CTL_OPTION(NAME, flag, shrt, hint, kind, key, min, max, help) \
    [CTL_OPT_##NAME] = { flag, shrt, hint, #kind, help },
#include "ctl_options.def"
#undef CTL_OPTION
};

#define O(NAME) ((uint64_t) 1 << CTL_OPT_##NAME)

static const ctl_doc_command_t s_commands [CTL_COMMAND_COUNT] = {
#define CTL_COMMAND(NAME, words, op, endpoint, token, options, required, rest, purpose, notes) \
    [CTL_COMMAND_##NAME] = { words, options, required, rest, purpose, notes },
#include "ctl_commands.def"
#undef CTL_COMMAND
};

const ctl_doc_option_t *
ctl_doctab_option (ctl_option_t option)
{
    return &s_options [option];
}

const ctl_doc_command_t *
ctl_doctab_command (ctl_command_t command)
{
    return &s_commands [command];
}

bool
ctl_doctab_has (uint64_t mask, ctl_option_t option)
{
    return (mask & ((uint64_t) 1 << option)) != 0;
}

//  ctl_args allows its global flags with every command; an option that
//  no command row lists can only be one of those
uint64_t
ctl_doctab_globals (void)
{
    uint64_t listed = 0;
    for (int command = 0; command < CTL_COMMAND_COUNT; command++)
        listed |= s_commands [command].options;
    uint64_t all = CTL_OPT_COUNT == 64 ? UINT64_MAX : ((uint64_t) 1 << CTL_OPT_COUNT) - 1;
    return all & ~listed;
}

bool
ctl_doctab_has_flag (const char *flag)
{
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        if (strcmp (s_options [option].flag, flag) == 0)
            return true;
    return false;
}

bool
ctl_doctab_takes_value (ctl_option_t option)
{
    return strcmp (s_options [option].kind, "FLAG") != 0;
}

size_t
ctl_doctab_first_len (const char *words)
{
    const char *space = strchr (words, ' ');
    return space ? (size_t) (space - words) : strlen (words);
}

bool
ctl_doctab_first_of_group (ctl_command_t command)
{
    const char *words = s_commands [command].words;
    size_t len = ctl_doctab_first_len (words);
    for (int before = 0; before < (int) command; before++) {
        const char *other = s_commands [before].words;
        if (ctl_doctab_first_len (other) == len && strncmp (other, words, len) == 0)
            return false;
    }
    return true;
}

//  One value, after sep unless it is the first; out NULL only counts
static void
s_emit (FILE *out, size_t *count, const char *sep, const char *value, int len)
{
    if (out)
        fprintf (out, "%s%.*s", *count ? sep : "", len, value);
    (*count)++;
}

//  "asc|desc": each alternative of the hint
static size_t
s_hint_values (const char *hint, const char *sep, FILE *out)
{
    size_t count = 0;
    while (*hint) {
        size_t len = strcspn (hint, "|");
        s_emit (out, &count, sep, hint, (int) len);
        hint += len + (hint [len] == '|');
    }
    return count;
}

static size_t
s_catalog_values (const char *kind, const char *sep, FILE *out)
{
    size_t count = 0;
    if (strcmp (kind, "ROLE") == 0)
        for (int role = 0; role < AUDIT_ROLE_OTHER; role++)
            s_emit (out, &count, sep, audit_token_role_name ((audit_role_t) role), -1);
    if (strcmp (kind, "TYPE") == 0)
        for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
            s_emit (out, &count, sep, audit_proto_event_info ((audit_event_type_t) type)->name, -1);
    if (strcmp (kind, "CATEGORY") == 0)
        for (int category = 0; category < AUDIT_CATEGORY_COUNT; category++)
            s_emit (out, &count, sep, audit_proto_category_name ((audit_category_t) category), -1);
    return count;
}

size_t
ctl_doctab_values (ctl_option_t option, const char *sep, FILE *out)
{
    const ctl_doc_option_t *row = &s_options [option];
    if (!ctl_doctab_takes_value (option))
        return 0;
    if (row->hint && strchr (row->hint, '|'))
        return s_hint_values (row->hint, sep, out);
    return s_catalog_values (row->kind, sep, out);
}

//  The hints of the table name what a TEXT value is: FILE, F, F.jsonl,
//  DIR; a KEY may be a file holding it
int
ctl_doctab_value_path (ctl_option_t option)
{
    const ctl_doc_option_t *row = &s_options [option];
    if (strcmp (row->kind, "TEXT") != 0 || !row->hint)
        return 0;
    if (strcmp (row->hint, "DIR") == 0)
        return 'd';
    if (strstr (row->hint, "FILE") || strcmp (row->hint, "KEY") == 0
    ||  (row->hint [0] == 'F' && (row->hint [1] == 0 || row->hint [1] == '.')))
        return 'f';
    return 0;
}
