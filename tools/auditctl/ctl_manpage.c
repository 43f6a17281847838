/*  =========================================================================
    ctl_manpage - the man pages, in troff (man macros), from the tables
    ========================================================================= */

#include "ctl_manpage.h"

#include <ctype.h>
#include <string.h>

#include "ctl_doctab.h"

#define s_SEE_ALSO \
    ".SH SEE ALSO\n\\fBauditctl\\fR(1), \\fBaudit\\-ingest\\fR(1), \\fBaudit\\-query\\fR(1),\n" \
    "\\fBaudit\\-janitor\\fR(1); the wire contract: proto/PROTOCOL.md of the sources.\n"

void
ctl_manpage_escape (FILE *out, const char *text, int len)
{
    bool line_start = true;
    for (int at = 0; len < 0 ? text [at] != 0 : at < len; at++) {
        char c = text [at];
        if (line_start && (c == '.' || c == '\''))
            fputs ("\\&", out);
        if (c == '\\')
            fputs ("\\e", out);
        else
        if (c == '-')
            fputs ("\\-", out);
        else
            fputc (c, out);
        line_start = c == '\n';
    }
}

//  "\fB-o\fR, \fB--output\fR \fIFILE\fR": an option as a .TP heading
static void
s_option_heading (FILE *out, const ctl_doc_option_t *row)
{
    fputs (".TP\n", out);
    if (row->shrt)
        fprintf (out, "\\fB\\-%c\\fR, ", row->shrt);
    fputs ("\\fB\\-\\-", out);
    ctl_manpage_escape (out, row->flag, -1);
    fputs ("\\fR", out);
    if (row->hint) {
        fputs (" \\fI", out);
        ctl_manpage_escape (out, row->hint, -1);
        fputs ("\\fR", out);
    }
    fputc ('\n', out);
}

static void
s_option (FILE *out, ctl_option_t option)
{
    const ctl_doc_option_t *row = ctl_doctab_option (option);
    s_option_heading (out, row);
    ctl_manpage_escape (out, row->help, -1);
    fputs (".\n", out);
    //  The hint already lists a short set; a catalogue's set is spelled out
    if ((!row->hint || !strchr (row->hint, '|')) && ctl_doctab_values (option, ", ", NULL)) {
        fputs ("Values: ", out);
        ctl_doctab_values (option, ", ", out);
        fputs (".\n", out);
    }
}

static void
s_options (FILE *out, uint64_t mask)
{
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        if (ctl_doctab_has (mask, (ctl_option_t) option))
            s_option (out, (ctl_option_t) option);
}

static void
s_command (FILE *out, ctl_command_t command)
{
    const ctl_doc_command_t *row = ctl_doctab_command (command);
    fputs (".SS \"", out);
    ctl_manpage_escape (out, row->words, -1);
    fprintf (out, "\"\n\\fBauditctl %s\\fR [\\fIOPTIONS\\fR]%s\n.PP\n", row->words,
             row->rest ? " \\fIID\\fR..." : "");
    ctl_manpage_escape (out, row->purpose, -1);
    fputc ('\n', out);
    s_options (out, row->options);
    if (row->required) {
        fputs (".PP\nRequired:", out);
        for (int option = 0; option < CTL_OPT_COUNT; option++)
            if (ctl_doctab_has (row->required, (ctl_option_t) option))
                fprintf (out, " \\fB\\-\\-%s\\fR", ctl_doctab_option ((ctl_option_t) option)->flag);
        fputs (".\n", out);
    }
    if (row->notes) {
        fputs (".PP\n", out);
        ctl_manpage_escape (out, row->notes, -1);
    }
}

static void
s_auditctl_head (FILE *out, const char *version)
{
    fprintf (out, ".\\\" Generated at build time by ctl_docgen from tools/auditctl/ctl_commands.def\n"
                  ".\\\" and ctl_options.def: do not edit, change the tables.\n"
                  ".TH AUDITCTL 1 \"\" \"semafore\\-audit %s\" \"Semafore audit service\"\n"
                  ".nh\n.ad l\n"
                  ".SH NAME\nauditctl \\- the command\\-line client of the Semafore audit service\n"
                  ".SH SYNOPSIS\n\\fBauditctl\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR"
                  " [\\fIOPTIONS\\fR]\n.br\n\\fBauditctl\\fR \\fICOMMAND\\fR \\fB\\-\\-help\\fR\n"
                  ".br\n\\fBauditctl \\-\\-help\\fR | \\fB\\-\\-version\\fR\n"
                  ".SH DESCRIPTION\nauditctl asks the query worker (list, export, tail, retention,"
                  " stats, ...), publishes to the ingest worker, and does some work locally"
                  " (token, keygen, verify). Global options may come before or after the"
                  " command.\n.PP\nCommands:\n", version);
    for (int command = 0; command < CTL_COMMAND_COUNT; command++) {
        const ctl_doc_command_t *row = ctl_doctab_command ((ctl_command_t) command);
        fprintf (out, ".TP\n\\fB%s\\fR\n", row->words);
        ctl_manpage_escape (out, row->purpose, -1);
        fputc ('\n', out);
    }
}

//  The AUDIT_* words of text, each once, appended to names (space-ended)
static void
s_collect_env (const char *text, char *names, size_t size)
{
    for (const char *at = text ? strstr (text, "AUDIT_") : NULL; at; at = strstr (at + 1, "AUDIT_")) {
        size_t len = strspn (at, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789");
        char word [64];
        if ((at > text && (isalnum ((unsigned char) at [-1]) || at [-1] == '_'))
        ||  len >= sizeof word - 2 || at [len - 1] == '_')
            continue;
        snprintf (word, sizeof word, "%.*s ", (int) len, at);
        size_t used = strlen (names);
        if (!strstr (names, word) && used + strlen (word) < size)
            snprintf (names + used, size - used, "%s", word);
    }
}

typedef struct {
    const char *flag, *env, *fallback, *kind;
    unsigned long long min, max;
    const char *help;
} s_setting_t;

static const s_setting_t s_settings [] = {
#define AUDIT_SETTING(NAME, flag, env, def, kind, min, max, help) \
    { flag, env, def, #kind, min, max, help },
#include "audit_settings.def"
#undef AUDIT_SETTING
};
#define s_SETTING_COUNT (sizeof s_settings / sizeof s_settings [0])

static const s_setting_t *
s_setting_by (const char *flag, const char *env, size_t len)
{
    for (size_t index = 0; index < s_SETTING_COUNT; index++) {
        const char *name = flag ? s_settings [index].flag : s_settings [index].env;
        if (name && strlen (name) == len && strncmp (name, flag ? flag : env, len) == 0)
            return &s_settings [index];
    }
    return NULL;
}

//  "See --token.": the options whose help names variable
static void
s_named_by (FILE *out, const char *variable)
{
    const char *sep = "See";
    for (int option = 0; option < CTL_OPT_COUNT; option++) {
        const ctl_doc_option_t *row = ctl_doctab_option ((ctl_option_t) option);
        if (strstr (row->help, variable)) {
            fprintf (out, "%s \\fB\\-\\-", sep);
            ctl_manpage_escape (out, row->flag, -1);
            fputs ("\\fR", out);
            sep = ",";
        }
    }
    fputs (*sep == ',' ? ".\n" : "Named in the notes of the commands above.\n", out);
}

//  ENVIRONMENT: each variable the help texts name, described by its
//  setting when it is one
static void
s_auditctl_environment (FILE *out)
{
    char names [2048] = "";
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        s_collect_env (ctl_doctab_option ((ctl_option_t) option)->help, names, sizeof names);
    for (int command = 0; command < CTL_COMMAND_COUNT; command++)
        s_collect_env (ctl_doctab_command ((ctl_command_t) command)->notes, names, sizeof names);
    fputs (".SH ENVIRONMENT\n", out);
    for (char *name = strtok (names, " "); name; name = strtok (NULL, " ")) {
        const s_setting_t *setting = s_setting_by (NULL, name, strlen (name));
        fprintf (out, ".TP\n\\fB%s\\fR\n", name);
        if (setting) {
            ctl_manpage_escape (out, setting->help, -1);
            fputs (".\n", out);
        }
        else
            s_named_by (out, name);
    }
}

int
ctl_manpage_auditctl (FILE *out, const char *version)
{
    s_auditctl_head (out, version);
    fputs (".SH COMMANDS\n", out);
    for (int command = 0; command < CTL_COMMAND_COUNT; command++)
        s_command (out, (ctl_command_t) command);
    fputs (".SH GLOBAL OPTIONS\n", out);
    s_options (out, ctl_doctab_globals ());
    //  main takes --version before any command, outside the table (until a row names it)
    if (!ctl_doctab_has_flag ("version"))
        fputs (".TP\n\\fB\\-\\-version\\fR\nprint the version and exit (before any command).\n", out);
    s_auditctl_environment (out);
    fputs (".SH EXIT STATUS\n0 done; 1 the service refused (error: code: message); 2 a usage"
           " error; 3 no answer within the timeout.\n"
           ".SH FILES\n\\fIshare/bash\\-completion/completions/auditctl\\fR: the bash completion,"
           " generated from the same tables as this page.\n" s_SEE_ALSO, out);
    return ferror (out) ? -1 : 0;
}

//  One setting of a worker: heading, help, environment variable, default
static void
s_setting (FILE *out, const s_setting_t *row)
{
    bool env_only = strcmp (row->kind, "ENV") == 0;
    if (env_only)
        fprintf (out, ".TP\n\\fB%s\\fR (environment only)\n", row->env);
    else {
        fputs (".TP\n\\fB\\-\\-", out);
        ctl_manpage_escape (out, row->flag, -1);
        fprintf (out, "\\fR%s\n", strcmp (row->kind, "FLAG") == 0 ? ""
                                : strcmp (row->kind, "UINT") == 0 ? " \\fIN\\fR" : " \\fIVALUE\\fR");
    }
    ctl_manpage_escape (out, row->help, -1);
    fputs (".\n", out);
    if (strcmp (row->kind, "UINT") == 0)
        fprintf (out, "From %llu to %llu.\n", row->min, row->max);
    if (row->env && !env_only)
        fprintf (out, "Environment: \\fB%s\\fR.\n", row->env);
    if (!env_only && strcmp (row->kind, "FLAG") != 0) {
        fputs ("Default: ", out);
        ctl_manpage_escape (out, *row->fallback ? row->fallback : "empty (unset)", -1);
        fputs (".\n", out);
    }
}

//  An option line of --help that is no setting ("-h, --help  print ...")
static void
s_plain_option (FILE *out, const char *line, size_t len)
{
    const char *gap = strstr (line, "  ");
    size_t head = gap && (size_t) (gap - line) < len ? (size_t) (gap - line) : len;
    size_t text = head + strspn (line + head, " ");
    fputs (".TP\n\\fB", out);
    ctl_manpage_escape (out, line, (int) head);
    fputs ("\\fR\n", out);
    ctl_manpage_escape (out, line + text, text < len ? (int) (len - text) : 0);
    fputs (".\n", out);
}

//  One option line of --help (two spaces, then the flag or variable); a
//  continuation line (more indented) says what the table says anyway
static void
s_help_line (FILE *out, const char *line, size_t len, char *envs, size_t size)
{
    if (len < 3 || strncmp (line, "  ", 2) != 0 || line [2] == ' ')
        return;
    line += 2, len -= 2;
    size_t word = strcspn (line, " \n");
    const s_setting_t *row = NULL;
    if (strncmp (line, "--", 2) == 0)
        row = s_setting_by (line + 2, NULL, word - 2);
    else
    if (strncmp (line, "AUDIT_", 6) == 0)
        row = s_setting_by (NULL, line, word);
    if (!row) {
        s_plain_option (out, line, len);
        return;
    }
    s_setting (out, row);
    if (row->env)
        s_collect_env (row->env, envs, size);
}

static void
s_worker_head (FILE *out, const char *program, const char *purpose, int purpose_len,
               const char *version)
{
    char upper [64];
    size_t len = 0;
    for (; program [len] && len < sizeof upper - 1; len++)
        upper [len] = (char) toupper ((unsigned char) program [len]);
    upper [len] = 0;
    fputs (".\\\" Generated at build time by ctl_docgen from the worker's --help and\n"
           ".\\\" common/audit_settings.def: do not edit, change the table.\n.TH ", out);
    ctl_manpage_escape (out, upper, -1);
    fprintf (out, " 1 \"\" \"semafore\\-audit %s\" \"Semafore audit service\"\n"
                  ".nh\n.ad l\n.SH NAME\n",
             version);
    ctl_manpage_escape (out, program, -1);
    fputs (" \\- ", out);
    ctl_manpage_escape (out, purpose, purpose_len);
    fputs ("\n.SH SYNOPSIS\n\\fB", out);
    ctl_manpage_escape (out, program, -1);
    fputs ("\\fR [\\fIOPTIONS\\fR]\n.SH DESCRIPTION\n", out);
    ctl_manpage_escape (out, purpose, purpose_len);
    fputs ("\n.PP\nEach setting comes from its flag, else its environment variable, else its"
           " default. The worker logs to standard error.\n.SH OPTIONS\n", out);
}

static void
s_worker_tail (FILE *out, char *envs)
{
    fputs (".SH ENVIRONMENT\n", out);
    for (char *name = strtok (envs, " "); name; name = strtok (NULL, " ")) {
        const s_setting_t *row = s_setting_by (NULL, name, strlen (name));
        fprintf (out, ".TP\n\\fB%s\\fR\n", name);
        if (strcmp (row->kind, "ENV") == 0)
            ctl_manpage_escape (out, row->help, -1);
        else {
            fputs ("the setting of \\fB\\-\\-", out);
            ctl_manpage_escape (out, row->flag, -1);
            fputs ("\\fR", out);
        }
        fputs (".\n", out);
    }
    fputs (".SH SIGNALS\nSIGTERM or SIGINT: finish what it holds, then exit 0. SIGHUP: re\\-read"
           " what may change while it runs (key directories, the JWT secret), never stop.\n"
           ".SH EXIT STATUS\n0 after a clean stop, \\-\\-help or \\-\\-version; 1 when it cannot"
           " start (one line says why); 2 after a bad setting.\n" s_SEE_ALSO, out);
}

int
ctl_manpage_worker (FILE *out, const char *help, const char *version)
{
    if (strncmp (help, "Usage: ", 7) != 0)
        return -1;
    size_t name_len = strcspn (help + 7, " \n");
    const char *purpose = strchr (help, '\n');
    if (!purpose || name_len == 0 || name_len >= 64)
        return -1;
    char name [64];
    snprintf (name, sizeof name, "%.*s", (int) name_len, help + 7);
    purpose++;
    int purpose_len = (int) strcspn (purpose, "\n");
    s_worker_head (out, name, purpose, purpose_len, version);
    char envs [2048] = "";
    for (const char *line = purpose + purpose_len; *line; ) {
        line += *line == '\n';
        size_t len = strcspn (line, "\n");
        s_help_line (out, line, len, envs, sizeof envs);
        line += len;
    }
    s_worker_tail (out, envs);
    return ferror (out) ? -1 : 0;
}
