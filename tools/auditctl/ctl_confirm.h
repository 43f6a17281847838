/*  =========================================================================
    ctl_confirm - the question auditctl asks before retention set deletes

    A shorter retention deletes at the next janitor pass every event older
    than the new limit, which no one can undo. On a terminal, and unless
    --yes, auditctl counts those events (list with `to` at the cut) and
    asks. A script (no terminal) is not asked: it said what it meant.
    ========================================================================= */

#ifndef CTL_CONFIRM_H_INCLUDED
#define CTL_CONFIRM_H_INCLUDED

#include <stdio.h>

#include "ctl_args.h"
#include "ctl_client.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Counting stops here and says "more than": the question needs the
//  order of magnitude, not a scan of a whole year
#define CTL_CONFIRM_COUNT_MAX   1000000

//  Whether retention set is asked about: a terminal on both in and out,
//  and no --yes
bool
    ctl_confirm_wanted (const ctl_args_t *args, int in_fd, int out_fd);

//  Ask about args' retention set: say on out how many events the next
//  pass deletes, read the answer from in. CTL_EXIT_OK to go on (a "y" or
//  "yes", or nothing is deleted), CTL_EXIT_REFUSED with "not changed"
//  said, or the exit code of a request that failed.
int
    ctl_confirm_retention (const ctl_args_t *args, ctl_client_t *client, FILE *in, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
