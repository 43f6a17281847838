/*  =========================================================================
    sqlite_store - the SQLite engine: opening the three files of the data
    directory, their statements, and the engine's operations table

    Each file has its connection (audit_conn), which waits for locks by
    polling and, on the writer, checkpoints the WAL itself after commits,
    so that it stays small and no commit pays for a checkpoint it did not
    ask for. The batch writer is sqlite_write.c.
    ========================================================================= */

#include "sqlite_core.h"
#include "audit_log.h"
#include "audit_stmts.h"
#include "audit_store_sql.h"
#include "audit_schema.h"

#include <czmq.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

//  The event INSERT: the envelope, then one parameter per resource field
//  in audit_field_t order, with its column from audit_fields.def, then the
//  uuid and the tag of its leaf (audit_tree). A new field is a row there and a
//  migration adding its column.
static char s_event_insert_sql [1024];

__attribute__ ((constructor)) static void
s_event_insert_build (void)
{
    char columns [512] = "", values [512] = "";
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        size_t at = strlen (columns), vat = strlen (values);
        snprintf (columns + at, sizeof columns - at, "%s, ",
                  audit_proto_field_info ((audit_field_t) field)->column);
        snprintf (values + vat, sizeof values - vat, "?%d, ", SQLITE_EVENT_FIELD_PARAM + field);
    }
    snprintf (s_event_insert_sql, sizeof s_event_insert_sql,
              "INSERT INTO event (org, ts, log_index, received, type, actor, %suuid, leaf_tag)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, %s?%d, ?%d)", columns, values,
              SQLITE_EVENT_UUID_PARAM, SQLITE_EVENT_LEAF_PARAM);
}


//  value plus a delta >= 0, held at INT64_MAX: SQLite would turn an
//  overflowing sum into a REAL, which loses the count's low digits
#define s_SATURATED(delta) \
    "CASE WHEN value > 9223372036854775807 - " delta \
    " THEN 9223372036854775807 ELSE value + " delta " END"
#define s_EACH_DB(sql) { AUDIT_DB_AUDIT, sql }, { AUDIT_DB_OPS, sql }, { AUDIT_DB_QUEUE, sql }
static const struct { audit_db_t db; const char *sql; } s_queries [SQLITE_Q_COUNT] = {
    s_EACH_DB ("BEGIN IMMEDIATE"), s_EACH_DB ("COMMIT"), s_EACH_DB ("ROLLBACK"),
    //  The primary key (org, ts, log_index) finds the rows of that
    //  millisecond; one of them with the same uuid makes a duplicate
    { AUDIT_DB_AUDIT, "SELECT 1 FROM event WHERE org = ?1 AND ts = ?2 AND uuid = ?3" },
    { AUDIT_DB_AUDIT, s_event_insert_sql },
    { AUDIT_DB_AUDIT, "UPDATE counter SET value = " s_SATURATED ("?2")
      " WHERE name = ?1" },
    { AUDIT_DB_AUDIT, "INSERT INTO counter (name, value) VALUES (?1, ?2)"
      " ON CONFLICT (name) DO UPDATE SET value = " s_SATURATED ("excluded.value") },
    { AUDIT_DB_AUDIT, "SELECT count(*) FROM counter WHERE name >= ?1 AND name < ?2" },
    { AUDIT_DB_OPS, "INSERT INTO ops (ts, received, client_ip, method, path, status)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)" },
    { AUDIT_DB_QUEUE, "INSERT INTO message (uuid, org, device, ts, received, payload)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (uuid) DO NOTHING" },
    { AUDIT_DB_AUDIT, "UPDATE org SET retention_days = ?2 WHERE name = ?1" },
    { AUDIT_DB_AUDIT, "SELECT name, value FROM counter" },
};




//  The engine's operations, in the row order of audit_store_ops.def
static const audit_store_ops_t s_sqlite_ops = {
    .name = "sqlite",
#define AUDIT_STORE_OP(type, function, op, params, args) .op = sqlite_##op,
#define AUDIT_STORE_VOID_OP(function, op, params, args) .op = sqlite_##op,
#define AUDIT_STORE_FREE(function, op, type) .op = sqlite_##op,
#include "audit_store_ops.def"
#undef AUDIT_STORE_OP
#undef AUDIT_STORE_VOID_OP
#undef AUDIT_STORE_FREE
};


//  --------------------------------------------------------------------------
//  Opening: directory, connections, pragmas, migrations, statements

//  The directory is the owner's only (0700): mkdir's mode passes through
//  the umask, and an older scripts/run made it 0755. One that others can
//  read or enter is made private, and the line says so; a worker that
//  cannot (not its owner) refuses it rather than serve files others read.
static int
s_dir_private (const char *data_dir, mode_t mode)
{
    if (mode == 0700)
        return 0;
    if (chmod (data_dir, 0700) != 0) {
        audit_log_error ("msg=\"data directory open to others\" dir=%s mode=0%o reason=\"%s\"",
                         data_dir, (unsigned) mode, strerror (errno));
        return -1;
    }
    if (mode & 077)
        audit_log_warn ("msg=data_directory_made_private dir=%s was=0%o now=0700",
                        data_dir, (unsigned) mode);
    return 0;
}

static int
s_dir_prepare (const char *data_dir, audit_store_mode_t mode)
{
    if (mode != AUDIT_STORE_READER && mkdir (data_dir, 0700) != 0 && errno != EEXIST) {
        audit_log_error ("msg=\"cannot create data directory\" dir=%s reason=\"%s\"",
                         data_dir, strerror (errno));
        return -1;
    }
    struct stat info;
    int found = stat (data_dir, &info);
    if (found != 0 || !S_ISDIR (info.st_mode)) {
        audit_log_error ("msg=\"data directory unusable\" dir=%s reason=\"%s\"",
                         data_dir, found? strerror (errno): "not a directory");
        return -1;
    }
    if (s_dir_private (data_dir, info.st_mode & 07777) != 0)
        return -1;
    int access_mode = mode == AUDIT_STORE_READER? R_OK | X_OK: R_OK | W_OK | X_OK;
    if (access (data_dir, access_mode) != 0) {
        audit_log_error ("msg=\"data directory not %s\" dir=%s reason=\"%s\"",
                         mode == AUDIT_STORE_READER? "readable": "writable",
                         data_dir, strerror (errno));
        return -1;
    }
    return 0;
}

static int
s_open_db (sqlite_store_t *self, const char *data_dir, audit_db_t db)
{
    self->conn [db] = audit_conn_new (data_dir, db, self->mode);
    if (!self->conn [db])
        return -1;
    self->db [db] = audit_conn_handle (self->conn [db]);
    self->stmts [db] = audit_stmts_new (self->db [db]);
    if (!self->stmts [db])
        return -1;
    //  Workers start together: the first one migrates, and the others wait
    //  for it instead of giving up after the usual lock wait
    audit_conn_busy_limit (self->conn [db], AUDIT_STORE_MIGRATION_WAIT_MS);
    int rc = audit_schema_migrate (self->db [db], db, self->mode != AUDIT_STORE_READER);
    audit_conn_busy_limit (self->conn [db], AUDIT_STORE_BUSY_TIMEOUT_MS);
    if (rc != 0)
        return -1;
    //  After the migration, which may copy every row: until here SQLite's
    //  automatic checkpoint keeps its WAL small
    if (self->mode == AUDIT_STORE_WRITER)
        audit_conn_wal_watch (self->conn [db]);
    return 0;
}

static int
s_prepare (sqlite_store_t *self)
{
    for (int query = 0; query < SQLITE_Q_COUNT; query++) {
        if (self->mode == AUDIT_STORE_READER && query != SQLITE_Q_COUNTER_SELECT)
            continue;
        sqlite3 *conn = self->db [s_queries [query].db];
        if (sqlite3_prepare_v2 (conn, s_queries [query].sql, -1,
                                &self->query [query], NULL) != SQLITE_OK) {
            audit_log_error ("msg=\"cannot prepare statement\" file=%s reason=\"%s\"",
                             audit_schema_file (s_queries [query].db), sqlite3_errmsg (conn));
            return -1;
        }
    }
    return 0;
}

//  The rows of each open family: the names from its prefix up to the
//  prefix with its final '.' raised to the next character
static int
s_count_family_rows (sqlite_store_t *self)
{
    sqlite3_stmt *stmt = self->query [SQLITE_Q_COUNTER_ROWS];
    for (int family = 0; family < AUDIT_COUNTERS_FAMILIES; family++) {
        char low [64], high [64];
        snprintf (low, sizeof low, "%s", audit_counters_family_prefix (family));
        snprintf (high, sizeof high, "%s", low);
        high [strlen (high) - 1]++;
        sqlite3_bind_text (stmt, 1, low, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text (stmt, 2, high, -1, SQLITE_TRANSIENT);
        if (audit_stmts_int (stmt, &self->family_rows [family]) != 0)
            return -1;
    }
    return 0;
}

audit_store_t *
audit_store_sqlite_new (const char *data_dir, audit_store_mode_t mode)
{
    assert (data_dir);
    if (s_dir_prepare (data_dir, mode) != 0)
        return NULL;
    sqlite_store_t *self = (sqlite_store_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->base.ops = &s_sqlite_ops;
    self->mode = mode;
    bool ok = true;
    for (int db = 0; ok && db < AUDIT_DB_COUNT; db++)
        ok = s_open_db (self, data_dir, (audit_db_t) db) == 0;
    ok = ok && s_prepare (self) == 0;
    audit_idcache_role_t role = mode == AUDIT_STORE_READER? AUDIT_IDCACHE_READER
                                                          : AUDIT_IDCACHE_WRITER;
    ok = ok && (self->idcache = audit_idcache_new (self->db [AUDIT_DB_AUDIT], role)) != NULL;
    if (ok && mode != AUDIT_STORE_READER)
        ok = (self->orglog = audit_orglog_new (self->db [AUDIT_DB_AUDIT])) != NULL
          && (self->tree = audit_tree_new (self->db [AUDIT_DB_AUDIT])) != NULL
          && (self->subjects = audit_subjects_new (self->db [AUDIT_DB_AUDIT],
                  mode == AUDIT_STORE_WRITER? AUDIT_SUBJECTS_MERGE_BUDGET: 0)) != NULL;
    if (ok && mode != AUDIT_STORE_READER) {
        audit_tree_on_tile (self->tree, audit_subjects_tile, self->subjects);
        ok = s_count_family_rows (self) == 0;
    }
    audit_store_t *store = &self->base;
    if (!ok)
        sqlite_destroy (&store);
    return store;
}

bool
audit_store_sqlite_exists (const char *data_dir)
{
    char path [PATH_MAX];
    struct stat info;
    int written = snprintf (path, sizeof path, "%s/%s", data_dir, audit_schema_file (AUDIT_DB_AUDIT));
    return written > 0 && (size_t) written < sizeof path
        && stat (path, &info) == 0 && S_ISREG (info.st_mode);
}

void
sqlite_destroy (audit_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sqlite_store_t *self = sqlite_core_self (*self_p);
    audit_idcache_destroy (&self->idcache);
    audit_orglog_destroy (&self->orglog);
    audit_tree_destroy (&self->tree);
    audit_subjects_destroy (&self->subjects);
    for (int query = 0; query < SQLITE_Q_COUNT; query++)
        sqlite3_finalize (self->query [query]);
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        audit_stmts_destroy (&self->stmts [db]);
        audit_conn_destroy (&self->conn [db]);
    }
    free (self);
    *self_p = NULL;
}

sqlite3 *
audit_store_db (audit_store_t *store, audit_db_t db)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return self->db [db];
}

audit_stmts_t *
audit_store_stmts (audit_store_t *store, audit_db_t db)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return self->stmts [db];
}

audit_idcache_t *
audit_store_idcache (audit_store_t *store)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    return self->idcache;
}

int
audit_store_checkpoint (audit_store_t *store, audit_db_t db)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return audit_conn_checkpoint (self->conn [db]);
}

void
audit_store_busy_limit (audit_store_t *store, audit_db_t db, int limit_ms)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    audit_conn_busy_limit (self->conn [db], limit_ms);
}

void
audit_store_tree_off (audit_store_t *store)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    self->tree_off = true;
}

void
audit_store_wal_watch (audit_store_t *store, audit_db_t db)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    audit_conn_wal_watch (self->conn [db]);
}

int
audit_store_wal_pages (audit_store_t *store, audit_db_t db)
{
    sqlite_store_t *self = sqlite_core_self (store);
    assert (self);
    assert (db < AUDIT_DB_COUNT);
    return audit_conn_wal_pages (self->conn [db]);
}
