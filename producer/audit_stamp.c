/*  =========================================================================
    audit_stamp - what the producer adds to a body before it is checked,
    stored and sent
    ========================================================================= */

#include "audit_stamp.h"
#include "audit_mp.h"

#include <string.h>

static bool
s_is_key (const char *text, uint32_t len, const char *key)
{
    return len == strlen (key) && memcmp (text, key, len) == 0;
}

static int
s_pack_str (msgpack_packer *packer, const char *text)
{
    size_t len = strlen (text);
    return msgpack_pack_str (packer, len) || msgpack_pack_str_body (packer, text, len) ? -1 : 0;
}

//  Copy each pair but producer_id and seq; note whether the id is there
static int
s_copy_pairs (audit_stamp_t *self, audit_mp_reader_t *reader, uint32_t pairs,
              const char *id_key, bool *has_id)
{
    for (uint32_t index = 0; index < pairs; index++) {
        size_t start = reader->pos;
        const char *key = NULL;
        uint32_t len = 0;
        if (audit_mp_peek (reader) == AUDIT_MP_STR) {
            if (audit_mp_read_str (reader, &key, &len) != AUDIT_MP_OK)
                return -1;
        }
        else
        if (audit_mp_skip (reader) != AUDIT_MP_OK)
            return -1;
        if (audit_mp_skip (reader) != AUDIT_MP_OK)
            return -1;
        if (key && (s_is_key (key, len, "producer_id") || s_is_key (key, len, "seq")))
            continue;
        if (key && s_is_key (key, len, id_key))
            *has_id = true;
        if (msgpack_sbuffer_write (&self->pairs, (const char *) reader->data + start,
                                   reader->pos - start))
            return -1;
        self->count++;
    }
    return 0;
}

int
audit_stamp_prepare (audit_stamp_t *self, audit_topic_kind_t kind, const void *body,
                     size_t size, const char *producer_id, int64_t now_ms)
{
    memset (self, 0, sizeof *self);
    msgpack_sbuffer_init (&self->pairs);
    audit_mp_reader_t reader;
    audit_mp_reader_init (&reader, body, size);
    uint32_t pairs;
    bool has_id = false;
    const char *id_key = kind == AUDIT_TOPIC_KIND_MQ ? "message_id" : "event_id";
    if (audit_mp_read_map (&reader, &pairs) != AUDIT_MP_OK
    ||  s_copy_pairs (self, &reader, pairs, id_key, &has_id) || !audit_mp_at_end (&reader))
        return -1;
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->pairs, msgpack_sbuffer_write);
    if (!has_id) {
        if (audit_uuid7_text (now_ms, self->id) || s_pack_str (&packer, id_key)
        ||  s_pack_str (&packer, self->id))
            return -1;
        self->count++;
    }
    if (s_pack_str (&packer, "producer_id") || s_pack_str (&packer, producer_id))
        return -1;
    self->count++;
    return 0;
}

int
audit_stamp_body (const audit_stamp_t *self, msgpack_sbuffer *out, size_t *seq_at)
{
    static const char placeholder [9] = { (char) 0xcf };    //  uint 64, then 8 bytes
    msgpack_packer packer;
    msgpack_packer_init (&packer, out, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&packer, self->count + 1)
          || msgpack_sbuffer_write (out, self->pairs.data, self->pairs.size)
          || s_pack_str (&packer, "seq");
    *seq_at = out->size + 1;
    rc = rc || msgpack_sbuffer_write (out, placeholder, sizeof placeholder);
    return rc ? -1 : 0;
}

void
audit_stamp_set_seq (uint8_t *body, size_t seq_at, uint64_t seq)
{
    for (int index = 0; index < 8; index++)
        body [seq_at + (size_t) index] = (uint8_t) (seq >> (8 * (7 - index)));
}

void
audit_stamp_clear (audit_stamp_t *self)
{
    msgpack_sbuffer_destroy (&self->pairs);
    memset (&self->pairs, 0, sizeof self->pairs);
    self->count = 0;
}
