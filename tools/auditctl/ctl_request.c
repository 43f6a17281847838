/*  =========================================================================
    ctl_request - a query request being built: op, token and arguments
    ========================================================================= */

#include "ctl_request.h"

#include <stdlib.h>
#include <string.h>

#include "audit_proto.h"

typedef struct {
    char *key;
    ctl_arg_kind_t kind;
    char *text;                     //  CTL_ARG_STR
    uint64_t number;                //  CTL_ARG_UINT
    char **items;                   //  CTL_ARG_LIST
    size_t item_count;
} s_arg_t;

struct _ctl_request_t {
    char *op;
    char *token;
    s_arg_t args [CTL_REQUEST_ARGS_MAX];
    size_t count;
};

ctl_request_t *
ctl_request_new (const char *op)
{
    ctl_request_t *self = calloc (1, sizeof *self);
    if (self && !(self->op = strdup (op)))
        free (self), self = NULL;
    return self;
}

static void
s_arg_clear (s_arg_t *arg)
{
    free (arg->key);
    free (arg->text);
    for (size_t index = 0; index < arg->item_count; index++)
        free (arg->items [index]);
    free (arg->items);
    memset (arg, 0, sizeof *arg);
}

void
ctl_request_destroy (ctl_request_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ctl_request_t *self = *self_p;
    for (size_t index = 0; index < self->count; index++)
        s_arg_clear (&self->args [index]);
    free (self->op);
    free (self->token);
    free (self);
    *self_p = NULL;
}

const char *
ctl_request_op (const ctl_request_t *self)
{
    return self->op;
}

int
ctl_request_set_token (ctl_request_t *self, const char *token)
{
    char *copy = token ? strdup (token) : NULL;
    if (token && !copy)
        return -1;
    free (self->token);
    self->token = copy;
    return 0;
}

static s_arg_t *
s_find (const ctl_request_t *self, const char *key)
{
    for (size_t index = 0; index < self->count; index++)
        if (strcmp (self->args [index].key, key) == 0)
            return (s_arg_t *) &self->args [index];
    return NULL;
}

//  The argument for key, emptied and retyped; NULL when the table is full
static s_arg_t *
s_slot (ctl_request_t *self, const char *key, ctl_arg_kind_t kind)
{
    s_arg_t *arg = s_find (self, key);
    if (arg)
        s_arg_clear (arg);
    else
    if (self->count < CTL_REQUEST_ARGS_MAX)
        arg = &self->args [self->count++];
    else
        return NULL;
    arg->key = strdup (key);
    arg->kind = kind;
    if (!arg->key) {
        ctl_request_remove (self, key);
        return NULL;
    }
    return arg;
}

int
ctl_request_set_str (ctl_request_t *self, const char *key, const char *value)
{
    char *copy = strdup (value);
    s_arg_t *arg = copy ? s_slot (self, key, CTL_ARG_STR) : NULL;
    if (!arg) {
        free (copy);
        return -1;
    }
    arg->text = copy;
    return 0;
}

int
ctl_request_set_uint (ctl_request_t *self, const char *key, uint64_t value)
{
    s_arg_t *arg = s_slot (self, key, CTL_ARG_UINT);
    if (!arg)
        return -1;
    arg->number = value;
    return 0;
}

int
ctl_request_append (ctl_request_t *self, const char *key, const char *value)
{
    s_arg_t *arg = s_find (self, key);
    if (arg && arg->kind != CTL_ARG_LIST)
        return -1;
    if (!arg && !(arg = s_slot (self, key, CTL_ARG_LIST)))
        return -1;
    if (arg->item_count == CTL_REQUEST_LIST_MAX)
        return -1;
    char **items = realloc (arg->items, (arg->item_count + 1) * sizeof *items);
    if (!items)
        return -1;
    arg->items = items;
    if (!(items [arg->item_count] = strdup (value)))
        return -1;
    arg->item_count++;
    return 0;
}

void
ctl_request_remove (ctl_request_t *self, const char *key)
{
    s_arg_t *arg = s_find (self, key);
    if (!arg)
        return;
    s_arg_clear (arg);
    size_t index = (size_t) (arg - self->args);
    memmove (arg, arg + 1, (self->count - index - 1) * sizeof *arg);
    self->count--;
    memset (&self->args [self->count], 0, sizeof *arg);
}

bool
ctl_request_has (const ctl_request_t *self, const char *key)
{
    return s_find (self, key) != NULL;
}

const char *
ctl_request_str (const ctl_request_t *self, const char *key)
{
    const s_arg_t *arg = s_find (self, key);
    return arg && arg->kind == CTL_ARG_STR ? arg->text : NULL;
}

size_t
ctl_request_size (const ctl_request_t *self)
{
    return self->count;
}

//  Each msgpack_pack_* returns non-zero only when the buffer cannot grow
static int
s_pack_str (msgpack_packer *packer, const char *text)
{
    size_t len = strlen (text);
    return msgpack_pack_str (packer, len) || msgpack_pack_str_body (packer, text, len) ? -1 : 0;
}

static int
s_pack_arg (msgpack_packer *packer, const s_arg_t *arg)
{
    int rc = s_pack_str (packer, arg->key);
    if (arg->kind == CTL_ARG_STR)
        rc |= s_pack_str (packer, arg->text);
    else
    if (arg->kind == CTL_ARG_UINT)
        rc |= msgpack_pack_uint64 (packer, arg->number);
    else {
        rc |= msgpack_pack_array (packer, arg->item_count);
        for (size_t index = 0; index < arg->item_count; index++)
            rc |= s_pack_str (packer, arg->items [index]);
    }
    return rc ? -1 : 0;
}

int
ctl_request_encode (const ctl_request_t *self, msgpack_sbuffer *buffer)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&packer, 2 + (self->token ? 1 : 0) + self->count);
    rc |= s_pack_str (&packer, "v");
    rc |= msgpack_pack_uint8 (&packer, AUDIT_PROTO_VERSION);
    rc |= s_pack_str (&packer, "op");
    rc |= s_pack_str (&packer, self->op);
    if (self->token) {
        rc |= s_pack_str (&packer, "token");
        rc |= s_pack_str (&packer, self->token);
    }
    for (size_t index = 0; index < self->count; index++)
        rc |= s_pack_arg (&packer, &self->args [index]);
    return rc ? -1 : 0;
}
