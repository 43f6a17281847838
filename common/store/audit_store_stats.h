/*  =========================================================================
    audit_store_stats - what the stats op reports of the stores: rows
    held now and the janitor's last pass (the persistent counter totals
    are audit_store_counters_read)
    ========================================================================= */

#ifndef AUDIT_STORE_STATS_H_INCLUDED
#define AUDIT_STORE_STATS_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Rows each store holds
typedef struct {
    uint64_t audit_events;              //  audit.db
    uint64_t ops_records;               //  ops.db
    uint64_t queued_messages;           //  queue.db
} audit_store_stats_rows_t;

//  Count the rows of every store into *rows. 0, or -1 when one cannot be
//  read.
int
    audit_store_stats_rows (audit_store_t *self, audit_store_stats_rows_t *rows);

//  When the janitor's last pass ran, in ms since the epoch: *known false
//  when none has run yet. 0, or -1 when the store cannot be read.
int
    audit_store_stats_last_pass (audit_store_t *self, bool *known, int64_t *when_ms);

#ifdef __cplusplus
}
#endif

#endif
