/*  =========================================================================
    ctl_rows - the rows of an export file, as leaves of the organisation's log

    An export (CSV with its header, or ndjson) is read back row by row and
    each row turned into the leaf the contract defines ("The
    organisation's log"): its 15 CSV columns in header order joined by
    0x1F, with the formula guard undone (one leading ' stripped) and no
    quoting; an ndjson line's keys are put in the same columns (an integer
    in decimal, an absent key empty). What a row gives a verifier is its
    log_index, its org_id and the SHA-256 leaf hash.

    The format is told by the first byte: '{' is ndjson, anything else
    must be the CSV header. Parsing is strict (RFC 4180 quoting, the
    contract's header, a decimal log_index, 15 fields): a file that is not
    an export is an error with its line, never a guess. The file is mapped,
    so memory stays flat however big it is.
    ========================================================================= */

#ifndef CTL_ROWS_H_INCLUDED
#define CTL_ROWS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_merkle.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

//  One row of the export
typedef struct {
    uint64_t number;                        //  1, 2, ... (the header not counted)
    uint64_t line;                          //  its first line in the file
    uint64_t log_index;
    char org_id [AUDIT_IDENT_MAX + 1];
    audit_merkle_hash_t hash;               //  SHA-256 (0x00 || leaf)
} ctl_rows_row_t;

typedef struct _ctl_rows_t ctl_rows_t;

//  Open the export at path. NULL with a reason in error when it cannot be
//  read or is neither CSV with the contract's header nor ndjson.
ctl_rows_t *
    ctl_rows_open (const char *path, char *error, size_t error_size);

//  Read the export in memory (len bytes, borrowed while the reader lives).
ctl_rows_t *
    ctl_rows_from_memory (const char *data, size_t len, char *error, size_t error_size);

//  Destroy; safe on NULL and twice.
void
    ctl_rows_destroy (ctl_rows_t **self_p);

//  True when the export is ndjson.
bool
    ctl_rows_is_ndjson (const ctl_rows_t *self);

//  The next row: 1, 0 at the end, -1 with "line N: reason" in error when
//  the file is malformed there.
int
    ctl_rows_next (ctl_rows_t *self, ctl_rows_row_t *row, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
