/*  =========================================================================
    audit_mp - a bounded MessagePack pull reader

    Reads values in place from a byte buffer: no allocation, no object tree.
    Every length and element count is checked against the bytes left before
    anything trusts it, so a header that announces four billion elements is
    refused at once instead of being allocated. Writing MessagePack is done
    with msgpack-c's packer; reading untrusted input is done here.
    ========================================================================= */

#ifndef AUDIT_MP_H_INCLUDED
#define AUDIT_MP_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Deepest nesting audit_mp_skip will follow before calling input malformed
#define AUDIT_MP_DEPTH_MAX  32

//  Result of a read. On AUDIT_MP_WRONG_TYPE nothing was consumed, so the
//  caller may skip the value; on AUDIT_MP_MALFORMED the buffer is unusable.
typedef enum {
    AUDIT_MP_OK = 0,
    AUDIT_MP_WRONG_TYPE = -1,
    AUDIT_MP_MALFORMED = -2
} audit_mp_result_t;

//  The type of the next value, as the reader sees it
typedef enum {
    AUDIT_MP_NIL, AUDIT_MP_BOOL, AUDIT_MP_UINT, AUDIT_MP_NEGINT, AUDIT_MP_FLOAT,
    AUDIT_MP_STR, AUDIT_MP_BIN, AUDIT_MP_ARRAY, AUDIT_MP_MAP, AUDIT_MP_EXT,
    AUDIT_MP_END,       //  no bytes left
    AUDIT_MP_INVALID    //  0xc1, the never-used byte
} audit_mp_type_t;

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
} audit_mp_reader_t;

//  Start reading size bytes at data. The reader borrows the buffer.
void
    audit_mp_reader_init (audit_mp_reader_t *self, const void *data, size_t size);

//  Type of the next value, without consuming it.
audit_mp_type_t
    audit_mp_peek (audit_mp_reader_t *self);

//  True when every byte has been consumed.
bool
    audit_mp_at_end (audit_mp_reader_t *self);

//  Map header: *count pairs follow. Refused as malformed when 2 * count
//  exceeds the bytes left.
audit_mp_result_t
    audit_mp_read_map (audit_mp_reader_t *self, uint32_t *count);

//  Array header: *count values follow (bounded like a map).
audit_mp_result_t
    audit_mp_read_array (audit_mp_reader_t *self, uint32_t *count);

//  A str, borrowed in place (not NUL-terminated).
audit_mp_result_t
    audit_mp_read_str (audit_mp_reader_t *self, const char **str, uint32_t *len);

//  A bin, borrowed in place.
audit_mp_result_t
    audit_mp_read_bin (audit_mp_reader_t *self, const uint8_t **data, uint32_t *len);

//  A non-negative integer in any encoding (positive fixint, uint 8..64, or a
//  signed int that holds a non-negative value). A negative one is WRONG_TYPE.
audit_mp_result_t
    audit_mp_read_uint (audit_mp_reader_t *self, uint64_t *value);

//  A boolean.
audit_mp_result_t
    audit_mp_read_bool (audit_mp_reader_t *self, bool *value);

//  nil.
audit_mp_result_t
    audit_mp_read_nil (audit_mp_reader_t *self);

//  An ext value: its type and its body, borrowed in place.
audit_mp_result_t
    audit_mp_read_ext (audit_mp_reader_t *self, int8_t *type, const uint8_t **data, uint32_t *len);

//  Skip one value of any type, nested containers included, at most
//  AUDIT_MP_DEPTH_MAX deep.
audit_mp_result_t
    audit_mp_skip (audit_mp_reader_t *self);

#ifdef __cplusplus
}
#endif

#endif
