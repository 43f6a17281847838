/*  =========================================================================
    ctl_bundle - the proof bundle's JSON (jansson), read and written

    {"bundle": "semafore-audit-proof-bundle/1", "org_id", "size",
     "checkpoint": the signed note, "key": the verifier key text,
     "leaves": [[first log_index, count], ...] (ascending runs),
     "leaf_hashes": base64 of the 32-byte leaf hashes, in log_index order,
     "subtrees": [[first, end, base64 hash], ...] in walk order,
     "consistency": [{"from_size", "hashes": [base64, ...]}, ...]}
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

//  --------------------------------------------------------------------------
//  Writing

static json_t *
s_hash_text (const audit_merkle_hash_t hash)
{
    char text [sodium_base64_ENCODED_LEN (AUDIT_MERKLE_HASH_SIZE, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64 (text, sizeof text, hash, AUDIT_MERKLE_HASH_SIZE,
                       sodium_base64_VARIANT_ORIGINAL);
    return json_string (text);
}

//  The exported indices as runs [first, count]
static json_t *
s_runs (const ctl_bundle_t *self)
{
    json_t *runs = json_array ();
    for (size_t at = 0; runs && at < self->count; ) {
        size_t end = at + 1;
        while (end < self->count && self->indices [end] == self->indices [end - 1] + 1)
            end++;
        if (json_array_append_new (runs, json_pack ("[II]", (json_int_t) self->indices [at],
                                                    (json_int_t) (end - at))) != 0)
            json_decref (runs), runs = NULL;
        at = end;
    }
    return runs;
}

static json_t *
s_leaf_hashes (const ctl_bundle_t *self)
{
    size_t bytes = self->count * AUDIT_MERKLE_HASH_SIZE;
    size_t size = sodium_base64_ENCODED_LEN (bytes, sodium_base64_VARIANT_ORIGINAL);
    char *text = (char *) malloc (size);
    if (!text)
        return NULL;
    sodium_bin2base64 (text, size, (const unsigned char *) self->leaves, bytes,
                       sodium_base64_VARIANT_ORIGINAL);
    json_t *value = json_stringn_nocheck (text, strlen (text));
    free (text);
    return value;
}

static json_t *
s_subtrees (const ctl_bundle_t *self)
{
    json_t *list = json_array ();
    for (size_t at = 0; list && at < self->subtree_count; at++) {
        const ctl_bundle_subtree_t *subtree = &self->subtrees [at];
        if (json_array_append_new (list, json_pack ("[IIo]", (json_int_t) subtree->first,
                                                    (json_int_t) subtree->end,
                                                    s_hash_text (subtree->hash))) != 0)
            json_decref (list), list = NULL;
    }
    return list;
}

static json_t *
s_consistency (const ctl_bundle_t *self)
{
    json_t *list = json_array ();
    for (size_t at = 0; list && at < self->consistency_count; at++) {
        const ctl_bundle_consistency_t *proof = &self->consistency [at];
        json_t *hashes = json_array ();
        for (size_t index = 0; hashes && index < proof->count; index++)
            json_array_append_new (hashes, s_hash_text (proof->hashes [index]));
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
                      "key", self->key? self->key: "",
                      "leaves", s_runs (self), "leaf_hashes", s_leaf_hashes (self),
                      "subtrees", s_subtrees (self), "consistency", s_consistency (self));
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

static int
s_hash_of (const json_t *value, audit_merkle_hash_t hash)
{
    size_t decoded = 0;
    return json_is_string (value)
        && sodium_base642bin (hash, AUDIT_MERKLE_HASH_SIZE, json_string_value (value),
                              json_string_length (value), NULL, &decoded, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0
        && decoded == AUDIT_MERKLE_HASH_SIZE? 0: -1;
}

static int
s_uint_of (const json_t *value, uint64_t *number)
{
    if (!json_is_integer (value) || json_integer_value (value) < 0)
        return -1;
    *number = (uint64_t) json_integer_value (value);
    return 0;
}

static int
s_read_runs (ctl_bundle_t *self, const json_t *runs, char *error, size_t size)
{
    size_t total = 0, at;
    json_t *run;
    uint64_t first = 0, count = 0;
    json_array_foreach (runs, at, run)
        if (!json_is_array (run) || json_array_size (run) != 2
        ||  s_uint_of (json_array_get (run, 0), &first) || s_uint_of (json_array_get (run, 1), &count)
        ||  count == 0 || count > self->size || first > self->size - count)
            return s_bad (error, size, "leaves: each run is [first, count] within the size");
        else
        if ((total += (size_t) count) > self->size)
            return s_bad (error, size, "leaves: more than the size");
    if (ctl_bundle_reserve (self, total) != 0)
        return s_bad (error, size, "out of memory");
    size_t next = 0;
    json_array_foreach (runs, at, run) {
        s_uint_of (json_array_get (run, 0), &first);
        s_uint_of (json_array_get (run, 1), &count);
        for (uint64_t index = 0; index < count; index++)
            self->indices [next++] = first + index;
    }
    return 0;
}

//  The leaf hashes' base64 text: len bytes at text
typedef struct {
    const char *text;
    size_t len;
} s_blob_t;

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

static int
s_read_leaf_hashes (ctl_bundle_t *self, const json_t *value, const s_blob_t *blob, char *error,
                    size_t size)
{
    size_t bytes = self->count * AUDIT_MERKLE_HASH_SIZE;
    if (!json_is_string (value))
        return s_bad (error, size, "leaf_hashes: not a string");
    s_blob_t text = blob->text? *blob
                  : (s_blob_t) { json_string_value (value), json_string_length (value) };
    if (s_base64_decode (text.text, text.len, (uint8_t *) self->leaves, bytes) != 0)
        return s_bad (error, size, "leaf_hashes: not the base64 of 32 bytes per exported index");
    return 0;
}

static int
s_read_subtrees (ctl_bundle_t *self, const json_t *list, char *error, size_t size)
{
    size_t at;
    json_t *item;
    json_array_foreach (list, at, item) {
        uint64_t first, end;
        audit_merkle_hash_t hash;
        if (!json_is_array (item) || json_array_size (item) != 3
        ||  s_uint_of (json_array_get (item, 0), &first) || s_uint_of (json_array_get (item, 1), &end)
        ||  s_hash_of (json_array_get (item, 2), hash))
            return s_bad (error, size, "subtrees: each is [first, end, base64 hash]");
        if (ctl_bundle_add_subtree (self, first, end, hash) != 0)
            return s_bad (error, size, "out of memory");
    }
    return 0;
}

static int
s_read_consistency (ctl_bundle_t *self, const json_t *list, char *error, size_t size)
{
    size_t at;
    json_t *item;
    json_array_foreach (list, at, item) {
        uint64_t from_size;
        const json_t *hashes = json_object_get (item, "hashes");
        audit_merkle_hash_t proof [AUDIT_MERKLE_PROOF_MAX];
        size_t count = json_array_size (hashes), index;
        json_t *hash;
        if (s_uint_of (json_object_get (item, "from_size"), &from_size) || !json_is_array (hashes)
        ||  count > AUDIT_MERKLE_PROOF_MAX)
            return s_bad (error, size, "consistency: each is {from_size, hashes}");
        json_array_foreach (hashes, index, hash)
            if (s_hash_of (hash, proof [index]) != 0)
                return s_bad (error, size, "consistency: a hash is not base64 of 32 bytes");
        if (ctl_bundle_add_consistency (self, from_size, proof, count) != 0)
            return s_bad (error, size, "out of memory");
    }
    return 0;
}

static int
s_read_document (ctl_bundle_t *self, json_t *document, const s_blob_t *blob, char *error,
                 size_t size)
{
    const char *format, *org, *note, *key = "";
    json_int_t tree_size;
    json_t *runs, *leaf_hashes, *subtrees, *consistency = NULL;
    json_error_t json_error;
    if (json_unpack_ex (document, &json_error, 0, "{s:s, s:s, s:I, s:s, s?s, s:o, s:o, s:o, s?o}",
                        "bundle", &format, "org_id", &org, "size", &tree_size,
                        "checkpoint", &note, "key", &key, "leaves", &runs,
                        "leaf_hashes", &leaf_hashes, "subtrees", &subtrees,
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
    self->note = strdup (note);
    self->key = strdup (key);
    if (!self->note || !self->key || !json_is_array (runs) || !json_is_array (subtrees)
    ||  (consistency && !json_is_array (consistency)))
        return s_bad (error, size, "leaves, subtrees and consistency are arrays");
    return s_read_runs (self, runs, error, size)
        || s_read_leaf_hashes (self, leaf_hashes, blob, error, size)
        || s_read_subtrees (self, subtrees, error, size)
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

//  Where the text of the top-level member leaf_hashes lies, when it is a
//  string without escapes: a scan of the document's structure (strings,
//  nesting), not a parse; anything else is left to jansson. Why: jansson
//  reads strings at about 45 MB/s (bench-verify: 0.47 s of a 0.6 s check
//  of 500,000 rows), and these 43 bytes a row are nearly all of a bundle.
static bool
s_find_blob (const char *text, size_t len, size_t *start, size_t *end)
{
    int depth = 0;
    for (size_t at = 0; at < len; at++) {
        char c = text [at];
        if (c == '{' || c == '[')
            depth++;
        else
        if (c == '}' || c == ']')
            depth--;
        if (c != '"')
            continue;
        size_t first = at + 1, close = first;
        while (close < len && text [close] != '"')
            close += text [close] == '\\'? 2: 1;
        if (close >= len)
            return false;
        at = close;
        size_t colon = s_skip_space (text, len, close + 1);
        if (depth != 1 || close - first != 11 || memcmp (text + first, "leaf_hashes", 11) != 0
        ||  colon >= len || text [colon] != ':')
            continue;
        size_t value = s_skip_space (text, len, colon + 1);
        const char *quote = value < len && text [value] == '"'
                          ? memchr (text + value + 1, '"', len - value - 1): NULL;
        if (!quote || memchr (text + value + 1, '\\', (size_t) (quote - text) - value - 1))
            return false;
        *start = value + 1;
        *end = (size_t) (quote - text);
        return true;
    }
    return false;
}

//  The document without the leaf hashes' text, parsed; the text into blob
static json_t *
s_parse (const char *text, size_t len, s_blob_t *blob, json_error_t *json_error)
{
    size_t start, end;
    if (!s_find_blob (text, len, &start, &end))
        return json_loadb (text, len, JSON_REJECT_DUPLICATES, json_error);
    char *rest = (char *) malloc (len - (end - start) + 1);
    if (!rest)
        return NULL;
    memcpy (rest, text, start);
    memcpy (rest + start, text + end, len - end);
    json_t *document = json_loadb (rest, len - (end - start), JSON_REJECT_DUPLICATES, json_error);
    free (rest);
    *blob = (s_blob_t) { text + start, end - start };
    return document;
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
    json_error_t json_error;
    s_blob_t blob = { NULL, 0 };
    json_t *document = s_parse (text, (size_t) len, &blob, &json_error);
    ctl_bundle_t *self = document? ctl_bundle_new (): NULL;
    if (!document)
        snprintf (error, error_size, "%s: line %d: %s", path, json_error.line, json_error.text);
    if (self && s_read_document (self, document, &blob, error, error_size) != 0)
        ctl_bundle_destroy (&self);
    json_decref (document);
    free (text);
    return self;
}
