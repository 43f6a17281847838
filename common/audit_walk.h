/*  =========================================================================
    audit_walk - the machinery audit_decode walks a body with

    Private to audit_decode: the three body decoders (event, ops, mq) share
    it, and nothing else should include it. A walk reads the top-level map
    once with audit_keys (the map walker the request decoder uses too),
    under the policy AUDIT_KEYS_DROP: each known key's value goes to a
    handler the decoder gives, every other key is dropped and reported by
    (sanitised) name only. Faults are collected as the walk goes and the
    one of highest precedence wins. Nothing here allocates.
    ========================================================================= */

#ifndef AUDIT_WALK_H_INCLUDED
#define AUDIT_WALK_H_INCLUDED

#include "audit_decode.h"
#include "audit_keys.h"
#include "audit_mp.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Where a walk stands on a value: good, a fault of the field (the value
//  was consumed), or a structural fault (the buffer is unusable)
typedef enum { AUDIT_WALK_OK, AUDIT_WALK_BAD, AUDIT_WALK_MALFORMED } audit_walk_value_t;

//  The state of one walk; on the caller's stack, so its fields are open.
//  At most AUDIT_KEYS_MAX known keys: seen is a bit per key index.
typedef struct {
    audit_mp_reader_t reader;
    audit_decode_info_t *info;
    int64_t now_ms;
    bool failed;
    uint64_t seen;                      //  known keys met, by key index
    const char *key;                    //  name of the known key being read
} audit_walk_t;

//  Handles the value of known key `key`; returns how it went
typedef audit_walk_value_t (audit_walk_key_fn) (audit_walk_t *self, int key, void *record);

//  Start a walk over data, and reset info to "nothing learnt yet"
void
    audit_walk_init (audit_walk_t *self, const void *data, size_t size,
                     int64_t now_ms, audit_decode_info_t *info);

//  Walk the top-level map: each known key to handle, every other key
//  dropped. Returns 0, or -1 when the body is malformed.
int
    audit_walk_map (audit_walk_t *self, const audit_keys_key_t *keys, int key_count,
                    audit_walk_key_fn *handle, void *record);

//  Common ending of every decode: returns 0, or -1 with the record wiped
int
    audit_walk_outcome (audit_walk_t *self, bool malformed, void *record, size_t size);

//  Note a fault; the one of highest precedence is kept
void
    audit_walk_fault (audit_walk_t *self, audit_reason_t reason);

//  Note a fault of the key named field (a static name), not the one
//  being read: for the rules judged after the walk
void
    audit_walk_fault_field (audit_walk_t *self, audit_reason_t reason, const char *field);

//  The name of the first key of keys[0..count) whose bit is in required
//  and not in seen, or NULL
const char *
    audit_walk_first_missing (const audit_keys_key_t *keys, int count, uint64_t required,
                              uint64_t seen);

//  Note the fault `reason` when value is BAD; tell the walk whether to go on
audit_walk_value_t
    audit_walk_fault_if (audit_walk_t *self, audit_walk_value_t value, audit_reason_t reason);

//  Count a dropped key and report its name (sanitised)
void
    audit_walk_drop (audit_walk_t *self, const char *key, size_t len);

//  A read that found the wrong type: skip the value, call it BAD
audit_walk_value_t
    audit_walk_wrong_type (audit_walk_t *self, audit_mp_result_t rc);

//  Values of the wire types the contract uses; each consumes one value
audit_walk_value_t
    audit_walk_str (audit_walk_t *self, const char **text, uint32_t *len);
audit_walk_value_t
    audit_walk_uint (audit_walk_t *self, uint64_t min, uint64_t max, uint64_t *value);
//  An identifier, copied NUL-terminated into out (AUDIT_IDENT_MAX + 1)
audit_walk_value_t
    audit_walk_ident (audit_walk_t *self, char *out);
//  A UUID; its text goes to info->event_id too, for the log line
audit_walk_value_t
    audit_walk_uuid (audit_walk_t *self, uint8_t *uuid);
//  The field v: exactly AUDIT_PROTO_VERSION
audit_walk_value_t
    audit_walk_version (audit_walk_t *self);
//  A timestamp in either wire form, inside the window around now_ms
audit_walk_value_t
    audit_walk_timestamp (audit_walk_t *self, int64_t *ms);

#ifdef __cplusplus
}
#endif

#endif
