/*  A failed reply is the contract's error map, whatever was written first */

#include <criterion/criterion.h>
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
