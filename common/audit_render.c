/*  =========================================================================
    audit_render - the one rendering of a stored event

    Each form walks a table (the CSV columns, or the envelope then the
    fields) and asks s_envelope / s_field for the value of one entry, so
    no key is spelled here. A value is text or a number; the text forms
    write a number in decimal, the JSON and MessagePack forms as a number.
    ========================================================================= */

#include "audit_render.h"

#include <assert.h>
#include <string.h>

#include "audit_ident.h"
#include "audit_time.h"

//  Digits of a uint64_t and its NUL
#define S_NUMBER_SIZE 21

//  Scratch for one value's text: a time, a UUID or a number
typedef char s_scratch_t [AUDIT_UUID_TEXT_LEN + 1];
_Static_assert (sizeof (s_scratch_t) >= AUDIT_TIME_TEXT_SIZE, "time fits the scratch");
_Static_assert (sizeof (s_scratch_t) >= S_NUMBER_SIZE, "number fits the scratch");

//  The longest line: every key and value escaped, with their punctuation
_Static_assert (AUDIT_RENDER_LINE_MAX
    >= (AUDIT_ENVELOPE_COUNT + AUDIT_FIELD_COUNT) * (6 * AUDIT_IDENT_MAX + 40) + 2,
    "AUDIT_RENDER_LINE_MAX holds the longest line");

typedef struct {
    const char *text;               //  NULL: absent (when not a number)
    bool number;
    uint64_t value;
} s_value_t;

static s_value_t
s_text (const char *text)
{
    return (s_value_t) { text, false, 0 };
}

static s_value_t
s_number (uint64_t value)
{
    return (s_value_t) { NULL, true, value };
}

//  One envelope entry of row; texts made here live in scratch
static s_value_t
s_envelope (const audit_row_t *row, audit_envelope_t key, char *scratch)
{
    const audit_event_info_t *info = audit_proto_event_info (row->type);
    switch (key) {
        case AUDIT_ENVELOPE_EVENT_ID:
            audit_ident_uuid_format (row->event_id, scratch);
            return s_text (scratch);
        case AUDIT_ENVELOPE_EVENT_TYPE:
            return s_text (info ? info->name : "unknown");
        case AUDIT_ENVELOPE_CATEGORY:
            return s_text (info ? audit_proto_category_name (info->category) : "unknown");
        case AUDIT_ENVELOPE_TIMESTAMP:
            audit_time_format (row->timestamp_ms, scratch);
            return s_text (scratch);
        case AUDIT_ENVELOPE_RECEIVED_AT:
            audit_time_format (row->received_ms, scratch);
            return s_text (scratch);
        case AUDIT_ENVELOPE_ORG_ID:
            return s_text (row->org_id);
        case AUDIT_ENVELOPE_ACTOR_ID:
            return s_text (row->actor_id);
        case AUDIT_ENVELOPE_LOG_INDEX:
            return s_number (row->log_index);
        default:
            return s_text (NULL);
    }
}

static s_value_t
s_field (const audit_row_t *row, int field)
{
    if (row->text [field])
        return s_text (row->text [field]);
    if (row->has_number [field])
        return s_number (row->number [field]);
    return s_text (NULL);
}

static bool
s_present (s_value_t value)
{
    return value.number || value.text;
}

//  Decimal digits of value, without printf's parsing (once per cell)
static const char *
s_decimal (uint64_t value, char *scratch)
{
    char *end = scratch + S_NUMBER_SIZE - 1;
    *end = 0;
    do
        *--end = (char) ('0' + value % 10);
    while (value /= 10);
    return end;
}

//  The texts of the row's columns, alive as long as cells
typedef struct {
    const char *cell [AUDIT_CSV_COLUMNS];
    s_scratch_t scratch [AUDIT_CSV_COLUMNS];
} s_cells_t;

static void
s_cells_fill (const audit_row_t *row, s_cells_t *cells)
{
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        const audit_csv_column_t *source = audit_proto_csv_column (column);
        char *scratch = cells->scratch [column];
        s_value_t value = source->is_field
                        ? s_field (row, source->index)
                        : s_envelope (row, (audit_envelope_t) source->index, scratch);
        cells->cell [column] = value.number ? s_decimal (value.value, scratch) : value.text;
    }
}

//  A bounded writer into a caller's buffer
typedef struct {
    char *at;
    char *end;                      //  one before the buffer's end: the NUL
    bool full;
} s_out_t;

static void
s_put (s_out_t *out, const char *bytes, size_t len)
{
    if (out->full || (size_t) (out->end - out->at) < len) {
        out->full = true;
        return;
    }
    memcpy (out->at, bytes, len);
    out->at += len;
}

static int
s_finish (s_out_t *out, char *buffer)
{
    if (out->full)
        return -1;
    *out->at = 0;
    return (int) (out->at - buffer);
}

int
audit_render_leaf (const audit_row_t *row, char *buffer, size_t size)
{
    if (!row || !buffer || size == 0 || size > INT32_MAX)
        return -1;
    s_cells_t cells;
    s_cells_fill (row, &cells);
    s_out_t out = { buffer, buffer + size - 1, false };
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        if (column > 0)
            s_put (&out, "\x1f", 1);
        if (cells.cell [column])
            s_put (&out, cells.cell [column], strlen (cells.cell [column]));
    }
    return s_finish (&out, buffer);
}

int
audit_render_csv (const audit_row_t *row, audit_csv_t *csv)
{
    if (!row || !csv)
        return -1;
    s_cells_t cells;
    s_cells_fill (row, &cells);
    audit_csv_row_t line;
    memcpy (line.column, cells.cell, sizeof line.column);
    return audit_csv_row (csv, &line);
}

//  The letter of c's two-character JSON escape, or 0: \u00XX
static char
s_json_short (unsigned char c)
{
    switch (c) {
        case '"':  return '"';
        case '\\': return '\\';
        case '\b': return 'b';
        case '\f': return 'f';
        case '\n': return 'n';
        case '\r': return 'r';
        case '\t': return 't';
        default:   return 0;
    }
}

//  Whether any of the 8 bytes of word is a control character, " or \\:
//  the bytes a JSON string cannot hold as they are. Eight at a time, as
//  the values are mostly plain (measured: a byte at a time was about a
//  fifth of an ndjson export's instructions).
static bool
s_json_word_plain (uint64_t word)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t quote = word ^ (ones * '"'), backslash = word ^ (ones * '\\');
    uint64_t special = ((word - ones * 0x20) & ~word)
                     | ((quote - ones) & ~quote)
                     | ((backslash - ones) & ~backslash);
    return (special & highs) == 0;
}

static bool
s_json_byte_plain (unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\';
}

//  A JSON string: " and \ escaped, control characters as \n, \t, ... or
//  \u00XX; everything else (UTF-8 included) as it is
static void
s_put_json_string (s_out_t *out, const char *text)
{
    static const char hex [] = "0123456789abcdef";
    size_t len = strlen (text);
    s_put (out, "\"", 1);
    size_t run = 0, at = 0;
    while (at < len) {
        uint64_t word;
        if (at + sizeof word <= len) {
            memcpy (&word, text + at, sizeof word);
            if (s_json_word_plain (word)) {
                at += sizeof word;
                continue;
            }
        }
        unsigned char c = (unsigned char) text [at];
        if (s_json_byte_plain (c)) {
            at++;
            continue;
        }
        s_put (out, text + run, at - run);
        run = ++at;
        char escape [6] = { '\\', s_json_short (c), '0', '0', 0, 0 };
        if (escape [1])
            s_put (out, escape, 2);
        else {
            escape [1] = 'u';
            escape [4] = hex [c >> 4];
            escape [5] = hex [c & 15];
            s_put (out, escape, 6);
        }
    }
    s_put (out, text + run, len - run);
    s_put (out, "\"", 1);
}

//  Each key as the JSON text that starts its pair, '{' or ',' before it
//  (first or not), escaped once: the envelope's keys, then the fields'
#define S_KEYS (AUDIT_ENVELOPE_COUNT + AUDIT_FIELD_COUNT)
#define S_KEY_MAX 64
static char s_keys [2][S_KEYS][S_KEY_MAX];
static size_t s_key_len [2][S_KEYS];

__attribute__ ((constructor)) static void
s_build_keys (void)
{
    for (int first = 0; first < 2; first++)
        for (int key = 0; key < S_KEYS; key++) {
            const char *name = key < AUDIT_ENVELOPE_COUNT
                ? audit_proto_envelope_key ((audit_envelope_t) key)
                : audit_proto_field_info ((audit_field_t) (key - AUDIT_ENVELOPE_COUNT))->key;
            s_out_t out = { s_keys [first][key], s_keys [first][key] + S_KEY_MAX - 1, false };
            s_put (&out, first? "{": ",", 1);
            s_put_json_string (&out, name);
            s_put (&out, ":", 1);
            assert (!out.full);
            s_key_len [first][key] = (size_t) (out.at - s_keys [first][key]);
        }
}

static void
s_put_json_pair (s_out_t *out, bool first, int key, s_value_t value)
{
    char digits [S_NUMBER_SIZE];
    s_put (out, s_keys [first][key], s_key_len [first][key]);
    if (value.number) {
        const char *text = s_decimal (value.value, digits);
        s_put (out, text, (size_t) (digits + S_NUMBER_SIZE - 1 - text));
    }
    else
        s_put_json_string (out, value.text ? value.text : "");
}

int
audit_render_ndjson (const audit_row_t *row, char *buffer, size_t size)
{
    if (!row || !buffer || size == 0 || size > INT32_MAX)
        return -1;
    s_out_t out = { buffer, buffer + size - 1, false };
    s_scratch_t scratch;
    for (int key = 0; key < AUDIT_ENVELOPE_COUNT; key++)
        s_put_json_pair (&out, key == 0, key, s_envelope (row, (audit_envelope_t) key, scratch));
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        s_value_t value = s_field (row, field);
        if (s_present (value))
            s_put_json_pair (&out, false, AUDIT_ENVELOPE_COUNT + field, value);
    }
    s_put (&out, "}\n", 2);
    return s_finish (&out, buffer);
}

static int
s_pack_text (msgpack_packer *packer, const char *text)
{
    size_t len = strlen (text);
    return msgpack_pack_str (packer, len) || msgpack_pack_str_body (packer, text, len) ? -1 : 0;
}

static int
s_pack_pair (msgpack_packer *packer, const char *key, s_value_t value)
{
    if (s_pack_text (packer, key))
        return -1;
    if (value.number)
        return msgpack_pack_uint64 (packer, value.value) ? -1 : 0;
    return s_pack_text (packer, value.text ? value.text : "");
}

int
audit_render_pack (const audit_row_t *row, msgpack_packer *packer)
{
    if (!row || !packer)
        return -1;
    uint32_t pairs = AUDIT_ENVELOPE_COUNT;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        pairs += s_present (s_field (row, field));
    int rc = msgpack_pack_map (packer, pairs) ? -1 : 0;
    s_scratch_t scratch;
    for (int key = 0; rc == 0 && key < AUDIT_ENVELOPE_COUNT; key++)
        rc = s_pack_pair (packer, audit_proto_envelope_key ((audit_envelope_t) key),
                          s_envelope (row, (audit_envelope_t) key, scratch));
    for (int field = 0; rc == 0 && field < AUDIT_FIELD_COUNT; field++) {
        s_value_t value = s_field (row, field);
        if (s_present (value))
            rc = s_pack_pair (packer, audit_proto_field_info ((audit_field_t) field)->key, value);
    }
    return rc;
}
