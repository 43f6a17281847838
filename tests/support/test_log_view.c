/*  =========================================================================
    test_log_view - an organisation's log as list and the exports show it
    ========================================================================= */

#include "test_log_view.h"

#include <criterion/criterion.h>
#include <csv.h>
#include <inttypes.h>

#include "ctl_json.h"

//  The contract's CSV columns, revision 2; each is also the key list uses
#define S_COLUMNS 15
static const char *s_columns [S_COLUMNS] = {
    "timestamp", "event_type", "org_id", "actor_id", "user_id", "device_id", "group_id",
    "role", "broadcast_id", "recipient_count", "file_ref", "file_size", "event_id",
    "retention_days", "log_index"
};
#define S_HEADER "timestamp,event_type,org_id,actor_id,user_id,device_id,group_id,role," \
                 "broadcast_id,recipient_count,file_ref,file_size,event_id," \
                 "retention_days,log_index\r\n"


//  --------------------------------------------------------------------------
//  Requests

static void
s_fill (test_pack_t *pack, void *arg)
{
    const test_args_t *args = (const test_args_t *) arg;
    for (int index = 0; index < 6 && args->keys [index]; index++)
        test_pack_kv_str (pack, args->keys [index], args->values [index]);
    if (args->uint_key)
        test_pack_kv_uint (pack, args->uint_key, args->uint_value);
}

//  Call op and assert an ok reply
void
test_call_ok (test_service_t *service, const char *op, const char *token,
              const test_args_t *args, msgpack_unpacked *reply)
{
    uint32_t pairs = args->uint_key ? 1 : 0;
    for (int index = 0; index < 6 && args->keys [index]; index++)
        pairs++;
    test_service_call (service, op, token, pairs, s_fill, (void *) args, reply);
    const msgpack_object *ok = test_obj_get (&reply->data, "ok");
    cr_assert (ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean,
               "%s: %s", op, test_reply_code (reply));
}

//  The reply's next_cursor into cursor ("" when nil)
static void
s_next_cursor (const msgpack_unpacked *reply, char *cursor, size_t size)
{
    const msgpack_object *next = test_obj_get (&reply->data, "next_cursor");
    cr_assert_not_null (next, "a reply without next_cursor");
    cursor [0] = 0;
    if (next->type == MSGPACK_OBJECT_STR)
        snprintf (cursor, size, "%.*s", (int) next->via.str.size, next->via.str.ptr);
}

//  --------------------------------------------------------------------------
//  An organisation's log as list returns it, by log_index

static void
s_free_text (void **item)
{
    free (*item);
    *item = NULL;
}

//  A list value as text: strings as they are, numbers in decimal
static char *
s_value_text (const msgpack_object *value)
{
    char *text = NULL;
    if (value->type == MSGPACK_OBJECT_STR)
        text = strndup (value->via.str.ptr, value->via.str.size);
    else
    if (value->type == MSGPACK_OBJECT_POSITIVE_INTEGER
    &&  asprintf (&text, "%" PRIu64, value->via.u64) < 0)
        text = NULL;
    cr_assert_not_null (text, "a list value that is neither str nor uint");
    return text;
}

static void
s_log_put (test_log_t *log, const msgpack_object *event)
{
    const msgpack_object *index = test_obj_get (event, "log_index");
    cr_assert (index && index->type == MSGPACK_OBJECT_POSITIVE_INTEGER,
               "every listed event has a log_index");
    cr_assert_lt (index->via.u64, 1000000, "log_index %" PRIu64, index->via.u64);
    size_t at = (size_t) index->via.u64;
    if (at >= log->slots) {
        size_t slots = at + 1 > 2 * log->slots ? at + 1 : 2 * log->slots;
        log->at = realloc (log->at, slots * sizeof *log->at);
        memset (log->at + log->slots, 0, (slots - log->slots) * sizeof *log->at);
        log->slots = slots;
    }
    cr_assert_null (log->at [at], "log_index %zu listed twice", at);
    zhashx_t *copy = zhashx_new ();
    zhashx_set_destructor (copy, s_free_text);
    for (uint32_t pair = 0; pair < event->via.map.size; pair++) {
        const msgpack_object *key = &event->via.map.ptr [pair].key;
        char name [64];
        snprintf (name, sizeof name, "%.*s", (int) key->via.str.size, key->via.str.ptr);
        cr_assert_eq (zhashx_insert (copy, name, s_value_text (&event->via.map.ptr [pair].val)),
                      0, "key %s twice", name);
    }
    log->at [at] = copy;
    log->events++;
}

void
test_log_clear (test_log_t *log)
{
    for (size_t at = 0; at < log->slots; at++)
        zhashx_destroy (&log->at [at]);
    free (log->at);
    memset (log, 0, sizeof *log);
}

const char *
test_log_value (const test_log_t *log, size_t at, const char *key)
{
    cr_assert (at < log->slots && log->at [at], "log_index %zu was not listed", at);
    return (const char *) zhashx_lookup (log->at [at], key);
}

//  Walk org's whole log with list, oldest first, following next_cursor
void
test_log_walk (test_service_t *service, test_log_t *log, const char *token, const char *org)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    char cursor [256] = "";
    do {
        test_args_t args = { { "org_id", "order", cursor [0] ? "cursor" : NULL },
                             { org, "asc", cursor }, "limit", 1000 };
        test_call_ok (service, "list", token, &args, &reply);
        const msgpack_object *events = test_obj_get (&reply.data, "events");
        cr_assert (events && events->type == MSGPACK_OBJECT_ARRAY);
        for (uint32_t index = 0; index < events->via.array.size; index++)
            s_log_put (log, &events->via.array.ptr [index]);
        s_next_cursor (&reply, cursor, sizeof cursor);
    } while (cursor [0]);
    msgpack_unpacked_destroy (&reply);
}

//  The log holds exactly the indexes 0 .. n-1, each once
void
test_log_expect_contiguous (const test_log_t *log, size_t n, const char *org)
{
    cr_assert_eq (log->events, n, "%s: %zu events listed, %zu stored", org, log->events, n);
    for (size_t at = n; at < log->slots; at++)
        cr_assert_null (log->at [at], "%s: log_index %zu of %zu events", org, at, n);
}

//  --------------------------------------------------------------------------
//  Exports

//  Every chunk of org's export in format, concatenated; *rows summed
static char *
s_export (test_service_t *service, const char *token, const char *org, const char *format,
          uint64_t limit, size_t *size, size_t *rows)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    char cursor [256] = "", *data = NULL;
    *size = *rows = 0;
    int chunks = 0;
    do {
        test_args_t args = { { "org_id", "format", cursor [0] ? "cursor" : NULL },
                             { org, format, cursor }, "limit", limit };
        test_call_ok (service, "export", token, &args, &reply);
        cr_assert (test_obj_str_eq (test_obj_get (&reply.data, "format"), format));
        const msgpack_object *chunk = test_obj_get (&reply.data, "data");
        cr_assert (chunk && chunk->type == MSGPACK_OBJECT_BIN);
        bool header = chunk->via.bin.size >= 10
                   && memcmp (chunk->via.bin.ptr, "timestamp,", 10) == 0;
        cr_assert_eq (header, chunks == 0 && streq (format, "csv"), "chunk %d: header", chunks);
        data = realloc (data, *size + chunk->via.bin.size + 1);
        memcpy (data + *size, chunk->via.bin.ptr, chunk->via.bin.size);
        *size += chunk->via.bin.size;
        *rows += test_obj_get (&reply.data, "rows")->via.u64;
        s_next_cursor (&reply, cursor, sizeof cursor);
        chunks++;
    } while (cursor [0]);
    data [*size] = 0;
    msgpack_unpacked_destroy (&reply);
    return data;
}

//  The rows of a CSV text, as libcsv reads them
typedef struct {
    char *(*rows) [S_COLUMNS];
    size_t count;
    size_t capacity;
    int field_at;
} s_csv_t;

static void
s_on_field (void *data, size_t len, void *arg)
{
    s_csv_t *csv = (s_csv_t *) arg;
    cr_assert_lt (csv->field_at, S_COLUMNS, "row %zu has more than 15 fields", csv->count);
    if (csv->count == csv->capacity) {
        csv->capacity = csv->capacity ? 2 * csv->capacity : 256;
        csv->rows = realloc (csv->rows, csv->capacity * sizeof *csv->rows);
    }
    csv->rows [csv->count][csv->field_at++] = strndup ((const char *) data, len);
}

static void
s_on_row (int terminator, void *arg)
{
    (void) terminator;
    s_csv_t *csv = (s_csv_t *) arg;
    cr_assert_eq (csv->field_at, S_COLUMNS, "row %zu has %d fields", csv->count, csv->field_at);
    csv->count++;
    csv->field_at = 0;
}

//  Parse an export; its first row is the contract's header, byte for byte
static void
s_csv_parse (const char *data, size_t size, s_csv_t *csv)
{
    memset (csv, 0, sizeof *csv);
    cr_assert (size >= strlen (S_HEADER) && memcmp (data, S_HEADER, strlen (S_HEADER)) == 0,
               "the header is the contract's 15 columns");
    size_t lf = 0, crlf = 0;
    for (size_t at = 0; at < size; at++)
        if (data [at] == '\n') {
            lf++;
            crlf += at > 0 && data [at - 1] == '\r';
        }
    cr_assert (lf == crlf && size >= 2 && data [size - 1] == '\n', "every line ends in CRLF");
    struct csv_parser parser;
    cr_assert_eq (csv_init (&parser, CSV_STRICT | CSV_STRICT_FINI), 0);
    cr_assert_eq (csv_parse (&parser, data, size, s_on_field, s_on_row, csv), size,
                  "%s", csv_strerror (csv_error (&parser)));
    cr_assert_eq (csv_fini (&parser, s_on_field, s_on_row, csv), 0);
    csv_free (&parser);
    cr_assert_geq (csv->count, 1);
    for (int column = 0; column < S_COLUMNS; column++)
        cr_assert_str_eq (csv->rows [0][column], s_columns [column]);
}

static void
s_csv_clear (s_csv_t *csv)
{
    for (size_t row = 0; row < csv->count; row++)
        for (int column = 0; column < S_COLUMNS; column++)
            free (csv->rows [row][column]);
    free (csv->rows);
    memset (csv, 0, sizeof *csv);
}

//  One CSV field against the listed value: guarded exactly when the value
//  would start a formula or with a quote, and the guard undone (one
//  leading ' stripped) gives the value back
static void
s_expect_field (const char *field, const char *value, size_t at, int column)
{
    bool guarded = value [0] && strchr ("=+-@\t\r'", value [0]);
    cr_expect_eq (field [0] == '\'', guarded, "log_index %zu %s: [%s] for [%s]",
                  at, s_columns [column], field, value);
    const char *undone = field [0] == '\'' ? field + 1 : field;
    cr_expect_str_eq (undone, value, "log_index %zu %s", at, s_columns [column]);
}

//  Every data row equals list's event of its log_index, each index once.
//  Returns the rows.
static size_t
s_expect_csv_is_log (const s_csv_t *csv, const test_log_t *log)
{
    bool *seen = calloc (log->slots + 1, sizeof *seen);
    for (size_t row = 1; row < csv->count; row++) {
        const char *index = csv->rows [row][S_COLUMNS - 1];
        cr_assert (index [0] && strspn (index, "0123456789") == strlen (index),
                   "row %zu: log_index [%s]", row, index);
        size_t at = (size_t) strtoull (index, NULL, 10);
        cr_assert (at < log->slots && log->at [at], "row %zu: log_index %zu not listed", row, at);
        cr_assert (!seen [at], "log_index %zu exported twice", at);
        seen [at] = true;
        for (int column = 0; column < S_COLUMNS; column++) {
            const char *value = test_log_value (log, at, s_columns [column]);
            s_expect_field (csv->rows [row][column], value ? value : "", at, column);
        }
    }
    free (seen);
    return csv->count - 1;
}

//  Every ndjson line parses and equals list's event of its log_index, key
//  for key, each index once. Returns the lines.
static size_t
s_expect_ndjson_is_log (const char *data, size_t size, const test_log_t *log)
{
    bool *seen = calloc (log->slots + 1, sizeof *seen);
    size_t lines = 0;
    for (const char *line = data, *end = data + size; line < end; lines++) {
        const char *lf = memchr (line, '\n', (size_t) (end - line));
        cr_assert_not_null (lf, "every line ends in LF");
        ctl_json_object_t object = { .count = 0 };
        char error [128];
        cr_assert_eq (ctl_json_parse (line, (size_t) (lf - line), &object, error, sizeof error),
                      0, "line %zu: %s", lines, error);
        const ctl_json_pair_t *index = ctl_json_find (&object, "log_index");
        cr_assert (index && index->kind == CTL_JSON_INT && index->integer >= 0, "line %zu", lines);
        size_t at = (size_t) index->integer;
        cr_assert (at < log->slots && log->at [at], "line %zu: log_index %zu not listed",
                   lines, at);
        cr_assert (!seen [at], "log_index %zu exported twice", at);
        seen [at] = true;
        cr_assert_eq (object.count, zhashx_size (log->at [at]), "log_index %zu: keys", at);
        for (size_t pair = 0; pair < object.count; pair++) {
            const ctl_json_pair_t *got = &object.pairs [pair];
            const char *want = test_log_value (log, at, got->key);
            cr_assert_not_null (want, "log_index %zu: %s is not in list's event", at, got->key);
            char number [24];
            snprintf (number, sizeof number, "%" PRId64, got->integer);
            cr_assert (got->kind == CTL_JSON_INT || got->kind == CTL_JSON_STR);
            const char *text = got->kind == CTL_JSON_INT ? number : got->text;
            size_t len = got->kind == CTL_JSON_INT ? strlen (number) : got->text_len;
            cr_expect (len == strlen (want) && memcmp (text, want, len) == 0,
                       "log_index %zu %s: [%.*s] for [%s]", at, got->key, (int) len, text, want);
        }
        ctl_json_clear (&object);
        line = lf + 1;
    }
    free (seen);
    return lines;
}

//  An event listed twice is the same, key for key: nothing of it changed
static void
s_expect_same_event (const test_log_t *before, const test_log_t *after, size_t at)
{
    zhashx_t *was = before->at [at], *is = after->at [at];
    cr_assert (was && is && zhashx_size (was) == zhashx_size (is), "log_index %zu", at);
    for (const char *value = zhashx_first (was); value; value = zhashx_next (was)) {
        const char *key = (const char *) zhashx_cursor (was);
        const char *now = (const char *) zhashx_lookup (is, key);
        cr_assert (now && streq (now, value), "log_index %zu: %s changed", at, key);
    }
}

//  The whole log through both export formats: n events now, and each
//  completed export adds its own audit_log_exported event
void
test_log_expect_exports (test_service_t *service, const char *token, const char *org,
                         size_t n, uint64_t limit)
{
    test_log_t log = { 0 };
    test_log_walk (service, &log, token, org);
    test_log_expect_contiguous (&log, n, org);
    size_t size, rows;
    char *data = s_export (service, token, org, "csv", limit, &size, &rows);
    s_csv_t csv;
    s_csv_parse (data, size, &csv);
    cr_assert_eq (rows, n);
    cr_assert_eq (s_expect_csv_is_log (&csv, &log), n);
    s_csv_clear (&csv);
    free (data);

    test_log_t after = { 0 };
    test_log_walk (service, &after, token, org);
    test_log_expect_contiguous (&after, n + 1, org);
    cr_assert_str_eq (test_log_value (&after, n, "event_type"), "audit_log_exported");
    for (size_t at = 0; at < n; at++)
        s_expect_same_event (&log, &after, at);
    data = s_export (service, token, org, "ndjson", limit, &size, &rows);
    cr_assert_eq (rows, n + 1);
    cr_assert_eq (s_expect_ndjson_is_log (data, size, &after), n + 1);
    free (data);
    test_log_clear (&after);
    test_log_clear (&log);
}
