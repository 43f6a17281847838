/*  =========================================================================
    audit_signals - how a worker's main waits for SIGTERM, SIGINT and
    SIGHUP

    The signals are blocked in every thread (call before starting any) and
    read from a signalfd by main alone, so no worker thread is ever
    interrupted in the middle of a commit or a reply.
    ========================================================================= */

#ifndef AUDIT_SIGNALS_H_INCLUDED
#define AUDIT_SIGNALS_H_INCLUDED

#include <czmq.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Block SIGTERM, SIGINT and SIGHUP and return a descriptor that reads them, or -1.
int
    audit_signals_block (void);

//  Wait until a signal arrives (returns its number) or the actor sends
//  anything on its own, e.g. because it ended (returns 0); with
//  timeout_ms >= 0 also return 0 after that long. -1 on error.
int
    audit_signals_wait (int signal_fd, zactor_t *actor, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
