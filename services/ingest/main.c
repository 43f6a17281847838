/*  =========================================================================
    audit-ingest - validates and stores every event published to it

    Thin, like Malamute's main: the settings it reads and how they make
    its actor; audit_worker runs the rest. Its run asks the actor to stop
    before it is destroyed, so that the exit status can say whether
    anything held was not stored: 3 then (the disk stayed full, or the
    stop took longer than s_STOP_WAIT_MS), each record of it
    unacknowledged, so that its producer resends it.
    ========================================================================= */

#include <unistd.h>

#include "audit_log.h"
#include "audit_logsign.h"
#include "audit_worker.h"
#include "ingest_actor.h"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_INGEST_ENDPOINT, AUDIT_SET_ACK_ENDPOINT, AUDIT_SET_DATA_DIR, AUDIT_SET_DATABASE_URL, AUDIT_SET_INGEST_HWM,
    AUDIT_SET_MAX_CONNECTIONS, AUDIT_SET_MEMORY_GUARD_MIB, AUDIT_SET_INGEST_BATCH, AUDIT_SET_INGEST_FLUSH_MS, AUDIT_SET_CURVE_SECRET_FILE,
    AUDIT_SET_PRODUCER_KEYS_DIR, AUDIT_SET_ALLOW_PLAINTEXT, AUDIT_SET_SIGNING_KEY_FILE,
    AUDIT_SET_CHECKPOINT_INTERVAL, AUDIT_SET_LOG_LEVEL
};

static audit_curve_t *s_curve;
static audit_signer_t *s_signer;

static zactor_t *
s_actor_new (const audit_config_t *config)
{
    if (audit_worker_curve (config, &s_curve) != 0)
        return NULL;
    const char *keys_dir = audit_config_str (config, AUDIT_SET_PRODUCER_KEYS_DIR);
    if (s_curve && !*keys_dir) {
        audit_log_error ("msg=cannot_start reason=\"CURVE needs AUDIT_PRODUCER_KEYS_DIR, the producers'"
                         " certificates\"");
        return NULL;
    }
    //  Created here on first start, so that the query worker and the
    //  janitor find it (whichever starts first creates it)
    if (!(s_signer = audit_logsign_signer (audit_config_str (config, AUDIT_SET_SIGNING_KEY_FILE))))
        return NULL;
    ingest_options_t options = {
        .endpoint = audit_config_str (config, AUDIT_SET_INGEST_ENDPOINT),
        .ack_endpoint = audit_config_str (config, AUDIT_SET_ACK_ENDPOINT),
        .data_dir = audit_worker_store (config),
        .rcvhwm = (int) audit_config_uint (config, AUDIT_SET_INGEST_HWM),
        .max_connections = audit_config_uint (config, AUDIT_SET_MAX_CONNECTIONS),
        .memory_guard = audit_config_uint (config, AUDIT_SET_MEMORY_GUARD_MIB) << 20,
        .batch_size = audit_config_uint (config, AUDIT_SET_INGEST_BATCH),
        .flush_ms = (int) audit_config_uint (config, AUDIT_SET_INGEST_FLUSH_MS),
        .curve = s_curve, .producer_keys_dir = keys_dir,
        .allow_plaintext = audit_config_uint (config, AUDIT_SET_ALLOW_PLAINTEXT) == 1,
        .signer = s_signer,
        .checkpoint_interval_ms = (int) audit_config_uint (config, AUDIT_SET_CHECKPOINT_INTERVAL) * 1000
    };
    return ingest_actor_new (&options);
}

//  Longer than the actor's own wait for the writer, within a container's
//  10 s grace period
#define s_STOP_WAIT_MS  8000
#define s_EXIT_UNSTORED 3

static int
s_run (zactor_t *actor, int signal_fd, const audit_config_t *config)
{
    audit_worker_wait (actor, signal_fd, audit_worker_reload, config);
    uint64_t unstored = 0;
    zstr_send (actor, "STOP");
    zsock_set_rcvtimeo (actor, s_STOP_WAIT_MS);
    if (zsock_recv (actor, "8", &unstored) != 0) {
        //  The actor and its writer are still running: destroying them, or
        //  the keys they use, or the context at exit, under them would
        //  crash the process (seen: an abort in a socket made after the
        //  context ended). Leave as a crash would, which the store is
        //  built for: a transaction not committed is not there, and what
        //  it held was never acknowledged, so its producers resend it.
        audit_log_error ("msg=stop_timed_out wait_ms=%d exit=%d", s_STOP_WAIT_MS,
                         s_EXIT_UNSTORED);
        _exit (s_EXIT_UNSTORED);
    }
    return unstored > 0? s_EXIT_UNSTORED: 0;
}

//  After the actor, whose sockets hold the keys to the end
static void
s_release (void)
{
    audit_curve_destroy (&s_curve);
    audit_signer_destroy (&s_signer);
}

static const audit_worker_t s_worker = {
    .program = "audit-ingest", .service = "ingest",
    .purpose = "Validates the audit, ops and mq events published to it and stores them.",
    AUDIT_WORKER_SETTINGS (s_settings),
    .actor_new = s_actor_new, .run = s_run, .release = s_release,
    .reload = audit_worker_reload
};

int
main (int argc, char **argv)
{
    return audit_worker_main (&s_worker, argc, argv);
}
