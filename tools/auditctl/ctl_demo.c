/*  =========================================================================
    ctl_demo - realistic audit events for auditctl publish --demo N
    ========================================================================= */

#include "ctl_demo.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "audit_proto.h"
#include "audit_time.h"

//  How often each type turns up, relative to 1; types not listed weigh 1
typedef struct {
    audit_event_type_t type;
    unsigned weight;
} s_weight_t;

static const s_weight_t s_weights [] = {
    { AUDIT_EVENT_USER_LOGIN, 8 }, { AUDIT_EVENT_USER_LOGOUT, 5 },
    { AUDIT_EVENT_USER_LOGIN_FAILED, 3 }, { AUDIT_EVENT_OTP_REQUESTED, 3 },
    { AUDIT_EVENT_BROADCAST_SENT, 3 }, { AUDIT_EVENT_FILE_TRANSFERRED, 4 },
};

static const char *s_roles [] = { "member", "admin", "viewer" };

#define S_ADMINS   3
#define S_USERS    40
#define S_DEVICES  60
#define S_GROUPS   8

static uint64_t
s_next (ctl_demo_t *self)
{
    self->state ^= self->state >> 12;
    self->state ^= self->state << 25;
    self->state ^= self->state >> 27;
    return self->state * 0x2545F4914F6CDD1DULL;
}

static uint64_t
s_below (ctl_demo_t *self, uint64_t bound)
{
    return s_next (self) % bound;
}

void
ctl_demo_init (ctl_demo_t *self, uint64_t seed, const char *org, const char *producer)
{
    self->state = seed ? seed : 0x9E3779B97F4A7C15ULL;     //  xorshift needs non-zero
    self->org = org;
    self->producer = producer ? producer : CTL_DEMO_PRODUCER;
}

void
ctl_demo_uuid (char *text)
{
    uint8_t bytes [16];
    if (getrandom (bytes, sizeof bytes, 0) != (ssize_t) sizeof bytes) {
        //  No entropy (very early boot): still unique enough for a demo
        ctl_demo_t fallback;
        ctl_demo_init (&fallback, (uint64_t) audit_time_now_ms () ^ (uint64_t) getpid (), NULL, NULL);
        for (size_t index = 0; index < sizeof bytes; index++)
            bytes [index] = (uint8_t) s_next (&fallback);
    }
    bytes [6] = (bytes [6] & 0x0f) | 0x40;
    bytes [8] = (bytes [8] & 0x3f) | 0x80;
    snprintf (text, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              bytes [0], bytes [1], bytes [2], bytes [3], bytes [4], bytes [5], bytes [6], bytes [7],
              bytes [8], bytes [9], bytes [10], bytes [11], bytes [12], bytes [13], bytes [14],
              bytes [15]);
}

static unsigned
s_weight (audit_event_type_t type)
{
    for (size_t index = 0; index < sizeof s_weights / sizeof s_weights [0]; index++)
        if (s_weights [index].type == type)
            return s_weights [index].weight;
    return 1;
}

//  A producer may publish any type but the reserved ones
static audit_event_type_t
s_pick_type (ctl_demo_t *self)
{
    unsigned total = 0;
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        if (!audit_proto_event_info ((audit_event_type_t) type)->reserved)
            total += s_weight ((audit_event_type_t) type);
    unsigned pick = (unsigned) s_below (self, total);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        if (audit_proto_event_info ((audit_event_type_t) type)->reserved)
            continue;
        unsigned weight = s_weight ((audit_event_type_t) type);
        if (pick < weight)
            return (audit_event_type_t) type;
        pick -= weight;
    }
    return AUDIT_EVENT_USER_LOGIN;
}

//  Values from a pool of this many, where the table alone would not make
//  them plausible; an IDENT field not listed gets a fresh value each time
typedef struct {
    audit_field_t field;
    unsigned pool;
} s_pool_t;

static const s_pool_t s_pools [] = {
    { AUDIT_FIELD_DEVICE_ID, S_DEVICES }, { AUDIT_FIELD_GROUP_ID, S_GROUPS },
};

//  No demo number passes this (a file of 50 MiB), nor its field's maximum
#define S_NUMBER_MAX  (50u << 20)

static unsigned
s_pool (audit_field_t field)
{
    for (size_t index = 0; index < sizeof s_pools / sizeof s_pools [0]; index++)
        if (s_pools [index].field == field)
            return s_pools [index].pool;
    return 1000000;
}

//  A value for one resource field from its row of the table: an IDENT is
//  "<key>-N" (the user is the event's own, a role one of a few), a UINT a
//  number within the field's range
static int
s_add_field (ctl_demo_t *self, ctl_json_object_t *object, audit_field_t field, const char *user)
{
    const audit_field_info_t *info = audit_proto_field_info (field);
    if (info->kind == AUDIT_KIND_UINT) {
        uint64_t max = info->max < S_NUMBER_MAX ? info->max : S_NUMBER_MAX;
        uint64_t min = info->min > 0 ? info->min : 1;
        uint64_t span = max >= min ? max - min + 1 : 1;
        return ctl_json_add_int (object, info->key, (int64_t) (min + s_below (self, span)));
    }
    char text [AUDIT_IDENT_MAX + 1];
    if (field == AUDIT_FIELD_USER_ID)
        snprintf (text, sizeof text, "%s", user);
    else
    if (field == AUDIT_FIELD_ROLE)
        snprintf (text, sizeof text, "%s", s_roles [s_below (self, 3)]);
    else
        snprintf (text, sizeof text, "%.100s-%u", info->key,
                  (unsigned) s_below (self, s_pool (field)) + 1);
    return ctl_json_add_str (object, info->key, text);
}

//  The envelope: who, when, where from
static int
s_add_envelope (ctl_demo_t *self, ctl_json_object_t *object, const audit_event_info_t *info,
                uint64_t seq, int64_t now_ms, const char *user)
{
    char event_id [37], org [32], actor [32], timestamp [AUDIT_TIME_TEXT_SIZE];
    ctl_demo_uuid (event_id);
    snprintf (org, sizeof org, "demo-org-%u", (unsigned) s_below (self, CTL_DEMO_ORGS) + 1);
    //  Members act on their own sessions; admins manage everything else
    if (info->category == AUDIT_CATEGORY_AUTHENTICATION || info->category == AUDIT_CATEGORY_FILE_TRANSFER)
        snprintf (actor, sizeof actor, "%s", user);
    else
        snprintf (actor, sizeof actor, "admin-%u", (unsigned) s_below (self, S_ADMINS) + 1);
    int64_t back_ms = (int64_t) s_below (self, CTL_DEMO_SPAN_MIN) * 60000 + (int64_t) s_below (self, 60000);
    audit_time_format (now_ms - back_ms, timestamp);
    return ctl_json_add_int (object, "v", AUDIT_PROTO_VERSION)
        || ctl_json_add_str (object, audit_proto_envelope_key (AUDIT_ENVELOPE_EVENT_ID), event_id)
        || ctl_json_add_str (object, audit_proto_envelope_key (AUDIT_ENVELOPE_EVENT_TYPE), info->name)
        || ctl_json_add_str (object, audit_proto_envelope_key (AUDIT_ENVELOPE_TIMESTAMP), timestamp)
        || ctl_json_add_str (object, audit_proto_envelope_key (AUDIT_ENVELOPE_ORG_ID),
                             self->org ? self->org : org)
        || ctl_json_add_str (object, audit_proto_envelope_key (AUDIT_ENVELOPE_ACTOR_ID), actor)
        || ctl_json_add_str (object, "producer_id", self->producer)
        || ctl_json_add_int (object, "seq", (int64_t) seq) ? -1 : 0;
}

int
ctl_demo_event (ctl_demo_t *self, uint64_t seq, int64_t now_ms, ctl_json_object_t *object)
{
    ctl_json_clear (object);
    const audit_event_info_t *info = audit_proto_event_info (s_pick_type (self));
    char user [32];
    snprintf (user, sizeof user, "user-%u", (unsigned) s_below (self, S_USERS) + 1);
    if (s_add_envelope (self, object, info, seq, now_ms, user))
        return -1;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        audit_field_mask_t bit = AUDIT_FIELD_BIT (field);
        bool wanted = (info->required & bit) || ((info->optional & bit) && s_below (self, 2));
        if (wanted && s_add_field (self, object, (audit_field_t) field, user))
            return -1;
    }
    return 0;
}
