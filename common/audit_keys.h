/*  =========================================================================
    audit_keys - one top-level map of known keys, read once

    The one MessagePack map walker: the event decoder (audit_walk, for
    audit_decode) and the request decoder (query_request) both read their
    body with it, over the bounded reader of audit_mp. A table names the
    known keys; each known key's value goes to the table's handler, which
    reads it in place. A known key met twice stops the walk: which of its
    values would count is exactly the ambiguity a smuggler wants. What
    happens to a key the table does not know is the table's policy:

      AUDIT_KEYS_DROP    its value is skipped unread and its name is told
                         to the table's drop handler (events: dropped and
                         counted by name)
      AUDIT_KEYS_REFUSE  the walk stops at it (requests: bad_request)

    Nothing here allocates.
    ========================================================================= */

#ifndef AUDIT_KEYS_H_INCLUDED
#define AUDIT_KEYS_H_INCLUDED

#include "audit_mp.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Most known keys of one table: the keys met are a set of 64 bits. A table
//  that could outgrow it says so with _Static_assert (... <= AUDIT_KEYS_MAX).
#define AUDIT_KEYS_MAX 64

//  A known key, with its length computed at compile time. A key whose name
//  is NULL is a hole that no key matches: a table derived from another
//  (the request's field arguments from audit_fields.def) keeps its indexes
//  while leaving some rows out.
typedef struct {
    const char *name;
    uint8_t len;
} audit_keys_key_t;

#define AUDIT_KEYS_KEY(text) { text, sizeof (text) - 1 }
#define AUDIT_KEYS_HOLE { NULL, 0 }

//  What a walk does with a key its table does not know
typedef enum { AUDIT_KEYS_DROP, AUDIT_KEYS_REFUSE } audit_keys_policy_t;

//  How a walk ended
typedef enum {
    AUDIT_KEYS_OK,              //  every pair read, no byte after the map
    AUDIT_KEYS_NOT_MAP,         //  the body is not a map
    AUDIT_KEYS_NOT_STR,         //  a key that is not a (whole) str
    AUDIT_KEYS_TWICE,           //  a known key met twice: walk->key
    AUDIT_KEYS_UNKNOWN,         //  REFUSE: an unknown key, walk->name/len
    AUDIT_KEYS_MALFORMED,       //  DROP: an unknown key's value cannot be skipped
    AUDIT_KEYS_STOPPED,         //  the value handler stopped the walk: walk->key
    AUDIT_KEYS_TRAILING         //  bytes after the map
} audit_keys_result_t;

//  Reads the value of known key `key` (an index into the table) off the
//  caller's reader; returns 0 to go on, -1 to stop the walk
typedef int (audit_keys_value_fn) (void *arg, int key);

//  Told the name of a dropped key (not NUL-terminated), its value skipped
typedef void (audit_keys_drop_fn) (void *arg, const char *name, uint32_t len);

//  A body's known keys and what to do with every key
typedef struct {
    const audit_keys_key_t *keys;
    int count;                          //  1 .. AUDIT_KEYS_MAX
    audit_keys_policy_t unknown;
    audit_keys_value_fn *value;
    audit_keys_drop_fn *dropped;        //  DROP only; may be NULL
} audit_keys_table_t;

//  What a walk learnt, for the caller's verdict and message
typedef struct {
    uint64_t seen;                      //  known keys met, a bit per index
    int key;                            //  the known key it stopped at, or -1
    const char *name;                   //  the key it stopped at, borrowed
    uint32_t len;
} audit_keys_walk_t;

//  Walk the map at reader: each known key's value to table->value, every
//  other key as table->unknown says. Returns AUDIT_KEYS_OK or how it ended.
audit_keys_result_t
    audit_keys_walk (audit_mp_reader_t *reader, const audit_keys_table_t *table,
                     void *arg, audit_keys_walk_t *walk);

//  The index of name (len bytes) in keys, or -1.
int
    audit_keys_find (const audit_keys_key_t *keys, int count, const char *name, uint32_t len);

#ifdef __cplusplus
}
#endif

#endif
