/*  =========================================================================
    ctl_verdict - one verification of an export: its rows, the bundle they
    are checked against, and the verdict (auditctl verify, export --proof)

    The checks of each row, in file order, so that the first row printed
    is the first that fails: its organisation, its log_index against the
    checkpoint's size, a repeated log_index, its leaf against the bundle's
    (offline, or online when the bundle's root is the signed one) or
    against its own inclusion proof (online, when it is not). Offline,
    every index the bundle holds must then have been seen.
    ========================================================================= */

#ifndef CTL_VERDICT_H_INCLUDED
#define CTL_VERDICT_H_INCLUDED

#include <stdbool.h>
#include <stdio.h>

#include "audit_checkpoint.h"
#include "audit_note.h"
#include "ctl_bundle.h"
#include "ctl_logfetch.h"

#ifdef __cplusplus
extern "C" {
#endif

//  A row of the export as the checks need it
typedef struct {
    uint64_t log_index;
    uint64_t line;
    audit_merkle_hash_t hash;
    bool other_org;                     //  its org_id is not the one verified
} ctl_verdict_row_t;

typedef struct {
    FILE *out;
    bool json;
    char org_id [AUDIT_IDENT_MAX + 1];
    audit_note_verifier_t verifier;
    audit_checkpoint_t checkpoint;      //  the one the rows are checked against
    ctl_verdict_row_t *rows;
    size_t count, max;
    bool ndjson;
    ctl_bundle_t *bundle;               //  never NULL
    bool root_ok;                       //  the bundle makes the signed root
    bool online;                        //  fetch may be asked
    bool keep_consistency;              //  fetched consistency proofs go in the bundle
    const ctl_logfetch_t *fetch;
    uint64_t old_size;                  //  consistent with this size (0: not checked)
    size_t hint;                        //  where the next row's log_index may be
} ctl_verdict_t;

//  A verification that prints to out. NULL without memory.
ctl_verdict_t *
    ctl_verdict_new (FILE *out, bool json);

//  Destroy; safe on NULL and twice.
void
    ctl_verdict_destroy (ctl_verdict_t **self_p);

//  Print "verify: FAILED: reason" and say CTL_EXIT_REFUSED.
int
    ctl_verdict_fail (ctl_verdict_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

//  Check every row, then (offline) that none is missing. An exit code;
//  the first failure printed.
int
    ctl_verdict_rows (ctl_verdict_t *self);

//  Print what was verified.
void
    ctl_verdict_summary (ctl_verdict_t *self);

#ifdef __cplusplus
}
#endif

#endif
