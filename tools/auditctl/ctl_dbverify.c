/*  =========================================================================
    ctl_dbverify - auditctl verify --db: an operator's check of a data
    directory, with the workers stopped

    Per organisation, the events are read in pages (the store's page API,
    oldest first) into an array of leaf hashes by log_index (33 bytes an
    event); the stored leaves then come in log_index order, each compared
    and folded into a frontier, which gives the root at every signed size.
    So a difference is named in log_index order, whatever the time order.
    ========================================================================= */

#include "ctl_dbverify.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit_checkpoint.h"
#include "audit_config.h"
#include "audit_logsign.h"
#include "audit_page.h"
#include "audit_render.h"
#include "audit_store_log.h"
#include "ctl_checkpoints.h"
#include "ctl_client.h"
#include "ctl_json.h"
#include "ctl_verify.h"

#define s_PAGE_ROWS 10000

typedef struct {
    audit_store_t *store;
    audit_note_verifier_t verifier;
    FILE *out;
    bool json;
    bool failed;
    //  the organisation being checked
    const char *org_id;
    uint64_t size;
    audit_merkle_hash_t *computed;      //  by log_index: its event's leaf hash
    uint8_t *have;                      //  by log_index: 1 an event, 2 two of them
    bool past;                          //  an event at or past size, the lowest:
    uint64_t past_index;
    ctl_checkpoints_t checkpoints;
    size_t checkpoint_next;             //  the next to check against the tree
    audit_merkle_frontier_t frontier;
    //  totals
    uint64_t orgs, events, checked;
} s_check_t;

static int
s_fail (s_check_t *self, const char *format, ...)
{
    char reason [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    if (self->json) {
        fprintf (self->out, "{\"verified\":false,\"org_id\":");
        ctl_json_write_str (self->out, self->org_id, strlen (self->org_id));
        fprintf (self->out, ",\"reason\":");
        ctl_json_write_str (self->out, reason, strlen (reason));
        fprintf (self->out, "}\n");
    }
    else
        fprintf (self->out, "verify: FAILED: org %s %s\n", self->org_id, reason);
    self->failed = true;
    return 1;
}

//  --------------------------------------------------------------------------
//  The key

static int
s_key (const char *key, audit_note_verifier_t *verifier)
{
    if (key)
        return ctl_verify_load_key (key, verifier);
    //  The workers' setting: AUDIT_SIGNING_KEY_FILE, else its default
    static audit_config_t config;       //  13 KiB: not on the stack
    audit_setting_t setting = AUDIT_SET_SIGNING_KEY_FILE;
    char *argv [] = { (char *) "auditctl", NULL };
    const char *path = audit_config_load (&config, 1, argv, "auditctl", "", &setting, 1)
                       == AUDIT_CONFIG_OK? audit_config_str (&config, setting): NULL;
    char *text = NULL;
    size_t len = 0;
    if (!path || !*path || ctl_verify_read_file (path, AUDIT_SIGNER_TEXT_SIZE + 2, &text, &len)) {
        fprintf (stderr, "auditctl: verify --db needs --key KEY, or a readable signer key"
                 " file (AUDIT_SIGNING_KEY_FILE%s%s)\n", path? ": ": "", path? path: "");
        return -1;
    }
    audit_signer_t *signer = audit_signer_from_text (text, len, AUDIT_LOGSIGN_KEY_NAME);
    sodium_memzero (text, len);
    free (text);
    int rc = signer? 0: -1;
    if (signer)
        *verifier = *audit_signer_verifier (signer);
    else
        fprintf (stderr, "auditctl: %s is not a signer key file of %s\n", path,
                 AUDIT_LOGSIGN_KEY_NAME);
    audit_signer_destroy (&signer);
    return rc;
}

//  --------------------------------------------------------------------------
//  The events

static void
s_event (s_check_t *self, const audit_row_t *row)
{
    self->events++;
    uint64_t index = row->log_index;
    if (index >= self->size) {
        if (!self->past || index < self->past_index)
            self->past_index = index;
        self->past = true;
        return;
    }
    char leaf [AUDIT_RENDER_LINE_MAX];
    int len = audit_render_leaf (row, leaf, sizeof leaf);
    audit_merkle_leaf_hash (leaf, len < 0? 0: (size_t) len, self->computed [index]);
    self->have [index] = self->have [index]? 2: 1;
}

static int
s_events (s_check_t *self)
{
    audit_page_filter_t filter = { .org_id = self->org_id, .from_ms = INT64_MIN,
        .to_ms = INT64_MAX, .type_mask = (uint32_t) ((1ull << AUDIT_EVENT_COUNT) - 1),
        .order = AUDIT_CURSOR_ASC, .limit = s_PAGE_ROWS };
    while (true) {
        audit_page_t *page = audit_page_new (self->store, &filter);
        if (!page)
            return -1;
        audit_row_t row;
        int rc;
        while ((rc = audit_page_next (page, &row)) == 1)
            s_event (self, &row);
        bool more = rc == 0 && audit_page_more (page, &filter.after);
        audit_page_destroy (&page);
        if (rc < 0)
            return -1;
        if (!more)
            return 0;
        filter.has_after = true;
    }
}

//  --------------------------------------------------------------------------
//  The checkpoints and the leaves

//  The checkpoint against the tree of its size, whose root is root
static int
s_check_checkpoint (s_check_t *self, const ctl_checkpoint_t *kept, const audit_merkle_hash_t root)
{
    size_t text_len = 0;
    audit_checkpoint_t checkpoint;
    audit_note_result_t result = audit_note_verify (&self->verifier, kept->note,
                                                    strlen (kept->note), &text_len);
    self->checked++;
    if (result != AUDIT_NOTE_OK)
        return s_fail (self, "checkpoint of size %" PRIu64 ": %s", kept->size,
                       result == AUDIT_NOTE_UNSIGNED? "not signed by the key (name and key id)"
                       : result == AUDIT_NOTE_BAD_SIGNATURE? "its signature does not verify"
                       : "not a signed note");
    if (audit_checkpoint_parse (kept->note, text_len, &checkpoint) != AUDIT_CHECKPOINT_OK
    ||  strcmp (checkpoint.org_id, self->org_id) != 0 || checkpoint.size != kept->size
    ||  memcmp (checkpoint.root, kept->root, AUDIT_MERKLE_HASH_SIZE) != 0)
        return s_fail (self, "checkpoint of size %" PRIu64 ": its note is not of this"
                       " organisation, size and root", kept->size);
    if (memcmp (root, kept->root, AUDIT_MERKLE_HASH_SIZE) != 0)
        return s_fail (self, "checkpoint of size %" PRIu64 ": the stored leaves do not make"
                       " its signed root (the log was rewritten)", kept->size);
    return 0;
}

static int
s_leaf (uint64_t index, const audit_merkle_hash_t hash, bool kept, void *arg)
{
    s_check_t *self = (s_check_t *) arg;
    uint64_t next = self->frontier.size;
    if (index != next)
        return s_fail (self, "log_index %" PRIu64 ": no stored leaf", next);
    if (index >= self->size)
        return s_fail (self, "log_index %" PRIu64 ": a leaf past the log's size %" PRIu64,
                       index, self->size);
    if (self->have [index] == 2)
        return s_fail (self, "log_index %" PRIu64 ": two events with it (one inserted)", index);
    if (self->have [index] && memcmp (self->computed [index], hash, AUDIT_MERKLE_HASH_SIZE))
        return s_fail (self, "log_index %" PRIu64 ": the event does not match its leaf in the"
                       " signed log (changed, or swapped with another)", index);
    if (!self->have [index] && kept)
        return s_fail (self, "log_index %" PRIu64 ": the event is missing, and retention did"
                       " not delete it (deleted)", index);
    if (audit_merkle_frontier_append (&self->frontier, hash, NULL, NULL) != 0)
        return -1;
    //  From here on the tree's leaf: the stored subtrees are checked against these
    memcpy (self->computed [index], hash, AUDIT_MERKLE_HASH_SIZE);
    while (self->checkpoint_next < self->checkpoints.count
       &&  self->checkpoints.items [self->checkpoint_next].size <= self->frontier.size) {
        audit_merkle_hash_t root;
        audit_merkle_frontier_root (&self->frontier, root);
        if (s_check_checkpoint (self, &self->checkpoints.items [self->checkpoint_next++], root))
            return 1;
    }
    return 0;
}

//  RFC 9162's hash of the complete subtree over leaves [first, first + 2^level)
static void
s_fold (const s_check_t *self, uint64_t first, unsigned level, audit_merkle_hash_t hash)
{
    if (level == 0) {
        memcpy (hash, self->computed [first], AUDIT_MERKLE_HASH_SIZE);
        return;
    }
    audit_merkle_hash_t left, right;
    s_fold (self, first, level - 1, left);
    s_fold (self, first + (1ull << (level - 1)), level - 1, right);
    audit_merkle_node_hash (left, right, hash);
}

//  A stored subtree hash, which the proofs are made from, against the leaves
static int
s_node (unsigned level, uint64_t index, const audit_merkle_hash_t hash, void *arg)
{
    s_check_t *self = (s_check_t *) arg;
    if (level >= AUDIT_MERKLE_LEVELS || index >= (self->size >> level))
        return s_fail (self, "a stored subtree (level %u, index %" PRIu64 ") past the log's"
                       " size %" PRIu64, level, index, self->size);
    audit_merkle_hash_t expected;
    s_fold (self, index << level, level, expected);
    if (memcmp (expected, hash, AUDIT_MERKLE_HASH_SIZE) != 0)
        return s_fail (self, "log_index %" PRIu64 "-%" PRIu64 ": the stored subtree hash over"
                       " them does not match their leaves (proofs made from it fail)",
                       index << level, ((index + 1) << level) - 1);
    return 0;
}

//  What is left once every leaf went by
static int
s_after_leaves (s_check_t *self)
{
    if (self->frontier.size < self->size)
        return s_fail (self, "log_index %" PRIu64 ": no stored leaf", self->frontier.size);
    if (self->past)
        return s_fail (self, "log_index %" PRIu64 ": an event past the log's size %" PRIu64
                       " (inserted)", self->past_index, self->size);
    if (self->checkpoint_next < self->checkpoints.count)
        return s_fail (self, "checkpoint of size %" PRIu64 ": past the log's size %" PRIu64,
                       self->checkpoints.items [self->checkpoint_next].size, self->size);
    return 0;
}

static int
s_org (const char *org_id, uint64_t size, void *arg)
{
    s_check_t *self = (s_check_t *) arg;
    self->org_id = org_id;
    self->size = size;
    self->orgs++;
    self->past = false;
    self->checkpoint_next = 0;
    audit_merkle_frontier_init (&self->frontier);
    self->computed = (audit_merkle_hash_t *) malloc ((size + 1) * sizeof *self->computed);
    self->have = (uint8_t *) calloc (size + 1, 1);
    int rc = self->computed && self->have? 0: -1;
    if (rc == 0)
        rc = s_events (self);
    if (rc == 0)
        rc = ctl_checkpoints_read (&self->checkpoints, self->store, org_id);
    if (rc == 0)
        rc = audit_store_log_leaves (self->store, org_id, s_leaf, self);
    if (rc == 0 && !self->failed)
        s_after_leaves (self);
    if (rc == 0 && !self->failed)
        rc = audit_store_log_nodes (self->store, org_id, s_node, self);
    free (self->computed);
    free (self->have);
    self->computed = NULL, self->have = NULL;
    return rc < 0 || self->failed? 1: 0;
}

//  The organisations' names first: each is then read in its own page transactions
typedef struct {
    char (*names) [AUDIT_IDENT_MAX + 1];
    uint64_t *sizes;
    size_t count;
} s_orgs_t;

static int
s_keep_org (const char *org_id, uint64_t size, void *arg)
{
    s_orgs_t *orgs = (s_orgs_t *) arg;
    void *names = realloc (orgs->names, (orgs->count + 1) * sizeof *orgs->names);
    void *sizes = names? realloc (orgs->sizes, (orgs->count + 1) * sizeof *orgs->sizes): NULL;
    if (names)
        orgs->names = names;
    if (!names || !sizes)
        return -1;
    orgs->sizes = sizes;
    snprintf (orgs->names [orgs->count], sizeof orgs->names [0], "%s", org_id);
    orgs->sizes [orgs->count++] = size;
    return 0;
}

static int
s_check_all (s_check_t *self)
{
    s_orgs_t orgs = { NULL, NULL, 0 };
    int rc = audit_store_log_orgs (self->store, s_keep_org, &orgs);
    for (size_t at = 0; rc == 0 && !self->failed && at < orgs.count; at++)
        if (s_org (orgs.names [at], orgs.sizes [at], self) != 0 && !self->failed)
            rc = -1;
    free (orgs.names);
    free (orgs.sizes);
    ctl_checkpoints_free (&self->checkpoints);
    return rc;
}

int
ctl_dbverify_run (const char *dir, const char *key, FILE *out, bool json)
{
    s_check_t *self = (s_check_t *) calloc (1, sizeof *self);
    //  A directory, or a database (AUDIT_DATABASE_URL): never its password
    char where [4096];
    audit_store_redact (dir, where, sizeof where);
    if (!self)
        return CTL_EXIT_REFUSED;
    self->out = out;
    self->json = json;
    int rc = s_key (key, &self->verifier) == 0? CTL_EXIT_OK: CTL_EXIT_USAGE;
    if (rc == CTL_EXIT_OK && !audit_store_exists (dir)) {
        fprintf (stderr, "auditctl: %s: no audit store there\n", where);
        rc = CTL_EXIT_USAGE;
    }
    if (rc == CTL_EXIT_OK && !(self->store = audit_store_new (dir, AUDIT_STORE_READER)))
        rc = CTL_EXIT_USAGE;
    if (rc == CTL_EXIT_OK && s_check_all (self) != 0) {
        fprintf (stderr, "auditctl: %s: the store could not be read\n", where);
        rc = CTL_EXIT_USAGE;
    }
    if (rc == CTL_EXIT_OK && self->failed)
        rc = CTL_EXIT_REFUSED;
    if (rc == CTL_EXIT_OK)
        fprintf (out, json? "{\"verified\":true,\"orgs\":%" PRIu64 ",\"events\":%" PRIu64
                 ",\"checkpoints\":%" PRIu64 "}\n"
                 : "verified: %" PRIu64 " organisations, %" PRIu64 " events, %" PRIu64
                 " signed checkpoints\n", self->orgs, self->events, self->checked);
    audit_store_destroy (&self->store);
    free (self);
    return rc;
}
