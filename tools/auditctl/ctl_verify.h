/*  =========================================================================
    ctl_verify - auditctl verify: an export checked against the
    organisation's signed log, and export --proof's bundle

    Every row of the export (CSV or ndjson, ctl_rows) is rebuilt into its
    leaf and checked against a checkpoint signed with the verifier key:
    offline from a proof bundle (ctl_bundle), or online from the service's
    proof op. The first row that fails is named, with why: its leaf does
    not match the signed log; its log_index is past the checkpoint, not in
    the bundle, or repeated; it is of another organisation; and, offline,
    an index the bundle holds that the file lacks. With an earlier
    checkpoint the organisation kept, the two must be consistent (RFC 9162
    consistency proof, from the bundle or the service).

    Exit codes: 0 everything verifies; 1 something does not (the first
    failure printed); 2 malformed input (a file that is not an export, a
    bundle, a note or a key); 3 no answer from the service.
    ========================================================================= */

#ifndef CTL_VERIFY_H_INCLUDED
#define CTL_VERIFY_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

#include "audit_note.h"
#include "ctl_args.h"
#include "ctl_logfetch.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *export_path;            //  the export to check
    const char *key;                    //  verifier key text, or a file holding it
    const char *bundle_path;            //  offline; NULL: ask the service (fetch)
    const char *checkpoint_path;        //  an earlier signed note, or NULL
    ctl_logfetch_t fetch;               //  online: client, token, org_id
    FILE *out;                          //  the result line(s)
    bool json;                          //  the result as one JSON object
} ctl_verify_options_t;

//  Verify an export. An exit code (above).
int
    ctl_verify_export (const ctl_verify_options_t *options);

//  export --proof: the proof bundle of the export just written at
//  export_path, whose final chunk carried note, checked against the
//  service's proofs and written to bundle_path; with checkpoint_path, the
//  consistency proof from that earlier checkpoint in it. An exit code;
//  when a row does not match the signed log it is named and no bundle is
//  written.
int
    ctl_verify_make_bundle (const ctl_logfetch_t *fetch, const char *export_path,
                            const char *note, const char *checkpoint_path,
                            const char *bundle_path, FILE *out);

//  auditctl verify with its flags. An exit code.
int
    ctl_verify_run (const ctl_args_t *args);

//  A verifier from key: a verifier key text, or the path of a file whose
//  first line is one. 0, or -1 with a line on stderr.
int
    ctl_verify_load_key (const char *key, audit_note_verifier_t *verifier);

//  A file's bytes (heap, NUL-terminated) into *text, *len. 0 or -1.
int
    ctl_verify_read_file (const char *path, size_t max, char **text, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
