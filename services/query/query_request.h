/*  =========================================================================
    query_request - one request frame, decoded and checked in one place

    v, op, token and every argument: its type, its range for the op, and
    whether the op takes it at all. What comes out is typed; handlers never
    look at MessagePack. A request that breaks a rule gets bad_request with
    a message that names the key, never its value. A str (op, token or an
    argument) that holds a NUL byte breaks a rule: it is never cut short.
    ========================================================================= */

#ifndef QUERY_REQUEST_H_INCLUDED
#define QUERY_REQUEST_H_INCLUDED

#include "audit_cursor.h"
#include "audit_record.h"
#include "audit_token.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Largest request frame; bigger ones are too_large
#define QUERY_REQUEST_MAX_BYTES   (64 * 1024)
//  Most message ids one mq_ack takes
#define QUERY_MESSAGE_IDS_MAX     1000

typedef enum {
#define QUERY_OP(NAME, name, role, req, opt, dlimit, mlimit, order) QUERY_OP_##NAME,
#include "query_ops.def"
#undef QUERY_OP
    QUERY_OP_COUNT
} query_op_t;

//  The arguments: one per row of query_args.def, then one per resource
//  field (QUERY_ARG_FIELD + its audit_field_t). A field whose row in
//  audit_fields.def says filter 1 is an argument under its wire key; the
//  others are no argument (an unknown key), their places left empty.
typedef enum {
#define QUERY_ARG(NAME, key, kind) QUERY_ARG_##NAME,
#include "query_args.def"
#undef QUERY_ARG
    QUERY_ARG_FIELD,
    QUERY_ARG_COUNT = QUERY_ARG_FIELD + AUDIT_FIELD_COUNT
} query_arg_t;

//  A set of arguments, one bit per query_arg_t
typedef uint64_t query_arg_mask_t;
#define QUERY_ARG_BIT(arg) ((query_arg_mask_t) 1 << (arg))
#define QUERY_ARG_FIELD_BIT(field) QUERY_ARG_BIT (QUERY_ARG_FIELD + (field))
_Static_assert (QUERY_ARG_COUNT <= 64, "more arguments than query_arg_mask_t has bits");

//  The field arguments of every filter field of audit_fields.def: what
//  list, export (and tail) take, none of them named
#define QUERY_FILTER_FIELDS ((query_arg_mask_t) AUDIT_FIELD_FILTERS << QUERY_ARG_FIELD)

//  Export formats (query_formats.def); the first is the default
typedef enum {
#define QUERY_FORMAT(NAME, name) QUERY_FORMAT_##NAME,
#include "query_formats.def"
#undef QUERY_FORMAT
    QUERY_FORMAT_COUNT
} query_format_t;

//  The role an op needs: an audit_role_t, or QUERY_ROLE_NONE
#define QUERY_ROLE_NONE (-1)

typedef struct {
    const char *name;
    int role;                       //  audit_role_t or QUERY_ROLE_NONE
    query_arg_mask_t required;      //  QUERY_ARG_BIT mask
    query_arg_mask_t optional;
    uint32_t default_limit, max_limit;
    audit_cursor_order_t default_order;
} query_op_info_t;

//  The longest a tail may wait for its first event (contract: "tail")
#define QUERY_TAIL_WAIT_MAX_MS  30000

typedef struct {
    query_op_t op;
    bool has_token;
    char token [AUDIT_TOKEN_TEXT_MAX + 1];
    query_arg_mask_t present;       //  QUERY_ARG_BIT of each argument given
    audit_ident_t org_id, actor_id, subject;
    audit_ident_t field [AUDIT_FIELD_COUNT];    //  a filter field's argument,
                                    //  "" unless its QUERY_ARG_FIELD_BIT is present
    int64_t from_ms, to_ms;         //  INT64_MIN / INT64_MAX when absent
    uint32_t type_mask;             //  event types allowed; all when unfiltered
    audit_cursor_order_t order;     //  the op's default when absent
    uint32_t limit;                 //  the op's default when absent
    char cursor [AUDIT_CURSOR_TEXT_MAX + 1];
    query_format_t format;          //  QUERY_FORMAT_CSV when absent
    uint32_t retention_days;
    uint32_t status;
    uint64_t size, log_index, from_size;    //  the organisation's log: 0 when absent
    uint64_t from_index;            //  tail: 0 when absent (see present)
    uint32_t wait_ms;               //  tail: 0 .. QUERY_TAIL_WAIT_MAX_MS
    char client_ip [AUDIT_OPS_IP_MAX + 1];
    uint32_t message_id_count;
    uint8_t message_ids [QUERY_MESSAGE_IDS_MAX][AUDIT_UUID_SIZE];
} query_request_t;

//  Row of the op table.
const query_op_info_t *
    query_request_op_info (query_op_t op);

//  Wire key of an argument; NULL when out of range or when it is no
//  argument (a field that is no filter field).
const char *
    query_request_arg_key (query_arg_t arg);

//  Wire name of an export format, "?" when out of range.
const char *
    query_request_format_name (query_format_t format);

//  Decode and check a request frame into *request. Returns 0, or -1 with
//  *error (bad_request or too_large) and a message (size message_size)
//  that names keys only.
int
    query_request_decode (const void *data, size_t size, query_request_t *request,
                          audit_error_t *error, char *message, size_t message_size);

//  Canonical bytes of the request's filters, for binding a cursor to them:
//  the same filters give the same bytes whatever order the keys came in.
//  Returns the length written (at most size).
size_t
    query_request_filter_bytes (const query_request_t *request, uint8_t *out, size_t size);

#ifdef __cplusplus
}
#endif

#endif
