/*  =========================================================================
    ctl_query - the subcommands that ask the query worker and show the
    answer: list, ops, retention get|set, stats, catalog, health, mq
    fetch|ack. (export has its own module: it writes a file.)
    ========================================================================= */

#ifndef CTL_QUERY_H_INCLUDED
#define CTL_QUERY_H_INCLUDED

#include <stdio.h>

#include "ctl_args.h"
#include "ctl_client.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Run args' command over client, printing to out (tables or JSON lines)
//  and notes (the next cursor) to err. Returns an exit code.
int
    ctl_query_run (const ctl_args_t *args, ctl_client_t *client, FILE *out, FILE *err);

//  Copy the reply's next_cursor into *cursor_p (heap; NULL when nil).
//  0, or -1 when it is neither a str nor nil.
int
    ctl_query_next_cursor (const ctl_reply_t *reply, char **cursor_p);

#ifdef __cplusplus
}
#endif

#endif
