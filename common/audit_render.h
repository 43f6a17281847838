/*  =========================================================================
    audit_render - the one rendering of a stored event

    Every form a stored event takes on its way out is made here, from the
    proto tables (audit_envelope.def, audit_fields.def, audit_events.def,
    audit_categories.def), so that list, export, tail and the organisation's
    log cannot disagree about an event:

    - the leaf of the organisation's log: the text of its CSV columns in
      header order joined by single 0x1F bytes, integers in decimal, the
      timestamp as YYYY-MM-DDTHH:MM:SS.mmmZ, an absent value empty, no
      formula guard, no quoting (contract: "The organisation's log");
    - one CSV row (RFC 4180, CRLF, quoted where needed, formula guard);
    - one ndjson line: the list event map as a JSON object and LF;
    - the list event map in MessagePack.

    The list map holds every envelope key (an absent text as "") and
    exactly the resource fields the event has.
    ========================================================================= */

#ifndef AUDIT_RENDER_H_INCLUDED
#define AUDIT_RENDER_H_INCLUDED

#include <msgpack.h>

#include "audit_csv.h"
#include "audit_row.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Bytes that always hold the leaf or ndjson line of an event whose texts
//  are identifiers (at most AUDIT_IDENT_MAX bytes, escaped at most 6 to 1)
#define AUDIT_RENDER_LINE_MAX  16384

//  The leaf text into buffer (size bytes, NUL-terminated): returns its
//  length without the NUL, or -1 when it does not fit.
int
    audit_render_leaf (const audit_row_t *row, char *buffer, size_t size);

//  Append the event's CSV row to csv. 0, or -1 past the writer's cap.
int
    audit_render_csv (const audit_row_t *row, audit_csv_t *csv);

//  The event's ndjson line (JSON object and LF) into buffer (size bytes,
//  NUL-terminated): returns its length with the LF, or -1 when it does
//  not fit.
int
    audit_render_ndjson (const audit_row_t *row, char *buffer, size_t size);

//  Pack the event's list map. 0, or -1 when the packer fails.
int
    audit_render_pack (const audit_row_t *row, msgpack_packer *packer);

#ifdef __cplusplus
}
#endif

#endif
