/*  A failed reply is the contract's error map, whatever was written first;
    a finished reply becomes its frame, moved when large */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "query_reply.h"
#include "test_support.h"

static msgpack_object
s_decode (query_reply_t *reply, msgpack_unpacked *unpacked)
{
    size_t offset = 0;
    cr_assert_eq (msgpack_unpack_next (unpacked, reply->buffer.data, reply->buffer.size, &offset),
                  MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq (offset, reply->buffer.size, "one value, nothing after it");
    return unpacked->data;
}

Test (query_reply, success_starts_with_ok_true)
{
    query_reply_t reply;
    query_reply_init (&reply);
    query_reply_ok (&reply, 2);
    query_reply_kv_str (&reply, "service", "query");
    query_reply_kv_str_or_nil (&reply, "next_cursor", "");
    query_reply_finish (&reply);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    msgpack_object map = s_decode (&reply, &unpacked);
    cr_assert_eq (map.via.map.size, 3);
    cr_assert (test_obj_get (&map, "ok")->via.boolean);
    cr_assert_eq (test_obj_get (&map, "next_cursor")->type, MSGPACK_OBJECT_NIL);
    msgpack_unpacked_destroy (&unpacked);
    query_reply_release (&reply);
}

Test (query_reply, a_failure_replaces_what_was_written_and_the_first_one_wins)
{
    query_reply_t reply;
    query_reply_init (&reply);
    query_reply_ok (&reply, 1);
    query_reply_str (&reply, "events");
    query_reply_fail (&reply, AUDIT_ERROR_FORBIDDEN, "not your %s", "organisation");
    query_reply_fail (&reply, AUDIT_ERROR_INTERNAL, "second");
    query_reply_finish (&reply);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    msgpack_object map = s_decode (&reply, &unpacked);
    cr_assert_eq (map.via.map.size, 2);
    cr_assert_not (test_obj_get (&map, "ok")->via.boolean);
    const msgpack_object *error = test_obj_get (&map, "error");
    cr_assert (test_obj_str_eq (test_obj_get (error, "code"), "forbidden"));
    cr_assert (test_obj_str_eq (test_obj_get (error, "message"), "not your organisation"));
    query_reply_reset (&reply);
    cr_assert_eq (reply.buffer.size, 0);
    cr_assert_not (reply.failed);
    msgpack_unpacked_destroy (&unpacked);
    query_reply_release (&reply);
}

//  A reply of data_bytes in one bin, framed, the frame decoded again
static void
s_frame_round_trip (size_t data_bytes, bool moved)
{
    query_reply_t reply;
    query_reply_init (&reply);
    char *data = malloc (data_bytes);
    cr_assert_not_null (data);
    for (size_t at = 0; at < data_bytes; at++)
        data [at] = (char) ('a' + at % 26);
    query_reply_ok (&reply, 1);
    query_reply_str (&reply, "data");
    msgpack_pack_bin (&reply.packer, data_bytes);
    msgpack_pack_bin_body (&reply.packer, data, data_bytes);
    const char *before = reply.buffer.data;
    size_t size = reply.buffer.size, alloc = reply.buffer.alloc;
    zmq_msg_t frame;
    cr_assert_eq (query_reply_frame (&reply, &frame), 0);
    cr_assert_eq (zmq_msg_size (&frame), size);
    cr_expect_eq (zmq_msg_data (&frame) == before, moved, "moved: the reply's own bytes");
    //  The reply is ready for the next request, with room as large
    cr_expect_eq (reply.buffer.size, moved? 0: size);
    cr_expect_geq (reply.buffer.alloc, alloc);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    cr_assert_eq (msgpack_unpack_next (&unpacked, zmq_msg_data (&frame), zmq_msg_size (&frame),
                                       &offset), MSGPACK_UNPACK_SUCCESS);
    const msgpack_object *bin = test_obj_get (&unpacked.data, "data");
    cr_assert_eq (bin->via.bin.size, data_bytes);
    cr_expect_eq (memcmp (bin->via.bin.ptr, data, data_bytes), 0);
    msgpack_unpacked_destroy (&unpacked);
    cr_assert_eq (zmq_msg_close (&frame), 0);
    query_reply_reset (&reply);
    query_reply_ok (&reply, 0);
    cr_expect_gt (reply.buffer.size, 0, "the next reply writes into the new buffer");
    query_reply_release (&reply);
    free (data);
}

Test (query_reply, a_small_reply_is_copied_into_its_frame)
{
    s_frame_round_trip (100, false);
}

Test (query_reply, a_large_reply_is_moved_into_its_frame_and_the_next_one_has_room)
{
    s_frame_round_trip (3 * QUERY_REPLY_MOVE_BYTES, true);
}
