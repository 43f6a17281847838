/*  =========================================================================
    fuzz_cursor - libFuzzer entry point for the pagination cursor

    An input is a cursor's text as a client sends it back. Decoding must
    answer 0 or -1 for any bytes at all; a text the fuzzer forged must not
    decode (the MAC). Each input also makes a position of its first bytes
    (and its order of the 17th), which must encode, decode to itself under
    its binding, and fail under another.

    Build: -DAUDIT_FUZZ=ON with clang (tests/fuzz/CMakeLists.txt); scripts/
    test runs it for a bounded time (scripts/fuzz).
    ========================================================================= */

#include <stdlib.h>
#include <string.h>

#include "audit_cursor.h"

static const audit_cursor_binding_t s_binding = {
    .op = "list", .org = "org-fuzz", .filter = "actor_id=alice", .filter_len = 14,
    .order = AUDIT_CURSOR_DESC
};

static const audit_cursor_binding_t s_other = {
    .op = "list", .org = "org-other", .filter = "actor_id=alice", .filter_len = 14,
    .order = AUDIT_CURSOR_DESC
};

//  What the fuzzer sent, as a cursor: a forgery, which must never decode
//  (its MAC is 128 bits: a fuzzer that finds one has found a flaw)
static void
s_decode_input (const audit_cursor_key_t *key, const uint8_t *data, size_t size)
{
    audit_cursor_pos_t pos;
    if (audit_cursor_decode (key, &s_binding, (const char *) data, size, &pos) != -1)
        abort ();
}

//  A position from the input's bytes: encode, decode, and not elsewhere
static void
s_round_trip (const audit_cursor_key_t *key, const uint8_t *data, size_t size)
{
    uint8_t bytes [17] = { 0 };
    memcpy (bytes, data, size < sizeof bytes ? size : sizeof bytes);
    audit_cursor_order_t order = bytes [16] & 1 ? AUDIT_CURSOR_ASC : AUDIT_CURSOR_DESC;
    audit_cursor_binding_t binding = s_binding, other = s_other;
    binding.order = other.order = order;
    audit_cursor_pos_t pos = { .order = order }, back;
    memcpy (&pos.ts_ms, bytes, 8);
    memcpy (&pos.row_id, bytes + 8, 8);
    char text [AUDIT_CURSOR_TEXT_SIZE];
    if (audit_cursor_encode (key, &binding, &pos, text) != 0
    ||  strlen (text) != AUDIT_CURSOR_TEXT_LEN
    ||  audit_cursor_decode (key, &binding, text, strlen (text), &back) != 0
    ||  back.ts_ms != pos.ts_ms || back.row_id != pos.row_id || back.order != pos.order
    ||  audit_cursor_decode (key, &other, text, strlen (text), &back) != -1)
        abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static audit_cursor_key_t *key;
    if (!key && !(key = audit_cursor_key_new_from_bytes ("fuzz-cursor-key", 15)))
        abort ();
    s_decode_input (key, data, size);
    s_round_trip (key, data, size);
    return 0;
}
