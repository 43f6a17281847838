/*  =========================================================================
    audit_store_health - whether a store answers at all
    ========================================================================= */

#ifndef AUDIT_STORE_HEALTH_H_INCLUDED
#define AUDIT_STORE_HEALTH_H_INCLUDED

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Read the schema of each of the three stores once. 0 when every one
//  answered, -1 when one could not be read.
int
    audit_store_health_probe (audit_store_t *self);

#ifdef __cplusplus
}
#endif

#endif
