/*  =========================================================================
    audit_store_import - an organisation's log moved in from another
    store, as it is (auditctl migrate, with the workers stopped)

    The writer gives every event its log_index and leaf as it stores it
    (audit_store_write); a moved log must keep both, or its signed
    checkpoints no longer verify. So the import takes the source's leaves
    and its kept events and appends them unchanged: the tree made from
    the same leaves has the same roots, and the notes signed over them
    stay valid (audit_store_checkpoint_put copies them).

    Only the PostgreSQL engine takes an import; SQLite is where logs are
    moved from, never to.
    ========================================================================= */

#ifndef AUDIT_STORE_IMPORT_H_INCLUDED
#define AUDIT_STORE_IMPORT_H_INCLUDED

#include "audit_merkle.h"
#include "audit_row.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Append leaves first..first+count-1 to org_id's log, which must hold
//  exactly first leaves (else -1: a second import of the same events
//  never lands), in one transaction of a WRITER. leaves [i] is the leaf
//  hash at log_index first + i; rows [i] its event, stored with its
//  log_index, timestamp, received time and every field as they are, or
//  NULL when retention deleted it before the move (its leaf alone goes
//  in, as the writer's tree keeps it). A row whose log_index, org_id or
//  leaf hash is not that of its leaf refuses the whole call (-1, logged).
//  The organisation is made when new, its retention set to
//  retention_days (1..AUDIT_RETENTION_MAX_DAYS). 0, or -1 with nothing
//  written; the SQLite engine always refuses (logged).
int
    audit_store_import (audit_store_t *self, const char *org_id, uint32_t retention_days,
                        uint64_t first, size_t count, const audit_merkle_hash_t *leaves,
                        const audit_row_t *const *rows);

#ifdef __cplusplus
}
#endif

#endif
