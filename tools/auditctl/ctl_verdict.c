/*  =========================================================================
    ctl_verdict - one verification of an export: its rows and the verdict
    ========================================================================= */

#include "ctl_verdict.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"

ctl_verdict_t *
ctl_verdict_new (FILE *out, bool json)
{
    ctl_verdict_t *self = (ctl_verdict_t *) calloc (1, sizeof *self);
    if (self && !(self->bundle = ctl_bundle_new ()))
        ctl_verdict_destroy (&self);
    if (self) {
        self->out = out;
        self->json = json;
    }
    return self;
}

void
ctl_verdict_destroy (ctl_verdict_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_verdict_t *self = *self_p;
    ctl_bundle_destroy (&self->bundle);
    free (self->rows);
    free (self);
    *self_p = NULL;
}

static void
s_print (ctl_verdict_t *self, const char *reason)
{
    if (self->json) {
        fprintf (self->out, "{\"verified\":false,\"reason\":");
        ctl_json_write_str (self->out, reason, strlen (reason));
        fprintf (self->out, "}\n");
    }
    else
        fprintf (self->out, "verify: FAILED: %s\n", reason);
    fflush (self->out);
}

int
ctl_verdict_fail (ctl_verdict_t *self, const char *format, ...)
{
    char reason [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    s_print (self, reason);
    return CTL_EXIT_REFUSED;
}

//  The row's failure, printed with where it is
static int
s_fail_row (ctl_verdict_t *self, size_t at, const char *reason)
{
    const ctl_verdict_row_t *row = &self->rows [at];
    return ctl_verdict_fail (self, "row %zu (line %" PRIu64 ", log_index %" PRIu64 "): %s",
                             at + 1, row->line, row->log_index, reason);
}

//  Online, when the rows do not make the signed root: the row's own proof
static int
s_prove (ctl_verdict_t *self, const ctl_verdict_row_t *row, bool *good)
{
    audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX];
    size_t count = 0;
    int rc = ctl_logfetch_inclusion (self->fetch, row->log_index, self->checkpoint.size,
                                     proof, &count);
    *good = rc == CTL_EXIT_OK
         && audit_merkle_inclusion_verify (row->log_index, self->checkpoint.size, row->hash,
                                           proof, count, self->checkpoint.root) == 0;
    return rc;
}

//  What is wrong with row at (NULL: nothing); an exit code in *rc
static const char *
s_problem (ctl_verdict_t *self, size_t at, bool *seen, int *rc)
{
    const ctl_verdict_row_t *row = &self->rows [at];
    static const char *mismatch = "its leaf does not match the signed log"
                                  " (a value was changed, or rows were swapped)";
    *rc = CTL_EXIT_OK;
    if (row->other_org)
        return "its org_id is not the organisation of the checkpoint";
    if (row->log_index >= self->checkpoint.size)
        return "its log_index is past the checkpoint's size (a row added?)";
    long position = ctl_bundle_find (self->bundle, row->log_index, self->hint);
    if (position >= 0)
        self->hint = (size_t) position + 1;
    if (position < 0)
        return "the bundle does not hold its log_index (a row added?)";
    if (seen [position])
        return "a second row with this log_index (a row added?)";
    seen [position] = true;
    if (self->root_ok)
        return memcmp (row->hash, self->bundle->leaves [position], AUDIT_MERKLE_HASH_SIZE)
             ? mismatch: NULL;
    bool good = false;
    *rc = s_prove (self, row, &good);
    return good? NULL: mismatch;
}

int
ctl_verdict_rows (ctl_verdict_t *self)
{
    bool *seen = (bool *) calloc (self->bundle->count + 1, sizeof *seen);
    if (!seen)
        return CTL_EXIT_REFUSED;
    int rc = CTL_EXIT_OK;
    for (size_t at = 0; rc == CTL_EXIT_OK && at < self->count; at++) {
        const char *problem = s_problem (self, at, seen, &rc);
        if (rc == CTL_EXIT_OK && problem)
            rc = s_fail_row (self, at, problem);
    }
    for (size_t at = 0; rc == CTL_EXIT_OK && !self->online && at < self->bundle->count; at++)
        if (!seen [at])
            rc = ctl_verdict_fail (self, "log_index %" PRIu64 ": in the export the bundle was"
                                   " made for, but not in this file (a row deleted?)",
                                   self->bundle->indices [at]);
    if (rc == CTL_EXIT_OK && !self->root_ok)
        rc = ctl_verdict_fail (self, "the rows do not make the signed root, though each"
                               " proves alone: the log changed under the check");
    free (seen);
    return rc;
}

void
ctl_verdict_summary (ctl_verdict_t *self)
{
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    audit_note_verifier_format (&self->verifier, key);
    if (self->json) {
        fprintf (self->out, "{\"verified\":true,\"rows\":%zu,\"org_id\":", self->count);
        ctl_json_write_str (self->out, self->org_id, strlen (self->org_id));
        fprintf (self->out, ",\"size\":%" PRIu64 ",\"consistent_with\":%" PRIu64 "}\n",
                 self->checkpoint.size, self->old_size);
        return;
    }
    fprintf (self->out, "verified: %zu %s of %s against the checkpoint of size %" PRIu64
             " signed by %s%s", self->count, self->count == 1? "row": "rows", self->org_id,
             self->checkpoint.size, key, self->online? " (online)": " (offline, bundle)");
    if (self->old_size)
        fprintf (self->out, "; consistent with the checkpoint of size %" PRIu64, self->old_size);
    fprintf (self->out, "\n");
}
