/*  =========================================================================
    test_feed - deterministic audit events for the producer tests: event
    index of feed tag is always the same bytes (its event_id derives from
    tag and index, its timestamp from base_ms and index), so that a
    producer process restarted after a SIGKILL publishes again exactly the
    events it would have, and a test can tell every stored row's origin.
    ========================================================================= */

#ifndef TEST_FEED_H_INCLUDED
#define TEST_FEED_H_INCLUDED

#include <msgpack.h>
#include <stdint.h>

//  Bytes of an event_id text, with the NUL
#define TEST_FEED_ID_SIZE 37

//  The event_id of event index of feed tag: "tttttttt-0000-4000-8000-iiiiiiiiiiii"
void test_feed_event_id (uint32_t tag, uint64_t index, char *event_id);

//  The SQL LIKE pattern that matches hex (uuid), the stored 16 bytes, of
//  every event of feed tag
void test_feed_like (uint32_t tag, char *pattern, size_t size);

//  Pack event index of feed tag (a user_login of org-feed, actor feed-<tag>,
//  at base_ms + index ms) into body, which the caller initialised. Without
//  producer_id and seq: they are the producer library's.
void test_feed_event (msgpack_sbuffer *body, uint32_t tag, uint64_t index, int64_t base_ms);

//  Sleep until done events are due at rate per second since started_ms
//  (zclock_mono); pacing a rate, never a wait for anything. rate 0: none.
void test_feed_pace (int64_t started_ms, uint64_t done, uint64_t rate);

#endif
