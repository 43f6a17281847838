/*  =========================================================================
    ctl_reply - one reply of the query worker, decoded with msgpack-c

    A reply is {ok: true, ...} or {ok: false, error: {code, message}}
    (contract "Querying"). It comes from our own service, so msgpack-c's
    object tree is trusted enough for a command-line client; lookups still
    check every type before use, so a malformed reply is an error, not a
    crash.
    ========================================================================= */

#ifndef CTL_REPLY_H_INCLUDED
#define CTL_REPLY_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _ctl_reply_t ctl_reply_t;

//  Decode a reply frame (copied). NULL when it is not exactly one map.
ctl_reply_t *
    ctl_reply_new (const void *data, size_t size);

//  Destroy; safe on NULL and twice.
void
    ctl_reply_destroy (ctl_reply_t **self_p);

//  The reply map.
const msgpack_object *
    ctl_reply_root (const ctl_reply_t *self);

//  True when the reply says ok: true.
bool
    ctl_reply_ok (const ctl_reply_t *self);

//  The error of an ok: false reply, as printable text ("?" when missing).
void
    ctl_reply_error (const ctl_reply_t *self, char *code, size_t code_size,
                     char *message, size_t message_size);

//  A key of the reply map, or NULL.
const msgpack_object *
    ctl_reply_get (const ctl_reply_t *self, const char *key);

//  The value of key in map, or NULL when map is not a map or has no key.
const msgpack_object *
    ctl_reply_field (const msgpack_object *map, const char *key);

//  Copy a str object into out, NUL-terminated; non-printable bytes become
//  '?' so that nothing the server sent can drive the terminal. 0, or -1
//  when obj is NULL or not a str (out is then "").
int
    ctl_reply_text (const msgpack_object *obj, char *out, size_t size);

//  A non-negative integer object. 0 or -1.
int
    ctl_reply_uint (const msgpack_object *obj, uint64_t *value);

//  True when obj is absent or nil (e.g. the last page's next_cursor).
bool
    ctl_reply_is_nil (const msgpack_object *obj);

#ifdef __cplusplus
}
#endif

#endif
