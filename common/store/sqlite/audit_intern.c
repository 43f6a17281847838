/*  =========================================================================
    audit_intern - names to ids: the org and ident tables of audit.db
    ========================================================================= */

#include "audit_intern.h"
#include "audit_log.h"
#include "audit_stmts.h"

#include <czmq.h>

//  The caches are cleared, not evicted, when they reach these sizes:
//  simple, and it keeps RSS flat; a miss costs one indexed lookup.
static const size_t s_cache_max [AUDIT_INTERN_TABLES] = {
    [AUDIT_INTERN_IDENT] = 131072, [AUDIT_INTERN_ORG] = 10000
};
static const char *s_select_sql [AUDIT_INTERN_TABLES] = {
    [AUDIT_INTERN_IDENT] = "SELECT id FROM ident WHERE name = ?1",
    [AUDIT_INTERN_ORG] = "SELECT id FROM org WHERE name = ?1"
};
static const char *s_insert_sql [AUDIT_INTERN_TABLES] = {
    [AUDIT_INTERN_IDENT] = "INSERT INTO ident (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
    [AUDIT_INTERN_ORG] = "INSERT INTO org (name) VALUES (?1) ON CONFLICT (name) DO NOTHING"
};
#define s_GENERATION_SQL    "SELECT value FROM meta WHERE key = 'ident_generation'"

struct _audit_intern_t {
    sqlite3 *conn;
    sqlite3_stmt *select [AUDIT_INTERN_TABLES];
    sqlite3_stmt *insert [AUDIT_INTERN_TABLES];
    sqlite3_stmt *generation_select;
    zhashx_t *cache [AUDIT_INTERN_TABLES];      //  name -> id
    int64_t generation;                         //  of the rows cached
};

static int
s_prepare (audit_intern_t *self, const char *sql, sqlite3_stmt **stmt)
{
    if (sqlite3_prepare_v2 (self->conn, sql, -1, stmt, NULL) == SQLITE_OK)
        return 0;
    audit_log_error ("msg=\"cannot prepare statement\" file=audit.db reason=\"%s\"",
                     sqlite3_errmsg (self->conn));
    return -1;
}

audit_intern_t *
audit_intern_new (sqlite3 *conn)
{
    assert (conn);
    audit_intern_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conn = conn;
    bool ok = s_prepare (self, s_GENERATION_SQL, &self->generation_select) == 0;
    for (int table = 0; ok && table < AUDIT_INTERN_TABLES; table++)
        ok = s_prepare (self, s_select_sql [table], &self->select [table]) == 0
          && s_prepare (self, s_insert_sql [table], &self->insert [table]) == 0
          && (self->cache [table] = zhashx_new ()) != NULL;
    if (!ok)
        audit_intern_destroy (&self);
    return self;
}

void
audit_intern_destroy (audit_intern_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_intern_t *self = *self_p;
    for (int table = 0; table < AUDIT_INTERN_TABLES; table++) {
        sqlite3_finalize (self->select [table]);
        sqlite3_finalize (self->insert [table]);
        zhashx_destroy (&self->cache [table]);
    }
    sqlite3_finalize (self->generation_select);
    free (self);
    *self_p = NULL;
}

//  From the table: looked up, and inserted when missing
static int
s_lookup_or_insert (audit_intern_t *self, audit_intern_table_t table, const char *name,
                    int64_t *id)
{
    sqlite3_stmt *lookup = self->select [table];
    sqlite3_bind_text (lookup, 1, name, -1, SQLITE_STATIC);
    int rc = audit_stmts_int (lookup, id);
    if (rc <= 0)
        return rc;                      //  found, or failed
    sqlite3_stmt *insert = self->insert [table];
    sqlite3_bind_text (insert, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step (insert);
    sqlite3_reset (insert);
    if (rc != SQLITE_DONE || sqlite3_changes (self->conn) == 0)
        return -1;                      //  failed, or neither there nor inserted
    *id = sqlite3_last_insert_rowid (self->conn);
    return 0;
}

int
audit_intern_id (audit_intern_t *self, audit_intern_table_t table, const char *name,
                 int64_t *id)
{
    assert (self);
    assert (table < AUDIT_INTERN_TABLES);
    zhashx_t *cache = self->cache [table];
    void *hit = zhashx_lookup (cache, name);
    if (hit) {
        *id = (int64_t) (intptr_t) hit;
        return 0;
    }
    if (s_lookup_or_insert (self, table, name, id) != 0)
        return -1;
    if (zhashx_size (cache) >= s_cache_max [table])
        zhashx_purge (cache);
    zhashx_insert (cache, name, (void *) (intptr_t) *id);
    return 0;
}

int
audit_intern_begin (audit_intern_t *self)
{
    assert (self);
    int64_t generation = 0;
    if (audit_stmts_int (self->generation_select, &generation) < 0)
        return -1;
    if (generation != self->generation) {
        audit_intern_forget (self);
        self->generation = generation;
    }
    return 0;
}

void
audit_intern_forget (audit_intern_t *self)
{
    assert (self);
    for (int table = 0; table < AUDIT_INTERN_TABLES; table++)
        zhashx_purge (self->cache [table]);
}
