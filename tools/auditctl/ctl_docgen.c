/*  =========================================================================
    ctl_docgen - the build's documentation generator: prints the bash
    completion of auditctl, auditctl(1), or a worker's man page

        ctl_docgen completion OUT
        ctl_docgen man OUT
        ctl_docgen worker-man PROGRAM OUT     (runs PROGRAM --help)

    CMake runs it after each change of the tables (tools/auditctl/
    CMakeLists.txt), so what is installed always matches the binaries.
    OUT is written as OUT.tmp, then renamed: a failed run leaves no half
    page for the next build to take as done.
    ========================================================================= */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_completion.h"
#include "ctl_manpage.h"

#define s_HELP_MAX (64 * 1024)

//  PROGRAM --help, whole, into a new string; NULL when it failed
static char *
s_help_of (const char *program)
{
    char command [4096];
    if (strchr (program, '\'')
    ||  snprintf (command, sizeof command, "'%s' --help", program) >= (int) sizeof command)
        return NULL;
    FILE *pipe = popen (command, "r");
    char *help = pipe ? calloc (1, s_HELP_MAX) : NULL;
    size_t got = help ? fread (help, 1, s_HELP_MAX - 1, pipe) : 0;
    int status = pipe ? pclose (pipe) : -1;
    if (status != 0 || got == 0 || got == s_HELP_MAX - 1) {
        fprintf (stderr, "ctl_docgen: '%s --help' failed (status %d)\n", program, status);
        free (help);
        return NULL;
    }
    return help;
}

static int
s_write (const char *what, const char *program, FILE *out)
{
    if (strcmp (what, "completion") == 0)
        return ctl_completion_print (out);
    if (strcmp (what, "man") == 0)
        return ctl_manpage_auditctl (out, AUDIT_VERSION);
    char *help = program ? s_help_of (program) : NULL;
    int rc = help ? ctl_manpage_worker (out, help, AUDIT_VERSION) : -1;
    if (help && rc)
        fprintf (stderr, "ctl_docgen: '%s --help' is not a worker's help\n", program);
    free (help);
    return rc;
}

int
main (int argc, char **argv)
{
    bool worker = argc == 4 && strcmp (argv [1], "worker-man") == 0;
    if (!worker && !(argc == 3 && (strcmp (argv [1], "completion") == 0
                                || strcmp (argv [1], "man") == 0))) {
        fprintf (stderr, "usage: ctl_docgen completion|man OUT | worker-man PROGRAM OUT\n");
        return 2;
    }
    const char *path = argv [argc - 1];
    char tmp [4096];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    FILE *out = fopen (tmp, "w");
    int rc = out ? s_write (argv [1], worker ? argv [2] : NULL, out) : -1;
    if (out && fclose (out) != 0)
        rc = -1;
    if (rc == 0 && rename (tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf (stderr, "ctl_docgen: %s not written\n", path);
        remove (tmp);
        return 1;
    }
    return 0;
}
