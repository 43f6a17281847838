/*  =========================================================================
    audit-janitor - enforces retention: per-organisation audit retention,
    30 days of operational records, 7 days of undelivered messages

    Thin, like Malamute's main: the settings it reads, how they make its
    actor, and --once; audit_worker runs the rest. Passes run on the
    timer until SIGTERM or SIGINT, or (--once) one full pass runs and the
    exit status says whether it completed.
    ========================================================================= */

#include <signal.h>

#include "audit_log.h"
#include "audit_signals.h"
#include "audit_worker.h"
#include "janitor_actor.h"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_DATA_DIR, AUDIT_SET_DATABASE_URL, AUDIT_SET_JANITOR_INTERVAL, AUDIT_SET_ONCE, AUDIT_SET_SIGNING_KEY_FILE,
    AUDIT_SET_LOG_LEVEL
};

static zactor_t *
s_actor_new (const audit_config_t *config)
{
    janitor_options_t options = {
        .data_dir = audit_worker_store (config),
        .interval_s = (int) audit_config_uint (config, AUDIT_SET_JANITOR_INTERVAL),
        .once = audit_config_flag (config, AUDIT_SET_ONCE),
        .signing_key_file = audit_config_str (config, AUDIT_SET_SIGNING_KEY_FILE)
    };
    return janitor_actor_new (&options);
}

//  --once: the pass runs in the actor while main still hears signals
static int
s_run_once (zactor_t *actor, int signal_fd)
{
    int rc = -1;
    zstr_send (actor, "ONCE");
    int signo;
    while ((signo = audit_signals_wait (signal_fd, actor, -1)) == SIGHUP)
        audit_log_info ("msg=reload signal=%d note=\"nothing to re-read\"", signo);
    if (signo == 0 && zsock_recv (actor, "i", &rc) == 0 && rc == 0)
        return 0;
    audit_log_error ("msg=\"pass not completed\" signal=%d outcome=%d", signo, rc);
    return 1;
}

static int
s_run (zactor_t *actor, int signal_fd, const audit_config_t *config)
{
    if (audit_config_flag (config, AUDIT_SET_ONCE))
        return s_run_once (actor, signal_fd);
    return audit_worker_wait (actor, signal_fd, NULL, config);
}

static const audit_worker_t s_worker = {
    .program = "audit-janitor", .service = "janitor",
    .purpose = "Deletes what retention says must go, in short batches, and gives the space back.",
    AUDIT_WORKER_SETTINGS (s_settings),
    .needs_store = true,
    .actor_new = s_actor_new, .run = s_run
};

int
main (int argc, char **argv)
{
    return audit_worker_main (&s_worker, argc, argv);
}
