/*  =========================================================================
    query_reply - the one reply frame a request gets
    ========================================================================= */

#include "query_reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
query_reply_init (query_reply_t *self)
{
    memset (self, 0, sizeof *self);
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    query_reply_fail (self, AUDIT_ERROR_INTERNAL, "out of memory");
    query_reply_finish (self);
    if (self->buffer.size <= sizeof self->out_of_memory) {
        memcpy (self->out_of_memory, self->buffer.data, self->buffer.size);
        self->out_of_memory_size = self->buffer.size;
    }
    query_reply_reset (self);
}

void
query_reply_release (query_reply_t *self)
{
    msgpack_sbuffer_destroy (&self->buffer);
    memset (&self->buffer, 0, sizeof self->buffer);
}

void
query_reply_reset (query_reply_t *self)
{
    msgpack_sbuffer_clear (&self->buffer);
    self->failed = false;
    self->message [0] = 0;
}

void
query_reply_str (query_reply_t *self, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str (&self->packer, len);
    msgpack_pack_str_body (&self->packer, text, len);
}

void
query_reply_ok (query_reply_t *self, uint32_t pairs)
{
    msgpack_pack_map (&self->packer, 1 + pairs);
    query_reply_str (self, "ok");
    msgpack_pack_true (&self->packer);
}

void
query_reply_fail (query_reply_t *self, audit_error_t error, const char *format, ...)
{
    //  The first failure is the one the client hears about
    if (self->failed)
        return;
    self->failed = true;
    self->error = error;
    va_list args;
    va_start (args, format);
    vsnprintf (self->message, sizeof self->message, format, args);
    va_end (args);
}

void
query_reply_finish (query_reply_t *self)
{
    if (!self->failed)
        return;
    msgpack_sbuffer_clear (&self->buffer);
    msgpack_pack_map (&self->packer, 2);
    query_reply_str (self, "ok");
    msgpack_pack_false (&self->packer);
    query_reply_str (self, "error");
    msgpack_pack_map (&self->packer, 2);
    query_reply_kv_str (self, "code", audit_proto_error_code (self->error));
    query_reply_kv_str (self, "message", self->message);
}

static void
s_free (void *data, void *hint)
{
    (void) hint;
    free (data);
}

//  A copy of a small reply
static int
s_frame_copy (const msgpack_sbuffer *buffer, zmq_msg_t *frame)
{
    if (zmq_msg_init_size (frame, buffer->size) != 0)
        return -1;
    memcpy (zmq_msg_data (frame), buffer->data, buffer->size);
    return 0;
}

//  The error map packed at init, as a frame of constant data (libzmq
//  allocates nothing for it)
static int
s_frame_out_of_memory (query_reply_t *self, zmq_msg_t *frame)
{
    zmq_msg_init_data (frame, self->out_of_memory, self->out_of_memory_size, NULL, NULL);
    return -1;
}

int
query_reply_frame (query_reply_t *self, zmq_msg_t *frame)
{
    msgpack_sbuffer *buffer = &self->buffer;
    if (buffer->size >= QUERY_REPLY_MOVE_BYTES
    &&  zmq_msg_init_data (frame, buffer->data, buffer->size, s_free, NULL) == 0) {
        //  The next reply starts from a buffer as large, so that it does
        //  not grow one again by doubling, with a copy of what it holds
        //  each time; without one, msgpack grows it from nothing
        size_t alloc = buffer->alloc;
        buffer->data = (char *) malloc (alloc);
        buffer->alloc = buffer->data? alloc: 0;
        buffer->size = 0;
        return 0;
    }
    return s_frame_copy (buffer, frame) == 0? 0: s_frame_out_of_memory (self, frame);
}

void
query_reply_kv_str (query_reply_t *self, const char *key, const char *value)
{
    query_reply_str (self, key);
    query_reply_str (self, value);
}

void
query_reply_kv_uint (query_reply_t *self, const char *key, uint64_t value)
{
    query_reply_str (self, key);
    msgpack_pack_uint64 (&self->packer, value);
}

void
query_reply_kv_nil (query_reply_t *self, const char *key)
{
    query_reply_str (self, key);
    msgpack_pack_nil (&self->packer);
}

void
query_reply_kv_str_or_nil (query_reply_t *self, const char *key, const char *value)
{
    if (value && *value)
        query_reply_kv_str (self, key, value);
    else
        query_reply_kv_nil (self, key);
}
