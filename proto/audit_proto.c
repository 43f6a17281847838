/*  =========================================================================
    audit_proto - the wire contract, version 1, in code

    Every table here is expanded from the .def files: one source of truth.
    ========================================================================= */

#include "audit_proto.h"

#include <string.h>

#define F(NAME) AUDIT_FIELD_BIT (AUDIT_FIELD_##NAME)

static const audit_event_info_t s_events [AUDIT_EVENT_COUNT] = {
#define AUDIT_EVENT(NAME, name, cat, req, opt, reserved) \
    [AUDIT_EVENT_##NAME] = { name, AUDIT_CATEGORY_##cat, (req), (opt), (reserved) },
#include "audit_events.def"
#undef AUDIT_EVENT
};

static const audit_field_info_t s_fields [AUDIT_FIELD_COUNT] = {
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) \
    [AUDIT_FIELD_##NAME] = { key, AUDIT_KIND_##kind, (min), (max), (csv), \
                             column, AUDIT_STORED_##stored, (filter) },
#include "audit_fields.def"
#undef AUDIT_FIELD
};

typedef struct {
    const char *key;
    int csv;
} s_envelope_t;

static const s_envelope_t s_envelope [AUDIT_ENVELOPE_COUNT] = {
#define AUDIT_ENVELOPE(NAME, key, csv) [AUDIT_ENVELOPE_##NAME] = { key, (csv) },
#include "audit_envelope.def"
#undef AUDIT_ENVELOPE
};

//  No row names a column past the last (audit_proto.h checks the rest)
#define AUDIT_ENVELOPE(NAME, key, csv) \
    _Static_assert ((csv) < AUDIT_CSV_COLUMNS, "CSV column of " key);
#include "audit_envelope.def"
#undef AUDIT_ENVELOPE
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) \
    _Static_assert ((csv) < AUDIT_CSV_COLUMNS, "CSV column of " key);
#include "audit_fields.def"
#undef AUDIT_FIELD

static const char *s_categories [AUDIT_CATEGORY_COUNT] = {
#define AUDIT_CATEGORY(NAME, name) [AUDIT_CATEGORY_##NAME] = name,
#include "audit_categories.def"
#undef AUDIT_CATEGORY
};

static const char *s_reasons [AUDIT_REASON_COUNT] = {
#define AUDIT_REASON(NAME, name) [AUDIT_REASON_##NAME] = name,
#include "audit_reasons.def"
#undef AUDIT_REASON
};

static const struct {
    const char *name;
    int64_t up_ms;
} s_workers [AUDIT_WORKER_COUNT] = {
#define AUDIT_WORKER(NAME, name, up_ms) [AUDIT_WORKER_##NAME] = { name, up_ms },
#include "audit_workers.def"
#undef AUDIT_WORKER
};

static const char *s_errors [AUDIT_ERROR_COUNT] = {
#define AUDIT_ERROR(NAME, code) [AUDIT_ERROR_##NAME] = code,
#include "audit_errors.def"
#undef AUDIT_ERROR
};

const audit_event_info_t *
audit_proto_event_info (audit_event_type_t type)
{
    if ((int) type < 0 || type >= AUDIT_EVENT_COUNT)
        return NULL;
    return &s_events [type];
}

static bool
s_equals (const char *text, size_t len, const char *name)
{
    return strlen (name) == len && memcmp (text, name, len) == 0;
}

//  The index of text (len bytes) in a table of count names, or -1
static int
s_name_index (const char *const *names, int count, const char *text, size_t len)
{
    for (int candidate = 0; candidate < count; candidate++)
        if (s_equals (text, len, names [candidate]))
            return candidate;
    return -1;
}

int
audit_proto_event_lookup (const char *name, size_t len, audit_event_type_t *type)
{
    for (int candidate = 0; candidate < AUDIT_EVENT_COUNT; candidate++)
        if (s_equals (name, len, s_events [candidate].name)) {
            *type = (audit_event_type_t) candidate;
            return 0;
        }
    return -1;
}

static const audit_body_field_info_t s_ops_fields [AUDIT_OPS_FIELD_COUNT] = {
#define AUDIT_OPS_FIELD(NAME, key, type, min, max, required, member) \
    [AUDIT_OPS_FIELD_##NAME] = { key, AUDIT_BODY_##type, min, max, required },
#include "audit_ops_fields.def"
#undef AUDIT_OPS_FIELD
};

static const audit_body_field_info_t s_mq_fields [AUDIT_MQ_FIELD_COUNT] = {
#define AUDIT_MQ_FIELD(NAME, key, type, min, max, required, member) \
    [AUDIT_MQ_FIELD_##NAME] = { key, AUDIT_BODY_##type, min, max, required },
#include "audit_mq_fields.def"
#undef AUDIT_MQ_FIELD
};

const audit_body_field_info_t *
audit_proto_ops_field_info (audit_ops_field_t field)
{
    return (int) field >= 0 && field < AUDIT_OPS_FIELD_COUNT? &s_ops_fields [field]: NULL;
}

const audit_body_field_info_t *
audit_proto_mq_field_info (audit_mq_field_t field)
{
    return (int) field >= 0 && field < AUDIT_MQ_FIELD_COUNT? &s_mq_fields [field]: NULL;
}

const audit_field_info_t *
audit_proto_field_info (audit_field_t field)
{
    if ((int) field < 0 || field >= AUDIT_FIELD_COUNT)
        return NULL;
    return &s_fields [field];
}

int
audit_proto_field_lookup (const char *key, size_t len, audit_field_t *field)
{
    for (int candidate = 0; candidate < AUDIT_FIELD_COUNT; candidate++)
        if (s_equals (key, len, s_fields [candidate].key)) {
            *field = (audit_field_t) candidate;
            return 0;
        }
    return -1;
}

const char *
audit_proto_category_name (audit_category_t category)
{
    if ((int) category < 0 || category >= AUDIT_CATEGORY_COUNT)
        return "?";
    return s_categories [category];
}

int
audit_proto_category_lookup (const char *name, size_t len, audit_category_t *category)
{
    int index = s_name_index (s_categories, AUDIT_CATEGORY_COUNT, name, len);
    if (index >= 0)
        *category = (audit_category_t) index;
    return index >= 0? 0: -1;
}

static const char *s_ack_keys [AUDIT_ACK_KEY_COUNT] = {
#define AUDIT_ACK_KEY(NAME, key) [AUDIT_ACK_KEY_##NAME] = key,
#include "audit_ack.def"
#undef AUDIT_ACK_KEY
};

static const char *s_ack_ops [AUDIT_ACK_OP_COUNT] = {
#define AUDIT_ACK_OP(NAME, op) [AUDIT_ACK_OP_##NAME] = op,
#include "audit_ack.def"
#undef AUDIT_ACK_OP
};

const char *
audit_proto_ack_key (audit_ack_key_t key)
{
    return (int) key >= 0 && key < AUDIT_ACK_KEY_COUNT? s_ack_keys [key]: "?";
}

const char *
audit_proto_ack_op (audit_ack_op_t op)
{
    return (int) op >= 0 && op < AUDIT_ACK_OP_COUNT? s_ack_ops [op]: "?";
}

const char *
audit_proto_reason_name (audit_reason_t reason)
{
    if ((int) reason < 0 || reason >= AUDIT_REASON_COUNT)
        return "?";
    return s_reasons [reason];
}

int
audit_proto_reason_lookup (const char *name, size_t len, audit_reason_t *reason)
{
    int index = s_name_index (s_reasons, AUDIT_REASON_COUNT, name, len);
    if (index >= 0)
        *reason = (audit_reason_t) index;
    return index >= 0? 0: -1;
}

const char *
audit_proto_worker_name (audit_worker_id_t worker)
{
    return (int) worker >= 0 && worker < AUDIT_WORKER_COUNT? s_workers [worker].name: "?";
}

int64_t
audit_proto_worker_up_ms (audit_worker_id_t worker)
{
    return (int) worker >= 0 && worker < AUDIT_WORKER_COUNT? s_workers [worker].up_ms: 0;
}

const char *
audit_proto_error_code (audit_error_t error)
{
    if ((int) error < 0 || error >= AUDIT_ERROR_COUNT)
        return "internal";
    return s_errors [error];
}

static bool
s_topic_is (const char *topic, size_t len, const char *prefix)
{
    size_t plen = strlen (prefix);
    if (len < plen || memcmp (topic, prefix, plen) != 0)
        return false;
    return len == plen || topic [plen] == '.';
}

audit_topic_kind_t
audit_proto_topic_kind (const char *topic, size_t len)
{
    if (s_topic_is (topic, len, AUDIT_TOPIC_AUDIT))
        return AUDIT_TOPIC_KIND_AUDIT;
    if (s_topic_is (topic, len, AUDIT_TOPIC_OPS))
        return AUDIT_TOPIC_KIND_OPS;
    if (s_topic_is (topic, len, AUDIT_TOPIC_MQ))
        return AUDIT_TOPIC_KIND_MQ;
    return AUDIT_TOPIC_KIND_UNKNOWN;
}

const char *
audit_proto_envelope_key (audit_envelope_t key)
{
    if ((int) key < 0 || key >= AUDIT_ENVELOPE_COUNT)
        return "?";
    return s_envelope [key].key;
}

int
audit_proto_envelope_csv (audit_envelope_t key)
{
    if ((int) key < 0 || key >= AUDIT_ENVELOPE_COUNT)
        return -1;
    return s_envelope [key].csv;
}

//  The header's size: every column's key and its comma (or the NUL)
enum {
    S_HEADER_SIZE = 0
#define AUDIT_ENVELOPE(NAME, key, csv) + ((csv) >= 0 ? sizeof (key) : 0)
#include "audit_envelope.def"
#undef AUDIT_ENVELOPE
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) + ((csv) >= 0 ? sizeof (key) : 0)
#include "audit_fields.def"
#undef AUDIT_FIELD
};

//  Built once from the two tables, so a new column cannot be forgotten;
//  a constructor runs before any worker thread can ask for them.
static audit_csv_column_t s_columns [AUDIT_CSV_COLUMNS];
static char s_csv_header [S_HEADER_SIZE + 1];

__attribute__ ((constructor)) static void
s_columns_build (void)
{
    for (int key = 0; key < AUDIT_ENVELOPE_COUNT; key++)
        if (s_envelope [key].csv >= 0)
            s_columns [s_envelope [key].csv] = (audit_csv_column_t) {
                s_envelope [key].key, false, key };
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (s_fields [field].csv >= 0)
            s_columns [s_fields [field].csv] = (audit_csv_column_t) {
                s_fields [field].key, true, field };
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        if (column > 0)
            strcat (s_csv_header, ",");
        strcat (s_csv_header, s_columns [column].key);
    }
}

const audit_csv_column_t *
audit_proto_csv_column (int column)
{
    if (column < 0 || column >= AUDIT_CSV_COLUMNS)
        return NULL;
    return &s_columns [column];
}

const char *
audit_proto_csv_header (void)
{
    return s_csv_header;
}
