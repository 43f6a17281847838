/*  =========================================================================
    query_reply - the one reply frame a request gets

    A handler writes {ok: true, ...} through the packer, or calls
    query_reply_fail; query_reply_finish then turns a failed reply into the
    contract's {ok: false, error: {code, message}}, whatever the handler had
    written before it failed.
    ========================================================================= */

#ifndef QUERY_REPLY_H_INCLUDED
#define QUERY_REPLY_H_INCLUDED

#include <msgpack.h>
#include <zmq.h>
#include <stdbool.h>

#include "audit_proto.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    bool failed;
    audit_error_t error;
    char message [256];
    //  The error map of an internal error, packed at init: the frame of a
    //  reply that memory could not be found for
    char out_of_memory [64];
    size_t out_of_memory_size;
} query_reply_t;

//  Prepare an empty reply.
void
    query_reply_init (query_reply_t *self);

//  Free the buffer.
void
    query_reply_release (query_reply_t *self);

//  Empty the reply for the next request, keeping its memory.
void
    query_reply_reset (query_reply_t *self);

//  Start a success: a map of 1 + pairs entries, the first ok: true.
void
    query_reply_ok (query_reply_t *self, uint32_t pairs);

//  Mark the reply failed with a code and a message (no request values!).
void
    query_reply_fail (query_reply_t *self, audit_error_t error, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Make the final bytes: a failed reply becomes the error map.
void
    query_reply_finish (query_reply_t *self);

//  Replies of this size and more are moved into their frame, not copied
//  (an export chunk: up to QUERY_EXPORT_CHUNK_BYTES_MAX); a smaller one
//  costs less to copy than a new buffer does to make
#define QUERY_REPLY_MOVE_BYTES  (64 * 1024)

//  The finished reply's bytes into frame (zmq_msg_init'ed here): from
//  QUERY_REPLY_MOVE_BYTES on, its buffer itself, which libzmq frees once
//  the frame is sent, and the reply gets a new one as large for the next
//  request; a smaller reply is copied. 0, or -1 out of memory: the frame
//  then holds an internal error map, so the client still hears.
int
    query_reply_frame (query_reply_t *self, zmq_msg_t *frame);

//  Pack a str.
void
    query_reply_str (query_reply_t *self, const char *text);

//  Pack key: str value.
void
    query_reply_kv_str (query_reply_t *self, const char *key, const char *value);

//  Pack key: uint value.
void
    query_reply_kv_uint (query_reply_t *self, const char *key, uint64_t value);

//  Pack key: nil.
void
    query_reply_kv_nil (query_reply_t *self, const char *key);

//  Pack key: str value, or nil when value is NULL or "".
void
    query_reply_kv_str_or_nil (query_reply_t *self, const char *key, const char *value);

#ifdef __cplusplus
}
#endif

#endif
