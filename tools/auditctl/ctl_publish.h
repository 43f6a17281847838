/*  =========================================================================
    ctl_publish - auditctl publish: events into the ingest worker, from a
    JSON-lines file or as --demo N

    The ingest worker binds a SUB; auditctl connects an XPUB (a PUB that
    also receives its peers' subscriptions). A PUB drops every message
    sent before the SUB's subscription has crossed the wire (the ZeroMQ
    "slow joiner"), and a fixed sleep after connect only makes that
    unlikely. Waiting until the ingest worker's three subscriptions (audit,
    ops, mq) have arrived makes it certain, and turns "no ingest worker
    there" into a clear error after --timeout instead of events silently
    dropped. SNDHWM 0 (no limit) means nothing is dropped while sending
    fast, and linger = --timeout lets the queue drain at exit.

    A line of the file is one flat JSON object (see ctl_json): strings,
    integers, booleans, null. "topic" (audit, ops or mq, optionally
    ".shard"; default audit) picks the topic and is not sent. Filled in
    when missing, so that a hand-written line stays short: v (1); for
    audit event_id (a random UUID) and timestamp (now); for mq message_id
    and timestamp; for ops timestamp; with --producer, producer_id and
    seq 1, 2, ... on audit events. An mq "payload" string is sent as bin.
    ========================================================================= */

#ifndef CTL_PUBLISH_H_INCLUDED
#define CTL_PUBLISH_H_INCLUDED

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>

#include "ctl_args.h"
#include "ctl_json.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Longest line of a JSON-lines file (an mq payload of 256 KiB, escaped)
#define CTL_PUBLISH_LINE_MAX  (4 * 1024 * 1024)
//  Longest topic frame
#define CTL_PUBLISH_TOPIC_MAX 256

//  Where messages go: the socket in auditctl, a collector in tests.
//  Returns 0, or -1 to stop.
typedef int (ctl_publish_sink_fn) (void *arg, const char *topic, const void *body, size_t size);

//  What ctl_publish_encode adds to audit events: producer_id (NULL: none)
//  and the last seq used
typedef struct {
    const char *producer;
    uint64_t seq;
} ctl_publish_stamp_t;

//  Complete object (the defaults above, now_ms as "now") and pack it into
//  body; topic gets the topic frame. 0, or -1 with a reason in error.
int
    ctl_publish_encode (ctl_json_object_t *object, ctl_publish_stamp_t *stamp, int64_t now_ms,
                        char *topic, size_t topic_size, msgpack_sbuffer *body,
                        char *error, size_t error_size);

//  Read JSON lines from in (named name in messages) and hand each message
//  to sink. A bad line is reported on err as "name:LINE: reason" and
//  skipped; blank lines are skipped silently. *sent and *bad count lines.
//  0, or -1 when reading failed or the sink said stop.
int
    ctl_publish_lines (FILE *in, const char *name, ctl_publish_stamp_t *stamp,
                       ctl_publish_sink_fn *sink, void *arg, FILE *err,
                       uint64_t *sent, uint64_t *bad);

//  Run auditctl publish as args say. Returns an exit code: 0; 2 when the
//  file cannot be read or had bad lines; 3 when no ingest worker
//  subscribed within the timeout.
int
    ctl_publish_run (const ctl_args_t *args);

#ifdef __cplusplus
}
#endif

#endif
