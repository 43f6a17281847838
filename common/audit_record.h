/*  =========================================================================
    audit_record - the typed, validated form of a published message

    A message is decoded and validated once (audit_decode); from then on it
    is one of these structs and nothing downstream re-parses or re-checks it.
    Text fields are NUL-terminated copies that passed the contract's rules.
    ========================================================================= */

#ifndef AUDIT_RECORD_H_INCLUDED
#define AUDIT_RECORD_H_INCLUDED

#include "audit_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_UUID_SIZE 16

//  An identifier: 1..128 bytes of 0x21..0x7E, plus NUL
typedef char audit_ident_t [AUDIT_IDENT_MAX + 1];

//  An audit event (topic "audit")
typedef struct {
    uint8_t event_id [AUDIT_UUID_SIZE];     //  binary UUID
    audit_event_type_t type;
    int64_t timestamp_ms;                   //  UTC
    audit_ident_t org_id;
    audit_ident_t actor_id;
    audit_field_mask_t present;             //  resource fields the event has
    audit_ident_t text [AUDIT_FIELD_COUNT]; //  IDENT fields, by audit_field_t
    uint64_t number [AUDIT_FIELD_COUNT];    //  UINT fields, by audit_field_t
    audit_ident_t producer_id;              //  "" when absent
    uint64_t seq;
    bool has_seq;
} audit_event_t;

//  An operational HTTP request record (topic "ops"): no identity, by design
typedef struct {
    int64_t timestamp_ms;
    char client_ip [AUDIT_OPS_IP_MAX + 1];
    char method [AUDIT_OPS_METHOD_MAX + 1];
    char path [AUDIT_OPS_PATH_MAX + 1];     //  query string and fragment cut
    uint16_t status;
} audit_ops_t;

//  An undelivered message (topic "mq")
typedef struct {
    uint8_t message_id [AUDIT_UUID_SIZE];
    audit_ident_t org_id;
    audit_ident_t device_id;
    int64_t timestamp_ms;
    const uint8_t *payload;                 //  borrowed: see audit_record_t
    size_t payload_size;
    audit_ident_t producer_id;              //  "" when absent; not stored
    uint64_t seq;                           //  0 when absent; not stored
} audit_mq_t;

//  Any one of them, as it travels from the decoder to the store. When kind
//  is MQ, payload points either into the received frame or into memory the
//  holder of the record owns (the ingest batch copies it).
typedef struct {
    audit_topic_kind_t kind;
    int64_t received_ms;
    union {
        audit_event_t event;
        audit_ops_t ops;
        audit_mq_t mq;
    } u;
} audit_record_t;

#ifdef __cplusplus
}
#endif

#endif
