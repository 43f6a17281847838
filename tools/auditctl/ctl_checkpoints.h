/*  =========================================================================
    ctl_checkpoints - an organisation's signed checkpoints, read into memory

    verify --db and migrate both walk an organisation's checkpoints after
    reading them all: the store gives them in one pass (a callback inside
    its read transaction), and each tool then checks them against roots it
    computes or reads, in size order.
    ========================================================================= */

#ifndef CTL_CHECKPOINTS_H_INCLUDED
#define CTL_CHECKPOINTS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "audit_merkle.h"
#include "audit_store_log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t size;
    audit_merkle_hash_t root;
    char note [AUDIT_STORE_NOTE_MAX];
} ctl_checkpoint_t;

//  A list of checkpoints, grown as they are read; zero it before first use
typedef struct {
    ctl_checkpoint_t *items;
    size_t count;
} ctl_checkpoints_t;

//  Every checkpoint of org_id in store, in size order, in place of what
//  self held. 0, or -1 when the store failed or memory ran out.
int
    ctl_checkpoints_read (ctl_checkpoints_t *self, audit_store_t *store, const char *org_id);

//  Free the list; it is empty and usable again after.
void
    ctl_checkpoints_free (ctl_checkpoints_t *self);

#ifdef __cplusplus
}
#endif

#endif
