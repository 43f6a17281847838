/*  =========================================================================
    fuzz_rows - libFuzzer entry point for auditctl verify's export reader

    Every input is read as an export: as it is (ndjson when it starts with
    '{', else it must start with the CSV header), and behind the CSV header.
    ctl_rows_next must end in 0 or -1 for any bytes at all, never read past
    them, and give every row a NUL-terminated org_id and a line number that
    never goes backwards.

    Build (not part of the default build), with the decoder's harness:
      cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DAUDIT_FUZZ=ON \
        -DAUDIT_TESTS=ON && cmake --build build-fuzz --target fuzz-rows
      build-fuzz/bin/fuzz-rows -max_total_time=60
    ========================================================================= */

#include <stdlib.h>
#include <string.h>

#include "audit_proto.h"
#include "ctl_rows.h"

static void
s_read (const char *data, size_t size)
{
    char error [300];
    ctl_rows_t *rows = ctl_rows_from_memory (data, size, error, sizeof error);
    if (!rows)
        return;
    ctl_rows_row_t row;
    uint64_t line = 0;
    int rc;
    while ((rc = ctl_rows_next (rows, &row, error, sizeof error)) == 1) {
        if (memchr (row.org_id, 0, sizeof row.org_id) == NULL || row.line < line)
            abort ();
        line = row.line;
    }
    if (rc != 0 && rc != -1)
        abort ();
    ctl_rows_destroy (&rows);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    //  a copy of exactly size bytes, so that a read past them is caught
    char *copy = malloc (size + 1);
    memcpy (copy, data, size);
    s_read (copy, size);
    free (copy);
    const char *header = audit_proto_csv_header ();
    size_t header_len = strlen (header);
    char *csv = malloc (header_len + 2 + size);
    memcpy (csv, header, header_len);
    memcpy (csv + header_len, "\r\n", 2);
    memcpy (csv + header_len + 2, data, size);
    s_read (csv, header_len + 2 + size);
    free (csv);
    return 0;
}
