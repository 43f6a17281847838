/*  =========================================================================
    audit_store_stmt - the statements of the store's typed operations,
    one cache per connection, freed as the connection closes
    ========================================================================= */

#include "audit_store_stmt.h"

#include <pthread.h>
#include <stdlib.h>

#include "audit_log.h"
#include "audit_stmts.h"

//  One connection's cache. Connections are few (three per store, a store
//  per query thread), so a list is enough
typedef struct s_entry_t {
    sqlite3 *db;
    audit_stmts_t *stmts;
    struct s_entry_t *next;
} s_entry_t;

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static s_entry_t *s_entries;

//  The connection is closing: finalize its statements before SQLite looks
//  for unfinalized ones, so that it closes instead of lingering
static int
s_closed (unsigned type, void *context, void *p, void *x)
{
    (void) p; (void) x;
    if (type != SQLITE_TRACE_CLOSE)
        return 0;
    s_entry_t *entry = (s_entry_t *) context;
    pthread_mutex_lock (&s_lock);
    for (s_entry_t **link = &s_entries; *link; link = &(*link)->next)
        if (*link == entry) {
            *link = entry->next;
            break;
        }
    pthread_mutex_unlock (&s_lock);
    audit_stmts_destroy (&entry->stmts);
    free (entry);
    return 0;
}

//  The cache of db, made on first use; NULL when out of memory
static audit_stmts_t *
s_cache (sqlite3 *db)
{
    pthread_mutex_lock (&s_lock);
    s_entry_t *entry = s_entries;
    while (entry && entry->db != db)
        entry = entry->next;
    if (!entry && (entry = calloc (1, sizeof *entry)) != NULL) {
        entry->db = db;
        entry->stmts = audit_stmts_new (db);
        if (entry->stmts
        &&  sqlite3_trace_v2 (db, SQLITE_TRACE_CLOSE, s_closed, entry) == SQLITE_OK) {
            entry->next = s_entries;
            s_entries = entry;
        }
        else {
            audit_stmts_destroy (&entry->stmts);
            free (entry);
            entry = NULL;
        }
    }
    pthread_mutex_unlock (&s_lock);
    return entry ? entry->stmts : NULL;
}

sqlite3_stmt *
audit_store_stmt_get (audit_store_t *self, audit_db_t db, const char *sql)
{
    audit_stmts_t *stmts = s_cache (audit_store_db (self, db));
    if (!stmts) {
        audit_log_error ("msg=prepare_failed reason=\"out of memory\"");
        return NULL;
    }
    return audit_stmts_get (stmts, sql);
}

int
audit_store_stmt_run (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}
