/*  =========================================================================
    query_mq - a device's undelivered messages: mq_fetch and mq_ack

    Only the recipient device (a device token naming that organisation and
    device) reaches these; no other role reads a payload. A payload goes
    into the reply and nowhere else: no log line, no error text.
    ========================================================================= */

#ifndef QUERY_MQ_H_INCLUDED
#define QUERY_MQ_H_INCLUDED

#include "query_call.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Answer mq_fetch: {ok, messages: [{message_id, timestamp, payload}]},
//  oldest first.
void
    query_mq_fetch (query_call_t *call);

//  Answer mq_ack: delete the listed messages of this device; {ok, deleted}.
void
    query_mq_ack (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
