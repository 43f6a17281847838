/*  =========================================================================
    test_publisher - a producer process for the tests: publishes the feed
    through libaudit-producer, paced, and waits for every ack.

    test_publisher ENDPOINT ACK_ENDPOINT PRODUCER_ID OUTBOX TAG COUNT RATE BASE_MS

    With AUDIT_CURVE_SERVER_KEY set it publishes over CURVE, with the
    certificate AUDIT_CURVE_CLIENT_CERT (which must name PRODUCER_ID).

    Event index is the event of seq index (test_feed), so a run restarted
    on the same outbox after a SIGKILL continues from the library's resumed
    seq with exactly the events the killed run would have published next.
    RATE is events per second, 0 for flat out. Says "publisher: published
    seq=N" on stderr after every s_PROGRESS_EVERY events, so that a test can
    kill it at a known point of its stream, and one line at the end; exit
    status 0 when all COUNT events were acknowledged and none
    was rejected, 1 when something was refused or rejected, 2 on a timeout.
    ========================================================================= */

#include "audit_producer.h"
#include "test_feed.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define s_PROGRESS_EVERY    500

//  Publish from..count, at rate per second; false when one was refused
static bool
s_publish (audit_producer_t *producer, uint32_t tag, uint64_t from, uint64_t count,
           uint64_t rate, int64_t base_ms)
{
    int64_t started = zclock_mono ();
    for (uint64_t index = from; index <= count; index++) {
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        test_feed_event (&body, tag, index, base_ms);
        audit_producer_receipt_t receipt;
        int rc = audit_producer_publish (producer, "audit", body.data, body.size, &receipt);
        msgpack_sbuffer_destroy (&body);
        if (rc != 0 || receipt.seq != index) {
            fprintf (stderr, "publisher: refused index=%" PRIu64 " seq=%" PRIu64
                     " reason=%s field=%s\n", index, receipt.seq, receipt.reason, receipt.field);
            return false;
        }
        if ((index - from) % 50 == 49)
            test_feed_pace (started, index - from + 1, rate);
        if (index % s_PROGRESS_EVERY == 0 || index == count)
            fprintf (stderr, "publisher: published seq=%" PRIu64 "\n", index);
    }
    return true;
}

int
main (int argc, char **argv)
{
    if (argc != 9) {
        fprintf (stderr, "usage: test_publisher ENDPOINT ACK_ENDPOINT PRODUCER_ID OUTBOX"
                         " TAG COUNT RATE BASE_MS\n");
        return 1;
    }
    uint32_t tag = (uint32_t) strtoul (argv [5], NULL, 16);
    uint64_t count = strtoull (argv [6], NULL, 10), rate = strtoull (argv [7], NULL, 10);
    int64_t base_ms = strtoll (argv [8], NULL, 10);
    //  CURVE as the tests' CURVE mode gives it: from the client settings
    audit_producer_options_t options;
    audit_producer_options_init (&options);
    options.curve_server_key = getenv ("AUDIT_CURVE_SERVER_KEY");
    options.curve_client_cert = getenv ("AUDIT_CURVE_CLIENT_CERT");
    audit_producer_t *producer = audit_producer_new_with (argv [1], argv [2], argv [3], argv [4],
                                                          &options);
    if (!producer)
        return 1;
    audit_producer_stats_t stats;
    audit_producer_stats (producer, &stats);
    uint64_t resumed = stats.last_seq;
    fprintf (stderr, "publisher: started resumed_from=%" PRIu64 "\n", resumed);
    bool published = s_publish (producer, tag, resumed + 1, count, rate, base_ms);
    int flushed = audit_producer_flush (producer, 120000);
    audit_producer_stats (producer, &stats);
    fprintf (stderr, "publisher: done resumed_from=%" PRIu64 " published=%" PRIu64
             " acked=%" PRIu64 " rejected=%" PRIu64 " sent=%" PRIu64 " resent=%" PRIu64
             " acked_seq=%" PRIu64 " held=%" PRIu64 "\n", resumed, stats.published,
             stats.acked, stats.rejected, stats.sent, stats.resent, stats.acked_seq, stats.held);
    audit_producer_destroy (&producer);
    if (!published || stats.rejected)
        return 1;
    return flushed == 0 && stats.acked_seq == count? 0: 2;
}
