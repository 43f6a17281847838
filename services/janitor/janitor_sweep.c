/*  =========================================================================
    janitor_sweep - deletes the identifiers and organisations that no
    event references any more
    ========================================================================= */

#include "janitor_sweep.h"

#include <czmq.h>

#include "audit_log.h"
#include "audit_proto.h"
#include "audit_record.h"

#define s_SQL_IDENT_MAX     "SELECT coalesce (max (id), 0) FROM ident"
//  Every column of event that holds an ident id, after id and uuid
//  (broadcast and file_ref hold their text: audit_schema.h)
#define s_SQL_EVENTS        "SELECT id, uuid, actor, user, device, grp, role" \
                            " FROM event WHERE id > ?1 ORDER BY id LIMIT ?2"
#define s_EVENT_IDENT_FIRST 2
#define s_EVENT_COLUMNS     7
#define s_SQL_EVENT_UUID    "SELECT uuid FROM event WHERE id = ?1"
#define s_SQL_IDENTS        "SELECT id FROM ident WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3"
#define s_SQL_IDENT_DELETE  "DELETE FROM ident WHERE id = ?1"
#define s_SQL_ORG_DELETE    "DELETE FROM org WHERE id IN (SELECT o.id FROM org o" \
                            " WHERE o.retention_days = ?1 AND NOT EXISTS" \
                            " (SELECT 1 FROM event e WHERE e.org = o.id) LIMIT ?2)"
#define s_SQL_GENERATION    "INSERT INTO meta (key, value) VALUES ('ident_generation', 1)" \
                            " ON CONFLICT (key) DO UPDATE SET value = value + 1"
#define s_SQL_LAST_GET      "SELECT value FROM meta WHERE key = 'janitor_last_sweep'"
#define s_SQL_LAST_SET      "INSERT INTO meta (key, value) VALUES ('janitor_last_sweep', ?1)" \
                            " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
//  How often the delete loop looks at the clock, in ident rows
#define s_CLOCK_EVERY       64

struct _janitor_sweep_t {
    janitor_db_t *db;                   //  audit.db, borrowed
    janitor_limits_t limits;
    uint8_t *used;                      //  bit per ident id 0..ident_max
    int64_t ident_max;                  //  only ids up to it are candidates
    int64_t event_last;                 //  the last event row read, 0: none
    uint8_t event_last_uuid [AUDIT_UUID_SIZE];
    int64_t ident_cursor;               //  the last ident row examined
    int64_t ids [JANITOR_SWEEP_IDENT_ROWS];     //  one chunk of ident ids
    janitor_sweep_report_t *report;
};

janitor_sweep_t *
janitor_sweep_new (janitor_db_t *audit, const janitor_limits_t *limits)
{
    assert (audit);
    janitor_sweep_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->db = audit;
    self->limits = *limits;
    return self;
}

void
janitor_sweep_destroy (janitor_sweep_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->used);
    free (*self_p);
    *self_p = NULL;
}

int
janitor_sweep_due (janitor_sweep_t *self, int64_t now_ms, bool *due)
{
    int64_t last = 0;
    int rc = janitor_db_int (self->db, janitor_db_stmt (self->db, s_SQL_LAST_GET), &last);
    if (rc < 0)
        return -1;
    *due = rc == 1 || now_ms - last >= JANITOR_SWEEP_INTERVAL_MS || now_ms < last;
    return 0;
}

//  --------------------------------------------------------------------------
//  Reading references

static void
s_mark (janitor_sweep_t *self, int64_t id)
{
    if (id > 0 && id <= self->ident_max)
        self->used [id >> 3] |= (uint8_t) (1u << (id & 7));
}

static bool
s_is_used (janitor_sweep_t *self, int64_t id)
{
    return self->used [id >> 3] & (1u << (id & 7));
}

//  Mark the idents of up to limit events after event_last; *rows gets how
//  many were read. Outside a transaction this is one short read snapshot.
static int
s_mark_events (janitor_sweep_t *self, int limit, int *rows)
{
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_EVENTS);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, self->event_last);
    sqlite3_bind_int (stmt, 2, limit);
    *rows = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        for (int column = s_EVENT_IDENT_FIRST; column < s_EVENT_COLUMNS; column++)
            if (sqlite3_column_type (stmt, column) == SQLITE_INTEGER)
                s_mark (self, sqlite3_column_int64 (stmt, column));
        self->event_last = sqlite3_column_int64 (stmt, 0);
        if (sqlite3_column_bytes (stmt, 1) == AUDIT_UUID_SIZE)
            memcpy (self->event_last_uuid, sqlite3_column_blob (stmt, 1), AUDIT_UUID_SIZE);
        (*rows)++;
    }
    sqlite3_reset (stmt);
    self->report->events_scanned += *rows;
    return rc == SQLITE_DONE? 0: -1;
}

//  Read the whole event table, chunk by chunk, into the bitmap
static int
s_scan (janitor_sweep_t *self, janitor_stop_fn *stop, void *arg)
{
    int64_t started = zclock_mono ();
    int rc = janitor_db_int (self->db, janitor_db_stmt (self->db, s_SQL_IDENT_MAX),
                             &self->ident_max);
    free (self->used);
    self->used = rc == 0? calloc ((size_t) (self->ident_max / 8 + 1), 1): NULL;
    if (!self->used)
        return -1;
    self->event_last = 0;
    int rows = JANITOR_SWEEP_SCAN_ROWS;
    while (rc == 0 && rows == JANITOR_SWEEP_SCAN_ROWS) {
        if (stop && stop (arg))
            return 1;
        rc = s_mark_events (self, JANITOR_SWEEP_SCAN_ROWS, &rows);
    }
    self->report->scan_ms += zclock_mono () - started;
    return rc;
}

//  Under the write lock: mark events added since the scan, after checking
//  that rowids did not go back (the last row read is still the same row).
//  1 when they may have: the sweep then gives up.
static int
s_catch_up (janitor_sweep_t *self)
{
    if (self->event_last > 0) {
        sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_EVENT_UUID);
        if (!stmt)
            return -1;
        sqlite3_bind_int64 (stmt, 1, self->event_last);
        int rc = sqlite3_step (stmt);
        bool same = rc == SQLITE_ROW && sqlite3_column_bytes (stmt, 0) == AUDIT_UUID_SIZE
                 && memcmp (sqlite3_column_blob (stmt, 0), self->event_last_uuid,
                            AUDIT_UUID_SIZE) == 0;
        sqlite3_reset (stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return -1;
        if (!same)
            return 1;
    }
    int rows = JANITOR_SWEEP_SCAN_ROWS;
    int rc = 0;
    while (rc == 0 && rows == JANITOR_SWEEP_SCAN_ROWS)
        rc = s_mark_events (self, JANITOR_SWEEP_SCAN_ROWS, &rows);
    return rc;
}

//  --------------------------------------------------------------------------
//  Deleting

//  The ids after ident_cursor, up to JANITOR_SWEEP_IDENT_ROWS of them
static int
s_ident_chunk (janitor_sweep_t *self, int64_t *ids, int *count)
{
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_IDENTS);
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, self->ident_cursor);
    sqlite3_bind_int64 (stmt, 2, self->ident_max);
    sqlite3_bind_int (stmt, 3, JANITOR_SWEEP_IDENT_ROWS);
    *count = 0;
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        ids [(*count)++] = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  Inside a transaction: delete the unused idents of the next chunk, until
//  the chunk ends or the lock was held for the target. *left is false once
//  every candidate was examined.
static int
s_ident_delete (janitor_sweep_t *self, int64_t locked_us, int64_t *deleted, bool *left)
{
    int64_t *ids = self->ids;
    int count = 0, rc = s_ident_chunk (self, ids, &count);
    int64_t target_us = (int64_t) self->limits.batch_target_ms * 1000;
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_IDENT_DELETE);
    rc = stmt? rc: -1;
    int index;
    for (index = 0; rc == 0 && index < count; index++) {
        if (index % s_CLOCK_EVERY == 0 && index && zclock_usecs () - locked_us >= target_us)
            break;
        self->ident_cursor = ids [index];
        self->report->idents_checked++;
        if (s_is_used (self, ids [index]))
            continue;
        int64_t changes = 0;
        sqlite3_bind_int64 (stmt, 1, ids [index]);
        rc = janitor_db_run (self->db, stmt, &changes);
        *deleted += changes;
    }
    *left = count == JANITOR_SWEEP_IDENT_ROWS || index < count;
    return rc;
}

static int
s_org_delete (janitor_sweep_t *self, int64_t *deleted, bool *left)
{
    sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_ORG_DELETE);
    if (!stmt)
        return -1;
    sqlite3_bind_int (stmt, 1, AUDIT_RETENTION_MAX_DAYS);
    sqlite3_bind_int (stmt, 2, JANITOR_SWEEP_ORG_ROWS);
    int rc = janitor_db_run (self->db, stmt, deleted);
    *left = rc == 0 && *deleted == JANITOR_SWEEP_ORG_ROWS;
    return rc;
}

//  One write transaction: catch up, delete idents (or, once they are done,
//  orgs), bump the generation when anything went; then a pause. 1 when the
//  sweep must give up.
static int
s_delete_once (janitor_sweep_t *self, bool *idents_left, bool *orgs_left)
{
    if (janitor_db_begin (self->db) != 0)
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
        rc = janitor_db_run (self->db, janitor_db_stmt (self->db, s_SQL_GENERATION), NULL);
    int ended = janitor_db_end (self->db, rc);
    int64_t held = zclock_usecs () - locked;
    if (rc == 0 && ended == 0) {
        *(idents? &self->report->idents_deleted: &self->report->orgs_deleted) += deleted;
        if (held > self->report->hold_max_us)
            self->report->hold_max_us = held;
    }
    janitor_db_pause (self->db, janitor_limits_pause_ms (&self->limits));
    return rc > 0? rc: ended;
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
    if (rc == 0) {
        sqlite3_stmt *stmt = janitor_db_stmt (self->db, s_SQL_LAST_SET);
        sqlite3_bind_int64 (stmt, 1, now_ms);
        rc = janitor_db_run (self->db, stmt, NULL);
    }
    if (rc < 0)
        audit_log_error ("msg=\"orphan sweep failed\" file=audit.db");
    else
        audit_log_info ("msg=sweep events_scanned=%" PRId64 " idents_checked=%" PRId64
                        " idents_deleted=%" PRId64 " orgs_deleted=%" PRId64 " scan_ms=%"
                        PRId64 " delete_ms=%" PRId64 " outcome=%s", report->events_scanned,
                        report->idents_checked, report->idents_deleted,
                        report->orgs_deleted, report->scan_ms, report->delete_ms,
                        rc? "given_up": "complete");
    return rc;
}
