/*  =========================================================================
    ctl_reply - one reply of the query worker, decoded with msgpack-c
    ========================================================================= */

#include "ctl_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _ctl_reply_t {
    char *data;                     //  the frame: str and bin objects point here
    size_t size;
    msgpack_unpacked unpacked;
};

ctl_reply_t *
ctl_reply_new (const void *data, size_t size)
{
    ctl_reply_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    msgpack_unpacked_init (&self->unpacked);
    self->data = malloc (size ? size : 1);
    if (!self->data) {
        ctl_reply_destroy (&self);
        return NULL;
    }
    memcpy (self->data, data, size);
    self->size = size;
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (&self->unpacked, self->data, size, &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS || offset != size
    ||  self->unpacked.data.type != MSGPACK_OBJECT_MAP)
        ctl_reply_destroy (&self);
    return self;
}

void
ctl_reply_destroy (ctl_reply_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_reply_t *self = *self_p;
    msgpack_unpacked_destroy (&self->unpacked);
    free (self->data);
    free (self);
    *self_p = NULL;
}

const msgpack_object *
ctl_reply_root (const ctl_reply_t *self)
{
    return &self->unpacked.data;
}

const msgpack_object *
ctl_reply_field (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen (key);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == len
        &&  memcmp (name->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

const msgpack_object *
ctl_reply_get (const ctl_reply_t *self, const char *key)
{
    return ctl_reply_field (&self->unpacked.data, key);
}

bool
ctl_reply_ok (const ctl_reply_t *self)
{
    const msgpack_object *ok = ctl_reply_get (self, "ok");
    return ok && ok->type == MSGPACK_OBJECT_BOOLEAN && ok->via.boolean;
}

void
ctl_reply_error (const ctl_reply_t *self, char *code, size_t code_size,
                 char *message, size_t message_size)
{
    const msgpack_object *error = ctl_reply_get (self, "error");
    if (ctl_reply_text (ctl_reply_field (error, "code"), code, code_size) || !*code)
        snprintf (code, code_size, "?");
    if (ctl_reply_text (ctl_reply_field (error, "message"), message, message_size))
        snprintf (message, message_size, "?");
}

int
ctl_reply_text (const msgpack_object *obj, char *out, size_t size)
{
    if (size == 0)
        return -1;
    out [0] = 0;
    if (!obj || obj->type != MSGPACK_OBJECT_STR)
        return -1;
    size_t len = obj->via.str.size < size - 1 ? obj->via.str.size : size - 1;
    for (size_t index = 0; index < len; index++) {
        unsigned char byte = (unsigned char) obj->via.str.ptr [index];
        //  UTF-8 bytes pass; only C0 controls and DEL are masked
        out [index] = byte < 0x20 || byte == 0x7f ? '?' : (char) byte;
    }
    out [len] = 0;
    return 0;
}

int
ctl_reply_uint (const msgpack_object *obj, uint64_t *value)
{
    if (!obj)
        return -1;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        *value = obj->via.u64;
    else
        return -1;
    return 0;
}

bool
ctl_reply_is_nil (const msgpack_object *obj)
{
    return !obj || obj->type == MSGPACK_OBJECT_NIL;
}
