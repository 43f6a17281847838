/*  =========================================================================
    audit_ident - the contract's identifier and UUID text forms
    ========================================================================= */

#include "audit_ident.h"

#include <string.h>

bool
audit_ident_is_valid (const char *text, size_t len)
{
    if (len < 1 || len > AUDIT_IDENT_MAX)
        return false;
    for (size_t index = 0; index < len; index++)
        if ((uint8_t) text [index] < 0x21 || (uint8_t) text [index] > 0x7e)
            return false;
    return true;
}

static int
s_hex (char digit)
{
    if (digit >= '0' && digit <= '9')
        return digit - '0';
    digit |= 0x20;                      //  'A'..'F' to 'a'..'f'; no other maps there
    return digit >= 'a' && digit <= 'f'? digit - 'a' + 10: -1;
}

int
audit_ident_uuid_parse (const char *text, size_t len, uint8_t *uuid)
{
    uint8_t bytes [AUDIT_UUID_SIZE];
    size_t out = 0;
    if (len != AUDIT_UUID_TEXT_LEN)
        return -1;
    for (size_t index = 0; index < len; ) {
        if (index == 8 || index == 13 || index == 18 || index == 23) {
            if (text [index++] != '-')
                return -1;
            continue;
        }
        int high = s_hex (text [index]), low = s_hex (text [index + 1]);
        if (high < 0 || low < 0)
            return -1;
        bytes [out++] = (uint8_t) (high << 4 | low);
        index += 2;
    }
    memcpy (uuid, bytes, sizeof bytes);
    return 0;
}

void
audit_ident_uuid_format (const uint8_t *uuid, char *text)
{
    static const char digits [] = "0123456789abcdef";
    for (int index = 0; index < AUDIT_UUID_SIZE; index++) {
        if (index == 4 || index == 6 || index == 8 || index == 10)
            *text++ = '-';
        *text++ = digits [uuid [index] >> 4];
        *text++ = digits [uuid [index] & 0x0f];
    }
    *text = 0;
}
