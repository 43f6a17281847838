/*  audit_mp: every MessagePack format, and every bound that keeps hostile
    input from being trusted */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "audit_mp.h"

//  A reader over a byte literal
#define READER(name, ...) \
    static const uint8_t name##_bytes [] = { __VA_ARGS__ }; \
    audit_mp_reader_t name; \
    audit_mp_reader_init (&name, name##_bytes, sizeof name##_bytes)

Test (mp, unsigned_integers_in_every_encoding)
{
    READER (reader,
        0x00, 0x7f,                                 //  positive fixint
        0xcc, 0xff,                                 //  uint 8
        0xcd, 0x12, 0x34,                           //  uint 16
        0xce, 0x89, 0xab, 0xcd, 0xef,               //  uint 32
        0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,   //  uint 64
        0xd0, 0x7f,                                 //  int 8, non-negative
        0xd1, 0x01, 0x00,                           //  int 16
        0xd2, 0x00, 0x01, 0x00, 0x00,               //  int 32
        0xd3, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);  //  int 64
    const uint64_t expected [] = { 0, 127, 255, 0x1234, 0x89abcdef, UINT64_MAX,
                                   127, 256, 65536, INT64_MAX };
    for (size_t index = 0; index < sizeof expected / sizeof expected [0]; index++) {
        uint64_t value;
        cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_UINT, "value %zu", index);
        cr_assert_eq (audit_mp_read_uint (&reader, &value), AUDIT_MP_OK);
        cr_assert_eq (value, expected [index], "value %zu", index);
    }
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, negative_integers_are_wrong_type_and_consume_nothing)
{
    READER (reader, 0xff, 0xe0, 0xd0, 0x80, 0xd1, 0xff, 0xfe,
                    0xd2, 0xff, 0xff, 0xff, 0xff,
                    0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0);
    for (int index = 0; index < 6; index++) {
        uint64_t value = 42;
        size_t before = reader.pos;
        cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_NEGINT, "value %d", index);
        cr_assert_eq (audit_mp_read_uint (&reader, &value), AUDIT_MP_WRONG_TYPE);
        cr_assert_eq (reader.pos, before);
        cr_assert_eq (value, 42);
        cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    }
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, nil_bool_and_float)
{
    READER (reader, 0xc0, 0xc2, 0xc3, 0xca, 0x3f, 0x80, 0, 0,
                    0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0);
    bool flag = true;
    cr_assert_eq (audit_mp_read_bool (&reader, &flag), AUDIT_MP_WRONG_TYPE);
    cr_assert_eq (audit_mp_read_nil (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_read_bool (&reader, &flag), AUDIT_MP_OK);
    cr_assert_not (flag);
    cr_assert_eq (audit_mp_read_bool (&reader, &flag), AUDIT_MP_OK);
    cr_assert (flag);
    uint64_t value;
    cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_FLOAT);
    cr_assert_eq (audit_mp_read_uint (&reader, &value), AUDIT_MP_WRONG_TYPE);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (reader.pos, 8);
    cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_FLOAT);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, strings_in_every_encoding_are_borrowed)
{
    READER (reader, 0xa2, 'h', 'i',
                    0xd9, 0x03, 'a', 'b', 'c',
                    0xda, 0x00, 0x01, 'x',
                    0xdb, 0x00, 0x00, 0x00, 0x02, 'y', 'z',
                    0xa0);
    const char *expected [] = { "hi", "abc", "x", "yz", "" };
    for (int index = 0; index < 5; index++) {
        const char *text;
        uint32_t len;
        cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_STR);
        cr_assert_eq (audit_mp_read_str (&reader, &text, &len), AUDIT_MP_OK);
        cr_assert_eq (len, strlen (expected [index]));
        cr_assert_eq (memcmp (text, expected [index], len), 0);
        cr_assert (text >= (const char *) reader_bytes
                   && text <= (const char *) reader_bytes + sizeof reader_bytes);
    }
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, bins_in_every_encoding)
{
    READER (reader, 0xc4, 0x01, 0xaa,
                    0xc5, 0x00, 0x02, 0xbb, 0xcc,
                    0xc6, 0x00, 0x00, 0x00, 0x00);
    const uint32_t lengths [] = { 1, 2, 0 };
    for (int index = 0; index < 3; index++) {
        const uint8_t *data;
        uint32_t len;
        const char *text;
        cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_BIN);
        cr_assert_eq (audit_mp_read_str (&reader, &text, &len), AUDIT_MP_WRONG_TYPE);
        cr_assert_eq (audit_mp_read_bin (&reader, &data, &len), AUDIT_MP_OK);
        cr_assert_eq (len, lengths [index]);
    }
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, ext_in_every_encoding)
{
    READER (reader,
        0xd4, 0x01, 0xaa,                               //  fixext 1
        0xd5, 0x02, 1, 2,                               //  fixext 2
        0xd6, 0xff, 1, 2, 3, 4,                         //  fixext 4, type -1
        0xd7, 0xff, 1, 2, 3, 4, 5, 6, 7, 8,             //  fixext 8
        0xd8, 0x05, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        0xc7, 0x0c, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,    //  ext 8
        0xc8, 0x00, 0x01, 0x07, 0x42,                   //  ext 16
        0xc9, 0x00, 0x00, 0x00, 0x00, 0x80);            //  ext 32, empty
    const int8_t types [] = { 1, 2, -1, -1, 5, -1, 7, -128 };
    const uint32_t lengths [] = { 1, 2, 4, 8, 16, 12, 1, 0 };
    for (int index = 0; index < 8; index++) {
        int8_t type;
        const uint8_t *data;
        uint32_t len;
        cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_EXT, "ext %d", index);
        cr_assert_eq (audit_mp_read_ext (&reader, &type, &data, &len), AUDIT_MP_OK);
        cr_assert_eq (type, types [index], "ext %d", index);
        cr_assert_eq (len, lengths [index], "ext %d", index);
    }
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, containers_in_every_encoding)
{
    READER (reader, 0x92, 0x01, 0x02,                   //  fixarray
                    0xdc, 0x00, 0x01, 0xc0,             //  array 16
                    0xdd, 0x00, 0x00, 0x00, 0x01, 0xc0, //  array 32
                    0x81, 0xa1, 'k', 0x01,              //  fixmap
                    0xde, 0x00, 0x01, 0xa1, 'k', 0x01,  //  map 16
                    0xdf, 0x00, 0x00, 0x00, 0x00);      //  map 32, empty
    uint32_t count;
    cr_assert_eq (audit_mp_read_map (&reader, &count), AUDIT_MP_WRONG_TYPE);
    cr_assert_eq (audit_mp_read_array (&reader, &count), AUDIT_MP_OK);
    cr_assert_eq (count, 2);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_ARRAY);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_read_array (&reader, &count), AUDIT_MP_OK);
    cr_assert_eq (count, 1);
    cr_assert_eq (audit_mp_read_nil (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_MAP);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_read_map (&reader, &count), AUDIT_MP_OK);
    cr_assert_eq (count, 1);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_read_map (&reader, &count), AUDIT_MP_OK);
    cr_assert_eq (count, 0);
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, map_count_beyond_the_bytes_left_is_refused_at_once)
{
    READER (reader, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'k', 0x01, 0xa1, 'j');
    uint32_t count = 7;
    cr_assert_eq (audit_mp_read_map (&reader, &count), AUDIT_MP_MALFORMED);
    cr_assert_eq (count, 7);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_MALFORMED);
}

Test (mp, map_count_is_bounded_by_two_bytes_a_pair)
{
    READER (exact, 0x82, 0x01, 0x02, 0x03, 0x04);
    READER (short_one, 0x83, 0x01, 0x02, 0x03, 0x04, 0x05);
    uint32_t count;
    cr_assert_eq (audit_mp_read_map (&exact, &count), AUDIT_MP_OK);
    cr_assert_eq (count, 2);
    cr_assert_eq (audit_mp_read_map (&short_one, &count), AUDIT_MP_MALFORMED);
}

Test (mp, array_count_is_bounded_by_one_byte_a_value)
{
    READER (exact, 0x93, 0xc0, 0xc0, 0xc0);
    READER (huge, 0xdd, 0xee, 0x6b, 0x28, 0x00, 0xc0, 0xc0);     //  4e9 values
    uint32_t count;
    cr_assert_eq (audit_mp_read_array (&exact, &count), AUDIT_MP_OK);
    cr_assert_eq (count, 3);
    cr_assert_eq (audit_mp_read_array (&huge, &count), AUDIT_MP_MALFORMED);
    huge.pos = 0;
    cr_assert_eq (audit_mp_skip (&huge), AUDIT_MP_MALFORMED);
}

Test (mp, lengths_beyond_the_buffer_are_refused)
{
    READER (str32, 0xdb, 0x7f, 0xff, 0xff, 0xff, 'a', 'b');
    READER (str8, 0xd9, 0x03, 'a', 'b');
    READER (fixstr, 0xa5, 'a');
    READER (bin16, 0xc5, 0x01, 0x00, 0x00);
    READER (ext32, 0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00);
    READER (fixext16, 0xd8, 0x01, 0x00);
    const char *text;
    const uint8_t *data;
    uint32_t len;
    int8_t type;
    cr_assert_eq (audit_mp_read_str (&str32, &text, &len), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_read_str (&str8, &text, &len), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_read_str (&fixstr, &text, &len), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_read_bin (&bin16, &data, &len), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_read_ext (&ext32, &type, &data, &len), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_read_ext (&fixext16, &type, &data, &len), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_skip (&str32), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_skip (&ext32), AUDIT_MP_MALFORMED);
}

Test (mp, every_truncated_header_is_malformed)
{
    //  Each multi-byte format with nothing after its first byte
    for (int first = 0xc4; first <= 0xdf; first++) {
        uint8_t byte = (uint8_t) first;
        audit_mp_reader_t reader;
        audit_mp_reader_init (&reader, &byte, 1);
        cr_assert_neq (audit_mp_peek (&reader), AUDIT_MP_END);
        cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_MALFORMED, "0x%02x", first);
        cr_assert_eq (reader.pos, 0, "0x%02x", first);
    }
}

Test (mp, the_never_used_byte_is_malformed)
{
    READER (reader, 0xc1);
    uint64_t value;
    cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_INVALID);
    cr_assert_eq (audit_mp_read_uint (&reader, &value), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_MALFORMED);
}

Test (mp, reading_past_the_end_is_malformed)
{
    audit_mp_reader_t reader;
    audit_mp_reader_init (&reader, NULL, 0);
    uint64_t value;
    uint32_t count;
    cr_assert (audit_mp_at_end (&reader));
    cr_assert_eq (audit_mp_peek (&reader), AUDIT_MP_END);
    cr_assert_eq (audit_mp_read_uint (&reader, &value), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_read_map (&reader, &count), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_read_nil (&reader), AUDIT_MP_MALFORMED);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_MALFORMED);
}

Test (mp, skip_walks_nested_containers_exactly)
{
    READER (reader,
        0x82, 0xa1, 'a', 0x92, 0x01, 0x81, 0xa1, 'b', 0xc4, 0x01, 0x00,
              0xa1, 'c', 0xd6, 0xff, 0, 0, 0, 0,
        0x2a);
    uint64_t value;
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert_eq (audit_mp_read_uint (&reader, &value), AUDIT_MP_OK);
    cr_assert_eq (value, 42);
    cr_assert (audit_mp_at_end (&reader));
}

Test (mp, skip_refuses_a_container_missing_its_elements)
{
    READER (reader, 0x93, 0x01, 0x02);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_MALFORMED);
}

//  depth arrays nested in each other, the innermost holding one nil
static uint8_t *
s_nested (size_t depth, size_t *size)
{
    uint8_t *bytes = malloc (depth + 1);
    memset (bytes, 0x91, depth);
    bytes [depth] = 0xc0;
    *size = depth + 1;
    return bytes;
}

Test (mp, skip_follows_nesting_to_the_depth_limit_and_no_further)
{
    size_t size;
    audit_mp_reader_t reader;
    uint8_t *deepest = s_nested (AUDIT_MP_DEPTH_MAX, &size);
    audit_mp_reader_init (&reader, deepest, size);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_OK);
    cr_assert (audit_mp_at_end (&reader));
    free (deepest);

    uint8_t *too_deep = s_nested (AUDIT_MP_DEPTH_MAX + 1, &size);
    audit_mp_reader_init (&reader, too_deep, size);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_MALFORMED);
    free (too_deep);

    uint8_t *hostile = s_nested (10000, &size);
    audit_mp_reader_init (&reader, hostile, size);
    cr_assert_eq (audit_mp_skip (&reader), AUDIT_MP_MALFORMED);
    free (hostile);
}
