/*  =========================================================================
    bench_events - the realistic audit events the benchmarks store

    Event n is a pure function of n and the generator's settings, so two
    runs (or two benchmarks) see the same rows and a kept data directory
    can be reused. Each organisation has pools of users (actors and users
    share one), devices and groups; the 18 producer types are mixed
    evenly; broadcast and file ids are new with every event, as in life.
    Timestamps rise by a fixed step, so (ts, id) order is insertion order.

    Organisations are org_000 ... and their members usr_OOO_NNNNNN,
    dev_OOO_NNNNNN, grp_OOO_NNNN. With heavy_per_mille > 0, org_000 takes
    exactly that share of every 1000 consecutive events and the others
    share the rest evenly (the one large tenant of the query benchmark).
    ========================================================================= */

#ifndef BENCH_EVENTS_H_INCLUDED
#define BENCH_EVENTS_H_INCLUDED

#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_EVENTS_USERS_PER_ORG   1000    //  actors and users share one pool
#define BENCH_EVENTS_DEVICES_PER_ORG 2000
#define BENCH_EVENTS_GROUPS_PER_ORG  50
#define BENCH_EVENTS_ROLES           5
#define BENCH_EVENTS_TYPES           18      //  the types producers may send
#define BENCH_EVENTS_NAME_SIZE       64

typedef struct {
    int orgs;                       //  organisations, >= 1 (>= 2 with a heavy one)
    int heavy_per_mille;            //  share of org_000 per 1000 events; 0: none
    int64_t epoch_ms;               //  timestamp of event 0
    int64_t step_ms;                //  from one event to the next
} bench_events_t;

//  One generated event: pool indices, from which names or ids derive
typedef struct {
    int org, type, actor, user, device, group, role;
    uint64_t number, unique;
    int64_t ts;
    uint8_t uuid [AUDIT_UUID_SIZE];
} bench_event_t;

//  splitmix64: cheap, and every bit of value reaches every bit out; the
//  generators' source of repeatable pseudo-random numbers.
uint64_t
    bench_events_mix (uint64_t value);

//  Event number index into *event.
void
    bench_events_make (const bench_events_t *self, long index, bench_event_t *event);

//  Name of the event's value of a resource field (IDENT kinds), as the
//  producers would send it, into name (BENCH_EVENTS_NAME_SIZE).
void
    bench_events_name (audit_field_t field, const bench_event_t *event, char *name);

//  Name of organisation org.
void
    bench_events_org_name (int org, char *name);

//  Name of member user of organisation org (an actor_id or user_id).
void
    bench_events_user_name (int org, int user, char *name);

//  Event number index as the decoder would hand it to the store.
void
    bench_events_record (const bench_events_t *self, long index, audit_record_t *record);

#ifdef __cplusplus
}
#endif

#endif
