/*  =========================================================================
    janitor_actor - runs retention passes on a timer, or one full pass

    Shaped like CZMQ's zmonitor: a private self_t, a zpoller loop over the
    pipe that ends on $TERM, and the passes run in between with the pipe
    as their stop signal.
    ========================================================================= */

#include "janitor_actor.h"
#include "janitor_pass.h"

#include "audit_actor.h"
#include "audit_log.h"
#include "audit_reserve.h"
#include "audit_logsign.h"
#include "audit_store_space.h"
#include "audit_store_workers.h"
#include "audit_store.h"
#include "audit_time.h"

typedef struct {
    zsock_t *pipe;
    zpoller_t *poller;
    char *data_dir;
    int interval_s;
    bool once;
    audit_store_t *store;
    janitor_pass_t *pass;
    int64_t next_pass_ms;           //  monotonic; 0 while there is no timer
    bool standby;                   //  the last pass was skipped: another janitor's turn
    bool terminated;
    char *signing_key_file;
    audit_signer_t *signer;         //  NULL: purges are not followed by checkpoints
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    self_t *self = *self_p;
    if (self) {
        janitor_pass_destroy (&self->pass);
        audit_store_destroy (&self->store);
        audit_signer_destroy (&self->signer);
        free (self->signing_key_file);
        zpoller_destroy (&self->poller);
        free (self->data_dir);
        free (self);
        *self_p = NULL;
    }
}

static self_t *
s_self_new (zsock_t *pipe, const janitor_options_t *options)
{
    self_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->pipe = pipe;
    self->data_dir = strdup (options->data_dir);
    self->interval_s = options->interval_s;
    self->once = options->once;
    self->signing_key_file = strdup (options->signing_key_file? options->signing_key_file: "");
    self->poller = zpoller_new (pipe, NULL);
    if (!self->data_dir || !self->signing_key_file || !self->poller)
        s_self_destroy (&self);
    return self;
}

//  A pass stops early when the pipe has something for us
static bool
s_pipe_waiting (void *arg)
{
    self_t *self = (self_t *) arg;
    return (zsock_events (self->pipe) & ZMQ_POLLIN) != 0;
}

//  The heartbeat the query worker's health reads: "up" while the next one
//  is due within two intervals
static void
s_beat (self_t *self)
{
    if (audit_store_heartbeat (self->store, AUDIT_WORKER_JANITOR, audit_time_now_ms (),
                               (int64_t) self->interval_s * 1000) != 0)
        audit_log_warn ("msg=heartbeat_not_written");
}

static int
s_start (self_t *self)
{
    if (self->store)
        return 0;
    self->store = audit_store_new (self->data_dir, AUDIT_STORE_MAINTAINER);
    if (self->store)
        self->pass = janitor_pass_new (self->store, NULL);
    if (!self->pass) {
        audit_store_destroy (&self->store);
        return -1;
    }
    janitor_pass_set_stop (self->pass, s_pipe_waiting, self);
    //  Retention runs without the key: deleting on time comes first
    if (*self->signing_key_file && !(self->signer = audit_logsign_signer (self->signing_key_file)))
        audit_log_warn ("msg=\"purges are not followed by checkpoints\" reason=no_signing_key");
    if (!self->once) {
        self->next_pass_ms = zclock_mono ();
        s_beat (self);
    }
    char store [512];
    audit_store_redact (self->data_dir, store, sizeof store);
    audit_log_info ("msg=started store=\"%s\" interval_s=%d once=%s", store,
                    self->interval_s, self->once? "yes": "no");
    return 0;
}

//  One janitor at a time (audit_store_maintainer_lock): 1 when this one
//  holds the lock and runs the pass, 0 when another janitor does (said
//  when that starts and when it ends, not every interval), -1 when it
//  cannot be told (the store is down: the pass would fail too)
static int
s_turn (self_t *self)
{
    bool held = false;
    if (audit_store_maintainer_lock (self->store, &held) != 0) {
        audit_log_warn ("msg=\"pass skipped\" reason=\"maintainer lock unknown\"");
        return -1;
    }
    if (!held && !self->standby)
        audit_log_info ("msg=\"pass skipped\" reason=\"another janitor holds the maintainer"
                        " lock\" note=\"%s\"", self->once? "that one runs the passes"
                        : "this one waits, and takes over when that one stops");
    else
    if (!held)
        audit_log_debug ("msg=\"pass skipped\" reason=\"another janitor holds the maintainer"
                         " lock\"");
    else
    if (self->standby)
        audit_log_info ("msg=\"maintainer lock taken\" note=\"the other janitor stopped\"");
    self->standby = !held;
    return held? 1: 0;
}

//  After a pass that deleted events: a checkpoint of the logs that grew
//  since their newest, so that the organisation can show the purge took
//  nothing its checkpoints cover (the hashes stay: the roots do not move).
//  At most JANITOR_ACTOR_SIGN_MAX, in one transaction that holds the write
//  lock: the ingest worker signs the rest within its interval anyway.
static void
s_sign_after (self_t *self, const janitor_report_t *report)
{
    size_t count = 0;
    if (self->signer && report->deleted [AUDIT_DB_AUDIT] > 0
    &&  audit_logsign_due (self->store, self->signer, INT64_MAX, JANITOR_ACTOR_SIGN_MAX,
                           &count) != 0)
        audit_log_error ("msg=checkpoints_not_signed signed=%zu", count);
}

//  On a short disk a pass works in the reserve (audit_reserve.h), made
//  again once the pass has freed room for it
static int
s_once (self_t *self)
{
    if (!self->pass)
        return -1;
    //  Another janitor's pass: this one did not complete one
    int turn = s_turn (self);
    if (turn != 1)
        return turn < 0? -1: 1;
    janitor_report_t report;
    audit_reserve_relieve (self->data_dir, "maintenance");
    int rc = janitor_pass_full (self->pass, audit_time_now_ms (), &report);
    audit_reserve_make (self->data_dir);
    s_sign_after (self, &report);
    return rc;
}

static void
s_handle_pipe (self_t *self)
{
    char *command = zstr_recv (self->pipe);
    if (!command || streq (command, "$TERM"))
        self->terminated = true;
    else
    if (streq (command, "START"))
        zsock_send (self->pipe, "i", s_start (self));
    else
    if (streq (command, "ONCE"))
        zsock_send (self->pipe, "i", s_once (self));
    else
        audit_log_error ("msg=unknown_command");
    zstr_free (&command);
}

static void
s_timer_pass (self_t *self)
{
    //  A standby does not beat: the heartbeat says passes run, and the
    //  janitor that runs them beats
    if (s_turn (self) != 1) {
        self->next_pass_ms = zclock_mono () + (int64_t) self->interval_s * 1000;
        return;
    }
    janitor_report_t report;
    audit_reserve_relieve (self->data_dir, "maintenance");
    int rc = janitor_pass_run (self->pass, audit_time_now_ms (), &report);
    audit_reserve_make (self->data_dir);
    s_sign_after (self, &report);
    s_beat (self);
    //  Expired rows left: soon again. A WAL that readers kept busy, or
    //  space still to give back, waits for the next interval.
    int64_t delay = rc == 1 && !report.purged && !report.stopped? JANITOR_ACTOR_BACKLOG_MS
                  : (int64_t) self->interval_s * 1000;
    self->next_pass_ms = zclock_mono () + delay;
}

//  ms until the next pass, -1 without a timer
static int
s_timeout (self_t *self)
{
    if (!self->next_pass_ms)
        return -1;
    int64_t due = self->next_pass_ms - zclock_mono ();
    return due > 0? (int) due: 0;
}

static void
s_janitor_actor (zsock_t *pipe, void *args)
{
    self_t *self = s_self_new (pipe, (const janitor_options_t *) args);
    if (!self)
        audit_log_error ("msg=cannot_start reason=out_of_memory");
    audit_actor_ready (pipe, self ? 0 : -1);
    if (!self)
        return;
    while (!self->terminated) {
        void *which = zpoller_wait (self->poller, s_timeout (self));
        if (which == pipe)
            s_handle_pipe (self);
        else
        if (zpoller_terminated (self->poller))
            break;
        else
        if (self->next_pass_ms && s_timeout (self) == 0)
            s_timer_pass (self);
    }
    s_self_destroy (&self);
}

zactor_t *
janitor_actor_new (const janitor_options_t *options)
{
    return audit_actor_new (s_janitor_actor, (void *) options);
}
