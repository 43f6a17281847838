/*  =========================================================================
    pg_array - a PostgreSQL array literal built a value at a time (see
    pg_array.h)
    ========================================================================= */

#include "pg_array.h"
#include "audit_ident.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pg_array_init (pg_array_t *self)
{
    memset (self, 0, sizeof *self);
}

void
pg_array_free (pg_array_t *self)
{
    free (self->text);
    pg_array_init (self);
}

void
pg_array_reset (pg_array_t *self)
{
    self->size = 0;
    self->count = 0;
    self->failed = false;
}

//  Room for more bytes, and the '}' and '\0' that close the literal
static bool
s_reserve (pg_array_t *self, size_t more)
{
    if (self->failed)
        return false;
    size_t needed = self->size + more + 3;
    if (needed <= self->capacity)
        return true;
    size_t capacity = self->capacity? self->capacity: 4096;
    while (capacity < needed)
        capacity *= 2;
    char *text = (char *) realloc (self->text, capacity);
    if (!text) {
        self->failed = true;
        return false;
    }
    self->text = text;
    self->capacity = capacity;
    return true;
}

//  The separator before a value: '{' first, then ','
static void
s_separate (pg_array_t *self)
{
    self->text [self->size++] = self->count++? ',': '{';
}

void
pg_array_bytes_add (pg_array_t *self, const char *value, size_t size)
{
    //  At worst every byte escaped, and the quotes
    if (!s_reserve (self, 2 * size + 3))
        return;
    s_separate (self);
    self->text [self->size++] = '"';
    for (size_t index = 0; index < size; index++) {
        if (value [index] == '"' || value [index] == '\\')
            self->text [self->size++] = '\\';
        self->text [self->size++] = value [index];
    }
    self->text [self->size++] = '"';
}

void
pg_array_text_add (pg_array_t *self, const char *value)
{
    if (value)
        pg_array_bytes_add (self, value, strlen (value));
    else if (s_reserve (self, 5)) {
        s_separate (self);
        memcpy (self->text + self->size, "NULL", 4);
        self->size += 4;
    }
}

void
pg_array_int_add (pg_array_t *self, int64_t value)
{
    if (!s_reserve (self, 22))
        return;
    s_separate (self);
    self->size += (size_t) snprintf (self->text + self->size, 22, "%" PRId64, value);
}

void
pg_array_bytea_add (pg_array_t *self, const uint8_t *data, size_t size)
{
    //  "\\x" then the digits: the backslash is escaped inside the quotes
    static const char digits [] = "0123456789abcdef";
    if (!s_reserve (self, 2 * size + 6))
        return;
    s_separate (self);
    memcpy (self->text + self->size, "\"\\\\x", 4);
    self->size += 4;
    for (size_t index = 0; index < size; index++) {
        self->text [self->size++] = digits [data [index] >> 4];
        self->text [self->size++] = digits [data [index] & 15];
    }
    self->text [self->size++] = '"';
}

void
pg_array_uuid_add (pg_array_t *self, const uint8_t *uuid)
{
    char text [AUDIT_IDENT_UUID_TEXT_SIZE];
    audit_ident_uuid_format (uuid, text);
    pg_array_text_add (self, text);
}

const char *
pg_array_text (pg_array_t *self)
{
    if (!s_reserve (self, 0))
        return NULL;
    size_t at = self->size;
    if (self->count == 0)
        self->text [at++] = '{';
    self->text [at++] = '}';
    self->text [at] = '\0';
    return self->text;
}

//  --------------------------------------------------------------------------
//  A statement's columns

void
pg_array_set_init (pg_array_set_t *self, int count)
{
    assert (count > 0 && count <= PG_ARRAY_SET_MAX);
    memset (self, 0, sizeof *self);
    self->count = count;
}

int
pg_array_set_texts (pg_array_set_t *self)
{
    int rc = 0;
    for (int at = 0; at < self->count; at++)
        if (!(self->values [at] = pg_array_text (&self->column [at])))
            rc = -1;
    return rc;
}

size_t
pg_array_set_rows (const pg_array_set_t *self)
{
    return self->column [0].count;
}

void
pg_array_set_free (pg_array_set_t *self)
{
    for (int at = 0; at < self->count; at++)
        pg_array_free (&self->column [at]);
}
