/*  =========================================================================
    bench_events - the realistic audit events the benchmarks store
    ========================================================================= */

#include "bench_events.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t
bench_events_mix (uint64_t value)
{
    value += 0x9E3779B97F4A7C15ULL;
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
    value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
    return value ^ (value >> 31);
}

//  Without a heavy tenant this is seed % orgs, as it always was, so that
//  directories kept by earlier runs stay valid
static int
s_org (const bench_events_t *self, long index, uint64_t seed)
{
    if (self->heavy_per_mille <= 0 || self->orgs < 2)
        return (int) (seed % (uint64_t) self->orgs);
    if (index % 1000 < self->heavy_per_mille)
        return 0;
    return 1 + (int) (seed % (uint64_t) (self->orgs - 1));
}

void
bench_events_make (const bench_events_t *self, long index, bench_event_t *event)
{
    uint64_t seed = bench_events_mix ((uint64_t) index);
    uint64_t more = bench_events_mix (seed);
    event->org = s_org (self, index, seed);
    event->type = (int) ((seed >> 8) % BENCH_EVENTS_TYPES);
    event->actor = (int) ((seed >> 16) % BENCH_EVENTS_USERS_PER_ORG);
    event->user = (int) ((seed >> 32) % BENCH_EVENTS_USERS_PER_ORG);
    event->device = (int) (more % BENCH_EVENTS_DEVICES_PER_ORG);
    event->group = (int) ((more >> 16) % BENCH_EVENTS_GROUPS_PER_ORG);
    event->role = (int) ((more >> 24) % BENCH_EVENTS_ROLES);
    event->number = (more >> 32) % 100000;
    event->unique = (uint64_t) index;
    event->ts = self->epoch_ms + index * self->step_ms;
    uint64_t halves [2] = { bench_events_mix (more), bench_events_mix (more + 1) };
    memcpy (event->uuid, halves, sizeof halves);
    event->uuid [6] = (uint8_t) ((event->uuid [6] & 0x0F) | 0x40);      //  v4
    event->uuid [8] = (uint8_t) ((event->uuid [8] & 0x3F) | 0x80);
}

void
bench_events_name (audit_field_t field, const bench_event_t *event, char *name)
{
    const size_t size = BENCH_EVENTS_NAME_SIZE;
    switch (field) {
        case AUDIT_FIELD_USER_ID:   snprintf (name, size, "usr_%03d_%06d", event->org, event->user); break;
        case AUDIT_FIELD_DEVICE_ID: snprintf (name, size, "dev_%03d_%06d", event->org, event->device); break;
        case AUDIT_FIELD_GROUP_ID:  snprintf (name, size, "grp_%03d_%04d", event->org, event->group); break;
        case AUDIT_FIELD_ROLE:      snprintf (name, size, "role_%d", event->role); break;
        case AUDIT_FIELD_BROADCAST_ID: snprintf (name, size, "bc_%012" PRIu64, event->unique); break;
        default:                    snprintf (name, size, "file_%012" PRIu64, event->unique); break;
    }
}

void
bench_events_org_name (int org, char *name)
{
    snprintf (name, BENCH_EVENTS_NAME_SIZE, "org_%03d", org);
}

void
bench_events_user_name (int org, int user, char *name)
{
    snprintf (name, BENCH_EVENTS_NAME_SIZE, "usr_%03d_%06d", org, user);
}

void
bench_events_record (const bench_events_t *self, long index, audit_record_t *record)
{
    bench_event_t row;
    bench_events_make (self, index, &row);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = row.ts + 3;
    audit_event_t *event = &record->u.event;
    memcpy (event->event_id, row.uuid, AUDIT_UUID_SIZE);
    event->type = (audit_event_type_t) row.type;
    event->timestamp_ms = row.ts;
    bench_events_org_name (row.org, event->org_id);
    bench_events_user_name (row.org, row.actor, event->actor_id);
    const audit_event_info_t *info = audit_proto_event_info (event->type);
    event->present = info->required | info->optional;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        if (!(event->present & AUDIT_FIELD_BIT (field)))
            continue;
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT)
            event->number [field] = field == AUDIT_FIELD_RETENTION_DAYS? 30: row.number;
        else
            bench_events_name ((audit_field_t) field, &row, event->text [field]);
    }
}
