/*  =========================================================================
    audit_worker - the one shape of every worker's main
    ========================================================================= */

#include "audit_worker.h"
#include "audit_memguard.h"

#include "audit_actor.h"
#include "audit_log.h"
#include "audit_signals.h"
#include "audit_store.h"

#include <signal.h>
#include <sys/stat.h>

int
audit_worker_reload (zactor_t *actor, const audit_config_t *config)
{
    (void) config;
    return audit_actor_ask (actor, "RELOAD");
}

//  SIGHUP: what the worker reads at start and may change while it runs
static void
s_reload (zactor_t *actor, audit_worker_reload_fn *reload, const audit_config_t *config)
{
    if (!reload)
        audit_log_info ("msg=reload signal=%d note=\"nothing to re-read\"", SIGHUP);
    else
    if (reload (actor, config) == 0)
        audit_log_info ("msg=reloaded signal=%d", SIGHUP);
    else
        audit_log_warn ("msg=reload_failed signal=%d note=\"what was there before stays\"", SIGHUP);
}

//  Until a signal that stops, or until the actor says anything on its own
int
audit_worker_wait (zactor_t *actor, int signal_fd, audit_worker_reload_fn *reload,
                   const audit_config_t *config)
{
    int signo;
    while ((signo = audit_signals_wait (signal_fd, actor, -1)) == SIGHUP)
        s_reload (actor, reload, config);
    audit_log_info ("msg=stopping signal=%d", signo);
    return 0;
}

int
audit_worker_curve (const audit_config_t *config, audit_curve_t **curve)
{
    const char *path = audit_config_str (config, AUDIT_SET_CURVE_SECRET_FILE);
    char reason [512];
    *curve = NULL;
    if (*path && !(*curve = audit_curve_server_new (path, reason, sizeof reason))) {
        audit_log_error ("msg=cannot_start reason=\"%s\"", reason);
        return -1;
    }
    if (*curve)
        audit_log_info ("msg=curve server_key=%s", audit_curve_public_txt (*curve));
    else
    if (audit_config_uint (config, AUDIT_SET_ALLOW_PLAINTEXT))
        audit_log_warn ("msg=plaintext reason=\"AUDIT_ALLOW_PLAINTEXT=1 without CURVE: events and"
                        " tokens cross the network in clear\"");
    return 0;
}

//  A query worker or janitor on a directory with no store would serve an
//  empty log and the default retention as if all were well. Workers
//  started together (compose, scripts/run) give the ingest worker
//  AUDIT_WORKER_STORE_WAIT_MS to create it. A directory that is not one
//  is left to the store's own, more precise, refusal.
static bool
s_store_present (const audit_worker_t *worker, const audit_config_t *config)
{
    const char *location = audit_worker_store (config);
    bool database = audit_store_is_url (location);
    struct stat info;
    if (!worker->needs_store
    ||  (!database && stat (location, &info) == 0 && !S_ISDIR (info.st_mode)))
        return true;
    int64_t deadline = zclock_mono () + AUDIT_WORKER_STORE_WAIT_MS;
    while (!audit_store_exists (location)) {
        if (zclock_mono () >= deadline) {
            //  Never the URL itself: it may hold a password
            audit_log_error ("msg=cannot_start reason=\"no audit store in the %s\""
                             " data_dir=%s hint=\"start audit-ingest first (it creates the"
                             " store), or correct %s\"", database? "database": "data directory",
                             database? "-": location,
                             database? "AUDIT_DATABASE_URL": "AUDIT_DATA_DIR");
            return false;
        }
        zclock_sleep (50);
    }
    return true;
}

const char *
audit_worker_store (const audit_config_t *config)
{
    const char *url = audit_config_str (config, AUDIT_SET_DATABASE_URL);
    return url && *url? url: audit_config_str (config, AUDIT_SET_DATA_DIR);
}

//  The started actor, or NULL when it did not start (the reason is logged)
static zactor_t *
s_start (const audit_worker_t *worker, const audit_config_t *config)
{
    if (!s_store_present (worker, config))
        return NULL;
    zactor_t *actor = worker->actor_new (config);
    if (actor && audit_actor_ask (actor, "START") != 0)
        zactor_destroy (&actor);
    return actor;
}

int
audit_worker_main (const audit_worker_t *worker, int argc, char **argv)
{
    //  Static: the values are large, and the actor's options point into them
    static audit_config_t config;
    int rc = audit_config_startup (&config, argc, argv, worker->program, worker->service,
                                   worker->purpose, worker->settings, worker->settings_count);
    if (rc >= 0)
        return rc;
    //  Before any thread starts, so that every thread inherits the mask
    int signal_fd = audit_signals_block ();
    if (signal_fd < 0) {
        audit_log_error ("msg=cannot_start reason=\"signals cannot be blocked\"");
        return 1;
    }
    //  Before any thread allocates: what a dropped connection held goes
    //  back to the kernel (audit_memguard)
    audit_memguard_tune_malloc ();
    zactor_t *actor = s_start (worker, &config);
    bool started = actor != NULL;
    rc = 1;
    if (started)
        rc = worker->run ? worker->run (actor, signal_fd, &config)
                         : audit_worker_wait (actor, signal_fd, worker->reload, &config);
    zactor_destroy (&actor);
    if (worker->release)
        worker->release ();
    if (started)
        audit_log_info ("msg=stopped");
    close (signal_fd);
    return rc;
}
