/*  =========================================================================
    audit_csv - the export writer: RFC 4180 rows into a memory buffer

    Each field is scanned once to learn exactly how many bytes it needs, so
    the buffer grows only as far as it must and the cap is exact. Fields
    that need quoting go through libcsv's csv_write; the rest (nearly all:
    timestamps, ids, numbers) are copied as they are.
    ========================================================================= */

#include "audit_csv.h"

#include <csv.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define GROW_MIN  (64u * 1024)

struct _audit_csv_t {
    uint8_t *data;
    size_t size;                //  bytes written
    size_t capacity;            //  bytes allocated
    size_t cap;                 //  never allocate more than this
    size_t rows;
    char *scratch;              //  a guarded field that also needs quotes
    size_t scratch_size;
};

audit_csv_t *
audit_csv_new (size_t cap)
{
    audit_csv_t *self = calloc (1, sizeof (audit_csv_t));
    if (self)
        self->cap = cap? cap: AUDIT_CSV_CAP_DEFAULT;
    return self;
}

void
audit_csv_destroy (audit_csv_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->data);
    free ((*self_p)->scratch);
    free (*self_p);
    *self_p = NULL;
}

//  Make room for extra more bytes, within the cap
static int
s_reserve (audit_csv_t *self, size_t extra)
{
    if (extra > self->cap || self->size > self->cap - extra)
        return -1;
    size_t needed = self->size + extra;
    if (needed <= self->capacity)
        return 0;
    size_t capacity = self->capacity * 2;
    if (capacity < GROW_MIN)
        capacity = GROW_MIN;
    if (capacity < needed)
        capacity = needed;
    if (capacity > self->cap)
        capacity = self->cap;
    uint8_t *data = realloc (self->data, capacity);
    if (!data)
        return -1;
    self->data = data;
    self->capacity = capacity;
    return 0;
}

static int
s_append (audit_csv_t *self, const void *bytes, size_t len)
{
    if (s_reserve (self, len))
        return -1;
    memcpy (self->data + self->size, bytes, len);
    self->size += len;
    return 0;
}

static bool
s_is_formula_start (char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r'
        || c == '\'';
}

//  What a field takes in the row: its text's length, the "s in it (each
//  doubled when quoted), whether it starts with the formula guard's ' and
//  whether it is quoted
typedef struct {
    size_t len, quotes;
    bool guarded, quoted;
} s_span_t;

//  Quotes are needed for , " CR LF anywhere, or space/tab at either end
//  (after the guard's ', which no reader trims). The scans are libc's
//  (strlen, strcspn: many bytes a step); the "s are counted only in the
//  rare field that has one.
static void
s_measure (const char *text, s_span_t *span)
{
    size_t len = strlen (text);
    bool special = strcspn (text, "\",\r\n") < len;
    span->len = len;
    span->quotes = 0;
    for (const char *quote = special? strchr (text, '"'): NULL; quote;
         quote = strchr (quote + 1, '"'))
        span->quotes++;
    span->guarded = len > 0 && s_is_formula_start (text [0]);
    span->quoted = len > 0
                && (special
                 || (!span->guarded && (text [0] == ' ' || text [0] == '\t'))
                 || text [len - 1] == ' ' || text [len - 1] == '\t');
}

//  The bytes the field takes in the row
static size_t
s_span_size (const s_span_t *span)
{
    return span->len + span->guarded + (span->quoted? span->quotes + 2: 0);
}

//  "'" + text in the scratch buffer, for csv_write to quote as one field
static const char *
s_guarded_copy (audit_csv_t *self, const char *text, size_t len)
{
    if (self->scratch_size < len + 1) {
        char *scratch = realloc (self->scratch, len + 1);
        if (!scratch)
            return NULL;
        self->scratch = scratch;
        self->scratch_size = len + 1;
    }
    self->scratch [0] = '\'';
    memcpy (self->scratch + 1, text, len);
    return self->scratch;
}

//  The field into room already reserved; -1 only when out of memory
static int
s_field (audit_csv_t *self, const char *text, const s_span_t *span)
{
    if (!span->quoted) {
        uint8_t *at = self->data + self->size;
        if (span->guarded)
            *at++ = '\'';
        memcpy (at, text, span->len);
        self->size += span->len + span->guarded;
        return 0;
    }
    const char *source = span->guarded? s_guarded_copy (self, text, span->len): text;
    if (!source)
        return -1;
    self->size += csv_write (self->data + self->size, s_span_size (span), source,
                             span->len + span->guarded);
    return 0;
}

int
audit_csv_header (audit_csv_t *self)
{
    if (!self)
        return -1;
    const char *header = audit_proto_csv_header ();
    size_t start = self->size;
    if (s_append (self, header, strlen (header)) || s_append (self, "\r\n", 2)) {
        self->size = start;
        return -1;
    }
    return 0;
}

//  The row is measured first and its room reserved once: a row is a few
//  hundred bytes, and this runs for every row of an export
int
audit_csv_row (audit_csv_t *self, const audit_csv_row_t *row)
{
    if (!self || !row)
        return -1;
    s_span_t spans [AUDIT_CSV_COLUMNS];
    size_t need = AUDIT_CSV_COLUMNS - 1 + 2;        //  the commas, CR LF
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        const char *text = row->column [column];
        s_measure (text? text: "", &spans [column]);
        if (spans [column].len > self->cap)
            return -1;
        need += s_span_size (&spans [column]);
    }
    if (s_reserve (self, need))
        return -1;
    size_t start = self->size;
    for (int column = 0; column < AUDIT_CSV_COLUMNS; column++) {
        if (column > 0)
            self->data [self->size++] = ',';
        const char *text = row->column [column];
        if (s_field (self, text? text: "", &spans [column])) {
            self->size = start;
            return -1;
        }
    }
    memcpy (self->data + self->size, "\r\n", 2);
    self->size += 2;
    self->rows++;
    return 0;
}

int
audit_csv_line (audit_csv_t *self, const char *line, size_t len)
{
    if (!self || !line || s_append (self, line, len))
        return -1;
    self->rows++;
    return 0;
}

size_t
audit_csv_row_count (const audit_csv_t *self)
{
    return self? self->rows: 0;
}

const uint8_t *
audit_csv_data (const audit_csv_t *self)
{
    return self? self->data: NULL;
}

size_t
audit_csv_size (const audit_csv_t *self)
{
    return self? self->size: 0;
}

void
audit_csv_reset (audit_csv_t *self)
{
    if (!self)
        return;
    self->size = 0;
    self->rows = 0;
}
