/*  =========================================================================
    ctl_publish - auditctl publish: events into the ingest worker, from a
    JSON-lines file or as --demo N
    ========================================================================= */

#include "ctl_publish.h"

#include <czmq.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "audit_config.h"
#include "audit_curve.h"
#include "audit_producer.h"
#include "audit_proto.h"
#include "audit_record.h"
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
//  Operational records: best effort on an XPUB of their own (the contract
//  acknowledges none), opened at the first ops line

typedef struct {
    zsock_t *socket;
    uint64_t sent;
} s_ops_t;

//  Wait for the subscription to ops (or of everything)
static int
s_wait_subscribed (zsock_t *socket, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (!zsys_interrupted) {
        int64_t left = deadline - zclock_mono ();
        zmq_pollitem_t item = { zsock_resolve (socket), 0, ZMQ_POLLIN, 0 };
        if (left <= 0 || zmq_poll (&item, 1, (long) left) <= 0)
            return -1;
        zframe_t *frame = zframe_recv (socket);
        const char *data = frame ? (const char *) zframe_data (frame) : NULL;
        size_t size = frame ? zframe_size (frame) : 0;
        bool covers = data && size >= 1 && data [0] == 1
                   && size - 1 <= strlen (AUDIT_TOPIC_OPS)
                   && strncmp (AUDIT_TOPIC_OPS, data + 1, size - 1) == 0;
        zframe_destroy (&frame);
        if (covers)
            return 0;
    }
    return -1;
}

static int
s_ops_send (s_ops_t *ops, const ctl_args_t *args, const char *topic, const void *body, size_t size)
{
    if (!ops->socket) {
        audit_curve_t *curve = NULL;
        if (ctl_client_curve (&curve) != 0)
            return -1;
        audit_socket_options_t options = {
            .type = ZMQ_XPUB, .endpoint = args->endpoint, .sndhwm = AUDIT_SOCKET_HWM_NONE,
            .linger_ms = args->timeout_ms, .curve = curve
        };
        char reason [256];
        ops->socket = audit_socket_new (&options, reason, sizeof reason);
        audit_curve_destroy (&curve);
        if (!ops->socket || s_wait_subscribed (ops->socket, args->timeout_ms)) {
            fprintf (stderr, "error: no ingest service subscribed at %s within %d ms\n",
                     args->endpoint, args->timeout_ms);
            return -1;
        }
    }
    void *handle = zsock_resolve (ops->socket);
    if (zmq_send (handle, topic, strlen (topic), ZMQ_SNDMORE) < 0
    ||  zmq_send (handle, body, size, 0) < 0)
        return -1;
    ops->sent++;
    return 0;
}

//  ---------------------------------------------------------------------
//  Audit and mq events: through libaudit-producer

#define S_REASONS_MAX 16

typedef struct {
    const ctl_args_t *args;
    audit_producer_t *producer;
    s_ops_t ops;
    uint64_t rate;                  //  messages per second; 0: no limit
    int64_t start_us;
    uint64_t handed, refused;       //  messages handed over; refused at the call
    struct { char name [AUDIT_PRODUCER_TEXT_SIZE]; uint64_t count; } reasons [S_REASONS_MAX];
} s_run_t;

//  On the producer's thread; read by the main thread after it stopped
static void
s_on_rejected (void *arg, const audit_producer_rejection_t *rejection)
{
    s_run_t *run = arg;
    fprintf (stderr, "rejected: seq %" PRIu64 " event_id %s: %s%s%s\n", rejection->seq,
             *rejection->event_id ? rejection->event_id : "-", rejection->reason,
             *rejection->field ? " field " : "", rejection->field);
    for (int index = 0; index < S_REASONS_MAX; index++)
        if (!run->reasons [index].name [0] || streq (run->reasons [index].name, rejection->reason)) {
            snprintf (run->reasons [index].name, AUDIT_PRODUCER_TEXT_SIZE, "%s", rejection->reason);
            run->reasons [index].count++;
            return;
        }
}

//  The sink: pace to --rate, then ops to the XPUB, the rest to the producer
static int
s_send (void *arg, const char *topic, const void *body, size_t size)
{
    s_run_t *run = arg;
    if (zsys_interrupted)
        return -1;
    if (run->rate) {
        int64_t due_us = run->start_us + (int64_t) (run->handed * 1000000 / run->rate);
        int64_t wait_us = due_us - zclock_usecs ();
        if (wait_us > 0)
            usleep ((useconds_t) wait_us);
    }
    run->handed++;
    if (audit_proto_topic_kind (topic, strlen (topic)) == AUDIT_TOPIC_KIND_OPS)
        return s_ops_send (&run->ops, run->args, topic, body, size);
    audit_producer_receipt_t receipt;
    if (audit_producer_publish (run->producer, topic, body, size, &receipt) == 0)
        return 0;
    run->refused++;
    fprintf (stderr, "refused message %" PRIu64 ": %s%s%s\n", run->handed, receipt.reason,
             *receipt.field ? " field " : "", receipt.field);
    return streq (receipt.reason, "outbox_full") || streq (receipt.reason, "failed") ? -1 : 0;
}

//  ---------------------------------------------------------------------
//  The command

static int
s_publish_demo (const ctl_args_t *args, s_run_t *run)
{
    ctl_demo_t demo;
    ctl_json_object_t object = { .count = 0 };
    ctl_publish_stamp_t stamp = { NULL, 0 };    //  the producer stamps them
    char topic [CTL_PUBLISH_TOPIC_MAX], error [128];
    ctl_demo_init (&demo, (uint64_t) zclock_usecs (), ctl_request_str (args->request, "org_id"),
                   args->text [CTL_OPT_PRODUCER]);
    int rc = 0;
    for (uint64_t seq = 1; rc == 0 && seq <= args->number [CTL_OPT_DEMO]; seq++) {
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        rc = ctl_demo_event (&demo, seq, audit_time_now_ms (), &object)
          || ctl_publish_encode (&object, &stamp, audit_time_now_ms (), topic, sizeof topic, &body, error, sizeof error)
          || s_send (run, topic, body.data, body.size) ? -1 : 0;
        msgpack_sbuffer_destroy (&body);
    }
    ctl_json_clear (&object);
    return rc;
}

static int
s_publish_file (const ctl_args_t *args, s_run_t *run, uint64_t *bad)
{
    const char *name = args->text [CTL_OPT_FILE];
    bool is_stdin = strcmp (name, "-") == 0;
    FILE *in = is_stdin ? stdin : fopen (name, "r");
    if (!in) {
        fprintf (stderr, "auditctl: cannot read %s: %s\n", name, strerror (errno));
        return -1;
    }
    ctl_publish_stamp_t stamp = { NULL, 0 };    //  the producer stamps them
    uint64_t sent;
    int rc = ctl_publish_lines (in, is_stdin ? "stdin" : name, &stamp, s_send, run,
                                stderr, &sent, bad);
    if (!is_stdin)
        fclose (in);
    return rc;
}

//  A private directory for outboxes: 0 when it exists or was made
static int
s_state_dir (char *dir, size_t size, const char *format, const char *base)
{
    if (snprintf (dir, size, format, base) >= (int) size || zsys_dir_create ("%s", dir) != 0)
        return -1;
    return chmod (dir, 0700);
}

//  --outbox, else $XDG_STATE_HOME (or ~/.local/state)/semafore-audit/ID.outbox;
//  where neither can be made (a container without a home), /tmp/semafore-audit-UID
static int
s_outbox_path (const ctl_args_t *args, const char *producer_id, char *path, size_t size)
{
    if (args->given [CTL_OPT_OUTBOX])
        return snprintf (path, size, "%s", args->text [CTL_OPT_OUTBOX]) < (int) size ? 0 : -1;
    const char *state = getenv ("XDG_STATE_HOME");
    const char *home = getenv ("HOME");
    char dir [1024], uid [32];
    snprintf (uid, sizeof uid, "%u", (unsigned) getuid ());
    bool made = state && *state ? s_state_dir (dir, sizeof dir, "%s/semafore-audit", state) == 0
                                : home && *home
                               && s_state_dir (dir, sizeof dir, "%s/.local/state/semafore-audit", home) == 0;
    if (!made && s_state_dir (dir, sizeof dir, "/tmp/semafore-audit-%s", uid))
        return -1;
    return snprintf (path, size, "%s/%s.outbox", dir, producer_id) < (int) size ? 0 : -1;
}

static int
s_ack_endpoint (const ctl_args_t *args, char *out, size_t size)
{
    static audit_config_t config;       //  large: not on the stack
    if (args->given [CTL_OPT_ACK_ENDPOINT])
        return snprintf (out, size, "%s", args->text [CTL_OPT_ACK_ENDPOINT]) < (int) size ? 0 : -1;
    audit_setting_t setting = AUDIT_SET_ACK_ENDPOINT;
    char *argv [] = { (char *) "auditctl", NULL };
    if (audit_config_load (&config, 1, argv, "auditctl", "", &setting, 1) != AUDIT_CONFIG_OK)
        return -1;
    return ctl_args_connectable (audit_config_str (&config, setting), out, size);
}

//  The producer_id a client certificate names into out, "" when none: with
//  CURVE the service takes the producer from the certificate, so that is
//  the one default that is never bad_producer
static void
s_cert_producer (const char *cert_file, char *out, size_t size)
{
    *out = 0;
    zconfig_t *root = cert_file && *cert_file ? audit_curve_config_load (cert_file) : NULL;
    const char *name = root ? zconfig_get (root, "metadata/" AUDIT_CURVE_META_PRODUCER, "") : "";
    if (strlen (name) < size)
        snprintf (out, size, "%s", name);
    zconfig_destroy (&root);
}

static audit_producer_t *
s_producer_new (const ctl_args_t *args, s_run_t *run)
{
    audit_producer_options_t options;
    audit_producer_options_init (&options);
    options.on_rejected = s_on_rejected;
    options.on_rejected_arg = run;
    if (ctl_client_curve_settings (&options.curve_server_key, &options.curve_client_cert) != 0)
        return NULL;
    audit_ident_t from_cert;
    s_cert_producer (options.curve_client_cert, from_cert, sizeof from_cert);
    const char *producer_id = args->text [CTL_OPT_PRODUCER] ? args->text [CTL_OPT_PRODUCER]
                            : *from_cert ? from_cert
                            : args->given [CTL_OPT_DEMO] ? CTL_DEMO_PRODUCER : "auditctl";
    char outbox [2048], ack_endpoint [CTL_ENDPOINT_MAX];
    if (s_outbox_path (args, producer_id, outbox, sizeof outbox)
    ||  s_ack_endpoint (args, ack_endpoint, sizeof ack_endpoint)) {
        fprintf (stderr, "auditctl: no usable outbox path or ack endpoint\n");
        return NULL;
    }
    audit_producer_t *producer = audit_producer_new_with (args->endpoint, ack_endpoint,
                                                          producer_id, outbox, &options);
    if (!producer)
        fprintf (stderr, "auditctl: cannot start the producer on %s (see the line above)\n", outbox);
    return producer;
}

//  --wait: until every event is acknowledged. Otherwise until every one is
//  durable in the outbox and was sent once (what is left is resent by the
//  next run on the outbox). 0, or -1 when --timeout passed first.
static int
s_settle (const ctl_args_t *args, s_run_t *run)
{
    if (args->given [CTL_OPT_WAIT])
        return audit_producer_flush (run->producer, args->timeout_ms);
    int64_t deadline = zclock_mono () + args->timeout_ms;
    if (audit_producer_sync (run->producer, args->timeout_ms))
        return -1;
    audit_producer_stats_t stats;
    for (audit_producer_stats (run->producer, &stats);
         stats.held && !(stats.ready && stats.sent >= stats.published);
         audit_producer_stats (run->producer, &stats)) {
        if (zclock_mono () >= deadline || zsys_interrupted)
            return -1;
        zclock_sleep (10);
    }
    return 0;
}

static void
s_print_reasons (const s_run_t *run)
{
    for (int index = 0; index < S_REASONS_MAX && run->reasons [index].name [0]; index++)
        printf ("%s%s %" PRIu64, index ? ", " : ": ", run->reasons [index].name,
                run->reasons [index].count);
}

static void
s_print (const ctl_args_t *args, const s_run_t *run, const audit_producer_stats_t *stats,
         uint64_t bad)
{
    uint64_t stored = stats->acked - stats->rejected;
    if (args->json) {
        printf ("{\"published\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"acked\":%" PRIu64
                ",\"stored_or_duplicate\":%" PRIu64 ",\"rejected\":%" PRIu64
                ",\"unacknowledged\":%" PRIu64 ",\"ops_sent\":%" PRIu64 ",\"bad_lines\":%" PRIu64 "}\n",
                stats->published, run->refused, stats->acked, stored, stats->rejected,
                stats->held, run->ops.sent, bad);
        return;
    }
    printf ("published %" PRIu64 " %s to %s: %" PRIu64 " acknowledged (%" PRIu64
            " stored or duplicate, %" PRIu64 " rejected", stats->published,
            ctl_print_plural (stats->published, "event", "events"), args->endpoint,
            stats->acked, stored, stats->rejected);
    s_print_reasons (run);
    printf (")");
    if (stats->held)
        printf (", %" PRIu64 " not yet acknowledged (kept in the outbox)", stats->held);
    if (run->refused)
        printf (", %" PRIu64 " refused at the call (see above)", run->refused);
    if (run->ops.sent)
        printf (", %" PRIu64 " ops %s sent (not acknowledged)", run->ops.sent,
                ctl_print_plural (run->ops.sent, "record", "records"));
    printf ("%s\n", bad ? "; some lines were bad, see above" : "");
}

int
ctl_publish_run (const ctl_args_t *args)
{
    s_run_t run = { .args = args };
    run.rate = args->given [CTL_OPT_RATE] ? args->number [CTL_OPT_RATE] : 0;
    run.producer = s_producer_new (args, &run);
    if (!run.producer)
        return CTL_EXIT_USAGE;
    run.start_us = zclock_usecs ();
    uint64_t bad = 0;
    int failed = args->given [CTL_OPT_DEMO] ? s_publish_demo (args, &run)
                                            : s_publish_file (args, &run, &bad);
    int late = s_settle (args, &run);
    audit_producer_stats_t stats;
    audit_producer_stats (run.producer, &stats);
    audit_producer_destroy (&run.producer);     //  its thread is done: run.reasons is ours
    s_print (args, &run, &stats, bad);
    if (late)
        fprintf (stderr, "error: not every event was %s within %d ms; the outbox keeps them"
                 " for the next run\n", args->given [CTL_OPT_WAIT] ? "acknowledged" : "sent",
                 args->timeout_ms);
    //  linger (= --timeout) lets queued ops records reach the ingest worker
    zsock_destroy (&run.ops.socket);
    return failed || bad || run.refused ? CTL_EXIT_USAGE
         : late ? CTL_EXIT_NO_ANSWER : stats.rejected ? CTL_EXIT_REFUSED : CTL_EXIT_OK;
}
