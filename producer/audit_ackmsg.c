/*  =========================================================================
    audit_ackmsg - the messages of the acknowledgement channel
    ========================================================================= */

#include "audit_ackmsg.h"
#include "audit_mp.h"

#include <stdbool.h>
#include <string.h>

static int
s_pack_str (msgpack_packer *packer, const char *text)
{
    size_t len = strlen (text);
    return msgpack_pack_str (packer, len) || msgpack_pack_str_body (packer, text, len) ? -1 : 0;
}

int
audit_ackmsg_hello (const char *producer_id, msgpack_sbuffer *out)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&packer, 3)
          || s_pack_str (&packer, "v") || msgpack_pack_uint64 (&packer, 1)
          || s_pack_str (&packer, "op") || s_pack_str (&packer, "hello")
          || s_pack_str (&packer, "producer_id") || s_pack_str (&packer, producer_id);
    return rc ? -1 : 0;
}

static bool
s_is (const char *text, uint32_t len, const char *key)
{
    return len == strlen (key) && memcmp (text, key, len) == 0;
}

//  A str (or nil, when nil_ok) into out; nil gives ""
static int
s_read_text (audit_mp_reader_t *reader, char *out, bool nil_ok)
{
    const char *text;
    uint32_t len;
    if (nil_ok && audit_mp_peek (reader) == AUDIT_MP_NIL) {
        out [0] = 0;
        return audit_mp_read_nil (reader) == AUDIT_MP_OK ? 0 : -1;
    }
    if (audit_mp_read_str (reader, &text, &len) != AUDIT_MP_OK || len > AUDIT_ACKMSG_TEXT_MAX)
        return -1;
    memcpy (out, text, len);
    out [len] = 0;
    return 0;
}

static int
s_rejection (audit_mp_reader_t *reader, audit_ackmsg_rejection_t *entry)
{
    uint32_t pairs;
    if (audit_mp_read_map (reader, &pairs) != AUDIT_MP_OK)
        return -1;
    memset (entry, 0, sizeof *entry);
    for (uint32_t index = 0; index < pairs; index++) {
        const char *key;
        uint32_t len;
        if (audit_mp_read_str (reader, &key, &len) != AUDIT_MP_OK)
            return -1;
        int rc = s_is (key, len, "seq")      ? (audit_mp_read_uint (reader, &entry->seq) != AUDIT_MP_OK)
               : s_is (key, len, "event_id") ? s_read_text (reader, entry->event_id, true)
               : s_is (key, len, "reason")   ? s_read_text (reader, entry->reason, false)
               : s_is (key, len, "field")    ? s_read_text (reader, entry->field, true)
               : (audit_mp_skip (reader) != AUDIT_MP_OK);
        if (rc)
            return -1;
    }
    return entry->seq && entry->reason [0] ? 0 : -1;
}

static int
s_rejected (audit_mp_reader_t *reader, audit_ackmsg_t *ack)
{
    uint32_t count;
    if (audit_mp_read_array (reader, &count) != AUDIT_MP_OK || count > AUDIT_ACKMSG_REJECTED_MAX)
        return -1;
    for (uint32_t index = 0; index < count; index++)
        if (s_rejection (reader, &ack->rejected [index]))
            return -1;
    ack->rejected_count = count;
    return 0;
}

//  One key of the ack; *seen gets a bit per required key met
static int
s_ack_key (audit_mp_reader_t *reader, const char *key, uint32_t len, const char *producer_id,
           audit_ackmsg_t *ack, unsigned *seen)
{
    char text [AUDIT_ACKMSG_TEXT_MAX + 1];
    uint64_t version;
    if (s_is (key, len, "v")) {
        *seen |= 1;
        return audit_mp_read_uint (reader, &version) == AUDIT_MP_OK && version == 1 ? 0 : -1;
    }
    if (s_is (key, len, "op")) {
        *seen |= 2;
        return s_read_text (reader, text, false) == 0 && strcmp (text, "ack") == 0 ? 0 : -1;
    }
    if (s_is (key, len, "producer_id")) {
        *seen |= 4;
        return s_read_text (reader, text, false) == 0 && strcmp (text, producer_id) == 0 ? 0 : -1;
    }
    if (s_is (key, len, "seq")) {
        *seen |= 8;
        return audit_mp_read_uint (reader, &ack->seq) == AUDIT_MP_OK ? 0 : -1;
    }
    if (s_is (key, len, "rejected"))
        return s_rejected (reader, ack);
    return audit_mp_skip (reader) == AUDIT_MP_OK ? 0 : -1;
}

int
audit_ackmsg_parse (const void *data, size_t size, const char *producer_id, audit_ackmsg_t *ack)
{
    audit_mp_reader_t reader;
    audit_mp_reader_init (&reader, data, size);
    ack->seq = 0;
    ack->rejected_count = 0;
    uint32_t pairs;
    unsigned seen = 0;
    if (audit_mp_read_map (&reader, &pairs) != AUDIT_MP_OK)
        return -1;
    for (uint32_t index = 0; index < pairs; index++) {
        const char *key;
        uint32_t len;
        if (audit_mp_read_str (&reader, &key, &len) != AUDIT_MP_OK
        ||  s_ack_key (&reader, key, len, producer_id, ack, &seen))
            return -1;
    }
    return seen == 15 && audit_mp_at_end (&reader) ? 0 : -1;
}
