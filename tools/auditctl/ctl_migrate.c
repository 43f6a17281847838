/*  =========================================================================
    ctl_migrate - auditctl migrate: move an SQLite data directory into a
    PostgreSQL database (see ctl_migrate.h)

    Per organisation, its stored leaves are read first into an array by
    log_index (33 bytes a leaf, as verify --db does): the source's log
    walk and its pages are each a read transaction of their own, and do
    not nest. Its events then come in log order, a page of --batch rows
    at a time; the leaves a page covers (up to the index it says the next
    page starts at) go to the target with the page's rows, --batch leaves
    a call, each call one transaction of the target.
    ========================================================================= */

#include "ctl_migrate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "audit_page.h"
#include "audit_store_import.h"
#include "audit_store_log.h"
#include "audit_store_mq.h"
#include "audit_store_opslog.h"
#include "audit_store_org.h"
#include "audit_store_producers.h"
#include "audit_store_stats.h"
#include "ctl_checkpoints.h"
#include "ctl_client.h"

//  A row of a page, kept past the page's next step
typedef struct {
    audit_row_t row;
    audit_ident_t org_id, actor_id;
    audit_ident_t text [AUDIT_FIELD_COUNT];
} s_row_t;

typedef struct {
    audit_store_t *source, *target;
    size_t batch;
    FILE *out;
    bool failed;
    //  the organisation being moved
    const char *org_id;
    uint64_t size;
    audit_merkle_hash_t *leaves;        //  by log_index
    bool *kept;                         //  by log_index: its event still stored
    uint64_t leaf_count;
    ctl_checkpoints_t checkpoints;
    //  the batch's buffers
    s_row_t *rows;
    const audit_row_t **row_at;         //  by leaf of the call: its event or NULL
    audit_record_t *records;            //  ops records and messages
    audit_store_outcome_t *outcomes;
    size_t record_count;
    bool queue_failed;                  //  a batch of messages was not written
    size_t messages_skipped;            //  without a valid message_id
    //  totals
    uint64_t orgs, events, deleted, signed_count, producers, counters, ops, messages;
} s_migrate_t;

static int
s_fail (s_migrate_t *self, const char *format, ...)
{
    char reason [512];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    fprintf (self->out, "migrate: FAILED: %s%s%s\n", self->org_id? "org ": "",
             self->org_id? self->org_id: "", reason);
    self->failed = true;
    return -1;
}

//  --------------------------------------------------------------------------
//  An organisation's leaves, and its events with them

static int
s_leaf (uint64_t index, const audit_merkle_hash_t hash, bool kept, void *arg)
{
    s_migrate_t *self = (s_migrate_t *) arg;
    if (index != self->leaf_count || index >= self->size)
        return s_fail (self, ": log_index %" PRIu64 ": no stored leaf in the source",
                       self->leaf_count);
    memcpy (self->leaves [index], hash, AUDIT_MERKLE_HASH_SIZE);
    self->kept [index] = kept;
    self->leaf_count++;
    return 0;
}

static void
s_row_copy (s_row_t *copy, const audit_row_t *row)
{
    copy->row = *row;
    snprintf (copy->org_id, sizeof copy->org_id, "%s", row->org_id);
    snprintf (copy->actor_id, sizeof copy->actor_id, "%s", row->actor_id);
    copy->row.org_id = copy->org_id;
    copy->row.actor_id = copy->actor_id;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (row->text [field]) {
            snprintf (copy->text [field], sizeof copy->text [field], "%s", row->text [field]);
            copy->row.text [field] = copy->text [field];
        }
}

//  One page of events in log order from first: its rows into self->rows,
//  *count of them, and in *next where the next page starts
static int
s_page_read (s_migrate_t *self, uint64_t first, size_t *count, uint64_t *next)
{
    audit_page_filter_t filter = { .org_id = self->org_id, .from_ms = INT64_MIN,
        .to_ms = INT64_MAX, .type_mask = (uint32_t) ((1ull << AUDIT_EVENT_COUNT) - 1),
        .order = AUDIT_CURSOR_ASC, .limit = (uint32_t) self->batch, .log_order = true,
        .from_index = first };
    audit_page_t *page = audit_page_new (self->source, &filter);
    if (!page)
        return -1;
    audit_row_t row;
    int rc;
    *count = 0;
    while ((rc = audit_page_next (page, &row)) == 1 && *count < self->batch)
        s_row_copy (&self->rows [(*count)++], &row);
    *next = rc == 0? audit_page_log_next (page): 0;
    audit_page_destroy (&page);
    return rc == 0? 0: -1;
}

//  The leaves [first, first + count) with the page's rows from *used on
static int
s_import (s_migrate_t *self, uint32_t days, uint64_t first, size_t count, size_t rows,
          size_t *used)
{
    for (size_t at = 0; at < count; at++) {
        uint64_t index = first + at;
        bool has = *used < rows && self->rows [*used].row.log_index == index;
        self->row_at [at] = has? &self->rows [(*used)++].row: NULL;
        if (!has && self->kept [index])
            return s_fail (self, ": log_index %" PRIu64 ": its event is kept but the source's"
                           " log order did not read it", index);
        self->events += has;
        self->deleted += !has;
    }
    if (audit_store_import (self->target, self->org_id, days, first, count,
                            (const audit_merkle_hash_t *) self->leaves + first,
                            (const audit_row_t *const *) self->row_at) != 0)
        return s_fail (self, ": log_index %" PRIu64 "-%" PRIu64 ": the target refused them"
                       " (its log: see the message above)", first, first + count - 1);
    return 0;
}

static int
s_events_move (s_migrate_t *self, uint32_t days)
{
    //  An organisation without events still moves, with its retention
    if (self->size == 0)
        return audit_store_import (self->target, self->org_id, days, 0, 0, NULL, NULL) == 0
             ? 0: s_fail (self, ": the target refused it");
    for (uint64_t first = 0; first < self->size; ) {
        size_t rows, used = 0;
        uint64_t next;
        if (s_page_read (self, first, &rows, &next) != 0)
            return s_fail (self, ": its events could not be read");
        next = next > self->size? self->size: next;
        if (next <= first)
            return s_fail (self, ": log_index %" PRIu64 ": the log order stopped there", first);
        for (uint64_t at = first; at < next; at += self->batch) {
            size_t count = next - at < self->batch? (size_t) (next - at): self->batch;
            if (s_import (self, days, at, count, rows, &used) != 0)
                return -1;
        }
        if (used != rows)
            return s_fail (self, ": log_index %" PRIu64 ": an event that is not its leaf's"
                           " (two at one index, or past the log)",
                           self->rows [used].row.log_index);
        first = next;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Its checkpoints and roots

//  The roots of both stores at size, the same, and expected when not NULL
static int
s_roots_match (s_migrate_t *self, uint64_t size, const uint8_t *expected)
{
    audit_merkle_hash_t source, target;
    if (audit_store_log_root (self->source, self->org_id, size, source) != 0
    ||  audit_store_log_root (self->target, self->org_id, size, target) != 0)
        return s_fail (self, ": the root of size %" PRIu64 " could not be read", size);
    if (memcmp (source, target, AUDIT_MERKLE_HASH_SIZE) != 0
    ||  (expected && memcmp (expected, target, AUDIT_MERKLE_HASH_SIZE) != 0))
        return s_fail (self, ": the root of size %" PRIu64 " differs in the target%s", size,
                       expected? " from the signed one": "");
    return 0;
}

static int
s_checkpoints_move (s_migrate_t *self)
{
    if (ctl_checkpoints_read (&self->checkpoints, self->source, self->org_id) != 0)
        return s_fail (self, ": its checkpoints could not be read");
    for (size_t at = 0; at < self->checkpoints.count; at++) {
        const ctl_checkpoint_t *kept = &self->checkpoints.items [at];
        char note_kept [AUDIT_STORE_NOTE_MAX];
        if (kept->size > self->size)
            return s_fail (self, ": a checkpoint of size %" PRIu64 " past the log", kept->size);
        if (s_roots_match (self, kept->size, kept->root) != 0)
            return -1;
        if (audit_store_checkpoint_put (self->target, self->org_id, kept->size, kept->root,
                                        kept->note, note_kept, sizeof note_kept) < 0)
            return s_fail (self, ": the checkpoint of size %" PRIu64 " was refused", kept->size);
        self->signed_count++;
    }
    return self->size > 0? s_roots_match (self, self->size, NULL): 0;
}

static int
s_org (s_migrate_t *self, const char *org_id, uint64_t size)
{
    self->org_id = org_id;
    self->size = size;
    self->leaf_count = 0;
    uint64_t events = self->events, deleted = self->deleted, signed_count = self->signed_count;
    uint32_t days;
    if (audit_store_org_retention (self->source, org_id, &days) != 0)
        return s_fail (self, ": its retention could not be read");
    self->leaves = (audit_merkle_hash_t *) malloc ((size + 1) * sizeof *self->leaves);
    self->kept = (bool *) calloc (size + 1, sizeof *self->kept);
    int rc = self->leaves && self->kept? 0: s_fail (self, ": out of memory");
    if (rc == 0 && audit_store_log_leaves (self->source, org_id, s_leaf, self) != 0)
        rc = s_fail (self, ": its leaves could not be read");
    if (rc == 0 && !self->failed && self->leaf_count != size)
        rc = s_fail (self, ": log_index %" PRIu64 ": no stored leaf in the source",
                     self->leaf_count);
    if (rc == 0 && !self->failed)
        rc = s_events_move (self, days);
    if (rc == 0 && !self->failed)
        rc = s_checkpoints_move (self);
    free (self->leaves);
    free (self->kept);
    self->leaves = NULL, self->kept = NULL;
    if (rc != 0 || self->failed)
        return -1;
    self->orgs++;
    fprintf (self->out, "org %s: %" PRIu64 " leaves, %" PRIu64 " events (%" PRIu64
             " deleted by retention), %" PRIu64 " signed checkpoints, retention %" PRIu32
             " days: roots match\n", org_id, size, self->events - events,
             self->deleted - deleted, self->signed_count - signed_count, days);
    return 0;
}

//  The organisations' names first: each then reads in its own transactions
typedef struct {
    audit_ident_t *names;
    uint64_t *sizes;
    size_t count;
    bool any_events;                    //  of the target: one holds events
    audit_ident_t first_full;
} s_orgs_t;

static int
s_keep_org (const char *org_id, uint64_t size, void *arg)
{
    s_orgs_t *orgs = (s_orgs_t *) arg;
    void *names = realloc (orgs->names, (orgs->count + 1) * sizeof *orgs->names);
    if (names)
        orgs->names = (audit_ident_t *) names;
    void *sizes = names? realloc (orgs->sizes, (orgs->count + 1) * sizeof *orgs->sizes): NULL;
    if (!sizes)
        return -1;
    orgs->sizes = (uint64_t *) sizes;
    snprintf (orgs->names [orgs->count], sizeof orgs->names [0], "%s", org_id);
    orgs->sizes [orgs->count++] = size;
    return 0;
}

static int
s_target_org (const char *org_id, uint64_t size, void *arg)
{
    s_orgs_t *orgs = (s_orgs_t *) arg;
    if (size == 0)
        return 0;
    orgs->any_events = true;
    snprintf (orgs->first_full, sizeof orgs->first_full, "%s", org_id);
    return 1;
}

static int
s_orgs_move (s_migrate_t *self)
{
    s_orgs_t orgs = { NULL, NULL, 0, false, "" };
    int rc = audit_store_log_orgs (self->source, s_keep_org, &orgs) == 0
           ? 0: s_fail (self, ": the source's organisations could not be read");
    for (size_t at = 0; rc == 0 && at < orgs.count; at++)
        rc = s_org (self, orgs.names [at], orgs.sizes [at]);
    self->org_id = NULL;
    free (orgs.names);
    free (orgs.sizes);
    return rc;
}

//  --------------------------------------------------------------------------
//  What is not an organisation's log

typedef struct {
    audit_store_producer_t *rows;
    size_t count;
    bool failed;                        //  out of memory
} s_producers_t;

static void
s_keep_producer (const audit_store_producer_t *producer, void *arg)
{
    s_producers_t *producers = (s_producers_t *) arg;
    void *grown = realloc (producers->rows, (producers->count + 1) * sizeof *producers->rows);
    if (!grown) {
        producers->failed = true;
        return;
    }
    producers->rows = (audit_store_producer_t *) grown;
    producers->rows [producers->count++] = *producer;
}

static const audit_record_t *
s_no_record (void *arg, size_t index)
{
    (void) arg, (void) index;
    return NULL;
}

//  The producers' rows go in as the writer writes them, with no records
static int
s_producers_move (s_migrate_t *self)
{
    s_producers_t producers = { NULL, 0, false };
    int rc = audit_store_producers_read (self->source, s_keep_producer, &producers) == 0
          && !producers.failed? 0: -1;
    if (rc == 0 && producers.count > 0) {
        audit_store_outcome_t outcome;
        rc = audit_store_write_each (self->target, s_no_record, NULL, 0, 0, &outcome, NULL,
                                     producers.rows, producers.count, NULL);
    }
    self->producers = producers.count;
    free (producers.rows);
    return rc == 0? 0: s_fail (self, "the producers' acknowledgement state did not move");
}

static void
s_count (const char *name, int64_t value, void *arg)
{
    audit_counters_add ((audit_counters_t *) arg, name, value);
}

//  The totals are added to the target's as deltas
static int
s_counters_move (s_migrate_t *self)
{
    audit_counters_t *counters = audit_counters_new ();
    int rc = counters? audit_store_counters_read (self->source, s_count, counters): -1;
    self->counters = counters? audit_counters_size (counters): 0;
    if (rc == 0 && self->counters > 0)
        rc = audit_store_counters_flush (self->target, counters);
    audit_counters_destroy (&counters);
    return rc == 0? 0: s_fail (self, "the counters did not move");
}

static int
s_records_flush (s_migrate_t *self)
{
    int rc = self->record_count == 0? 0
           : audit_store_write (self->target, self->records, self->record_count,
                                self->outcomes, NULL);
    for (size_t at = 0; at < self->record_count; at++)
        if (self->records [at].kind == AUDIT_TOPIC_KIND_MQ)
            free ((void *) self->records [at].u.mq.payload);
    self->record_count = 0;
    return rc;
}

//  The ops log pages newest first; each page is written oldest first,
//  the oldest page first, so that the target's keys keep their order.
//  A first walk only notes where each page starts.
typedef struct {
    int64_t ts_ms, id;
} s_position_t;

static int
s_ops_page (s_migrate_t *self, s_position_t *start, s_position_t *last, bool keep,
            bool *more)
{
    audit_store_opslog_query_t query = { .from_ms = INT64_MIN, .to_ms = INT64_MAX,
        .after_ts_ms = start->ts_ms, .after_id = start->id, .limit = (uint32_t) self->batch };
    audit_store_opslog_t *page = audit_store_opslog_open (self->source, &query);
    if (!page)
        return -1;
    audit_store_opslog_record_t record;
    int rc;
    size_t count = 0;
    while ((rc = audit_store_opslog_step (page, &record)) == 1 && count < self->batch) {
        last->ts_ms = record.timestamp_ms, last->id = record.id;
        if (keep) {
            //  Newest first in the page: placed from the end
            audit_record_t *into = &self->records [self->batch - 1 - count];
            memset (into, 0, sizeof *into);
            into->kind = AUDIT_TOPIC_KIND_OPS;
            into->received_ms = record.timestamp_ms;   //  the page does not say
            audit_ops_t *ops = &into->u.ops;
            ops->timestamp_ms = record.timestamp_ms;
            snprintf (ops->client_ip, sizeof ops->client_ip, "%s", record.client_ip);
            snprintf (ops->method, sizeof ops->method, "%s", record.method);
            snprintf (ops->path, sizeof ops->path, "%s", record.path);
            ops->status = (uint16_t) record.status;
        }
        count++;
    }
    *more = rc == 0 && audit_store_opslog_more (page);
    audit_store_opslog_close (&page);
    if (rc < 0)
        return -1;
    if (keep && count > 0) {
        memmove (self->records, self->records + self->batch - count, count * sizeof *self->records);
        self->record_count = count;
        self->ops += count;
        return s_records_flush (self);
    }
    return 0;
}

static int
s_ops_move (s_migrate_t *self)
{
    s_position_t *starts = (s_position_t *) malloc (sizeof *starts);
    size_t pages = 1;
    int rc = starts? 0: -1;
    if (starts)
        starts [0] = (s_position_t) { INT64_MAX, INT64_MAX };
    bool more = rc == 0;
    while (rc == 0 && more) {
        s_position_t last = starts [pages - 1];
        rc = s_ops_page (self, &starts [pages - 1], &last, false, &more);
        void *grown = rc == 0 && more? realloc (starts, (pages + 1) * sizeof *starts): NULL;
        if (rc == 0 && more && !grown)
            rc = -1;
        if (grown) {
            starts = (s_position_t *) grown;
            starts [pages++] = last;
        }
    }
    for (size_t page = pages; rc == 0 && page > 0; page--) {
        s_position_t last;
        rc = s_ops_page (self, &starts [page - 1], &last, true, &more);
    }
    free (starts);
    return rc == 0? 0: s_fail (self, "the operational records did not move");
}

static int
s_message (const char *org, const char *device, int64_t received_ms,
           const audit_store_mq_message_t *message, void *arg)
{
    s_migrate_t *self = (s_migrate_t *) arg;
    if (!message->id_valid) {
        self->messages_skipped++;       //  no id to key it by: no device could ack it
        return 0;
    }
    audit_record_t *into = &self->records [self->record_count];
    memset (into, 0, sizeof *into);
    into->kind = AUDIT_TOPIC_KIND_MQ;
    into->received_ms = received_ms;
    audit_mq_t *mq = &into->u.mq;
    memcpy (mq->message_id, message->message_id, AUDIT_UUID_SIZE);
    snprintf (mq->org_id, sizeof mq->org_id, "%s", org);
    snprintf (mq->device_id, sizeof mq->device_id, "%s", device);
    mq->timestamp_ms = message->timestamp_ms;
    uint8_t *payload = (uint8_t *) malloc (message->payload_size + 1);
    if (!payload)
        return -1;
    memcpy (payload, message->payload, message->payload_size);
    mq->payload = payload;
    mq->payload_size = message->payload_size;
    self->record_count++;
    self->messages++;
    //  A walk stopped by its visitor returns 0: the failure is kept here
    if (self->record_count == self->batch && s_records_flush (self) != 0)
        self->queue_failed = true;
    return self->queue_failed? -1: 0;
}

static int
s_queue_move (s_migrate_t *self)
{
    int rc = audit_store_mq_each (self->source, s_message, self);
    if (s_records_flush (self) != 0 || self->queue_failed)
        rc = -1;
    if (rc == 0 && self->messages_skipped > 0)
        fprintf (stderr, "auditctl: migrate: %zu undelivered messages without a valid"
                 " message_id left behind (no device could acknowledge them)\n",
                 self->messages_skipped);
    return rc == 0? 0: s_fail (self, "the undelivered messages did not move");
}

//  --------------------------------------------------------------------------

static void
s_any_counter (const char *name, int64_t value, void *arg)
{
    (void) name;
    *(bool *) arg |= value != 0;
}

static void
s_any_producer (const audit_store_producer_t *producer, void *arg)
{
    (void) producer;
    *(bool *) arg = true;
}

//  0 when the target holds no ops record, message, counter or producer
static int
s_target_empty (s_migrate_t *self)
{
    audit_store_stats_rows_t rows;
    bool counters = false, producers = false;
    if (audit_store_stats_rows (self->target, &rows) != 0
    ||  audit_store_counters_read (self->target, s_any_counter, &counters) != 0
    ||  audit_store_producers_read (self->target, s_any_producer, &producers) != 0)
        return -1;
    return rows.audit_events || rows.ops_records || rows.queued_messages || counters
        || producers? -1: 0;
}

static int
s_open (s_migrate_t *self, const char *from, const char *to, const char *where)
{
    if (audit_store_is_url (from) || !audit_store_exists (from)) {
        fprintf (stderr, "auditctl: migrate --from %s: no data directory with an audit store"
                 " there\n", from);
        return CTL_EXIT_USAGE;
    }
    if (!audit_store_is_url (to)) {
        fprintf (stderr, "auditctl: migrate --to must be a postgresql:// URL (SQLite is not"
                 " a migration target)\n");
        return CTL_EXIT_USAGE;
    }
    if (!(self->source = audit_store_new (from, AUDIT_STORE_READER))
    ||  !(self->target = audit_store_new (to, AUDIT_STORE_WRITER))) {
        fprintf (stderr, "auditctl: migrate: %s could not be opened\n",
                 self->source? where: from);
        return CTL_EXIT_USAGE;
    }
    s_orgs_t orgs = { NULL, NULL, 0, false, "" };
    if (audit_store_log_orgs (self->target, s_target_org, &orgs) != 0) {
        fprintf (stderr, "auditctl: migrate: %s could not be read\n", where);
        return CTL_EXIT_USAGE;
    }
    if (orgs.any_events) {
        fprintf (stderr, "auditctl: migrate: %s already holds events (organisation %s):"
                 " a data directory moves into a database without any\n", where,
                 orgs.first_full);
        return CTL_EXIT_USAGE;
    }
    //  Nor any other row: a second move after one that failed part way
    //  would add the ops records and the counters again
    if (s_target_empty (self) != 0) {
        fprintf (stderr, "auditctl: migrate: %s is not empty (operational records, queued"
                 " messages, counters or producers): a data directory moves into an empty"
                 " database; drop it and make it again\n", where);
        return CTL_EXIT_USAGE;
    }
    return CTL_EXIT_OK;
}

static int
s_buffers (s_migrate_t *self)
{
    self->rows = (s_row_t *) calloc (self->batch, sizeof *self->rows);
    self->row_at = (const audit_row_t **) calloc (self->batch, sizeof *self->row_at);
    self->records = (audit_record_t *) calloc (self->batch, sizeof *self->records);
    self->outcomes = (audit_store_outcome_t *) calloc (self->batch, sizeof *self->outcomes);
    return self->rows && self->row_at && self->records && self->outcomes? 0: -1;
}

int
ctl_migrate_run (const char *from, const char *to, size_t batch, FILE *out)
{
    s_migrate_t *self = (s_migrate_t *) calloc (1, sizeof *self);
    if (!self)
        return CTL_EXIT_REFUSED;
    char where [4096];
    audit_store_redact (to, where, sizeof where);
    self->out = out;
    self->batch = batch? batch: CTL_MIGRATE_BATCH_DEFAULT;
    int rc = s_open (self, from, to, where);
    if (rc == CTL_EXIT_OK && s_buffers (self) != 0)
        rc = CTL_EXIT_REFUSED;
    if (rc == CTL_EXIT_OK)
        rc = s_orgs_move (self) == 0 && s_producers_move (self) == 0
          && s_counters_move (self) == 0 && s_ops_move (self) == 0
          && s_queue_move (self) == 0? CTL_EXIT_OK: CTL_EXIT_REFUSED;
    if (rc == CTL_EXIT_OK)
        fprintf (out, "migrated %s into %s: %" PRIu64 " organisations, %" PRIu64 " events"
                 " (%" PRIu64 " leaves of deleted ones), %" PRIu64 " signed checkpoints, %"
                 PRIu64 " producers, %" PRIu64 " counters, %" PRIu64 " operational records,"
                 " %" PRIu64 " undelivered messages; every root matches\n", from, where,
                 self->orgs, self->events, self->deleted, self->signed_count,
                 self->producers, self->counters, self->ops, self->messages);
    else
    if (rc == CTL_EXIT_REFUSED)
        fprintf (out, "migrate: stopped; %s is left part way: drop it (or empty it) before"
                 " migrating again\n", where);
    audit_store_destroy (&self->source);
    audit_store_destroy (&self->target);
    ctl_checkpoints_free (&self->checkpoints);
    free (self->rows);
    free (self->row_at);
    free (self->records);
    free (self->outcomes);
    free (self);
    return rc;
}
