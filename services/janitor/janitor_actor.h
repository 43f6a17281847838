/*  =========================================================================
    janitor_actor - runs retention passes on a timer, or one full pass

    Commands on its pipe:
      START        open the stores (as AUDIT_STORE_MAINTAINER); replies "i"
                   0 on success or -1 (a reason has been logged). Unless
                   the options say once, passes then run on the timer: the
                   first at once, then every interval_s seconds, or after
                   JANITOR_ACTOR_BACKLOG_MS while a pass left expired rows
      ONCE         run one full pass now (janitor_pass_full); replies "i"
                   0 when it completed, 1 when it was stopped or could not
                   finish, -1 on error
      $TERM        stop, after the current batch

    One janitor at a time (audit_store_maintainer_lock): a pass, on the
    timer or ONCE, runs only while this janitor holds the store's
    maintainer lock; else it is skipped (ONCE replies 1: it did not
    complete one), logged when that starts and when this janitor takes
    over, and a skipped timer pass writes no heartbeat.

    A pass asks between batches whether the pipe has a message waiting and
    stops early if so, so $TERM never waits for a whole pass.
    ========================================================================= */

#ifndef JANITOR_ACTOR_H_INCLUDED
#define JANITOR_ACTOR_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Delay before the next pass when the last one ran out of time with work
//  left: the backlog is taken in time boxes, with the lock free between
#define JANITOR_ACTOR_BACKLOG_MS    1000

//  Checkpoints signed after a purge, at most (one write transaction)
#define JANITOR_ACTOR_SIGN_MAX  64

typedef struct {
    const char *data_dir;           //  where the stores live
    int interval_s;                 //  seconds between two passes
    bool once;                      //  no timer: the caller sends ONCE
    const char *signing_key_file;   //  signs checkpoints after a purge; NULL or "": none
} janitor_options_t;

//  Create the actor; the options are copied before this returns. NULL
//  when its thread cannot set up (the reason is logged).
zactor_t *
    janitor_actor_new (const janitor_options_t *options);

#ifdef __cplusplus
}
#endif

#endif
