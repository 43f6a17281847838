/*  =========================================================================
    audit_uuid7 - version-7 UUIDs (RFC 9562, section 5.7) for event ids
    ========================================================================= */

#include "audit_uuid7.h"
#include "audit_ident.h"

#include <errno.h>
#include <sys/random.h>

//  Fill size bytes from the kernel's generator; a signal may cut it short
static int
s_random (uint8_t *out, size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t got = getrandom (out + done, size - done, 0);
        if (got < 0 && errno != EINTR)
            return -1;
        if (got > 0)
            done += (size_t) got;
    }
    return 0;
}

int
audit_uuid7_make (int64_t now_ms, uint8_t *uuid)
{
    if (s_random (uuid + 6, 10))
        return -1;
    uint64_t ms = (uint64_t) now_ms;
    for (int index = 0; index < 6; index++)
        uuid [index] = (uint8_t) (ms >> (8 * (5 - index)));
    uuid [6] = (uint8_t) (0x70 | (uuid [6] & 0x0f));   //  version 7
    uuid [8] = (uint8_t) (0x80 | (uuid [8] & 0x3f));   //  variant 0b10
    return 0;
}

int
audit_uuid7_text (int64_t now_ms, char *text)
{
    uint8_t uuid [16];
    if (audit_uuid7_make (now_ms, uuid))
        return -1;
    audit_ident_uuid_format (uuid, text);
    return 0;
}
