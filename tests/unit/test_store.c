/*  =========================================================================
    test_store - the three stores: files, pragmas, schema, writes,
    duplicates, counters, rollback, and the plans of the list queries
    ========================================================================= */

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_conn.h"
#include "audit_time.h"
#include "test_support.h"

#define s_NOW 1790000000000LL

//  --------------------------------------------------------------------------
//  Helpers

//  The first column of the one row of sql (no parameters), as an integer
static int64_t
s_sql_int (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK,
                  "%s: %s", sql, sqlite3_errmsg (db));
    cr_assert_eq (sqlite3_step (stmt), SQLITE_ROW, "%s", sql);
    int64_t value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

static void
s_sql_text (sqlite3 *db, const char *sql, char *text, size_t size)
{
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK,
                  "%s: %s", sql, sqlite3_errmsg (db));
    cr_assert_eq (sqlite3_step (stmt), SQLITE_ROW, "%s", sql);
    snprintf (text, size, "%s", (const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
}

//  Run one statement; its sqlite3_step result
static int
s_sql_run (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step (stmt);
    sqlite3_finalize (stmt);
    return rc;
}

static void
s_uuid (uint8_t *uuid, uint32_t id)
{
    memset (uuid, 0xA5, AUDIT_UUID_SIZE);
    uuid [12] = (uint8_t) (id >> 24);
    uuid [13] = (uint8_t) (id >> 16);
    uuid [14] = (uint8_t) (id >> 8);
    uuid [15] = (uint8_t) id;
}

static uint64_t
s_number (audit_field_t field)
{
    return field == AUDIT_FIELD_RECIPIENT_COUNT? 42
         : field == AUDIT_FIELD_FILE_SIZE? 1234567: 30;
}

//  An event of type with every field its type allows, values derived from id
static void
s_event (audit_record_t *record, audit_event_type_t type, const char *org,
         const char *actor, uint32_t id)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = s_NOW + 5;
    audit_event_t *event = &record->u.event;
    s_uuid (event->event_id, id);
    event->type = type;
    event->timestamp_ms = s_NOW - id;
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "%s", actor);
    const audit_event_info_t *info = audit_proto_event_info (type);
    event->present = info->required | info->optional;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        if (!(event->present & AUDIT_FIELD_BIT (field)))
            continue;
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT)
            event->number [field] = s_number ((audit_field_t) field);
        else
            snprintf (event->text [field], sizeof event->text [field], "%s-%u",
                      audit_proto_field_info ((audit_field_t) field)->key, id);
    }
}

static void
s_ops (audit_record_t *record)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_OPS;
    record->received_ms = s_NOW + 1;
    record->u.ops.timestamp_ms = s_NOW;
    strcpy (record->u.ops.client_ip, "192.0.2.7");
    strcpy (record->u.ops.method, "GET");
    strcpy (record->u.ops.path, "/v1/things");
    record->u.ops.status = 204;
}

static const uint8_t s_payload [] = { 0x00, 0x01, 0xFE, 0xFF, 0x42 };

static void
s_mq (audit_record_t *record, uint32_t id)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_MQ;
    record->received_ms = s_NOW + 2;
    s_uuid (record->u.mq.message_id, id);
    strcpy (record->u.mq.org_id, "org-mq");
    strcpy (record->u.mq.device_id, "device-mq");
    record->u.mq.timestamp_ms = s_NOW - 1;
    record->u.mq.payload = s_payload;
    record->u.mq.payload_size = sizeof s_payload;
}

static char *s_dir;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("store");
    cr_assert_not_null (s_dir);
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

static audit_record_t *
s_records_new (size_t count)
{
    audit_record_t *records = calloc (count, sizeof *records);
    cr_assert_not_null (records);
    return records;
}

TestSuite (store, .init = s_setup, .fini = s_teardown);

//  --------------------------------------------------------------------------
//  Opening

Test (store, open_creates_three_files_with_the_pragmas)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    const char *files [] = { "audit.db", "ops.db", "queue.db" };
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        char path [512];
        snprintf (path, sizeof path, "%s/%s", s_dir, files [db]);
        cr_expect_eq (access (path, F_OK), 0, "%s exists", files [db]);
        sqlite3 *conn = audit_store_db (store, (audit_db_t) db);
        char journal [16];
        s_sql_text (conn, "PRAGMA journal_mode", journal, sizeof journal);
        cr_expect_str_eq (journal, "wal");
        cr_expect_eq (s_sql_int (conn, "PRAGMA auto_vacuum"), 2, "incremental");
        cr_expect_eq (s_sql_int (conn, "PRAGMA secure_delete"), 1);
        cr_expect_eq (s_sql_int (conn, "PRAGMA synchronous"), 2, "full");
        cr_expect_eq (s_sql_int (conn, "PRAGMA foreign_keys"), 0);
        cr_expect_eq (s_sql_int (conn, "PRAGMA user_version"), audit_schema_version ((audit_db_t) db));
        cr_expect_gt (s_sql_int (conn, "PRAGMA journal_size_limit"), 0);
        //  The writer's large page cache is audit.db's alone (audit_conn.h)
        cr_expect_eq (s_sql_int (conn, "PRAGMA cache_size") == -AUDIT_CONN_WRITER_CACHE_KIB,
                      db == AUDIT_DB_AUDIT, "%s's cache", files [db]);
    }
    int64_t created = s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                                 "SELECT value FROM meta WHERE key = 'created_at'");
    cr_expect (llabs (created - audit_time_now_ms ()) < 60000, "created_at is now, in ms");
    audit_store_destroy (&store);
    audit_store_destroy (&store);
    cr_expect_null (store);
    audit_store_destroy (NULL);
}

Test (store, data_dir_is_created_private)
{
    char path [512];
    snprintf (path, sizeof path, "%s/nested", s_dir);
    audit_store_t *store = audit_store_new (path, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    struct stat info;
    cr_assert_eq (stat (path, &info), 0);
    cr_expect_eq (info.st_mode & 0777, 0700);
    audit_store_destroy (&store);
}

Test (store, unusable_data_dir_is_refused)
{
    char path [512];
    snprintf (path, sizeof path, "%s/file", s_dir);
    FILE *file = fopen (path, "w");
    cr_assert_not_null (file);
    fclose (file);
    cr_expect_null (audit_store_new (path, AUDIT_STORE_WRITER), "a file, not a directory");
    snprintf (path, sizeof path, "%s/missing/deeper", s_dir);
    cr_expect_null (audit_store_new (path, AUDIT_STORE_WRITER), "parent missing");
    snprintf (path, sizeof path, "%s/absent", s_dir);
    cr_expect_null (audit_store_new (path, AUDIT_STORE_READER), "a reader creates nothing");
    cr_expect_neq (access (path, F_OK), 0);
    if (geteuid () != 0) {
        snprintf (path, sizeof path, "%s/locked", s_dir);
        cr_assert_eq (mkdir (path, 0500), 0);
        cr_expect_null (audit_store_new (path, AUDIT_STORE_WRITER), "not writable");
    }
}

Test (store, reopen_keeps_data_and_reader_cannot_write)
{
    audit_record_t *record = s_records_new (1);
    s_event (record, AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 1);
    audit_store_outcome_t outcome;
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, record, 1, &outcome, NULL), 0);
    audit_store_destroy (&store);

    store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM event"), 1);
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    cr_assert_not_null (reader);
    sqlite3 *conn = audit_store_db (reader, AUDIT_DB_AUDIT);
    cr_expect_eq (s_sql_int (conn, "SELECT count(*) FROM event"), 1);
    int rc = s_sql_run (conn, "INSERT INTO meta (key, value) VALUES ('x', 1)");
    cr_expect (rc == SQLITE_READONLY || rc == SQLITE_ERROR, "rc %d", rc);
    cr_expect_eq (s_sql_run (audit_store_db (reader, AUDIT_DB_QUEUE), "DELETE FROM message"),
                  SQLITE_READONLY);
    audit_store_destroy (&reader);
    audit_store_destroy (&store);
    free (record);
}

//  Another connection holds audit.db's write lock: a write waits for it,
//  polling, until its limit, and says how long it waited
Test (store, a_writer_waits_for_the_lock_and_counts_the_wait)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_store_t *other = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert (store && other);
    sqlite3 *holder = audit_store_db (other, AUDIT_DB_AUDIT);
    cr_assert_eq (sqlite3_exec (holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    audit_record_t record;
    s_event (&record, AUDIT_EVENT_DEVICE_REGISTERED, "org-a", "admin", 1);
    audit_store_outcome_t outcome;
    audit_store_lock_waited_us (store);
    audit_store_busy_limit (store, AUDIT_DB_AUDIT, 40);
    int64_t start = zclock_usecs ();
    cr_expect_eq (audit_store_write (store, &record, 1, &outcome, NULL), -1, "busy");
    int64_t took = zclock_usecs () - start;
    int64_t waited = audit_store_lock_waited_us (store);
    cr_expect_geq (waited, 35000, "waited %lld us", (long long) waited);
    cr_expect_leq (waited, took);
    cr_expect_lt (took, 500000, "gave up at its limit, took %lld us", (long long) took);
    cr_expect_eq (audit_store_lock_waited_us (store), 0, "the count starts over");
    cr_assert_eq (sqlite3_exec (holder, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    audit_store_busy_limit (store, AUDIT_DB_AUDIT, AUDIT_STORE_BUSY_TIMEOUT_MS);
    cr_expect_eq (audit_store_write (store, &record, 1, &outcome, NULL), 0);
    cr_expect_eq (outcome, AUDIT_STORE_STORED);
    cr_expect_lt (audit_store_lock_waited_us (store), 1000, "no wait once it is free");
    audit_store_destroy (&other);
    audit_store_destroy (&store);
}

//  audit.db as version 1 wrote it: event ids in a UNIQUE index of event
static const char *s_audit_v1 =
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
    "CREATE INDEX event_org_ts ON event (org, ts, id, type, actor, user, device, grp);"
    "CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "INSERT INTO org (id, name) VALUES (1, 'org-a');"
    "INSERT INTO ident (id, name) VALUES (1, 'admin'), (2, '0042'), (3, 'file-9');"
    "INSERT INTO event (org, ts, received, type, actor, broadcast, file_ref, uuid) VALUES"
    "  (1, 1795000000000, 1795000000001, 0, 1, NULL, NULL, zeroblob (16)),"
    "  (1, 1795000000002, 1795000000003, 0, 1, 2, 3, randomblob (16));"
    "PRAGMA user_version = 1;";

//  A store file as an older version left it: made by sql in s_dir, in WAL
//  mode as the workers leave it; its path in path when not NULL
static void
s_old_file (const char *name, const char *sql, char *path, size_t size)
{
    mkdir (s_dir, 0700);
    char file [512];
    snprintf (file, sizeof file, "%s/%s", s_dir, name);
    sqlite3 *old = NULL;
    cr_assert_eq (sqlite3_open (file, &old), SQLITE_OK);
    cr_assert_eq (sqlite3_exec (old, sql, NULL, NULL, NULL), SQLITE_OK);
    cr_assert_eq (sqlite3_exec (old, "PRAGMA journal_mode = WAL", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (old);
    if (path)
        snprintf (path, size, "%s", file);
}

Test (store, a_version_1_file_is_migrated_with_its_event_ids)
{
    s_old_file ("audit.db", s_audit_v1, NULL, 0);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    sqlite3 *audit = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_expect_eq (s_sql_int (audit, "PRAGMA user_version"), audit_schema_version (AUDIT_DB_AUDIT));
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM sqlite_master"
                                    " WHERE name IN ('event_uuid', 'event_key',"
                                    " 'event_org_ts')"), 0, "the old keys and index are gone");
    //  The events are numbered in commit (row id) order, and the next one
    //  of the organisation follows them
    cr_expect_eq (s_sql_int (audit, "SELECT log_index FROM event WHERE ts = 1795000000000"), 0);
    cr_expect_eq (s_sql_int (audit, "SELECT log_index FROM event WHERE ts = 1795000000002"), 1);
    cr_expect_eq (s_sql_int (audit, "SELECT next_index FROM org WHERE name = 'org-a'"), 2);
    //  broadcast and file_ref now hold their text, leading zeros and all
    char text [64];
    s_sql_text (audit, "SELECT broadcast || ' ' || typeof (broadcast) || ' ' || file_ref"
                " FROM event WHERE broadcast IS NOT NULL", text, sizeof text);
    cr_expect_str_eq (text, "0042 text file-9");
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event WHERE broadcast IS NULL"), 1);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM sqlite_master"
                                    " WHERE name = 'event_org_index'"), 0,
                  "no index of log_index: a tile's range of ts finds its events");
    //  Every event keeps the tag of its leaf, and the leaf table is gone
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event WHERE length (leaf_tag) = 4"), 2);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM sqlite_master WHERE name = 'leaf'"), 0);
    //  The first event's id (16 zero bytes) at its timestamp is still known
    audit_record_t record;
    s_event (&record, AUDIT_EVENT_DEVICE_REGISTERED, "org-a", "admin", 1);
    memset (record.u.event.event_id, 0, AUDIT_UUID_SIZE);
    record.u.event.timestamp_ms = 1795000000000;
    audit_store_outcome_t outcome;
    cr_assert_eq (audit_store_write (store, &record, 1, &outcome, NULL), 0);
    cr_expect_eq (outcome, AUDIT_STORE_DUPLICATE);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event"), 2);
    //  and a new event takes the organisation's next index
    s_event (&record, AUDIT_EVENT_DEVICE_REGISTERED, "org-a", "admin", 9);
    cr_assert_eq (audit_store_write (store, &record, 1, &outcome, NULL), 0);
    cr_expect_eq (outcome, AUDIT_STORE_STORED);
    cr_expect_eq (s_sql_int (audit, "SELECT max (log_index) FROM event"), 2);
    audit_store_destroy (&store);
}

//  Another worker's long migration, played by a connection that holds
//  the write lock for longer than the usual lock wait
typedef struct {
    const char *path;
    int hold_ms;
    atomic_bool holding;
} s_holder_t;

static void *
s_hold_lock (void *arg)
{
    s_holder_t *holder = (s_holder_t *) arg;
    sqlite3 *conn = NULL;
    sqlite3_open (holder->path, &conn);
    if (sqlite3_exec (conn, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        holder->holding = true;
        zclock_sleep (holder->hold_ms);
        sqlite3_exec (conn, "ROLLBACK", NULL, NULL, NULL);
    }
    holder->holding = false;
    sqlite3_close (conn);
    return NULL;
}

Test (store, opening_waits_out_another_workers_migration, .timeout = 60)
{
    char path [512];
    s_old_file ("audit.db", s_audit_v1, path, sizeof path);
    s_holder_t holder = { path, AUDIT_STORE_BUSY_TIMEOUT_MS + 1000, false };
    pthread_t thread;
    pthread_create (&thread, NULL, s_hold_lock, &holder);
    while (!holder.holding)
        zclock_sleep (1);
    int64_t start = zclock_mono ();
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    int64_t took = zclock_mono () - start;
    pthread_join (thread, NULL);
    cr_assert_not_null (store, "gave up after %lld ms", (long long) took);
    cr_expect_geq (took, AUDIT_STORE_BUSY_TIMEOUT_MS, "it waited for the lock");
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT), "PRAGMA user_version"),
                  audit_schema_version (AUDIT_DB_AUDIT), "then migrated");
    audit_store_destroy (&store);
}

//  queue.db as version 1 wrote it: messages indexed by when they arrived
static const char *s_queue_v1 =
    "CREATE TABLE message (id INTEGER PRIMARY KEY, uuid BLOB UNIQUE NOT NULL,"
    "  org TEXT NOT NULL, device TEXT NOT NULL, ts INT NOT NULL,"
    "  received INT NOT NULL, payload BLOB NOT NULL);"
    "CREATE INDEX message_org_device_received ON message (org, device, received);"
    "CREATE INDEX message_received ON message (received);"
    "INSERT INTO message (uuid, org, device, ts, received, payload) VALUES"
    "  (randomblob (16), 'org-a', 'phone', 1795000000000, 1795000000001, x'01'),"
    "  (randomblob (16), 'org-a', 'phone', 1790000000000, 1795000000002, x'02');"
    "PRAGMA user_version = 1;";

Test (store, a_version_1_queue_is_migrated_with_its_messages)
{
    s_old_file ("queue.db", s_queue_v1, NULL, 0);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert_not_null (store);
    sqlite3 *queue = audit_store_db (store, AUDIT_DB_QUEUE);
    cr_expect_eq (s_sql_int (queue, "PRAGMA user_version"), audit_schema_version (AUDIT_DB_QUEUE));
    cr_expect_eq (s_sql_int (queue, "SELECT count(*) FROM message"), 2, "every message kept");
    cr_expect_eq (s_sql_int (queue, "SELECT count(*) FROM sqlite_master"
                                    " WHERE name = 'message_org_device_received'"), 0);
    cr_expect_eq (s_sql_int (queue, "SELECT hex (payload) FROM message WHERE org = 'org-a'"
                                    " AND device = 'phone' ORDER BY ts, id LIMIT 1"), 2,
                  "the message queued first comes first");
    audit_store_destroy (&store);
}

Test (store, maintainer_creates_a_new_dir_too)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert_not_null (store);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_OPS), "PRAGMA user_version"),
                  audit_schema_version (AUDIT_DB_OPS));
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    cr_expect_not_null (reader);
    audit_store_destroy (&reader);
    audit_store_destroy (&store);
}

Test (store, another_schema_version_is_refused)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    s_sql_run (audit_store_db (store, AUDIT_DB_QUEUE), "PRAGMA user_version = 99");
    audit_store_destroy (&store);
    cr_expect_null (audit_store_new (s_dir, AUDIT_STORE_WRITER));
    cr_expect_null (audit_store_new (s_dir, AUDIT_STORE_MAINTAINER));
    cr_expect_null (audit_store_new (s_dir, AUDIT_STORE_READER));
}

Test (store, reader_refuses_an_unmigrated_file)
{
    //  A file that exists but was never migrated (user_version 0)
    char path [512];
    snprintf (path, sizeof path, "%s/audit.db", s_dir);
    sqlite3 *conn = NULL;
    cr_assert_eq (sqlite3_open (path, &conn), SQLITE_OK);
    s_sql_run (conn, "PRAGMA journal_mode = WAL");
    sqlite3_close (conn);
    cr_expect_null (audit_store_new (s_dir, AUDIT_STORE_READER));
}

//  --------------------------------------------------------------------------
//  Writing

//  The text of identifier column of the event with uuid id, or "" when
//  NULL: the name of its ident id, or (inline) the column itself, which
//  must then be TEXT, never a number
static void
s_event_ident (sqlite3 *db, uint32_t id, const char *column, bool inline_text,
               char *text, size_t size)
{
    char sql [256];
    if (inline_text)
        snprintf (sql, sizeof sql, "SELECT CASE WHEN e.%s IS NULL THEN ''"
                  " WHEN typeof (e.%s) = 'text' THEN e.%s ELSE 'not text' END"
                  " FROM event e WHERE uuid = ?1", column, column, column);
    else
        snprintf (sql, sizeof sql, "SELECT coalesce ((SELECT name FROM ident WHERE id = e.%s), '')"
                  " FROM event e WHERE uuid = ?1", column);
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), SQLITE_OK);
    uint8_t uuid [AUDIT_UUID_SIZE];
    s_uuid (uuid, id);
    sqlite3_bind_blob (stmt, 1, uuid, sizeof uuid, SQLITE_STATIC);
    cr_assert_eq (sqlite3_step (stmt), SQLITE_ROW, "event %u", id);
    snprintf (text, size, "%s", (const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
}

static void
s_expect_event (sqlite3 *db, const audit_event_t *event, uint32_t id)
{
    char sql [256], text [200];
    snprintf (sql, sizeof sql, "SELECT o.name FROM event e JOIN org o ON o.id = e.org"
              " WHERE e.ts = %lld", (long long) event->timestamp_ms);
    s_sql_text (db, sql, text, sizeof text);
    cr_expect_str_eq (text, event->org_id);
    s_event_ident (db, id, "actor", true, text, sizeof text);
    cr_expect_str_eq (text, event->actor_id);
    snprintf (sql, sizeof sql, "SELECT type FROM event WHERE ts = %lld",
              (long long) event->timestamp_ms);
    cr_expect_eq (s_sql_int (db, sql), event->type);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const char *column = audit_proto_field_info ((audit_field_t) field)->column;
        bool present = event->present & AUDIT_FIELD_BIT (field);
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_IDENT) {
            s_event_ident (db, id, column, audit_proto_field_info ((audit_field_t) field)->stored == AUDIT_STORED_TEXT,
                           text, sizeof text);
            cr_expect_str_eq (text, present? event->text [field]: "", "%s", column);
            continue;
        }
        snprintf (sql, sizeof sql, "SELECT coalesce (%s, -1) FROM event WHERE ts = %lld",
                  column, (long long) event->timestamp_ms);
        cr_expect_eq (s_sql_int (db, sql), present? (int64_t) event->number [field]: -1,
                      "%s", column);
    }
}

Test (store, every_topic_is_written_with_its_columns)
{
    size_t count = AUDIT_EVENT_COUNT + 2;
    audit_record_t *records = s_records_new (count);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        s_event (&records [type], (audit_event_type_t) type, "org-a", "actor-a",
                 (uint32_t) type + 1);
    s_ops (&records [AUDIT_EVENT_COUNT]);
    s_mq (&records [AUDIT_EVENT_COUNT + 1], 1);
    audit_store_outcome_t outcomes [AUDIT_EVENT_COUNT + 2];
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, records, count, outcomes, NULL), 0);
    for (size_t index = 0; index < count; index++)
        cr_expect_eq (outcomes [index], AUDIT_STORE_STORED);

    sqlite3 *audit = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event"), AUDIT_EVENT_COUNT);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM org"), 1);
    cr_expect_eq (s_sql_int (audit, "SELECT min (received) FROM event"), s_NOW + 5);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event WHERE length (uuid) = 16"),
                  AUDIT_EVENT_COUNT);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        s_expect_event (audit, &records [type].u.event, (uint32_t) type + 1);

    sqlite3 *ops = audit_store_db (store, AUDIT_DB_OPS);
    char text [64];
    s_sql_text (ops, "SELECT client_ip || ' ' || method || ' ' || path || ' ' || status"
                " || ' ' || (ts = 1790000000000) || (received = 1790000000001) FROM ops",
                text, sizeof text);
    cr_expect_str_eq (text, "192.0.2.7 GET /v1/things 204 11");

    sqlite3 *queue = audit_store_db (store, AUDIT_DB_QUEUE);
    s_sql_text (queue, "SELECT org || ' ' || device || ' ' || hex (payload) || ' '"
                " || length (uuid) || ' ' || (received = 1790000000002) FROM message",
                text, sizeof text);
    cr_expect_str_eq (text, "org-mq device-mq 0001FEFF42 16 1");
    audit_store_destroy (&store);
    free (records);
}

//  A batch given one record at a time, each in the same scratch slot, as
//  the ingest batch unpacks them: the next call must not need the last one
typedef struct {
    const audit_record_t *records;
    audit_record_t scratch;
    size_t calls;
} s_source_t;

static const audit_record_t *
s_source_next (void *arg, size_t index)
{
    s_source_t *source = (s_source_t *) arg;
    cr_assert_eq (index, source->calls, "records are asked for in order");
    source->calls++;
    memset (&source->scratch, 0x5A, sizeof source->scratch);
    source->scratch = source->records [index];
    return &source->scratch;
}

Test (store, write_each_takes_records_one_by_one)
{
    size_t count = AUDIT_EVENT_COUNT + 3;
    audit_record_t *records = s_records_new (count);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        s_event (&records [type], (audit_event_type_t) type, "org-a", "actor-a",
                 (uint32_t) type + 1);
    s_ops (&records [AUDIT_EVENT_COUNT]);
    s_mq (&records [AUDIT_EVENT_COUNT + 1], 1);
    records [AUDIT_EVENT_COUNT + 2] = records [0];       //  a retransmission
    unsigned kinds = 1u << AUDIT_TOPIC_KIND_AUDIT | 1u << AUDIT_TOPIC_KIND_OPS
                   | 1u << AUDIT_TOPIC_KIND_MQ;
    s_source_t source = { .records = records };
    audit_store_outcome_t outcomes [AUDIT_EVENT_COUNT + 3];
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_add (counters, "ingest.received", (int64_t) count);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write_each (store, s_source_next, &source, count, kinds,
                                          outcomes, counters, NULL, 0, NULL), 0);
    cr_expect_eq (source.calls, count, "each record once");
    for (size_t index = 0; index < count - 1; index++)
        cr_expect_eq (outcomes [index], AUDIT_STORE_STORED);
    cr_expect_eq (outcomes [count - 1], AUDIT_STORE_DUPLICATE);
    cr_expect_eq (audit_counters_size (counters), 0, "the counters went in");
    cr_expect_eq (test_store_counter (store, "ingest.received"), (int64_t) count);

    sqlite3 *audit = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event"), AUDIT_EVENT_COUNT);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        s_expect_event (audit, &records [type].u.event, (uint32_t) type + 1);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_OPS),
                             "SELECT count(*) FROM ops"), 1);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_QUEUE),
                             "SELECT count(*) FROM message"), 1);
    audit_counters_destroy (&counters);
    audit_store_destroy (&store);
    free (records);
}

//  A failing record rolls back every store write_each opened
Test (store, write_each_rolls_back_on_a_failing_record)
{
    audit_record_t *records = s_records_new (2);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-1", 1);
    s_mq (&records [1], 3);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    sqlite3 *queue = audit_store_db (store, AUDIT_DB_QUEUE);
    cr_assert_eq (s_sql_run (queue, "CREATE TRIGGER refuse BEFORE INSERT ON message"
                             " BEGIN SELECT RAISE (ABORT, 'refused'); END"), SQLITE_DONE);
    s_source_t source = { .records = records };
    audit_store_outcome_t outcomes [2];
    unsigned kinds = 1u << AUDIT_TOPIC_KIND_AUDIT | 1u << AUDIT_TOPIC_KIND_MQ;
    cr_expect_eq (audit_store_write_each (store, s_source_next, &source, 2, kinds,
                                          outcomes, NULL, NULL, 0, NULL), -1);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM event"), 0);
    audit_store_destroy (&store);
    free (records);
}

//  A commit hook that refuses once: audit.db's commit fails after ops.db's
//  and queue.db's went in, as a full disk can make it
static int
s_refuse_commit (void *arg)
{
    int *refusals = (int *) arg;
    return (*refusals)-- > 0;
}

//  Issue 12: a batch that spans stores, retried after a half commit, is
//  stored once: only the stores that did not commit run again
Test (store, write_each_retries_only_the_stores_that_did_not_commit)
{
    audit_record_t *records = s_records_new (3);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-1", 1);
    s_ops (&records [1]);
    s_mq (&records [2], 3);
    unsigned kinds = 1u << AUDIT_TOPIC_KIND_AUDIT | 1u << AUDIT_TOPIC_KIND_OPS
                   | 1u << AUDIT_TOPIC_KIND_MQ;
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_add (counters, "ingest.received", 3);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    int refusals = 1;
    sqlite3_commit_hook (audit_store_db (store, AUDIT_DB_AUDIT), s_refuse_commit, &refusals);
    s_source_t source = { .records = records };
    audit_store_outcome_t outcomes [3];
    unsigned committed = 0;
    cr_assert_eq (audit_store_write_each (store, s_source_next, &source, 3, kinds, outcomes,
                                          counters, NULL, 0, &committed), -1);
    cr_expect_eq (committed, 1u << AUDIT_DB_OPS | 1u << AUDIT_DB_QUEUE);
    source.calls = 0;
    cr_assert_eq (audit_store_write_each (store, s_source_next, &source, 3, kinds, outcomes,
                                          counters, NULL, 0, &committed), 0);
    cr_expect_eq (committed, 1u << AUDIT_DB_OPS | 1u << AUDIT_DB_QUEUE | 1u << AUDIT_DB_AUDIT);
    for (int index = 0; index < 3; index++)
        cr_expect_eq (outcomes [index], AUDIT_STORE_STORED, "record %d", index);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_OPS), "SELECT count(*) FROM ops"), 1);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_QUEUE),
                             "SELECT count(*) FROM message"), 1);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM event"), 1);
    cr_expect_eq (test_store_counter (store, "ingest.stored"), 3, "each counted once");
    cr_expect_eq (test_store_counter (store, "ingest.duplicate"), 0);
    cr_expect_eq (test_store_counter (store, "ingest.received"), 3);
    bool full = true;
    cr_expect_eq (audit_store_recover (store, &full), 0, "the WALs emptied");
    audit_counters_destroy (&counters);
    audit_store_destroy (&store);
    free (records);
}

//  An identifier stored as text stays the same text, even when it looks
//  like a number
Test (store, inline_identifiers_keep_their_text)
{
    audit_record_t record;
    s_event (&record, AUDIT_EVENT_BROADCAST_SENT, "org-a", "actor-a", 1);
    snprintf (record.u.event.text [AUDIT_FIELD_BROADCAST_ID],
              sizeof record.u.event.text [0], "007");
    audit_store_outcome_t outcome;
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, &record, 1, &outcome, NULL), 0);
    char text [64];
    s_sql_text (audit_store_db (store, AUDIT_DB_AUDIT), "SELECT broadcast || ' '"
                " || typeof (broadcast) FROM event", text, sizeof text);
    cr_expect_str_eq (text, "007 text");
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM ident WHERE name = '007'"), 0,
                  "not interned");
    audit_store_destroy (&store);
}

Test (store, duplicates_are_stored_once)
{
    audit_record_t *records = s_records_new (5);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 1);
    s_event (&records [1], AUDIT_EVENT_USER_LOGOUT, "org-a", "actor-b", 1);
    s_mq (&records [2], 7);
    s_mq (&records [3], 7);
    s_event (&records [4], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 2);
    audit_store_outcome_t outcomes [5];
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, records, 5, outcomes, NULL), 0);
    cr_expect_eq (outcomes [0], AUDIT_STORE_STORED);
    cr_expect_eq (outcomes [1], AUDIT_STORE_DUPLICATE, "same event_id and timestamp in the batch");
    cr_expect_eq (outcomes [2], AUDIT_STORE_STORED);
    cr_expect_eq (outcomes [3], AUDIT_STORE_DUPLICATE, "same message_id in the batch");
    cr_expect_eq (outcomes [4], AUDIT_STORE_STORED);

    cr_assert_eq (audit_store_write (store, records, 4, outcomes, NULL), 0);
    cr_expect_eq (outcomes [0], AUDIT_STORE_DUPLICATE, "across batches");
    cr_expect_eq (outcomes [2], AUDIT_STORE_DUPLICATE, "across batches");
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM event"), 2);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_QUEUE),
                             "SELECT count(*) FROM message"), 1);
    char text [32];
    s_event_ident (audit_store_db (store, AUDIT_DB_AUDIT), 1, "actor", true, text, sizeof text);
    cr_expect_str_eq (text, "actor-a", "the first one was kept");
    audit_store_destroy (&store);
    free (records);
}

//  --------------------------------------------------------------------------
//  Counters


//  Revision 2: a duplicate is the same event_id with the same timestamp.
//  The same id at another time is another event, and so is the same id
//  and time in another organisation, which cannot suppress this one.
Test (store, a_duplicate_is_the_same_id_at_the_same_time)
{
    audit_record_t *records = s_records_new (4);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 1);
    records [1] = records [0];
    records [1].u.event.timestamp_ms += 1;
    records [2] = records [0];
    snprintf (records [2].u.event.org_id, sizeof records [2].u.event.org_id, "org-b");
    records [3] = records [0];
    audit_store_outcome_t outcomes [4];
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, records, 4, outcomes, NULL), 0);
    cr_expect_eq (outcomes [0], AUDIT_STORE_STORED);
    cr_expect_eq (outcomes [1], AUDIT_STORE_STORED, "same id, another timestamp");
    cr_expect_eq (outcomes [2], AUDIT_STORE_STORED, "same id and time, another organisation");
    cr_expect_eq (outcomes [3], AUDIT_STORE_DUPLICATE, "same id and time: a retransmission");
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM event"), 3);
    audit_store_destroy (&store);
    free (records);
}

//  The writer looks for a duplicate in the store only when the event is not
//  later than every event its organisation held, or matches one found fresh
//  in the transaction (audit_orglog_fresh): a replay of an
//  older event, and an event another writer stored meanwhile, are still
//  found, and an older event never seen is still stored. (A duplicate of
//  the newest, in the same batch: duplicates_are_stored_once.)
Test (store, a_duplicate_older_than_the_newest_is_found)
{
    audit_record_t *records = s_records_new (3);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 1);
    s_event (&records [1], AUDIT_EVENT_USER_LOGOUT, "org-a", "actor-a", 2);
    records [1].u.event.timestamp_ms = records [0].u.event.timestamp_ms + 60000;
    s_event (&records [2], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 3);
    records [2].u.event.timestamp_ms = records [0].u.event.timestamp_ms - 60000;
    audit_store_outcome_t outcomes [3];
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_store_t *other = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, &records [0], 1, outcomes, NULL), 0);
    cr_assert_eq (audit_store_write (other, &records [1], 1, outcomes, NULL), 0);
    cr_assert_eq (audit_store_write (store, records, 3, outcomes, NULL), 0);
    cr_expect_eq (outcomes [0], AUDIT_STORE_DUPLICATE, "older than the newest, held");
    cr_expect_eq (outcomes [1], AUDIT_STORE_DUPLICATE, "stored by the other writer");
    cr_expect_eq (outcomes [2], AUDIT_STORE_STORED, "older than the newest, not held");
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM event"), 3);
    audit_store_destroy (&other);
    audit_store_destroy (&store);
    free (records);
}

//  Every event of a batch later than all its organisation held is "fresh"
//  (audit_orglog_fresh) and looked for only among the batch's own: a batch
//  that carries each of 1,500 such events twice (many sharing a
//  millisecond, more than the set's first size) stores each once, and
//  the same batch again stores none, now looked for in the store
Test (store, a_batch_that_repeats_itself_stores_each_event_once)
{
    enum { EVENTS = 1500 };
    audit_record_t *records = s_records_new (2 * EVENTS);
    audit_store_outcome_t *outcomes = calloc (2 * EVENTS, sizeof *outcomes);
    cr_assert_not_null (outcomes);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 9999);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, records, 1, outcomes, NULL), 0);
    int64_t held = records [0].u.event.timestamp_ms;
    for (uint32_t index = 0; index < EVENTS; index++) {
        s_event (&records [index], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", index + 1);
        records [index].u.event.timestamp_ms = held + 1 + index / 3;
        records [EVENTS + index] = records [index];
    }
    cr_assert_eq (audit_store_write (store, records, 2 * EVENTS, outcomes, NULL), 0);
    int stored = 0, duplicate = 0;
    for (int index = 0; index < 2 * EVENTS; index++) {
        stored += outcomes [index] == AUDIT_STORE_STORED && index < EVENTS;
        duplicate += outcomes [index] == AUDIT_STORE_DUPLICATE && index >= EVENTS;
    }
    cr_expect_eq (stored, EVENTS, "each first copy is stored");
    cr_expect_eq (duplicate, EVENTS, "each second copy is a duplicate");
    cr_assert_eq (audit_store_write (store, records, EVENTS, outcomes, NULL), 0);
    for (int index = 0; index < EVENTS; index++)
        cr_expect_eq (outcomes [index], AUDIT_STORE_DUPLICATE, "event %d again", index);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_AUDIT),
                             "SELECT count(*) FROM event"), EVENTS + 1);
    audit_store_destroy (&store);
    free (outcomes);
    free (records);
}

//  The log_index of each organisation's events, in log order, is 0..n-1
static void
s_expect_contiguous (sqlite3 *db, const char *org, int64_t count)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT count(*) FROM event e JOIN org o ON o.id = e.org"
              " WHERE o.name = '%s'", org);
    cr_expect_eq (s_sql_int (db, sql), count, "%s has its events", org);
    snprintf (sql, sizeof sql, "SELECT coalesce (max (log_index), -1) - count(*) + 1"
              " + coalesce (min (log_index), 0) FROM event e JOIN org o ON o.id = e.org"
              " WHERE o.name = '%s'", org);
    cr_expect_eq (s_sql_int (db, sql), 0, "%s: from 0, no hole", org);
    snprintf (sql, sizeof sql, "SELECT next_index FROM org WHERE name = '%s'", org);
    cr_expect_eq (s_sql_int (db, sql), count, "%s: the next index follows", org);
}

//  Two writers of audit.db (ingest, and the query worker's audit_access
//  events) take turns; every organisation's log stays 0, 1, 2, ... with
//  no index used twice, duplicates and failed batches taking none
Test (store, log_index_is_contiguous_per_org_across_writers)
{
    audit_store_t *writer = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_store_t *other = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert (writer && other);
    audit_record_t *records = s_records_new (30);
    audit_store_outcome_t outcomes [30];
    uint32_t id = 1;
    for (int round = 0; round < 10; round++) {
        for (int index = 0; index < 30; index++)
            s_event (&records [index], AUDIT_EVENT_USER_LOGIN,
                     index % 3 == 0? "org-a": index % 3 == 1? "org-b": "org-c",
                     "actor-a", id++);
        records [29] = records [0];     //  a duplicate takes no index
        audit_store_t *store = round % 2? other: writer;
        cr_assert_eq (audit_store_write (store, records, 30, outcomes, NULL), 0);
        cr_expect_eq (outcomes [29], AUDIT_STORE_DUPLICATE);
    }
    sqlite3 *db = audit_store_db (writer, AUDIT_DB_AUDIT);
    s_expect_contiguous (db, "org-a", 100);
    s_expect_contiguous (db, "org-b", 100);
    s_expect_contiguous (db, "org-c", 90);
    //  Log order is commit order: a later batch has higher indexes even
    //  when its timestamps are older
    cr_expect_eq (s_sql_int (db, "SELECT count(*) FROM event a JOIN event b"
                                 " ON a.org = b.org AND a.log_index < b.log_index"
                                 " AND a.received > b.received"), 0);
    audit_store_destroy (&other);
    audit_store_destroy (&writer);
    free (records);
}

Test (store, counters_are_summed_across_flushes_and_instances)
{
    audit_record_t *record = s_records_new (1);
    s_event (record, AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 1);
    audit_store_outcome_t outcome;
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_add (counters, "ingest.received", 3);
    audit_counters_add (counters, "ingest.rejected.bad_field", 1);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, record, 1, &outcome, counters), 0);
    cr_expect_eq (audit_counters_size (counters), 0, "cleared once written");
    audit_counters_add (counters, "ingest.received", 2);
    cr_assert_eq (audit_store_counters_flush (store, counters), 0);
    cr_expect_eq (test_store_counter (store, "ingest.received"), 5);

    //  A second process (the janitor) adds its own deltas alongside
    audit_store_t *other = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    audit_counters_add (counters, "ingest.received", 4);
    audit_counters_add (counters, "janitor.deleted.ops", 6);
    cr_assert_eq (audit_store_counters_flush (other, counters), 0);
    audit_store_destroy (&other);
    audit_store_destroy (&store);

    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    cr_expect_eq (test_store_counter (reader, "ingest.received"), 9);
    cr_expect_eq (test_store_counter (reader, "ingest.rejected.bad_field"), 1);
    cr_expect_eq (test_store_counter (reader, "janitor.deleted.ops"), 6);
    audit_store_destroy (&reader);
    audit_counters_destroy (&counters);
    free (record);
}

Test (store, persistent_counters_hold_at_their_maximum)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_add (counters, "ingest.gaps.p", INT64_MAX - 1);
    cr_assert_eq (audit_store_counters_flush (store, counters), 0);
    audit_counters_add (counters, "ingest.gaps.p", 5);
    cr_assert_eq (audit_store_counters_flush (store, counters), 0);
    cr_expect_eq (test_store_counter (store, "ingest.gaps.p"), INT64_MAX);
    //  Still an integer: SQLite turns an overflowing sum into a REAL
    sqlite3 *audit = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_expect_eq (s_sql_int (audit, "SELECT typeof (value) = 'integer' FROM counter"
                                    " WHERE name = 'ingest.gaps.p'"), 1);
    audit_counters_add (counters, "ingest.gaps.p", 1);
    cr_assert_eq (audit_store_counters_flush (store, counters), 0);
    cr_expect_eq (test_store_counter (store, "ingest.gaps.p"), INT64_MAX);
    audit_counters_destroy (&counters);
    audit_store_destroy (&store);
}

Test (store, persistent_counter_names_are_capped)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_counters_t *counters = audit_counters_new ();
    char name [64];
    //  Flush by flush, a hostile producer spreads new key names; beyond
    //  the family's cap they fold into its "(other)" row
    for (int flush = 0; flush < 20; flush++) {
        for (int index = 0; index < 1000; index++) {
            snprintf (name, sizeof name, "ingest.dropped_keys.k%d-%d", flush, index);
            audit_counters_add (counters, name, 1);
        }
        cr_assert_eq (audit_store_counters_flush (store, counters), 0);
    }
    sqlite3 *conn = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_expect_leq (s_sql_int (conn, "SELECT count(*) FROM counter"), 8192 + 1);
    cr_expect_eq (s_sql_int (conn, "SELECT sum (value) FROM counter"), 20000);
    cr_expect_gt (test_store_counter (store, "ingest.dropped_keys.(other)"), 0);
    //  The full family takes the room of no other counter: a fixed one
    //  never written before, a new producer's gaps
    audit_counters_add (counters, "janitor.deleted.queue", 4);
    audit_counters_add (counters, "ingest.gaps.newcomer", 8);
    cr_assert_eq (audit_store_counters_flush (store, counters), 0);
    cr_expect_eq (test_store_counter (store, "janitor.deleted.queue"), 4);
    cr_expect_eq (test_store_counter (store, "ingest.gaps.newcomer"), 8);
    //  A second process sees the family full too
    audit_store_t *other = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    audit_counters_add (counters, "ingest.dropped_keys.late", 1);
    cr_assert_eq (audit_store_counters_flush (other, counters), 0);
    cr_expect_eq (test_store_counter (other, "ingest.dropped_keys.late"), 0);
    audit_store_destroy (&other);
    audit_counters_destroy (&counters);
    audit_store_destroy (&store);
}

//  --------------------------------------------------------------------------
//  Failure

Test (store, a_failing_store_rolls_back_every_store)
{
    audit_record_t *records = s_records_new (3);
    audit_store_outcome_t outcomes [3];
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-1", 1);
    cr_assert_eq (audit_store_write (store, records, 1, outcomes, NULL), 0);
    sqlite3 *audit = audit_store_db (store, AUDIT_DB_AUDIT);
    int64_t idents = s_sql_int (audit, "SELECT count(*) FROM ident");

    //  queue.db now refuses every message
    sqlite3 *queue = audit_store_db (store, AUDIT_DB_QUEUE);
    cr_assert_eq (s_sql_run (queue, "CREATE TRIGGER refuse BEFORE INSERT ON message"
                             " BEGIN SELECT RAISE (ABORT, 'refused'); END"), SQLITE_DONE);
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-new", "actor-2", 2);
    s_ops (&records [1]);
    s_mq (&records [2], 3);
    audit_counters_t *counters = audit_counters_new ();
    audit_counters_add (counters, "ingest.received", 3);
    cr_expect_eq (audit_store_write (store, records, 3, outcomes, counters), -1);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event"), 1);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM ident"), idents);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM org"), 1);
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM counter"), 0);
    cr_expect_eq (s_sql_int (audit_store_db (store, AUDIT_DB_OPS),
                             "SELECT count(*) FROM ops"), 0);
    cr_expect_eq (audit_counters_get (counters, "ingest.received"), 3, "kept for a retry");

    //  The ids handed out in the rolled-back transaction are reused; the
    //  store must not resolve names to them from its cache
    cr_assert_eq (s_sql_run (queue, "DROP TRIGGER refuse"), SQLITE_DONE);
    s_event (&records [1], AUDIT_EVENT_USER_LOGIN, "org-other", "actor-3", 4);
    audit_record_t retry = records [0];
    records [0] = records [1];
    records [1] = retry;
    cr_assert_eq (audit_store_write (store, records, 3, outcomes, counters), 0);
    char text [32];
    s_event_ident (audit, 4, "actor", true, text, sizeof text);
    cr_expect_str_eq (text, "actor-3");
    s_event_ident (audit, 2, "actor", true, text, sizeof text);
    cr_expect_str_eq (text, "actor-2");
    cr_expect_eq (s_sql_int (audit, "SELECT count(*) FROM event e JOIN org o ON o.id = e.org"
                             " WHERE o.name = 'org-new'"), 1);
    cr_expect_eq (test_store_counter (store, "ingest.received"), 3);
    audit_counters_destroy (&counters);
    audit_store_destroy (&store);
    free (records);
}

//  --------------------------------------------------------------------------
//  Query plans: every list filter reads an index in order, with no sort

static void
s_expect_plan (sqlite3 *db, const char *sql, const char *index)
{
    char explain [1024];
    snprintf (explain, sizeof explain, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *stmt = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, explain, -1, &stmt, NULL), SQLITE_OK,
                  "%s: %s", sql, sqlite3_errmsg (db));
    char plan [2048] = "";
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        strncat (plan, (const char *) sqlite3_column_text (stmt, 3),
                 sizeof plan - strlen (plan) - 2);
        strcat (plan, ";");
    }
    sqlite3_finalize (stmt);
    cr_expect (strstr (plan, index) != NULL, "%s\n uses %s, not %s", sql, plan, index);
    cr_expect (strstr (plan, "TEMP B-TREE") == NULL, "%s\n sorts: %s", sql, plan);
}

#define s_COLUMNS "SELECT log_index, ts, received, type, actor, user, device, grp, role," \
                  " broadcast, file_ref, recipient_count, file_size, uuid FROM event"
//  An organisation's events are the table's own order (its primary key)
#define s_BY_ORG_TS "PRIMARY KEY (org=? AND "

Test (store, list_queries_use_an_index_in_order)
{
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_store_destroy (&store);
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    sqlite3 *db = audit_store_db (reader, AUDIT_DB_AUDIT);
    s_expect_plan (db, s_COLUMNS " WHERE org = ?1 AND ts < ?2"
                   " ORDER BY ts DESC, log_index DESC LIMIT 100", s_BY_ORG_TS);
    s_expect_plan (db, s_COLUMNS " WHERE org = ?1 AND ts >= ?2 AND ts < ?3"
                   " ORDER BY ts ASC, log_index ASC LIMIT 100", s_BY_ORG_TS);
    //  The keyset cursor form
    s_expect_plan (db, s_COLUMNS " WHERE org = ?1 AND (ts, log_index) < (?2, ?3)"
                   " ORDER BY ts DESC, log_index DESC LIMIT 100", s_BY_ORG_TS);
    s_expect_plan (db, s_COLUMNS " WHERE org = ?1 AND (ts, log_index) > (?2, ?3)"
                   " ORDER BY ts, log_index LIMIT 100", s_BY_ORG_TS);
    //  Every filter is tested on the entries of the same index
    const char *filters [] = {
        "actor = ?2", "user = ?2", "type = ?2", "type IN (?2, ?4, ?5)",
        "device = ?2", "grp = ?2", "(actor = ?2 OR user = ?2)",
        "user = ?2 AND type IN (?4, ?5)"
    };
    for (size_t index = 0; index < sizeof filters / sizeof *filters; index++) {
        char sql [512];
        snprintf (sql, sizeof sql, s_COLUMNS " WHERE org = ?1 AND %s AND ts < ?6"
                  " AND (ts, log_index) < (?6, ?7)"
                  " ORDER BY ts DESC, log_index DESC LIMIT 100", filters [index]);
        s_expect_plan (db, sql, "USING PRIMARY KEY (org=? AND ts<?)");
        snprintf (sql, sizeof sql, s_COLUMNS " WHERE org = ?1 AND %s AND ts >= ?6"
                  " AND ts < ?7 ORDER BY ts, log_index LIMIT 100", filters [index]);
        s_expect_plan (db, sql, "USING PRIMARY KEY (org=? AND ts>? AND ts<?)");
    }
    audit_store_destroy (&reader);
}

//  Keyset pages on (ts, log_index), with many events at the same ms, return every
//  event of the org once, in order
Test (store, keyset_pages_see_every_event_once)
{
    size_t count = 1000;
    audit_record_t *records = s_records_new (count);
    for (uint32_t index = 0; index < count; index++) {
        s_event (&records [index], AUDIT_EVENT_USER_LOGIN,
                 index % 3? "org-a": "org-b", "actor-a", index + 1);
        records [index].u.event.timestamp_ms = s_NOW - (index % 7);
    }
    audit_store_outcome_t *outcomes = calloc (count, sizeof *outcomes);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, records, count, outcomes, NULL), 0);
    sqlite3 *db = audit_store_db (store, AUDIT_DB_AUDIT);
    sqlite3_stmt *page = NULL;
    cr_assert_eq (sqlite3_prepare_v2 (db, "SELECT ts, log_index FROM event WHERE org ="
        " (SELECT id FROM org WHERE name = 'org-a') AND (ts, log_index) < (?1, ?2)"
        " ORDER BY ts DESC, log_index DESC LIMIT 100", -1, &page, NULL), SQLITE_OK);
    int64_t last_ts = INT64_MAX, last_id = INT64_MAX, seen = 0;
    for (bool more = true; more; ) {
        sqlite3_bind_int64 (page, 1, last_ts);
        sqlite3_bind_int64 (page, 2, last_id);
        more = false;
        while (sqlite3_step (page) == SQLITE_ROW) {
            int64_t ts = sqlite3_column_int64 (page, 0), id = sqlite3_column_int64 (page, 1);
            cr_assert (ts < last_ts || (ts == last_ts && id < last_id), "in order");
            last_ts = ts;
            last_id = id;
            seen++;
            more = true;
        }
        sqlite3_reset (page);
    }
    sqlite3_finalize (page);
    cr_expect_eq (seen, 666);
    audit_store_destroy (&store);
    free (outcomes);
    free (records);
}

Test (store, janitor_and_other_stores_use_their_indexes)
{
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    sqlite3 *db = audit_store_db (reader, AUDIT_DB_AUDIT);
    //  The duplicate check of the writer; the tree's reads of a tile's
    //  events and of the tiles' ranges of ts
    s_expect_plan (db, "SELECT 1 FROM event WHERE org = ?1 AND ts = ?2 AND uuid = ?3",
                   "PRIMARY KEY (org=? AND ts=?)");
    s_expect_plan (db, audit_tree_sql [AUDIT_TREE_Q_LEAVES], "PRIMARY KEY (org=? AND ts>? AND ts<?)");
    s_expect_plan (db, audit_tree_sql [AUDIT_TREE_Q_SPAN],
                   "PRIMARY KEY (org=? AND level=? AND idx>? AND idx<?)");
    s_expect_plan (db, audit_tree_sql [AUDIT_TREE_Q_RANGE],
                   "PRIMARY KEY (org=? AND level=? AND idx=?)");
    //  The janitor's purge (audit_store_purge.c): a probe along the
    //  primary key, then one range of it; the sweep's keyset scan
    s_expect_plan (db, "SELECT ts, log_index FROM event WHERE org = ?1 AND ts < ?2"
                   " ORDER BY ts, log_index LIMIT 2 OFFSET ?3", "PRIMARY KEY (org=? AND ts<?)");
    s_expect_plan (db, "DELETE FROM event WHERE org = ?1 AND (ts, log_index) <= (?2, ?3)",
                   "PRIMARY KEY (org=? AND (ts,log_index)<(?,?))");
    s_expect_plan (db, "SELECT org, ts, log_index, actor, user, device, grp, role FROM event"
                   " WHERE (org, ts, log_index) > (?1, ?2, ?3) ORDER BY org, ts, log_index"
                   " LIMIT ?4", "PRIMARY KEY ((org,ts,log_index)>(?,?,?))");
    s_expect_plan (db, "SELECT e.actor, e.user, e.device, e.grp, e.role FROM event e"
                   " WHERE e.org = ?1 AND e.ts >= ?3 AND e.ts <= ?4 AND e.log_index >= ?2",
                   "PRIMARY KEY (org=? AND ts>? AND ts<?)");
    s_expect_plan (audit_store_db (reader, AUDIT_DB_OPS),
                   "SELECT id FROM ops WHERE ts < ?1 ORDER BY ts DESC, id DESC LIMIT 100",
                   "ops_ts");
    s_expect_plan (audit_store_db (reader, AUDIT_DB_QUEUE),
                   "SELECT id FROM message WHERE org = ?1 AND device = ?2"
                   " ORDER BY ts, id LIMIT 100", "message_org_device_ts");
    audit_store_destroy (&reader);
}

//  --------------------------------------------------------------------------
//  Privacy: only what the struct says is present reaches a file

Test (store, absent_fields_and_producer_never_reach_a_file)
{
    audit_record_t *record = s_records_new (1);
    s_event (record, AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", 1);
    audit_event_t *event = &record->u.event;
    const char *canary = "CANARY-7f3a9c";
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (!(event->present & AUDIT_FIELD_BIT (field)))
            snprintf (event->text [field], sizeof event->text [field], "%s", canary);
    snprintf (event->producer_id, sizeof event->producer_id, "%s", canary);
    audit_store_outcome_t outcome;
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, record, 1, &outcome, NULL), 0);
    cr_expect (test_dir_contains (s_dir, "actor-a", 7), "the sanity check finds what is stored");
    cr_expect_not (test_dir_contains (s_dir, canary, strlen (canary)), "in the WAL");
    audit_store_destroy (&store);
    cr_expect_not (test_dir_contains (s_dir, canary, strlen (canary)), "after checkpoint");
    free (record);
}

Test (store, checkpoint_truncates_the_wal)
{
    audit_record_t *records = s_records_new (500);
    for (uint32_t index = 0; index < 500; index++)
        s_event (&records [index], AUDIT_EVENT_DEVICE_REGISTERED, "org-a", "actor-a", index + 1);
    audit_store_outcome_t outcomes [500];
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    cr_assert_eq (audit_store_write (store, records, 500, outcomes, NULL), 0);
    char path [512];
    snprintf (path, sizeof path, "%s/audit.db-wal", s_dir);
    struct stat info;
    cr_assert_eq (stat (path, &info), 0);
    cr_expect_gt (info.st_size, 0);
    cr_expect_eq (audit_store_checkpoint (store, AUDIT_DB_AUDIT), 0);
    cr_assert_eq (stat (path, &info), 0);
    cr_expect_eq (info.st_size, 0);
    audit_store_destroy (&store);
    free (records);
}

//  A reader that holds a snapshot keeps the WAL from being reset; once it
//  lets go, the next commit's checkpoint (a RESTART, past the store's hard
//  limit of 40 MiB) resets it without emptying the file, whose blocks the
//  next batches reuse, and the commit after the reset cuts the file back to
//  the journal limit (48 MiB)
Test (store, wal_is_bounded_once_readers_let_go)
{
    size_t count = 2048;
    audit_record_t *records = s_records_new (count);
    audit_store_outcome_t *outcomes = calloc (count, sizeof *outcomes);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_store_t *reader = audit_store_new (s_dir, AUDIT_STORE_READER);
    sqlite3 *snapshot = audit_store_db (reader, AUDIT_DB_AUDIT);
    cr_assert_eq (s_sql_run (snapshot, "BEGIN"), SQLITE_DONE);
    s_sql_int (snapshot, "SELECT count(*) FROM event");
    char path [512];
    snprintf (path, sizeof path, "%s/audit.db-wal", s_dir);
    struct stat info = { 0 };
    uint32_t id = 0;
    //  Long one-off identifiers make each batch a few MiB of WAL
    for (int batch = 0; info.st_size < 56 * 1024 * 1024 && batch < 100; batch++) {
        for (size_t index = 0; index < count; index++) {
            s_event (&records [index], AUDIT_EVENT_FILE_TRANSFERRED, "org-a", "actor-a", ++id);
            audit_event_t *event = &records [index].u.event;
            snprintf (event->text [AUDIT_FIELD_FILE_REF], sizeof event->text [0],
                      "%0120u", id);
        }
        cr_assert_eq (audit_store_write (store, records, count, outcomes, NULL), 0);
        cr_assert_eq (stat (path, &info), 0);
    }
    cr_expect_geq (info.st_size, 56 * 1024 * 1024, "the reader kept the WAL growing");
    cr_assert_eq (s_sql_run (snapshot, "COMMIT"), SQLITE_DONE);
    //  This commit's checkpoint copies every frame and resets the WAL
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", ++id);
    cr_assert_eq (audit_store_write (store, records, 1, outcomes, NULL), 0);
    cr_assert_eq (stat (path, &info), 0);
    cr_expect_geq (info.st_size, 56 * 1024 * 1024, "reset, not emptied: %lld",
                   (long long) info.st_size);
    //  and the next write starts over at its beginning, then cuts the file
    s_event (&records [0], AUDIT_EVENT_USER_LOGIN, "org-a", "actor-a", ++id);
    cr_assert_eq (audit_store_write (store, records, 1, outcomes, NULL), 0);
    cr_assert_eq (stat (path, &info), 0);
    cr_expect_leq (info.st_size, 48 * 1024 * 1024, "cut back: %lld", (long long) info.st_size);
    //  A connection of the test's own, as the reader's cannot checkpoint
    char db_path [512];
    snprintf (db_path, sizeof db_path, "%s/audit.db", s_dir);
    sqlite3 *probe = NULL;
    cr_assert_eq (sqlite3_open (db_path, &probe), SQLITE_OK);
    cr_expect_eq (s_sql_int (probe, "SELECT count(*) FROM event"), (int64_t) id);
    int frames = -1;
    cr_assert_eq (sqlite3_wal_checkpoint_v2 (probe, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                             &frames, NULL), SQLITE_OK);
    sqlite3_close (probe);
    cr_expect (frames >= 0 && frames < 16, "the WAL holds the last commit alone: %d frames",
               frames);
    audit_store_destroy (&reader);
    audit_store_destroy (&store);
    free (outcomes);
    free (records);
}

static int64_t
s_file_size (const char *file)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", s_dir, file);
    struct stat info = { 0 };
    return stat (path, &info) == 0 ? (int64_t) info.st_size : -1;
}

//  The ingest writer defers its checkpoints until its acks are out: the
//  WAL grows past the 24 MiB at which a commit would checkpoint, and its
//  pages reach audit.db only at audit_store_housekeep
Test (store, deferred_housekeeping_checkpoints_when_told)
{
    size_t count = 2048;
    audit_record_t *records = s_records_new (count);
    audit_store_outcome_t *outcomes = calloc (count, sizeof *outcomes);
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_WRITER);
    audit_store_housekeeping_defer (store);
    uint32_t id = 0;
    for (int batch = 0; s_file_size ("audit.db-wal") < 30 * 1024 * 1024 && batch < 100; batch++) {
        for (size_t index = 0; index < count; index++) {
            s_event (&records [index], AUDIT_EVENT_FILE_TRANSFERRED, "org-a", "actor-a", ++id);
            audit_event_t *event = &records [index].u.event;
            snprintf (event->text [AUDIT_FIELD_FILE_REF], sizeof event->text [0],
                      "%0120u", id);
        }
        cr_assert_eq (audit_store_write (store, records, count, outcomes, NULL), 0);
    }
    cr_expect_geq (s_file_size ("audit.db-wal"), 30 * 1024 * 1024, "no checkpoint in a commit");
    int64_t before = s_file_size ("audit.db");
    cr_expect_eq (audit_store_housekeep (store), 0);
    cr_expect_gt (s_file_size ("audit.db"), before + 1024 * 1024, "the WAL's pages reached audit.db");
    audit_store_destroy (&store);
    free (outcomes);
    free (records);
}

Test (store, retention_is_set_with_its_event)
{
    audit_record_t *record = s_records_new (1);
    s_event (record, AUDIT_EVENT_RETENTION_CHANGED, "org-r", "admin-1", 1);
    record->u.event.number [AUDIT_FIELD_RETENTION_DAYS] = 30;
    audit_store_t *store = audit_store_new (s_dir, AUDIT_STORE_MAINTAINER);
    cr_assert_eq (audit_store_retention_set (store, "org-r", 30, record), 0);
    sqlite3 *db = audit_store_db (store, AUDIT_DB_AUDIT);
    cr_expect_eq (s_sql_int (db, "SELECT retention_days FROM org WHERE name = 'org-r'"), 30);
    cr_expect_eq (s_sql_int (db, "SELECT retention_days FROM event"), 30);

    //  Beyond 12 months the table refuses, and the event goes with it
    s_event (record, AUDIT_EVENT_RETENTION_CHANGED, "org-r", "admin-1", 2);
    record->u.event.number [AUDIT_FIELD_RETENTION_DAYS] = 400;
    cr_expect_eq (audit_store_retention_set (store, "org-r", 400, record), -1);
    cr_expect_eq (s_sql_int (db, "SELECT retention_days FROM org WHERE name = 'org-r'"), 30);
    cr_expect_eq (s_sql_int (db, "SELECT count(*) FROM event"), 1);
    audit_store_destroy (&store);
    free (record);
}
