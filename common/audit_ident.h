/*  =========================================================================
    audit_ident - the contract's identifier and UUID text forms

    An identifier is 1..128 bytes of 0x21..0x7E; a UUID travels as its
    canonical 36-character text and is kept as 16 bytes. These checks are
    shared by the decoder of events, the request decoder, the workers that
    print ids and auditctl, so they live apart from every one of them.
    Nothing here allocates.
    ========================================================================= */

#ifndef AUDIT_IDENT_H_INCLUDED
#define AUDIT_IDENT_H_INCLUDED

#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Bytes of a formatted UUID, with its NUL
#define AUDIT_IDENT_UUID_TEXT_SIZE (AUDIT_UUID_TEXT_LEN + 1)

//  True when text (len bytes, not NUL-terminated) is an identifier.
bool
    audit_ident_is_valid (const char *text, size_t len);

//  Parse canonical UUID text (36 chars, any case, any version) into 16
//  bytes. Returns 0, or -1 with uuid untouched.
int
    audit_ident_uuid_parse (const char *text, size_t len, uint8_t *uuid);

//  Format 16 bytes as lower-case canonical UUID text into text
//  (AUDIT_IDENT_UUID_TEXT_SIZE bytes).
void
    audit_ident_uuid_format (const uint8_t *uuid, char *text);

#ifdef __cplusplus
}
#endif

#endif
