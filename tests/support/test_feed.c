/*  =========================================================================
    test_feed - deterministic audit events for the producer tests
    ========================================================================= */

#include "test_feed.h"
#include "audit_time.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void
test_feed_event_id (uint32_t tag, uint64_t index, char *event_id)
{
    snprintf (event_id, TEST_FEED_ID_SIZE, "%08" PRIx32 "-0000-4000-8000-%012" PRIx64,
              tag, index & UINT64_C (0xFFFFFFFFFFFF));
}

void
test_feed_like (uint32_t tag, char *pattern, size_t size)
{
    snprintf (pattern, size, "%08" PRIx32 "%%", tag);
}

static void
s_str (msgpack_packer *packer, const char *text)
{
    msgpack_pack_str (packer, strlen (text));
    msgpack_pack_str_body (packer, text, strlen (text));
}

void
test_feed_event (msgpack_sbuffer *body, uint32_t tag, uint64_t index, int64_t base_ms)
{
    char event_id [TEST_FEED_ID_SIZE], timestamp [AUDIT_TIME_TEXT_SIZE], actor [32];
    test_feed_event_id (tag, index, event_id);
    audit_time_format (base_ms + (int64_t) index, timestamp);
    snprintf (actor, sizeof actor, "feed-%" PRIx32, tag);
    msgpack_packer packer;
    msgpack_packer_init (&packer, body, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 6);
    s_str (&packer, "v");           msgpack_pack_uint64 (&packer, 1);
    s_str (&packer, "event_id");    s_str (&packer, event_id);
    s_str (&packer, "event_type");  s_str (&packer, "user_login");
    s_str (&packer, "timestamp");   s_str (&packer, timestamp);
    s_str (&packer, "org_id");      s_str (&packer, "org-feed");
    s_str (&packer, "actor_id");    s_str (&packer, actor);
}

void
test_feed_pace (int64_t started_ms, uint64_t done, uint64_t rate)
{
    if (!rate)
        return;
    int64_t due = started_ms + (int64_t) (done * 1000 / rate);
    int64_t now = zclock_mono ();
    if (due > now)
        zclock_sleep ((int) (due - now));
}
