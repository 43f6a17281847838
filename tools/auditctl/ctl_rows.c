/*  =========================================================================
    ctl_rows - the rows of an export file, as leaves of the organisation's log

    A CSV field is read where it lies in the file when it is not quoted
    (most are), and unescaped into scratch when it is; the leaf is then
    one copy of the 15 fields. A verifier reads hundreds of thousands of
    rows a second this way (bench/bench_verify.c).
    ========================================================================= */

#include "ctl_rows.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_proto.h"
#include "audit_render.h"

//  Digits of a uint64_t
#define s_DIGITS_MAX 20

typedef struct {
    const char *text;
    size_t len;
} s_field_t;

struct _ctl_rows_t {
    const char *data;
    size_t len, pos;
    void *map;                          //  the mapping, when the file was mapped
    bool ndjson;
    uint64_t line, rows;
    int org_column, index_column;
    s_field_t field [AUDIT_CSV_COLUMNS];
    char scratch [AUDIT_RENDER_LINE_MAX];   //  unescaped quoted fields
    size_t scratch_used;
    char leaf [AUDIT_RENDER_LINE_MAX];
};

//  The columns' keys and their lengths, made by the first reader (not a
//  constructor: the proto tables may not be made yet when it runs)
static const char *s_column_key [AUDIT_CSV_COLUMNS];
static size_t s_column_len [AUDIT_CSV_COLUMNS];

static void
s_build_columns (void)
{
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        s_column_key [column] = audit_proto_csv_column (column)->key;
        s_column_len [column] = strlen (s_column_key [column]);
    }
}

static int
s_fail (ctl_rows_t *self, char *error, size_t size, const char *format, ...)
{
    char reason [200];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    snprintf (error, size, "line %llu: %s", (unsigned long long) self->line, reason);
    return -1;
}

//  The CSV header line's end after pos 0, or 0 when it is not the header
static size_t
s_header_end (const char *data, size_t len)
{
    const char *header = audit_proto_csv_header ();
    size_t size = strlen (header);
    if (len < size + 1 || memcmp (data, header, size) != 0)
        return 0;
    if (data [size] == '\n')
        return size + 1;
    return len >= size + 2 && data [size] == '\r' && data [size + 1] == '\n'? size + 2: 0;
}

ctl_rows_t *
ctl_rows_from_memory (const char *data, size_t len, char *error, size_t error_size)
{
    ctl_rows_t *self = (ctl_rows_t *) calloc (1, sizeof *self);
    if (!self) {
        snprintf (error, error_size, "out of memory");
        return NULL;
    }
    self->data = data;
    self->len = len;
    self->line = 1;
    self->org_column = audit_proto_envelope_csv (AUDIT_ENVELOPE_ORG_ID);
    self->index_column = audit_proto_envelope_csv (AUDIT_ENVELOPE_LOG_INDEX);
    self->ndjson = len == 0 || data [0] == '{';
    if (self->ndjson && !s_column_len [0])
        s_build_columns ();
    if (!self->ndjson) {
        self->pos = s_header_end (data, len);
        if (self->pos == 0) {
            snprintf (error, error_size, "line 1: neither the CSV header of the contract"
                      " nor an ndjson object: not an export");
            free (self);
            return NULL;
        }
        self->line = 2;
    }
    return self;
}

ctl_rows_t *
ctl_rows_open (const char *path, char *error, size_t error_size)
{
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    struct stat info;
    if (fd < 0 || fstat (fd, &info) != 0 || !S_ISREG (info.st_mode)) {
        snprintf (error, error_size, "cannot read %s: %s", path,
                  fd < 0 || errno? strerror (errno): "not a file");
        if (fd >= 0)
            close (fd);
        return NULL;
    }
    size_t len = (size_t) info.st_size;
    void *map = len? mmap (NULL, len, PROT_READ, MAP_PRIVATE, fd, 0): NULL;
    close (fd);
    if (map == MAP_FAILED) {
        snprintf (error, error_size, "cannot map %s: %s", path, strerror (errno));
        return NULL;
    }
    if (map)
        madvise (map, len, MADV_SEQUENTIAL);
    ctl_rows_t *self = ctl_rows_from_memory ((const char *) map, len, error, error_size);
    if (self)
        self->map = map;
    else
    if (map)
        munmap (map, len);
    return self;
}

void
ctl_rows_destroy (ctl_rows_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_rows_t *self = *self_p;
    if (self->map)
        munmap (self->map, self->len);
    free (self);
    *self_p = NULL;
}

bool
ctl_rows_is_ndjson (const ctl_rows_t *self)
{
    return self->ndjson;
}

//  --------------------------------------------------------------------------
//  CSV, RFC 4180

//  A quoted field at pos (on its opening quote), unescaped into scratch
static int
s_csv_quoted (ctl_rows_t *self, s_field_t *field, char *error, size_t size)
{
    size_t at = self->pos + 1;
    char *out = self->scratch + self->scratch_used;
    size_t room = sizeof self->scratch - self->scratch_used, used = 0;
    while (true) {
        const char *quote = (const char *) memchr (self->data + at, '"', self->len - at);
        if (!quote)
            return s_fail (self, error, size, "a quoted field does not end");
        size_t run = (size_t) (quote - (self->data + at));
        if (used + run + 1 > room)
            return s_fail (self, error, size, "a field too long for an event");
        memcpy (out + used, self->data + at, run);
        for (size_t index = 0; index < run; index++)
            self->line += out [used + index] == '\n';
        used += run;
        at += run + 1;
        if (at < self->len && self->data [at] == '"') {
            out [used++] = '"';
            at++;
            continue;
        }
        break;
    }
    *field = (s_field_t) { out, used };
    self->scratch_used += used;
    self->pos = at;
    return 0;
}

//  An unquoted field at pos, where it lies
static int
s_csv_plain (ctl_rows_t *self, s_field_t *field, char *error, size_t size)
{
    size_t at = self->pos;
    while (at < self->len) {
        char c = self->data [at];
        if (c == ',' || c == '\r' || c == '\n')
            break;
        if (c == '"')
            return s_fail (self, error, size, "a quote inside an unquoted field");
        at++;
    }
    *field = (s_field_t) { self->data + self->pos, at - self->pos };
    self->pos = at;
    return 0;
}

//  What follows a field: 1 another field, 0 the record's end, -1
static int
s_csv_separator (ctl_rows_t *self, char *error, size_t size)
{
    if (self->pos == self->len)
        return 0;
    const char *at = self->data + self->pos;
    if (*at == ',') {
        self->pos++;
        return 1;
    }
    if (*at == '\n' || (*at == '\r' && self->pos + 1 < self->len && at [1] == '\n')) {
        self->pos += *at == '\n'? 1: 2;
        return 0;
    }
    return s_fail (self, error, size, "a field ends without a comma or a line end");
}

static int
s_csv_record (ctl_rows_t *self, char *error, size_t size)
{
    self->scratch_used = 0;
    int column = 0, more = 1;
    while (more == 1) {
        if (column == AUDIT_CSV_COLUMNS)
            return s_fail (self, error, size, "more than %d fields", AUDIT_CSV_COLUMNS);
        s_field_t *field = &self->field [column++];
        bool quoted = self->pos < self->len && self->data [self->pos] == '"';
        if ((quoted? s_csv_quoted (self, field, error, size)
                   : s_csv_plain (self, field, error, size)) != 0)
            return -1;
        more = s_csv_separator (self, error, size);
    }
    if (more < 0)
        return -1;
    if (column != AUDIT_CSV_COLUMNS)
        return s_fail (self, error, size, "%d fields, not %d", column, AUDIT_CSV_COLUMNS);
    //  The formula guard: one leading ' is the writer's, never the value's
    for (column = 0; column < AUDIT_CSV_COLUMNS; column++)
        if (self->field [column].len && self->field [column].text [0] == '\'') {
            self->field [column].text++;
            self->field [column].len--;
        }
    return 0;
}

//  --------------------------------------------------------------------------
//  ndjson: one flat object a line (the list event map), each key put in its
//  CSV column. A reader of its own rather than ctl_json's: that one
//  allocates every key and value, which made ndjson checks run at 40 % of
//  CSV's (bench-verify). Values are strings or unsigned integers; nesting,
//  fractions, true, false and null are refused.

typedef struct {
    const char *at, *end;
} s_cursor_t;

static void
s_json_space (s_cursor_t *cursor)
{
    while (cursor->at < cursor->end && (*cursor->at == ' ' || *cursor->at == '\t'
                                    ||  *cursor->at == '\r'))
        cursor->at++;
}

static int
s_hex4 (const char *text, uint32_t *code)
{
    *code = 0;
    for (int at = 0; at < 4; at++) {
        char c = text [at];
        int digit = c >= '0' && c <= '9'? c - '0': c >= 'a' && c <= 'f'? c - 'a' + 10
                  : c >= 'A' && c <= 'F'? c - 'A' + 10: -1;
        if (digit < 0)
            return -1;
        *code = *code << 4 | (uint32_t) digit;
    }
    return 0;
}

//  The code point of the \u escape at cursor (after its backslash and u),
//  a surrogate pair joined. 0 or -1.
static int
s_json_unicode (s_cursor_t *cursor, uint32_t *code)
{
    if (cursor->end - cursor->at < 4 || s_hex4 (cursor->at, code) != 0)
        return -1;
    cursor->at += 4;
    if (*code >= 0xdc00 && *code <= 0xdfff)
        return -1;
    if (*code < 0xd800 || *code > 0xdbff)
        return 0;
    uint32_t low;
    if (cursor->end - cursor->at < 6 || cursor->at [0] != '\\' || cursor->at [1] != 'u'
    ||  s_hex4 (cursor->at + 2, &low) != 0 || low < 0xdc00 || low > 0xdfff)
        return -1;
    cursor->at += 6;
    *code = 0x10000 + ((*code - 0xd800) << 10) + (low - 0xdc00);
    return 0;
}

static size_t
s_utf8 (uint32_t code, char *out)
{
    if (code < 0x80)
        return out [0] = (char) code, 1;
    if (code < 0x800)
        return out [0] = (char) (0xc0 | code >> 6), out [1] = (char) (0x80 | (code & 0x3f)), 2;
    if (code < 0x10000)
        return out [0] = (char) (0xe0 | code >> 12), out [1] = (char) (0x80 | (code >> 6 & 0x3f)),
               out [2] = (char) (0x80 | (code & 0x3f)), 3;
    return out [0] = (char) (0xf0 | code >> 18), out [1] = (char) (0x80 | (code >> 12 & 0x3f)),
           out [2] = (char) (0x80 | (code >> 6 & 0x3f)), out [3] = (char) (0x80 | (code & 0x3f)), 4;
}

//  One escape at cursor (after its backslash) appended to out. 0 or -1.
static int
s_json_escape (s_cursor_t *cursor, char *out, size_t *used)
{
    static const char from [] = "\"\\/bfnrt", to [] = "\"\\/\b\f\n\r\t";
    if (cursor->at == cursor->end)
        return -1;
    char c = *cursor->at++;
    const char *known = c? strchr (from, c): NULL;
    if (known) {
        out [(*used)++] = to [known - from];
        return 0;
    }
    uint32_t code;
    if (c != 'u' || s_json_unicode (cursor, &code) != 0)
        return -1;
    *used += s_utf8 (code, out + *used);
    return 0;
}

//  A string at cursor (on its quote): where it lies when it has no
//  escape, else unescaped into scratch. 0 or -1.
static int
s_json_string (ctl_rows_t *self, s_cursor_t *cursor, s_field_t *field)
{
    const char *first = ++cursor->at;
    while (cursor->at < cursor->end && *cursor->at != '"' && *cursor->at != '\\'
       &&  (unsigned char) *cursor->at >= 0x20)
        cursor->at++;
    if (cursor->at < cursor->end && *cursor->at == '"') {
        *field = (s_field_t) { first, (size_t) (cursor->at++ - first) };
        return 0;
    }
    char *out = self->scratch + self->scratch_used;
    size_t room = sizeof self->scratch - self->scratch_used - 8, used = (size_t) (cursor->at - first);
    if (used > room)
        return -1;
    memcpy (out, first, used);
    while (cursor->at < cursor->end && *cursor->at != '"' && used < room) {
        unsigned char c = (unsigned char) *cursor->at++;
        if (c < 0x20 || (c == '\\' && s_json_escape (cursor, out, &used) != 0))
            return -1;
        if (c != '\\')
            out [used++] = (char) c;
    }
    if (cursor->at == cursor->end || *cursor->at != '"')
        return -1;
    cursor->at++;
    *field = (s_field_t) { out, used };
    self->scratch_used += used;
    return 0;
}

//  An unsigned integer at cursor: its digits, where they lie
static int
s_json_number (s_cursor_t *cursor, s_field_t *field)
{
    const char *first = cursor->at;
    while (cursor->at < cursor->end && *cursor->at >= '0' && *cursor->at <= '9')
        cursor->at++;
    size_t len = (size_t) (cursor->at - first);
    *field = (s_field_t) { first, len };
    return len == 0 || (len > 1 && *first == '0')? -1: 0;
}

//  The column a key names, or -1 (category, received_at: not columns)
static int
s_json_column (const s_field_t *key)
{
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++)
        if (s_column_len [column] == key->len && s_column_key [column][0] == key->text [0]
        &&  memcmp (s_column_key [column], key->text, key->len) == 0)
            return column;
    return -1;
}

//  One "key": value pair at cursor into its column
static int
s_json_pair (ctl_rows_t *self, s_cursor_t *cursor, bool *set, char *error, size_t size)
{
    s_field_t key, value;
    if (cursor->at == cursor->end || *cursor->at != '"' || s_json_string (self, cursor, &key))
        return s_fail (self, error, size, "not a JSON object: a key expected");
    s_json_space (cursor);
    if (cursor->at == cursor->end || *cursor->at++ != ':')
        return s_fail (self, error, size, "not a JSON object: ':' expected");
    s_json_space (cursor);
    bool text = cursor->at < cursor->end && *cursor->at == '"';
    if (text? s_json_string (self, cursor, &value): s_json_number (cursor, &value))
        return s_fail (self, error, size, "a value is not a string or an unsigned integer");
    int column = s_json_column (&key);
    if (column >= 0 && set [column])
        return s_fail (self, error, size, "a key given twice");
    if (column >= 0) {
        set [column] = true;
        self->field [column] = value;
    }
    s_json_space (cursor);
    return 0;
}

static int
s_json_record (ctl_rows_t *self, char *error, size_t size)
{
    const char *start = self->data + self->pos;
    const char *end = (const char *) memchr (start, '\n', self->len - self->pos);
    size_t len = end? (size_t) (end - start): self->len - self->pos;
    self->pos += len + (end? 1: 0);
    self->scratch_used = 0;
    bool set [AUDIT_CSV_COLUMNS] = { false };
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++)
        self->field [column] = (s_field_t) { "", 0 };
    s_cursor_t cursor = { start, start + len };
    s_json_space (&cursor);
    if (cursor.at == cursor.end || *cursor.at++ != '{')
        return s_fail (self, error, size, "not a JSON object");
    s_json_space (&cursor);
    bool more = cursor.at < cursor.end && *cursor.at != '}';
    while (more) {
        if (s_json_pair (self, &cursor, set, error, size) != 0)
            return -1;
        more = cursor.at < cursor.end && *cursor.at == ',';
        cursor.at += more;
        s_json_space (&cursor);
    }
    if (cursor.at == cursor.end || *cursor.at++ != '}')
        return s_fail (self, error, size, "not a JSON object: ',' or '}' expected");
    s_json_space (&cursor);
    if (cursor.at != cursor.end)
        return s_fail (self, error, size, "text after the object");
    return 0;
}

//  --------------------------------------------------------------------------
//  The row

//  A log_index: decimal, no sign, no leading zero, within uint64_t
static int
s_decimal (const s_field_t *field, uint64_t *value)
{
    if (field->len == 0 || field->len > s_DIGITS_MAX || (field->len > 1 && field->text [0] == '0'))
        return -1;
    uint64_t number = 0;
    for (size_t at = 0; at < field->len; at++) {
        unsigned digit = (unsigned) (field->text [at] - '0');
        if (digit > 9 || number > (UINT64_MAX - digit) / 10)
            return -1;
        number = number * 10 + digit;
    }
    *value = number;
    return 0;
}

static int
s_row (ctl_rows_t *self, ctl_rows_row_t *row, char *error, size_t size)
{
    const s_field_t *org = &self->field [self->org_column];
    if (s_decimal (&self->field [self->index_column], &row->log_index) != 0)
        return s_fail (self, error, size, "log_index is not an unsigned decimal");
    if (org->len == 0 || org->len > AUDIT_IDENT_MAX)
        return s_fail (self, error, size, "org_id is empty or too long");
    memcpy (row->org_id, org->text, org->len);
    row->org_id [org->len] = 0;
    size_t used = 0;
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        const s_field_t *field = &self->field [column];
        if (used + field->len + 1 > sizeof self->leaf)
            return s_fail (self, error, size, "a row too long for an event");
        if (column > 0)
            self->leaf [used++] = 0x1f;
        memcpy (self->leaf + used, field->text, field->len);
        used += field->len;
    }
    audit_merkle_leaf_hash (self->leaf, used, row->hash);
    return 0;
}

int
ctl_rows_next (ctl_rows_t *self, ctl_rows_row_t *row, char *error, size_t error_size)
{
    if (self->pos >= self->len)
        return 0;
    row->line = self->line;
    int rc = self->ndjson? s_json_record (self, error, error_size)
                         : s_csv_record (self, error, error_size);
    if (rc == 0)
        rc = s_row (self, row, error, error_size);
    if (rc != 0)
        return -1;
    row->number = ++self->rows;
    self->line++;
    return 1;
}
