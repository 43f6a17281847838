/*  =========================================================================
    audit-ingest - validates and stores every event published to it

    Thin, like Malamute's main: the settings it reads and how they make
    its actor; audit_worker runs the rest.
    ========================================================================= */

#include "audit_worker.h"
#include "ingest_actor.h"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_INGEST_ENDPOINT, AUDIT_SET_ACK_ENDPOINT, AUDIT_SET_DATA_DIR, AUDIT_SET_INGEST_HWM,
    AUDIT_SET_INGEST_BATCH, AUDIT_SET_INGEST_FLUSH_MS, AUDIT_SET_LOG_LEVEL
};

static zactor_t *
s_actor_new (const audit_config_t *config)
{
    ingest_options_t options = {
        .endpoint = audit_config_str (config, AUDIT_SET_INGEST_ENDPOINT),
        .ack_endpoint = audit_config_str (config, AUDIT_SET_ACK_ENDPOINT),
        .data_dir = audit_config_str (config, AUDIT_SET_DATA_DIR),
        .rcvhwm = (int) audit_config_uint (config, AUDIT_SET_INGEST_HWM),
        .batch_size = audit_config_uint (config, AUDIT_SET_INGEST_BATCH),
        .flush_ms = (int) audit_config_uint (config, AUDIT_SET_INGEST_FLUSH_MS)
    };
    return ingest_actor_new (&options);
}

static const audit_worker_t s_worker = {
    .program = "audit-ingest", .service = "ingest",
    .purpose = "Validates the audit, ops and mq events published to it and stores them.",
    AUDIT_WORKER_SETTINGS (s_settings),
    .actor_new = s_actor_new
};

int
main (int argc, char **argv)
{
    return audit_worker_main (&s_worker, argc, argv);
}
