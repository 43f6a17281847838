/*  =========================================================================
    bench_feed - the events bench-ingest publishes
    ========================================================================= */

#include "bench_feed.h"

#include <stdio.h>
#include <string.h>

#include "audit_ident.h"
#include "bench_events.h"

void
bench_feed_make (uint64_t n, int64_t ts, uint64_t salt, bench_feed_t *event)
{
    uint64_t seed = bench_events_mix (n ^ salt);
    event->n = n;
    event->ts = ts;
    event->type = (audit_event_type_t) (n * 2654435761u % 18);
    event->org = (int) (n % BENCH_FEED_ORGS);
    event->actor = (int) (n * 31 % BENCH_FEED_USERS);
    event->user = (int) (n * 7 % BENCH_FEED_USERS);
    event->device = (int) (n * 13 % BENCH_FEED_DEVICES);
    event->group = (int) (n % BENCH_FEED_GROUPS);
    event->number = n % 5000 + 1;
    //  A random version 4 id, as most producers send: the duplicate check
    //  may not rely on ids in time order
    uint64_t halves [2] = { bench_events_mix (seed), bench_events_mix (seed + 1) };
    memcpy (event->uuid, halves, sizeof halves);
    event->uuid [6] = (uint8_t) ((event->uuid [6] & 0x0F) | 0x40);
    event->uuid [8] = (uint8_t) ((event->uuid [8] & 0x3F) | 0x80);
}

void
bench_feed_value (const bench_feed_t *event, audit_field_t field, char *text, uint64_t *number)
{
    const size_t size = BENCH_FEED_TEXT;
    switch (field) {
        case AUDIT_FIELD_USER_ID:   bench_feed_user_name (event->user, text); break;
        case AUDIT_FIELD_DEVICE_ID: snprintf (text, size, "dev-%05d", event->device); break;
        case AUDIT_FIELD_GROUP_ID:  snprintf (text, size, "grp-%02d", event->group); break;
        case AUDIT_FIELD_ROLE:      snprintf (text, size, "member"); break;
        case AUDIT_FIELD_BROADCAST_ID: snprintf (text, size, "bc-%llu", (unsigned long long) event->n); break;
        case AUDIT_FIELD_FILE_REF:  snprintf (text, size, "file-%llu", (unsigned long long) event->n); break;
        default: *number = field == AUDIT_FIELD_RETENTION_DAYS? 30: event->number; break;
    }
}

void
bench_feed_org_name (int org, char *name)
{
    snprintf (name, BENCH_FEED_TEXT, "org-%03d", org);
}

void
bench_feed_user_name (int user, char *name)
{
    snprintf (name, BENCH_FEED_TEXT, "user-%04d", user);
}

static void
s_pack_str (msgpack_packer *packer, const char *key, const char *value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_str_with_body (packer, value, strlen (value));
}

static void
s_pack_ts (msgpack_packer *packer, int64_t ms)
{
    uint64_t seconds = (uint64_t) (ms / 1000), nanos = (uint64_t) (ms % 1000) * 1000000;
    uint64_t packed = (nanos << 34) | seconds;
    uint8_t body [8];
    for (int index = 7; index >= 0; index--, packed >>= 8)
        body [index] = (uint8_t) packed;
    msgpack_pack_str_with_body (packer, "timestamp", 9);
    msgpack_pack_ext (packer, 8, -1);
    msgpack_pack_ext_body (packer, body, 8);
}

static void
s_pack_fields (const bench_feed_t *event, audit_field_mask_t required, msgpack_packer *packer)
{
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        if (!(required & AUDIT_FIELD_BIT (field)))
            continue;
        char text [BENCH_FEED_TEXT];
        uint64_t number = 0;
        bench_feed_value (event, (audit_field_t) field, text, &number);
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        if (info->kind == AUDIT_KIND_UINT) {
            msgpack_pack_str_with_body (packer, info->key, strlen (info->key));
            msgpack_pack_uint64 (packer, number);
        }
        else
            s_pack_str (packer, info->key, text);
    }
}

void
bench_feed_pack (const bench_feed_t *event, uint64_t seq, msgpack_sbuffer *buffer)
{
    bench_feed_pack_as (event, "bench", seq, buffer);
}

void
bench_feed_pack_as (const bench_feed_t *event, const char *producer_id, uint64_t seq,
                    msgpack_sbuffer *buffer)
{
    msgpack_sbuffer_clear (buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    const audit_event_info_t *info = audit_proto_event_info (event->type);
    char org [BENCH_FEED_TEXT], actor [BENCH_FEED_TEXT], id [AUDIT_IDENT_UUID_TEXT_SIZE];
    bench_feed_org_name (event->org, org);
    bench_feed_user_name (event->actor, actor);
    audit_ident_uuid_format (event->uuid, id);
    uint32_t stamp = producer_id ? 2 : 0;
    msgpack_pack_map (&packer, 6 + stamp + (uint32_t) __builtin_popcountll (info->required));
    msgpack_pack_str_with_body (&packer, "v", 1);
    msgpack_pack_uint8 (&packer, 1);
    s_pack_str (&packer, "event_id", id);
    s_pack_str (&packer, "event_type", info->name);
    s_pack_ts (&packer, event->ts);
    s_pack_str (&packer, "org_id", org);
    s_pack_str (&packer, "actor_id", actor);
    if (producer_id) {
        s_pack_str (&packer, "producer_id", producer_id);
        msgpack_pack_str_with_body (&packer, "seq", 3);
        msgpack_pack_uint64 (&packer, seq);
    }
    s_pack_fields (event, info->required, &packer);
}
