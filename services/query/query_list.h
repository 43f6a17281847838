/*  =========================================================================
    query_list - the list op: one page of an organisation's audit log
    ========================================================================= */

#ifndef QUERY_LIST_H_INCLUDED
#define QUERY_LIST_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer list: {ok, events: [...], next_cursor}.
void
    query_list_run (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
