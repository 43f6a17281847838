/*  =========================================================================
    ctl_publish - auditctl publish: events into the ingest worker, from a
    JSON-lines file or as --demo N
    ========================================================================= */

#include "ctl_publish.h"

#include <czmq.h>
#include <inttypes.h>
#include <string.h>

#include "audit_proto.h"
#include "audit_socket.h"
#include "audit_time.h"
#include "ctl_client.h"
#include "ctl_demo.h"
#include "ctl_print.h"

//  ---------------------------------------------------------------------
//  Encoding one object

static int
s_fill_default_str (ctl_json_object_t *object, const char *key, const char *text)
{
    return ctl_json_find (object, key) ? 0 : ctl_json_add_str (object, key, text);
}

//  The keys a hand-written line may leave out
static int
s_complete (ctl_json_object_t *object, audit_topic_kind_t kind, ctl_publish_stamp_t *stamp,
            int64_t now_ms)
{
    char uuid [37], now [AUDIT_TIME_TEXT_SIZE];
    ctl_demo_uuid (uuid);
    audit_time_format (now_ms, now);
    int rc = ctl_json_find (object, "v") ? 0 : ctl_json_add_int (object, "v", AUDIT_PROTO_VERSION);
    rc |= s_fill_default_str (object, "timestamp", now);
    if (kind == AUDIT_TOPIC_KIND_AUDIT)
        rc |= s_fill_default_str (object, "event_id", uuid);
    if (kind == AUDIT_TOPIC_KIND_MQ)
        rc |= s_fill_default_str (object, "message_id", uuid);
    if (kind == AUDIT_TOPIC_KIND_AUDIT && stamp && stamp->producer
    &&  !ctl_json_find (object, "producer_id")) {
        rc |= ctl_json_add_str (object, "producer_id", stamp->producer);
        if (!ctl_json_find (object, "seq"))
            rc |= ctl_json_add_int (object, "seq", (int64_t) ++stamp->seq);
    }
    return rc ? -1 : 0;
}

//  The topic key, checked and taken out of the object
static int
s_take_topic (ctl_json_object_t *object, char *topic, size_t topic_size,
              audit_topic_kind_t *kind, char *error, size_t error_size)
{
    const ctl_json_pair_t *pair = ctl_json_find (object, "topic");
    const char *text = pair && pair->kind == CTL_JSON_STR ? pair->text : AUDIT_TOPIC_AUDIT;
    size_t len = pair && pair->kind == CTL_JSON_STR ? pair->text_len : strlen (text);
    *kind = audit_proto_topic_kind (text, len);
    if ((pair && pair->kind != CTL_JSON_STR) || *kind == AUDIT_TOPIC_KIND_UNKNOWN
    ||  len >= topic_size || strlen (text) != len) {
        snprintf (error, error_size, "topic must be audit, ops or mq (optionally .shard)");
        return -1;
    }
    memcpy (topic, text, len + 1);
    ctl_json_remove (object, "topic");
    return 0;
}

static int
s_pack_pair (msgpack_packer *packer, const ctl_json_pair_t *pair, audit_topic_kind_t kind)
{
    size_t key_len = strlen (pair->key);
    int rc = msgpack_pack_str (packer, key_len) || msgpack_pack_str_body (packer, pair->key, key_len);
    bool payload = kind == AUDIT_TOPIC_KIND_MQ && strcmp (pair->key, "payload") == 0;
    switch (pair->kind) {
        case CTL_JSON_STR:
            if (payload)
                rc |= msgpack_pack_bin (packer, pair->text_len)
                   || msgpack_pack_bin_body (packer, pair->text, pair->text_len);
            else
                rc |= msgpack_pack_str (packer, pair->text_len)
                   || msgpack_pack_str_body (packer, pair->text, pair->text_len);
            break;
        case CTL_JSON_INT:
            rc |= pair->integer >= 0 ? msgpack_pack_uint64 (packer, (uint64_t) pair->integer)
                                     : msgpack_pack_int64 (packer, pair->integer);
            break;
        case CTL_JSON_BOOL:
            rc |= pair->boolean ? msgpack_pack_true (packer) : msgpack_pack_false (packer);
            break;
        case CTL_JSON_NULL: rc |= msgpack_pack_nil (packer); break;
    }
    return rc ? -1 : 0;
}

int
ctl_publish_encode (ctl_json_object_t *object, ctl_publish_stamp_t *stamp, int64_t now_ms,
                    char *topic, size_t topic_size, msgpack_sbuffer *body,
                    char *error, size_t error_size)
{
    audit_topic_kind_t kind;
    if (s_take_topic (object, topic, topic_size, &kind, error, error_size))
        return -1;
    if (s_complete (object, kind, stamp, now_ms)) {
        snprintf (error, error_size, "too many keys");
        return -1;
    }
    msgpack_packer packer;
    msgpack_packer_init (&packer, body, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&packer, object->count);
    for (size_t index = 0; index < object->count; index++)
        rc |= s_pack_pair (&packer, &object->pairs [index], kind);
    if (rc)
        snprintf (error, error_size, "out of memory");
    return rc ? -1 : 0;
}

//  ---------------------------------------------------------------------
//  Reading JSON lines

static bool
s_blank (const char *line, size_t len)
{
    return strspn (line, " \t\r\n") >= len;
}

//  One line into one message for sink; a bad line is reported, not fatal
static int
s_line (char *line, size_t len, ctl_publish_stamp_t *stamp, ctl_publish_sink_fn *sink,
        void *arg, char *error, size_t error_size)
{
    ctl_json_object_t object = { .count = 0 };
    char topic [CTL_PUBLISH_TOPIC_MAX];
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    int rc = 1;                             //  1: bad line, -1: stop, 0: sent
    if (len > CTL_PUBLISH_LINE_MAX)
        snprintf (error, error_size, "line longer than %d bytes", CTL_PUBLISH_LINE_MAX);
    else
    if (ctl_json_parse (line, len, &object, error, error_size) == 0
    &&  ctl_publish_encode (&object, stamp, audit_time_now_ms (), topic, sizeof topic,
                            &body, error, error_size) == 0)
        rc = sink (arg, topic, body.data, body.size) ? -1 : 0;
    ctl_json_clear (&object);
    msgpack_sbuffer_destroy (&body);
    return rc;
}

int
ctl_publish_lines (FILE *in, const char *name, ctl_publish_stamp_t *stamp,
                   ctl_publish_sink_fn *sink, void *arg, FILE *err,
                   uint64_t *sent, uint64_t *bad)
{
    char *line = NULL, error [256];
    size_t capacity = 0;
    ssize_t len;
    int rc = 0;
    *sent = *bad = 0;
    for (uint64_t number = 1; rc == 0 && (len = getline (&line, &capacity, in)) >= 0; number++) {
        while (len > 0 && (line [len - 1] == '\n' || line [len - 1] == '\r'))
            len--;                          //  the line end is not part of the object
        if (s_blank (line, (size_t) len))
            continue;
        int outcome = s_line (line, (size_t) len, stamp, sink, arg, error, sizeof error);
        if (outcome == 0)
            (*sent)++;
        else
        if (outcome > 0) {
            fprintf (err, "%s:%" PRIu64 ": %s\n", name, number, error);
            (*bad)++;
        }
        else
            rc = -1;
    }
    if (ferror (in))
        rc = -1;
    free (line);
    return rc;
}

//  ---------------------------------------------------------------------
//  The socket

typedef struct {
    zsock_t *socket;
    uint64_t rate;                  //  messages per second; 0: no limit
    int64_t start_us;
    uint64_t sent;
} s_sender_t;

//  Wait for the subscriptions of audit, ops and mq (or of everything)
static int
s_wait_subscribed (zsock_t *socket, int timeout_ms)
{
    static const char *prefixes [] = { AUDIT_TOPIC_AUDIT, AUDIT_TOPIC_OPS, AUDIT_TOPIC_MQ };
    unsigned seen = 0;
    int64_t deadline = zclock_mono () + timeout_ms;
    while (seen != 7 && !zsys_interrupted) {
        int64_t left = deadline - zclock_mono ();
        zmq_pollitem_t item = { zsock_resolve (socket), 0, ZMQ_POLLIN, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) <= 0)
            break;
        zframe_t *frame = zframe_recv (socket);
        const char *data = frame ? (const char *) zframe_data (frame) : NULL;
        size_t size = frame ? zframe_size (frame) : 0;
        for (unsigned index = 0; data && size >= 1 && data [0] == 1 && index < 3; index++)
            if (strncmp (prefixes [index], data + 1, size - 1) == 0
            &&  strlen (prefixes [index]) >= size - 1)
                seen |= 1u << index;        //  an exact or a shorter prefix covers it
        zframe_destroy (&frame);
    }
    return seen == 7 ? 0 : -1;
}

static int
s_sender_open (s_sender_t *sender, const char *endpoint, int timeout_ms, uint64_t rate)
{
    memset (sender, 0, sizeof *sender);
    sender->rate = rate;
    audit_socket_options_t options = {
        .type = ZMQ_XPUB, .endpoint = endpoint, .sndhwm = AUDIT_SOCKET_HWM_NONE,
        .linger_ms = timeout_ms
    };
    char reason [256];
    sender->socket = audit_socket_new (&options, reason, sizeof reason);
    if (!sender->socket) {
        fprintf (stderr, "auditctl: %s\n", reason);
        return CTL_EXIT_USAGE;
    }
    if (s_wait_subscribed (sender->socket, timeout_ms) != 0) {
        fprintf (stderr, "error: no ingest service subscribed at %s within %d ms\n",
                 endpoint, timeout_ms);
        return CTL_EXIT_NO_ANSWER;
    }
    sender->start_us = zclock_usecs ();
    return CTL_EXIT_OK;
}

//  The sink of the real run: pace to --rate, then [topic, body]
static int
s_send (void *arg, const char *topic, const void *body, size_t size)
{
    s_sender_t *sender = arg;
    if (zsys_interrupted)
        return -1;
    if (sender->rate) {
        int64_t due_us = sender->start_us + (int64_t) (sender->sent * 1000000 / sender->rate);
        int64_t wait_us = due_us - zclock_usecs ();
        if (wait_us > 0)
            usleep ((useconds_t) wait_us);
    }
    void *handle = zsock_resolve (sender->socket);
    if (zmq_send (handle, topic, strlen (topic), ZMQ_SNDMORE) < 0
    ||  zmq_send (handle, body, size, 0) < 0)
        return -1;
    sender->sent++;
    return 0;
}

//  ---------------------------------------------------------------------
//  The command

static int
s_publish_demo (const ctl_args_t *args, s_sender_t *sender, uint64_t *sent)
{
    ctl_demo_t demo;
    ctl_json_object_t object = { .count = 0 };
    ctl_publish_stamp_t stamp = { NULL, 0 };    //  demo events carry their own
    char topic [CTL_PUBLISH_TOPIC_MAX], error [128];
    ctl_demo_init (&demo, (uint64_t) zclock_usecs (), ctl_request_str (args->request, "org_id"),
                   args->text [CTL_OPT_PRODUCER]);
    int rc = 0;
    for (uint64_t seq = 1; rc == 0 && seq <= args->number [CTL_OPT_DEMO]; seq++) {
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        rc = ctl_demo_event (&demo, seq, audit_time_now_ms (), &object)
          || ctl_publish_encode (&object, &stamp, audit_time_now_ms (), topic, sizeof topic, &body, error, sizeof error)
          || s_send (sender, topic, body.data, body.size) ? -1 : 0;
        msgpack_sbuffer_destroy (&body);
        *sent += rc == 0;
    }
    ctl_json_clear (&object);
    return rc;
}

static int
s_publish_file (const ctl_args_t *args, s_sender_t *sender, uint64_t *sent, uint64_t *bad)
{
    const char *name = args->text [CTL_OPT_FILE];
    bool is_stdin = strcmp (name, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen (name, "r");
    if (!in) {
        fprintf (stderr, "auditctl: cannot read %s: %s\n", name, strerror (errno));
        return -1;
    }
    ctl_publish_stamp_t stamp = { args->text [CTL_OPT_PRODUCER], 0 };
    int rc = ctl_publish_lines (in, is_stdin ? "stdin" : name, &stamp, s_send, sender,
                                stderr, sent, bad);
    if (!is_stdin)
        fclose (in);
    return rc;
}

int
ctl_publish_run (const ctl_args_t *args)
{
    s_sender_t sender;
    uint64_t sent = 0, bad = 0;
    uint64_t rate = args->given [CTL_OPT_RATE] ? args->number [CTL_OPT_RATE] : 0;
    int rc = s_sender_open (&sender, args->endpoint, args->timeout_ms, rate);
    if (rc == CTL_EXIT_OK) {
        int failed = args->given [CTL_OPT_DEMO] ? s_publish_demo (args, &sender, &sent)
                                                : s_publish_file (args, &sender, &sent, &bad);
        rc = failed || bad ? CTL_EXIT_USAGE : CTL_EXIT_OK;
        if (args->json)
            printf ("{\"sent\":%" PRIu64 ",\"bad_lines\":%" PRIu64 "}\n", sent, bad);
        else    //  a PUB socket has no receipt: say what "sent" does not mean
            printf ("sent %" PRIu64 " %s to %s (published, not confirmed stored;"
                    " check with: auditctl stats)%s\n", sent,
                    ctl_print_plural (sent, "message", "messages"), args->endpoint,
                    bad ? "; some lines were bad, see above" : "");
    }
    //  linger (= --timeout) lets what is queued reach the ingest worker
    zsock_destroy (&sender.socket);
    return rc;
}
