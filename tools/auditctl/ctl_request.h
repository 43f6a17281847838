/*  =========================================================================
    ctl_request - a query request being built: op, token and arguments

    Arguments are kept as typed key/value pairs until the request is sent,
    so that a flag given twice replaces its value, a repeated list flag
    appends, and auditctl can follow next_cursor by replacing one key. The
    wire form (contract "Querying": a map {v: 1, op, token, ...}) is packed
    with msgpack-c's packer only at the end.
    ========================================================================= */

#ifndef CTL_REQUEST_H_INCLUDED
#define CTL_REQUEST_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  More arguments than any op of contract version 1 takes
#define CTL_REQUEST_ARGS_MAX  24
//  Most values of one list argument (mq_ack takes up to 1000 ids)
#define CTL_REQUEST_LIST_MAX  1000

typedef enum {
    CTL_ARG_STR,
    CTL_ARG_UINT,
    CTL_ARG_LIST                    //  an array of strings
} ctl_arg_kind_t;

typedef struct _ctl_request_t ctl_request_t;

//  Create a request for op (e.g. "list"). NULL on allocation failure.
ctl_request_t *
    ctl_request_new (const char *op);

//  Destroy; safe on NULL and twice.
void
    ctl_request_destroy (ctl_request_t **self_p);

//  The op name.
const char *
    ctl_request_op (const ctl_request_t *self);

//  Set the token sent with the request (NULL: none). 0 or -1.
int
    ctl_request_set_token (ctl_request_t *self, const char *token);

//  Set a string argument, replacing any earlier value. 0 or -1.
int
    ctl_request_set_str (ctl_request_t *self, const char *key, const char *value);

//  Set an unsigned argument, replacing any earlier value. 0 or -1.
int
    ctl_request_set_uint (ctl_request_t *self, const char *key, uint64_t value);

//  Append value to a list argument, creating it. 0 or -1.
int
    ctl_request_append (ctl_request_t *self, const char *key, const char *value);

//  Remove an argument if present.
void
    ctl_request_remove (ctl_request_t *self, const char *key);

//  True when the argument is set.
bool
    ctl_request_has (const ctl_request_t *self, const char *key);

//  A string argument's value, or NULL when absent or not a string.
const char *
    ctl_request_str (const ctl_request_t *self, const char *key);

//  Number of arguments (v, op and token not counted).
size_t
    ctl_request_size (const ctl_request_t *self);

//  Pack the wire form into buffer (appended). 0 or -1.
int
    ctl_request_encode (const ctl_request_t *self, msgpack_sbuffer *buffer);

#ifdef __cplusplus
}
#endif

#endif
