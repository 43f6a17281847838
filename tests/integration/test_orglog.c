/*  The real audit-ingest and audit-query as an organisation's log shows
    them: every stored event, the service's own audit_access events
    included, gets its organisation's next log_index in commit order though
    both workers write audit.db; a duplicate is the same event_id at the
    same timestamp; and the CSV and ndjson exports give back, field by
    field, what list returns for the same log_index. */

#include <criterion/criterion.h>
#include <csv.h>
#include <ctype.h>
#include <inttypes.h>

#include "audit_time.h"
#include "ctl_json.h"
#include "test_service.h"

static test_service_t *s;

static void
s_setup (void)
{
    s = test_service_start ("orglog", true);
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
}

TestSuite (orglog, .init = s_setup, .fini = s_teardown, .timeout = 120);

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

//  The actor of the service's own events: the admin token's sub
#define S_ADMIN_SUB "sub-org_admin"

//  --------------------------------------------------------------------------
//  Requests

//  Arguments of a request: up to 6 string pairs and one uint pair
typedef struct {
    const char *keys [6];
    const char *values [6];
    const char *uint_key;
    uint64_t uint_value;
} s_args_t;

static void
s_fill (test_pack_t *pack, void *arg)
{
    const s_args_t *args = (const s_args_t *) arg;
    for (int index = 0; index < 6 && args->keys [index]; index++)
        test_pack_kv_str (pack, args->keys [index], args->values [index]);
    if (args->uint_key)
        test_pack_kv_uint (pack, args->uint_key, args->uint_value);
}

//  Call op and assert an ok reply
static void
s_call_ok (const char *op, const char *token, const s_args_t *args, msgpack_unpacked *reply)
{
    uint32_t pairs = args->uint_key ? 1 : 0;
    for (int index = 0; index < 6 && args->keys [index]; index++)
        pairs++;
    test_service_call (s, op, token, pairs, s_fill, (void *) args, reply);
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

//  An audit event of type user_login, with the timestamp ms in one of the
//  contract's forms: 0 RFC 3339 UTC, 1 MessagePack ext, 2 RFC 3339 +01:00
static test_pack_t *
s_login (const char *org, const char *actor, const char *id, int64_t ms, int form)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", id);
    test_pack_kv_str (pack, "event_type", "user_login");
    char when [AUDIT_TIME_TEXT_SIZE + 8];
    audit_time_format (form == 2 ? ms + 3600 * 1000 : ms, when);
    if (form == 2)
        strcpy (when + strlen (when) - 1, "+01:00");
    if (form == 1)
        test_pack_kv_ts_ext (pack, "timestamp", ms, 12);
    else
        test_pack_kv_str (pack, "timestamp", when);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", actor);
    return pack;
}

static void
s_publish (test_pack_t *pack)
{
    test_service_publish (s, "audit", pack);
    test_pack_destroy (&pack);
}

//  --------------------------------------------------------------------------
//  An organisation's log as list returns it, by log_index

typedef struct {
    zhashx_t **at;              //  key -> value text of each log_index; NULL: not listed
    size_t slots;
    size_t events;
} s_log_t;

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
s_log_put (s_log_t *log, const msgpack_object *event)
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

static void
s_log_clear (s_log_t *log)
{
    for (size_t at = 0; at < log->slots; at++)
        zhashx_destroy (&log->at [at]);
    free (log->at);
    memset (log, 0, sizeof *log);
}

static const char *
s_log_value (const s_log_t *log, size_t at, const char *key)
{
    cr_assert (at < log->slots && log->at [at], "log_index %zu was not listed", at);
    return (const char *) zhashx_lookup (log->at [at], key);
}

//  Walk org's whole log with list, oldest first, following next_cursor
static void
s_log_walk (s_log_t *log, const char *token, const char *org)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    char cursor [256] = "";
    do {
        s_args_t args = { { "org_id", "order", cursor [0] ? "cursor" : NULL },
                          { org, "asc", cursor }, "limit", 1000 };
        s_call_ok ("list", token, &args, &reply);
        const msgpack_object *events = test_obj_get (&reply.data, "events");
        cr_assert (events && events->type == MSGPACK_OBJECT_ARRAY);
        for (uint32_t index = 0; index < events->via.array.size; index++)
            s_log_put (log, &events->via.array.ptr [index]);
        s_next_cursor (&reply, cursor, sizeof cursor);
    } while (cursor [0]);
    msgpack_unpacked_destroy (&reply);
}

//  The log holds exactly the indexes 0 .. n-1, each once
static void
s_expect_contiguous (const s_log_t *log, size_t n, const char *org)
{
    cr_assert_eq (log->events, n, "%s: %zu events listed, %zu stored", org, log->events, n);
    for (size_t at = n; at < log->slots; at++)
        cr_assert_null (log->at [at], "%s: log_index %zu of %zu events", org, at, n);
}

//  --------------------------------------------------------------------------
//  Exports

//  Every chunk of org's export in format, concatenated; *rows summed
static char *
s_export (const char *token, const char *org, const char *format, uint64_t limit,
          size_t *size, size_t *rows)
{
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    char cursor [256] = "", *data = NULL;
    *size = *rows = 0;
    int chunks = 0;
    do {
        s_args_t args = { { "org_id", "format", cursor [0] ? "cursor" : NULL },
                          { org, format, cursor }, "limit", limit };
        s_call_ok ("export", token, &args, &reply);
        cr_assert (test_obj_str_eq (test_obj_get (&reply.data, "format"), format));
        const msgpack_object *chunk = test_obj_get (&reply.data, "data");
        cr_assert (chunk && chunk->type == MSGPACK_OBJECT_BIN);
        bool header = chunk->via.bin.size >= 10 && memcmp (chunk->via.bin.ptr, "timestamp,", 10) == 0;
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
s_expect_csv_is_log (const s_csv_t *csv, const s_log_t *log)
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
            const char *value = s_log_value (log, at, s_columns [column]);
            s_expect_field (csv->rows [row][column], value ? value : "", at, column);
        }
    }
    free (seen);
    return csv->count - 1;
}

//  Every ndjson line parses and equals list's event of its log_index, key
//  for key, each index once. Returns the lines.
static size_t
s_expect_ndjson_is_log (const char *data, size_t size, const s_log_t *log)
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
        cr_assert (at < log->slots && log->at [at], "line %zu: log_index %zu not listed", lines, at);
        cr_assert (!seen [at], "log_index %zu exported twice", at);
        seen [at] = true;
        cr_assert_eq (object.count, zhashx_size (log->at [at]), "log_index %zu: keys", at);
        for (size_t pair = 0; pair < object.count; pair++) {
            const ctl_json_pair_t *got = &object.pairs [pair];
            const char *want = s_log_value (log, at, got->key);
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

//  The whole log through both export formats: n events now, and each
//  completed export adds its own audit_log_exported event
static void
s_expect_exports_are_log (const char *token, const char *org, size_t n, uint64_t limit)
{
    s_log_t log = { 0 };
    s_log_walk (&log, token, org);
    s_expect_contiguous (&log, n, org);
    size_t size, rows;
    char *data = s_export (token, org, "csv", limit, &size, &rows);
    s_csv_t csv;
    s_csv_parse (data, size, &csv);
    cr_assert_eq (rows, n);
    cr_assert_eq (s_expect_csv_is_log (&csv, &log), n);
    s_csv_clear (&csv);
    free (data);

    s_log_t after = { 0 };
    s_log_walk (&after, token, org);
    s_expect_contiguous (&after, n + 1, org);
    cr_assert_str_eq (s_log_value (&after, n, "event_type"), "audit_log_exported");
    for (size_t at = 0; at < n; at++)
        cr_assert_str_eq (s_log_value (&after, at, "event_id"), s_log_value (&log, at, "event_id"),
                          "log_index %zu changed", at);
    data = s_export (token, org, "ndjson", limit, &size, &rows);
    cr_assert_eq (rows, n + 1);
    cr_assert_eq (s_expect_ndjson_is_log (data, size, &after), n + 1);
    free (data);
    s_log_clear (&after);
    s_log_clear (&log);
}

//  --------------------------------------------------------------------------
//  log_index while both workers write

#define S_ORGS          3
#define S_PUBLISHED     3000
#define S_BURST         25              //  events published before each query write
#define S_CHANGES_MAX   128

//  A retention_set, told apart by its days (unique per organisation)
typedef struct {
    int org;
    uint32_t days;
    int before;                 //  every seq below was stored before the call; -1: unknown
    int after;                  //  every seq from here was published after the reply
} s_change_t;

typedef struct {
    char org [S_ORGS][16];
    char *token [S_ORGS];
    int published [S_ORGS];
    int exports [S_ORGS];
    int changes_in [S_ORGS];
    s_change_t changes [S_CHANGES_MAX];
    int change_count;
} s_run_t;

//  One write by the query worker: a retention change, or a small export
//  that completes (of the service's own events), which records itself
static void
s_query_write (s_run_t *run, int round, int published, bool settled)
{
    int org = round % S_ORGS;
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    if ((round / S_ORGS) % 2 == 0) {
        cr_assert_lt (run->change_count, S_CHANGES_MAX);
        s_change_t *change = &run->changes [run->change_count++];
        *change = (s_change_t) { org, 1 + (uint32_t) (round / S_ORGS), settled ? published : -1 };
        s_args_t args = { { "org_id" }, { run->org [org] }, "retention_days", change->days };
        s_call_ok ("retention_set", run->token [org], &args, &reply);
        change->after = published;
        run->changes_in [org]++;
    }
    else {
        s_args_t args = { { "org_id", "actor_id", "format" },
                          { run->org [org], S_ADMIN_SUB, round % 4 < 2 ? "csv" : "ndjson" },
                          "limit", 1000 };
        s_call_ok ("export", run->token [org], &args, &reply);
        const msgpack_object *next = test_obj_get (&reply.data, "next_cursor");
        cr_assert (next && next->type == MSGPACK_OBJECT_NIL, "a small export completes");
        run->exports [org]++;
    }
    msgpack_unpacked_destroy (&reply);
}

static int64_t
s_wait_stored (int64_t want)
{
    return test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event", want, 20000);
}

//  Publish S_PUBLISHED events round-robin over the organisations, with
//  timestamps out of publish order, and a query write after every burst
//  while ingest commits it; every 7th round first waits until ingest has
//  stored everything, so that the order of its write is known both ways
static void
s_run (s_run_t *run)
{
    int64_t now = test_now_ms ();
    int published = 0, query_writes = 0;
    for (int round = 0; published < S_PUBLISHED; round++) {
        for (int burst = 0; burst < S_BURST; burst++, published++) {
            int org = published % S_ORGS;
            char actor [16], id [37];
            snprintf (actor, sizeof actor, "p-%05d", published);
            test_uuid (id);
            s_publish (s_login (run->org [org], actor, id,
                                now - (int64_t) published * 7919 % 3600000, 0));
            run->published [org]++;
        }
        bool settled = round % 7 == 6;
        if (settled)
            cr_assert_eq (s_wait_stored (published + query_writes), published + query_writes);
        s_query_write (run, round, published, settled);
        query_writes++;
    }
    cr_assert_eq (s_wait_stored (published + query_writes), published + query_writes,
                  "every event and every service event stored");
}

//  Log order is commit order: an organisation's published events have
//  log_index in publish order, a retention change's event is above every
//  event stored before the call and below every event published after its
//  reply, and the service's own events are all there
static void
s_expect_commit_order (const s_log_t *log, const s_run_t *run, int org)
{
    static int index_of_seq [S_PUBLISHED];
    int index_of_days [S_CHANGES_MAX + 2];
    memset (index_of_days, -1, sizeof index_of_days);
    int last_seq = -1, logins = 0, changes = 0, exports = 0;
    for (size_t at = 0; at < log->events; at++) {
        const char *type = s_log_value (log, at, "event_type");
        const char *actor = s_log_value (log, at, "actor_id");
        if (streq (type, "user_login")) {
            int seq = atoi (actor + 2);
            cr_assert (seq % S_ORGS == org && seq > last_seq,
                       "log_index %zu holds event %d, after event %d", at, seq, last_seq);
            index_of_seq [seq] = (int) at;
            last_seq = seq;
            logins++;
            continue;
        }
        cr_assert_str_eq (actor, S_ADMIN_SUB, "log_index %zu: %s", at, type);
        if (streq (type, "retention_changed")) {
            int days = atoi (s_log_value (log, at, "retention_days"));
            cr_assert (days > 0 && days < S_CHANGES_MAX + 2 && index_of_days [days] < 0);
            index_of_days [days] = (int) at;
            changes++;
        }
        else {
            cr_assert_str_eq (type, "audit_log_exported");
            exports++;
        }
    }
    cr_assert_eq (logins, run->published [org]);
    cr_assert_eq (changes, run->changes_in [org]);
    cr_assert_eq (exports, run->exports [org]);
    for (int index = 0; index < run->change_count; index++) {
        const s_change_t *change = &run->changes [index];
        if (change->org != org)
            continue;
        int at = index_of_days [change->days];
        cr_assert_geq (at, 0, "retention change to %u days not listed", change->days);
        for (int seq = org; seq < S_PUBLISHED; seq += S_ORGS) {
            if (seq >= change->after)
                cr_assert_gt (index_of_seq [seq], at, "event %d published after the change", seq);
            if (seq < change->before)
                cr_assert_lt (index_of_seq [seq], at, "event %d stored before the change", seq);
        }
    }
}

Test (orglog, log_index_is_contiguous_in_commit_order_while_both_workers_write)
{
    s_run_t run = { .change_count = 0 };
    for (int org = 0; org < S_ORGS; org++) {
        snprintf (run.org [org], sizeof run.org [org], "log-%d", org);
        run.token [org] = test_token (TEST_SECRET, "org_admin", run.org [org], NULL, 600);
    }
    s_run (&run);
    for (int org = 0; org < S_ORGS; org++) {
        size_t n = (size_t) (run.published [org] + run.changes_in [org] + run.exports [org]);
        cr_assert_gt (run.changes_in [org], 5);
        cr_assert_gt (run.exports [org], 5);
        s_log_t log = { 0 };
        s_log_walk (&log, run.token [org], run.org [org]);
        s_expect_contiguous (&log, n, run.org [org]);
        s_expect_commit_order (&log, &run, org);
        s_log_clear (&log);
        s_expect_exports_are_log (run.token [org], run.org [org], n, 400);
        //  ... and the ndjson export recorded itself as the next index
        s_log_walk (&log, run.token [org], run.org [org]);
        s_expect_contiguous (&log, n + 2, run.org [org]);
        s_log_clear (&log);
        free (run.token [org]);
    }
}

//  --------------------------------------------------------------------------
//  The duplicate rule

//  The platform's stats.ingest.duplicate, once it reaches want (it lags
//  the store by up to a second), or after 5 s
static uint64_t
s_duplicates (uint64_t want)
{
    char *ops = test_token (TEST_SECRET, "platform_ops", NULL, NULL, 600);
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    uint64_t value = 0;
    for (int64_t deadline = zclock_mono () + 5000; ; zclock_sleep (50)) {
        s_args_t none = { { NULL } };
        s_call_ok ("stats", ops, &none, &reply);
        const msgpack_object *ingest = test_obj_get (test_obj_get (&reply.data, "stats"), "ingest");
        const msgpack_object *duplicate = test_obj_get (ingest, "duplicate");
        cr_assert (duplicate && duplicate->type == MSGPACK_OBJECT_POSITIVE_INTEGER);
        value = duplicate->via.u64;
        if (value >= want || zclock_mono () > deadline)
            break;
    }
    msgpack_unpacked_destroy (&reply);
    free (ops);
    return value;
}

Test (orglog, a_duplicate_is_the_same_event_id_at_the_same_timestamp)
{
    char id [37], upper [37], other [37];
    test_uuid (id);
    test_uuid (other);
    for (int at = 0; at < 37; at++)
        upper [at] = (char) toupper ((unsigned char) id [at]);
    int64_t t1 = test_now_ms () - 60000;
    test_pack_t *first = s_login ("dup-a", "alice", id, t1, 0);
    test_service_publish (s, "audit", first);
    s_publish (first);                                          //  the same bytes again
    s_publish (s_login ("dup-a", "mallory", upper, t1, 1));     //  same id and time, other forms
    s_publish (s_login ("dup-a", "mallory", id, t1, 2));
    s_publish (s_login ("dup-a", "bob", id, t1 + 1, 0));        //  another timestamp: stored
    s_publish (s_login ("dup-b", "carol", id, t1, 0));          //  another organisation: stored
    s_publish (s_login ("dup-b", "carol", id, t1, 0));
    //  One publisher's events arrive in order: once the last is stored,
    //  every one before it has been settled
    s_publish (s_login ("dup-a", "sentinel", other, test_now_ms (), 0));
    cr_assert_eq (test_service_wait_count (s, "audit.db",
        "SELECT count(*) FROM event e JOIN ident a ON a.id = e.actor WHERE a.name = 'sentinel'",
        1, 10000), 1);
    cr_assert_eq (test_service_count (s, "audit.db", "SELECT count(*) FROM event"), 4);
    cr_assert_eq (s_duplicates (4), 4, "stats.ingest.duplicate");

    char *token_a = test_token (TEST_SECRET, "org_admin", "dup-a", NULL, 600);
    char *token_b = test_token (TEST_SECRET, "org_admin", "dup-b", NULL, 600);
    s_log_t log = { 0 };
    s_log_walk (&log, token_a, "dup-a");
    s_expect_contiguous (&log, 3, "dup-a");
    char when [2][AUDIT_TIME_TEXT_SIZE];
    audit_time_format (t1, when [0]);
    audit_time_format (t1 + 1, when [1]);
    const char *actors [] = { "alice", "bob", "sentinel" };
    for (size_t at = 0; at < 3; at++) {
        cr_assert_str_eq (s_log_value (&log, at, "actor_id"), actors [at], "the first is kept");
        cr_assert_str_eq (s_log_value (&log, at, "event_id"), at < 2 ? id : other);
        if (at < 2)
            cr_assert_str_eq (s_log_value (&log, at, "timestamp"), when [at]);
    }
    s_log_clear (&log);
    s_log_walk (&log, token_b, "dup-b");
    s_expect_contiguous (&log, 1, "dup-b");
    cr_assert_str_eq (s_log_value (&log, 0, "event_id"), id);
    cr_assert_str_eq (s_log_value (&log, 0, "timestamp"), when [0]);
    s_log_clear (&log);
    free (token_a);
    free (token_b);
}

//  --------------------------------------------------------------------------
//  The CSV and ndjson round trips

//  An event of type with the given extra pairs (strings; a key ending in
//  "count" or "size" takes the uint in number)
static void
s_publish_tricky (const char *org, const char *type, const char *actor,
                  const char *const *pairs, uint64_t number)
{
    uint32_t extra = 0;
    while (pairs [2 * extra])
        extra++;
    char id [37], when [AUDIT_TIME_TEXT_SIZE];
    test_uuid (id);
    audit_time_format (test_now_ms () - 1000, when);
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6 + extra);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", id);
    test_pack_kv_str (pack, "event_type", type);
    test_pack_kv_str (pack, "timestamp", when);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", actor);
    for (uint32_t pair = 0; pair < extra; pair++)
        if (strstr (pairs [2 * pair], "count") || strstr (pairs [2 * pair], "size"))
            test_pack_kv_uint (pack, pairs [2 * pair], number);
        else
            test_pack_kv_str (pack, pairs [2 * pair], pairs [2 * pair + 1]);
    s_publish (pack);
}

Test (orglog, csv_and_ndjson_give_back_what_list_returns)
{
    //  Identifiers are printable ASCII without space: every character a
    //  formula, CSV quoting or JSON escaping cares about, at the start too
    const char *org = "'org,=1";
    char *token = test_token (TEST_SECRET, "org_admin", org, NULL, 600);
    const char *role [] = { "user_id", "+1-555", "role", "'admin", NULL };
    const char *device [] = { "device_id", "-dev,\"1\"", "user_id", "@user", NULL };
    const char *group [] = { "group_id", "=grp\\1", "user_id", "'", NULL };
    const char *broadcast [] = { "broadcast_id", "@b;c", "recipient_count", "", "group_id",
                                 "-g", NULL };
    const char *file [] = { "file_ref", "=HYPERLINK(\"http://x\")", "file_size", "", NULL };
    const char *none [] = { NULL };
    s_publish_tricky (org, "role_changed", "=cmd|'/c'!A1", role, 0);
    s_publish_tricky (org, "device_registered", "+actor", device, 0);
    s_publish_tricky (org, "group_member_added", "-actor", group, 0);
    s_publish_tricky (org, "broadcast_sent", "@actor", broadcast, 0);
    s_publish_tricky (org, "broadcast_sent", "''twice", broadcast, 10000000);
    s_publish_tricky (org, "file_transferred", "plain\"quote", file, 9007199254740992ULL);
    s_publish_tricky (org, "user_login", "'", none, 0);
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event", 7, 10000), 7);
    //  and the service's own event, with retention_days
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    s_args_t change = { { "org_id" }, { org }, "retention_days", 30 };
    s_call_ok ("retention_set", token, &change, &reply);
    msgpack_unpacked_destroy (&reply);
    //  Chunks of 3 rows: the header only once, rows across chunk ends
    s_expect_exports_are_log (token, org, 8, 3);
    free (token);
}
