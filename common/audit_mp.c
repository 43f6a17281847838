/*  =========================================================================
    audit_mp - a bounded MessagePack pull reader

    Every read goes through s_token, which decodes the header at the read
    position without consuming it and checks, before anything trusts it,
    that the header and the body it announces fit in the bytes left. A
    container's element count is bounded the same way: each element takes
    at least one byte, so a count larger than the bytes left is a lie.
    ========================================================================= */

#include "audit_mp.h"

//  One decoded header: what the next value is and how many bytes it takes
typedef struct {
    audit_mp_type_t type;
    size_t head;            //  bytes of the header, first byte included
    uint32_t len;           //  bytes of the body after the header
    uint32_t count;         //  elements of an array, pairs of a map
    uint64_t value;         //  an integer's magnitude, bool value
    bool negative;          //  an integer below zero
    int8_t ext_type;
} s_token_t;

static uint64_t
s_be (const uint8_t *bytes, size_t size)
{
    uint64_t value = 0;
    for (size_t index = 0; index < size; index++)
        value = (value << 8) | bytes [index];
    return value;
}

//  Header of a value whose length (or count) follows the first byte in
//  width bytes, big-endian
static int
s_sized (s_token_t *token, const uint8_t *at, size_t left, size_t width,
         audit_mp_type_t type)
{
    if (left < 1 + width)
        return -1;
    token->type = type;
    token->head = 1 + width;
    uint32_t size = (uint32_t) s_be (at + 1, width);
    if (type == AUDIT_MP_ARRAY || type == AUDIT_MP_MAP)
        token->count = size;
    else
        token->len = size;
    if (type == AUDIT_MP_EXT) {
        if (left < token->head + 1)
            return -1;
        token->ext_type = (int8_t) at [token->head];
        token->head++;
    }
    return 0;
}

//  An integer of width bytes after the first byte
static int
s_integer (s_token_t *token, const uint8_t *at, size_t left, size_t width,
           bool is_signed)
{
    if (left < 1 + width)
        return -1;
    token->head = 1 + width;
    uint64_t raw = s_be (at + 1, width);
    if (is_signed && width < 8 && (raw >> (width * 8 - 1)) & 1)
        raw |= ~(uint64_t) 0 << (width * 8);     //  sign-extend to 64 bits
    token->negative = is_signed && (int64_t) raw < 0;
    token->value = token->negative? (uint64_t) 0 - raw: raw;
    token->type = token->negative? AUDIT_MP_NEGINT: AUDIT_MP_UINT;
    return 0;
}

static void
s_fixed (s_token_t *token, audit_mp_type_t type, size_t head, uint32_t len)
{
    token->type = type;
    token->head = head;
    token->len = len;
}

//  Decode the header at `at`, one of the 0xc0..0xdf formats
static int
s_token_c0 (s_token_t *token, const uint8_t *at, size_t left)
{
    switch (at [0]) {
        case 0xc0: s_fixed (token, AUDIT_MP_NIL, 1, 0); return 0;
        case 0xc2: case 0xc3:
            s_fixed (token, AUDIT_MP_BOOL, 1, 0);
            token->value = at [0] == 0xc3;
            return 0;
        case 0xc4: return s_sized (token, at, left, 1, AUDIT_MP_BIN);
        case 0xc5: return s_sized (token, at, left, 2, AUDIT_MP_BIN);
        case 0xc6: return s_sized (token, at, left, 4, AUDIT_MP_BIN);
        case 0xc7: return s_sized (token, at, left, 1, AUDIT_MP_EXT);
        case 0xc8: return s_sized (token, at, left, 2, AUDIT_MP_EXT);
        case 0xc9: return s_sized (token, at, left, 4, AUDIT_MP_EXT);
        case 0xca: s_fixed (token, AUDIT_MP_FLOAT, 1, 4); return 0;
        case 0xcb: s_fixed (token, AUDIT_MP_FLOAT, 1, 8); return 0;
        case 0xcc: return s_integer (token, at, left, 1, false);
        case 0xcd: return s_integer (token, at, left, 2, false);
        case 0xce: return s_integer (token, at, left, 4, false);
        case 0xcf: return s_integer (token, at, left, 8, false);
        case 0xd0: return s_integer (token, at, left, 1, true);
        case 0xd1: return s_integer (token, at, left, 2, true);
        case 0xd2: return s_integer (token, at, left, 4, true);
        case 0xd3: return s_integer (token, at, left, 8, true);
        case 0xd9: return s_sized (token, at, left, 1, AUDIT_MP_STR);
        case 0xda: return s_sized (token, at, left, 2, AUDIT_MP_STR);
        case 0xdb: return s_sized (token, at, left, 4, AUDIT_MP_STR);
        case 0xdc: return s_sized (token, at, left, 2, AUDIT_MP_ARRAY);
        case 0xdd: return s_sized (token, at, left, 4, AUDIT_MP_ARRAY);
        case 0xde: return s_sized (token, at, left, 2, AUDIT_MP_MAP);
        case 0xdf: return s_sized (token, at, left, 4, AUDIT_MP_MAP);
        default:                        //  0xd4..0xd8: fixext 1..16
            if (at [0] >= 0xd4 && at [0] <= 0xd8) {
                if (left < 2)
                    return -1;
                s_fixed (token, AUDIT_MP_EXT, 2, 1u << (at [0] - 0xd4));
                token->ext_type = (int8_t) at [1];
                return 0;
            }
            return -1;                  //  0xc1, never used
    }
}

//  Decode the header at the read position. Returns 0, or -1 when the
//  input is malformed there (truncated, 0xc1, or announcing more than
//  the bytes left).
static int
s_token (const audit_mp_reader_t *self, s_token_t *token)
{
    *token = (s_token_t) { .type = AUDIT_MP_INVALID };
    size_t left = self->size - self->pos;
    if (left == 0)
        return -1;
    const uint8_t *at = self->data + self->pos;
    uint8_t first = at [0];
    if (first <= 0x7f) {
        s_fixed (token, AUDIT_MP_UINT, 1, 0);
        token->value = first;
    }
    else
    if (first <= 0x8f) {
        s_fixed (token, AUDIT_MP_MAP, 1, 0);
        token->count = first & 0x0f;
    }
    else
    if (first <= 0x9f) {
        s_fixed (token, AUDIT_MP_ARRAY, 1, 0);
        token->count = first & 0x0f;
    }
    else
    if (first <= 0xbf)
        s_fixed (token, AUDIT_MP_STR, 1, first & 0x1f);
    else
    if (first >= 0xe0) {
        s_fixed (token, AUDIT_MP_NEGINT, 1, 0);
        token->negative = true;
        token->value = (uint64_t) (0x100 - first);
    }
    else
    if (s_token_c0 (token, at, left) != 0)
        return -1;
    //  The bounds every caller relies on, checked once here
    left -= token->head;            //  every decoder above checked head <= left
    if (token->len > left)
        return -1;
    if (token->type == AUDIT_MP_ARRAY && token->count > left)
        return -1;
    if (token->type == AUDIT_MP_MAP && 2 * (uint64_t) token->count > left)
        return -1;
    return 0;
}

//  Read the header of a value of the wanted type: WRONG_TYPE consumes
//  nothing, OK consumes the header only (the caller takes the body).
static audit_mp_result_t
s_take (audit_mp_reader_t *self, audit_mp_type_t wanted, s_token_t *token)
{
    if (s_token (self, token) != 0)
        return AUDIT_MP_MALFORMED;
    if (token->type != wanted)
        return AUDIT_MP_WRONG_TYPE;
    self->pos += token->head;
    return AUDIT_MP_OK;
}

void
audit_mp_reader_init (audit_mp_reader_t *self, const void *data, size_t size)
{
    self->data = (const uint8_t *) data;
    self->size = data? size: 0;
    self->pos = 0;
}

//  The type a first byte announces, for a header too short to decode
static audit_mp_type_t
s_type_of (uint8_t first)
{
    if (first <= 0x7f || (first >= 0xcc && first <= 0xd3))
        return AUDIT_MP_UINT;           //  a signed one's sign is in its body
    if (first >= 0xe0)
        return AUDIT_MP_NEGINT;
    if (first <= 0x8f || first == 0xde || first == 0xdf)
        return AUDIT_MP_MAP;
    if (first <= 0x9f || first == 0xdc || first == 0xdd)
        return AUDIT_MP_ARRAY;
    if (first <= 0xbf || (first >= 0xd9 && first <= 0xdb))
        return AUDIT_MP_STR;
    if (first >= 0xc4 && first <= 0xc6)
        return AUDIT_MP_BIN;
    if ((first >= 0xc7 && first <= 0xc9) || (first >= 0xd4 && first <= 0xd8))
        return AUDIT_MP_EXT;
    if (first == 0xca || first == 0xcb)
        return AUDIT_MP_FLOAT;
    if (first == 0xc0)
        return AUDIT_MP_NIL;
    return first == 0xc1? AUDIT_MP_INVALID: AUDIT_MP_BOOL;
}

audit_mp_type_t
audit_mp_peek (audit_mp_reader_t *self)
{
    if (self->pos >= self->size)
        return AUDIT_MP_END;
    //  A truncated value still has the type its first byte announces; the
    //  read that follows finds it malformed
    s_token_t token;
    if (s_token (self, &token) == 0)
        return token.type;
    return s_type_of (self->data [self->pos]);
}

bool
audit_mp_at_end (audit_mp_reader_t *self)
{
    return self->pos >= self->size;
}

audit_mp_result_t
audit_mp_read_map (audit_mp_reader_t *self, uint32_t *count)
{
    s_token_t token;
    audit_mp_result_t rc = s_take (self, AUDIT_MP_MAP, &token);
    if (rc == AUDIT_MP_OK)
        *count = token.count;
    return rc;
}

audit_mp_result_t
audit_mp_read_array (audit_mp_reader_t *self, uint32_t *count)
{
    s_token_t token;
    audit_mp_result_t rc = s_take (self, AUDIT_MP_ARRAY, &token);
    if (rc == AUDIT_MP_OK)
        *count = token.count;
    return rc;
}

//  Take a value's body in place, after s_take took its header
static const uint8_t *
s_body (audit_mp_reader_t *self, uint32_t len)
{
    const uint8_t *body = self->data + self->pos;
    self->pos += len;
    return body;
}

audit_mp_result_t
audit_mp_read_str (audit_mp_reader_t *self, const char **str, uint32_t *len)
{
    s_token_t token;
    audit_mp_result_t rc = s_take (self, AUDIT_MP_STR, &token);
    if (rc == AUDIT_MP_OK) {
        *str = (const char *) s_body (self, token.len);
        *len = token.len;
    }
    return rc;
}

audit_mp_result_t
audit_mp_read_bin (audit_mp_reader_t *self, const uint8_t **data, uint32_t *len)
{
    s_token_t token;
    audit_mp_result_t rc = s_take (self, AUDIT_MP_BIN, &token);
    if (rc == AUDIT_MP_OK) {
        *data = s_body (self, token.len);
        *len = token.len;
    }
    return rc;
}

audit_mp_result_t
audit_mp_read_uint (audit_mp_reader_t *self, uint64_t *value)
{
    s_token_t token;
    audit_mp_result_t rc = s_take (self, AUDIT_MP_UINT, &token);
    if (rc == AUDIT_MP_OK)
        *value = token.value;
    return rc;
}

audit_mp_result_t
audit_mp_read_bool (audit_mp_reader_t *self, bool *value)
{
    s_token_t token;
    audit_mp_result_t rc = s_take (self, AUDIT_MP_BOOL, &token);
    if (rc == AUDIT_MP_OK)
        *value = token.value != 0;
    return rc;
}

audit_mp_result_t
audit_mp_read_nil (audit_mp_reader_t *self)
{
    s_token_t token;
    return s_take (self, AUDIT_MP_NIL, &token);
}

audit_mp_result_t
audit_mp_read_ext (audit_mp_reader_t *self, int8_t *type, const uint8_t **data, uint32_t *len)
{
    s_token_t token;
    audit_mp_result_t rc = s_take (self, AUDIT_MP_EXT, &token);
    if (rc == AUDIT_MP_OK) {
        *type = token.ext_type;
        *data = s_body (self, token.len);
        *len = token.len;
    }
    return rc;
}

//  Iterative, with one counter of values still to skip per open container,
//  so that hostile nesting costs a bounded stack and a bounded refusal.
audit_mp_result_t
audit_mp_skip (audit_mp_reader_t *self)
{
    uint64_t pending [AUDIT_MP_DEPTH_MAX + 1];
    int depth = 0;
    pending [0] = 1;
    while (depth >= 0) {
        if (pending [depth] == 0) {
            depth--;
            continue;
        }
        pending [depth]--;
        s_token_t token;
        if (s_token (self, &token) != 0)
            return AUDIT_MP_MALFORMED;
        self->pos += token.head + token.len;
        if (token.type == AUDIT_MP_ARRAY || token.type == AUDIT_MP_MAP) {
            if (depth == AUDIT_MP_DEPTH_MAX)
                return AUDIT_MP_MALFORMED;
            pending [++depth] = token.type == AUDIT_MP_MAP?
                2 * (uint64_t) token.count: token.count;
        }
    }
    return AUDIT_MP_OK;
}
