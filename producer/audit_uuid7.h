/*  =========================================================================
    audit_uuid7 - version-7 UUIDs (RFC 9562, section 5.7) for event ids

    48 bits of Unix time in milliseconds, the version (7), 12 random bits,
    the variant (0b10), 62 random bits. The random bits come from the
    kernel (getrandom), never from rand(): an event_id must be unique
    across every producer of the platform, and a duplicate with the same
    timestamp is dropped by the service as a retransmission.
    ========================================================================= */

#ifndef AUDIT_UUID7_H_INCLUDED
#define AUDIT_UUID7_H_INCLUDED

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Bytes of the text form with its NUL
#define AUDIT_UUID7_TEXT_SIZE 37

//  Make a version-7 UUID for the time now_ms into uuid (16 bytes).
//  Returns 0, or -1 when the kernel gave no random bytes.
int
    audit_uuid7_make (int64_t now_ms, uint8_t *uuid);

//  As audit_uuid7_make, as lower-case canonical text (AUDIT_UUID7_TEXT_SIZE).
int
    audit_uuid7_text (int64_t now_ms, char *text);

#ifdef __cplusplus
}
#endif

#endif
