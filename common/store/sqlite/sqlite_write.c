/*  =========================================================================
    sqlite_write - the SQLite store's batch writer: events (with their
    organisation's log_index and the duplicate check), ops records, queued
    messages and counters, in one transaction per store; and retention
    changes with their event

    The speed of ingest is in the schema: events carry small integer keys
    (organisations and identifiers are interned), and are clustered per
    organisation in (ts, log_index) order, so that a batch dirties the
    tail pages of each organisation it touches and no random index.
    ========================================================================= */

#include "sqlite_core.h"
#include "sqlite_producers.h"
#include "audit_log.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

//  The store of each topic kind
static const audit_db_t s_kind_db [] = {
    [AUDIT_TOPIC_KIND_AUDIT] = AUDIT_DB_AUDIT,
    [AUDIT_TOPIC_KIND_OPS] = AUDIT_DB_OPS,
    [AUDIT_TOPIC_KIND_MQ] = AUDIT_DB_QUEUE
};

//  Rows of each open counter family (audit_counters.h) in the persistent
//  table; beyond it a new name of that family is folded
//  (audit_counters_fold), so a hostile producer can grow neither the table
//  nor one family at another's cost. Fixed names are never capped.
#define s_COUNTER_FAMILY_ROWS_MAX 8192

//  Entries of subject runs one housekeeping call may merge, of those the
//  batches left owed: two blocks of 16 tiles of two subjects an event.
//  Merges cost about 1.8 us an entry (32,768 took 59 ms a transaction,
//  bench/RESULTS.md), so a batch that arrives meanwhile waits some 30 ms.
#define s_HOUSEKEEP_MERGES (2 * 16 * 2 * 256)

//  --------------------------------------------------------------------------
//  Writing records

//  Binds a resource field: an interned id, a number, or NULL when absent
static int
s_bind_field (sqlite_store_t *self, sqlite3_stmt *stmt, const audit_event_t *event,
              audit_field_t field)
{
    int param = SQLITE_EVENT_FIELD_PARAM + (int) field;
    if (!(event->present & AUDIT_FIELD_BIT (field)))
        return sqlite3_bind_null (stmt, param) == SQLITE_OK? 0: -1;
    audit_field_stored_t stored = audit_proto_field_info (field)->stored;
    if (stored == AUDIT_STORED_NUMBER)
        return sqlite3_bind_int64 (stmt, param, (int64_t) event->number [field])
               == SQLITE_OK? 0: -1;
    if (stored == AUDIT_STORED_TEXT)
        return sqlite3_bind_text (stmt, param, event->text [field], -1, SQLITE_STATIC)
               == SQLITE_OK? 0: -1;
    int64_t id;
    if (audit_idcache_intern (self->idcache, AUDIT_IDCACHE_IDENT, event->text [field],
                              &id) != 0)
        return -1;
    return sqlite3_bind_int64 (stmt, param, id) == SQLITE_OK? 0: -1;
}

//  1 when the organisation already holds this event_id at this timestamp
//  (a retransmission), 0 when not, -1 on error
static int
s_event_seen (sqlite_store_t *self, int64_t org, const audit_event_t *event)
{
    int fresh = audit_orglog_fresh (self->orglog, org, event->timestamp_ms, event->event_id);
    if (fresh != 0)
        return fresh < 0? -1: 0;        //  surely not held: not seen
    sqlite3_stmt *stmt = self->query [SQLITE_Q_EVENT_SEEN];
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, event->timestamp_ms);
    sqlite3_bind_blob (stmt, 3, event->event_id, AUDIT_UUID_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 1: rc == SQLITE_DONE? 0: -1;
}

//  The duplicate check first: a duplicate costs no interning but its org's
static int
s_event_insert (sqlite_store_t *self, const audit_event_t *event, int64_t received_ms,
                audit_store_outcome_t *outcome)
{
    int64_t org;
    if (audit_idcache_intern (self->idcache, AUDIT_IDCACHE_ORG, event->org_id, &org) != 0)
        return -1;
    int seen = s_event_seen (self, org, event);
    if (seen != 0) {
        *outcome = AUDIT_STORE_DUPLICATE;
        return seen < 0? -1: 0;
    }
    uint64_t log_index;
    void **handle;
    if (audit_orglog_take (self->orglog, org, &log_index, &handle) != 0)
        return -1;
    audit_merkle_hash_t leaf;
    if (!self->tree_off) {
        audit_tree_prefetch (handle);
        audit_row_t row;
        audit_row_of_event (event, log_index, received_ms, &row);
        if (audit_row_leaf_hash (&row, leaf) != 0)
            return -1;
    }
    sqlite3_stmt *stmt = self->query [SQLITE_Q_EVENT_INSERT];
    sqlite3_bind_int64 (stmt, 1, org);
    sqlite3_bind_int64 (stmt, 2, event->timestamp_ms);
    sqlite3_bind_int64 (stmt, 3, (int64_t) log_index);
    sqlite3_bind_int64 (stmt, 4, received_ms);
    sqlite3_bind_int (stmt, 5, (int) event->type);
    sqlite3_bind_text (stmt, 6, event->actor_id, -1, SQLITE_STATIC);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (s_bind_field (self, stmt, event, (audit_field_t) field) != 0)
            return -1;
    sqlite3_bind_blob (stmt, SQLITE_EVENT_UUID_PARAM, event->event_id, AUDIT_UUID_SIZE,
                       SQLITE_STATIC);
    if (self->tree_off)
        sqlite3_bind_null (stmt, SQLITE_EVENT_LEAF_PARAM);
    else
        sqlite3_bind_blob (stmt, SQLITE_EVENT_LEAF_PARAM, leaf, AUDIT_TREE_TAG_SIZE,
                           SQLITE_STATIC);
    if (audit_store_sql_step (stmt) != 0)
        return -1;
    if (!self->tree_off
    &&  audit_tree_append (self->tree, handle, org, event->org_id, log_index,
                           event->timestamp_ms, leaf) != 0)
        return -1;
    *outcome = AUDIT_STORE_STORED;
    return 0;
}

static int
s_ops_insert (sqlite_store_t *self, const audit_ops_t *ops, int64_t received_ms)
{
    sqlite3_stmt *stmt = self->query [SQLITE_Q_OPS_INSERT];
    sqlite3_bind_int64 (stmt, 1, ops->timestamp_ms);
    sqlite3_bind_int64 (stmt, 2, received_ms);
    sqlite3_bind_text (stmt, 3, ops->client_ip, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 4, ops->method, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 5, ops->path, -1, SQLITE_STATIC);
    sqlite3_bind_int (stmt, 6, ops->status);
    return audit_store_sql_step (stmt);
}

static int
s_message_insert (sqlite_store_t *self, const audit_mq_t *mq, int64_t received_ms,
                  audit_store_outcome_t *outcome)
{
    sqlite3_stmt *stmt = self->query [SQLITE_Q_MESSAGE_INSERT];
    sqlite3_bind_blob (stmt, 1, mq->message_id, AUDIT_UUID_SIZE, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 2, mq->org_id, -1, SQLITE_STATIC);
    sqlite3_bind_text (stmt, 3, mq->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 4, mq->timestamp_ms);
    sqlite3_bind_int64 (stmt, 5, received_ms);
    sqlite3_bind_blob64 (stmt, 6, mq->payload, mq->payload_size, SQLITE_STATIC);
    if (audit_store_sql_step (stmt) != 0)
        return -1;
    *outcome = sqlite3_changes (self->db [AUDIT_DB_QUEUE])? AUDIT_STORE_STORED
                                                          : AUDIT_STORE_DUPLICATE;
    return 0;
}

static int
s_record_insert (sqlite_store_t *self, const audit_record_t *record,
                 audit_store_outcome_t *outcome)
{
    *outcome = AUDIT_STORE_STORED;
    switch (record->kind) {
        case AUDIT_TOPIC_KIND_AUDIT:
            return s_event_insert (self, &record->u.event, record->received_ms, outcome);
        case AUDIT_TOPIC_KIND_OPS:
            return s_ops_insert (self, &record->u.ops, record->received_ms);
        case AUDIT_TOPIC_KIND_MQ:
            return s_message_insert (self, &record->u.mq, record->received_ms, outcome);
        default:
            return -1;
    }
}

//  --------------------------------------------------------------------------
//  Counters

typedef struct {
    sqlite_store_t *self;
    int rc;
} s_counter_pass_t;

//  Add one delta: to its row, or to a new row while the table has room,
//  else to the row of its folded name
static void
s_counter_add (const char *name, int64_t delta, void *arg)
{
    s_counter_pass_t *pass = (s_counter_pass_t *) arg;
    sqlite_store_t *self = pass->self;
    if (pass->rc != 0 || delta <= 0)
        return;
    char current [AUDIT_COUNTER_NAME_MAX + 1];
    snprintf (current, sizeof current, "%s", name);
    int family = audit_counters_family (current);
    sqlite3_stmt *update = self->query [SQLITE_Q_COUNTER_UPDATE];
    while (true) {
        sqlite3_bind_text (update, 1, current, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64 (update, 2, delta);
        if (audit_store_sql_step (update) != 0) {
            pass->rc = -1;
            return;
        }
        if (sqlite3_changes (self->db [AUDIT_DB_AUDIT]) > 0)
            return;
        char folded [AUDIT_COUNTER_NAME_MAX + 1];
        if (family < 0 || self->family_rows [family] < s_COUNTER_FAMILY_ROWS_MAX
        ||  audit_counters_fold (current, folded) != 0)
            break;                      //  room, or the family's own "(other)"
        strcpy (current, folded);
    }
    sqlite3_stmt *upsert = self->query [SQLITE_Q_COUNTER_UPSERT];
    sqlite3_bind_text (upsert, 1, current, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64 (upsert, 2, delta);
    pass->rc = audit_store_sql_step (upsert);
    if (family >= 0)
        self->family_rows [family]++;
}

//  The deltas, and the batch's stored and duplicate outcomes with them:
//  counted here, inside the transaction, so that a retried batch counts
//  them once and stats agrees with the rows after any crash
static int
s_counters_write (sqlite_store_t *self, audit_counters_t *counters,
                  const audit_store_outcome_t *outcomes, size_t count)
{
    s_counter_pass_t pass = { self, 0 };
    audit_counters_each (counters, s_counter_add, &pass);
    int64_t stored = 0, duplicate = 0;
    for (size_t index = 0; outcomes && index < count; index++) {
        stored += outcomes [index] == AUDIT_STORE_STORED;
        duplicate += outcomes [index] == AUDIT_STORE_DUPLICATE;
    }
    s_counter_add (audit_counters_name (AUDIT_COUNTER_INGEST_STORED), stored, &pass);
    s_counter_add (audit_counters_name (AUDIT_COUNTER_INGEST_DUPLICATE), duplicate, &pass);
    return pass.rc;
}

int
sqlite_counters_read (audit_store_t *store, audit_counters_fn *fn, void *arg)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    sqlite3_stmt *stmt = self->query [SQLITE_Q_COUNTER_SELECT];
    int rc;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        fn ((const char *) sqlite3_column_text (stmt, 0),
            sqlite3_column_int64 (stmt, 1), arg);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

//  --------------------------------------------------------------------------
//  Transactions

//  Starts the write transaction of a store. In audit.db it also reads the
//  ident generation under the write lock: a process that deleted ident or
//  org rows bumped it, and then no cached id can be trusted.
static int
s_begin (sqlite_store_t *self, audit_db_t db)
{
    if (audit_store_sql_step (self->query [SQLITE_Q_BEGIN + db]) != 0)
        return -1;
    if (db != AUDIT_DB_AUDIT)
        return 0;
    if (self->subjects)
        audit_subjects_begin (self->subjects);
    return audit_idcache_begin (self->idcache);
}

//  Rolls back; ids interned in the transaction are gone with it, and the
//  cache forgets them
static void
s_rollback (sqlite_store_t *self, audit_db_t db)
{
    if (!sqlite3_get_autocommit (self->db [db]))
        audit_store_sql_step (self->query [SQLITE_Q_ROLLBACK + db]);
    if (db == AUDIT_DB_AUDIT) {
        audit_idcache_rollback (self->idcache);
        audit_orglog_forget (self->orglog);
        audit_tree_rollback (self->tree);
    }
}

//  Commits (rc 0) or rolls back every touched store. A commit can still
//  fail after an earlier store committed (disk full); *audit_committed
//  then tells whether the counters went in.
//
//  audit.db commits last: it holds the producers' acknowledged seqs, which
//  must never be ahead of what ops.db and queue.db hold. A crash after
//  queue.db's commit and before audit.db's leaves queue rows that no ack
//  covers; the producer resends them and they become duplicates, which
//  is correct (stored once, acknowledged once).
static const audit_db_t s_commit_order [AUDIT_DB_COUNT] = {
    AUDIT_DB_OPS, AUDIT_DB_QUEUE, AUDIT_DB_AUDIT
};

//  True when the last failure on handle was for lack of space: SQLite
//  says SQLITE_FULL, or an I/O error whose errno was ENOSPC
static bool
s_out_of_space (sqlite3 *handle)
{
    int code = sqlite3_extended_errcode (handle);
    return (code & 0xff) == SQLITE_FULL
        || ((code & 0xff) == SQLITE_IOERR && sqlite3_system_errno (handle) == ENOSPC);
}

//  Notes why a write failed, and logs it unless the write before failed
//  too: a batch retried on a full disk logs its first failure, not each
static void
s_failed (sqlite_store_t *self, audit_db_t db, const char *what)
{
    self->failed_full |= s_out_of_space (self->db [db]);
    if (!self->failing)
        audit_log_error ("msg=\"%s\" file=%s reason=\"%s\"", what, audit_schema_file (db),
                         sqlite3_errmsg (self->db [db]));
}

//  Each organisation's next_index, and with the log its tree's last tile:
//  one UPDATE of its row either way
static int
s_orgs_flush (sqlite_store_t *self)
{
    if (self->tree_off)
        return audit_orglog_flush (self->orglog);
    int rc = audit_tree_flush (self->tree);
    audit_orglog_forget (self->orglog);
    return rc;
}

static int
s_transaction_end (sqlite_store_t *self, const bool *touched, int rc,
                   bool *audit_committed, unsigned *committed)
{
    for (int order = 0; order < AUDIT_DB_COUNT; order++) {
        audit_db_t db = s_commit_order [order];
        if (!touched [db])
            continue;
        if (rc == 0 && db == AUDIT_DB_AUDIT && s_orgs_flush (self) != 0)
            rc = -1;
        if (rc == 0 && audit_store_sql_step (self->query [SQLITE_Q_COMMIT + db]) == 0) {
            *audit_committed |= db == AUDIT_DB_AUDIT;
            *committed |= 1u << db;
            if (db == AUDIT_DB_AUDIT)
                audit_tree_commit (self->tree);
            if (!self->defer_housekeeping)
                audit_conn_checkpoint_maybe (self->conn [db]);
        }
        else {
            if (rc == 0)
                s_failed (self, db, "commit failed");
            s_rollback (self, (audit_db_t) db);
            rc = -1;
        }
    }
    return rc;
}

//  Opens the transaction of every touched store, in a fixed order, so that
//  two writers cannot wait on each other's locks
static int
s_transaction_begin (sqlite_store_t *self, const bool *touched)
{
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        if (touched [db] && s_begin (self, (audit_db_t) db) != 0) {
            s_failed (self, (audit_db_t) db, "cannot begin transaction");
            return -1;
        }
    return 0;
}

//  Writes records 0..count-1, as next gives them, inside the transactions
//  of the stores in touched
typedef struct {
    const audit_store_producer_t *rows;
    size_t count;
} s_producers_t;

//  The records of stores not yet committed, in order; the index of the
//  store of a failing one in *failed
static int
s_records_insert (sqlite_store_t *self, audit_store_next_fn *next, void *arg, size_t count,
                  const bool *touched, audit_store_outcome_t *outcomes, audit_db_t *failed)
{
    for (size_t index = 0; index < count; index++) {
        const audit_record_t *record = next (arg, index);
        if (record->kind < AUDIT_TOPIC_KIND_UNKNOWN && !touched [s_kind_db [record->kind]])
            continue;                   //  its store's part committed before
        if (s_record_insert (self, record, &outcomes [index]) != 0) {
            if (record->kind < AUDIT_TOPIC_KIND_UNKNOWN)
                *failed = s_kind_db [record->kind];
            return -1;
        }
    }
    return 0;
}

static int
s_write (sqlite_store_t *self, audit_store_next_fn *next, void *arg, size_t count,
         const bool *touched, audit_store_outcome_t *outcomes, audit_counters_t *counters,
         const s_producers_t *producers, unsigned *committed)
{
    assert (self->mode != AUDIT_STORE_READER);
    bool with_counters = touched [AUDIT_DB_AUDIT] && counters
                      && (audit_counters_size (counters) > 0 || count > 0);
    self->failed_full = false;
    audit_db_t failed = AUDIT_DB_AUDIT;
    int rc = s_transaction_begin (self, touched);
    if (rc == 0)
        rc = s_records_insert (self, next, arg, count, touched, outcomes, &failed);
    if (rc == 0 && with_counters)
        rc = s_counters_write (self, counters, outcomes, count);
    if (rc == 0 && producers->count > 0 && touched [AUDIT_DB_AUDIT])
        rc = sqlite_producers_write (&self->base, producers->rows, producers->count);
    if (rc != 0)
        s_failed (self, failed, "write failed");
    bool audit_committed = false;
    rc = s_transaction_end (self, touched, rc, &audit_committed, committed);
    self->failing = rc != 0;
    if (audit_committed && with_counters)
        audit_counters_clear (counters);
    return rc;
}

static const audit_record_t *
s_array_next (void *arg, size_t index)
{
    return &((const audit_record_t *) arg) [index];
}

int
sqlite_write (audit_store_t *store, const audit_record_t *records,
                   size_t count, audit_store_outcome_t *outcomes,
                   audit_counters_t *counters)
{
    unsigned kinds = 0;
    for (size_t index = 0; index < count; index++)
        if (records [index].kind < AUDIT_TOPIC_KIND_UNKNOWN)
            kinds |= 1u << records [index].kind;
    return sqlite_write_each (store, s_array_next, (void *) records, count, kinds,
                              outcomes, counters, NULL, 0, NULL);
}

int
sqlite_write_each (audit_store_t *store, audit_store_next_fn *next, void *arg,
                   size_t count, unsigned kinds, audit_store_outcome_t *outcomes,
                   audit_counters_t *counters,
                   const audit_store_producer_t *producers, size_t producer_count,
                   unsigned *committed)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    unsigned none = 0;
    committed = committed? committed: &none;
    bool touched [AUDIT_DB_COUNT] = { false };
    for (int kind = 0; kind < AUDIT_TOPIC_KIND_UNKNOWN; kind++)
        if (kinds & (1u << kind))
            touched [s_kind_db [kind]] = true;
    touched [AUDIT_DB_AUDIT] |= (counters && (audit_counters_size (counters) > 0 || count > 0))
                             || producer_count > 0;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        touched [db] &= !(*committed & (1u << db));
    s_producers_t rows = { producers, producer_count };
    return s_write (self, next, arg, count, touched, outcomes, counters, &rows, committed);
}

int
sqlite_recover (audit_store_t *store, bool *full)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    *full = self->failed_full;
    int rc = 0;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        if (audit_conn_checkpoint (self->conn [db]) != 0)
            rc = -1;
    return rc;
}

int
sqlite_counters_flush (audit_store_t *store, audit_counters_t *counters)
{
    return sqlite_write (store, NULL, 0, NULL, counters);
}

int64_t
sqlite_lock_waited_us (audit_store_t *store)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    int64_t waited = 0;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        waited += audit_conn_lock_waited_us (self->conn [db]);
    return waited;
}

void
sqlite_housekeeping_defer (audit_store_t *store)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    self->defer_housekeeping = true;
}

//  One transaction of the merges of subject runs that batches left owed
//  (audit_subjects_owed): 1 when more are owed, 0 when none is (the usual
//  case, found by one read of an index, no transaction), -1. None while
//  the writes fail (a full disk): the batch's retries come first.
static int
s_subjects_owed (sqlite_store_t *self)
{
    if (self->mode != AUDIT_STORE_WRITER || !self->subjects || self->tree_off
    ||  self->failing)
        return 0;
    int rc = audit_subjects_owing (self->subjects);
    if (rc != 1)
        return rc;
    bool touched [AUDIT_DB_COUNT] = { [AUDIT_DB_AUDIT] = true };
    bool audit_committed = false;
    unsigned committed = 0;
    rc = s_transaction_begin (self, touched);
    int owed = rc == 0? audit_subjects_owed (self->subjects, s_HOUSEKEEP_MERGES): -1;
    rc = s_transaction_end (self, touched, owed < 0? -1: 0, &audit_committed, &committed);
    return rc == 0? owed: -1;
}

//  The merges owed first, then each store's checkpoint, which decides for
//  itself whether its WAL is due
int
sqlite_housekeep (audit_store_t *store)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    int rc = s_subjects_owed (self);
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        if (self->conn [db])
            audit_conn_checkpoint_maybe (self->conn [db]);
    return rc;
}

int64_t
sqlite_checkpoint_waited_us (audit_store_t *store)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    int64_t waited = 0;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        waited += audit_conn_checkpoint_waited_us (self->conn [db]);
    return waited;
}

int
sqlite_retention_set (audit_store_t *store, const char *org_id, uint32_t days,
                           const audit_record_t *event)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    assert (self->mode != AUDIT_STORE_READER);
    bool touched [AUDIT_DB_COUNT] = { [AUDIT_DB_AUDIT] = true };
    audit_store_outcome_t outcome;
    int rc = s_transaction_begin (self, touched);
    //  The event first: inserting it interns the organisation's row
    if (rc == 0)
        rc = s_record_insert (self, event, &outcome);
    if (rc == 0) {
        sqlite3_stmt *stmt = self->query [SQLITE_Q_ORG_RETENTION];
        sqlite3_bind_text (stmt, 1, org_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64 (stmt, 2, days);
        rc = audit_store_sql_step (stmt) == 0 && sqlite3_changes (self->db [AUDIT_DB_AUDIT]) == 1? 0: -1;
    }
    bool audit_committed = false;
    unsigned committed = 0;
    return s_transaction_end (self, touched, rc, &audit_committed, &committed);
}
