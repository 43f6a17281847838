/*  =========================================================================
    audit_schema - the tables of the three stores, and their migrations

    A step is never edited once released: a file of that version may exist
    somewhere. A change of layout is a new step at the end of its store's
    list, and the version is the length of the list.
    ========================================================================= */

#include "audit_schema.h"
#include "audit_log.h"
#include "audit_migrate.h"
#include "audit_subjects.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *s_file_names [AUDIT_DB_COUNT] = { "audit.db", "ops.db", "queue.db" };

#define s_COUNT(array) ((int) (sizeof array / sizeof *array))

//  audit.db: step i takes a file from user_version i to i + 1
static const char *const s_audit_steps [] = {
    //  1: the first layout
    "CREATE TABLE org (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL,"
    "  retention_days INTEGER NOT NULL DEFAULT 365"
    "  CHECK (retention_days BETWEEN 1 AND 365));"
    "CREATE TABLE ident (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
    "CREATE TABLE event (id INTEGER PRIMARY KEY, org INT NOT NULL,"
    "  ts INT NOT NULL, received INT NOT NULL, type INT NOT NULL,"
    "  actor INT NOT NULL, user INT, device INT, grp INT, role INT,"
    "  broadcast INT, file_ref INT, recipient_count INT, file_size INT,"
    "  retention_days INT, uuid BLOB NOT NULL);"
    "CREATE UNIQUE INDEX event_uuid ON event (uuid);"
    //  One index serves every list query: it is read in (ts, id) order per
    //  org, either way, which is the keyset order of the cursors, and it
    //  holds every filter column, so a filter is tested on the index entry
    //  and only matching rows are read. Its inserts land at the end of each
    //  org's range, a few hot pages; an index keyed by actor or user would
    //  cost a random leaf per row instead: measured with 1M events, each
    //  such index takes away a quarter to a half of the ingest rate. The
    //  price: a filter that matches few rows reads the org's whole range,
    //  about 70 ns an entry (0.5 ms for 5,000 events, 35 ms for 500,000).
    "CREATE INDEX event_org_ts ON event (org, ts, id, type, actor, user, device, grp);"
    "CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "INSERT INTO meta (key, value) VALUES ('created_at',"
    "  CAST ((julianday ('now') - 2440587.5) * 86400000 AS INTEGER));",
    //  2: the event ids move from a UNIQUE index of event to a table of
    //  their own, filled in key order; broadcast and file_ref hold their
    //  text instead of an ident id (see the header). event is rebuilt
    //  with them, in row order; the ident rows they leave behind go in the
    //  janitor's next orphan sweep
    "CREATE TABLE event_key (uuid BLOB PRIMARY KEY NOT NULL) WITHOUT ROWID;"
    "INSERT INTO event_key (uuid) SELECT uuid FROM event ORDER BY uuid;"
    "CREATE TABLE event_2 (id INTEGER PRIMARY KEY, org INT NOT NULL,"
    "  ts INT NOT NULL, received INT NOT NULL, type INT NOT NULL,"
    "  actor INT NOT NULL, user INT, device INT, grp INT, role INT,"
    "  broadcast TEXT, file_ref TEXT, recipient_count INT, file_size INT,"
    "  retention_days INT, uuid BLOB NOT NULL);"
    "INSERT INTO event_2 SELECT e.id, e.org, e.ts, e.received, e.type, e.actor,"
    "  e.user, e.device, e.grp, e.role, b.name, f.name, e.recipient_count,"
    "  e.file_size, e.retention_days, e.uuid FROM event e"
    "  LEFT JOIN ident b ON b.id = e.broadcast LEFT JOIN ident f ON f.id = e.file_ref"
    "  ORDER BY e.id;"
    "DROP TABLE event;"
    "ALTER TABLE event_2 RENAME TO event;"
    "CREATE INDEX event_org_ts ON event (org, ts, id, type, actor, user, device, grp);",
    //  3: contract revision 2. Every event gets its organisation's
    //  log_index (0, 1, 2, ... in commit order; org.next_index is the next
    //  one, read and raised under the write lock). The table is clustered
    //  on (org, ts, log_index), WITHOUT ROWID: an organisation's rows sit
    //  together in the order a page reads them, so a page of 100 events
    //  reads a few database pages, not a hundred, and no separate covering
    //  index is written per insert. A duplicate is now the same event_id
    //  with the same timestamp (in the same organisation): the primary key
    //  finds the few rows of that millisecond, so the random-keyed
    //  event_key table and its random page per insert are gone. The
    //  identifiers are stored as their text (audit_fields.def says why),
    //  but for role, a handful of values, which stays interned; the
    //  identifiers no event refers to any more go in the janitor's sweep.
    //  event_org_index keeps log_index unique and serves reads in log
    //  order. Existing rows are numbered in their commit (row id) order.
    "CREATE TABLE event_3 (org INT NOT NULL, ts INT NOT NULL,"
    "  log_index INT NOT NULL, received INT NOT NULL, type INT NOT NULL,"
    "  actor TEXT NOT NULL, user TEXT, device TEXT, grp TEXT, role INT,"
    "  broadcast TEXT, file_ref TEXT, recipient_count INT, file_size INT,"
    "  retention_days INT, uuid BLOB NOT NULL,"
    "  PRIMARY KEY (org, ts, log_index)) WITHOUT ROWID;"
    "INSERT INTO event_3 SELECT e.org, e.ts,"
    "  row_number () OVER (PARTITION BY e.org ORDER BY e.id) - 1, e.received, e.type,"
    "  a.name, u.name, d.name, g.name, e.role, e.broadcast, e.file_ref,"
    "  e.recipient_count, e.file_size, e.retention_days, e.uuid FROM event e"
    "  JOIN ident a ON a.id = e.actor LEFT JOIN ident u ON u.id = e.user"
    "  LEFT JOIN ident d ON d.id = e.device LEFT JOIN ident g ON g.id = e.grp"
    "  ORDER BY e.org, e.ts, e.id;"
    "ALTER TABLE org ADD COLUMN next_index INT NOT NULL DEFAULT 0;"
    "UPDATE org SET next_index = (SELECT count (*) FROM event WHERE event.org = org.id);"
    "DROP TABLE event;"
    "DROP TABLE event_key;"
    "ALTER TABLE event_3 RENAME TO event;"
    "CREATE UNIQUE INDEX event_org_index ON event (org, log_index);",
    //  4: contract revision 2's acknowledgements. Each producer's state is
    //  written by the ingest writer in the transaction of the events that
    //  changed it, so an acknowledged seq is never ahead of the rows. The
    //  numbers are uint64 on the wire, kept as their int64 bit pattern.
    //  The rejections of a producer are counted per reason name, a row
    //  each, so that a new reason needs no new column.
    "CREATE TABLE producer (name TEXT PRIMARY KEY NOT NULL, acked_seq INT NOT NULL,"
    "  last_seq INT NOT NULL, runs INT NOT NULL, gaps INT NOT NULL,"
    "  last_seen INT NOT NULL, run_first TEXT NOT NULL DEFAULT '') WITHOUT ROWID;"
    "CREATE TABLE producer_rejected (producer TEXT NOT NULL, reason TEXT NOT NULL,"
    "  count INT NOT NULL, PRIMARY KEY (producer, reason)) WITHOUT ROWID;",
    //  5: contract revision 2's Merkle tree per organisation (audit_tree).
    //  leaf holds each log_index's leaf hash and the ts that finds its
    //  event (NULL once retention deleted it: the hash stays, the proofs
    //  of the other events need it); tree_node the root of every complete
    //  tile of 256 leaves or nodes; checkpoint every signed note, one per
    //  size, so that no two roots are ever signed for one size. The
    //  hashes of the events already stored are computed by
    //  audit_migrate_tree_v5, in this step's transaction.
    "CREATE TABLE leaf (org INT NOT NULL, log_index INT NOT NULL, ts INT,"
    "  hash BLOB NOT NULL, PRIMARY KEY (org, log_index)) WITHOUT ROWID;"
    "CREATE TABLE tree_node (org INT NOT NULL, level INT NOT NULL, idx INT NOT NULL,"
    "  hash BLOB NOT NULL, PRIMARY KEY (org, level, idx)) WITHOUT ROWID;"
    "CREATE TABLE checkpoint (org INT NOT NULL, size INT NOT NULL, root BLOB NOT NULL,"
    "  note TEXT NOT NULL, signed INT NOT NULL, PRIMARY KEY (org, size)) WITHOUT ROWID;",
    //  6: leaf (org, log_index) is unique and serves reads in log order:
    //  event_org_index was a second B-tree written per event for the same
    "DROP INDEX event_org_index;",
    //  7: table leaf goes: a row per event cost each event one more B-tree
    //  insert and each batch a tail page per organisation, half the
    //  writer's rate (bench/RESULTS.md). A kept event's leaf is made again
    //  from its row when a proof needs it; the row keeps the first bytes of
    //  it (leaf_tag), which tell a changed row. A tile's events are found
    //  by the range of their ts, kept in its level-8 tree_node row once
    //  complete (with its 16 subtrees of level 4, subtrees: NULL for the
    //  tiles of before, whose proofs make all 256 leaves), and in the org
    //  row while it is the last, with the complete
    //  subtrees of that tile at the log's size (tail_nodes, written by the
    //  writer at each commit: NULL until then); leaf_tile keeps the
    //  hashes of a tile whose events retention deleted (a prefix of the
    //  tile). audit_migrate_leaves_v7 fills it from leaf, for the tiles
    //  with a deleted event, and drops leaf.
    "ALTER TABLE event ADD COLUMN leaf_tag BLOB;"
    "UPDATE event SET leaf_tag = (SELECT substr (l.hash, 1, 4) FROM leaf l"
    "  WHERE l.org = event.org AND l.log_index = event.log_index);"
    "ALTER TABLE tree_node ADD COLUMN min_ts INT;"
    "ALTER TABLE tree_node ADD COLUMN max_ts INT;"
    "ALTER TABLE tree_node ADD COLUMN subtrees BLOB;"
    "UPDATE tree_node SET min_ts = (SELECT min (l.ts) FROM leaf l WHERE l.org = tree_node.org"
    "  AND l.log_index >= tree_node.idx * 256 AND l.log_index < tree_node.idx * 256 + 256),"
    "  max_ts = (SELECT max (l.ts) FROM leaf l WHERE l.org = tree_node.org"
    "  AND l.log_index >= tree_node.idx * 256 AND l.log_index < tree_node.idx * 256 + 256)"
    "  WHERE level = 8;"
    "ALTER TABLE org ADD COLUMN tail_min_ts INT;"
    "ALTER TABLE org ADD COLUMN tail_max_ts INT;"
    "ALTER TABLE org ADD COLUMN tail_nodes BLOB;"
    "UPDATE org SET tail_min_ts = (SELECT min (l.ts) FROM leaf l WHERE l.org = org.id"
    "  AND l.log_index >= org.next_index / 256 * 256),"
    "  tail_max_ts = (SELECT max (l.ts) FROM leaf l WHERE l.org = org.id"
    "  AND l.log_index >= org.next_index / 256 * 256);"
    "CREATE TABLE leaf_tile (org INT NOT NULL, tile INT NOT NULL, hashes BLOB NOT NULL,"
    "  PRIMARY KEY (org, tile)) WITHOUT ROWID;",
    //  8: the subject runs (audit_subjects): the actors and users of the
    //  complete tiles, sorted within each run, so that a DSAR page seeks
    //  a few runs where it scanned the organisation's whole range;
    //  org.subject_merged, its tiles merged into runs of 16 and 256.
    //  Written by the writer as tiles complete, deleted by retention with
    //  their events; audit_subjects_migrate_v8 makes the runs of the tiles
    //  complete already.
    "CREATE TABLE subject_run (org INT NOT NULL, run INT NOT NULL, subject TEXT NOT NULL,"
    "  ts INT NOT NULL, log_index INT NOT NULL,"
    "  PRIMARY KEY (org, run, subject, ts, log_index)) WITHOUT ROWID;"
    "ALTER TABLE org ADD COLUMN subject_merged INT NOT NULL DEFAULT 0;",
    //  9: a run's entries go in at the end of the table, not into the
    //  middle of their organisation's range: each run gets a seq, past
    //  every one before it (meta subject_seq), and its entries are keyed
    //  by it, in subject_entry; subject_run keeps the seq of each of an
    //  organisation's runs. Measured, the bare loop's entries cost a third
    //  less to write, and its WAL peak fell from 56 to 41 MiB
    //  (bench/RESULTS.md). Index org_subjects_owed holds the
    //  organisations that owe merges (a block of 16 complete tiles of 256
    //  events not yet merged), for the writer's housekeeping to find
    //  without reading every org row (audit_subjects_owed, whose query
    //  spells the same term).
    "CREATE TABLE subject_entry (seq INT NOT NULL, subject TEXT NOT NULL, ts INT NOT NULL,"
    "  log_index INT NOT NULL, PRIMARY KEY (seq, subject, ts, log_index)) WITHOUT ROWID;"
    "ALTER TABLE subject_run RENAME TO subject_run_8;"
    "CREATE TABLE subject_run (org INT NOT NULL, run INT NOT NULL, seq INT NOT NULL,"
    "  PRIMARY KEY (org, run)) WITHOUT ROWID;"
    "INSERT INTO subject_run (org, run, seq) SELECT org, run,"
    "  row_number () OVER (ORDER BY org, run) FROM (SELECT DISTINCT org, run FROM subject_run_8);"
    "INSERT INTO subject_entry (seq, subject, ts, log_index)"
    "  SELECT r.seq, o.subject, o.ts, o.log_index FROM subject_run_8 AS o"
    "  JOIN subject_run AS r ON r.org = o.org AND r.run = o.run ORDER BY 1, 2, 3, 4;"
    "DROP TABLE subject_run_8;"
    "INSERT OR REPLACE INTO meta (key, value)"
    "  VALUES ('subject_seq', (SELECT coalesce (max (seq), 0) FROM subject_run));"
    "CREATE INDEX org_subjects_owed ON org (id)"
    "  WHERE (next_index >> 8) - subject_merged >= 16;"
};
//  What a step of audit.db runs after its SQL, in its transaction
static int (*const s_audit_hooks [s_COUNT (s_audit_steps)]) (sqlite3 *conn) = {
    [4] = audit_migrate_tree_v5,
    [6] = audit_migrate_leaves_v7,
    [7] = audit_subjects_migrate_v8
};
static const char *const s_ops_steps [] = {
    //  1: the first layout
    "CREATE TABLE ops (id INTEGER PRIMARY KEY, ts INT NOT NULL,"
    "  received INT NOT NULL, client_ip TEXT NOT NULL, method TEXT NOT NULL,"
    "  path TEXT NOT NULL, status INT NOT NULL);"
    "CREATE INDEX ops_ts ON ops (ts);"
};
static const char *const s_queue_steps [] = {
    //  1: the first layout
    "CREATE TABLE message (id INTEGER PRIMARY KEY, uuid BLOB UNIQUE NOT NULL,"
    "  org TEXT NOT NULL, device TEXT NOT NULL, ts INT NOT NULL,"
    "  received INT NOT NULL, payload BLOB NOT NULL);"
    "CREATE INDEX message_org_device_received ON message (org, device, received);"
    "CREATE INDEX message_received ON message (received);",
    //  2: a device fetches its messages oldest first by the time the
    //  platform queued them (the timestamp it is shown), not by when this
    //  service received them: a message can arrive late. The rowid, in
    //  every index, breaks ties in arrival order.
    "DROP INDEX message_org_device_received;"
    "CREATE INDEX message_org_device_ts ON message (org, device, ts);"
};

static const struct {
    const char *const *steps;
    int count;
    int (*const *hooks) (sqlite3 *conn);
} s_stores [AUDIT_DB_COUNT] = {
    [AUDIT_DB_AUDIT] = { s_audit_steps, s_COUNT (s_audit_steps), s_audit_hooks },
    [AUDIT_DB_OPS] = { s_ops_steps, s_COUNT (s_ops_steps) },
    [AUDIT_DB_QUEUE] = { s_queue_steps, s_COUNT (s_queue_steps) }
};

const char *
audit_schema_file (audit_db_t db)
{
    return db < AUDIT_DB_COUNT? s_file_names [db]: "?";
}

int
audit_schema_version (audit_db_t db)
{
    return db < AUDIT_DB_COUNT? s_stores [db].count: 0;
}

int
audit_schema_exec (sqlite3 *conn, const char *sql, char *text, size_t size)
{
    while (sql && *sql) {
        sqlite3_stmt *stmt = NULL;
        if (sqlite3_prepare_v2 (conn, sql, -1, &stmt, &sql) != SQLITE_OK)
            return -1;
        if (!stmt)
            break;                      //  trailing white space
        int rc;
        while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
            if (text && sqlite3_column_text (stmt, 0))
                snprintf (text, size, "%s", (const char *) sqlite3_column_text (stmt, 0));
        //  Said now: the reason is gone once the statement is finalized
        if (rc != SQLITE_DONE)
            audit_log_error ("msg=\"schema statement failed\" reason=\"%s\"",
                             sqlite3_errmsg (conn));
        sqlite3_finalize (stmt);
        if (rc != SQLITE_DONE)
            return -1;
    }
    return 0;
}

int
audit_schema_exec_int (sqlite3 *conn, const char *sql, int64_t *value)
{
    char text [32] = "";
    if (audit_schema_exec (conn, sql, text, sizeof text) != 0)
        return -1;
    *value = strtoll (text, NULL, 10);
    return 0;
}

//  One step in one transaction; the version is read again under the write
//  lock, so that a step another process has just run is not run twice.
//  0 when it ran, 1 when another process had run it, -1 on failure.
static int
s_step (sqlite3 *conn, int64_t version, const char *step, int (*hook) (sqlite3 *conn))
{
    int64_t current;
    if (audit_schema_exec (conn, "BEGIN IMMEDIATE", NULL, 0) != 0)
        return -1;
    int rc = audit_schema_exec_int (conn, "PRAGMA user_version", &current);
    bool run = rc == 0 && current == version;
    if (run) {
        char bump [64];
        snprintf (bump, sizeof bump, "PRAGMA user_version = %" PRId64, version + 1);
        rc = audit_schema_exec (conn, step, NULL, 0)
          || (hook && hook (conn) != 0)
          || audit_schema_exec (conn, bump, NULL, 0)? -1: 0;
    }
    if (rc == 0 && audit_schema_exec (conn, "COMMIT", NULL, 0) == 0)
        return run? 0: 1;
    audit_schema_exec (conn, "ROLLBACK", NULL, 0);
    return -1;
}

//  Run the steps from version up to wanted; a worker that waited for
//  another's migration finds them done (s_step reads the version again).
//  An upgrade (not the creation of a file) is logged as it starts and
//  ends: it can take minutes, and the operator should see why.
static int
s_run_steps (sqlite3 *conn, audit_db_t db, int64_t version, int wanted)
{
    struct timespec start, end;
    clock_gettime (CLOCK_MONOTONIC, &start);
    bool upgrade = version > 0;
    if (upgrade)
        audit_log_info ("msg=migrating file=%s from=%" PRId64 " to=%d", s_file_names [db],
                        version, wanted);
    int ran = 0;
    for (int64_t step = version; step < wanted; step++) {
        int (*hook) (sqlite3 *) = s_stores [db].hooks? s_stores [db].hooks [step]: NULL;
        int rc = s_step (conn, step, s_stores [db].steps [step], hook);
        ran += rc == 0;
        if (rc < 0) {
            bool busy = sqlite3_errcode (conn) == SQLITE_BUSY;
            audit_log_error ("msg=\"schema migration failed\" file=%s step=%" PRId64
                             " reason=\"%s\"", s_file_names [db], step + 1,
                             busy? "another worker held the write lock too long"
                                 : sqlite3_errmsg (conn));
            return -1;
        }
    }
    //  A step that rebuilds a table leaves a WAL as large as the table: it
    //  is copied and cut back now, at start-up, not in the first short
    //  transaction of whoever writes next (measured: a janitor COMMIT that
    //  took 302 ms after the step to version 2 of a 5,000,000-event file)
    if (audit_schema_exec (conn, "PRAGMA wal_checkpoint (TRUNCATE)", NULL, 0) != 0)
        audit_log_warn ("msg=\"wal not truncated after migration\" file=%s", s_file_names [db]);
    clock_gettime (CLOCK_MONOTONIC, &end);
    if (upgrade)
        audit_log_info ("msg=migrated file=%s version=%d by=%s ms=%lld", s_file_names [db],
                        wanted, ran? "this_worker": "another_worker",
                        (long long) ((end.tv_sec - start.tv_sec) * 1000
                                   + (end.tv_nsec - start.tv_nsec) / 1000000));
    return 0;
}

int
audit_schema_migrate (sqlite3 *conn, audit_db_t db, bool may_migrate)
{
    int64_t version;
    if (db >= AUDIT_DB_COUNT || audit_schema_exec_int (conn, "PRAGMA user_version", &version) != 0)
        return -1;
    int wanted = s_stores [db].count;
    if (version > wanted || (version < wanted && !may_migrate)) {
        audit_log_error ("msg=\"store has another schema version\" file=%s"
                         " version=%" PRId64 " expected=%d", s_file_names [db],
                         version, wanted);
        return -1;
    }
    return version < wanted? s_run_steps (conn, db, version, wanted): 0;
}
