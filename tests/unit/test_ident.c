/*  audit_ident: the identifier form check and canonical UUID text, both
    ways, at their bounds */

#include <criterion/criterion.h>
#include <string.h>

#include "audit_ident.h"

#define UUID_UPPER  "6F9619FF-8B86-D011-B42D-00C04FC964FF"
#define UUID_LOWER  "6f9619ff-8b86-d011-b42d-00c04fc964ff"

Test (ident, uuid_text_round_trips)
{
    uint8_t uuid [AUDIT_UUID_SIZE];
    char text [AUDIT_IDENT_UUID_TEXT_SIZE];
    cr_assert_eq (audit_ident_uuid_parse (UUID_UPPER, 36, uuid), 0);
    cr_assert_eq (uuid [0], 0x6f);
    cr_assert_eq (uuid [15], 0xff);
    audit_ident_uuid_format (uuid, text);
    cr_assert_str_eq (text, UUID_LOWER);
    cr_assert_eq (audit_ident_uuid_parse ("00000000-0000-0000-0000-000000000000", 36, uuid), 0);
    audit_ident_uuid_format (uuid, text);
    cr_assert_str_eq (text, "00000000-0000-0000-0000-000000000000");
    cr_assert_eq (audit_ident_uuid_parse ("ffffffff-ffff-ffff-ffff-ffffffffffff", 36, uuid), 0);
    audit_ident_uuid_format (uuid, text);
    cr_assert_str_eq (text, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

Test (ident, uuid_text_refused_leaves_the_bytes)
{
    uint8_t uuid [AUDIT_UUID_SIZE];
    memset (uuid, 0xab, sizeof uuid);
    cr_assert_eq (audit_ident_uuid_parse (UUID_LOWER, 35, uuid), -1);
    cr_assert_eq (audit_ident_uuid_parse (UUID_LOWER "0", 37, uuid), -1);
    cr_assert_eq (audit_ident_uuid_parse ("6f9619ff-8b86-d011-b42d-00c04fc964f:", 36, uuid), -1);
    cr_assert_eq (audit_ident_uuid_parse ("6f9619ff-8b86-d011-b42d-00c04fc964fG", 36, uuid), -1);
    cr_assert_eq (audit_ident_uuid_parse ("6f9619ff-8b86-d011-b42d+00c04fc964ff", 36, uuid), -1);
    cr_assert_eq (audit_ident_uuid_parse ("6f9619ff8b86-d011-b42d-00c04fc964ff-", 36, uuid), -1);
    for (size_t index = 0; index < sizeof uuid; index++)
        cr_assert_eq (uuid [index], 0xab, "a refused text writes nothing");
}

Test (ident, identifier_bounds)
{
    char text [130];
    memset (text, '~', sizeof text);
    cr_assert (audit_ident_is_valid ("!", 1));
    cr_assert (audit_ident_is_valid (text, AUDIT_IDENT_MAX));
    cr_assert_not (audit_ident_is_valid (text, AUDIT_IDENT_MAX + 1));
    cr_assert_not (audit_ident_is_valid (text, 0));
    cr_assert_not (audit_ident_is_valid (" ", 1));
    cr_assert_not (audit_ident_is_valid ("\x7f", 1));
    cr_assert_not (audit_ident_is_valid ("a\0b", 3));
    cr_assert_not (audit_ident_is_valid ("\x80", 1));
}
