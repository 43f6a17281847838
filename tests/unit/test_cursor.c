/*  Cursors: they round-trip, and any change to the text, or use under
    another key, organisation, op, filter set or order, is refused. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_cursor.h"

static audit_cursor_key_t *s_key;

static const char s_filter [] = "from=1700000000000;types=user_login,role_changed";

static audit_cursor_binding_t
s_binding (audit_cursor_order_t order)
{
    audit_cursor_binding_t binding = {
        .op = "list", .org = "acme", .filter = s_filter,
        .filter_len = sizeof s_filter - 1, .order = order
    };
    return binding;
}

static void
s_setup (void)
{
    s_key = audit_cursor_key_new_random ();
    cr_assert_not_null (s_key);
}

static void
s_teardown (void)
{
    audit_cursor_key_destroy (&s_key);
}

TestSuite (cursor, .init = s_setup, .fini = s_teardown);

static void
s_encode (audit_cursor_order_t order, int64_t ts, int64_t row, char *text)
{
    audit_cursor_binding_t binding = s_binding (order);
    audit_cursor_pos_t pos = { .ts_ms = ts, .row_id = row, .order = order };
    cr_assert_eq (audit_cursor_encode (s_key, &binding, &pos, text), 0);
    cr_assert_eq (strlen (text), AUDIT_CURSOR_TEXT_LEN);
}

static int
s_decode_with (const audit_cursor_binding_t *binding, const char *text,
               audit_cursor_pos_t *pos)
{
    return audit_cursor_decode (s_key, binding, text, strlen (text), pos);
}

Test (cursor, round_trip_both_orders)
{
    const int64_t cases [][2] = {
        { 1764150439123LL, 42 }, { 0, 0 }, { -1, -1 },
        { INT64_MAX, INT64_MAX }, { INT64_MIN, 1 }
    };
    for (size_t at = 0; at < sizeof cases / sizeof cases [0]; at++)
        for (int order = AUDIT_CURSOR_DESC; order <= AUDIT_CURSOR_ASC; order++) {
            char text [AUDIT_CURSOR_TEXT_SIZE];
            s_encode ((audit_cursor_order_t) order, cases [at][0], cases [at][1], text);
            cr_assert_eq (strspn (text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_"), AUDIT_CURSOR_TEXT_LEN);
            audit_cursor_binding_t binding = s_binding ((audit_cursor_order_t) order);
            audit_cursor_pos_t pos;
            cr_assert_eq (s_decode_with (&binding, text, &pos), 0);
            cr_assert_eq (pos.ts_ms, cases [at][0]);
            cr_assert_eq (pos.row_id, cases [at][1]);
            cr_assert_eq ((int) pos.order, order);
        }
}

Test (cursor, every_single_bit_flip_is_refused)
{
    char text [AUDIT_CURSOR_TEXT_SIZE];
    s_encode (AUDIT_CURSOR_DESC, 1764150439123LL, 9001, text);
    audit_cursor_binding_t binding = s_binding (AUDIT_CURSOR_DESC);
    audit_cursor_pos_t pos;
    for (size_t at = 0; at < AUDIT_CURSOR_TEXT_LEN; at++)
        for (int bit = 0; bit < 8; bit++) {
            char tampered [AUDIT_CURSOR_TEXT_SIZE];
            memcpy (tampered, text, sizeof tampered);
            tampered [at] = (char) (tampered [at] ^ (1 << bit));
            cr_assert_eq (audit_cursor_decode (s_key, &binding, tampered,
                                               AUDIT_CURSOR_TEXT_LEN, &pos), -1,
                          "flip of bit %d at %zu accepted", bit, at);
        }
    cr_assert_eq (s_decode_with (&binding, text, &pos), 0);
}

Test (cursor, truncated_and_extended)
{
    char text [AUDIT_CURSOR_TEXT_SIZE];
    s_encode (AUDIT_CURSOR_ASC, 5, 6, text);
    audit_cursor_binding_t binding = s_binding (AUDIT_CURSOR_ASC);
    audit_cursor_pos_t pos;
    for (size_t len = 0; len < AUDIT_CURSOR_TEXT_LEN; len++)
        cr_assert_eq (audit_cursor_decode (s_key, &binding, text, len, &pos), -1);
    char longer [AUDIT_CURSOR_TEXT_SIZE + 4];
    snprintf (longer, sizeof longer, "%sAAAA", text);
    cr_assert_eq (s_decode_with (&binding, longer, &pos), -1);
    snprintf (longer, sizeof longer, "%s=", text);
    cr_assert_eq (s_decode_with (&binding, longer, &pos), -1);
}

Test (cursor, bound_to_org_op_filter_and_order)
{
    char text [AUDIT_CURSOR_TEXT_SIZE];
    s_encode (AUDIT_CURSOR_DESC, 1764150439123LL, 77, text);
    audit_cursor_pos_t pos;

    audit_cursor_binding_t other = s_binding (AUDIT_CURSOR_DESC);
    other.org = "globex";
    cr_assert_eq (s_decode_with (&other, text, &pos), -1, "other org");
    other.org = NULL;
    cr_assert_eq (s_decode_with (&other, text, &pos), -1, "no org");

    other = s_binding (AUDIT_CURSOR_DESC);
    other.op = "export";
    cr_assert_eq (s_decode_with (&other, text, &pos), -1, "other op");

    other = s_binding (AUDIT_CURSOR_DESC);
    other.filter_len--;
    cr_assert_eq (s_decode_with (&other, text, &pos), -1, "other filters");
    other.filter = NULL;
    other.filter_len = 0;
    cr_assert_eq (s_decode_with (&other, text, &pos), -1, "no filters");

    other = s_binding (AUDIT_CURSOR_ASC);
    cr_assert_eq (s_decode_with (&other, text, &pos), -1, "other order");

    other = s_binding (AUDIT_CURSOR_DESC);
    cr_assert_eq (s_decode_with (&other, text, &pos), 0, "the same request");
}

Test (cursor, org_and_op_boundaries_do_not_blur)
{
    //  ("list", "acme") must not equal ("lista", "cme") and the like
    audit_cursor_binding_t binding = s_binding (AUDIT_CURSOR_DESC);
    binding.op = "lis";
    binding.org = "tacme";
    audit_cursor_pos_t pos = { .ts_ms = 1, .row_id = 2, .order = AUDIT_CURSOR_DESC };
    char text [AUDIT_CURSOR_TEXT_SIZE];
    cr_assert_eq (audit_cursor_encode (s_key, &binding, &pos, text), 0);
    audit_cursor_binding_t plain = s_binding (AUDIT_CURSOR_DESC);
    cr_assert_eq (s_decode_with (&plain, text, &pos), -1);
}

Test (cursor, other_key_is_refused)
{
    char text [AUDIT_CURSOR_TEXT_SIZE];
    s_encode (AUDIT_CURSOR_DESC, 10, 20, text);
    audit_cursor_key_t *other = audit_cursor_key_new_random ();
    cr_assert_not_null (other);
    audit_cursor_binding_t binding = s_binding (AUDIT_CURSOR_DESC);
    audit_cursor_pos_t pos;
    cr_assert_eq (audit_cursor_decode (other, &binding, text, strlen (text), &pos), -1);
    audit_cursor_key_destroy (&other);
    audit_cursor_key_destroy (&other);
    cr_assert_null (other);
}

Test (cursor, derived_keys_agree_and_differ)
{
    audit_cursor_key_t *one = audit_cursor_key_new_from_bytes ("shared-secret", 13);
    audit_cursor_key_t *two = audit_cursor_key_new_from_bytes ("shared-secret", 13);
    audit_cursor_key_t *three = audit_cursor_key_new_from_bytes ("shared-secreT", 13);
    cr_assert (one && two && three);
    cr_assert_null (audit_cursor_key_new_from_bytes ("", 0));
    audit_cursor_binding_t binding = s_binding (AUDIT_CURSOR_ASC);
    audit_cursor_pos_t pos = { .ts_ms = 3, .row_id = 4, .order = AUDIT_CURSOR_ASC };
    char text [AUDIT_CURSOR_TEXT_SIZE];
    cr_assert_eq (audit_cursor_encode (one, &binding, &pos, text), 0);
    cr_assert_eq (audit_cursor_decode (two, &binding, text, strlen (text), &pos), 0);
    cr_assert_eq (pos.row_id, 4);
    cr_assert_eq (audit_cursor_decode (three, &binding, text, strlen (text), &pos), -1);
    cr_assert_eq (audit_cursor_decode (s_key, &binding, text, strlen (text), &pos), -1);
    audit_cursor_key_destroy (&one);
    audit_cursor_key_destroy (&two);
    audit_cursor_key_destroy (&three);
}

Test (cursor, garbage_and_oversized_input)
{
    audit_cursor_binding_t binding = s_binding (AUDIT_CURSOR_DESC);
    audit_cursor_pos_t pos;
    const char *garbage [] = {
        "", "x", "null", "AAAA",
        "????????????????????????????????????????????????????????????????????????????????????????",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "QUFB+/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t at = 0; at < sizeof garbage / sizeof garbage [0]; at++)
        cr_assert_eq (s_decode_with (&binding, garbage [at], &pos), -1, "%s", garbage [at]);

    //  88 bytes with a NUL inside
    char with_nul [AUDIT_CURSOR_TEXT_SIZE];
    s_encode (AUDIT_CURSOR_DESC, 1, 1, with_nul);
    with_nul [40] = '\0';
    cr_assert_eq (audit_cursor_decode (s_key, &binding, with_nul,
                                       AUDIT_CURSOR_TEXT_LEN, &pos), -1);

    size_t size = 1 << 20;
    char *huge = malloc (size);
    memset (huge, 'A', size);
    cr_assert_eq (audit_cursor_decode (s_key, &binding, huge, size, &pos), -1);
    free (huge);
}

Test (cursor, bad_arguments)
{
    audit_cursor_binding_t binding = s_binding (AUDIT_CURSOR_DESC);
    audit_cursor_pos_t pos = { .ts_ms = 1, .row_id = 1, .order = AUDIT_CURSOR_ASC };
    char text [AUDIT_CURSOR_TEXT_SIZE];
    cr_assert_eq (audit_cursor_encode (s_key, &binding, &pos, text), -1, "order mismatch");
    pos.order = AUDIT_CURSOR_DESC;
    cr_assert_eq (audit_cursor_encode (NULL, &binding, &pos, text), -1);
    binding.op = NULL;
    cr_assert_eq (audit_cursor_encode (s_key, &binding, &pos, text), -1);
    binding = s_binding (AUDIT_CURSOR_DESC);
    cr_assert_eq (audit_cursor_encode (s_key, &binding, &pos, text), 0);
    cr_assert_eq (audit_cursor_decode (s_key, NULL, text, strlen (text), &pos), -1);
    cr_assert_eq (audit_cursor_decode (s_key, &binding, NULL, 0, &pos), -1);
}
