/*  =========================================================================
    ctl_print - what auditctl shows: a table for people, JSON lines for
    programs (--json)

    The table is for a terminal: fixed columns, one row per item, every
    server-sent text passed through ctl_reply_text so that no byte can
    drive the terminal. JSON lines are one object per line, byte-exact
    strings, bin values as base64 text.
    ========================================================================= */

#ifndef CTL_PRINT_H_INCLUDED
#define CTL_PRINT_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Write any MessagePack object as JSON (no newline).
void
    ctl_print_json (FILE *out, const msgpack_object *obj);

//  Column header of the audit event table.
void
    ctl_print_event_header (FILE *out);

//  One audit event of a list reply: a table row, or a JSON line.
void
    ctl_print_event (FILE *out, const msgpack_object *event, bool json);

//  Column header of the operational record table.
void
    ctl_print_record_header (FILE *out);

//  One record of an ops_list reply.
void
    ctl_print_record (FILE *out, const msgpack_object *record, bool json);

//  Column header of the undelivered message table.
void
    ctl_print_message_header (FILE *out);

//  One message of an mq_fetch reply. The table shows its size only; the
//  payload itself appears only in JSON, as base64, never raw.
void
    ctl_print_message (FILE *out, const msgpack_object *message, bool json);

//  The stats map: "section.key  value" lines, or one JSON line.
void
    ctl_print_stats (FILE *out, const msgpack_object *stats, bool json);

//  The catalog's event_types array: a table, or one JSON line per type.
void
    ctl_print_catalog (FILE *out, const msgpack_object *event_types, bool json);

//  one when count is 1, else many: "1 day", "2 days", "0 rows".
const char *
    ctl_print_plural (uint64_t count, const char *one, const char *many);

#ifdef __cplusplus
}
#endif

#endif
