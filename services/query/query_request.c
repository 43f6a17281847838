/*  =========================================================================
    query_request - one request frame, decoded and checked in one place

    The map is walked by audit_keys, the walker the event decoder uses, with
    the policy AUDIT_KEYS_REFUSE: an unknown key is bad_request. Its keys
    are v, op, token, one per row of query_args.def, and the key of each
    filter field of audit_fields.def (an identifier, into request->field).
    No filter field is spelled here: a new one is a row. Values are checked
    by kind while the map is walked (the op may come last), then against
    the op: which arguments it takes and their ranges.
    ========================================================================= */

#include "query_request.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit_ident.h"
#include "audit_keys.h"
#include "audit_mp.h"
#include "audit_time.h"

//  A row of query_args.def without its case in s_slot is an error whatever
//  the build's warning flags
#pragma GCC diagnostic error "-Wswitch"

#define A(NAME) QUERY_ARG_BIT (QUERY_ARG_##NAME)
#define F(NAME) QUERY_ARG_FIELD_BIT (AUDIT_FIELD_##NAME)
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

//  An op may name a field argument (mq_fetch's device_id) only when the
//  field is a filter field: the others have no key in a request
_Static_assert (((0
#define QUERY_OP(NAME, name, role, req, opt, dlimit, mlimit, order) | (req) | (opt)
#include "query_ops.def"
#undef QUERY_OP
    ) & ~QUERY_FILTER_FIELDS & ~(QUERY_ARG_FIELD_BIT (0) - 1)) == 0,
    "an op takes a field argument that is no filter field");

typedef enum {
    S_KIND_IDENT, S_KIND_TIME, S_KIND_UINT, S_KIND_TYPES, S_KIND_CATEGORIES,
    S_KIND_ORDER, S_KIND_CURSOR, S_KIND_FORMAT, S_KIND_IP, S_KIND_UUIDS
} s_kind_t;

static const struct { const char *key; s_kind_t kind; } s_args [QUERY_ARG_COUNT] = {
#define QUERY_ARG(NAME, key, kind) [QUERY_ARG_##NAME] = { key, S_KIND_##kind },
#include "query_args.def"
#undef QUERY_ARG
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) \
    [QUERY_ARG_FIELD + AUDIT_FIELD_##NAME] = { key, S_KIND_IDENT },
#include "audit_fields.def"
#undef AUDIT_FIELD
};

//  The keys of a request: the envelope, then the arguments in table order.
//  A field that is no filter is a hole: its key is unknown in a request.
enum { S_KEY_V, S_KEY_OP, S_KEY_TOKEN, S_KEY_ARGS };
#define S_KEY_COUNT (S_KEY_ARGS + QUERY_ARG_COUNT)

static const audit_keys_key_t s_keys [S_KEY_COUNT] = {
    AUDIT_KEYS_KEY ("v"), AUDIT_KEYS_KEY ("op"), AUDIT_KEYS_KEY ("token"),
#define QUERY_ARG(NAME, key, kind) AUDIT_KEYS_KEY (key),
#include "query_args.def"
#undef QUERY_ARG
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) \
    { (filter)? key: NULL, (filter)? sizeof (key) - 1: 0 },
#include "audit_fields.def"
#undef AUDIT_FIELD
};

//  The limits the tables could outgrow: the keys met are a 64-bit set (the
//  arguments given too, QUERY_ARG_BIT, checked in the header), event types
//  and categories 32-bit masks whose "all" is (1u << COUNT) - 1
_Static_assert (S_KEY_COUNT <= AUDIT_KEYS_MAX, "a request has more keys than the key set holds");
_Static_assert (AUDIT_EVENT_COUNT < 32, "more event types than a type mask has bits");
_Static_assert (AUDIT_CATEGORY_COUNT < 32, "more categories than a category mask has bits");

//  Decoding state: the request, the reader, and the first error
typedef struct {
    audit_mp_reader_t reader;
    query_request_t *request;
    uint32_t types_mask, categories_mask;
    uint64_t number [QUERY_ARG_COUNT];  //  UINT arguments, checked per op
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

const char *
query_request_arg_key (query_arg_t arg)
{
    return (int) arg >= 0 && arg < QUERY_ARG_COUNT ? s_keys [S_KEY_ARGS + arg].name : NULL;
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
    return len > 0 && audit_ident_is_valid (out, (size_t) len) ? 0 : -1;
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
        ||  audit_ident_uuid_parse (text, len, request->message_ids [index]) != 0)
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

//  Where the value of an IDENT or TIME argument goes. A field argument
//  goes to its own place in request->field. Every row of query_args.def
//  has a case and there is no default, so a new row without its own place
//  fails to compile (-Wswitch) instead of being filed under another
//  argument's. The arguments of other kinds have no slot here.
typedef struct {
    audit_ident_t *ident;
    int64_t *time;
} s_slot_t;

static s_slot_t
s_slot (query_request_t *request, query_arg_t arg)
{
    const s_slot_t none = { NULL, NULL };
    if (arg >= QUERY_ARG_FIELD && arg < QUERY_ARG_COUNT)
        return (s_slot_t) { .ident = &request->field [arg - QUERY_ARG_FIELD] };
    switch (arg) {
        case QUERY_ARG_ORG_ID:    return (s_slot_t) { .ident = &request->org_id };
        case QUERY_ARG_ACTOR_ID:  return (s_slot_t) { .ident = &request->actor_id };
        case QUERY_ARG_SUBJECT:   return (s_slot_t) { .ident = &request->subject };
        case QUERY_ARG_FROM:      return (s_slot_t) { .time = &request->from_ms };
        case QUERY_ARG_TO:        return (s_slot_t) { .time = &request->to_ms };
        case QUERY_ARG_EVENT_TYPES: case QUERY_ARG_CATEGORIES: case QUERY_ARG_ORDER:
        case QUERY_ARG_LIMIT: case QUERY_ARG_CURSOR: case QUERY_ARG_FORMAT:
        case QUERY_ARG_RETENTION_DAYS: case QUERY_ARG_STATUS: case QUERY_ARG_CLIENT_IP:
        case QUERY_ARG_MESSAGE_IDS: case QUERY_ARG_SIZE: case QUERY_ARG_LOG_INDEX:
        case QUERY_ARG_FROM_SIZE: case QUERY_ARG_FROM_INDEX: case QUERY_ARG_WAIT_MS:
        case QUERY_ARG_FIELD: case QUERY_ARG_COUNT:
            return none;
    }
    return none;
}

//  One argument's value, checked by its kind
static int
s_read_arg (s_state_t *state, query_arg_t arg)
{
    query_request_t *request = state->request;
    s_slot_t slot = s_slot (request, arg);
    int which = 0;
    int rc = -1;
    switch (s_args [arg].kind) {
        case S_KIND_IDENT:
            rc = slot.ident ? s_read_ident (state, *slot.ident) : -1;
            break;
        case S_KIND_TIME:
            rc = slot.time ? s_read_time (state, slot.time) : -1;
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

static int
s_read_version (s_state_t *state)
{
    uint64_t v;
    if (audit_mp_read_uint (&state->reader, &v) != AUDIT_MP_OK || v != AUDIT_PROTO_VERSION)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "unsupported version: v must be 1");
    return 0;
}

//  The value of a known key (audit_keys_value_fn); a key met twice never
//  gets here
static int
s_read_value (void *arg, int key)
{
    s_state_t *state = (s_state_t *) arg;
    if (key == S_KEY_V)
        return s_read_version (state);
    if (key == S_KEY_OP)
        return s_read_op (state);
    if (key == S_KEY_TOKEN)
        return s_read_token (state);
    query_arg_t argument = (query_arg_t) (key - S_KEY_ARGS);
    state->request->present |= QUERY_ARG_BIT (argument);
    if (s_read_arg (state, argument) != 0)
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "%s %s", s_args [argument].key,
                       state->has_nul ? "must not contain a NUL byte"
                                      : "has a wrong type or form");
    return 0;
}

//  Print a key in a message only when it is short and printable
static const char *
s_key_for_message (const char *key, uint32_t len, char *out, size_t size)
{
    if (len == 0 || len >= size || !audit_ident_is_valid (key, len))
        return "(unprintable)";
    memcpy (out, key, len);
    out [len] = 0;
    return out;
}

static const audit_keys_table_t s_table = {
    s_keys, S_KEY_COUNT, AUDIT_KEYS_REFUSE, s_read_value, NULL
};

//  The map, walked once; v and op are required of every request. A key met
//  twice is refused: which value would count is exactly the ambiguity to avoid.
static int
s_read_map (s_state_t *state)
{
    audit_keys_walk_t walk;
    char printable [65];
    switch (audit_keys_walk (&state->reader, &s_table, state, &walk)) {
        case AUDIT_KEYS_OK:         break;
        case AUDIT_KEYS_STOPPED:    return -1;      //  s_read_value said why
        case AUDIT_KEYS_NOT_MAP:
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "request is not a MessagePack map");
        case AUDIT_KEYS_NOT_STR:
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "every key must be a string");
        case AUDIT_KEYS_TWICE:
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "%s given twice", s_keys [walk.key].name);
        case AUDIT_KEYS_UNKNOWN:
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "unknown key %s",
                           s_key_for_message (walk.name, walk.len, printable, sizeof printable));
        case AUDIT_KEYS_MALFORMED:
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "request is not valid MessagePack");
        case AUDIT_KEYS_TRAILING:
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "trailing bytes after the request");
    }
    if (!(walk.seen & (1ULL << S_KEY_V)))
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "request needs v");
    if (!(walk.seen & (1ULL << S_KEY_OP)))
        return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "request needs op");
    return 0;
}

//  The op's own rules: which arguments, their ranges
static int
s_check_op (s_state_t *state)
{
    query_request_t *request = state->request;
    const query_op_info_t *info = &s_ops [request->op];
    query_arg_mask_t stray = request->present & ~(info->required | info->optional);
    query_arg_mask_t missing = info->required & ~request->present;
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
    if (request->present & A (WAIT_MS)) {
        uint64_t wait = state->number [QUERY_ARG_WAIT_MS];
        if (wait > QUERY_TAIL_WAIT_MAX_MS)
            return s_fail (state, AUDIT_ERROR_BAD_REQUEST, "wait_ms must be 0 to %d",
                           QUERY_TAIL_WAIT_MAX_MS);
        request->wait_ms = (uint32_t) wait;
    }
    request->from_index = state->number [QUERY_ARG_FROM_INDEX];
    request->size = state->number [QUERY_ARG_SIZE];
    request->log_index = state->number [QUERY_ARG_LOG_INDEX];
    request->from_size = state->number [QUERY_ARG_FROM_SIZE];
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
    request->org_id [0] = request->actor_id [0] = request->subject [0] = 0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        request->field [field][0] = 0;
    request->retention_days = request->status = 0;
    request->size = request->log_index = request->from_size = 0;
    request->from_index = 0;
    request->wait_ms = 0;
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
    int rc;
    if (size > QUERY_REQUEST_MAX_BYTES)
        rc = s_fail (&state, AUDIT_ERROR_TOO_LARGE, "request over %d bytes", QUERY_REQUEST_MAX_BYTES);
    else
        rc = s_read_map (&state);
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
    const query_arg_mask_t idents = A (ACTOR_ID) | A (SUBJECT) | A (CLIENT_IP)
                                  | QUERY_FILTER_FIELDS;
    query_arg_mask_t present = request->present & idents;
    used = s_put (out, size, used, &present, sizeof present);
    used = s_put_text (out, size, used, request->actor_id);
    used = s_put_text (out, size, used, request->subject);
    used = s_put_text (out, size, used, request->client_ip);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (QUERY_FILTER_FIELDS & QUERY_ARG_FIELD_BIT (field))
            used = s_put_text (out, size, used, request->field [field]);
    return used <= size ? used : size;
}
