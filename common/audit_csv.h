/*  =========================================================================
    audit_csv - the export writer: RFC 4180 rows into a memory buffer

    Columns are those of audit_proto_csv_header (), in its order. Lines end
    in CRLF. A field is quoted (by libcsv's csv_write) only when it must be:
    it holds a comma, a double quote, CR or LF, or it starts or ends with a
    space or tab, which RFC 4180 keeps but many readers (libcsv's own parser
    among them) trim from unquoted fields. A field that starts with = + - @
    tab, CR or ' gets a leading ' first, so that a spreadsheet shows it
    rather than running it as a formula, and a verifier can undo it by
    stripping one leading ' (contract revision 2). An absent value is an
    empty field. audit_render fills the rows of a stored event.

    The export sends one chunk per reply: fill, send data/size, reset.
    ========================================================================= */

#ifndef AUDIT_CSV_H_INCLUDED
#define AUDIT_CSV_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "audit_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Default cap on one chunk's buffer
#define AUDIT_CSV_CAP_DEFAULT     (64u * 1024 * 1024)

//  One row: NUL-terminated texts in header order (audit_proto_csv_column);
//  NULL or "" when absent
typedef struct {
    const char *column [AUDIT_CSV_COLUMNS];
} audit_csv_row_t;

typedef struct _audit_csv_t audit_csv_t;

//  Create a writer whose buffer never grows past cap bytes (0: the
//  default). NULL on allocation failure.
audit_csv_t *
    audit_csv_new (size_t cap);

//  Destroy; safe on NULL and twice.
void
    audit_csv_destroy (audit_csv_t **self_p);

//  Append the header line (first chunk only). 0, or -1 over the cap.
int
    audit_csv_header (audit_csv_t *self);

//  Append one row. 0, or -1 when it would pass the cap (or on allocation
//  failure); the buffer is then as it was before the call.
int
    audit_csv_row (audit_csv_t *self, const audit_csv_row_t *row);

//  Append len bytes that are one whole line already (an ndjson line),
//  counted as a row. 0, or -1 when it would pass the cap.
int
    audit_csv_line (audit_csv_t *self, const char *line, size_t len);

//  Rows appended since creation or the last reset (the header not counted).
size_t
    audit_csv_row_count (const audit_csv_t *self);

//  The bytes written so far; valid until the next append or reset.
const uint8_t *
    audit_csv_data (const audit_csv_t *self);

//  Number of bytes written so far.
size_t
    audit_csv_size (const audit_csv_t *self);

//  Empty the buffer and the row count for the next chunk, keeping memory.
void
    audit_csv_reset (audit_csv_t *self);

#ifdef __cplusplus
}
#endif

#endif
