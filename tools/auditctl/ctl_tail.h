/*  =========================================================================
    ctl_tail - auditctl tail: follow an organisation's log in log_index
    order (contract: "tail"), once or with -f, resumable with --state
    ========================================================================= */

#ifndef CTL_TAIL_H_INCLUDED
#define CTL_TAIL_H_INCLUDED

#include <stdio.h>

#include "ctl_args.h"
#include "ctl_client.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Run tail over client, the events to out (a table or JSON lines).
//  Returns an exit code; an interrupted -f is CTL_EXIT_OK.
int
    ctl_tail_run (const ctl_args_t *args, ctl_client_t *client, FILE *out);

//  The next_index kept in path into *index: 0, 1 when there is no file,
//  -1 when it holds anything but one decimal number (a line end allowed).
int
    ctl_tail_state_read (const char *path, uint64_t *index);

//  Keep index in path: path.tmp written, fsynced and renamed over it. 0 or -1.
int
    ctl_tail_state_write (const char *path, uint64_t index);

#ifdef __cplusplus
}
#endif

#endif
