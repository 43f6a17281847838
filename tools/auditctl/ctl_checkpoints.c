/*  =========================================================================
    ctl_checkpoints - an organisation's signed checkpoints, read into memory
    ========================================================================= */

#include "ctl_checkpoints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int
s_keep (uint64_t size, const audit_merkle_hash_t root, const char *note, void *arg)
{
    ctl_checkpoints_t *self = (ctl_checkpoints_t *) arg;
    ctl_checkpoint_t *grown = (ctl_checkpoint_t *)
        realloc (self->items, (self->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    self->items = grown;
    ctl_checkpoint_t *kept = &grown [self->count++];
    kept->size = size;
    memcpy (kept->root, root, AUDIT_MERKLE_HASH_SIZE);
    snprintf (kept->note, sizeof kept->note, "%s", note);
    return 0;
}

int
ctl_checkpoints_read (ctl_checkpoints_t *self, audit_store_t *store, const char *org_id)
{
    self->count = 0;
    return audit_store_checkpoint_each (store, org_id, s_keep, self) == 0? 0: -1;
}

void
ctl_checkpoints_free (ctl_checkpoints_t *self)
{
    free (self->items);
    self->items = NULL;
    self->count = 0;
}
