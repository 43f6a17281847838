/*  =========================================================================
    ctl_json - the little JSON auditctl needs: flat objects in, text out

    auditctl publish reads one JSON object per line. Events are flat (the
    contract has no nested values), so the reader is a strict parser of one
    object whose values are strings, integers, booleans or null; anything
    else (nesting, fractions, exponents, trailing text, duplicate keys,
    control characters in strings, lone surrogates) is refused with a
    reason and a column, rather than guessed at. No JSON library is needed.
    The writer side escapes strings for --json output.
    ========================================================================= */

#ifndef CTL_JSON_H_INCLUDED
#define CTL_JSON_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  More keys than any event has; a line with more is refused
#define CTL_JSON_PAIRS_MAX  64

typedef enum {
    CTL_JSON_STR, CTL_JSON_INT, CTL_JSON_BOOL, CTL_JSON_NULL
} ctl_json_kind_t;

typedef struct {
    char *key;                      //  heap, NUL-terminated
    ctl_json_kind_t kind;
    char *text;                     //  CTL_JSON_STR: heap, UTF-8, NUL-terminated
    size_t text_len;                //  may hold \u0000, so not strlen
    int64_t integer;                //  CTL_JSON_INT
    bool boolean;                   //  CTL_JSON_BOOL
} ctl_json_pair_t;

//  A flat object; also the form demo events are built in
typedef struct {
    ctl_json_pair_t pairs [CTL_JSON_PAIRS_MAX];
    size_t count;
} ctl_json_object_t;

//  Parse text (len bytes) as one flat JSON object into *object (which the
//  caller clears). 0, or -1 with a reason ("column 12: ...") in error.
int
    ctl_json_parse (const char *text, size_t len, ctl_json_object_t *object,
                    char *error, size_t error_size);

//  Free every pair and empty the object; safe twice.
void
    ctl_json_clear (ctl_json_object_t *object);

//  The pair with key, or NULL.
const ctl_json_pair_t *
    ctl_json_find (const ctl_json_object_t *object, const char *key);

//  Add a string / integer pair (the key must not be there yet). 0 or -1.
int
    ctl_json_add_str (ctl_json_object_t *object, const char *key, const char *text);
int
    ctl_json_add_int (ctl_json_object_t *object, const char *key, int64_t value);

//  Remove a pair by key if present.
void
    ctl_json_remove (ctl_json_object_t *object, const char *key);

//  Write text (len bytes) as a JSON string, quotes included.
void
    ctl_json_write_str (FILE *out, const char *text, size_t len);

#ifdef __cplusplus
}
#endif

#endif
