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

//  Payload bytes one mq_fetch reply carries at most, but never fewer than
//  one message. A worker keeps its largest reply's buffer and ZeroMQ holds
//  one more copy, so a few busy workers cost tens of MiB, not the 256 MiB
//  per reply that limit 1000 of the contract's largest payloads (256 KiB)
//  would; 8 MiB is still 32 such payloads, so a backlog drains in few
//  round trips.
#define QUERY_MQ_REPLY_BYTES_MAX  (8 * 1024 * 1024)

//  Answer mq_fetch: {ok, messages: [{message_id, timestamp, payload}]},
//  oldest first, up to limit messages and QUERY_MQ_REPLY_BYTES_MAX of
//  payload; a device that acks them and fetches again gets the rest.
void
    query_mq_fetch (query_call_t *call);

//  Answer mq_ack: delete the listed messages of this device; {ok, deleted}.
void
    query_mq_ack (query_call_t *call);

#ifdef __cplusplus
}
#endif

#endif
