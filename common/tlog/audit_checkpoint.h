/*  =========================================================================
    audit_checkpoint - the text of an organisation's checkpoint

    A C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint) body, what a
    checkpoint note signs (contract: "The organisation's log"):

      semafore-audit/<org_id>
      <size, decimal, no leading zero>
      <base64 of the 32-byte root hash>

    C2SP allows non-empty extension lines after these three; they are
    read past, never written. Parsing is strict otherwise, so that one
    (org, size, root) has one text. Nothing here allocates.
    ========================================================================= */

#ifndef AUDIT_CHECKPOINT_H_INCLUDED
#define AUDIT_CHECKPOINT_H_INCLUDED

#include "audit_merkle.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_CHECKPOINT_ORIGIN     "semafore-audit/"
//  Bytes of a checkpoint text, with its NUL: origin, org id, a 20-digit
//  size, 44 base64 characters, three newlines
#define AUDIT_CHECKPOINT_TEXT_SIZE  (15 + AUDIT_IDENT_MAX + 1 + 20 + 1 + 44 + 1 + 1)

//  Why a text is not a checkpoint
typedef enum {
    AUDIT_CHECKPOINT_OK,
    AUDIT_CHECKPOINT_ORIGIN_BAD,    //  not semafore-audit/ and an identifier
    AUDIT_CHECKPOINT_SIZE_BAD,      //  not a decimal uint64 without leading zero
    AUDIT_CHECKPOINT_ROOT_BAD,      //  not the base64 of 32 bytes
    AUDIT_CHECKPOINT_MALFORMED      //  a line missing, empty or unended, or a control character
} audit_checkpoint_result_t;

typedef struct {
    char org_id [AUDIT_IDENT_MAX + 1];
    uint64_t size;
    audit_merkle_hash_t root;
} audit_checkpoint_t;

//  The checkpoint text of (org_id, size, root) into text
//  (AUDIT_CHECKPOINT_TEXT_SIZE bytes, NUL-terminated); its length, or -1
//  when org_id is not an identifier.
int
    audit_checkpoint_format (const char *org_id, uint64_t size, const audit_merkle_hash_t root,
                             char *text);

//  Parse a checkpoint text (len bytes, ending in its last newline).
audit_checkpoint_result_t
    audit_checkpoint_parse (const char *text, size_t len, audit_checkpoint_t *checkpoint);

#ifdef __cplusplus
}
#endif

#endif
