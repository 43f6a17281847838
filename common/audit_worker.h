/*  =========================================================================
    audit_worker - the one shape of every worker's main

    Like Malamute's main, and written once: read the settings the worker
    names, start logging, block the signals, start its actor (new, then
    START), wait for SIGTERM or SIGINT or the actor's end (SIGHUP makes
    the actor RELOAD and never stops it), destroy in
    reverse order, exit. A worker's main.c is its descriptor and a call.

    Exit status: 0 after a clean stop or --help, 2 after a bad setting, 1
    when the worker cannot start (one line, logged where it failed, says
    why), else what the descriptor's run returns.
    ========================================================================= */

#ifndef AUDIT_WORKER_H_INCLUDED
#define AUDIT_WORKER_H_INCLUDED

#include <czmq.h>

#include "audit_config.h"
#include "audit_curve.h"

#ifdef __cplusplus
extern "C" {
#endif

//  How long a worker that needs the store waits for the ingest worker to
//  create it before it refuses to start
#define AUDIT_WORKER_STORE_WAIT_MS  5000

//  What SIGHUP does in a worker: re-read what it may change while it runs
//  (key directories, the JWT secret) and log what changed; 0, or -1 when
//  something could not be re-read (what was there before stays)
typedef int (audit_worker_reload_fn) (zactor_t *actor, const audit_config_t *config);

typedef struct {
    const char *program;            //  "audit-ingest": heads --help and refusals
    const char *service;            //  "ingest": the svc of every log line
    const char *purpose;            //  one line of --help
    const audit_setting_t *settings;    //  what it reads; LOG_LEVEL among them
    size_t settings_count;
    //  true: start only on a data directory that holds the store, which
    //  the ingest worker creates (the query worker and the janitor); one
    //  started with it waits up to AUDIT_WORKER_STORE_WAIT_MS for it
    bool needs_store;
    //  The actor, made from the settings but not yet started, or NULL
    //  with the reason logged. config outlives the actor.
    zactor_t *(*actor_new) (const audit_config_t *config);
    //  What main does once the actor has started, returning the exit
    //  status; NULL: wait for a signal or the actor's end, then 0.
    int (*run) (zactor_t *actor, int signal_fd, const audit_config_t *config);
    //  Frees what actor_new made beside the actor, after the actor is
    //  destroyed, whether or not it started; may be NULL.
    void (*release) (void);
    //  SIGHUP; NULL: the worker has nothing to re-read, SIGHUP is only
    //  logged. audit_worker_reload sends the actor RELOAD.
    audit_worker_reload_fn *reload;
} audit_worker_t;

//  A descriptor's settings fields, from the array of the settings it reads
#define AUDIT_WORKER_SETTINGS(array) \
    .settings = (array), .settings_count = sizeof (array) / sizeof (array) [0]

//  The default run: wait for SIGTERM, SIGINT or the actor's end, log it;
//  0. On each SIGHUP in between, run reload (may be NULL) and go on.
int
    audit_worker_wait (zactor_t *actor, int signal_fd, audit_worker_reload_fn *reload,
                       const audit_config_t *config);

//  A reload: ask the actor to RELOAD; it answers "i" 0 or -1.
int
    audit_worker_reload (zactor_t *actor, const audit_config_t *config);

//  The service's CURVE keys from AUDIT_CURVE_SECRET_FILE: 0 and *curve
//  (NULL when it is not set), or -1 with the reason logged. Without
//  CURVE, AUDIT_ALLOW_PLAINTEXT=1 is warned of here, once at start.
int
    audit_worker_curve (const audit_config_t *config, audit_curve_t **curve);

//  Run the worker described by worker: the process's exit status.
//  Where the worker's stores are: AUDIT_DATABASE_URL when set (a
//  PostgreSQL database), else AUDIT_DATA_DIR. Both must be among the
//  worker's settings.
const char *
    audit_worker_store (const audit_config_t *config);

int
    audit_worker_main (const audit_worker_t *worker, int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif
