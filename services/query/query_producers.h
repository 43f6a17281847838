/*  =========================================================================
    query_producers - stats.producers: each producer's acknowledged seq,
    runs, gaps, rejections by reason and when it was last seen, as the
    ingest writer committed them with its events
    ========================================================================= */

#ifndef QUERY_PRODUCERS_H_INCLUDED
#define QUERY_PRODUCERS_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Pack "producers": {<producer_id>: {acked_seq, runs, gaps, rejected:
//  {<reason>: uint}, last_seen}} into call->reply. 0, or -1 when the
//  store cannot be read (nothing packed).
int
    query_producers_pack (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
