/*  =========================================================================
    audit_cursor - authenticated keyset pagination cursors (list, export,
    ops_list)

    A cursor is the position of the last row a page returned, (timestamp ms,
    row id), and the order it was read in, bound to the request it belongs
    to: the op, the organisation and a SHA-256 digest of the caller's
    canonical filter bytes. On the wire it is base64url without padding of

        version (1) | order (1) | ts_ms (8, BE) | row_id (8, BE)
                    | binding digest (32) | HMAC-SHA256 (first 16 bytes)

    66 bytes, 88 characters. The binding travels as one digest over op, org
    and filter digest, not in clear: decode recomputes it from the current
    request, so a cursor replayed under another org, op, filter set or order
    fails just as a tampered one does, and the cursor echoes nothing the
    client did not already know. The MAC key lives only in the worker.
    ========================================================================= */

#ifndef AUDIT_CURSOR_H_INCLUDED
#define AUDIT_CURSOR_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_CURSOR_KEY_SIZE    32
#define AUDIT_CURSOR_TEXT_LEN    88     //  every cursor of version 1
#define AUDIT_CURSOR_TEXT_MAX    512    //  longer input is refused unread
#define AUDIT_CURSOR_TEXT_SIZE   (AUDIT_CURSOR_TEXT_LEN + 1)

typedef enum {
    AUDIT_CURSOR_DESC = 0,          //  newest first, the list default
    AUDIT_CURSOR_ASC = 1
} audit_cursor_order_t;

//  Where the next page starts: after this row, in this order
typedef struct {
    int64_t ts_ms;
    int64_t row_id;
    audit_cursor_order_t order;
} audit_cursor_pos_t;

//  The request a cursor belongs to. org is NULL or "" for whole-service
//  ops (ops_list); filter is the caller's canonical encoding of every
//  filter argument (the same filters must give the same bytes).
typedef struct {
    const char *op;
    const char *org;
    const void *filter;
    size_t filter_len;
    audit_cursor_order_t order;
} audit_cursor_binding_t;

typedef struct _audit_cursor_key_t audit_cursor_key_t;

//  A fresh random key (getrandom), for one worker's lifetime. NULL on failure.
audit_cursor_key_t *
    audit_cursor_key_new_random (void);

//  A key derived from configured secret bytes (HMAC-SHA256 with a fixed
//  label), so several workers can honour each other's cursors. NULL when
//  len is 0 or on failure.
audit_cursor_key_t *
    audit_cursor_key_new_from_bytes (const void *secret, size_t len);

//  Destroy, wiping the key; safe on NULL and twice.
void
    audit_cursor_key_destroy (audit_cursor_key_t **self_p);

//  Encode pos bound to binding into text (AUDIT_CURSOR_TEXT_SIZE bytes,
//  NUL-terminated). pos->order must equal binding->order. 0 or -1.
int
    audit_cursor_encode (const audit_cursor_key_t *key,
                         const audit_cursor_binding_t *binding,
                         const audit_cursor_pos_t *pos, char *text);

//  Decode len bytes of text (not necessarily terminated) into *pos after
//  checking length, alphabet, version, MAC (constant time) and that the
//  cursor belongs to binding. 0, or -1 for any mismatch (bad_request).
int
    audit_cursor_decode (const audit_cursor_key_t *key,
                         const audit_cursor_binding_t *binding,
                         const char *text, size_t len, audit_cursor_pos_t *pos);

#ifdef __cplusplus
}
#endif

#endif
