/*  =========================================================================
    audit_stmts - prepared statements of one connection, prepared once
    ========================================================================= */

#include "audit_stmts.h"
#include "audit_log.h"

#include <czmq.h>
#include <string.h>

struct _audit_stmts_t {
    sqlite3 *db;
    zhashx_t *statements;           //  sql text -> sqlite3_stmt *
};

static void
s_finalize (void **item)
{
    sqlite3_finalize ((sqlite3_stmt *) *item);
    *item = NULL;
}

audit_stmts_t *
audit_stmts_new (sqlite3 *db)
{
    audit_stmts_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db;
    self->statements = zhashx_new ();
    if (!self->statements) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->statements, s_finalize);
    return self;
}

void
audit_stmts_destroy (audit_stmts_t **self_p)
{
    audit_stmts_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->statements);
        free (self);
        *self_p = NULL;
    }
}

sqlite3_stmt *
audit_stmts_get (audit_stmts_t *self, const char *sql)
{
    sqlite3_stmt *stmt = (sqlite3_stmt *) zhashx_lookup (self->statements, sql);
    if (stmt) {
        sqlite3_reset (stmt);
        sqlite3_clear_bindings (stmt);
        return stmt;
    }
    if (zhashx_size (self->statements) >= AUDIT_STMTS_MAX)
        zhashx_purge (self->statements);
    if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
        audit_log_error ("msg=prepare_failed reason=\"%s\"", sqlite3_errmsg (self->db));
        sqlite3_finalize (stmt);
        return NULL;
    }
    zhashx_insert (self->statements, sql, stmt);
    return stmt;
}

int
audit_stmts_prepare (sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) == SQLITE_OK)
        return 0;
    const char *path = sqlite3_db_filename (db, "main");
    const char *name = path && strrchr (path, '/')? strrchr (path, '/') + 1: path;
    audit_log_error ("msg=\"cannot prepare statement\" file=%s reason=\"%s\"",
                     name && *name? name: "?", sqlite3_errmsg (db));
    return -1;
}

int
audit_stmts_int (sqlite3_stmt *stmt, int64_t *value)
{
    int rc = sqlite3_step (stmt);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64 (stmt, 0);
    sqlite3_reset (stmt);
    return rc == SQLITE_ROW? 0: rc == SQLITE_DONE? 1: -1;
}
