/*  =========================================================================
    bench_feed - the events bench-ingest publishes, as most producers send
    them: random version-4 event ids, 1,000 organisations, the 18 producer
    types mixed, a producer_id and seq, only the required fields

    Event n is a pure function of (n, its timestamp, the salt), so the
    worker's burst and the bare loop store the same kind of rows; the salt
    differs per run, so that ids never repeat across runs.
    ========================================================================= */

#ifndef BENCH_FEED_H_INCLUDED
#define BENCH_FEED_H_INCLUDED

#include <msgpack.h>

#include "audit_proto.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_FEED_ORGS     1000
#define BENCH_FEED_USERS    1000        //  shared by every organisation
#define BENCH_FEED_DEVICES  20000
#define BENCH_FEED_GROUPS   50
#define BENCH_FEED_TEXT     64

//  One generated event: pool indices and the values derived from them
typedef struct {
    audit_event_type_t type;
    int org, actor, user, device, group;
    uint64_t n, number;
    int64_t ts;
    uint8_t uuid [AUDIT_UUID_SIZE];
} bench_feed_t;

//  Event number n at timestamp ts (ms) into *event.
void
    bench_feed_make (uint64_t n, int64_t ts, uint64_t salt, bench_feed_t *event);

//  The text or number of a field of the event's type (required ones).
void
    bench_feed_value (const bench_feed_t *event, audit_field_t field, char *text,
                      uint64_t *number);

//  Name of organisation org, of user (actor) user, into BENCH_FEED_TEXT.
void
    bench_feed_org_name (int org, char *name);
void
    bench_feed_user_name (int user, char *name);

//  The event as a producer publishes it (a version 1 map) into buffer,
//  cleared first; seq is its producer sequence number.
void
    bench_feed_pack (const bench_feed_t *event, uint64_t seq, msgpack_sbuffer *buffer);

//  The same as producer_id; producer_id NULL: without producer_id and seq,
//  as one hands an event to libaudit-producer, which stamps them.
void
    bench_feed_pack_as (const bench_feed_t *event, const char *producer_id, uint64_t seq,
                        msgpack_sbuffer *buffer);

#ifdef __cplusplus
}
#endif

#endif
