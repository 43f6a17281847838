/*  =========================================================================
    ctl_print - what auditctl shows: a table for people, JSON lines for
    programs (--json)
    ========================================================================= */

#include "ctl_print.h"

#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "audit_proto.h"
#include "audit_time.h"
#include "ctl_json.h"
#include "ctl_reply.h"

//  Deeper than any reply of contract version 1
#define S_JSON_DEPTH_MAX  16
//  Room for the longest text a table cell shows (an ops path)
#define S_CELL_MAX        2100


static void
s_write_base64 (FILE *out, const void *data, size_t size)
{
    unsigned char *text = malloc (4 * ((size + 2) / 3) + 1);
    if (!text) {
        fputs ("null", out);
        return;
    }
    int len = EVP_EncodeBlock (text, data, (int) size);
    fputc ('"', out);
    fwrite (text, 1, (size_t) len, out);
    fputc ('"', out);
    free (text);
}

static void s_json (FILE *out, const msgpack_object *obj, int depth);

static void
s_json_map (FILE *out, const msgpack_object *obj, int depth)
{
    fputc ('{', out);
    for (uint32_t index = 0; index < obj->via.map.size; index++) {
        const msgpack_object_kv *pair = &obj->via.map.ptr [index];
        if (index)
            fputc (',', out);
        if (pair->key.type == MSGPACK_OBJECT_STR)
            ctl_json_write_str (out, pair->key.via.str.ptr, pair->key.via.str.size);
        else
            fputs ("\"?\"", out);       //  JSON keys are strings; ours always are
        fputc (':', out);
        s_json (out, &pair->val, depth + 1);
    }
    fputc ('}', out);
}

static void
s_json_scalar_ext (FILE *out, const msgpack_object *obj)
{
    int64_t ms;
    char text [AUDIT_TIME_TEXT_SIZE];
    if (obj->via.ext.type == -1
    &&  audit_time_from_ext ((const uint8_t *) obj->via.ext.ptr, obj->via.ext.size, &ms) == 0) {
        audit_time_format (ms, text);
        fprintf (out, "\"%s\"", text);
    }
    else
        s_write_base64 (out, obj->via.ext.ptr, obj->via.ext.size);
}

static void
s_json (FILE *out, const msgpack_object *obj, int depth)
{
    if (depth > S_JSON_DEPTH_MAX) {
        fputs ("null", out);
        return;
    }
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL: fputs ("null", out); break;
        case MSGPACK_OBJECT_BOOLEAN: fputs (obj->via.boolean ? "true" : "false", out); break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER: fprintf (out, "%" PRIu64, obj->via.u64); break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: fprintf (out, "%" PRId64, obj->via.i64); break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (isfinite (obj->via.f64))
                fprintf (out, "%.17g", obj->via.f64);
            else
                fputs ("null", out);
            break;
        case MSGPACK_OBJECT_STR: ctl_json_write_str (out, obj->via.str.ptr, obj->via.str.size); break;
        case MSGPACK_OBJECT_BIN: s_write_base64 (out, obj->via.bin.ptr, obj->via.bin.size); break;
        case MSGPACK_OBJECT_EXT: s_json_scalar_ext (out, obj); break;
        case MSGPACK_OBJECT_MAP: s_json_map (out, obj, depth); break;
        case MSGPACK_OBJECT_ARRAY:
            fputc ('[', out);
            for (uint32_t index = 0; index < obj->via.array.size; index++) {
                if (index)
                    fputc (',', out);
                s_json (out, &obj->via.array.ptr [index], depth + 1);
            }
            fputc (']', out);
            break;
    }
}

void
ctl_print_json (FILE *out, const msgpack_object *obj)
{
    s_json (out, obj, 0);
}

//  A cell's text: a str sanitised, an unsigned number, or "-"
static const char *
s_cell (const msgpack_object *obj, char *text, size_t size)
{
    uint64_t number;
    if (ctl_reply_text (obj, text, size) == 0)
        return *text ? text : "-";
    if (ctl_reply_uint (obj, &number) == 0)
        snprintf (text, size, "%" PRIu64, number);
    else
        snprintf (text, size, "-");
    return text;
}

void
ctl_print_event_header (FILE *out)
{
    fprintf (out, "%-8s  %-24s  %-25s  %-20s  %s\n", "INDEX", "TIMESTAMP", "EVENT_TYPE", "ACTOR",
             "RESOURCES");
}

//  An envelope key of a stored event (proto/audit_envelope.def): it has a
//  column of its own, or none at all
static bool
s_is_envelope (const msgpack_object *key)
{
    for (int envelope = 0; envelope < AUDIT_ENVELOPE_COUNT; envelope++) {
        const char *name = audit_proto_envelope_key ((audit_envelope_t) envelope);
        if (key->via.str.size == strlen (name)
        &&  memcmp (key->via.str.ptr, name, key->via.str.size) == 0)
            return true;
    }
    return false;
}

//  "user_id=u-1 device_id=d-7", in the order the server sent them
static void
s_print_resources (FILE *out, const msgpack_object *event)
{
    char key [64], value [S_CELL_MAX];
    bool any = false;
    for (uint32_t index = 0; index < event->via.map.size; index++) {
        const msgpack_object_kv *pair = &event->via.map.ptr [index];
        if (pair->key.type != MSGPACK_OBJECT_STR || s_is_envelope (&pair->key))
            continue;
        ctl_reply_text (&pair->key, key, sizeof key);
        fprintf (out, "%s%s=%s", any ? " " : "", key, s_cell (&pair->val, value, sizeof value));
        any = true;
    }
    if (!any)
        fputc ('-', out);
}

void
ctl_print_event (FILE *out, const msgpack_object *event, bool json)
{
    if (json || event->type != MSGPACK_OBJECT_MAP) {
        ctl_print_json (out, event);
        fputc ('\n', out);
        return;
    }
    char index [32], timestamp [64], type [64], actor [S_CELL_MAX];
    fprintf (out, "%-8s  %-24s  %-25s  %-20s  ",
             s_cell (ctl_reply_field (event, "log_index"), index, sizeof index),
             s_cell (ctl_reply_field (event, "timestamp"), timestamp, sizeof timestamp),
             s_cell (ctl_reply_field (event, "event_type"), type, sizeof type),
             s_cell (ctl_reply_field (event, "actor_id"), actor, sizeof actor));
    s_print_resources (out, event);
    fputc ('\n', out);
}

void
ctl_print_record_header (FILE *out)
{
    fprintf (out, "%-24s  %-6s  %-7s  %-39s  %s\n", "TIMESTAMP", "STATUS", "METHOD", "CLIENT_IP", "PATH");
}

void
ctl_print_record (FILE *out, const msgpack_object *record, bool json)
{
    if (json || record->type != MSGPACK_OBJECT_MAP) {
        ctl_print_json (out, record);
        fputc ('\n', out);
        return;
    }
    char timestamp [64], status [32], method [32], ip [64], path [S_CELL_MAX];
    fprintf (out, "%-24s  %-6s  %-7s  %-39s  %s\n",
             s_cell (ctl_reply_field (record, "timestamp"), timestamp, sizeof timestamp),
             s_cell (ctl_reply_field (record, "status"), status, sizeof status),
             s_cell (ctl_reply_field (record, "method"), method, sizeof method),
             s_cell (ctl_reply_field (record, "client_ip"), ip, sizeof ip),
             s_cell (ctl_reply_field (record, "path"), path, sizeof path));
}

void
ctl_print_message_header (FILE *out)
{
    fprintf (out, "%-36s  %-24s  %s\n", "MESSAGE_ID", "TIMESTAMP", "SIZE");
}

void
ctl_print_message (FILE *out, const msgpack_object *message, bool json)
{
    char id [64], timestamp [64];
    const msgpack_object *payload = ctl_reply_field (message, "payload");
    size_t size = payload && payload->type == MSGPACK_OBJECT_BIN ? payload->via.bin.size : 0;
    s_cell (ctl_reply_field (message, "message_id"), id, sizeof id);
    s_cell (ctl_reply_field (message, "timestamp"), timestamp, sizeof timestamp);
    if (!json) {
        fprintf (out, "%-36s  %-24s  %zu\n", id, timestamp, size);
        return;
    }
    fputs ("{\"message_id\":", out);
    ctl_json_write_str (out, id, strlen (id));
    fputs (",\"timestamp\":", out);
    ctl_json_write_str (out, timestamp, strlen (timestamp));
    fprintf (out, ",\"size\":%zu,\"payload_base64\":", size);
    s_write_base64 (out, size ? payload->via.bin.ptr : "", size);
    fputs ("}\n", out);
}

//  Nested maps flattened to dotted names, so that a person can grep them
static void
s_print_flat (FILE *out, const char *prefix, const msgpack_object *obj, int depth)
{
    char key [256], name [512], value [S_CELL_MAX];
    if (obj->type != MSGPACK_OBJECT_MAP || depth > S_JSON_DEPTH_MAX) {
        if (obj->type == MSGPACK_OBJECT_ARRAY) {
            fprintf (out, "%-40s  ", prefix);
            ctl_print_json (out, obj);
            fputc ('\n', out);
        }
        else
            fprintf (out, "%-40s  %s\n", prefix, s_cell (obj, value, sizeof value));
        return;
    }
    if (obj->via.map.size == 0 && *prefix)
        fprintf (out, "%-40s  -\n", prefix);
    for (uint32_t index = 0; index < obj->via.map.size; index++) {
        const msgpack_object_kv *pair = &obj->via.map.ptr [index];
        if (ctl_reply_text (&pair->key, key, sizeof key))
            snprintf (key, sizeof key, "?");
        snprintf (name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", key);
        s_print_flat (out, name, &pair->val, depth + 1);
    }
}

void
ctl_print_stats (FILE *out, const msgpack_object *stats, bool json)
{
    if (json) {
        ctl_print_json (out, stats);
        fputc ('\n', out);
    }
    else
        s_print_flat (out, "", stats, 0);
}

//  "user_id,role", or "-" for none
static void
s_join (const msgpack_object *array, char *text, size_t size)
{
    char item [256];
    size_t used = 0;
    text [0] = 0;
    for (uint32_t index = 0; array && array->type == MSGPACK_OBJECT_ARRAY
                             && index < array->via.array.size; index++) {
        ctl_reply_text (&array->via.array.ptr [index], item, sizeof item);
        int written = snprintf (text + used, size - used, "%s%s", used ? "," : "", item);
        if (written < 0 || (size_t) written >= size - used)
            break;
        used += (size_t) written;
    }
    if (!*text)
        snprintf (text, size, "-");
}

void
ctl_print_catalog (FILE *out, const msgpack_object *event_types, bool json)
{
    if (!event_types || event_types->type != MSGPACK_OBJECT_ARRAY)
        return;
    if (!json)
        fprintf (out, "%-25s  %-23s  %-28s  %s\n", "EVENT_TYPE", "CATEGORY", "REQUIRED", "OPTIONAL");
    for (uint32_t index = 0; index < event_types->via.array.size; index++) {
        const msgpack_object *row = &event_types->via.array.ptr [index];
        char type [64], category [64], required [512], optional [512];
        if (json) {
            ctl_print_json (out, row);
            fputc ('\n', out);
            continue;
        }
        s_join (ctl_reply_field (row, "required"), required, sizeof required);
        s_join (ctl_reply_field (row, "optional"), optional, sizeof optional);
        fprintf (out, "%-25s  %-23s  %-28s  %s\n",
                 s_cell (ctl_reply_field (row, "event_type"), type, sizeof type),
                 s_cell (ctl_reply_field (row, "category"), category, sizeof category),
                 required, optional);
    }
}

const char *
ctl_print_plural (uint64_t count, const char *one, const char *many)
{
    return count == 1 ? one : many;
}
