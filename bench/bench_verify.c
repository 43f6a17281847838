/*  =========================================================================
    bench-verify - how fast does auditctl verify check an export offline,
    and what bounds it?

    1. Make an export of ROWS (default 500,000) events of one organisation
       (bench_events: realistic names, ids and types), rendered as the
       service renders them (audit_render: CSV with its header, and
       ndjson), and its proof bundle: the leaf hashes, signed checkpoint
       (Ed25519) of ROWS + 1 leaves, the subtree of the last one. With -g
       the export holds two of every three indices (a filtered export: a
       gap every third leaf, so a subtree per gap).
    2. Run ctl_verify_export on it (what `auditctl verify --bundle` runs)
       ROUNDS times (default 3) per format: rows/s, best and median.
    3. Its parts, once each: the rows read and hashed (ctl_rows), the
       bundle read (jansson), the walk that recomputes the root.
    4. The ceiling, in the same run: SHA-256 alone over the same leaf
       texts held in memory, plus the node hashes of the tree: rows/s.

    Usage: bench-verify [-n ROWS] [-r ROUNDS] [-g] [-d DIR]
    ========================================================================= */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_checkpoint.h"
#include "audit_csv.h"
#include "audit_logsign.h"
#include "audit_merkle.h"
#include "audit_render.h"
#include "audit_row.h"
#include "audit_signer.h"
#include "bench_events.h"
#include "ctl_bundle.h"
#include "ctl_rows.h"
#include "ctl_verify.h"

typedef struct {
    long rows;
    int rounds;
    bool gaps;
    char dir [512];
    char *leaves;                       //  every leaf text, NUL-separated
    size_t leaves_size;
    char key [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
} s_bench_t;

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

static void
s_path (const s_bench_t *self, const char *name, char *path)
{
    snprintf (path, 600, "%s/%s", self->dir, name);
}

//  The leaf index i of the tree holds: with gaps, two of every three
static bool
s_exported (const s_bench_t *self, uint64_t index)
{
    return !self->gaps || index % 3 != 2;
}

//  Event index as the store reads it back, at log_index
static void
s_row (long index, uint64_t log_index, audit_record_t *record, audit_row_t *row)
{
    static const bench_events_t events = { 1, 0, 1795000000000LL, 37 };
    bench_events_record (&events, index, record);
    const audit_event_t *event = &record->u.event;
    audit_row_of_event (event, log_index, event->timestamp_ms + 150, row);
}

//  Append a leaf text to the bench's memory of them
static void
s_keep_leaf (s_bench_t *self, const char *leaf, int len, size_t *used)
{
    if (*used + (size_t) len + 1 > self->leaves_size) {
        self->leaves_size = 2 * self->leaves_size + (size_t) len + 1;
        self->leaves = realloc (self->leaves, self->leaves_size);
    }
    memcpy (self->leaves + *used, leaf, (size_t) len + 1);
    *used += (size_t) len + 1;
}

//  --------------------------------------------------------------------------
//  1. The export and its bundle

typedef struct {
    audit_merkle_hash_t *all;           //  every leaf hash of the tree
    ctl_bundle_t *bundle;               //  gets the subtrees
} s_tree_t;

//  RFC 9162's hash of leaves [first, end) of all
static void
s_mth (const s_tree_t *tree, uint64_t first, uint64_t end, audit_merkle_hash_t hash)
{
    if (end - first == 1) {
        memcpy (hash, tree->all [first], AUDIT_MERKLE_HASH_SIZE);
        return;
    }
    uint64_t split = 1ull << (63 - __builtin_clzll (end - first - 1));
    audit_merkle_hash_t left, right;
    s_mth (tree, first, first + split, left);
    s_mth (tree, first + split, end, right);
    audit_merkle_node_hash (left, right, hash);
}

static int
s_gap (void *arg, uint64_t first, uint64_t end, uint64_t leaf, audit_merkle_hash_t hash)
{
    (void) leaf;
    s_tree_t *tree = arg;
    s_mth (tree, first, end, hash);
    return ctl_bundle_add_subtree (tree->bundle, first, end, hash);
}

//  One exported row into the two files
static void
s_write_row (const audit_row_t *row, audit_csv_t *csv, FILE *csv_file, FILE *ndjson_file)
{
    char line [AUDIT_RENDER_LINE_MAX];
    int len = audit_render_ndjson (row, line, sizeof line);
    if (len < 0 || audit_render_csv (row, csv) != 0) {
        fprintf (stderr, "bench-verify: a row does not render\n");
        exit (1);
    }
    fwrite (line, 1, (size_t) len, ndjson_file);
    if (audit_csv_size (csv) > (1u << 20)) {
        fwrite (audit_csv_data (csv), 1, audit_csv_size (csv), csv_file);
        audit_csv_reset (csv);
    }
}

//  The leaves of the tree, and the export's rows into its files
static uint64_t
s_leaves (s_bench_t *self, ctl_bundle_t *bundle, s_tree_t *tree)
{
    char path [600];
    s_path (self, "export.csv", path);
    FILE *csv_file = fopen (path, "w");
    s_path (self, "export.ndjson", path);
    FILE *ndjson_file = fopen (path, "w");
    audit_csv_t *csv = audit_csv_new (0);
    if (!csv_file || !ndjson_file || !csv || audit_csv_header (csv) != 0) {
        fprintf (stderr, "bench-verify: cannot write into %s\n", self->dir);
        exit (2);
    }
    //  the rows, and one more leaf after them: the export's own record
    uint64_t size = 0, count = 0;
    size_t used = 0;
    while (count < (uint64_t) self->rows || !s_exported (self, size))
        size += s_exported (self, size)? (count++, 1): 1;
    size++;
    tree->all = malloc (size * sizeof *tree->all);
    ctl_bundle_reserve (bundle, count);
    bundle->count = 0;
    for (uint64_t index = 0; index < size; index++) {
        audit_record_t record;
        audit_row_t row;
        char leaf [AUDIT_RENDER_LINE_MAX];
        s_row ((long) index, index, &record, &row);
        int len = audit_render_leaf (&row, leaf, sizeof leaf);
        audit_merkle_leaf_hash (leaf, (size_t) len, tree->all [index]);
        if (index + 1 == size || !s_exported (self, index))
            continue;
        bundle->indices [bundle->count] = index;
        memcpy (bundle->leaves [bundle->count++], tree->all [index], AUDIT_MERKLE_HASH_SIZE);
        s_keep_leaf (self, leaf, len, &used);
        s_write_row (&row, csv, csv_file, ndjson_file);
    }
    fwrite (audit_csv_data (csv), 1, audit_csv_size (csv), csv_file);
    audit_csv_destroy (&csv);
    fclose (csv_file);
    fclose (ndjson_file);
    return size;
}

static void
s_make (s_bench_t *self)
{
    ctl_bundle_t *bundle = ctl_bundle_new ();
    s_tree_t tree = { NULL, bundle };
    bundle->size = s_leaves (self, bundle, &tree);
    bench_events_org_name (0, bundle->org_id);
    audit_merkle_hash_t root;
    if (ctl_bundle_walk (bundle, s_gap, &tree, root) != 0) {
        fprintf (stderr, "bench-verify: the walk failed\n");
        exit (1);
    }
    audit_signer_t *signer = audit_signer_new (AUDIT_LOGSIGN_KEY_NAME, NULL);
    char text [AUDIT_CHECKPOINT_TEXT_SIZE], note [AUDIT_CHECKPOINT_TEXT_SIZE + AUDIT_NOTE_SIGN_EXTRA];
    int len = audit_checkpoint_format (bundle->org_id, bundle->size, root, text);
    audit_signer_sign (signer, text, (size_t) len, note, sizeof note);
    audit_note_verifier_format (audit_signer_verifier (signer), self->key);
    bundle->note = strdup (note);
    bundle->key = strdup (self->key);
    char path [600];
    s_path (self, "export.bundle", path);
    if (ctl_bundle_write (bundle, path) != 0)
        exit (2);
    printf ("export: %zu rows of a tree of %llu leaves (%zu subtrees in the bundle)\n",
            bundle->count, (unsigned long long) bundle->size, bundle->subtree_count);
    audit_signer_destroy (&signer);
    ctl_bundle_destroy (&bundle);
    free (tree.all);
}

//  --------------------------------------------------------------------------
//  2. and 3. ctl_verify_export, and its parts

static int
s_compare (const void *a, const void *b)
{
    double left = *(const double *) a, right = *(const double *) b;
    return left < right? -1: left > right;
}

static void
s_verify (const s_bench_t *self, const char *name)
{
    char export_path [600], bundle_path [600];
    s_path (self, name, export_path);
    s_path (self, "export.bundle", bundle_path);
    FILE *null = fopen ("/dev/null", "w");
    ctl_verify_options_t options = { .export_path = export_path, .key = self->key,
                                     .bundle_path = bundle_path, .out = null };
    double seconds [16];
    int rounds = self->rounds < 16? self->rounds: 16;
    for (int round = 0; round < rounds; round++) {
        double start = s_now ();
        if (ctl_verify_export (&options) != 0) {
            fprintf (stderr, "bench-verify: %s does not verify\n", name);
            exit (1);
        }
        seconds [round] = s_now () - start;
    }
    fclose (null);
    qsort (seconds, (size_t) rounds, sizeof seconds [0], s_compare);
    printf ("verify --bundle, %-14s %8.0f rows/s best (%.3f s), %8.0f median\n", name,
            (double) self->rows / seconds [0], seconds [0],
            (double) self->rows / seconds [rounds / 2]);
}

static void
s_parts (const s_bench_t *self, const char *name)
{
    char path [600], error [300];
    s_path (self, name, path);
    double start = s_now ();
    ctl_rows_t *rows = ctl_rows_open (path, error, sizeof error);
    ctl_rows_row_t row;
    long count = 0;
    while (rows && ctl_rows_next (rows, &row, error, sizeof error) == 1)
        count++;
    ctl_rows_destroy (&rows);
    double read = s_now () - start;
    s_path (self, "export.bundle", path);
    start = s_now ();
    ctl_bundle_t *bundle = ctl_bundle_read (path, error, sizeof error);
    double load = s_now () - start;
    audit_merkle_hash_t root;
    start = s_now ();
    int rc = bundle? ctl_bundle_root (bundle, root, error, sizeof error): -1;
    double walk = s_now () - start;
    printf ("  parts (%s): rows read + leaf hashed %.3f s (%ld rows), bundle read %.3f s,"
            " walk %.3f s%s\n", name, read, count, load, walk, rc? " (FAILED)": "");
    ctl_bundle_destroy (&bundle);
}

//  --------------------------------------------------------------------------
//  4. The ceiling: SHA-256 alone, over the same leaves

static void
s_ceiling (const s_bench_t *self)
{
    audit_merkle_hash_t *hashes = malloc ((size_t) self->rows * sizeof *hashes);
    double start = s_now ();
    const char *leaf = self->leaves;
    for (long at = 0; at < self->rows; at++) {
        size_t len = strlen (leaf);
        audit_merkle_leaf_hash (leaf, len, hashes [at]);
        leaf += len + 1;
    }
    double leaf_seconds = s_now () - start;
    start = s_now ();
    for (long width = self->rows; width > 1; width = (width + 1) / 2)
        for (long at = 0; at + 1 < width; at += 2)
            audit_merkle_node_hash (hashes [at], hashes [at + 1], hashes [at / 2]);
    double node_seconds = s_now () - start;
    printf ("ceiling, SHA-256 alone:     %8.0f rows/s (leaf hashes %.3f s, %.0f ns each;"
            " node hashes %.3f s)\n", (double) self->rows / (leaf_seconds + node_seconds),
            leaf_seconds, leaf_seconds * 1e9 / (double) self->rows, node_seconds);
    free (hashes);
}

int
main (int argc, char **argv)
{
    s_bench_t self = { .rows = 500000, .rounds = 3 };
    snprintf (self.dir, sizeof self.dir, "/tmp/bench-verify-%d", (int) getpid ());
    int option;
    while ((option = getopt (argc, argv, "n:r:gd:")) != -1)
        switch (option) {
            case 'n': self.rows = atol (optarg); break;
            case 'r': self.rounds = atoi (optarg); break;
            case 'g': self.gaps = true; break;
            case 'd': snprintf (self.dir, sizeof self.dir, "%s", optarg); break;
            default:
                fprintf (stderr, "usage: bench-verify [-n ROWS] [-r ROUNDS] [-g] [-d DIR]\n");
                return 2;
        }
    if (self.rows < 1 || self.rounds < 1 || (mkdir (self.dir, 0700) != 0 && errno != EEXIST)) {
        fprintf (stderr, "bench-verify: bad -n, -r or -d\n");
        return 2;
    }
    double load [3] = { 0 };
    getloadavg (load, 3);
    printf ("bench-verify: %ld rows%s, %d rounds, nproc %ld, load %.2f %.2f %.2f\n", self.rows,
            self.gaps? " (two of every three indices)": "", self.rounds,
            sysconf (_SC_NPROCESSORS_ONLN), load [0], load [1], load [2]);
    s_make (&self);
    s_verify (&self, "export.csv");
    s_verify (&self, "export.ndjson");
    s_parts (&self, "export.csv");
    s_parts (&self, "export.ndjson");
    s_ceiling (&self);
    free (self.leaves);
    return 0;
}
