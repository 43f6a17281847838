/*  =========================================================================
    audit_schema - the tables of the three stores, and their migrations

    Each file carries its own schema version in PRAGMA user_version and is
    migrated step by step at open, each step one transaction that reads the
    version again under the write lock (two processes may start together).

    Times are ms since the epoch, UTC.

    audit.db, version 3:
      org (id, name UNIQUE, retention_days 1..365 default 365, next_index):
        next_index is the log_index the organisation's next event gets
        (audit_orglog reads and raises it under the write lock)
      ident (id, name UNIQUE): every identifier, interned
      event (org, ts, log_index, received, type, actor, user, device, grp,
        role, broadcast, file_ref, recipient_count, file_size,
        retention_days, uuid BLOB(16)), PRIMARY KEY (org, ts, log_index),
        WITHOUT ROWID: an organisation's events are stored together in the
        order list and export read them, so a page of 100 reads a few
        database pages, and an insert touches only the tail of its
        organisation's range. org holds the id of its org row; actor and
        the identifier columns hold their text, but for role, an id of
        ident (audit_fields.def says which, and why). A duplicate (same org, ts and uuid) is found through the
        primary key. event_org_index (org, log_index) UNIQUE keeps every
        index used once and serves reads in log order
      version 7, the organisation's tree (audit_tree.h): event.leaf_tag
        (4 bytes of the event's leaf hash), tree_node (org, level, idx,
        hash; a tile of leaves also min_ts, max_ts, subtrees), leaf_tile
        (org, tile, hashes) for the tiles retention deleted events of,
        checkpoint (org, size, root, note, signed), and in org the last
        tile's tail_min_ts, tail_max_ts and tail_nodes; event_org_index
        and table leaf are gone (steps 6 and 7)
      version 8, the subject runs (audit_subjects.h): subject_run (org,
        run, subject, ts, log_index), and in org subject_merged
      version 9, the subject runs keyed for appends: subject_run (org,
        run, seq), subject_entry (seq, subject, ts, log_index), meta
        subject_seq; index org_subjects_owed (id) of the organisations that
        owe merges of their subject runs
      counter (name, value), meta (key, value): created_at,
        ident_generation, janitor_last_pass, janitor_last_sweep,
        subject_seq (version 9)
    ops.db, version 1:
      ops (id, ts, received, client_ip, method, path, status), index (ts)
    queue.db, version 2:
      message (id, uuid BLOB(16) UNIQUE, org, device, ts, received,
        payload), indexes (org, device, ts), (received)
    ========================================================================= */

#ifndef AUDIT_SCHEMA_H_INCLUDED
#define AUDIT_SCHEMA_H_INCLUDED

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif


//  The file name of a store in the data directory, e.g. "audit.db".
const char *
    audit_schema_file (audit_db_t db);

//  The schema version this build writes and reads for a store.
int
    audit_schema_version (audit_db_t db);

//  Bring conn, the connection of store db, to this build's version. With
//  may_migrate false a file of an older version is refused. A newer one is
//  always refused. 0, or -1 with a one-line reason logged.
int
    audit_schema_migrate (sqlite3 *conn, audit_db_t db, bool may_migrate);

//  Run every statement of sql (pragmas and DDL, no parameters). When text
//  is not NULL, the first column of the last row is copied into it. 0 or -1.
int
    audit_schema_exec (sqlite3 *conn, const char *sql, char *text, size_t size);

//  audit_schema_exec of a statement whose answer is one integer. 0 or -1.
int
    audit_schema_exec_int (sqlite3 *conn, const char *sql, int64_t *value);

#ifdef __cplusplus
}
#endif

#endif
