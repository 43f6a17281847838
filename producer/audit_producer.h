/*  =========================================================================
    audit_producer - publish audit events so that none is lost and the
    producer knows: libaudit-producer (pkg-config: audit-producer)

    A producer connects a PUB socket (an XPUB, which the ingest worker sees
    as a PUB) to the ingest endpoint and a DEALER to the acknowledgement
    endpoint, as the wire contract's "Publishing" and "Acknowledgements"
    say. audit_producer_publish checks an event with the service's own
    decoder, stamps it (event_id when absent, producer_id, seq) and hands
    it to a background thread, which writes it to a durable outbox (an
    SQLite file), sends it, resends it until the service acknowledges it,
    then trims it.

    When an event is durable. publish returns 0 once the event is queued
    in memory. The background thread writes everything queued in one
    transaction with one fsync (a group commit: while one fsync runs, the
    next events queue up, so one fsync covers many events) and sends an
    event only after its commit. audit_producer_sync waits for that. A
    crash of the process or the machine loses the events whose publish
    returned but whose commit had not finished, typically the last few
    milliseconds of them; the service never saw those (they were never
    sent), and the next run on the same outbox gives their seqs to new
    events. Nothing durable is lost: a run resumed on the same outbox
    continues seq after the highest one written and resends everything
    not acknowledged; the service takes a resent event that it had already
    stored as a duplicate, so nothing is stored twice. audit_producer_destroy
    commits what is queued before it returns, but waits for no ack: call
    audit_producer_flush first for that.

    The slow joiner. A PUB drops what it sends before the subscriber's
    subscription has arrived. The background thread sends nothing until
    (1) the ingest worker's subscriptions to audit and mq have reached the
    XPUB (the only proof that the SUB side of this very connection is
    there) and (2) the service has answered a hello on the DEALER (the
    proof that the ack side is up, and the acknowledged seq to resend
    from). A new subscription later means a new connection (the ingest
    worker restarted): the producer says hello and resends at once
    everything above the acknowledged seq. The service answering nothing, the
    producer resends everything above the acknowledged seq that is not
    acknowledged within retry_ms (once: again only after the service has
    said something since, so that an outage does not pile copies up in the
    PUB's queue; a service that answers but acks nothing new doubles the
    interval each time, to 16 x retry_ms), and says hello again whenever
    it holds unacknowledged events and heard nothing for a second.

    What an ack tells, and what not. An ack settles seqs: each event up to
    its seq was stored, was a duplicate, or was rejected, and is on the
    service's disk; rejections are listed with reason and field. So the
    library counts acknowledged and rejected events, and stored-or-duplicate
    is their difference: it cannot tell a stored event from a duplicate
    (only the service's stats can). A rejection is reported at least once:
    after a restart of the producer, one reported just before the crash may
    be reported again.

    Thread safety. audit_producer_publish, _sync, _flush and _stats may be
    called from any number of threads at once (one mutex guards the queue
    and the counters). audit_producer_new and _destroy must not run
    concurrently with any other call on the same producer. The rejection
    callback runs on the background thread: it must return quickly and
    must not call audit_producer_flush, _sync or _destroy. One outbox file
    belongs to one producer at a time: a second one on it is refused.
    ========================================================================= */

#ifndef AUDIT_PRODUCER_H_INCLUDED
#define AUDIT_PRODUCER_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _audit_producer_t audit_producer_t;

//  Bytes of the texts of a receipt or rejection, with the NUL
#define AUDIT_PRODUCER_TEXT_SIZE    129

//  What publish tells about one event. On success seq and event_id (the
//  event's id, as given or made: event_id on audit, message_id on mq). On
//  refusal reason is a contract reason (malformed, bad_version,
//  missing_field, bad_field, unknown_type, reserved_type, bad_timestamp)
//  or one of the library's: bad_topic, outbox_full, failed; field names
//  the key that broke a rule, "" when none does.
typedef struct {
    uint64_t seq;
    char event_id [AUDIT_PRODUCER_TEXT_SIZE];
    char reason [AUDIT_PRODUCER_TEXT_SIZE];
    char field [AUDIT_PRODUCER_TEXT_SIZE];
} audit_producer_receipt_t;

//  An event the service rejected: event_id and field are "" when the ack
//  had none
typedef struct {
    uint64_t seq;
    const char *event_id;
    const char *reason;
    const char *field;
} audit_producer_rejection_t;

typedef void (audit_producer_rejected_fn) (void *arg, const audit_producer_rejection_t *rejection);

//  Settings; audit_producer_options_init gives the defaults
typedef struct {
    int retry_ms;                   //  resend what is not acknowledged after (2000)
    int hello_ms;                   //  hello after this long without a word (1000)
    uint64_t outbox_max;            //  events held unacknowledged at most (1,000,000)
    uint64_t window;                //  events sent and not acknowledged at most (100,000)
    audit_producer_rejected_fn *on_rejected;    //  NULL: rejections are only counted
    void *on_rejected_arg;
    //  CURVE (contract: "Transport security"), read by audit_producer_new_with
    //  only: the service's public key, 40 Z85 characters or the path of its
    //  public certificate (NULL: plaintext), and this producer's certificate,
    //  the public file whose metadata names producer_id, its secret beside it
    //  as "<file>_secret" (AUDIT_CURVE_SERVER_KEY, AUDIT_CURVE_CLIENT_CERT)
    const char *curve_server_key;
    const char *curve_client_cert;
} audit_producer_options_t;

//  Counters since audit_producer_new, and where the seqs stand
typedef struct {
    uint64_t published;             //  events publish accepted
    uint64_t refused;               //  events publish refused
    uint64_t acked;                 //  events acknowledged (stored, duplicate or rejected)
    uint64_t rejected;              //  of those, rejected by the service
    uint64_t sent;                  //  events sent, resends included
    uint64_t resent;                //  of those, sent again
    uint64_t last_seq;              //  highest seq given out (this outbox, every run)
    uint64_t durable_seq;           //  highest seq committed to the outbox
    uint64_t acked_seq;             //  highest seq acknowledged
    uint64_t held;                  //  events not acknowledged yet
    bool ready;                     //  subscribed and answered: sending
} audit_producer_stats_t;

//  Fill options with the defaults.
void
    audit_producer_options_init (audit_producer_options_t *options);

//  A producer with the default options: see audit_producer_new_with.
audit_producer_t *
    audit_producer_new (const char *endpoint, const char *ack_endpoint,
                        const char *producer_id, const char *outbox_path);

//  A producer publishing to endpoint (the ingest SUB), acknowledged on
//  ack_endpoint, as producer_id (an identifier), holding its events in the
//  file outbox_path (created when absent). options may be NULL. NULL when
//  it cannot start; the reason is then logged (level=error).
audit_producer_t *
    audit_producer_new_with (const char *endpoint, const char *ack_endpoint,
                             const char *producer_id, const char *outbox_path,
                             const audit_producer_options_t *options);

//  Commit what is queued, stop the thread, close; safe twice.
void
    audit_producer_destroy (audit_producer_t **self_p);

//  Publish one event: topic is "audit" or "mq", optionally ".shard"; body
//  is a MessagePack map as the contract describes, without seq or
//  producer_id (they are the producer's). Returns 0 when the event is
//  queued for the outbox, or -1 when it is refused; receipt (may be NULL)
//  says which seq it got or why it was refused. Never drops silently.
int
    audit_producer_publish (audit_producer_t *self, const char *topic, const void *body,
                            size_t size, audit_producer_receipt_t *receipt);

//  Wait until every event published so far is durable in the outbox.
//  0, or -1 when timeout_ms passed first.
int
    audit_producer_sync (audit_producer_t *self, int timeout_ms);

//  Wait until every event published so far is acknowledged (and trimmed
//  from the outbox in the next commit). 0, or -1 when timeout_ms passed first.
int
    audit_producer_flush (audit_producer_t *self, int timeout_ms);

//  A snapshot of the counters.
void
    audit_producer_stats (audit_producer_t *self, audit_producer_stats_t *stats);

#ifdef __cplusplus
}
#endif

#endif
