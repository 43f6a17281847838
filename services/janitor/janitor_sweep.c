/*  =========================================================================
    janitor_sweep - deletes the identifiers and organisations that no
    event references any more
    ========================================================================= */

#include "janitor_sweep.h"

#include <czmq.h>

#include "audit_log.h"
#include "audit_store_space.h"
#include "audit_store_sweep.h"

//  How often the delete loop looks at the clock, in ident rows
#define s_CLOCK_EVERY       64

//  An organisation's next log_index when it was last read
typedef struct {
    int64_t org;
    int64_t next_index;
} s_log_t;

typedef struct {
    s_log_t *logs;                      //  by org
    size_t count, room;
} s_logs_t;

struct _janitor_sweep_t {
    audit_store_t *store;               //  borrowed
    janitor_limits_t limits;
    uint8_t *used;                      //  bit per ident id 0..ident_max
    int64_t ident_max;                  //  only ids up to it are candidates
    s_logs_t seen;                      //  what the bitmap holds, per org
    int64_t ident_cursor;               //  the last ident row examined
    int64_t ids [JANITOR_SWEEP_IDENT_ROWS];     //  one chunk of ident ids
    janitor_sweep_report_t *report;
};

janitor_sweep_t *
janitor_sweep_new (audit_store_t *store, const janitor_limits_t *limits)
{
    assert (store);
    janitor_sweep_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->limits = *limits;
    return self;
}

void
janitor_sweep_destroy (janitor_sweep_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->used);
    free ((*self_p)->seen.logs);
    free (*self_p);
    *self_p = NULL;
}

int
janitor_sweep_due (janitor_sweep_t *self, int64_t now_ms, bool *due)
{
    int64_t last = 0;
    bool found = false;
    if (audit_store_sweep_last (self->store, &last, &found) != 0)
        return -1;
    *due = !found || now_ms - last >= JANITOR_SWEEP_INTERVAL_MS || now_ms < last;
    return 0;
}

//  --------------------------------------------------------------------------
//  Reading references

static void
s_mark (int64_t id, void *arg)
{
    janitor_sweep_t *self = (janitor_sweep_t *) arg;
    if (id > 0 && id <= self->ident_max)
        self->used [id >> 3] |= (uint8_t) (1u << (id & 7));
}

static bool
s_is_used (janitor_sweep_t *self, int64_t id)
{
    return self->used [id >> 3] & (1u << (id & 7));
}

static int
s_log_add (int64_t org, int64_t next_index, void *arg)
{
    s_logs_t *logs = (s_logs_t *) arg;
    if (logs->count == logs->room) {
        size_t room = logs->room? logs->room * 2: 64;
        s_log_t *grown = realloc (logs->logs, room * sizeof *grown);
        if (!grown)
            return -1;
        logs->logs = grown;
        logs->room = room;
    }
    logs->logs [logs->count++] = (s_log_t) { org, next_index };
    return 0;
}

//  Every organisation's next log_index now, into logs (emptied first)
static int
s_logs_read (janitor_sweep_t *self, s_logs_t *logs)
{
    logs->count = 0;
    return audit_store_sweep_logs (self->store, s_log_add, logs);
}

//  Read the whole event table, chunk by chunk, into the bitmap; the logs
//  first, so that whatever is stored from then on is found by s_catch_up
static int
s_scan (janitor_sweep_t *self, janitor_stop_fn *stop, void *arg)
{
    int64_t started = zclock_mono ();
    int rc = audit_store_sweep_ident_max (self->store, &self->ident_max);
    free (self->used);
    self->used = rc == 0? calloc ((size_t) (self->ident_max / 8 + 1), 1): NULL;
    if (!self->used || s_logs_read (self, &self->seen) != 0)
        return -1;
    audit_store_event_key_t after;
    audit_store_sweep_key_first (&after);
    int rows = JANITOR_SWEEP_SCAN_ROWS;
    while (rc == 0 && rows == JANITOR_SWEEP_SCAN_ROWS) {
        if (stop && stop (arg))
            return 1;
        rc = audit_store_sweep_scan (self->store, &after, JANITOR_SWEEP_SCAN_ROWS, s_mark,
                                     self, &rows);
        self->report->events_scanned += rows;
    }
    self->report->scan_ms += zclock_mono () - started;
    return rc;
}

//  The next index of org when the bitmap was last brought up to date (0
//  for an organisation that was not there: all its events are new)
static int64_t
s_seen_index (const s_logs_t *seen, int64_t org, size_t *from)
{
    while (*from < seen->count && seen->logs [*from].org < org)
        (*from)++;
    return *from < seen->count && seen->logs [*from].org == org?
           seen->logs [*from].next_index: 0;
}

//  Under the write lock: mark the events stored since the logs were last
//  read, organisation by organisation (both lists are in org order)
static int
s_catch_up (janitor_sweep_t *self)
{
    s_logs_t now = { NULL, 0, 0 };
    int rc = s_logs_read (self, &now);
    size_t from = 0;
    for (size_t index = 0; rc == 0 && index < now.count; index++) {
        const s_log_t *log = &now.logs [index];
        int64_t seen = s_seen_index (&self->seen, log->org, &from), rows = 0;
        if (log->next_index > seen)
            rc = audit_store_sweep_since (self->store, log->org, seen, s_mark, self, &rows);
        self->report->events_caught_up += rows;
    }
    if (rc == 0) {
        free (self->seen.logs);
        self->seen = now;
    }
    else
        free (now.logs);
    return rc;
}

//  --------------------------------------------------------------------------
//  Deleting

//  Inside a transaction: delete the unused idents of the next chunk, 64
//  ids at a time, until the chunk ends or the lock was held for the
//  target. *left is false once every candidate was examined.
static int
s_ident_delete (janitor_sweep_t *self, int64_t locked_us, int64_t *deleted, bool *left)
{
    int count = 0;
    int rc = audit_store_sweep_idents (self->store, self->ident_cursor, self->ident_max,
                                       JANITOR_SWEEP_IDENT_ROWS, self->ids, &count);
    int64_t target_us = (int64_t) self->limits.batch_target_ms * 1000;
    int index = 0;
    while (rc == 0 && index < count) {
        if (index && zclock_usecs () - locked_us >= target_us)
            break;
        int64_t unused [s_CLOCK_EVERY];
        int unused_count = 0, end = index + s_CLOCK_EVERY < count? index + s_CLOCK_EVERY: count;
        self->report->idents_checked += end - index;
        for (; index < end; index++)
            if (!s_is_used (self, self->ids [index]))
                unused [unused_count++] = self->ids [index];
        int64_t changes = 0;
        rc = audit_store_sweep_ident_delete (self->store, unused, unused_count, &changes);
        *deleted += changes;
        self->ident_cursor = self->ids [end - 1];
    }
    *left = count == JANITOR_SWEEP_IDENT_ROWS || index < count;
    return rc;
}

static int
s_org_delete (janitor_sweep_t *self, int64_t *deleted, bool *left)
{
    int rc = audit_store_sweep_orgs (self->store, JANITOR_SWEEP_ORG_ROWS, deleted);
    *left = rc == 0 && *deleted == JANITOR_SWEEP_ORG_ROWS;
    return rc;
}

//  One write transaction: catch up, delete idents (or, once they are done,
//  orgs), bump the generation when anything went; then a pause
static int
s_delete_once (janitor_sweep_t *self, bool *idents_left, bool *orgs_left)
{
    if (audit_store_space_begin (self->store, AUDIT_DB_AUDIT) != 0)
        return -1;
    int64_t locked = zclock_usecs (), deleted = 0;
    int rc = s_catch_up (self);
    bool idents = *idents_left;
    if (rc == 0 && idents)
        rc = s_ident_delete (self, locked, &deleted, idents_left);
    else
    if (rc == 0)
        rc = s_org_delete (self, &deleted, orgs_left);
    if (rc == 0 && deleted > 0)
        rc = audit_store_sweep_generation (self->store);
    int ended = audit_store_space_end (self->store, AUDIT_DB_AUDIT, rc);
    int64_t held = zclock_usecs () - locked;
    if (ended == 0) {
        *(idents? &self->report->idents_deleted: &self->report->orgs_deleted) += deleted;
        if (held > self->report->hold_max_us)
            self->report->hold_max_us = held;
    }
    audit_store_space_pause (self->store, AUDIT_DB_AUDIT, janitor_limits_pause_ms (&self->limits));
    return ended;
}

int
janitor_sweep_run (janitor_sweep_t *self, int64_t now_ms, janitor_stop_fn *stop,
                   void *arg, janitor_sweep_report_t *report)
{
    assert (self);
    memset (report, 0, sizeof *report);
    self->report = report;
    self->ident_cursor = 0;
    int rc = s_scan (self, stop, arg);
    int64_t started = zclock_mono ();
    bool idents_left = true, orgs_left = true;
    while (rc == 0 && (idents_left || orgs_left)) {
        if (stop && stop (arg))
            rc = 1;
        else
            rc = s_delete_once (self, &idents_left, &orgs_left);
    }
    report->delete_ms = zclock_mono () - started;
    free (self->used);
    self->used = NULL;
    if (rc == 0)
        rc = audit_store_sweep_last_set (self->store, now_ms);
    if (rc < 0)
        audit_log_error ("msg=\"orphan sweep failed\" file=audit.db");
    else
        audit_log_info ("msg=sweep events_scanned=%" PRId64 " events_caught_up=%" PRId64
                        " idents_checked=%" PRId64 " idents_deleted=%" PRId64
                        " orgs_deleted=%" PRId64 " scan_ms=%" PRId64 " delete_ms=%" PRId64
                        " outcome=%s", report->events_scanned, report->events_caught_up,
                        report->idents_checked, report->idents_deleted,
                        report->orgs_deleted, report->scan_ms, report->delete_ms,
                        rc? "stopped": "complete");
    return rc;
}
