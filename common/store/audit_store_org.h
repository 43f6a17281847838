/*  =========================================================================
    audit_store_org - an organisation's own settings in the store

    Setting the retention writes an audit event in the same transaction
    (audit_store_retention_set); reading it is here.
    ========================================================================= */

#ifndef AUDIT_STORE_ORG_H_INCLUDED
#define AUDIT_STORE_ORG_H_INCLUDED

#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The audit retention of organisation org_id into *days: its setting, or
//  AUDIT_RETENTION_MAX_DAYS for one that never set it (or that the store
//  has not seen). 0, or -1 when the store cannot be read.
int
    audit_store_org_retention (audit_store_t *self, const char *org_id, uint32_t *days);

#ifdef __cplusplus
}
#endif

#endif
