/*  =========================================================================
    audit-janitor - enforces retention: per-organisation audit retention,
    30 days of operational records, 7 days of undelivered messages

    Thin, like Malamute's main: read the configuration, start the actor,
    then either wait for SIGTERM or SIGINT while passes run on the timer,
    or (--once) run one full pass and exit 0 when it completed.
    ========================================================================= */

#include <czmq.h>

#include "audit_config.h"
#include "audit_log.h"
#include "audit_signals.h"
#include "janitor_actor.h"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_DATA_DIR, AUDIT_SET_JANITOR_INTERVAL, AUDIT_SET_ONCE, AUDIT_SET_LOG_LEVEL
};

//  -1 to go on, else the exit code
static int
s_configure (audit_config_t *config, int argc, char **argv, janitor_options_t *options)
{
    int rc = audit_config_startup (config, argc, argv, "audit-janitor", "janitor",
        "Deletes what retention says must go, in short batches, and gives the space back.",
        s_settings, sizeof s_settings / sizeof s_settings [0]);
    if (rc >= 0)
        return rc;
    options->data_dir = audit_config_str (config, AUDIT_SET_DATA_DIR);
    options->interval_s = (int) audit_config_uint (config, AUDIT_SET_JANITOR_INTERVAL);
    options->once = audit_config_flag (config, AUDIT_SET_ONCE);
    return -1;
}

//  --once: the pass runs in the actor while main still hears signals
static int
s_run_once (zactor_t *actor, int signal_fd)
{
    int rc = -1;
    zstr_send (actor, "ONCE");
    int signo = audit_signals_wait (signal_fd, actor, -1);
    if (signo == 0 && zsock_recv (actor, "i", &rc) == 0 && rc == 0)
        return 0;
    audit_log_error ("msg=\"pass not completed\" signal=%d outcome=%d", signo, rc);
    return 1;
}

int
main (int argc, char **argv)
{
    static audit_config_t config;
    janitor_options_t options;
    int rc = s_configure (&config, argc, argv, &options);
    if (rc >= 0)
        return rc;
    int signal_fd = audit_signals_block ();
    zactor_t *actor = signal_fd < 0? NULL: janitor_actor_new (&options);
    if (!actor)
        audit_log_error ("msg=cannot_start reason=\"%s\"",
                         signal_fd < 0? "signals cannot be blocked": "out of memory");
    //  A start that fails has logged its one-line reason itself
    if (!actor || janitor_actor_start (actor) != 0) {
        zactor_destroy (&actor);
        return 1;
    }
    if (options.once)
        rc = s_run_once (actor, signal_fd);
    else {
        int signo = audit_signals_wait (signal_fd, actor, -1);
        audit_log_info ("msg=stopping signal=%d", signo);
        rc = 0;
    }
    zactor_destroy (&actor);
    audit_log_info ("msg=stopped");
    close (signal_fd);
    return rc;
}
