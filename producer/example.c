/*  example.c - publish audit events through libaudit-producer and wait
    until the service has acknowledged every one of them.

    cc example.c $(pkg-config --cflags --libs audit-producer msgpack) -o example
    ./example [ENDPOINT ACK_ENDPOINT OUTBOX]

    Exit status: 0 when every event was stored, 1 when one was rejected,
    2 when the acknowledgements did not come within 10 seconds.       */

#include <audit_producer.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

//  Said on the producer's background thread, for each rejected event
static void
on_rejected (void *arg, const audit_producer_rejection_t *rejection)
{
    (void) arg;
    fprintf (stderr, "rejected: seq %llu (%s): %s %s\n",
             (unsigned long long) rejection->seq, rejection->event_id,
             rejection->reason, rejection->field);
}

static void
pack_str (msgpack_packer *packer, const char *text)
{
    msgpack_pack_str (packer, strlen (text));
    msgpack_pack_str_body (packer, text, strlen (text));
}

//  A user_login event; event_id, producer_id and seq are the library's
static void
pack_login (msgpack_sbuffer *body, const char *user)
{
    char now [32];
    time_t seconds = time (NULL);
    strftime (now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", gmtime (&seconds));
    msgpack_packer packer;
    msgpack_packer_init (&packer, body, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 5);
    pack_str (&packer, "v");          msgpack_pack_uint64 (&packer, 1);
    pack_str (&packer, "event_type"); pack_str (&packer, "user_login");
    pack_str (&packer, "timestamp");  pack_str (&packer, now);
    pack_str (&packer, "org_id");     pack_str (&packer, "acme");
    pack_str (&packer, "actor_id");   pack_str (&packer, user);
}

int
main (int argc, char **argv)
{
    const char *endpoint = argc > 3 ? argv [1] : "tcp://127.0.0.1:5570";
    const char *ack_endpoint = argc > 3 ? argv [2] : "tcp://127.0.0.1:5572";
    const char *outbox = argc > 3 ? argv [3] : "example-outbox.db";
    audit_producer_options_t options;
    audit_producer_options_init (&options);
    options.on_rejected = on_rejected;
    audit_producer_t *producer = audit_producer_new_with (endpoint, ack_endpoint,
                                                          "example-1", outbox, &options);
    if (!producer)
        return 2;
    const char *users [] = { "user-1", "user-2", "user-3" };
    for (int index = 0; index < 3; index++) {
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        pack_login (&body, users [index]);
        audit_producer_receipt_t receipt;
        if (audit_producer_publish (producer, "audit", body.data, body.size, &receipt) == 0)
            printf ("queued seq %llu, event_id %s\n",
                    (unsigned long long) receipt.seq, receipt.event_id);
        else        //  refused at the call: nothing was queued
            printf ("refused: %s %s\n", receipt.reason, receipt.field);
        msgpack_sbuffer_destroy (&body);
    }
    int flushed = audit_producer_flush (producer, 10000);
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    printf ("acknowledged %llu (stored or duplicate %llu, rejected %llu)%s\n",
            (unsigned long long) stats.acked,
            (unsigned long long) (stats.acked - stats.rejected),
            (unsigned long long) stats.rejected, flushed ? ", some not yet" : "");
    audit_producer_destroy (&producer);
    return flushed ? 2 : stats.rejected ? 1 : 0;
}
