/*  =========================================================================
    query_tail - the tail op: an organisation's events in log_index order
    from from_index, waiting up to wait_ms for the first (contract: "tail")

    The page is read in log order (audit_page); next_index is past every
    event the page read or its filter skipped, so that a follower that
    passes it back misses nothing and sees nothing twice. A tail that
    finds nothing and may still wait asks its server to park it
    (query_call_t's park): no worker thread is held while it waits.
    ========================================================================= */

#ifndef QUERY_TAIL_H_INCLUDED
#define QUERY_TAIL_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer tail {ok, events: [...], next_index}, or ask to park it.
void
    query_tail_run (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
