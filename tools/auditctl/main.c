/*  =========================================================================
    auditctl - the command-line client of the Semafore audit service

    Thin: parse the command line, connect where the command needs to, run
    the command, exit with its code (0 ok, 1 refused, 2 usage, 3 no
    answer). Each command lives in its own module.
    ========================================================================= */

#include <czmq.h>
#include <unistd.h>

#include "ctl_args.h"
#include "ctl_client.h"
#include "ctl_confirm.h"
#include "ctl_export.h"
#include "ctl_keygen.h"
#include "ctl_migrate.h"
#include "ctl_publish.h"
#include "ctl_query.h"
#include "ctl_tail.h"
#include "ctl_token.h"
#include "ctl_whoami.h"
#include "ctl_verify.h"

//  export --proof: the bundle of the export just written, whose final
//  chunk carried note
static int
s_export_proof (const ctl_args_t *args, ctl_client_t *client, const char *note)
{
    if (!note) {
        fprintf (stderr, "error: bad_reply: the final export chunk carries no checkpoint\n");
        return CTL_EXIT_REFUSED;
    }
    ctl_logfetch_t fetch = { client, args->token, args->text [CTL_OPT_ORG] };
    const char *old = args->given [CTL_OPT_CHECKPOINT]? args->text [CTL_OPT_CHECKPOINT]: NULL;
    int rc = ctl_verify_make_bundle (&fetch, args->text [CTL_OPT_OUTPUT], note, old,
                                     args->text [CTL_OPT_PROOF], stdout);
    if (rc == CTL_EXIT_OK && !args->json)
        printf ("proof bundle written to %s\n", args->text [CTL_OPT_PROOF]);
    return rc;
}

static int
s_export (const ctl_args_t *args, ctl_client_t *client)
{
    uint64_t rows;
    const char *path = args->text [CTL_OPT_OUTPUT];
    //  A progress line is for a person watching, not for a log file
    FILE *progress = isatty (STDERR_FILENO) ? stderr : NULL;
    bool proof = args->given [CTL_OPT_PROOF];
    if ((proof && strcmp (path, "-") == 0) || (!proof && args->given [CTL_OPT_CHECKPOINT])) {
        fprintf (stderr, "auditctl: export --proof needs a file (-o FILE), not standard output;"
                 " --checkpoint goes with --proof\n");
        return CTL_EXIT_USAGE;
    }
    char *note = NULL;
    int rc = ctl_export_run_signed (client, args->request, path, progress, &rows, &note);
    //  With -o - standard output is the CSV itself: the summary goes beside it
    if (rc == CTL_EXIT_OK)
        ctl_export_summary (strcmp (path, "-") == 0 ? stderr : stdout, path, rows, args->json);
    if (rc == CTL_EXIT_OK && proof)
        rc = s_export_proof (args, client, note);
    free (note);
    return rc;
}

//  retention set: asked about first on a terminal (ctl_confirm)
static int
s_retention_set (const ctl_args_t *args, ctl_client_t *client)
{
    int rc = CTL_EXIT_OK;
    if (ctl_confirm_wanted (args, STDIN_FILENO, STDERR_FILENO))
        rc = ctl_confirm_retention (args, client, stdin, stderr);
    return rc == CTL_EXIT_OK? ctl_query_run (args, client, stdout, stderr): rc;
}

static int
s_run (const ctl_args_t *args)
{
    if (args->command == CTL_COMMAND_TOKEN)
        return ctl_token_run (args);
    if (args->command == CTL_COMMAND_PUBLISH)
        return ctl_publish_run (args);
    if (args->command == CTL_COMMAND_KEYGEN)
        return ctl_keygen_run (args);
    if (args->command == CTL_COMMAND_WHOAMI)
        return ctl_whoami_run (args);
    if (args->command == CTL_COMMAND_VERIFY)
        return ctl_verify_run (args);
    if (args->command == CTL_COMMAND_MIGRATE)
        return ctl_migrate_run (args->text [CTL_OPT_FROM_DIR], args->text [CTL_OPT_TO_URL],
                                args->given [CTL_OPT_BATCH]? args->number [CTL_OPT_BATCH]: 0,
                                stdout);
    ctl_client_t *client = ctl_client_new (args->endpoint, args->timeout_ms);
    if (!client)
        return CTL_EXIT_USAGE;
    ctl_client_set_json (client, args->json);
    int rc = args->command == CTL_COMMAND_EXPORT ? s_export (args, client)
           : args->command == CTL_COMMAND_TAIL ? ctl_tail_run (args, client, stdout)
           : args->command == CTL_COMMAND_RETENTION_SET ? s_retention_set (args, client)
           : ctl_query_run (args, client, stdout, stderr);
    ctl_client_destroy (&client);
    return rc;
}

int
main (int argc, char **argv)
{
    ctl_args_t args;
    ctl_args_result_t parsed = ctl_args_parse (&args, argc, argv);
    int rc = parsed == CTL_ARGS_OK ? s_run (&args)
           : parsed == CTL_ARGS_HELP ? CTL_EXIT_OK : CTL_EXIT_USAGE;
    ctl_args_destroy (&args);
    fflush (stdout);
    return ferror (stdout) && rc == CTL_EXIT_OK ? CTL_EXIT_REFUSED : rc;
}
