/*  =========================================================================
    audit_keys - one top-level map of known keys, read once

    A dropped key met twice is not detected (that would cost quadratic
    time, or memory, per body); none of its values is kept, so there is
    nothing to be ambiguous about, and each occurrence is told.
    ========================================================================= */

#include "audit_keys.h"

#include <assert.h>
#include <string.h>

int
audit_keys_find (const audit_keys_key_t *keys, int count, const char *name, uint32_t len)
{
    for (int key = 0; key < count; key++)
        if (keys [key].len == len && keys [key].name && memcmp (keys [key].name, name, len) == 0)
            return key;
    return -1;
}

//  One pair: its key, then its value to the handler, or skipped, or refused
static audit_keys_result_t
s_pair (audit_mp_reader_t *reader, const audit_keys_table_t *table, void *arg,
        audit_keys_walk_t *walk)
{
    if (audit_mp_read_str (reader, &walk->name, &walk->len) != AUDIT_MP_OK)
        return AUDIT_KEYS_NOT_STR;
    walk->key = audit_keys_find (table->keys, table->count, walk->name, walk->len);
    if (walk->key < 0) {
        if (table->unknown == AUDIT_KEYS_REFUSE)
            return AUDIT_KEYS_UNKNOWN;
        if (audit_mp_skip (reader) != AUDIT_MP_OK)
            return AUDIT_KEYS_MALFORMED;
        if (table->dropped)
            table->dropped (arg, walk->name, walk->len);
        return AUDIT_KEYS_OK;
    }
    uint64_t bit = 1ULL << walk->key;
    if (walk->seen & bit)
        return AUDIT_KEYS_TWICE;
    walk->seen |= bit;
    return table->value (arg, walk->key) == 0? AUDIT_KEYS_OK: AUDIT_KEYS_STOPPED;
}

audit_keys_result_t
audit_keys_walk (audit_mp_reader_t *reader, const audit_keys_table_t *table,
                 void *arg, audit_keys_walk_t *walk)
{
    assert (table->count >= 1 && table->count <= AUDIT_KEYS_MAX);
    walk->seen = 0;
    walk->key = -1;
    walk->name = NULL;
    walk->len = 0;
    uint32_t pairs;
    if (audit_mp_read_map (reader, &pairs) != AUDIT_MP_OK)
        return AUDIT_KEYS_NOT_MAP;
    for (uint32_t pair = 0; pair < pairs; pair++) {
        audit_keys_result_t result = s_pair (reader, table, arg, walk);
        if (result != AUDIT_KEYS_OK)
            return result;
    }
    walk->key = -1;
    walk->name = NULL;
    walk->len = 0;
    return audit_mp_at_end (reader)? AUDIT_KEYS_OK: AUDIT_KEYS_TRAILING;
}
