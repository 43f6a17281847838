/*  =========================================================================
    sqlite_producers - the producer rows of audit.db, written inside the
    batch writer's audit transaction; private to the engine
    ========================================================================= */

#ifndef SQLITE_PRODUCERS_H_INCLUDED
#define SQLITE_PRODUCERS_H_INCLUDED

#include "audit_store_producers.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Write count producer states as they are (rows replaced), inside the
//  open audit.db transaction of store. 0 or -1.
int
    sqlite_producers_write (audit_store_t *store, const audit_store_producer_t *producers,
                            size_t count);

#ifdef __cplusplus
}
#endif

#endif
