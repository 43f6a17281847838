/*  =========================================================================
    query_ops - ops_list: the operational log, newest first, for
    platform_ops. Its records carry no identity, by design.
    ========================================================================= */

#ifndef QUERY_OPS_H_INCLUDED
#define QUERY_OPS_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer ops_list: {ok, records: [...], next_cursor}.
void
    query_ops_list (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
