/*  =========================================================================
    audit_checkpoint - the text of an organisation's checkpoint
    ========================================================================= */

#include "audit_checkpoint.h"
#include "audit_ident.h"
#include "audit_note.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define S_ORIGIN_LEN  (sizeof AUDIT_CHECKPOINT_ORIGIN - 1)
#define S_ROOT_TEXT_LEN  44

int
audit_checkpoint_format (const char *org_id, uint64_t size, const audit_merkle_hash_t root,
                         char *text)
{
    if (!audit_ident_is_valid (org_id, strlen (org_id)))
        return -1;
    char encoded [sodium_base64_ENCODED_LEN (AUDIT_MERKLE_HASH_SIZE, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64 (encoded, sizeof encoded, root, AUDIT_MERKLE_HASH_SIZE,
                       sodium_base64_VARIANT_ORIGINAL);
    return snprintf (text, AUDIT_CHECKPOINT_TEXT_SIZE, AUDIT_CHECKPOINT_ORIGIN "%s\n%" PRIu64 "\n%s\n",
                     org_id, size, encoded);
}

//  The line at *at (its newline excluded) and *at moved past it; -1 when
//  no newline ends it
static int
s_line (const char *text, size_t len, size_t *at, const char **line, size_t *line_len)
{
    const char *end = *at < len? memchr (text + *at, '\n', len - *at): NULL;
    if (!end)
        return -1;
    *line = text + *at;
    *line_len = (size_t) (end - *line);
    *at = (size_t) (end - text) + 1;
    return 0;
}

static int
s_origin (const char *line, size_t len, audit_checkpoint_t *checkpoint)
{
    if (len <= S_ORIGIN_LEN || memcmp (line, AUDIT_CHECKPOINT_ORIGIN, S_ORIGIN_LEN) != 0
    ||  !audit_ident_is_valid (line + S_ORIGIN_LEN, len - S_ORIGIN_LEN))
        return -1;
    memcpy (checkpoint->org_id, line + S_ORIGIN_LEN, len - S_ORIGIN_LEN);
    checkpoint->org_id [len - S_ORIGIN_LEN] = 0;
    return 0;
}

//  Decimal digits, no leading zero but in "0", within uint64_t
static int
s_size (const char *line, size_t len, uint64_t *size)
{
    if (len == 0 || len > 20 || (line [0] == '0' && len > 1))
        return -1;
    uint64_t value = 0;
    for (size_t at = 0; at < len; at++) {
        if (line [at] < '0' || line [at] > '9')
            return -1;
        unsigned digit = (unsigned) (line [at] - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return -1;
        value = value * 10 + digit;
    }
    *size = value;
    return 0;
}

static int
s_root (const char *line, size_t len, audit_merkle_hash_t root)
{
    size_t decoded = 0;
    if (len != S_ROOT_TEXT_LEN
    ||  sodium_base642bin (root, AUDIT_MERKLE_HASH_SIZE, line, len, NULL, &decoded, NULL,
                           sodium_base64_VARIANT_ORIGINAL) != 0
    ||  decoded != AUDIT_MERKLE_HASH_SIZE)
        return -1;
    return 0;
}

audit_checkpoint_result_t
audit_checkpoint_parse (const char *text, size_t len, audit_checkpoint_t *checkpoint)
{
    const char *origin, *size, *root, *extension;
    size_t origin_len, size_len, root_len, extension_len;
    size_t at = 0;
    if (!audit_note_text_is_valid (text, len)
    ||  s_line (text, len, &at, &origin, &origin_len) != 0
    ||  s_line (text, len, &at, &size, &size_len) != 0
    ||  s_line (text, len, &at, &root, &root_len) != 0)
        return AUDIT_CHECKPOINT_MALFORMED;
    audit_checkpoint_t parsed;
    if (s_origin (origin, origin_len, &parsed) != 0)
        return AUDIT_CHECKPOINT_ORIGIN_BAD;
    if (s_size (size, size_len, &parsed.size) != 0)
        return AUDIT_CHECKPOINT_SIZE_BAD;
    if (s_root (root, root_len, parsed.root) != 0)
        return AUDIT_CHECKPOINT_ROOT_BAD;
    //  Extension lines: read past, each non-empty
    while (at < len)
        if (s_line (text, len, &at, &extension, &extension_len) != 0 || extension_len == 0)
            return AUDIT_CHECKPOINT_MALFORMED;
    *checkpoint = parsed;
    return AUDIT_CHECKPOINT_OK;
}
