/*  =========================================================================
    ctl_bundle - the proof bundle's JSON (jansson), read and written

    {"bundle": "semafore-audit-proof-bundle/1", "org_id", "size",
     "checkpoint": the signed note, "key": the verifier key text,
     "leaves": "0-2999,3001,3005-3010" (the exported log_index values),
     "leaf_hashes": base64 of their 32-byte leaf hashes, in that order,
     "subtree_hashes": base64 of the 32-byte subtree hashes, in walk order,
     "consistency": [{"from_size", "hashes": [base64, ...]}, ...]}

    The three big members are strings, and read past jansson: a scan of
    the document's structure finds them, and they are parsed and decoded
    here, the rest by jansson. Why: jansson reads strings at about
    45 MB/s and these are nearly all of a bundle (measured with
    bench-verify: 0.47 s of a 0.6 s check of 500,000 rows, and a
    filtered export's subtrees as [first, end, hash] arrays took 0.9 s).
    ========================================================================= */

#include "ctl_bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_ident.h"

//  The big members, in the order s_big_member names them
typedef enum { S_LEAVES, S_LEAF_HASHES, S_SUBTREE_HASHES, S_BIG_COUNT } s_big_t;
static const char *const s_big_member [S_BIG_COUNT] = { "leaves", "leaf_hashes", "subtree_hashes" };

//  A string member's text: len bytes at text (NULL: not found by the scan)
typedef struct {
    const char *text;
    size_t len;
} s_blob_t;

//  --------------------------------------------------------------------------
//  Writing

static json_t *
s_base64 (const void *bytes, size_t size)
{
    size_t text_size = sodium_base64_ENCODED_LEN (size, sodium_base64_VARIANT_ORIGINAL);
    char *text = (char *) malloc (text_size);
    if (!text)
        return NULL;
    sodium_bin2base64 (text, text_size, (const unsigned char *) bytes, size,
                       sodium_base64_VARIANT_ORIGINAL);
    json_t *value = json_stringn_nocheck (text, strlen (text));
    free (text);
    return value;
}

//  The exported indices as inclusive ranges "a-b" or "a", comma-separated
static json_t *
s_ranges (const ctl_bundle_t *self)
{
    char *text = (char *) malloc (self->count * 42 + 1);
    size_t used = 0;
    for (size_t at = 0; text && at < self->count; ) {
        size_t end = at + 1;
        while (end < self->count && self->indices [end] == self->indices [end - 1] + 1)
            end++;
        used += (size_t) sprintf (text + used, at? ",%llu": "%llu",
                                  (unsigned long long) self->indices [at]);
        if (end - at > 1)
            used += (size_t) sprintf (text + used, "-%llu",
                                      (unsigned long long) self->indices [end - 1]);
        at = end;
    }
    json_t *value = text? json_stringn_nocheck (text, used): NULL;
    free (text);
    return value;
}

static json_t *
s_subtree_hashes (const ctl_bundle_t *self)
{
    audit_merkle_hash_t *hashes = (audit_merkle_hash_t *)
        malloc ((self->subtree_count + 1) * sizeof *hashes);
    for (size_t at = 0; hashes && at < self->subtree_count; at++)
        memcpy (hashes [at], self->subtrees [at].hash, AUDIT_MERKLE_HASH_SIZE);
    json_t *value = hashes? s_base64 (hashes, self->subtree_count * AUDIT_MERKLE_HASH_SIZE): NULL;
    free (hashes);
    return value;
}

static json_t *
s_consistency (const ctl_bundle_t *self)
{
    json_t *list = json_array ();
    for (size_t at = 0; list && at < self->consistency_count; at++) {
        const ctl_bundle_consistency_t *proof = &self->consistency [at];
        json_t *hashes = json_array ();
        for (size_t index = 0; hashes && index < proof->count; index++)
            json_array_append_new (hashes, s_base64 (proof->hashes [index], AUDIT_MERKLE_HASH_SIZE));
        if (json_array_append_new (list, json_pack ("{sIso}", "from_size",
                                                    (json_int_t) proof->from_size,
                                                    "hashes", hashes)) != 0)
            json_decref (list), list = NULL;
    }
    return list;
}

static json_t *
s_document (const ctl_bundle_t *self)
{
    return json_pack ("{sssssIsssssosososo}", "bundle", CTL_BUNDLE_FORMAT,
                      "org_id", self->org_id, "size", (json_int_t) self->size,
                      "checkpoint", self->note? self->note: "",
                      "key", self->key? self->key: "", "leaves", s_ranges (self),
                      "leaf_hashes", s_base64 (self->leaves, self->count * AUDIT_MERKLE_HASH_SIZE),
                      "subtree_hashes", s_subtree_hashes (self),
                      "consistency", s_consistency (self));
}

int
ctl_bundle_write (const ctl_bundle_t *self, const char *path)
{
    json_t *document = s_document (self);
    char tmp [4096];
    if (!document || snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
        fprintf (stderr, "auditctl: cannot build the proof bundle\n");
        json_decref (document);
        return -1;
    }
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *file = fd >= 0? fdopen (fd, "w"): NULL;
    int rc = file && json_dumpf (document, file, JSON_INDENT (1)) == 0
          && fputc ('\n', file) != EOF && fflush (file) == 0 && fsync (fd) == 0? 0: -1;
    if (file? fclose (file) != 0: fd >= 0 && close (fd) != 0)
        rc = -1;
    json_decref (document);
    if (rc == 0 && rename (tmp, path) != 0)
        rc = -1;
    if (rc != 0) {
        fprintf (stderr, "error: io: cannot write %s: %s\n", path, strerror (errno));
        unlink (tmp);
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Reading: every member checked before use

static int
s_bad (char *error, size_t size, const char *what)
{
    snprintf (error, size, "%s", what);
    return -1;
}

//  Strict standard base64 (padded, no whitespace) of exactly size bytes
//  into bytes. 0 or -1. Why not libsodium's: it decodes a character at a
//  time, a quarter of a 500,000-row check (perf, bench-verify).
static int
s_base64_decode (const char *text, size_t len, uint8_t *bytes, size_t size)
{
    static int8_t table [256];
    static const char alphabet [] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!table [0]) {
        memset (table, -1, sizeof table);
        for (int at = 0; at < 64; at++)
            table [(unsigned char) alphabet [at]] = (int8_t) at;
    }
    if (len != (size + 2) / 3 * 4)
        return -1;
    size_t out = 0;
    for (size_t at = 0; at < len; at += 4) {
        const unsigned char *group = (const unsigned char *) text + at;
        int pad = at + 4 == len? (group [3] == '=') + (group [2] == '=' && group [3] == '='): 0;
        int8_t a = table [group [0]], b = table [group [1]];
        int8_t c = pad == 2? 0: table [group [2]], d = pad >= 1? 0: table [group [3]];
        if ((a | b | c | d) < 0 || out + 3 - (size_t) pad > size)
            return -1;
        uint32_t word = (uint32_t) a << 18 | (uint32_t) b << 12 | (uint32_t) c << 6 | (uint32_t) d;
        bytes [out++] = (uint8_t) (word >> 16);
        if (pad < 2)
            bytes [out++] = (uint8_t) (word >> 8);
        if (pad < 1)
            bytes [out++] = (uint8_t) word;
        if (pad && (word & (pad == 2? 0xffff: 0xff)))
            return -1;                  //  bits past the end: not the canonical text
    }
    return out == size? 0: -1;
}

//  A decimal without sign or leading zero at *at, within uint64_t
static int
s_decimal (const char **at, const char *end, uint64_t *value)
{
    const char *first = *at;
    uint64_t number = 0;
    while (*at < end && **at >= '0' && **at <= '9') {
        unsigned digit = (unsigned) (**at - '0');
        if (number > (UINT64_MAX - digit) / 10)
            return -1;
        number = number * 10 + digit;
        (*at)++;
    }
    *value = number;
    return *at == first || (*at - first > 1 && *first == '0')? -1: 0;
}

//  Each range of text "a-b,c,..." to visit (first, last); -1 when malformed
static int
s_each_range (const s_blob_t *text, int (*visit) (void *, uint64_t, uint64_t), void *arg)
{
    const char *at = text->text, *end = text->text + text->len;
    while (at < end) {
        uint64_t first, last;
        if (s_decimal (&at, end, &first) != 0)
            return -1;
        last = first;
        if (at < end && *at == '-' && (++at, s_decimal (&at, end, &last) != 0 || last < first))
            return -1;
        if ((at < end && *at++ != ',') || (at == end && at [-1] == ',') || visit (arg, first, last))
            return -1;
    }
    return 0;
}

typedef struct {
    ctl_bundle_t *bundle;
    uint64_t total, next_free;          //  indices so far; the least the next may be
    bool fill;
} s_ranges_t;

static int
s_range (void *arg, uint64_t first, uint64_t last)
{
    s_ranges_t *ranges = (s_ranges_t *) arg;
    if (first < ranges->next_free || last >= ranges->bundle->size)
        return -1;
    for (uint64_t index = first; ranges->fill && index <= last; index++)
        ranges->bundle->indices [ranges->total + (index - first)] = index;
    ranges->total += last - first + 1;
    ranges->next_free = last + 1;
    return 0;
}

static int
s_read_leaves (ctl_bundle_t *self, const s_blob_t *ranges_text, const s_blob_t *hashes,
               char *error, size_t size)
{
    s_ranges_t ranges = { self, 0, 0, false };
    if (s_each_range (ranges_text, s_range, &ranges) != 0)
        return s_bad (error, size, "leaves: not ascending ranges \"a-b,c,...\" below the size");
    if (ctl_bundle_reserve (self, (size_t) ranges.total) != 0)
        return s_bad (error, size, "out of memory");
    ranges = (s_ranges_t) { self, 0, 0, true };
    s_each_range (ranges_text, s_range, &ranges);
    if (s_base64_decode (hashes->text, hashes->len, (uint8_t *) self->leaves,
                         self->count * AUDIT_MERKLE_HASH_SIZE) != 0)
        return s_bad (error, size, "leaf_hashes: not the base64 of 32 bytes per exported index");
    return 0;
}

static int
s_read_subtrees (ctl_bundle_t *self, const s_blob_t *text, char *error, size_t size)
{
    size_t pad = text->len && text->text [text->len - 1] == '='
               ? 1 + (text->len > 1 && text->text [text->len - 2] == '='): 0;
    size_t bytes = text->len % 4? 1: text->len / 4 * 3 - pad;
    size_t count = bytes / AUDIT_MERKLE_HASH_SIZE;
    audit_merkle_hash_t *hashes = (audit_merkle_hash_t *) malloc ((count + 1) * sizeof *hashes);
    int rc = hashes && bytes % AUDIT_MERKLE_HASH_SIZE == 0
          && s_base64_decode (text->text, text->len, (uint8_t *) hashes, bytes) == 0? 0: -1;
    for (size_t at = 0; rc == 0 && at < count; at++)
        rc = ctl_bundle_add_subtree (self, 0, 0, hashes [at]);
    free (hashes);
    return rc? s_bad (error, size, "subtree_hashes: not the base64 of 32-byte hashes"): 0;
}

static int
s_hash_of (const json_t *value, audit_merkle_hash_t hash)
{
    return json_is_string (value)
        && s_base64_decode (json_string_value (value), json_string_length (value), hash,
                            AUDIT_MERKLE_HASH_SIZE) == 0? 0: -1;
}

static int
s_read_consistency (ctl_bundle_t *self, const json_t *list, char *error, size_t size)
{
    size_t at;
    json_t *item;
    json_array_foreach (list, at, item) {
        json_int_t from_size = -1;
        const json_t *hashes = json_object_get (item, "hashes");
        audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX];
        size_t count = json_array_size (hashes), index;
        json_t *hash;
        if (json_unpack (item, "{s:I}", "from_size", &from_size) != 0 || from_size < 1
        ||  !json_is_array (hashes) || count > AUDIT_MERKLE_PROOF_MAX)
            return s_bad (error, size, "consistency: each is {from_size, hashes}");
        json_array_foreach (hashes, index, hash)
            if (s_hash_of (hash, proof [index]) != 0)
                return s_bad (error, size, "consistency: a hash is not base64 of 32 bytes");
        if (ctl_bundle_add_consistency (self, (uint64_t) from_size, proof, count) != 0)
            return s_bad (error, size, "out of memory");
    }
    return 0;
}

//  A big member's text: where the scan found it, else jansson's string
static s_blob_t
s_text_of (const s_blob_t *found, const char *value)
{
    return found->text? *found: (s_blob_t) { value, strlen (value) };
}

static int
s_read_document (ctl_bundle_t *self, json_t *document, const s_blob_t *found, char *error,
                 size_t size)
{
    const char *format, *org, *note, *key = "", *big [S_BIG_COUNT];
    json_int_t tree_size;
    json_t *consistency = NULL;
    json_error_t json_error;
    if (json_unpack_ex (document, &json_error, 0, "{s:s, s:s, s:I, s:s, s?s, s:s, s:s, s:s, s?o}",
                        "bundle", &format, "org_id", &org, "size", &tree_size,
                        "checkpoint", &note, "key", &key, "leaves", &big [S_LEAVES],
                        "leaf_hashes", &big [S_LEAF_HASHES],
                        "subtree_hashes", &big [S_SUBTREE_HASHES],
                        "consistency", &consistency) != 0) {
        snprintf (error, size, "not a proof bundle: %s", json_error.text);
        return -1;
    }
    if (strcmp (format, CTL_BUNDLE_FORMAT) != 0)
        return s_bad (error, size, "bundle: not " CTL_BUNDLE_FORMAT);
    if (!audit_ident_is_valid (org, strlen (org)) || tree_size <= 0)
        return s_bad (error, size, "org_id or size: not an identifier and a size");
    snprintf (self->org_id, sizeof self->org_id, "%s", org);
    self->size = (uint64_t) tree_size;
    if (!(self->note = strdup (note)) || !(self->key = strdup (key)))
        return s_bad (error, size, "out of memory");
    if (consistency && !json_is_array (consistency))
        return s_bad (error, size, "consistency: not an array");
    s_blob_t text [S_BIG_COUNT];
    for (int member = 0; member < S_BIG_COUNT; member++)
        text [member] = s_text_of (&found [member], big [member]);
    return s_read_leaves (self, &text [S_LEAVES], &text [S_LEAF_HASHES], error, size)
        || s_read_subtrees (self, &text [S_SUBTREE_HASHES], error, size)
        || (consistency && s_read_consistency (self, consistency, error, size))? -1: 0;
}

//  Past the JSON whitespace at at
static size_t
s_skip_space (const char *text, size_t len, size_t at)
{
    while (at < len && (text [at] == ' ' || text [at] == '\t' || text [at] == '\n'
                    ||  text [at] == '\r'))
        at++;
    return at;
}

//  The string at the end of a key's string (on its closing quote) when
//  it is a top-level member's value without escapes: its text
static bool
s_member_value (const char *text, size_t len, size_t close, s_blob_t *value)
{
    size_t colon = s_skip_space (text, len, close + 1);
    if (colon >= len || text [colon] != ':')
        return false;
    size_t open = s_skip_space (text, len, colon + 1);
    const char *quote = open < len && text [open] == '"'
                      ? (const char *) memchr (text + open + 1, '"', len - open - 1): NULL;
    if (!quote || memchr (text + open + 1, '\\', (size_t) (quote - text) - open - 1))
        return false;
    *value = (s_blob_t) { text + open + 1, (size_t) (quote - text) - open - 1 };
    return true;
}

//  Where the big members' texts lie: a scan of strings and nesting, not a
//  parse (jansson then checks the document); a member not found (or
//  holding an escape) is left to jansson
static void
s_find_big (const char *text, size_t len, s_blob_t *found)
{
    int depth = 0;
    for (size_t at = 0; at < len; at++) {
        char c = text [at];
        depth += (c == '{' || c == '[') - (c == '}' || c == ']');
        if (c != '"')
            continue;
        size_t first = at + 1, close = first;
        while (close < len && text [close] != '"')
            close += text [close] == '\\'? 2: 1;
        if (close >= len)
            return;
        at = close;
        for (int member = 0; depth == 1 && member < S_BIG_COUNT; member++)
            if (!found [member].text && strlen (s_big_member [member]) == close - first
            &&  memcmp (text + first, s_big_member [member], close - first) == 0
            &&  s_member_value (text, len, close, &found [member]))
                at = (size_t) (found [member].text - text) + found [member].len;
    }
}

//  The document with the big members' texts cut out, parsed
static json_t *
s_parse (const char *text, size_t len, s_blob_t *found, json_error_t *json_error)
{
    s_find_big (text, len, found);
    char *rest = (char *) malloc (len + 1);
    size_t used = 0, from = 0;
    for (int member = 0; rest && member < S_BIG_COUNT; member++) {
        //  in the order they lie in the text
        const s_blob_t *next = NULL;
        for (int other = 0; other < S_BIG_COUNT; other++)
            if (found [other].text && (size_t) (found [other].text - text) >= from
            &&  (!next || found [other].text < next->text))
                next = &found [other];
        if (!next)
            break;
        size_t start = (size_t) (next->text - text);
        memcpy (rest + used, text + from, start - from);
        used += start - from;
        from = start + next->len;
    }
    if (rest)
        memcpy (rest + used, text + from, len - from);
    json_t *document = rest? json_loadb (rest, used + len - from, JSON_REJECT_DUPLICATES,
                                         json_error): NULL;
    free (rest);
    return document;
}

ctl_bundle_t *
ctl_bundle_parse (const char *text, size_t len, char *error, size_t error_size)
{
    json_error_t json_error;
    s_blob_t found [S_BIG_COUNT] = { { NULL, 0 } };
    json_t *document = s_parse (text, len, found, &json_error);
    ctl_bundle_t *self = document? ctl_bundle_new (): NULL;
    if (!document)
        snprintf (error, error_size, "line %d: %s", json_error.line, json_error.text);
    if (self && s_read_document (self, document, found, error, error_size) != 0)
        ctl_bundle_destroy (&self);
    json_decref (document);
    return self;
}

ctl_bundle_t *
ctl_bundle_read (const char *path, char *error, size_t error_size)
{
    FILE *file = fopen (path, "rb");
    long len = file && fseek (file, 0, SEEK_END) == 0? ftell (file): -1;
    char *text = len >= 0 && fseek (file, 0, SEEK_SET) == 0? (char *) malloc ((size_t) len + 1): NULL;
    bool read = text && fread (text, 1, (size_t) len, file) == (size_t) len;
    if (file)
        fclose (file);
    if (!read) {
        snprintf (error, error_size, "cannot read %s", path);
        free (text);
        return NULL;
    }
    char reason [300] = "";
    ctl_bundle_t *self = ctl_bundle_parse (text, (size_t) len, reason, sizeof reason);
    if (!self)
        snprintf (error, error_size, "%s: %s", path, reason);
    free (text);
    return self;
}
