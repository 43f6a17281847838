/*  =========================================================================
    audit_ackmsg - the messages of the acknowledgement channel (contract:
    "Acknowledgements"): the hello a producer sends, the ack it receives

    {v: 1, op: "hello", producer_id}
    {v: 1, op: "ack", producer_id, seq, rejected: [{seq, event_id, reason, field}]}

    An ack is read with the project's bounded reader: a malformed one, or
    one for another producer_id, is refused whole, never half applied.
    Unknown keys of an ack are skipped, so that the service may add some.
    ========================================================================= */

#ifndef AUDIT_ACKMSG_H_INCLUDED
#define AUDIT_ACKMSG_H_INCLUDED

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Most rejections one ack lists (the contract's bound)
#define AUDIT_ACKMSG_REJECTED_MAX   1000
#define AUDIT_ACKMSG_TEXT_MAX       128

//  One rejected event; event_id and field are "" when nil
typedef struct {
    uint64_t seq;
    char event_id [AUDIT_ACKMSG_TEXT_MAX + 1];
    char reason [AUDIT_ACKMSG_TEXT_MAX + 1];
    char field [AUDIT_ACKMSG_TEXT_MAX + 1];
} audit_ackmsg_rejection_t;

//  One ack, as read
typedef struct {
    uint64_t seq;
    size_t rejected_count;
    audit_ackmsg_rejection_t rejected [AUDIT_ACKMSG_REJECTED_MAX];
} audit_ackmsg_t;

//  Pack a hello for producer_id into out (initialised by the caller).
//  0, or -1 on no memory.
int
    audit_ackmsg_hello (const char *producer_id, msgpack_sbuffer *out);

//  Read one frame as an ack for producer_id into *ack. 0, or -1 when it
//  is not a well-formed ack of version 1 for that producer.
int
    audit_ackmsg_parse (const void *data, size_t size, const char *producer_id,
                        audit_ackmsg_t *ack);

#ifdef __cplusplus
}
#endif

#endif
