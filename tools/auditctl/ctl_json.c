/*  =========================================================================
    ctl_json - the little JSON auditctl needs: flat objects in, text out
    ========================================================================= */

#include "ctl_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *text;
    size_t len;
    size_t pos;
    char *error;
    size_t error_size;
} s_parser_t;

static int
s_fail (s_parser_t *parser, const char *format, ...)
{
    char reason [160];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    snprintf (parser->error, parser->error_size, "column %zu: %s", parser->pos + 1, reason);
    return -1;
}

static void
s_skip_space (s_parser_t *parser)
{
    while (parser->pos < parser->len) {
        char c = parser->text [parser->pos];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
        parser->pos++;
    }
}

static int
s_peek (s_parser_t *parser)
{
    return parser->pos < parser->len ? (unsigned char) parser->text [parser->pos] : -1;
}

//  Length of the valid UTF-8 sequence at text, or 0 (overlongs, surrogates
//  and values above U+10FFFF are invalid)
static size_t
s_utf8_sequence (const unsigned char *text, size_t left)
{
    if (text [0] < 0x80)
        return 1;
    size_t len = text [0] >= 0xf0 ? 4 : text [0] >= 0xe0 ? 3 : text [0] >= 0xc2 ? 2 : 0;
    if (len == 0 || text [0] > 0xf4 || len > left)
        return 0;
    uint32_t code = text [0] & (0x7f >> len);
    for (size_t index = 1; index < len; index++) {
        if ((text [index] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (text [index] & 0x3f);
    }
    static const uint32_t lowest [5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (code < lowest [len] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return len;
}

static size_t
s_utf8_encode (uint32_t code, char *out)
{
    if (code < 0x80) {
        out [0] = (char) code;
        return 1;
    }
    if (code < 0x800) {
        out [0] = (char) (0xc0 | (code >> 6));
        out [1] = (char) (0x80 | (code & 0x3f));
        return 2;
    }
    if (code < 0x10000) {
        out [0] = (char) (0xe0 | (code >> 12));
        out [1] = (char) (0x80 | ((code >> 6) & 0x3f));
        out [2] = (char) (0x80 | (code & 0x3f));
        return 3;
    }
    out [0] = (char) (0xf0 | (code >> 18));
    out [1] = (char) (0x80 | ((code >> 12) & 0x3f));
    out [2] = (char) (0x80 | ((code >> 6) & 0x3f));
    out [3] = (char) (0x80 | (code & 0x3f));
    return 4;
}

static int
s_hex4 (s_parser_t *parser, uint32_t *code)
{
    *code = 0;
    for (int digit = 0; digit < 4; digit++) {
        int c = s_peek (parser);
        int value = c >= '0' && c <= '9' ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (value < 0)
            return s_fail (parser, "\\u needs four hex digits");
        *code = (*code << 4) | (uint32_t) value;
        parser->pos++;
    }
    return 0;
}

//  After "\u": one code point, joining a surrogate pair
static int
s_unicode_escape (s_parser_t *parser, uint32_t *code)
{
    if (s_hex4 (parser, code))
        return -1;
    if (*code >= 0xdc00 && *code <= 0xdfff)
        return s_fail (parser, "lone low surrogate");
    if (*code < 0xd800 || *code > 0xdbff)
        return 0;
    uint32_t low;
    if (parser->pos + 2 > parser->len || memcmp (parser->text + parser->pos, "\\u", 2))
        return s_fail (parser, "high surrogate without its low half");
    parser->pos += 2;
    if (s_hex4 (parser, &low))
        return -1;
    if (low < 0xdc00 || low > 0xdfff)
        return s_fail (parser, "high surrogate without its low half");
    *code = 0x10000 + ((*code - 0xd800) << 10) + (low - 0xdc00);
    return 0;
}

//  After "\": append the escaped character to out
static int
s_escape (s_parser_t *parser, char *out, size_t *used)
{
    static const char from [] = "\"\\/bfnrt";
    static const char to [] = "\"\\/\b\f\n\r\t";
    int c = s_peek (parser);
    const char *hit = c > 0 ? strchr (from, c) : NULL;
    parser->pos++;
    if (hit) {
        out [(*used)++] = to [hit - from];
        return 0;
    }
    uint32_t code;
    if (c != 'u')
        return parser->pos--, s_fail (parser, "unknown escape");
    if (s_unicode_escape (parser, &code))
        return -1;
    *used += s_utf8_encode (code, out + *used);
    return 0;
}

//  A string at the cursor into heap text; an escape never yields more
//  bytes than it takes, so the input length bounds the output
static int
s_string (s_parser_t *parser, char **text, size_t *text_len)
{
    if (s_peek (parser) != '"')
        return s_fail (parser, "expected a string");
    parser->pos++;
    char *out = malloc (parser->len - parser->pos + 1);
    size_t used = 0;
    if (!out)
        return s_fail (parser, "out of memory");
    int rc = 0;
    while (rc == 0) {
        int c = s_peek (parser);
        if (c == '"')
            break;
        if (c < 0)
            rc = s_fail (parser, "unterminated string");
        else
        if (c < 0x20)
            rc = s_fail (parser, "control character in a string (escape it)");
        else
        if (c == '\\')
            parser->pos++, rc = s_escape (parser, out, &used);
        else {
            size_t len = s_utf8_sequence ((const unsigned char *) parser->text + parser->pos,
                                          parser->len - parser->pos);
            if (len == 0)
                rc = s_fail (parser, "invalid UTF-8");
            else {
                memcpy (out + used, parser->text + parser->pos, len);
                used += len, parser->pos += len;
            }
        }
    }
    if (rc)
        return free (out), -1;
    parser->pos++;
    out [used] = 0;
    *text = out, *text_len = used;
    return 0;
}

static int
s_integer (s_parser_t *parser, int64_t *value)
{
    size_t start = parser->pos;
    if (s_peek (parser) == '-')
        parser->pos++;
    int c = s_peek (parser);
    if (c < '0' || c > '9')
        return s_fail (parser, "expected a digit");
    if (c == '0' && parser->pos + 1 < parser->len
    &&  parser->text [parser->pos + 1] >= '0' && parser->text [parser->pos + 1] <= '9')
        return s_fail (parser, "leading zero");
    while ((c = s_peek (parser)) >= '0' && c <= '9')
        parser->pos++;
    if (c == '.' || c == 'e' || c == 'E')
        return s_fail (parser, "only integers are supported");
    char digits [32];
    size_t len = parser->pos - start;
    if (len >= sizeof digits)
        return s_fail (parser, "integer out of range");
    memcpy (digits, parser->text + start, len);
    digits [len] = 0;
    errno = 0;
    *value = strtoll (digits, NULL, 10);
    return errno ? s_fail (parser, "integer out of range") : 0;
}

static int
s_literal (s_parser_t *parser, const char *word)
{
    size_t len = strlen (word);
    if (parser->pos + len > parser->len || memcmp (parser->text + parser->pos, word, len))
        return s_fail (parser, "unexpected value");
    parser->pos += len;
    return 0;
}

static int
s_value (s_parser_t *parser, ctl_json_pair_t *pair)
{
    int c = s_peek (parser);
    if (c == '"')
        return pair->kind = CTL_JSON_STR, s_string (parser, &pair->text, &pair->text_len);
    if (c == '-' || (c >= '0' && c <= '9'))
        return pair->kind = CTL_JSON_INT, s_integer (parser, &pair->integer);
    if (c == 't' || c == 'f') {
        pair->kind = CTL_JSON_BOOL;
        pair->boolean = c == 't';
        return s_literal (parser, c == 't' ? "true" : "false");
    }
    if (c == 'n')
        return pair->kind = CTL_JSON_NULL, s_literal (parser, "null");
    if (c == '{' || c == '[')
        return s_fail (parser, "nested objects and arrays are not supported");
    return s_fail (parser, c < 0 ? "value missing" : "unexpected character");
}

static int
s_pair (s_parser_t *parser, ctl_json_object_t *object)
{
    if (object->count == CTL_JSON_PAIRS_MAX)
        return s_fail (parser, "more than %d keys", CTL_JSON_PAIRS_MAX);
    ctl_json_pair_t *pair = &object->pairs [object->count];
    memset (pair, 0, sizeof *pair);
    size_t key_len, key_pos = parser->pos;
    if (s_string (parser, &pair->key, &key_len))
        return -1;
    object->count++;                    //  owned by the object from here on
    if (strlen (pair->key) != key_len || !*pair->key)
        return parser->pos = key_pos, s_fail (parser, "empty key or NUL in a key");
    for (size_t index = 0; index + 1 < object->count; index++)
        if (strcmp (object->pairs [index].key, pair->key) == 0)
            return parser->pos = key_pos, s_fail (parser, "duplicate key \"%.64s\"", pair->key);
    s_skip_space (parser);
    if (s_peek (parser) != ':')
        return s_fail (parser, "expected ':'");
    parser->pos++;
    s_skip_space (parser);
    return s_value (parser, pair);
}

static int
s_members (s_parser_t *parser, ctl_json_object_t *object)
{
    s_skip_space (parser);
    if (s_peek (parser) == '}')
        return parser->pos++, 0;
    while (true) {
        if (s_pair (parser, object))
            return -1;
        s_skip_space (parser);
        int c = s_peek (parser);
        parser->pos++;
        if (c == '}')
            return 0;
        if (c != ',')
            return parser->pos--, s_fail (parser, "expected ',' or '}'");
        s_skip_space (parser);
    }
}

int
ctl_json_parse (const char *text, size_t len, ctl_json_object_t *object,
                char *error, size_t error_size)
{
    s_parser_t parser = { text, len, 0, error, error_size };
    ctl_json_clear (object);
    s_skip_space (&parser);
    if (s_peek (&parser) != '{')
        return s_fail (&parser, "a line must be one JSON object");
    parser.pos++;
    if (s_members (&parser, object))
        return -1;
    s_skip_space (&parser);
    if (parser.pos < parser.len)
        return s_fail (&parser, "text after the object");
    return 0;
}

void
ctl_json_clear (ctl_json_object_t *object)
{
    for (size_t index = 0; index < object->count; index++) {
        free (object->pairs [index].key);
        free (object->pairs [index].text);
    }
    memset (object->pairs, 0, object->count * sizeof object->pairs [0]);
    object->count = 0;
}

const ctl_json_pair_t *
ctl_json_find (const ctl_json_object_t *object, const char *key)
{
    for (size_t index = 0; index < object->count; index++)
        if (strcmp (object->pairs [index].key, key) == 0)
            return &object->pairs [index];
    return NULL;
}

//  A new pair for key, or NULL when full, present or out of memory
static ctl_json_pair_t *
s_add (ctl_json_object_t *object, const char *key, ctl_json_kind_t kind)
{
    if (object->count == CTL_JSON_PAIRS_MAX || ctl_json_find (object, key))
        return NULL;
    ctl_json_pair_t *pair = &object->pairs [object->count];
    memset (pair, 0, sizeof *pair);
    if (!(pair->key = strdup (key)))
        return NULL;
    pair->kind = kind;
    object->count++;
    return pair;
}

int
ctl_json_add_str (ctl_json_object_t *object, const char *key, const char *text)
{
    char *copy = strdup (text);
    ctl_json_pair_t *pair = copy ? s_add (object, key, CTL_JSON_STR) : NULL;
    if (!pair)
        return free (copy), -1;
    pair->text = copy;
    pair->text_len = strlen (copy);
    return 0;
}

int
ctl_json_add_int (ctl_json_object_t *object, const char *key, int64_t value)
{
    ctl_json_pair_t *pair = s_add (object, key, CTL_JSON_INT);
    if (!pair)
        return -1;
    pair->integer = value;
    return 0;
}

void
ctl_json_remove (ctl_json_object_t *object, const char *key)
{
    ctl_json_pair_t *pair = (ctl_json_pair_t *) ctl_json_find (object, key);
    if (!pair)
        return;
    free (pair->key);
    free (pair->text);
    size_t index = (size_t) (pair - object->pairs);
    memmove (pair, pair + 1, (object->count - index - 1) * sizeof *pair);
    object->count--;
}

void
ctl_json_write_str (FILE *out, const char *text, size_t len)
{
    fputc ('"', out);
    for (size_t index = 0; index < len; index++) {
        unsigned char c = (unsigned char) text [index];
        if (c == '"' || c == '\\')
            fprintf (out, "\\%c", c);
        else
        if (c == '\n')
            fputs ("\\n", out);
        else
        if (c < 0x20 || c == 0x7f)
            fprintf (out, "\\u%04x", c);
        else
            fputc (c, out);
    }
    fputc ('"', out);
}
