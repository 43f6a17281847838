/*  The generated bash completion and man pages (ctl_docgen, at build
    time) against the tables they come from: every command and option of
    ctl_commands.def / ctl_options.def is in them, each command completes
    to exactly its own options and the global ones, enumerated values
    complete, bash accepts the script, and each worker's page has every
    setting its --help lists. The expected sets are read from the .def
    files here, not written out, so a new row is checked without an edit. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_proto.h"
#include "ctl_args.h"

#define SHARE_DIR   AUDIT_BIN_DIR "/../share"
#define COMPLETION  SHARE_DIR "/bash-completion/completions/auditctl"
#define MAN1        SHARE_DIR "/man/man1"

typedef struct {
    const char *flag;
    const char *kind;
} s_option_t;

static const s_option_t s_options [CTL_OPT_COUNT] = {
#define CTL_OPTION(NAME, flag, shrt, hint, kind, key, min, max, help) \
    [CTL_OPT_##NAME] = { flag, #kind },
#include "ctl_options.def"
#undef CTL_OPTION
};

#define O(NAME) ((uint64_t) 1 << CTL_OPT_##NAME)

typedef struct {
    const char *words;
    uint64_t options;
    const char *rest;
} s_command_t;

static const s_command_t s_commands [CTL_COMMAND_COUNT] = {
#define CTL_COMMAND(NAME, words, op, endpoint, token, options, required, rest, purpose, notes) \
    [CTL_COMMAND_##NAME] = { words, options, rest },
#include "ctl_commands.def"
#undef CTL_COMMAND
};

static char *
s_read (const char *path)
{
    FILE *file = fopen (path, "r");
    cr_assert_not_null (file, "%s was not generated", path);
    char *text = calloc (1, 1 << 20);
    size_t got = fread (text, 1, (1 << 20) - 1, file);
    fclose (file);
    cr_assert_gt (got, 0u, "%s is empty", path);
    return text;
}

//  The lines a command prints (at most size - 1 bytes), and its status
static int
s_run (const char *command, char *out, size_t size)
{
    FILE *pipe = popen (command, "r");
    cr_assert_not_null (pipe);
    size_t got = fread (out, 1, size - 1, pipe);
    out [got] = 0;
    return pclose (pipe);
}

//  What the completion offers for the words of line (the last word, maybe
//  empty, is the one being completed), sorted, one word a line
static void
s_complete (const char *line, char *out, size_t size)
{
    char command [2048], copy [256];
    size_t used = (size_t) snprintf (command, sizeof command,
        "bash -c 'source \"$0\"; COMP_WORDS=(auditctl \"$@\"); "
        "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _auditctl; "
        "(( ${#COMPREPLY[@]} )) && printf \"%%s\\n\" \"${COMPREPLY[@]}\"' '%s'", COMPLETION);
    snprintf (copy, sizeof copy, "%s", line);
    for (char *word = strtok (copy, " "); word; word = strtok (NULL, " "))
        used += (size_t) snprintf (command + used, sizeof command - used, " '%s'", word);
    if (!*line || line [strlen (line) - 1] == ' ')
        used += (size_t) snprintf (command + used, sizeof command - used, " ''");
    snprintf (command + used, sizeof command - used, " | LC_ALL=C sort");
    cr_assert_eq (s_run (command, out, size), 0, "completing '%s' failed", line);
}

static bool
s_has_line (const char *lines, const char *word)
{
    size_t len = strlen (word);
    for (const char *at = strstr (lines, word); at; at = strstr (at + 1, word))
        if ((at == lines || at [-1] == '\n') && (at [len] == '\n' || at [len] == 0))
            return true;
    return false;
}

static size_t
s_count_lines (const char *lines)
{
    size_t count = 0;
    for (; *lines; lines++)
        count += *lines == '\n';
    return count;
}

static uint64_t
s_globals (void)
{
    uint64_t listed = 0;
    for (int command = 0; command < CTL_COMMAND_COUNT; command++)
        listed |= s_commands [command].options;
    return ((uint64_t) 1 << CTL_OPT_COUNT) - 1 - listed;
}

//  "--order" as troff writes it: \-\-order
static void
s_troff (const char *text, char *out, size_t size)
{
    size_t used = 0;
    for (; *text && used + 3 < size; text++) {
        if (*text == '-')
            out [used++] = '\\';
        out [used++] = *text;
    }
    out [used] = 0;
}

Test (docgen, completion_is_valid_bash)
{
    char out [4096];
    int status = s_run ("bash -n " COMPLETION " 2>&1", out, sizeof out);
    cr_assert_eq (status, 0, "bash -n refuses the completion: %s", out);
}

Test (docgen, completes_commands_and_their_second_words)
{
    char out [8192];
    s_complete ("ret", out, sizeof out);
    cr_assert_str_eq (out, "retention\n");
    s_complete ("--timeout 5 li", out, sizeof out);
    cr_assert_str_eq (out, "list\n", "a global option and its value before the command");
    s_complete ("--", out, sizeof out);
    cr_assert (s_has_line (out, "--version"), "no --version before a command:\n%s", out);
    for (int option = 0; option < CTL_OPT_COUNT; option++) {
        char flag [64];
        snprintf (flag, sizeof flag, "--%s", s_options [option].flag);
        cr_assert_eq (s_has_line (out, flag), (s_globals () >> option) & 1,
                      "before a command, '--' %s %s:\n%s",
                      (s_globals () >> option) & 1 ? "does not offer" : "offers", flag, out);
    }
    for (int command = 0; command < CTL_COMMAND_COUNT; command++) {
        const char *words = s_commands [command].words;
        char first [64], line [128];
        snprintf (first, sizeof first, "%.*s", (int) strcspn (words, " "), words);
        s_complete ("", out, sizeof out);
        cr_assert (s_has_line (out, first), "'%s' is not among the commands:\n%s", first, out);
        if (strchr (words, ' ')) {
            snprintf (line, sizeof line, "%s ", first);
            s_complete (line, out, sizeof out);
            cr_assert (s_has_line (out, strchr (words, ' ') + 1),
                       "'%s' does not complete to %s:\n%s", line, words, out);
        }
    }
}

//  Each command completes "--" to its own options and the global ones, no more
Test (docgen, completes_each_commands_options)
{
    char out [8192], line [128], flag [64];
    for (int command = 0; command < CTL_COMMAND_COUNT; command++) {
        uint64_t allowed = s_commands [command].options | s_globals ();
        snprintf (line, sizeof line, "%s --", s_commands [command].words);
        s_complete (line, out, sizeof out);
        size_t count = 0;
        for (int option = 0; option < CTL_OPT_COUNT; option++) {
            //  Two rows may share a flag in commands apart (migrate's --from
            //  DIR, list's --from T): a flag is wanted when any of its rows is
            bool seen = false, want = false;
            for (int other = 0; other < CTL_OPT_COUNT; other++)
                if (strcmp (s_options [other].flag, s_options [option].flag) == 0) {
                    seen |= other < option;
                    want |= (allowed >> other) & 1;
                }
            if (seen)
                continue;
            snprintf (flag, sizeof flag, "--%s", s_options [option].flag);
            count += want;
            cr_assert_eq (s_has_line (out, flag), want, "'auditctl %s' %s %s:\n%s", line,
                          want ? "does not offer" : "offers", flag, out);
        }
        cr_assert_eq (s_count_lines (out), count, "'auditctl %s' offers:\n%s", line, out);
    }
}

Test (docgen, completes_enumerated_values)
{
    char out [8192];
    s_complete ("list --order ", out, sizeof out);
    cr_assert_str_eq (out, "asc\ndesc\n");
    s_complete ("export --format n", out, sizeof out);
    cr_assert_str_eq (out, "ndjson\n");
    s_complete ("token --role ", out, sizeof out);
    cr_assert (s_has_line (out, "org_admin") && s_has_line (out, "platform_ops"), "%s", out);
    s_complete ("list --type ", out, sizeof out);
    cr_assert_eq (s_count_lines (out), (size_t) AUDIT_EVENT_COUNT, "%s", out);
    cr_assert (s_has_line (out, audit_proto_event_info (0)->name), "%s", out);
    s_complete ("list --category ", out, sizeof out);
    cr_assert_eq (s_count_lines (out), (size_t) AUDIT_CATEGORY_COUNT, "%s", out);
    //  An option's value is not taken for a command
    s_complete ("--endpoint list ", out, sizeof out);
    cr_assert (s_has_line (out, "list"), "after --endpoint VALUE come the commands:\n%s", out);
}

Test (docgen, man_page_has_every_command_and_option)
{
    char *page = s_read (MAN1 "/auditctl.1");
    char want [320], escaped [256];
    cr_assert (strstr (page, ".TH AUDITCTL 1"));
    for (int command = 0; command < CTL_COMMAND_COUNT; command++) {
        snprintf (want, sizeof want, ".SS \"%s\"", s_commands [command].words);
        cr_assert (strstr (page, want), "auditctl.1 has no section %s", want);
    }
    for (int option = 0; option < CTL_OPT_COUNT; option++) {
        snprintf (want, sizeof want, "--%s", s_options [option].flag);
        s_troff (want, escaped, sizeof escaped);
        snprintf (want, sizeof want, "\\fB%s\\fR", escaped);
        cr_assert (strstr (page, want), "auditctl.1 does not describe %s", want);
    }
    free (page);
}

//  Every option line of a worker's --help is in its page: its flag, or
//  its environment variable when it has no flag
static void
s_check_worker (const char *program)
{
    char path [512], help [16384], escaped [128], want [192];
    snprintf (path, sizeof path, "%s/%s.1", MAN1, program);
    char *page = s_read (path);
    snprintf (path, sizeof path, "'%s/%s' --help", AUDIT_BIN_DIR, program);
    cr_assert_eq (s_run (path, help, sizeof help), 0);
    size_t checked = 0;
    for (char *line = strtok (help, "\n"); line; line = strtok (NULL, "\n")) {
        if (strncmp (line, "  --", 4) != 0 && strncmp (line, "  AUDIT_", 8) != 0)
            continue;
        snprintf (want, sizeof want, "%.*s", (int) strcspn (line + 2, " "), line + 2);
        s_troff (want, escaped, sizeof escaped);
        snprintf (want, sizeof want, "\\fB%s\\fR", escaped);
        cr_assert (strstr (page, want), "%s.1 does not describe %s", program, want);
        checked++;
    }
    cr_assert_gt (checked, 3u, "%s --help listed only %zu settings", program, checked);
    cr_assert (strstr (page, "\\fBAUDIT_DATA_DIR\\fR"), "%s.1 has no AUDIT_DATA_DIR", program);
    free (page);
}

Test (docgen, worker_pages_have_every_setting)
{
    s_check_worker ("audit-ingest");
    s_check_worker ("audit-query");
    s_check_worker ("audit-janitor");
}

//  groff (when installed) renders every page without a warning
Test (docgen, pages_render_without_warnings)
{
    char out [4096];
    if (s_run ("command -v groff >/dev/null", out, sizeof out) != 0) {
        cr_skip_test ("groff is not installed");
    }
    const char *pages [] = { "auditctl", "audit-ingest", "audit-query", "audit-janitor" };
    for (size_t index = 0; index < sizeof pages / sizeof pages [0]; index++) {
        char command [512];
        snprintf (command, sizeof command, "groff -man -ww -z '%s/%s.1' 2>&1", MAN1, pages [index]);
        cr_assert_eq (s_run (command, out, sizeof out), 0, "%s", out);
        cr_assert_str_empty (out, "groff warns about %s.1: %s", pages [index], out);
    }
}
