/*  =========================================================================
    audit_stamp - what the producer adds to a body before it is checked,
    stored and sent

    The caller's MessagePack map is copied pair by pair, as its bytes:
    producer_id and seq are taken out (the producer's own replace them),
    the id (event_id on audit, message_id on mq) is a new version-7 UUID
    when absent, then producer_id is appended. seq is added last, by
    audit_stamp_body as a placeholder that audit_stamp_set_seq fills in
    once the event has passed validation and its seq is known, so that a
    refused event takes no seq and the seq is given under the lock
    without building the body there.
    ========================================================================= */

#ifndef AUDIT_STAMP_H_INCLUDED
#define AUDIT_STAMP_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit_proto.h"
#include "audit_uuid7.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    msgpack_sbuffer pairs;          //  every key/value pair but seq
    uint32_t count;                 //  pairs in it
    char id [AUDIT_UUID7_TEXT_SIZE];    //  the id filled in, "" when given
} audit_stamp_t;

//  Copy body (a map) into self->pairs with the producer's keys. kind is
//  AUDIT_TOPIC_KIND_AUDIT or _MQ. 0, or -1 when body is not one
//  well-formed map (the decoder then names it malformed) or on no memory.
int
    audit_stamp_prepare (audit_stamp_t *self, audit_topic_kind_t kind, const void *body,
                         size_t size, const char *producer_id, int64_t now_ms);

//  The whole body into out (initialised by the caller): the map header,
//  the pairs, then seq as a placeholder 0 in the 9-byte uint 64 form, whose
//  offset goes to *seq_at, so that the seq can be set in place once known
//  without moving a byte. 0, or -1 on no memory.
int
    audit_stamp_body (const audit_stamp_t *self, msgpack_sbuffer *out, size_t *seq_at);

//  Write seq into a body made by audit_stamp_body at seq_at.
void
    audit_stamp_set_seq (uint8_t *body, size_t seq_at, uint64_t seq);

//  Free what prepare made; safe twice.
void
    audit_stamp_clear (audit_stamp_t *self);

#ifdef __cplusplus
}
#endif

#endif
