/*  =========================================================================
    query_request - one request frame, decoded and checked in one place

    Values are checked by kind while the map is walked (the op may come
    last), then against the op: which arguments it takes and their ranges.
    ========================================================================= */

#include "query_request.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit_decode.h"
#include "audit_mp.h"
#include "audit_time.h"

#define A(NAME) QUERY_ARG_BIT (QUERY_ARG_##NAME)
#define S_ROLE_ORG_ADMIN    AUDIT_ROLE_ORG_ADMIN
#define S_ROLE_PLATFORM_OPS AUDIT_ROLE_PLATFORM_OPS
#define S_ROLE_DEVICE       AUDIT_ROLE_DEVICE
#define S_ROLE_NONE         QUERY_ROLE_NONE

static const query_op_info_t s_ops [QUERY_OP_COUNT] = {
#define QUERY_OP(NAME, name, role, req, opt, dlimit, mlimit, order) \
    [QUERY_OP_##NAME] = { name, S_ROLE_##role, (req), (opt), dlimit, mlimit, AUDIT_CURSOR_##order },
#include "query_ops.def"
#undef QUERY_OP
};

typedef enum {
    S_KIND_IDENT, S_KIND_TIME, S_KIND_UINT, S_KIND_TYPES, S_KIND_CATEGORIES,
    S_KIND_ORDER, S_KIND_CURSOR, S_KIND_FORMAT, S_KIND_IP, S_KIND_UUIDS
} s_kind_t;

static const struct { const char *key; s_kind_t kind; } s_args [QUERY_ARG_COUNT] = {
#define QUERY_ARG(NAME, key, kind) [QUERY_ARG_##NAME] = { key, S_KIND_##kind },
#include "query_args.def"
#undef QUERY_ARG
};

//  Decoding state: the request, the reader, and the first error
typedef struct {
    audit_mp_reader_t reader;
    query_request_t *request;
    uint32_t types_mask, categories_mask;
    uint64_t number [QUERY_ARG_COUNT];  //  UINT arguments, checked per op
    bool has_v, has_op, has_token_key;
    bool has_nul;                       //  a str read held a NUL byte
    audit_error_t error;
    char *message;
    size_t message_size;
} s_state_t;

const query_op_info_t *
query_request_op_info (query_op_t op)
{
    return (int) op >= 0 && op < QUERY_OP_COUNT ? &s_ops [op] : NULL;
}

static int
s_fail (s_state_t *state, audit_error_t error, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (state->message, state->message_size, format, args);
    va_end (args);
    state->error = error;
    return -1;
}

//  A str into a NUL-terminated buffer of size bytes: its length, or -1 when
//  the value is not a str (nothing consumed), or -2 when it does not fit,
//  or -3 when it holds a NUL byte: copied, it would be cut short there, and
//  "cursor\0junk" would pass as the cursor, "\0junk" as no cursor at all
static int
s_read_text (s_state_t *state, char *out, size_t size)
{
    const char *text;
    uint32_t len;
    if (audit_mp_read_str (&state->reader, &text, &len) != AUDIT_MP_OK)
        return -1;
    if (len >= size)
        return -2;
    if (memchr (text, 0, len)) {
        state->has_nul = true;
        return -3;
    }
    memcpy (out, text, len);
    out [len] = 0;
    return (int) len;
}

static int
s_read_ident (s_state_t *state, char *out)
{
    int len = s_read_text (state, out, AUDIT_IDENT_MAX + 1);
    return len > 0 && audit_decode_is_ident (out, (size_t) len) ? 0 : -1;
}

static int
s_read_time (s_state_t *state, int64_t *ms)
{
    audit_mp_reader_t *reader = &state->reader;
    if (audit_mp_peek (reader) == AUDIT_MP_EXT) {
        int8_t type;
        const uint8_t *body;
        uint32_t len;
        if (audit_mp_read_ext (reader, &type, &body, &len) != AUDIT_MP_OK || type != -1)
            return -1;
        return audit_time_from_ext (body, len, ms);
    }
    char text [64];
    int len = s_read_text (state, text, sizeof text);
    return len > 0 ? audit_time_parse_rfc3339 (text, (size_t) len, ms) : -1;
}

//  An array of names, each looked up by fn into a bit of *mask
typedef int (s_lookup_fn) (const char *name, size_t len, int *value);

static int
s_lookup_type (const char *name, size_t len, int *value)
{
    audit_event_type_t type;
    int rc = audit_proto_event_lookup (name, len, &type);
    *value = (int) type;
    return rc;
}

static int
s_lookup_category (const char *name, size_t len, int *value)
{
    audit_category_t category;
    int rc = audit_proto_category_lookup (name, len, &category);
    *value = (int) category;
    return rc;
}

static int
s_read_name_mask (s_state_t *state, s_lookup_fn *lookup, uint32_t *mask)
{
    uint32_t count;
    if (audit_mp_read_array (&state->reader, &count) != AUDIT_MP_OK || count == 0)
        return -1;
    *mask = 0;
    for (uint32_t index = 0; index < count; index++) {
        const char *name;
        uint32_t len;
        int value;
        if (audit_mp_read_str (&state->reader, &name, &len) != AUDIT_MP_OK
        ||  lookup (name, len, &value) != 0)
            return -1;
        *mask |= 1u << value;
    }
    return 0;
}

//  Event types allowed by a categories mask
static uint32_t
s_types_of_categories (uint32_t categories)
{
    uint32_t types = 0;
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        if (categories & (1u << audit_proto_event_info ((audit_event_type_t) type)->category))
            types |= 1u << type;
    return types;
}

static int
s_read_uuids (s_state_t *state)
{
    query_request_t *request = state->request;
    uint32_t count;
    if (audit_mp_read_array (&state->reader, &count) != AUDIT_MP_OK
    ||  count == 0 || count > QUERY_MESSAGE_IDS_MAX)
        return -1;
    for (uint32_t index = 0; index < count; index++) {
        const char *text;
        uint32_t len;
        if (audit_mp_read_str (&state->reader, &text, &len) != AUDIT_MP_OK
        ||  audit_decode_uuid (text, len, request->message_ids [index]) != 0)
            return -1;
    }
    request->message_id_count = count;
    return 0;
}

static int
s_read_choice (s_state_t *state, const char *first, const char *second, int *which)
{
    char text [16];
    if (s_read_text (state, text, sizeof text) < 0)
        return -1;
    if (strcmp (text, first) == 0)
        *which = 0;
    else
    if (second && strcmp (text, second) == 0)
        *which = 1;
    else
        return -1;
    return 0;
}

static const char *s_formats [QUERY_FORMAT_COUNT] = {
#define QUERY_FORMAT(NAME, name) [QUERY_FORMAT_##NAME] = name,
#include "query_formats.def"
#undef QUERY_FORMAT
};

const char *
query_request_format_name (query_format_t format)
{
    return (int) format >= 0 && format < QUERY_FORMAT_COUNT ? s_formats [format] : "?";
}

static int
s_read_format (s_state_t *state, query_format_t *format)
{
    char text [16];
    if (s_read_text (state, text, sizeof text) < 0)
        return -1;
    for (int candidate = 0; candidate < QUERY_FORMAT_COUNT; candidate++)
        if (strcmp (text, s_formats [candidate]) == 0) {
            *format = (query_format_t) candidate;
            return 0;
        }
    return -1;
}

static audit_ident_t *
s_ident_slot (query_request_t *request, query_arg_t arg)
{
    switch (arg) {
        case QUERY_ARG_ORG_ID:    return &request->org_id;
        case QUERY_ARG_ACTOR_ID:  return &request->actor_id;
        case QUERY_ARG_USER_ID:   return &request->user_id;
        case QUERY_ARG_DEVICE_ID: return &request->device_id;
        case QUERY_ARG_GROUP_ID:  return &request->group_id;
        default:                  return &request->subject;
    }
}

//  One argument's value, checked by its kind
static int
s_read_arg (s_state_t *state, query_arg_t arg)
{
    query_request_t *request = state->request;
    int which = 0;
    int rc = -1;
    switch (s_args [arg].kind) {
        case S_KIND_IDENT: rc = s_read_ident (state, *s_ident_slot (request, arg)); break;
        case S_KIND_TIME:
            rc = s_read_time (state, arg == QUERY_ARG_FROM ? &request->from_ms : &request->to_ms);
            break;
        case S_KIND_UINT: rc = audit_mp_read_uint (&state->reader, &state->number [arg]); break;
        case S_KIND_TYPES: rc = s_read_name_mask (state, s_lookup_type, &state->types_mask); break;
        case S_KIND_CATEGORIES:
            rc = s_read_name_mask (state, s_lookup_category, &state->categories_mask);
            break;
        case S_KIND_ORDER:
            rc = s_read_choice (state, "desc", "asc", &which);
            request->order = which ? AUDIT_CURSOR_ASC : AUDIT_CURSOR_DESC;
            break;
        case S_KIND_CURSOR: rc = s_read_text (state, request->cursor, sizeof request->cursor) > 0 ? 0 : -1; break;
        case S_KIND_FORMAT: rc = s_read_format (state, &request->format); break;
        case S_KIND_IP: {
            unsigned char address [sizeof (struct in6_addr)];
            rc = s_read_text (state, request->client_ip, sizeof request->client_ip) > 0
              && (inet_pton (AF_INET, request->client_ip, address) == 1
               || inet_pton (AF_INET6, request->client_ip, address) == 1) ? 0 : -1;
            break;
        }
        case S_KIND_UUIDS: rc = s_read_uuids (state); break;
    }
    return rc;
}

static int
s_read_op (s_state_t *state)
{
    char name [32];
    int read = s_read_text (state, name, sizeof name);
    if (read == -3)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "op must not contain a NUL byte");
    if (read < 0)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "op must be a known op name");
    for (int op = 0; op < QUERY_OP_COUNT; op++)
        if (strcmp (name, s_ops [op].name) == 0) {
            state->request->op = (query_op_t) op;
            return 0;
        }
    return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "unknown op");
}

//  A token that is not a string is as good as none: unauthenticated. One
//  with a NUL byte is refused rather than cut short to a valid token.
static int
s_read_token (s_state_t *state)
{
    query_request_t *request = state->request;
    int read = s_read_text (state, request->token, sizeof request->token);
    request->has_token = read > 0;
    if (read == -3)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "token must not contain a NUL byte");
    if (read == -1 && audit_mp_skip (&state->reader) != AUDIT_MP_OK)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "request is not valid MessagePack");
    return 0;
}

//  v, op or token met twice is refused, as an argument met twice is: which
//  value would count is exactly the ambiguity to avoid
static int
s_read_envelope (s_state_t *state, const char *key, uint32_t len, bool *handled)
{
    bool is_v = len == 1 && key [0] == 'v';
    bool is_op = len == 2 && memcmp (key, "op", 2) == 0;
    bool is_token = len == 5 && memcmp (key, "token", 5) == 0;
    *handled = is_v || is_op || is_token;
    if (!*handled)
        return 0;
    bool *seen = is_v? &state->has_v: is_op? &state->has_op: &state->has_token_key;
    if (*seen)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "%.*s given twice", (int) len, key);
    *seen = true;
    if (is_op)
        return s_read_op (state);
    if (is_token)
        return s_read_token (state);
    uint64_t v;
    if (audit_mp_read_uint (&state->reader, &v) != AUDIT_MP_OK || v != AUDIT_PROTO_VERSION)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "unsupported version: v must be 1");
    return 0;
}

//  Print a key in a message only when it is short and printable
static const char *
s_key_for_message (const char *key, uint32_t len, char *out, size_t size)
{
    if (len == 0 || len >= size || !audit_decode_is_ident (key, len))
        return "(unprintable)";
    memcpy (out, key, len);
    out [len] = 0;
    return out;
}

static int
s_read_pair (s_state_t *state)
{
    const char *key;
    uint32_t len;
    if (audit_mp_read_str (&state->reader, &key, &len) != AUDIT_MP_OK)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "every key must be a string");
    bool handled;
    int rc = s_read_envelope (state, key, len, &handled);
    if (rc != 0 || handled)
        return rc;
    char printable [65];
    for (int arg = 0; arg < QUERY_ARG_COUNT; arg++) {
        if (strlen (s_args [arg].key) != len || memcmp (s_args [arg].key, key, len) != 0)
            continue;
        if (state->request->present & QUERY_ARG_BIT (arg))
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "%s given twice", s_args [arg].key);
        state->request->present |= QUERY_ARG_BIT (arg);
        if (s_read_arg (state, (query_arg_t) arg) != 0)
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "%s %s", s_args [arg].key,
                           state->has_nul ? "must not contain a NUL byte"
                                          : "has a wrong type or form");
        return 0;
    }
    return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "unknown key %s",
                   s_key_for_message (key, len, printable, sizeof printable));
}

//  The op's own rules: which arguments, their ranges
static int
s_check_op (s_state_t *state)
{
    query_request_t *request = state->request;
    const query_op_info_t *info = &s_ops [request->op];
    uint32_t stray = request->present & ~(info->required | info->optional);
    uint32_t missing = info->required & ~request->present;
    for (int arg = 0; arg < QUERY_ARG_COUNT; arg++) {
        if (stray & QUERY_ARG_BIT (arg))
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "%s does not take %s",
                           info->name, s_args [arg].key);
        if (missing & QUERY_ARG_BIT (arg))
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "%s needs %s",
                           info->name, s_args [arg].key);
    }
    request->order = (request->present & A (ORDER)) ? request->order : info->default_order;
    request->limit = info->default_limit;
    if (request->present & A (LIMIT)) {
        uint64_t limit = state->number [QUERY_ARG_LIMIT];
        if (limit < 1 || limit > info->max_limit)
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "limit must be 1 to %u", info->max_limit);
        request->limit = (uint32_t) limit;
    }
    return 0;
}

static int
s_check_ranges (s_state_t *state)
{
    query_request_t *request = state->request;
    if (request->present & A (RETENTION_DAYS)) {
        uint64_t days = state->number [QUERY_ARG_RETENTION_DAYS];
        if (days > AUDIT_RETENTION_MAX_DAYS)
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST,
                           "retention cannot exceed 12 months (365 days)");
        if (days < 1)
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "retention_days must be 1 to 365");
        request->retention_days = (uint32_t) days;
    }
    if (request->present & A (STATUS)) {
        uint64_t status = state->number [QUERY_ARG_STATUS];
        if (status < 100 || status > 599)
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "status must be 100 to 599");
        request->status = (uint32_t) status;
    }
    request->type_mask = state->types_mask & s_types_of_categories (state->categories_mask);
    return 0;
}

static void
s_state_init (s_state_t *state, const void *data, size_t size, query_request_t *request,
              char *message, size_t message_size)
{
    memset (state, 0, sizeof *state);
    audit_mp_reader_init (&state->reader, data, size);
    state->request = request;
    state->message = message;
    state->message_size = message_size;
    state->types_mask = (1u << AUDIT_EVENT_COUNT) - 1;
    state->categories_mask = (1u << AUDIT_CATEGORY_COUNT) - 1;
    message [0] = 0;
    request->present = 0;
    request->has_token = false;
    request->token [0] = request->cursor [0] = request->client_ip [0] = 0;
    request->org_id [0] = request->actor_id [0] = request->user_id [0] = 0;
    request->device_id [0] = request->group_id [0] = request->subject [0] = 0;
    request->retention_days = request->status = 0;
    request->format = QUERY_FORMAT_CSV;
    request->from_ms = INT64_MIN;
    request->to_ms = INT64_MAX;
    request->message_id_count = 0;
}

int
query_request_decode (const void *data, size_t size, query_request_t *request,
                      audit_error_t *error, char *message, size_t message_size)
{
    s_state_t state;
    s_state_init (&state, data, size, request, message, message_size);
    int rc = 0;
    uint32_t pairs = 0;
    if (size > QUERY_REQUEST_MAX_BYTES)
        rc = s_fail (&state, AUDIT_ERROR_TOO_LARGE, "request over %d bytes", QUERY_REQUEST_MAX_BYTES);
    else
    if (audit_mp_read_map (&state.reader, &pairs) != AUDIT_MP_OK)
        rc = s_fail (&state, AUDIT_ERROR_BAD_REQUEST, "request is not a MessagePack map");
    for (uint32_t pair = 0; rc == 0 && pair < pairs; pair++)
        rc = s_read_pair (&state);
    if (rc == 0 && !audit_mp_at_end (&state.reader))
        rc = s_fail (&state, AUDIT_ERROR_BAD_REQUEST, "trailing bytes after the request");
    if (rc == 0 && !state.has_v)
        rc = s_fail (&state, AUDIT_ERROR_BAD_REQUEST, "request needs v");
    if (rc == 0 && !state.has_op)
        rc = s_fail (&state, AUDIT_ERROR_BAD_REQUEST, "request needs op");
    if (rc == 0)
        rc = s_check_op (&state) || s_check_ranges (&state) ? -1 : 0;
    *error = state.error;
    return rc;
}

static size_t
s_put (uint8_t *out, size_t size, size_t used, const void *data, size_t len)
{
    if (used + len <= size)
        memcpy (out + used, data, len);
    return used + len;
}

//  Length-prefixed, in a fixed order, so no two filter sets share bytes
static size_t
s_put_text (uint8_t *out, size_t size, size_t used, const char *text)
{
    uint8_t len = (uint8_t) strlen (text);
    used = s_put (out, size, used, &len, 1);
    return s_put (out, size, used, text, len);
}

size_t
query_request_filter_bytes (const query_request_t *request, uint8_t *out, size_t size)
{
    size_t used = 0;
    used = s_put (out, size, used, &request->from_ms, sizeof request->from_ms);
    used = s_put (out, size, used, &request->to_ms, sizeof request->to_ms);
    used = s_put (out, size, used, &request->type_mask, sizeof request->type_mask);
    used = s_put (out, size, used, &request->status, sizeof request->status);
    const uint32_t idents = A (ACTOR_ID) | A (USER_ID) | A (DEVICE_ID) | A (GROUP_ID)
                          | A (SUBJECT) | A (CLIENT_IP);
    uint32_t present = request->present & idents;
    used = s_put (out, size, used, &present, sizeof present);
    used = s_put_text (out, size, used, request->actor_id);
    used = s_put_text (out, size, used, request->user_id);
    used = s_put_text (out, size, used, request->device_id);
    used = s_put_text (out, size, used, request->group_id);
    used = s_put_text (out, size, used, request->subject);
    used = s_put_text (out, size, used, request->client_ip);
    return used <= size ? used : size;
}
