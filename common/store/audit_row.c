/*  =========================================================================
    audit_row - a stored audit event, as the store reads it back (see
    audit_row.h)
    ========================================================================= */

#include "audit_row.h"
#include "audit_render.h"

#include <string.h>

void
audit_row_of_event (const audit_event_t *event, uint64_t log_index, int64_t received_ms,
                    audit_row_t *row)
{
    memset (row, 0, sizeof *row);
    row->log_index = log_index;
    row->timestamp_ms = event->timestamp_ms;
    row->received_ms = received_ms;
    row->type = event->type;
    row->org_id = event->org_id;
    row->actor_id = event->actor_id;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        if (!(event->present & AUDIT_FIELD_BIT (field)))
            continue;
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT) {
            row->has_number [field] = true;
            row->number [field] = event->number [field];
        }
        else
            row->text [field] = event->text [field];
    }
    memcpy (row->event_id, event->event_id, AUDIT_UUID_SIZE);
}

int
audit_row_leaf_hash (const audit_row_t *row, audit_merkle_hash_t hash)
{
    char leaf [AUDIT_RENDER_LINE_MAX];
    int size = audit_render_leaf (row, leaf, sizeof leaf);
    if (size < 0)
        return -1;
    audit_merkle_leaf_hash (leaf, (size_t) size, hash);
    return 0;
}
