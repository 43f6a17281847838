/*  =========================================================================
    ctl_verify - auditctl verify: an export checked against the
    organisation's signed log, and export --proof's bundle

    The rows are read once into an array (48 bytes a row); the bundle's
    tree is then checked against the signed root once, and each row is a
    binary search and a 32-byte compare. Online, the bundle is built from
    the rows themselves and the service's proofs: when its root is the
    signed one every row is proven at once; when it is not, each row's own
    inclusion proof finds the first that fails.
    ========================================================================= */

#include "ctl_verify.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit_checkpoint.h"
#include "ctl_dbverify.h"
#include "ctl_json.h"
#include "ctl_rows.h"
#include "ctl_verdict.h"

int
ctl_verify_read_file (const char *path, size_t max, char **text, size_t *len)
{
    FILE *file = fopen (path, "rb");
    char *buffer = file? (char *) malloc (max + 1): NULL;
    size_t got = buffer? fread (buffer, 1, max + 1, file): 0;
    int rc = buffer && !ferror (file) && got <= max? 0: -1;
    if (file)
        fclose (file);
    if (rc != 0) {
        free (buffer);
        return -1;
    }
    buffer [got] = 0;
    *text = buffer;
    *len = got;
    return 0;
}

int
ctl_verify_load_key (const char *key, audit_note_verifier_t *verifier)
{
    if (audit_note_verifier_parse (verifier, key, strlen (key)) == 0)
        return 0;
    char *text = NULL;
    size_t len = 0;
    if (ctl_verify_read_file (key, AUDIT_NOTE_VERIFIER_TEXT_SIZE + 2, &text, &len) != 0) {
        fprintf (stderr, "auditctl: --key is neither a verifier key nor a file holding one\n");
        return -1;
    }
    while (len > 0 && (text [len - 1] == '\n' || text [len - 1] == '\r'))
        len--;
    int rc = audit_note_verifier_parse (verifier, text, len);
    free (text);
    if (rc != 0)
        fprintf (stderr, "auditctl: %s does not hold a verifier key"
                 " (NAME+KEYID+BASE64, what log_key returns)\n", key);
    return rc;
}

//  --------------------------------------------------------------------------
//  The export's rows

static int
s_add_row (ctl_verdict_t *self, const ctl_rows_row_t *row)
{
    if (self->count == self->max) {
        size_t max = self->max? 2 * self->max: 4096;
        ctl_verdict_row_t *grown = (ctl_verdict_row_t *) realloc (self->rows, max * sizeof *grown);
        if (!grown)
            return -1;
        self->rows = grown;
        self->max = max;
    }
    ctl_verdict_row_t *kept = &self->rows [self->count++];
    kept->log_index = row->log_index;
    kept->line = row->line;
    memcpy (kept->hash, row->hash, AUDIT_MERKLE_HASH_SIZE);
    kept->other_org = strcmp (row->org_id, self->org_id) != 0;
    return 0;
}

static int
s_load_rows (ctl_verdict_t *self, const char *path)
{
    char error [300];
    ctl_rows_t *rows = ctl_rows_open (path, error, sizeof error);
    if (!rows) {
        fprintf (stderr, "auditctl: %s\n", error);
        return CTL_EXIT_USAGE;
    }
    ctl_rows_row_t row;
    int rc;
    while ((rc = ctl_rows_next (rows, &row, error, sizeof error)) == 1)
        if (s_add_row (self, &row) != 0) {
            rc = -1;
            snprintf (error, sizeof error, "out of memory");
            break;
        }
    self->ndjson = ctl_rows_is_ndjson (rows);
    ctl_rows_destroy (&rows);
    if (rc < 0)
        fprintf (stderr, "auditctl: %s: %s\n", path, error);
    return rc < 0? CTL_EXIT_USAGE: CTL_EXIT_OK;
}

//  --------------------------------------------------------------------------
//  The signed checkpoints

static int
s_note (ctl_verdict_t *self, const char *note, const char *what,
                 audit_checkpoint_t *checkpoint)
{
    size_t text_len = 0;
    audit_note_result_t result = audit_note_verify (&self->verifier, note, strlen (note), &text_len);
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    audit_note_verifier_format (&self->verifier, key);
    if (result == AUDIT_NOTE_MALFORMED
    ||  (result == AUDIT_NOTE_OK && audit_checkpoint_parse (note, text_len, checkpoint)
                                    != AUDIT_CHECKPOINT_OK)) {
        fprintf (stderr, "auditctl: %s is not a signed checkpoint\n", what);
        return CTL_EXIT_USAGE;
    }
    if (result == AUDIT_NOTE_UNSIGNED)
        return ctl_verdict_fail (self, "%s is not signed by the key %s (its name and key id)",
                                what, key);
    if (result == AUDIT_NOTE_BAD_SIGNATURE)
        return ctl_verdict_fail (self, "%s: the signature of %s does not verify", what, key);
    if (strcmp (checkpoint->org_id, self->org_id) != 0)
        return ctl_verdict_fail (self, "%s is of the organisation %s, not %s", what,
                                checkpoint->org_id, self->org_id);
    return CTL_EXIT_OK;
}

//  The consistency of the checkpoint with the earlier one at path
static int
s_consistency (ctl_verdict_t *self, const char *path)
{
    char *note = NULL;
    size_t len = 0;
    if (ctl_verify_read_file (path, 64 * 1024, &note, &len) != 0) {
        fprintf (stderr, "auditctl: cannot read %s\n", path);
        return CTL_EXIT_USAGE;
    }
    audit_checkpoint_t old;
    int rc = s_note (self, note, path, &old);
    free (note);
    if (rc != CTL_EXIT_OK)
        return rc;
    uint64_t size = self->checkpoint.size;
    if (old.size > size)
        return ctl_verdict_fail (self, "%s (size %" PRIu64 ") is newer than the checkpoint"
                                " (size %" PRIu64 ")", path, old.size, size);
    audit_merkle_hash_t fetched [AUDIT_MERKLE_PROOF_MAX];
    const audit_merkle_hash_t *proof = fetched;
    size_t count = 0;
    const ctl_bundle_consistency_t *kept = ctl_bundle_consistency_find (self->bundle, old.size);
    if (kept)
        proof = kept->hashes, count = kept->count;
    else
    if (self->online && old.size < size) {
        rc = ctl_logfetch_consistency (self->fetch, old.size, size, fetched, &count);
        if (rc == CTL_EXIT_OK && self->keep_consistency)
            rc = ctl_bundle_add_consistency (self->bundle, old.size, fetched, count)? 1: 0;
        if (rc != CTL_EXIT_OK)
            return rc;
    }
    else
    if (old.size < size)
        return ctl_verdict_fail (self, "the bundle holds no consistency proof from size %"
                                PRIu64 " (export --proof with --checkpoint makes one)", old.size);
    if (audit_merkle_consistency_verify (old.size, size, old.root, self->checkpoint.root,
                                         proof, count) != 0)
        return ctl_verdict_fail (self, "the checkpoint of size %" PRIu64 " is not consistent"
                                " with %s (size %" PRIu64 "): the log was rewritten", size,
                                path, old.size);
    self->old_size = old.size;
    return CTL_EXIT_OK;
}

//  --------------------------------------------------------------------------
//  The bundle and its root

static int
s_compare_index (const void *a, const void *b)
{
    const ctl_verdict_row_t *left = *(const ctl_verdict_row_t *const *) a;
    const ctl_verdict_row_t *right = *(const ctl_verdict_row_t *const *) b;
    if (left->log_index != right->log_index)
        return left->log_index < right->log_index? -1: 1;
    return left < right? -1: left > right;
}

//  The bundle of the rows themselves: each index below the size once
//  (its first row), with the service's subtrees
static int
s_bundle_from_rows (ctl_verdict_t *self)
{
    ctl_verdict_row_t **order = (ctl_verdict_row_t **) malloc ((self->count + 1) * sizeof *order);
    if (!order || ctl_bundle_reserve (self->bundle, self->count) != 0) {
        free (order);
        return CTL_EXIT_REFUSED;
    }
    for (size_t at = 0; at < self->count; at++)
        order [at] = &self->rows [at];
    qsort (order, self->count, sizeof *order, s_compare_index);
    size_t kept = 0;
    for (size_t at = 0; at < self->count; at++) {
        const ctl_verdict_row_t *row = order [at];
        if (row->log_index >= self->checkpoint.size || row->other_org
        ||  (kept && self->bundle->indices [kept - 1] == row->log_index))
            continue;
        self->bundle->indices [kept] = row->log_index;
        memcpy (self->bundle->leaves [kept++], row->hash, AUDIT_MERKLE_HASH_SIZE);
    }
    free (order);
    self->bundle->count = kept;
    self->bundle->size = self->checkpoint.size;
    snprintf (self->bundle->org_id, sizeof self->bundle->org_id, "%s", self->org_id);
    audit_merkle_hash_t root;
    int rc = ctl_logfetch_subtrees (self->fetch, self->bundle, self->checkpoint.root, root);
    self->root_ok = rc == CTL_EXIT_OK
                 && memcmp (root, self->checkpoint.root, AUDIT_MERKLE_HASH_SIZE) == 0;
    return rc;
}

//  The bundle read from a file: its checkpoint, and its root
static int
s_bundle_check (ctl_verdict_t *self)
{
    ctl_bundle_t *bundle = self->bundle;
    int rc = s_note (self, bundle->note, "the bundle's checkpoint", &self->checkpoint);
    if (rc != CTL_EXIT_OK)
        return rc;
    if (self->checkpoint.size != bundle->size)
        return ctl_verdict_fail (self, "the bundle says size %" PRIu64 ", its checkpoint %"
                                PRIu64, bundle->size, self->checkpoint.size);
    audit_merkle_hash_t root;
    char error [200];
    if (ctl_bundle_root (bundle, root, error, sizeof error) != 0) {
        fprintf (stderr, "auditctl: the bundle is malformed: %s\n", error);
        return CTL_EXIT_USAGE;
    }
    if (memcmp (root, self->checkpoint.root, AUDIT_MERKLE_HASH_SIZE) != 0)
        return ctl_verdict_fail (self, "the bundle's leaf and subtree hashes do not make the"
                                " signed root: the bundle was altered");
    self->root_ok = true;
    return CTL_EXIT_OK;
}

//  --------------------------------------------------------------------------

static int
s_prepare (ctl_verdict_t *self, const ctl_verify_options_t *options)
{
    if (ctl_verify_load_key (options->key, &self->verifier) != 0)
        return CTL_EXIT_USAGE;
    char error [300];
    if (options->bundle_path) {
        ctl_bundle_destroy (&self->bundle);
        self->bundle = ctl_bundle_read (options->bundle_path, error, sizeof error);
        if (!self->bundle) {
            fprintf (stderr, "auditctl: %s\n", error);
            return CTL_EXIT_USAGE;
        }
        snprintf (self->org_id, sizeof self->org_id, "%s", self->bundle->org_id);
    }
    int rc = s_load_rows (self, options->export_path);
    if (rc == CTL_EXIT_OK && options->bundle_path)
        return s_bundle_check (self);
    char *note = NULL;
    if (rc == CTL_EXIT_OK)
        rc = ctl_logfetch_checkpoint (self->fetch, &note);
    if (rc == CTL_EXIT_OK)
        rc = s_note (self, note, "the service's checkpoint", &self->checkpoint);
    free (note);
    return rc == CTL_EXIT_OK? s_bundle_from_rows (self): rc;
}

int
ctl_verify_export (const ctl_verify_options_t *options)
{
    ctl_verdict_t *self = ctl_verdict_new (options->out, options->json);
    if (!self)
        return CTL_EXIT_REFUSED;
    self->fetch = &options->fetch;
    self->online = !options->bundle_path;
    if (self->online)
        snprintf (self->org_id, sizeof self->org_id, "%s",
                  options->fetch.org_id? options->fetch.org_id: "");
    int rc = s_prepare (self, options);
    if (rc == CTL_EXIT_OK && options->checkpoint_path)
        rc = s_consistency (self, options->checkpoint_path);
    if (rc == CTL_EXIT_OK)
        rc = ctl_verdict_rows (self);
    if (rc == CTL_EXIT_OK)
        ctl_verdict_summary (self);
    ctl_verdict_destroy (&self);
    return rc;
}

int
ctl_verify_make_bundle (const ctl_logfetch_t *fetch, const char *export_path,
                        const char *note, const char *checkpoint_path,
                        const char *bundle_path, FILE *out)
{
    ctl_verdict_t *self = ctl_verdict_new (out, false);
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    if (!self)
        return CTL_EXIT_REFUSED;
    self->fetch = fetch;
    self->online = true;
    self->keep_consistency = true;
    snprintf (self->org_id, sizeof self->org_id, "%s", fetch->org_id);
    int rc = ctl_logfetch_key (fetch, key);
    if (rc == CTL_EXIT_OK)
        rc = ctl_verify_load_key (key, &self->verifier) == 0? CTL_EXIT_OK: CTL_EXIT_REFUSED;
    if (rc == CTL_EXIT_OK)
        rc = s_load_rows (self, export_path);
    if (rc == CTL_EXIT_OK)
        rc = s_note (self, note, "the export's checkpoint", &self->checkpoint);
    if (rc == CTL_EXIT_OK)
        rc = s_bundle_from_rows (self);
    if (rc == CTL_EXIT_OK && checkpoint_path)
        rc = s_consistency (self, checkpoint_path);
    if (rc == CTL_EXIT_OK)
        rc = ctl_verdict_rows (self);
    if (rc == CTL_EXIT_OK && (!(self->bundle->note = strdup (note))
                          ||  !(self->bundle->key = strdup (key))
                          ||  ctl_bundle_write (self->bundle, bundle_path) != 0))
        rc = CTL_EXIT_REFUSED;
    ctl_verdict_destroy (&self);
    return rc;
}

int
ctl_verify_run (const ctl_args_t *args)
{
    if (args->given [CTL_OPT_DB])
        return ctl_dbverify_run (args->text [CTL_OPT_DB],
                                 args->given [CTL_OPT_KEY]? args->text [CTL_OPT_KEY]: NULL,
                                 stdout, args->json);
    if (!args->given [CTL_OPT_EXPORT_FILE] || !args->given [CTL_OPT_KEY]) {
        fprintf (stderr, "auditctl: verify needs --export FILE and --key KEY (or --db DIR)\n");
        return CTL_EXIT_USAGE;
    }
    bool online = !args->given [CTL_OPT_BUNDLE];
    if (online && (!args->given [CTL_OPT_ORG] || !args->token)) {
        fprintf (stderr, "auditctl: verify without --bundle asks the service: it needs --org"
                 " and a token (--token T or env AUDIT_TOKEN)\n");
        return CTL_EXIT_USAGE;
    }
    ctl_verify_options_t options = {
        .export_path = args->text [CTL_OPT_EXPORT_FILE], .key = args->text [CTL_OPT_KEY],
        .bundle_path = online? NULL: args->text [CTL_OPT_BUNDLE],
        .checkpoint_path = args->given [CTL_OPT_CHECKPOINT]? args->text [CTL_OPT_CHECKPOINT]: NULL,
        .fetch = { NULL, args->token, args->given [CTL_OPT_ORG]? args->text [CTL_OPT_ORG]: NULL },
        .out = stdout, .json = args->json
    };
    if (online && !(options.fetch.client = ctl_client_new (args->endpoint, args->timeout_ms)))
        return CTL_EXIT_USAGE;
    int rc = ctl_verify_export (&options);
    ctl_client_destroy (&options.fetch.client);
    return rc;
}
