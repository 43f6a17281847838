/*  =========================================================================
    ctl_publish - auditctl publish: events into the ingest worker, from a
    JSON-lines file or as --demo N

    Audit and mq events go through libaudit-producer (producer/): checked
    at the call as the ingest worker checks them, kept in a durable outbox
    (--outbox, default $XDG_STATE_HOME/semafore-audit/PRODUCER.outbox, or
    ~/.local/state/... when XDG_STATE_HOME is unset), sent once the ingest
    worker's subscription and its acknowledgement ROUTER (--ack-endpoint,
    AUDIT_ACK_ENDPOINT) are there, and resent until acknowledged; the next
    run on the same outbox resends what this one left. --wait waits for
    every ack and prints what was stored (or a duplicate: an ack does not
    tell them apart) and what was rejected, with reasons. Operational
    records are best effort, as the contract says: they go out on an XPUB
    of their own once its ops subscription arrived.

    A line of the file is one flat JSON object (see ctl_json): strings,
    integers, booleans, null. "topic" (audit, ops or mq, optionally
    ".shard"; default audit) picks the topic and is not sent. Filled in
    when missing, so that a hand-written line stays short: v (1); for
    audit event_id (a random UUID) and timestamp (now); for mq message_id
    and timestamp; for ops timestamp. ctl_publish_encode still stamps
    producer_id and seq when given a stamp (tests use it); the command
    leaves them to the producer library. An mq "payload" is sent as bin.
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

//  Run auditctl publish as args say. Returns an exit code: 0; 1 when the
//  service rejected an event; 2 when the file cannot be read, had bad
//  lines, or an event was refused at the call; 3 when the events were not
//  all acknowledged (--wait) or sent within the timeout.
int
    ctl_publish_run (const ctl_args_t *args);

#ifdef __cplusplus
}
#endif

#endif
