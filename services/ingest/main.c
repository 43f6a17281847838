/*  =========================================================================
    audit-ingest - validates and stores every event published to it

    Thin, like Malamute's main: read the configuration, start the actor,
    wait for SIGTERM or SIGINT (or the actor's end), stop it, exit.
    ========================================================================= */

#include <czmq.h>

#include "audit_config.h"
#include "audit_log.h"
#include "audit_signals.h"
#include "ingest_actor.h"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_INGEST_ENDPOINT, AUDIT_SET_DATA_DIR, AUDIT_SET_INGEST_HWM,
    AUDIT_SET_INGEST_BATCH, AUDIT_SET_INGEST_FLUSH_MS, AUDIT_SET_LOG_LEVEL
};

static int
s_configure (audit_config_t *config, int argc, char **argv, ingest_options_t *options)
{
    int rc = audit_config_startup (config, argc, argv, "audit-ingest", "ingest",
        "Validates the audit, ops and mq events published to it and stores them.",
        s_settings, sizeof s_settings / sizeof s_settings [0]);
    if (rc >= 0)
        return rc;
    options->endpoint = audit_config_str (config, AUDIT_SET_INGEST_ENDPOINT);
    options->data_dir = audit_config_str (config, AUDIT_SET_DATA_DIR);
    options->rcvhwm = (int) audit_config_uint (config, AUDIT_SET_INGEST_HWM);
    options->batch_size = audit_config_uint (config, AUDIT_SET_INGEST_BATCH);
    options->flush_ms = (int) audit_config_uint (config, AUDIT_SET_INGEST_FLUSH_MS);
    return -1;
}

int
main (int argc, char **argv)
{
    static audit_config_t config;
    ingest_options_t options;
    int rc = s_configure (&config, argc, argv, &options);
    if (rc >= 0)
        return rc;
    int signal_fd = audit_signals_block ();
    zactor_t *actor = ingest_actor_new (&options);
    //  The actor has logged the one-line reason when it cannot start
    if (!actor || ingest_actor_start (actor) != 0) {
        zactor_destroy (&actor);
        return 1;
    }
    int signo = audit_signals_wait (signal_fd, actor, -1);
    audit_log_info ("msg=stopping signal=%d", signo);
    zactor_destroy (&actor);
    audit_log_info ("msg=stopped");
    close (signal_fd);
    return 0;
}
