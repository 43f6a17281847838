/*  =========================================================================
    audit_proto - the wire contract, version 1, in code

    Everything here derives from the .def tables beside this file: the event
    catalogue, the resource fields, categories, rejection reasons and error
    codes. Nothing else in the project spells an event type or a column.
    See PROTOCOL.md for the contract in prose.
    ========================================================================= */

#ifndef AUDIT_PROTO_H_INCLUDED
#define AUDIT_PROTO_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Contract version carried in every event and request as `v`
#define AUDIT_PROTO_VERSION        1

//  Limits of contract version 1
#define AUDIT_IDENT_MAX            128          //  bytes in an identifier
#define AUDIT_UUID_TEXT_LEN        36           //  canonical UUID text
#define AUDIT_EVENT_MAX_BYTES      (64 * 1024)  //  published body limit
#define AUDIT_FUTURE_MAX_MS        (3600LL * 1000)            //  1 hour
#define AUDIT_RETENTION_MAX_DAYS   365          //  12 months, never more
#define AUDIT_PAST_MAX_MS          (AUDIT_RETENTION_MAX_DAYS * 86400LL * 1000)
#define AUDIT_OPS_METHOD_MAX       16
#define AUDIT_OPS_PATH_MAX         2048
#define AUDIT_OPS_IP_MAX           45           //  INET6_ADDRSTRLEN - 1
#define AUDIT_MQ_PAYLOAD_MAX       (256 * 1024)
#define AUDIT_OPS_RETENTION_DAYS   30
#define AUDIT_MQ_RETENTION_DAYS    7

//  Topic prefixes the ingest worker subscribes to
#define AUDIT_TOPIC_AUDIT          "audit"
#define AUDIT_TOPIC_OPS            "ops"
#define AUDIT_TOPIC_MQ             "mq"

typedef enum {
    AUDIT_TOPIC_KIND_AUDIT,
    AUDIT_TOPIC_KIND_OPS,
    AUDIT_TOPIC_KIND_MQ,
    AUDIT_TOPIC_KIND_UNKNOWN
} audit_topic_kind_t;

//  Resource fields (audit_fields.def)
typedef enum {
#define AUDIT_FIELD(NAME, key, kind, min, max, in_csv, column, stored, filter) AUDIT_FIELD_##NAME,
#include "audit_fields.def"
#undef AUDIT_FIELD
    AUDIT_FIELD_COUNT
} audit_field_t;

typedef enum { AUDIT_KIND_IDENT, AUDIT_KIND_UINT } audit_field_kind_t;

//  What a field's column of table event holds (audit_fields.def)
typedef enum {
    AUDIT_STORED_NAME,              //  the id of the identifier in ident
    AUDIT_STORED_TEXT,              //  the identifier's text
    AUDIT_STORED_NUMBER             //  the integer
} audit_field_stored_t;

//  A set of fields, one bit per audit_field_t
typedef uint32_t audit_field_mask_t;
#define AUDIT_FIELD_BIT(f) ((audit_field_mask_t) 1u << (f))

//  Categories (audit_categories.def)
typedef enum {
#define AUDIT_CATEGORY(NAME, name) AUDIT_CATEGORY_##NAME,
#include "audit_categories.def"
#undef AUDIT_CATEGORY
    AUDIT_CATEGORY_COUNT
} audit_category_t;

//  Event types (audit_events.def); the numbers are stored on disk
typedef enum {
#define AUDIT_EVENT(NAME, name, cat, req, opt, reserved) AUDIT_EVENT_##NAME,
#include "audit_events.def"
#undef AUDIT_EVENT
    AUDIT_EVENT_COUNT
} audit_event_type_t;

//  Rejection reasons (audit_reasons.def)
typedef enum {
#define AUDIT_REASON(NAME, name) AUDIT_REASON_##NAME,
#include "audit_reasons.def"
#undef AUDIT_REASON
    AUDIT_REASON_COUNT
} audit_reason_t;

//  Query error codes (audit_errors.def)
typedef enum {
#define AUDIT_ERROR(NAME, code) AUDIT_ERROR_##NAME,
#include "audit_errors.def"
#undef AUDIT_ERROR
    AUDIT_ERROR_COUNT
} audit_error_t;

//  One row of the catalogue
typedef struct {
    const char *name;               //  event_type on the wire
    audit_category_t category;
    audit_field_mask_t required;
    audit_field_mask_t optional;
    bool reserved;                  //  written only by the service
} audit_event_info_t;

//  One resource field
typedef struct {
    const char *key;                //  key on the wire and column name
    audit_field_kind_t kind;
    uint64_t min, max;              //  range of a UINT field
    bool in_csv;                    //  a column of the CSV export
    const char *column;             //  its column of table event
    audit_field_stored_t stored;    //  what that column holds
    bool filter;                    //  a list filter argument
} audit_field_info_t;

//  Catalogue row of a type; NULL when type is out of range.
const audit_event_info_t *
    audit_proto_event_info (audit_event_type_t type);

//  Look up an event type by its wire name (len bytes, not terminated).
//  Returns 0 and sets *type, or -1 when the name is not in the catalogue.
int
    audit_proto_event_lookup (const char *name, size_t len, audit_event_type_t *type);

//  Field description; NULL when out of range.
const audit_field_info_t *
    audit_proto_field_info (audit_field_t field);

//  Look up a resource field by its wire key; 0 and *field, or -1.
int
    audit_proto_field_lookup (const char *key, size_t len, audit_field_t *field);

//  Wire name of a category, "?" when out of range.
const char *
    audit_proto_category_name (audit_category_t category);

//  Look up a category by its wire name; 0 and *category, or -1.
int
    audit_proto_category_lookup (const char *name, size_t len, audit_category_t *category);

//  Wire name of a rejection reason.
const char *
    audit_proto_reason_name (audit_reason_t reason);

//  Wire code of a query error.
const char *
    audit_proto_error_code (audit_error_t error);

//  Classify a topic frame: the prefix, optionally followed by '.' and a
//  shard key. "auditx" is not "audit".
audit_topic_kind_t
    audit_proto_topic_kind (const char *topic, size_t len);

//  The CSV export header line of contract version 1, without line end:
//  timestamp,event_type,org_id,actor_id,<csv fields>,event_id
const char *
    audit_proto_csv_header (void);

#ifdef __cplusplus
}
#endif

#endif
