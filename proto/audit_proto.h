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
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) AUDIT_FIELD_##NAME,
#include "audit_fields.def"
#undef AUDIT_FIELD
    AUDIT_FIELD_COUNT
} audit_field_t;

//  Envelope keys of a stored event (audit_envelope.def), in list order
typedef enum {
#define AUDIT_ENVELOPE(NAME, key, csv) AUDIT_ENVELOPE_##NAME,
#include "audit_envelope.def"
#undef AUDIT_ENVELOPE
    AUDIT_ENVELOPE_COUNT
} audit_envelope_t;

//  Columns of the CSV export and of the leaf: the rows of the envelope and
//  field tables that name a column
enum {
    AUDIT_CSV_COLUMNS = 0
#define AUDIT_ENVELOPE(NAME, key, csv) + ((csv) >= 0)
#include "audit_envelope.def"
#undef AUDIT_ENVELOPE
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) + ((csv) >= 0)
#include "audit_fields.def"
#undef AUDIT_FIELD
};

//  Every column 0 .. AUDIT_CSV_COLUMNS - 1 is named by exactly one row: as
//  many rows as columns, and together they cover every one
#define AUDIT_CSV_BIT_(csv) ((unsigned long long) ((csv) >= 0) << ((csv) & 63))
_Static_assert (AUDIT_CSV_COLUMNS < 64, "CSV columns fit the 64-bit check");
_Static_assert ((0
#define AUDIT_ENVELOPE(NAME, key, csv) | AUDIT_CSV_BIT_ (csv)
#include "audit_envelope.def"
#undef AUDIT_ENVELOPE
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) | AUDIT_CSV_BIT_ (csv)
#include "audit_fields.def"
#undef AUDIT_FIELD
    ) == (1ull << AUDIT_CSV_COLUMNS) - 1, "each CSV column is named by one table row");

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
_Static_assert (AUDIT_FIELD_COUNT <= sizeof (audit_field_mask_t) * 8,
                "more resource fields than audit_field_mask_t has bits");

//  The fields that list, export and tail take as arguments (filter 1 in
//  audit_fields.def), as a mask: an enum, so it may size static tables.
//  Each is an identifier (the request reads its argument as one).
enum {
    AUDIT_FIELD_FILTERS = 0
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) \
    | ((filter)? 1 << AUDIT_FIELD_##NAME: 0)
#include "audit_fields.def"
#undef AUDIT_FIELD
};
_Static_assert (AUDIT_FIELD_COUNT < 31, "AUDIT_FIELD_FILTERS is an int");
_Static_assert ((0
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) \
    | ((filter) && AUDIT_KIND_##kind != AUDIT_KIND_IDENT)
#include "audit_fields.def"
#undef AUDIT_FIELD
    ) == 0, "a filter field is an IDENT field");

//  What the value of a key of an ops or mq body must be (audit_ops_fields.def,
//  audit_mq_fields.def); min and max are a row's limits
typedef enum {
    AUDIT_BODY_VERSION,             //  uint, AUDIT_PROTO_VERSION; kept nowhere
    AUDIT_BODY_TIMESTAMP,           //  as an event's timestamp
    AUDIT_BODY_IDENT,               //  an identifier (min..max bytes)
    AUDIT_BODY_UUID,                //  a UUID's canonical text
    AUDIT_BODY_UINT,                //  an unsigned integer in [min, max]
    AUDIT_BODY_IP,                  //  str of min..max bytes that inet_pton takes
    AUDIT_BODY_METHOD,              //  str of min..max upper-case letters
    AUDIT_BODY_PATH,                //  str of min..max bytes from '/', valid UTF-8
                                    //  without controls; query and fragment cut
    AUDIT_BODY_PAYLOAD              //  bin of min..max bytes, borrowed
} audit_body_type_t;

//  Keys of an operational record body (audit_ops_fields.def)
typedef enum {
#define AUDIT_OPS_FIELD(NAME, key, type, min, max, required, member) AUDIT_OPS_FIELD_##NAME,
#include "audit_ops_fields.def"
#undef AUDIT_OPS_FIELD
    AUDIT_OPS_FIELD_COUNT
} audit_ops_field_t;

//  Keys of an undelivered message body (audit_mq_fields.def)
typedef enum {
#define AUDIT_MQ_FIELD(NAME, key, type, min, max, required, member) AUDIT_MQ_FIELD_##NAME,
#include "audit_mq_fields.def"
#undef AUDIT_MQ_FIELD
    AUDIT_MQ_FIELD_COUNT
} audit_mq_field_t;

//  One key of an ops or mq body
typedef struct {
    const char *key;
    audit_body_type_t type;
    uint64_t min, max;
    bool required;
} audit_body_field_info_t;

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

//  Workers that send heartbeats (audit_workers.def)
typedef enum {
#define AUDIT_WORKER(NAME, name, up_ms) AUDIT_WORKER_##NAME,
#include "audit_workers.def"
#undef AUDIT_WORKER
    AUDIT_WORKER_COUNT
} audit_worker_id_t;

//  Keys and ops of the acknowledgement channel (audit_ack.def)
typedef enum {
#define AUDIT_ACK_KEY(NAME, key) AUDIT_ACK_KEY_##NAME,
#include "audit_ack.def"
#undef AUDIT_ACK_KEY
    AUDIT_ACK_KEY_COUNT
} audit_ack_key_t;

typedef enum {
#define AUDIT_ACK_OP(NAME, op) AUDIT_ACK_OP_##NAME,
#include "audit_ack.def"
#undef AUDIT_ACK_OP
    AUDIT_ACK_OP_COUNT
} audit_ack_op_t;

//  Most rejected entries in one ack message (contract: "Acknowledgements")
#define AUDIT_ACK_REJECTED_MAX 1000

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
    int csv;                        //  CSV and leaf column, -1: none
    const char *column;             //  its column of table event
    audit_field_stored_t stored;    //  what that column holds
    bool filter;                    //  a list filter argument
} audit_field_info_t;

//  One column of the CSV export and the leaf: an envelope key or a field
typedef struct {
    const char *key;                //  its name in the header
    bool is_field;
    int index;                      //  audit_envelope_t or audit_field_t
} audit_csv_column_t;

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

//  Key of an ops body; NULL when out of range.
const audit_body_field_info_t *
    audit_proto_ops_field_info (audit_ops_field_t field);

//  Key of an mq body; NULL when out of range.
const audit_body_field_info_t *
    audit_proto_mq_field_info (audit_mq_field_t field);

//  Wire name of a category, "?" when out of range.
const char *
    audit_proto_category_name (audit_category_t category);

//  Look up a category by its wire name; 0 and *category, or -1.
int
    audit_proto_category_lookup (const char *name, size_t len, audit_category_t *category);

//  Wire name of a rejection reason.
const char *
    audit_proto_reason_name (audit_reason_t reason);

//  Look up a rejection reason by its wire name; 0 and *reason, or -1 (a
//  name this build does not know, as a store written by a later one holds).
int
    audit_proto_reason_lookup (const char *name, size_t len, audit_reason_t *reason);

//  Key of a worker in health.workers and stats.workers, "?" out of range.
const char *
    audit_proto_worker_name (audit_worker_id_t worker);

//  How recent a worker's heartbeat must be for "up", ms; 0: two of its
//  own intervals.
int64_t
    audit_proto_worker_up_ms (audit_worker_id_t worker);

//  Wire name of a key of the acknowledgement channel.
const char *
    audit_proto_ack_key (audit_ack_key_t key);

//  Wire name of an op of the acknowledgement channel.
const char *
    audit_proto_ack_op (audit_ack_op_t op);

//  Wire code of a query error.
const char *
    audit_proto_error_code (audit_error_t error);

//  Classify a topic frame: the prefix, optionally followed by '.' and a
//  shard key. "auditx" is not "audit".
audit_topic_kind_t
    audit_proto_topic_kind (const char *topic, size_t len);

//  Key of an envelope entry, "?" when out of range.
const char *
    audit_proto_envelope_key (audit_envelope_t key);

//  CSV column of an envelope entry, -1 when it is none or out of range.
int
    audit_proto_envelope_csv (audit_envelope_t key);

//  What column (0 .. AUDIT_CSV_COLUMNS - 1) holds; NULL when out of range.
const audit_csv_column_t *
    audit_proto_csv_column (int column);

//  The CSV export header line of contract revision 2, without line end:
//  the keys of the columns of audit_envelope.def and audit_fields.def, in
//  column order
const char *
    audit_proto_csv_header (void);

#ifdef __cplusplus
}
#endif

#endif
