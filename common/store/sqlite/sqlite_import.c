/*  =========================================================================
    sqlite_import - the SQLite engine takes no import (see
    audit_store_import.h): a data directory is what logs are moved from
    (auditctl migrate), into PostgreSQL
    ========================================================================= */

#include "sqlite_store.h"
#include "audit_log.h"

int
sqlite_import (audit_store_t *self, const char *org_id, uint32_t retention_days,
               uint64_t first, size_t count, const audit_merkle_hash_t *leaves,
               const audit_row_t *const *rows)
{
    (void) self, (void) retention_days, (void) first, (void) count, (void) leaves, (void) rows;
    audit_log_error ("msg=\"import refused\" engine=sqlite org_id=%s reason=\"SQLite is not"
                     " a migration target: move a data directory into PostgreSQL\"", org_id);
    return -1;
}
