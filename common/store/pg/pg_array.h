/*  =========================================================================
    pg_array - a PostgreSQL array literal ('{"a","b",NULL}') built a
    value at a time: the text parameter of a statement that inserts or
    finds a whole batch at once through unnest ($1::text[], ...)

    A batch is then one round trip and one statement, not one per row.
    ========================================================================= */

#ifndef PG_ARRAY_H_INCLUDED
#define PG_ARRAY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char *text;                         //  "{...}" once pg_array_text is called
    size_t size, capacity;
    size_t count;                       //  values added
    bool failed;                        //  out of memory: pg_array_text says NULL
} pg_array_t;

//  An empty array (its buffer is kept by pg_array_reset for the next use).
void
    pg_array_init (pg_array_t *self);

//  Free the buffer.
void
    pg_array_free (pg_array_t *self);

//  Empty it again, keeping the buffer.
void
    pg_array_reset (pg_array_t *self);

//  Add a text value (quoted and escaped), NULL for SQL NULL.
void
    pg_array_text_add (pg_array_t *self, const char *value);

//  Add a text value of size bytes.
void
    pg_array_bytes_add (pg_array_t *self, const char *value, size_t size);

//  Add an integer.
void
    pg_array_int_add (pg_array_t *self, int64_t value);

//  Add bytes as a bytea element (hex form).
void
    pg_array_bytea_add (pg_array_t *self, const uint8_t *data, size_t size);

//  Add a UUID (16 bytes) as its canonical text.
void
    pg_array_uuid_add (pg_array_t *self, const uint8_t *uuid);

//  The literal, "{...}", valid until the next add or reset; NULL when an
//  add ran out of memory.
const char *
    pg_array_text (pg_array_t *self);

//  The columns of one statement's rows, an array each: the parameters of
//  an INSERT .. SELECT FROM unnest ($1, $2, ...), built a row at a time
#define PG_ARRAY_SET_MAX 8
typedef struct {
    pg_array_t column [PG_ARRAY_SET_MAX];
    const char *values [PG_ARRAY_SET_MAX];  //  after pg_array_set_texts
    int count;
} pg_array_set_t;

//  count empty columns (at most PG_ARRAY_SET_MAX).
void
    pg_array_set_init (pg_array_set_t *self, int count);

//  Each column's literal into values. 0, or -1 when one ran out of memory.
int
    pg_array_set_texts (pg_array_set_t *self);

//  The rows added: the first column's values.
size_t
    pg_array_set_rows (const pg_array_set_t *self);

//  Free every column.
void
    pg_array_set_free (pg_array_set_t *self);

#ifdef __cplusplus
}
#endif

#endif
