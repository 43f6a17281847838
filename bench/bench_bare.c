/*  =========================================================================
    bench_bare - the ceiling of audit.db on its own schema
    ========================================================================= */

#include "bench_bare.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit_time.h"
#include "audit_conn.h"
#include "audit_subjects.h"
#include "audit_tree.h"
#include "bench_feed.h"

//  The event INSERT's parameters: as the store's, built from the field rows
#define s_FIELD_PARAM 7
#define s_UUID_PARAM  (s_FIELD_PARAM + AUDIT_FIELD_COUNT)
#define s_TAG_PARAM   (s_UUID_PARAM + 1)
//  The store's writer cache (audit_conn.h)
#define s_STR_(x)     #x
#define s_STR(x)      s_STR_ (x)
#define s_CACHE_SQL   "PRAGMA cache_size = -" s_STR (AUDIT_CONN_WRITER_CACHE_KIB)
//  and its checkpoint policy (s_CHECKPOINT_BYTES): none inside a commit,
//  a PASSIVE one after a commit that left the WAL over 16 MiB
#define s_CHECKPOINT_PAGES (16 * 1024 * 1024 / 4096)

//  The bytes of a tile row's subtrees and of a node's hash: what the
//  store writes, but not hashed (the loop writes rows, it computes nothing)
typedef uint8_t s_subtrees_t [AUDIT_TREE_INNER_COUNT * AUDIT_MERKLE_HASH_SIZE];

struct _bench_bare_t {
    sqlite3 *db;
    bool log_rows;                      //  the organisation's log's rows too
    sqlite3_stmt *insert, *begin, *commit, *next_set, *node_insert, *tail_set;
    audit_subjects_t *subjects;         //  a complete tile's subject run, as the store's
    int64_t tail_min [BENCH_FEED_ORGS], tail_max [BENCH_FEED_ORGS];
    s_subtrees_t filler;
    int64_t org_ids [BENCH_FEED_ORGS], next_index [BENCH_FEED_ORGS];
    int64_t role_id;                    //  the feed's one NAME field's value
    char touched [BENCH_FEED_ORGS];
    int wal_pages;                      //  after the last commit
    bench_pcache_t pcache;              //  the counts before the first run
};

//  Remembers the WAL's size after each commit; installing it also takes
//  SQLite's automatic checkpoint out of the commits, as the store does
static int
s_wal_hook (void *arg, sqlite3 *handle, const char *schema, int pages)
{
    (void) handle;
    (void) schema;
    *(int *) arg = pages;
    return SQLITE_OK;
}

static int
s_step_reset (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW? 0: -1;
}

//  The id of name in table (org or ident), interned when missing
static int
s_resolve (sqlite3 *db, const char *table, const char *name, int64_t *id)
{
    char insert [128], select [128];
    snprintf (insert, sizeof insert, "INSERT INTO %s (name) VALUES (?1) ON CONFLICT DO NOTHING", table);
    snprintf (select, sizeof select, "SELECT id FROM %s WHERE name = ?1", table);
    sqlite3_stmt *stmt [2] = { NULL, NULL };
    int rc = sqlite3_prepare_v2 (db, insert, -1, &stmt [0], NULL) == SQLITE_OK
          && sqlite3_prepare_v2 (db, select, -1, &stmt [1], NULL) == SQLITE_OK? 0: -1;
    for (int index = 0; rc == 0 && index < 2; index++)
        sqlite3_bind_text (stmt [index], 1, name, -1, SQLITE_STATIC);
    rc = rc? rc: s_step_reset (stmt [0]);
    rc = rc? rc: sqlite3_step (stmt [1]) == SQLITE_ROW? 0: -1;
    if (rc == 0)
        *id = sqlite3_column_int64 (stmt [1], 0);
    sqlite3_finalize (stmt [0]);
    sqlite3_finalize (stmt [1]);
    return rc;
}

//  Every name the feed stores as an id, once, in one transaction: the
//  organisations, and role (audit_fields.def: the one field kept NAME;
//  the others are stored as their text, as the worker stores them)
static int
s_resolve_all (bench_bare_t *self)
{
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (audit_proto_field_info ((audit_field_t) field)->stored == AUDIT_STORED_NAME
        &&  field != AUDIT_FIELD_ROLE) {
            fprintf (stderr, "bench_bare: %s is stored as an id; only role is resolved\n",
                     audit_proto_field_info ((audit_field_t) field)->key);
            return -1;
        }
    char name [BENCH_FEED_TEXT];
    bench_feed_t event = { .n = 0 };
    int rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK? 0: -1;
    for (int org = 0; rc == 0 && org < BENCH_FEED_ORGS; org++) {
        bench_feed_org_name (org, name);
        rc = s_resolve (self->db, "org", name, &self->org_ids [org]);
    }
    bench_feed_value (&event, AUDIT_FIELD_ROLE, name, NULL);
    rc = rc? rc: s_resolve (self->db, "ident", name, &self->role_id);
    return sqlite3_exec (self->db, rc? "ROLLBACK": "COMMIT", NULL, NULL, NULL) == SQLITE_OK? rc: -1;
}

//  Each organisation's next log_index, as the store left it
static int
s_next_read (bench_bare_t *self)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (self->db, "SELECT next_index FROM org WHERE id = ?1", -1,
                                 &stmt, NULL) == SQLITE_OK? 0: -1;
    for (int org = 0; rc == 0 && org < BENCH_FEED_ORGS; org++) {
        sqlite3_bind_int64 (stmt, 1, self->org_ids [org]);
        rc = sqlite3_step (stmt) == SQLITE_ROW? 0: -1;
        self->next_index [org] = rc == 0? sqlite3_column_int64 (stmt, 0): 0;
        sqlite3_reset (stmt);
    }
    sqlite3_finalize (stmt);
    return rc;
}

static int
s_prepare (bench_bare_t *self)
{
    char columns [512] = "", values [512] = "", sql [1200];
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        size_t at = strlen (columns), vat = strlen (values);
        snprintf (columns + at, sizeof columns - at, "%s, ",
                  audit_proto_field_info ((audit_field_t) field)->column);
        snprintf (values + vat, sizeof values - vat, "?%d, ", s_FIELD_PARAM + field);
    }
    snprintf (sql, sizeof sql, "INSERT INTO event (org, ts, log_index, received, type, actor,"
              " %suuid, leaf_tag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, %s?%d, ?%d)", columns, values,
              s_UUID_PARAM, s_TAG_PARAM);
    return sqlite3_prepare_v2 (self->db, sql, -1, &self->insert, NULL) == SQLITE_OK
        && sqlite3_prepare_v2 (self->db, "INSERT INTO tree_node (org, level, idx, hash, min_ts,"
                               " max_ts, subtrees) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1,
                               &self->node_insert, NULL) == SQLITE_OK
        && sqlite3_prepare_v2 (self->db, "UPDATE org SET tail_min_ts = ?2, tail_max_ts = ?3,"
                               " tail_nodes = ?4, next_index = ?5 WHERE id = ?1", -1,
                               &self->tail_set, NULL) == SQLITE_OK
        && sqlite3_prepare_v2 (self->db, "BEGIN IMMEDIATE", -1, &self->begin, NULL) == SQLITE_OK
        && sqlite3_prepare_v2 (self->db, "COMMIT", -1, &self->commit, NULL) == SQLITE_OK
        && sqlite3_prepare_v2 (self->db, "UPDATE org SET next_index = ?2 WHERE id = ?1", -1,
                               &self->next_set, NULL) == SQLITE_OK? 0: -1;
}

bench_bare_t *
bench_bare_new (const char *dir, bool log_rows)
{
    bench_bare_t *self = (bench_bare_t *) calloc (1, sizeof *self);
    for (size_t at = 0; self && at < sizeof self->filler; at++)
        self->filler [at] = (uint8_t) (at * 131 + 7);
    for (int org = 0; self && org < BENCH_FEED_ORGS; org++) {
        self->tail_min [org] = INT64_MAX;
        self->tail_max [org] = INT64_MIN;
    }
    if (self)
        self->log_rows = log_rows;
    char path [1024];
    snprintf (path, sizeof path, "%s/audit.db", dir);
    bool ok = self && sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK;
    //  The store's pragmas, but SQLite's own checkpointing
    ok = ok && sqlite3_exec (self->db, "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"
                             " PRAGMA journal_mode = WAL; " s_CACHE_SQL, NULL, NULL, NULL) == SQLITE_OK;
    ok = ok && s_prepare (self) == 0 && s_resolve_all (self) == 0 && s_next_read (self) == 0;
    ok = ok && (!log_rows || (self->subjects = audit_subjects_new (self->db,
                                                     AUDIT_SUBJECTS_MERGE_BUDGET)) != NULL);
    if (ok) {
        sqlite3_wal_hook (self->db, s_wal_hook, &self->wal_pages);
        bench_pcache_read (self->db, &self->pcache);
    }
    if (!ok && self) {
        fprintf (stderr, "bench_bare: %s: %s\n", path, self->db? sqlite3_errmsg (self->db): "?");
        bench_bare_destroy (&self);
    }
    return self;
}

void
bench_bare_destroy (bench_bare_t **self_p)
{
    bench_bare_t *self = self_p? *self_p: NULL;
    if (!self)
        return;
    sqlite3_finalize (self->insert);
    sqlite3_finalize (self->begin);
    sqlite3_finalize (self->commit);
    sqlite3_finalize (self->next_set);
    sqlite3_finalize (self->node_insert);
    sqlite3_finalize (self->tail_set);
    audit_subjects_destroy (&self->subjects);
    sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

//  A required field's id, text or number; NULL for the others. text is
//  the caller's, alive until the step: bound without a copy, as the
//  worker binds its record's texts
static void
s_bind_field (bench_bare_t *self, const bench_feed_t *event, audit_field_mask_t required,
              audit_field_t field, char *text)
{
    int param = s_FIELD_PARAM + (int) field;
    const audit_field_info_t *info = audit_proto_field_info (field);
    uint64_t number = 0;
    if (!(required & AUDIT_FIELD_BIT (field))) {
        sqlite3_bind_null (self->insert, param);
        return;
    }
    bench_feed_value (event, field, text, &number);
    if (info->stored == AUDIT_STORED_TEXT)
        sqlite3_bind_text (self->insert, param, text, -1, SQLITE_STATIC);
    else
    if (info->stored == AUDIT_STORED_NUMBER)
        sqlite3_bind_int64 (self->insert, param, (int64_t) number);
    else
        sqlite3_bind_int64 (self->insert, param, self->role_id);
}

//  A complete subtree's row, as the store's writer makes it when an
//  organisation's log reaches a multiple of 2^8 (with the tile's range and
//  subtrees, and its subject run: the store's own statements read the
//  tile's rows back and write it), 2^16, ...
static int
s_node_insert (bench_bare_t *self, int org, unsigned level, uint64_t index)
{
    sqlite3_stmt *stmt = self->node_insert;
    bool tile = level == AUDIT_TREE_TILE_LEVELS;
    sqlite3_bind_int64 (stmt, 1, self->org_ids [org]);
    sqlite3_bind_int (stmt, 2, (int) level);
    sqlite3_bind_int64 (stmt, 3, (int64_t) index);
    sqlite3_bind_blob (stmt, 4, self->filler, AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    if (tile) {
        sqlite3_bind_int64 (stmt, 5, self->tail_min [org]);
        sqlite3_bind_int64 (stmt, 6, self->tail_max [org]);
        sqlite3_bind_blob (stmt, 7, self->filler, sizeof self->filler, SQLITE_STATIC);
        if (audit_subjects_tile (self->subjects, self->org_ids [org], index,
                                 self->tail_min [org], self->tail_max [org]) != 0)
            return -1;
        self->tail_min [org] = INT64_MAX;
        self->tail_max [org] = INT64_MIN;
    }
    else
        for (int param = 5; param <= 7; param++)
            sqlite3_bind_null (stmt, param);
    return s_step_reset (stmt);
}

//  The log's rows of the event just given index: its range in the tile,
//  and the subtrees its index completes
static int
s_log_rows (bench_bare_t *self, int org, int64_t ts, uint64_t index)
{
    self->tail_min [org] = ts < self->tail_min [org]? ts: self->tail_min [org];
    self->tail_max [org] = ts > self->tail_max [org]? ts: self->tail_max [org];
    uint64_t size = index + 1;
    int rc = 0;
    for (unsigned level = AUDIT_TREE_TILE_LEVELS; rc == 0 && level < 64
         && size % (1ull << level) == 0; level += AUDIT_TREE_TILE_LEVELS)
        rc = s_node_insert (self, org, level, (size >> level) - 1);
    return rc;
}

static int
s_insert (bench_bare_t *self, uint64_t n, uint64_t salt)
{
    bench_feed_t event;
    int64_t now = audit_time_now_ms ();
    bench_feed_make (n, now, salt, &event);
    audit_field_mask_t required = audit_proto_event_info (event.type)->required;
    uint64_t index = (uint64_t) self->next_index [event.org]++;
    sqlite3_bind_int64 (self->insert, 1, self->org_ids [event.org]);
    sqlite3_bind_int64 (self->insert, 2, event.ts);
    sqlite3_bind_int64 (self->insert, 3, (int64_t) index);
    sqlite3_bind_int64 (self->insert, 4, now);
    sqlite3_bind_int (self->insert, 5, (int) event.type);
    //  actor is stored as its text, as the worker stores it (audit_schema)
    char actor [BENCH_FEED_TEXT], texts [AUDIT_FIELD_COUNT][BENCH_FEED_TEXT];
    bench_feed_user_name (event.actor, actor);
    sqlite3_bind_text (self->insert, 6, actor, -1, SQLITE_STATIC);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        s_bind_field (self, &event, required, (audit_field_t) field, texts [field]);
    sqlite3_bind_blob (self->insert, s_UUID_PARAM, event.uuid, AUDIT_UUID_SIZE, SQLITE_STATIC);
    if (self->log_rows)
        sqlite3_bind_blob (self->insert, s_TAG_PARAM, event.uuid, AUDIT_TREE_TAG_SIZE,
                           SQLITE_STATIC);
    else
        sqlite3_bind_null (self->insert, s_TAG_PARAM);
    self->touched [event.org] = 1;
    int rc = s_step_reset (self->insert);
    return rc == 0 && self->log_rows? s_log_rows (self, event.org, event.ts, index): rc;
}

//  The org row of one touched organisation: its next_index, and with the
//  log the range of its last tile and that tile's complete subtrees
static int
s_org_write (bench_bare_t *self, int org)
{
    if (!self->log_rows) {
        sqlite3_bind_int64 (self->next_set, 1, self->org_ids [org]);
        sqlite3_bind_int64 (self->next_set, 2, self->next_index [org]);
        return s_step_reset (self->next_set);
    }
    sqlite3_stmt *stmt = self->tail_set;
    int64_t size = self->next_index [org];
    sqlite3_bind_int64 (stmt, 1, self->org_ids [org]);
    if (self->tail_min [org] <= self->tail_max [org]) {
        sqlite3_bind_int64 (stmt, 2, self->tail_min [org]);
        sqlite3_bind_int64 (stmt, 3, self->tail_max [org]);
    }
    else {
        sqlite3_bind_null (stmt, 2);
        sqlite3_bind_null (stmt, 3);
    }
    int low = __builtin_popcountll ((uint64_t) size % AUDIT_TREE_TILE_LEAVES);
    sqlite3_bind_blob (stmt, 4, self->filler, low * AUDIT_MERKLE_HASH_SIZE, SQLITE_STATIC);
    sqlite3_bind_int64 (stmt, 5, size);
    return s_step_reset (stmt);
}

//  The org row of every organisation the transaction touched
static int
s_next_write (bench_bare_t *self)
{
    int rc = 0;
    for (int org = 0; rc == 0 && org < BENCH_FEED_ORGS; org++) {
        if (!self->touched [org])
            continue;
        rc = s_org_write (self, org);
        self->touched [org] = 0;
    }
    return rc;
}

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

int
bench_bare_run (bench_bare_t *self, uint64_t first, long count, long batch, uint64_t salt,
                double *seconds)
{
    double start = s_now ();
    int rc = 0;
    for (long done = 0; rc == 0 && done < count; ) {
        long end = count - done < batch? count: done + batch;
        rc = s_step_reset (self->begin);
        if (self->subjects)
            audit_subjects_begin (self->subjects);
        for (; rc == 0 && done < end; done++)
            rc = s_insert (self, first + (uint64_t) done, salt);
        rc = rc? rc: s_next_write (self);
        rc = rc? rc: s_step_reset (self->commit);
        if (rc == 0 && self->wal_pages >= s_CHECKPOINT_PAGES) {
            sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
            self->wal_pages = 0;
        }
    }
    *seconds = s_now () - start;
    if (rc != 0)
        fprintf (stderr, "bench_bare: %s\n", sqlite3_errmsg (self->db));
    return rc;
}

bench_pcache_t
bench_bare_pcache (bench_bare_t *self)
{
    bench_pcache_t now;
    bench_pcache_read (self->db, &now);
    return bench_pcache_since (now, self->pcache);
}
