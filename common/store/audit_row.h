/*  =========================================================================
    audit_row - a stored audit event, as the store reads it back

    The one form of a stored event that every reader shares: a page of
    list, export and (later) tail steps through these, and the one
    rendering (audit_render) turns one into the leaf of the organisation's
    log, a CSV row, an ndjson line or a list map. The store fills it; the
    text pointers belong to the store and stay valid until the next step
    of the same page.
    ========================================================================= */

#ifndef AUDIT_ROW_H_INCLUDED
#define AUDIT_ROW_H_INCLUDED

#include "audit_merkle.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t log_index;                     //  the organisation's log position
    int64_t timestamp_ms;                   //  UTC, the event's own time
    int64_t received_ms;                    //  when the service stored it
    audit_event_type_t type;
    const char *org_id;
    const char *actor_id;
    const char *text [AUDIT_FIELD_COUNT];   //  IDENT fields, NULL when absent
    bool has_number [AUDIT_FIELD_COUNT];
    uint64_t number [AUDIT_FIELD_COUNT];    //  UINT fields
    uint8_t event_id [AUDIT_UUID_SIZE];
} audit_row_t;

//  The row of event as an engine stores it at log_index (received at
//  received_ms), for its leaf: the texts point into event.
void
    audit_row_of_event (const audit_event_t *event, uint64_t log_index, int64_t received_ms,
                        audit_row_t *row);

//  The leaf hash of row in its organisation's log: SHA-256 (0x00 || its
//  leaf text, audit_render_leaf), what both engines store and check. 0 or -1.
int
    audit_row_leaf_hash (const audit_row_t *row, audit_merkle_hash_t hash);

#ifdef __cplusplus
}
#endif

#endif
