/*  =========================================================================
    ctl_export - auditctl export: every CSV chunk of an export, into one
    file, atomically

    The chunks are written to FILE.tmp as they arrive (memory stays flat
    however big the export), and only when the last chunk (next_cursor nil)
    is on disk is the file fsynced and renamed to FILE, and the directory
    fsynced. So FILE either holds a complete export or does not exist: a
    refused chunk, a timeout, a full disk or Ctrl-C leave no FILE and no
    FILE.tmp behind. The file is created 0600: it is personal data.

    FILE "-" is standard output, as publish --file - is standard input.
    Nothing can be renamed into place there, so the chunks go out as they
    arrive: a failure part way leaves a partial CSV, and the exit code,
    not the output, says so.
    ========================================================================= */

#ifndef CTL_EXPORT_H_INCLUDED
#define CTL_EXPORT_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_client.h"
#include "ctl_request.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Run the export request (its format is set to csv here) over client into
//  path ("-": standard output). progress, when not NULL, gets a
//  "\r"-updated progress line (the caller passes stderr only when it is a
//  terminal). *rows_p gets the rows written. Returns an exit code: 0; 1 when the service refused a chunk or
//  the file could not be written; 2 when FILE.tmp cannot be created; 3 on
//  no answer.
int
    ctl_export_run (ctl_client_t *client, ctl_request_t *request, const char *path,
                    FILE *progress, uint64_t *rows_p);

//  The same, and the signed checkpoint the final chunk carried (heap, the
//  caller frees; NULL when it carried none) into *checkpoint.
int
    ctl_export_run_signed (ctl_client_t *client, ctl_request_t *request, const char *path,
                           FILE *progress, uint64_t *rows_p, char **checkpoint);

//  The line that ends a successful export: "N rows written to FILE" (or
//  to standard output), or a JSON object {rows, file} when json.
void
    ctl_export_summary (FILE *out, const char *path, uint64_t rows, bool json);

#ifdef __cplusplus
}
#endif

#endif
