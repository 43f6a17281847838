/*  =========================================================================
    query_meta - the ops that need no token: health and catalog
    ========================================================================= */

#ifndef QUERY_META_H_INCLUDED
#define QUERY_META_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer health: {ok, service: "query", version} when every store reads.
void
    query_meta_health (query_call_t *call);

//  Answer catalog: the event catalogue from proto's table.
void
    query_meta_catalog (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
