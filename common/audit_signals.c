/*  =========================================================================
    audit_signals - how a worker's main waits for SIGTERM and SIGINT
    ========================================================================= */

#include "audit_signals.h"

#include <signal.h>
#include <sys/signalfd.h>

int
audit_signals_block (void)
{
    //  CZMQ's own handler would set zsys_interrupted and end every poller
    zsys_handler_set (NULL);
    sigset_t signals;
    sigemptyset (&signals);
    sigaddset (&signals, SIGTERM);
    sigaddset (&signals, SIGINT);
    //  Read, not taken: its default action would end the worker
    sigaddset (&signals, SIGHUP);
    if (pthread_sigmask (SIG_BLOCK, &signals, NULL) != 0)
        return -1;
    return signalfd (-1, &signals, SFD_CLOEXEC);
}

int
audit_signals_wait (int signal_fd, zactor_t *actor, int timeout_ms)
{
    zmq_pollitem_t items [] = {
        { actor ? zsock_resolve (actor) : NULL, 0, ZMQ_POLLIN, 0 },
        { NULL, signal_fd, ZMQ_POLLIN, 0 }
    };
    zmq_pollitem_t *first = actor ? items : items + 1;
    int count = actor ? 2 : 1;
    int rc;
    while ((rc = zmq_poll (first, count, timeout_ms)) == -1 && zmq_errno () == EINTR)
        ;
    if (rc == -1)
        return -1;
    if (items [1].revents & ZMQ_POLLIN) {
        struct signalfd_siginfo info;
        if (read (signal_fd, &info, sizeof info) == (ssize_t) sizeof info)
            return (int) info.ssi_signo;
    }
    return 0;
}
