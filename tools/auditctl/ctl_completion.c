/*  =========================================================================
    ctl_completion - the bash completion of auditctl, from its tables

    The script is data (bash case tables) printed from the rows, and one
    fixed function that reads them; the function is the only bash here.
    ========================================================================= */

#include "ctl_completion.h"

#include <string.h>

#include "ctl_doctab.h"

//  The flags of mask, long forms (and short ones with shorts), space-separated
static void
s_flags (FILE *out, uint64_t mask, bool shorts, bool valued_only)
{
    const char *sep = "";
    for (int option = 0; option < CTL_OPT_COUNT; option++) {
        const ctl_doc_option_t *row = ctl_doctab_option ((ctl_option_t) option);
        if (!ctl_doctab_has (mask, (ctl_option_t) option)
        ||  (valued_only && !ctl_doctab_takes_value ((ctl_option_t) option)))
            continue;
        fprintf (out, "%s--%s", sep, row->flag);
        sep = " ";
        if (shorts && row->shrt)
            fprintf (out, " -%c", row->shrt);
    }
}

static void
s_header (FILE *out)
{
    fprintf (out,
        "# bash completion for auditctl                            -*- shell-script -*-\n"
        "# Generated at build time by ctl_docgen from tools/auditctl/ctl_commands.def\n"
        "# and ctl_options.def: do not edit, change the tables.\n\n");
    fprintf (out, "_auditctl_commands='");
    const char *sep = "";
    for (int command = 0; command < CTL_COMMAND_COUNT; command++) {
        const char *words = ctl_doctab_command ((ctl_command_t) command)->words;
        if (ctl_doctab_first_of_group ((ctl_command_t) command)) {
            fprintf (out, "%s%.*s", sep, (int) ctl_doctab_first_len (words), words);
            sep = " ";
        }
    }
    fprintf (out, "'\n_auditctl_globals='");
    s_flags (out, ctl_doctab_globals (), false, false);
    fprintf (out, "'\n#   The options that take a value: the word after one is that value\n"
                  "_auditctl_valued=' ");
    uint64_t all = ctl_doctab_globals ();
    for (int command = 0; command < CTL_COMMAND_COUNT; command++)
        all |= ctl_doctab_command ((ctl_command_t) command)->options;
    s_flags (out, all, true, true);
    fprintf (out, " '\n#   The commands whose positional words are arguments\n_auditctl_rest='");
    for (int command = 0; command < CTL_COMMAND_COUNT; command++)
        if (ctl_doctab_command ((ctl_command_t) command)->rest)
            fprintf (out, " %s,", ctl_doctab_command ((ctl_command_t) command)->words);
    //  main takes --version before any command, outside the table (until a row names it)
    fprintf (out, "'\n_auditctl_version='%s'\n\n", ctl_doctab_has_flag ("version") ? "" : "--version");
}

//  The second words of each two-word command's first word
static void
s_subcommands (FILE *out)
{
    fprintf (out, "#   The second words of a two-word command; fails for any other word\n"
                  "_auditctl_subcommands ()\n{\n    case \"$1\" in\n");
    for (int command = 0; command < CTL_COMMAND_COUNT; command++) {
        const char *words = ctl_doctab_command ((ctl_command_t) command)->words;
        size_t len = ctl_doctab_first_len (words);
        if (!words [len] || !ctl_doctab_first_of_group ((ctl_command_t) command))
            continue;
        fprintf (out, "        %.*s) _auditctl_reply='", (int) len, words);
        const char *sep = "";
        for (int other = command; other < CTL_COMMAND_COUNT; other++) {
            const char *next = ctl_doctab_command ((ctl_command_t) other)->words;
            if (strncmp (next, words, len + 1) == 0)
                fprintf (out, "%s%s", sep, next + len + 1), sep = " ";
        }
        fprintf (out, "' ;;\n");
    }
    fprintf (out, "        *) return 1 ;;\n    esac\n}\n\n");
}

static void
s_options (FILE *out)
{
    fprintf (out, "#   A command's own options, then the global ones\n"
                  "_auditctl_options ()\n{\n    case \"$1\" in\n");
    for (int command = 0; command < CTL_COMMAND_COUNT; command++) {
        const ctl_doc_command_t *row = ctl_doctab_command ((ctl_command_t) command);
        fprintf (out, "        '%s') _auditctl_reply='", row->words);
        s_flags (out, row->options, false, false);
        fprintf (out, "' ;;\n");
    }
    fprintf (out, "        *) _auditctl_reply='' ;;\n    esac\n"
                  "    _auditctl_reply+=\" $_auditctl_globals\"\n}\n\n");
}

//  The case of one option's value, when something completes it
static void
s_value_case (FILE *out, ctl_option_t option)
{
    const ctl_doc_option_t *row = ctl_doctab_option (option);
    char shrt [8] = "";
    if (row->shrt)
        snprintf (shrt, sizeof shrt, "|-%c", row->shrt);
    int path = ctl_doctab_value_path (option);
    if (path) {
        fprintf (out, "        --%s%s) COMPREPLY=($(compgen -%c -- \"$2\")) ;;\n", row->flag, shrt,
                 path);
        return;
    }
    if (ctl_doctab_values (option, " ", NULL) == 0)
        return;
    fprintf (out, "        --%s%s) COMPREPLY=($(compgen -W '", row->flag, shrt);
    ctl_doctab_values (option, " ", out);
    fprintf (out, "' -- \"$2\")) ;;\n");
}

static void
s_values (FILE *out)
{
    fprintf (out, "#   What completes the value of option $1: a set of words, files or\n"
                  "#   directories, or nothing\n"
                  "_auditctl_values ()\n{\n    case \"$1\" in\n");
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        if (ctl_doctab_takes_value ((ctl_option_t) option))
            s_value_case (out, (ctl_option_t) option);
    fprintf (out, "        *) COMPREPLY=() ;;\n    esac\n}\n\n");
}

//  Reads the tables above: finds the command among the words before the
//  cursor (skipping options and their values), then offers what fits
static const char s_function [] =
    "_auditctl ()\n"
    "{\n"
    "    local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev='' word first='' command='' index\n"
    "    local _auditctl_reply=''\n"
    "    COMPREPLY=()\n"
    "    (( COMP_CWORD > 0 )) && prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n"
    "    if [[ \"$_auditctl_valued\" == *\" $prev \"* ]]; then\n"
    "        _auditctl_values \"$prev\" \"$cur\"\n"
    "        return 0\n"
    "    fi\n"
    "    for (( index = 1; index < COMP_CWORD; index++ )); do\n"
    "        word=\"${COMP_WORDS[index]}\"\n"
    "        if [[ \"$word\" == -* ]]; then\n"
    "            [[ \"$_auditctl_valued\" == *\" $word \"* ]] && (( index++ ))\n"
    "            continue\n"
    "        fi\n"
    "        if [[ -z \"$first\" ]]; then\n"
    "            first=\"$word\"\n"
    "            _auditctl_subcommands \"$first\" || { command=\"$first\"; break; }\n"
    "        else\n"
    "            command=\"$first $word\"\n"
    "            break\n"
    "        fi\n"
    "    done\n"
    "    if [[ -n \"$command\" ]]; then\n"
    "        [[ \"$cur\" != -* && \"$_auditctl_rest\" == *\" $command,\"* ]] && return 0\n"
    "        _auditctl_options \"$command\"\n"
    "    elif [[ -n \"$first\" ]]; then\n"
    "        _auditctl_subcommands \"$first\"\n"
    "    elif [[ \"$cur\" == -* ]]; then\n"
    "        _auditctl_reply=\"$_auditctl_globals $_auditctl_version\"\n"
    "    else\n"
    "        _auditctl_reply=\"$_auditctl_commands\"\n"
    "    fi\n"
    "    COMPREPLY=($(compgen -W \"$_auditctl_reply\" -- \"$cur\"))\n"
    "}\n"
    "complete -F _auditctl auditctl\n";

int
ctl_completion_print (FILE *out)
{
    s_header (out);
    s_subcommands (out);
    s_options (out);
    s_values (out);
    fputs (s_function, out);
    return ferror (out) ? -1 : 0;
}
