/*  auditctl: what each command line would send, JSON lines in, demo events
    that the real validator accepts, tables out, and an export that is
    either complete or absent; what a refusal and --help tell the operator,
    in their own words. A scripted REP actor on inproc stands in for the
    query worker. */

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <czmq.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit_decode.h"
#include "audit_time.h"
#include "ctl_args.h"
#include "ctl_time.h"
#include "ctl_demo.h"
#include "ctl_export.h"
#include "ctl_print.h"
#include "ctl_publish.h"
#include "ctl_query.h"
#include "ctl_tail.h"
#include "ctl_whoami.h"
#include "ctl_token.h"
#include "test_support.h"

#define TOKEN "t0k.e.n"

//  Memory a test hands out by pointer (argv words, frames that msgpack
//  objects point into), freed after each test
static void *s_kept [256];
static size_t s_kept_count;
static msgpack_unpacked s_unpacked;
static bool s_unpacked_live;

static void *
s_keep (void *memory)
{
    cr_assert_lt (s_kept_count, 256u);
    return s_kept [s_kept_count++] = memory;
}

static void
s_release (void)
{
    while (s_kept_count)
        free (s_kept [--s_kept_count]);
    if (s_unpacked_live)
        msgpack_unpacked_destroy (&s_unpacked);
    s_unpacked_live = false;
}

//  A heap copy that outlives the buffer (msgpack objects point into it)
static char *
s_copy (const void *data, size_t size)
{
    char *copy = malloc (size ? size : 1);
    memcpy (copy, data, size);
    return s_keep (copy);
}

TestSuite (args, .fini = s_release);
TestSuite (json, .fini = s_release);
TestSuite (demo, .fini = s_release);
TestSuite (print, .fini = s_release);
TestSuite (reply, .fini = s_release);
TestSuite (export, .fini = s_release);
TestSuite (query, .fini = s_release);
TestSuite (words, .fini = s_release);

//  ---------------------------------------------------------------------
//  Helpers: parse a command line, decode what it would send

static ctl_args_result_t
s_parse (ctl_args_t *args, const char *line)
{
    char *copy = s_keep (strdup (line)), *words [64], *save = NULL;
    int count = 0;
    words [count++] = (char *) "auditctl";
    for (char *word = strtok_r (copy, " ", &save); word; word = strtok_r (NULL, " ", &save))
        words [count++] = word;
    words [count] = NULL;
    //  args borrows from argv, like main: keep the copy for the test's life
    return ctl_args_parse (args, count, words);
}

static const msgpack_object *
s_sent (const ctl_args_t *args)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    cr_assert_eq (ctl_request_encode (args->request, &buffer), 0);
    if (s_unpacked_live)
        msgpack_unpacked_destroy (&s_unpacked);
    msgpack_unpacked_init (&s_unpacked);
    s_unpacked_live = true;
    size_t offset = 0;
    cr_assert_eq (msgpack_unpack_next (&s_unpacked, s_copy (buffer.data, buffer.size),
                                       buffer.size, &offset), MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq (offset, buffer.size);
    msgpack_sbuffer_destroy (&buffer);
    cr_assert_eq (s_unpacked.data.type, MSGPACK_OBJECT_MAP);
    return &s_unpacked.data;
}

static void
s_expect_str (const msgpack_object *map, const char *key, const char *value)
{
    char text [1024];
    cr_assert_eq (ctl_reply_text (ctl_reply_field (map, key), text, sizeof text), 0, "%s", key);
    cr_expect_str_eq (text, value, "%s", key);
}

static void
s_expect_uint (const msgpack_object *map, const char *key, uint64_t value)
{
    uint64_t number = 0;
    cr_assert_eq (ctl_reply_uint (ctl_reply_field (map, key), &number), 0, "%s", key);
    cr_expect_eq (number, value, "%s", key);
}

static void
s_expect_list (const msgpack_object *map, const char *key, const char *first, const char *second)
{
    const msgpack_object *list = ctl_reply_field (map, key);
    char text [128];
    cr_assert (list && list->type == MSGPACK_OBJECT_ARRAY, "%s", key);
    cr_assert_eq (list->via.array.size, second ? 2u : 1u);
    ctl_reply_text (&list->via.array.ptr [0], text, sizeof text);
    cr_expect_str_eq (text, first);
    if (second) {
        ctl_reply_text (&list->via.array.ptr [1], text, sizeof text);
        cr_expect_str_eq (text, second);
    }
}

//  What goes to a descriptor (stdout or stderr) meanwhile, into a
//  temporary file, so a test can read what a command printed
typedef struct {
    int fd;
    int saved;
    FILE *file;
} s_capture_t;

static void
s_capture_start (s_capture_t *self, int fd)
{
    fflush (stdout);
    fflush (stderr);
    self->fd = fd;
    self->file = tmpfile ();
    cr_assert_not_null (self->file);
    self->saved = dup (fd);
    dup2 (fileno (self->file), fd);
}

//  Restore the descriptor; the text written meanwhile (kept for the test)
static const char *
s_capture_end (s_capture_t *self)
{
    fflush (stdout);
    fflush (stderr);
    dup2 (self->saved, self->fd);
    close (self->saved);
    fseek (self->file, 0, SEEK_END);
    size_t size = (size_t) ftell (self->file);
    char *text = s_keep (calloc (size + 1, 1));
    rewind (self->file);
    cr_assert_eq (fread (text, 1, size, self->file), size);
    fclose (self->file);
    return text;
}

//  ---------------------------------------------------------------------
//  Command lines into requests

Test (args, version_and_a_group_s_help_are_not_errors, .init = cr_redirect_stdout)
{
    ctl_args_t args;
    cr_expect_eq (s_parse (&args, "--version"), CTL_ARGS_HELP);
    ctl_args_destroy (&args);
    cr_expect_eq (s_parse (&args, "retention --help"), CTL_ARGS_HELP);
    ctl_args_destroy (&args);
    cr_expect_eq (s_parse (&args, "mq -h"), CTL_ARGS_HELP);
    ctl_args_destroy (&args);
    fflush (stdout);
    static char text [65536];
    size_t got = fread (text, 1, sizeof text - 1, cr_get_redirected_stdout ());
    text [got] = 0;
    cr_expect (strstr (text, "auditctl " AUDIT_VERSION) != NULL);
    cr_expect (strstr (text, "auditctl retention get") && strstr (text, "auditctl retention set"),
               "retention --help lists both");
    cr_expect (strstr (text, "auditctl mq fetch") && strstr (text, "auditctl mq ack"));
}

Test (args, list_with_every_filter)
{
    ctl_args_t args;
    cr_assert_eq (s_parse (&args, "list --token " TOKEN " --org acme --from 2026-11-01T00:00:00+01:00"
                                  " --to 2026-11-20T10:00:00Z --type user_login --type device_revoked"
                                  " --category broadcast --actor admin-1 --user u-2 --device d-3"
                                  " --group g-4 --subject s-5 --order asc --limit 50 --cursor CUR --all"),
                  CTL_ARGS_OK);
    const msgpack_object *map = s_sent (&args);
    cr_expect_eq (map->via.map.size, 3u + 13u);
    s_expect_uint (map, "v", 1);
    s_expect_str (map, "op", "list");
    s_expect_str (map, "token", TOKEN);
    s_expect_str (map, "org_id", "acme");
    s_expect_str (map, "from", "2026-10-31T23:00:00.000Z");
    s_expect_str (map, "to", "2026-11-20T10:00:00.000Z");
    s_expect_list (map, "event_types", "user_login", "device_revoked");
    s_expect_list (map, "categories", "broadcast", NULL);
    s_expect_str (map, "actor_id", "admin-1");
    s_expect_str (map, "user_id", "u-2");
    s_expect_str (map, "device_id", "d-3");
    s_expect_str (map, "group_id", "g-4");
    s_expect_str (map, "subject", "s-5");
    s_expect_str (map, "order", "asc");
    s_expect_uint (map, "limit", 50);
    s_expect_str (map, "cursor", "CUR");
    cr_expect (args.given [CTL_OPT_ALL]);
    cr_expect_not (args.json);
    cr_expect_eq (args.timeout_ms, CTL_TIMEOUT_DEFAULT_MS);
    ctl_args_destroy (&args);
}

Test (args, global_flags_on_either_side_and_token_from_env)
{
    ctl_args_t args;
    setenv ("AUDIT_TOKEN", "from-env", 1);
    cr_assert_eq (s_parse (&args, "--json --timeout 250 --endpoint tcp://10.0.0.1:9 list --org a"),
                  CTL_ARGS_OK);
    cr_expect (args.json);
    cr_expect_eq (args.timeout_ms, 250);
    cr_expect_str_eq (args.endpoint, "tcp://10.0.0.1:9");
    s_expect_str (s_sent (&args), "token", "from-env");
    ctl_args_destroy (&args);
    cr_assert_eq (s_parse (&args, "list --org a --token flag-wins"), CTL_ARGS_OK);
    s_expect_str (s_sent (&args), "token", "flag-wins");
    ctl_args_destroy (&args);
}

Test (args, export_retention_ops_mq)
{
    ctl_args_t args;
    cr_assert_eq (s_parse (&args, "export --token T --org acme --chunk 5000 -o out.csv --user u"), CTL_ARGS_OK);
    const msgpack_object *map = s_sent (&args);
    s_expect_str (map, "op", "export");
    s_expect_uint (map, "limit", 5000);
    s_expect_str (map, "user_id", "u");
    cr_expect_null (ctl_reply_field (map, "format"), "csv is ctl_export's default");
    cr_expect_str_eq (args.text [CTL_OPT_OUTPUT], "out.csv");
    ctl_args_destroy (&args);

    cr_assert_eq (s_parse (&args, "export --token T --org acme --format ndjson -o out.ndjson"),
                  CTL_ARGS_OK);
    s_expect_str (s_sent (&args), "format", "ndjson");
    ctl_args_destroy (&args);

    cr_assert_eq (s_parse (&args, "retention get --token T --org acme"), CTL_ARGS_OK);
    map = s_sent (&args);
    s_expect_str (map, "op", "retention_get");
    cr_expect_eq (map->via.map.size, 4u);
    ctl_args_destroy (&args);

    cr_assert_eq (s_parse (&args, "retention set --token T --org acme --days 90"), CTL_ARGS_OK);
    map = s_sent (&args);
    s_expect_str (map, "op", "retention_set");
    s_expect_uint (map, "retention_days", 90);
    ctl_args_destroy (&args);

    cr_assert_eq (s_parse (&args, "ops --token T --status 503 --client-ip 10.1.2.3 --limit 20"), CTL_ARGS_OK);
    map = s_sent (&args);
    s_expect_str (map, "op", "ops_list");
    s_expect_uint (map, "status", 503);
    s_expect_str (map, "client_ip", "10.1.2.3");
    ctl_args_destroy (&args);

    cr_assert_eq (s_parse (&args, "mq fetch --token T --org o --device d --limit 10"), CTL_ARGS_OK);
    map = s_sent (&args);
    s_expect_str (map, "op", "mq_fetch");
    s_expect_str (map, "device_id", "d");
    s_expect_uint (map, "limit", 10);
    ctl_args_destroy (&args);

    cr_assert_eq (s_parse (&args, "mq ack id-1 --token T --org o --device d id-2"), CTL_ARGS_OK);
    map = s_sent (&args);
    s_expect_str (map, "op", "mq_ack");
    s_expect_list (map, "message_ids", "id-1", "id-2");
    ctl_args_destroy (&args);
}

Test (args, tokenless_ops_send_no_token)
{
    ctl_args_t args;
    setenv ("AUDIT_TOKEN", "secret-ish", 1);
    const char *lines [] = { "health", "catalog" };
    for (size_t index = 0; index < 2; index++) {
        cr_assert_eq (s_parse (&args, lines [index]), CTL_ARGS_OK);
        const msgpack_object *map = s_sent (&args);
        cr_expect_eq (map->via.map.size, 2u, "only v and op");
        s_expect_str (map, "op", lines [index]);
        cr_expect_null (ctl_reply_field (map, "token"));
        ctl_args_destroy (&args);
    }
    cr_assert_eq (s_parse (&args, "stats"), CTL_ARGS_OK);
    cr_expect_eq (s_sent (&args)->via.map.size, 3u);
    ctl_args_destroy (&args);
}

Test (args, local_commands)
{
    ctl_args_t args;
    cr_assert_eq (s_parse (&args, "token --role device --org o --device d --ttl 60 --sub me"), CTL_ARGS_OK);
    cr_expect_eq (args.command, CTL_COMMAND_TOKEN);
    cr_expect_str_eq (args.text [CTL_OPT_ROLE], "device");
    cr_expect_eq (args.number [CTL_OPT_TTL], 60u);
    cr_expect_str_eq (ctl_request_str (args.request, "device_id"), "d");
    ctl_args_destroy (&args);

    setenv ("AUDIT_INGEST_ENDPOINT", "tcp://*:6570", 1);
    cr_assert_eq (s_parse (&args, "publish --demo 25 --rate 100/s --producer p-1"), CTL_ARGS_OK);
    cr_expect_eq (args.number [CTL_OPT_DEMO], 25u);
    cr_expect_eq (args.number [CTL_OPT_RATE], 100u);
    cr_expect_str_eq (args.endpoint, "tcp://127.0.0.1:6570");
    ctl_args_destroy (&args);
}

Test (args, usage_errors)
{
    const char *lines [] = {
        "", "list --token T", "list --token T --org", "list --token T --org a --type nope",
        "list --token T --org a --order up", "list --token T --org a --limit 0",
        "list --token T --org a --limit 1001", "list --token T --org \xc3\xa9",
        "list --token T --org a --from lastweek", "list --token T --org a --bogus",
        "list --token T --org a --since 1d --from 2d", "list --token T --org a --max 0",
        "tail --token T --org a --since 1d", "retention get --token T --org a --yes",
        "list --token T --org a extra", "retention --token T --org a", "frobnicate",
        "export --token T --org a", "export --token T --org a -o f --chunk 50001",
        "list --token T --org a --format csv",
        "retention set --token T --org a --days 0", "ops --token T --status 99",
        "mq ack --token T --org o --device d", "publish", "publish --demo 3 --file x",
        "publish --demo 3 --rate 5/m", "token --role root",
    };
    unsetenv ("AUDIT_TOKEN");
    for (size_t index = 0; index < sizeof lines / sizeof lines [0]; index++) {
        ctl_args_t args;
        cr_expect_eq (s_parse (&args, lines [index]), CTL_ARGS_USAGE, "%s", lines [index]);
        ctl_args_destroy (&args);
    }
    ctl_args_t args;
    cr_expect_eq (s_parse (&args, "list --org a"), CTL_ARGS_USAGE, "no token anywhere");
    ctl_args_destroy (&args);
    cr_expect_eq (s_parse (&args, "export --help"), CTL_ARGS_HELP);
    ctl_args_destroy (&args);
}

Test (args, endpoints_and_times)
{
    char out [128];
    cr_assert_eq (ctl_args_connectable ("tcp://*:5571", out, sizeof out), 0);
    cr_expect_str_eq (out, "tcp://127.0.0.1:5571");
    cr_assert_eq (ctl_args_connectable ("tcp://0.0.0.0:5570", out, sizeof out), 0);
    cr_expect_str_eq (out, "tcp://127.0.0.1:5570");
    cr_assert_eq (ctl_args_connectable ("tcp://[::]:5570", out, sizeof out), 0);
    cr_expect_str_eq (out, "tcp://[::1]:5570");
    cr_assert_eq (ctl_args_connectable ("tcp://audit.internal:5571", out, sizeof out), 0);
    cr_expect_str_eq (out, "tcp://audit.internal:5571");
    cr_assert_eq (ctl_args_connectable ("ipc:///tmp/*", out, sizeof out), 0);
    cr_expect_str_eq (out, "ipc:///tmp/*");

}

//  Issue 14: --since 1w, --since yesterday and --since 2026-11-01
Test (auditctl, times_a_person_types)
{
    int64_t ms, now, midnight;
    cr_assert_eq (audit_time_parse_rfc3339 ("2026-11-26T15:27:31.500Z", 24, &now), 0);
    cr_assert_eq (audit_time_parse_rfc3339 ("2026-11-26T00:00:00Z", 20, &midnight), 0);
    cr_assert_eq (ctl_time_parse ("7d", now, &ms), 0);
    cr_expect_eq (ms, now - 7 * AUDIT_MS_PER_DAY);
    cr_assert_eq (ctl_time_parse ("90s", now, &ms), 0);
    cr_expect_eq (ms, now - 90000);
    cr_assert_eq (ctl_time_parse ("1w", now, &ms), 0);
    cr_expect_eq (ms, now - 7 * AUDIT_MS_PER_DAY);
    cr_assert_eq (ctl_time_parse ("now", now, &ms), 0);
    cr_expect_eq (ms, now);
    cr_assert_eq (ctl_time_parse ("today", now, &ms), 0);
    cr_expect_eq (ms, midnight);
    cr_assert_eq (ctl_time_parse ("yesterday", now, &ms), 0);
    cr_expect_eq (ms, midnight - AUDIT_MS_PER_DAY);
    cr_assert_eq (ctl_time_parse ("2026-11-26", now, &ms), 0);
    cr_expect_eq (ms, midnight);
    cr_assert_eq (ctl_time_parse ("2026-11-26T15:27:31.500Z", 0, &ms), 0);
    cr_expect_eq (ms, now);
    const char *bad [] = { "7y", "d", "-7d", "2026-13-01", "2026-11-1", "Yesterday", "" };
    for (size_t at = 0; at < sizeof bad / sizeof bad [0]; at++)
        cr_expect_eq (ctl_time_parse (bad [at], now, &ms), -1, "%s is refused", bad [at]);
}

//  The line auditctl prints on stderr for argv, which it must refuse
static void
s_expect_refusal_argv (int argc, char **argv, const char *want)
{
    ctl_args_t args;
    s_capture_t capture;
    s_capture_start (&capture, STDERR_FILENO);
    ctl_args_result_t rc = ctl_args_parse (&args, argc, argv);
    const char *said = s_capture_end (&capture);
    ctl_args_destroy (&args);
    cr_expect_eq (rc, CTL_ARGS_USAGE, "%s", want);
    cr_expect_str_eq (said, want);
}

static void
s_expect_refusal (const char *line, const char *want)
{
    char *copy = s_keep (strdup (line)), *words [64], *save = NULL;
    int count = 0;
    words [count++] = (char *) "auditctl";
    for (char *word = strtok_r (copy, " ", &save); word; word = strtok_r (NULL, " ", &save))
        words [count++] = word;
    words [count] = NULL;
    s_expect_refusal_argv (count, words, want);
}

Test (args, a_refused_value_says_what_is_allowed)
{
    unsetenv ("AUDIT_TOKEN");
    s_expect_refusal ("list --token T --org a --limit 1001",
        "auditctl: invalid value for --limit (1001): a whole number from 1 to 1000\n");
    s_expect_refusal ("export --token T --org a -o f --chunk 0",
        "auditctl: invalid value for --chunk (0): a whole number from 1 to 50000\n");
    s_expect_refusal ("retention set --token T --org a --days 0",
        "auditctl: invalid value for --days (0): a whole number from 1 to 365\n");
    s_expect_refusal ("retention set --token T --org a --days 366",
        "auditctl: invalid value for --days (366): a whole number from 1 to 365\n");
    s_expect_refusal ("token --role org_admin --org a --ttl 0",
        "auditctl: invalid value for --ttl (0): a whole number from 1 to 31536000\n");
    s_expect_refusal ("token --role admin",
        "auditctl: invalid value for --role (admin): one of org_admin, platform_ops or device\n");
    s_expect_refusal ("list --token T --org a --order up",
        "auditctl: invalid value for --order (up): asc or desc\n");
    s_expect_refusal ("export --token T --org a -o f --format xml",
        "auditctl: invalid value for --format (xml): csv or ndjson\n");
    s_expect_refusal ("publish --demo 3 --rate 5/m",
        "auditctl: invalid value for --rate (5/m): a whole number from 1 to 10000000,"
        " optionally followed by /s\n");
    char *from [] = { "auditctl", "list", "--token", "T", "--org", "a", "--from", "15m ago", NULL };
    s_expect_refusal_argv (8, from,
        "auditctl: invalid value for --from (15m ago): RFC 3339 (2026-11-01T00:00:00Z), a date"
        " (2026-11-01: its midnight UTC), now, today, yesterday (their midnight UTC), or NNs,"
        " NNm, NNh, NNd or NNw meaning that long ago (15m, 24h, 7d, 1w)\n");
    s_expect_refusal ("list --token T --org a --from 1d --since 2d",
        "auditctl: --from and --since say the same thing; give one\n");
}

Test (args, a_first_word_alone_lists_its_subcommands)
{
    unsetenv ("AUDIT_TOKEN");
    s_expect_refusal ("retention",
        "auditctl: retention needs a subcommand: retention get|set (see auditctl --help)\n");
    s_expect_refusal ("retention --token T --org a",
        "auditctl: retention needs a subcommand: retention get|set (see auditctl --help)\n");
    s_expect_refusal ("mq",
        "auditctl: mq needs a subcommand: mq fetch|ack (see auditctl --help)\n");
    s_expect_refusal ("mq list",
        "auditctl: unknown command 'mq list': mq takes a subcommand: mq fetch|ack"
        " (see auditctl --help)\n");
    s_expect_refusal ("frobnicate", "auditctl: unknown command 'frobnicate' (see auditctl --help)\n");
}

//  What "auditctl COMMAND --help" prints
static const char *
s_help (const char *line)
{
    ctl_args_t args;
    s_capture_t capture;
    s_capture_start (&capture, STDOUT_FILENO);
    ctl_args_result_t rc = s_parse (&args, line);
    const char *text = s_capture_end (&capture);
    ctl_args_destroy (&args);
    cr_expect_eq (rc, CTL_ARGS_HELP, "%s", line);
    return text;
}

Test (args, help_explains_file_format_dash_and_audience)
{
    const char *publish = s_help ("publish --help");
    const char *wanted [] = {
        "one flat JSON object per line", "\"topic\"  audit (the default), ops or mq",
        "v (1) and timestamp (now)", "event_id", "message_id", "producer_id and seq",
        "sent as binary", "--wait waits for the acknowledgements", "exit 1 when one was rejected",
        "PRODUCER.outbox", NULL
    };
    for (const char **want = wanted; *want; want++)
        cr_expect (strstr (publish, *want), "publish --help lacks %s", *want);
    cr_expect (strstr (s_help ("export --help"), "'-': standard output"));
    cr_expect (strstr (s_help ("token --help"), "aud claim\nis AUDIT_JWT_AUDIENCE"));
}

//  ---------------------------------------------------------------------
//  JSON lines

static void
s_expect_bad_json (const char *text, const char *reason)
{
    ctl_json_object_t object = { .count = 0 };
    char error [256];
    cr_expect_eq (ctl_json_parse (text, strlen (text), &object, error, sizeof error), -1, "%s", text);
    cr_expect (strstr (error, reason) != NULL, "%s: got '%s', want '%s'", text, error, reason);
    ctl_json_clear (&object);
}

Test (json, good_line_with_escapes)
{
    const char *line = " {\"a\": \"q\\\" b\\\\ n\\n e\\u00e9 s\\ud83d\\ude00 \\/\", \"n\": -42,"
                       " \"big\": 9007199254740992, \"t\": true, \"f\": false, \"z\": null,"
                       " \"raw\": \"caf\xc3\xa9\"}\r\n";
    ctl_json_object_t object = { .count = 0 };
    char error [256] = "";
    cr_assert_eq (ctl_json_parse (line, strlen (line), &object, error, sizeof error), 0, "%s", error);
    cr_assert_eq (object.count, 7u);
    const ctl_json_pair_t *pair = ctl_json_find (&object, "a");
    cr_expect_str_eq (pair->text, "q\" b\\ n\n e\xc3\xa9 s\xf0\x9f\x98\x80 /");
    cr_expect_eq (ctl_json_find (&object, "n")->integer, -42);
    cr_expect_eq (ctl_json_find (&object, "big")->integer, 9007199254740992LL);
    cr_expect (ctl_json_find (&object, "t")->boolean);
    cr_expect_eq (ctl_json_find (&object, "f")->kind, CTL_JSON_BOOL);
    cr_expect_eq (ctl_json_find (&object, "z")->kind, CTL_JSON_NULL);
    cr_expect_str_eq (ctl_json_find (&object, "raw")->text, "caf\xc3\xa9");
    ctl_json_clear (&object);
    cr_assert_eq (ctl_json_parse ("{}", 2, &object, error, sizeof error), 0);
    cr_expect_eq (object.count, 0u);
}

Test (json, bad_lines_say_why_and_where)
{
    s_expect_bad_json ("[1]", "column 1: a line must be one JSON object");
    s_expect_bad_json ("{\"a\": {\"b\": 1}}", "column 7: nested");
    s_expect_bad_json ("{\"a\": [1]}", "nested");
    s_expect_bad_json ("{\"a\": 1.5}", "only integers");
    s_expect_bad_json ("{\"a\": 1e3}", "only integers");
    s_expect_bad_json ("{\"a\": 01}", "leading zero");
    s_expect_bad_json ("{\"a\": 99999999999999999999}", "out of range");
    s_expect_bad_json ("{\"a\": 1,}", "expected a string");
    s_expect_bad_json ("{\"a\": 1 \"b\": 2}", "column 9: expected ',' or '}'");
    s_expect_bad_json ("{\"a\": 1, \"a\": 2}", "column 10: duplicate key");
    s_expect_bad_json ("{\"a\": \"open", "unterminated");
    s_expect_bad_json ("{\"a\": \"tab\there\"}", "control character");
    s_expect_bad_json ("{\"a\": \"\\ud800\"}", "high surrogate");
    s_expect_bad_json ("{\"a\": \"\\udc00\"}", "lone low surrogate");
    s_expect_bad_json ("{\"a\": \"\\x\"}", "unknown escape");
    s_expect_bad_json ("{\"a\": \"\\u12g4\"}", "four hex digits");
    s_expect_bad_json ("{\"a\": \"\xc3\"}", "invalid UTF-8");
    s_expect_bad_json ("{\"a\": tru}", "unexpected value");
    s_expect_bad_json ("{\"a\": 1} x", "column 10: text after the object");
    s_expect_bad_json ("{\"\": 1}", "empty key");
}

//  A sink that keeps every message
typedef struct {
    char topic [8][CTL_PUBLISH_TOPIC_MAX];
    msgpack_unpacked body [8];
    size_t count;
} s_collector_t;

static int
s_collect (void *arg, const char *topic, const void *body, size_t size)
{
    s_collector_t *collector = arg;
    cr_assert_lt (collector->count, 8u);
    snprintf (collector->topic [collector->count], CTL_PUBLISH_TOPIC_MAX, "%s", topic);
    msgpack_unpacked_init (&collector->body [collector->count]);
    size_t offset = 0;
    cr_assert_eq (msgpack_unpack_next (&collector->body [collector->count],
                                       s_copy (body, size), size, &offset), MSGPACK_UNPACK_SUCCESS);
    collector->count++;
    return 0;
}

Test (json, lines_to_messages_with_line_numbers)
{
    const char *file =
        "{\"event_type\": \"user_login\", \"org_id\": \"acme\", \"actor_id\": \"u-1\"}\n"
        "{\"event_type\": \"user_login\", \"org_id\": {}}\n"
        "\n"
        "   \n"
        "{\"topic\": \"ops\", \"client_ip\": \"10.0.0.1\", \"method\": \"GET\", \"path\": \"/x\", \"status\": 200}\n"
        "{\"topic\": \"mq\", \"org_id\": \"o\", \"device_id\": \"d\", \"payload\": \"hi\\u0000\"}\n"
        "{\"topic\": \"nope\"}\n"
        "not json\n"
        "{\"a\": \"open\r\n";
    FILE *in = fmemopen ((void *) file, strlen (file), "r");
    char *errors = NULL;
    size_t errors_size = 0;
    FILE *err = open_memstream (&errors, &errors_size);
    s_collector_t collector = { .count = 0 };
    ctl_publish_stamp_t stamp = { "p-9", 0 };
    uint64_t sent, bad;
    cr_assert_eq (ctl_publish_lines (in, "t.jsonl", &stamp, s_collect, &collector, err, &sent, &bad), 0);
    fclose (in);
    fclose (err);
    cr_expect_eq (sent, 3u);
    cr_expect_eq (bad, 4u);
    cr_expect (strstr (errors, "t.jsonl:2: column 40: nested") != NULL, "%s", errors);
    cr_expect (strstr (errors, "t.jsonl:7: topic must be") != NULL, "%s", errors);
    cr_expect (strstr (errors, "t.jsonl:8: column 1:") != NULL, "%s", errors);
    cr_expect (strstr (errors, "t.jsonl:9: column 12: unterminated") != NULL, "%s", errors);
    free (errors);

    cr_assert_eq (collector.count, 3u);
    const msgpack_object *event = &collector.body [0].data;
    cr_expect_str_eq (collector.topic [0], "audit");
    s_expect_uint (event, "v", 1);
    s_expect_str (event, "producer_id", "p-9");
    s_expect_uint (event, "seq", 1);
    audit_event_t decoded;
    audit_decode_info_t info;
    msgpack_sbuffer again;                  //  the real validator takes it
    msgpack_sbuffer_init (&again);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &again, msgpack_sbuffer_write);
    msgpack_pack_object (&packer, *event);
    cr_expect_eq (audit_decode_event (again.data, again.size, audit_time_now_ms (), &decoded, &info), 0,
                  "reason %d", info.reason);
    msgpack_sbuffer_destroy (&again);

    cr_expect_str_eq (collector.topic [1], "ops");
    cr_expect_null (ctl_reply_field (&collector.body [1].data, "topic"));
    cr_expect_null (ctl_reply_field (&collector.body [1].data, "event_id"));
    cr_expect_str_eq (collector.topic [2], "mq");
    const msgpack_object *payload = ctl_reply_field (&collector.body [2].data, "payload");
    cr_assert_eq (payload->type, MSGPACK_OBJECT_BIN);
    cr_expect_eq (payload->via.bin.size, 3u);
    cr_expect_not_null (ctl_reply_field (&collector.body [2].data, "message_id"));
    for (size_t index = 0; index < collector.count; index++)
        msgpack_unpacked_destroy (&collector.body [index]);
}

//  ---------------------------------------------------------------------
//  Demo events

static bool
s_allowed_key (const audit_event_info_t *info, const char *key)
{
    static const char *envelope [] = { "v", "event_id", "event_type", "timestamp", "org_id",
                                       "actor_id", "producer_id", "seq", NULL };
    for (const char **name = envelope; *name; name++)
        if (strcmp (*name, key) == 0)
            return true;
    audit_field_t field;
    return audit_proto_field_lookup (key, strlen (key), &field) == 0
        && ((info->required | info->optional) & AUDIT_FIELD_BIT (field));
}

Test (demo, every_event_has_its_required_fields_and_passes_validation)
{
    ctl_demo_t demo;
    ctl_json_object_t object = { .count = 0 };
    ctl_publish_stamp_t stamp = { NULL, 0 };
    int64_t now = audit_time_now_ms ();
    uint32_t types_seen = 0;
    ctl_demo_init (&demo, 42, NULL, NULL);
    for (uint64_t seq = 1; seq <= 2000; seq++) {
        cr_assert_eq (ctl_demo_event (&demo, seq, now, &object), 0);
        audit_event_type_t type;
        const ctl_json_pair_t *name = ctl_json_find (&object, "event_type");
        cr_assert_eq (audit_proto_event_lookup (name->text, name->text_len, &type), 0);
        const audit_event_info_t *info = audit_proto_event_info (type);
        cr_expect_not (info->reserved, "%s is written by the service only", info->name);
        types_seen |= 1u << type;
        for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
            const audit_field_info_t *row = audit_proto_field_info ((audit_field_t) field);
            const ctl_json_pair_t *pair = ctl_json_find (&object, row->key);
            if (info->required & AUDIT_FIELD_BIT (field))
                cr_assert (pair && pair->kind == (row->kind == AUDIT_KIND_UINT ? CTL_JSON_INT : CTL_JSON_STR),
                           "%s needs %s", info->name, row->key);
        }
        for (size_t index = 0; index < object.count; index++)
            cr_expect (s_allowed_key (info, object.pairs [index].key), "%s", object.pairs [index].key);
        const char *org = ctl_json_find (&object, "org_id")->text;
        cr_expect (strncmp (org, "demo-org-", 9) == 0 && org [9] >= '1' && org [9] <= '5' && !org [10]);
        cr_expect_str_eq (ctl_json_find (&object, "producer_id")->text, CTL_DEMO_PRODUCER);
        cr_expect_eq (ctl_json_find (&object, "seq")->integer, (int64_t) seq);

        char topic [CTL_PUBLISH_TOPIC_MAX], error [128];
        msgpack_sbuffer body;
        msgpack_sbuffer_init (&body);
        cr_assert_eq (ctl_publish_encode (&object, &stamp, now, topic, sizeof topic, &body,
                                          error, sizeof error), 0);
        audit_event_t event;
        audit_decode_info_t info_out;
        cr_assert_eq (audit_decode_event (body.data, body.size, now, &event, &info_out), 0,
                      "reason %d", info_out.reason);
        cr_expect_eq (info_out.dropped_total, 0u);
        cr_expect_leq (event.timestamp_ms, now);
        cr_expect_geq (event.timestamp_ms, now - 7 * AUDIT_MS_PER_DAY);
        msgpack_sbuffer_destroy (&body);
    }
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        if (!audit_proto_event_info ((audit_event_type_t) type)->reserved)
            cr_expect (types_seen & (1u << type), "type %d never generated", type);
    ctl_demo_init (&demo, 7, "acme", "me");
    cr_assert_eq (ctl_demo_event (&demo, 1, now, &object), 0);
    cr_expect_str_eq (ctl_json_find (&object, "org_id")->text, "acme");
    cr_expect_str_eq (ctl_json_find (&object, "producer_id")->text, "me");
    ctl_json_clear (&object);
}

//  ---------------------------------------------------------------------
//  Replies and what is printed of them

static void
s_pk_str (msgpack_packer *packer, const char *text)
{
    msgpack_pack_str (packer, strlen (text));
    msgpack_pack_str_body (packer, text, strlen (text));
}

//  An event map from "key=value" pairs; values of digits are packed as uint
static void
s_pk_event (msgpack_packer *packer, const char *const *pairs)
{
    size_t count = 0;
    while (pairs [count])
        count++;
    msgpack_pack_map (packer, count);
    for (size_t index = 0; index < count; index++) {
        const char *equals = strchr (pairs [index], '=');
        msgpack_pack_str (packer, (size_t) (equals - pairs [index]));
        msgpack_pack_str_body (packer, pairs [index], (size_t) (equals - pairs [index]));
        if (strspn (equals + 1, "0123456789") == strlen (equals + 1))
            msgpack_pack_uint64 (packer, strtoull (equals + 1, NULL, 10));
        else
            s_pk_str (packer, equals + 1);
    }
}

static const char *const s_event_1 [] = {
    "event_id=11111111-1111-4111-8111-111111111111", "event_type=user_login",
    "category=authentication", "timestamp=2026-11-26T09:47:19.123Z",
    "received_at=2026-11-26T09:47:19.200Z", "org_id=acme", "actor_id=user-1",
    "log_index=0", "device_id=device-7", NULL
};
static const char *const s_event_2 [] = {
    "event_id=22222222-2222-4222-8222-222222222222", "event_type=broadcast_sent",
    "category=broadcast", "timestamp=2026-11-26T09:48:00.000Z",
    "received_at=2026-11-26T09:48:00.001Z", "org_id=acme", "actor_id=admin-1",
    "log_index=41", "broadcast_id=b-1", "recipient_count=42", "group_id=g-2", NULL
};
static const char *const s_event_3 [] = {
    "event_type=group_created", "timestamp=2026-11-26T09:49:00.000Z",
    "actor_id=evil\x1b[31m", "group_id=g-1", NULL
};

//  {ok: true, events: [the first events of the three], ...}: a reply of
//  three keys, its last for the caller to pack
static void
s_pack_events_reply (msgpack_packer *packer, msgpack_sbuffer *buffer, int events)
{
    msgpack_packer_init (packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (packer, 3);
    s_pk_str (packer, "ok");
    msgpack_pack_true (packer);
    s_pk_str (packer, "events");
    msgpack_pack_array (packer, (size_t) events);
    const char *const *all [] = { s_event_1, s_event_2, s_event_3 };
    for (int index = 0; index < events; index++)
        s_pk_event (packer, all [index]);
}

//  {ok: true, events: [the three], next_cursor: cursor or nil}
static void
s_pack_list_reply (msgpack_sbuffer *buffer, const char *cursor, int events)
{
    msgpack_packer packer;
    s_pack_events_reply (&packer, buffer, events);
    s_pk_str (&packer, "next_cursor");
    if (cursor)
        s_pk_str (&packer, cursor);
    else
        msgpack_pack_nil (&packer);
}

static void
s_pack_error_reply (msgpack_sbuffer *buffer, const char *code, const char *message)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 2);
    s_pk_str (&packer, "ok");
    msgpack_pack_false (&packer);
    s_pk_str (&packer, "error");
    msgpack_pack_map (&packer, 2);
    s_pk_str (&packer, "code");
    s_pk_str (&packer, code);
    s_pk_str (&packer, "message");
    s_pk_str (&packer, message);
}

Test (print, event_table_and_json_lines)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    s_pack_list_reply (&buffer, NULL, 3);
    ctl_reply_t *reply = ctl_reply_new (buffer.data, buffer.size);
    cr_assert_not_null (reply);
    cr_expect (ctl_reply_ok (reply));
    const msgpack_object *events = ctl_reply_get (reply, "events");
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    ctl_print_event_header (out);
    for (uint32_t index = 0; index < events->via.array.size; index++)
        ctl_print_event (out, &events->via.array.ptr [index], false);
    ctl_print_event (out, &events->via.array.ptr [0], true);
    fclose (out);
    cr_expect_str_eq (text,
        "INDEX     TIMESTAMP                 EVENT_TYPE                 ACTOR                 RESOURCES\n"
        "0         2026-11-26T09:47:19.123Z  user_login                 user-1                device_id=device-7\n"
        "41        2026-11-26T09:48:00.000Z  broadcast_sent             admin-1               "
        "broadcast_id=b-1 recipient_count=42 group_id=g-2\n"
        "-         2026-11-26T09:49:00.000Z  group_created              evil?[31m             group_id=g-1\n"
        "{\"event_id\":\"11111111-1111-4111-8111-111111111111\",\"event_type\":\"user_login\","
        "\"category\":\"authentication\",\"timestamp\":\"2026-11-26T09:47:19.123Z\","
        "\"received_at\":\"2026-11-26T09:47:19.200Z\",\"org_id\":\"acme\",\"actor_id\":\"user-1\","
        "\"log_index\":0,\"device_id\":\"device-7\"}\n");
    free (text);
    ctl_reply_destroy (&reply);
    ctl_reply_destroy (&reply);
    msgpack_sbuffer_destroy (&buffer);
}

Test (print, message_payload_never_raw)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 3);
    s_pk_str (&packer, "message_id");
    s_pk_str (&packer, "33333333-3333-4333-8333-333333333333");
    s_pk_str (&packer, "timestamp");
    s_pk_str (&packer, "2026-11-26T09:47:19.123Z");
    s_pk_str (&packer, "payload");
    msgpack_pack_bin (&packer, 5);
    msgpack_pack_bin_body (&packer, "\x1b]0;x", 5);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    msgpack_unpack_next (&unpacked, buffer.data, buffer.size, &offset);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    ctl_print_message (out, &unpacked.data, false);
    ctl_print_message (out, &unpacked.data, true);
    fclose (out);
    cr_expect_str_eq (text,
        "33333333-3333-4333-8333-333333333333  2026-11-26T09:47:19.123Z  5\n"
        "{\"message_id\":\"33333333-3333-4333-8333-333333333333\",\"timestamp\":"
        "\"2026-11-26T09:47:19.123Z\",\"size\":5,\"payload_base64\":\"G10wO3g=\"}\n");
    free (text);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

Test (print, stats_flattened)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 2);
    s_pk_str (&packer, "ingest");
    msgpack_pack_map (&packer, 2);
    s_pk_str (&packer, "received");
    msgpack_pack_uint64 (&packer, 12);
    s_pk_str (&packer, "rejected");
    msgpack_pack_map (&packer, 0);
    s_pk_str (&packer, "janitor");
    msgpack_pack_map (&packer, 1);
    s_pk_str (&packer, "last_pass");
    msgpack_pack_nil (&packer);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    msgpack_unpack_next (&unpacked, buffer.data, buffer.size, &offset);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    ctl_print_stats (out, &unpacked.data, false);
    ctl_print_stats (out, &unpacked.data, true);
    fclose (out);
    cr_expect_str_eq (text,
        "ingest.received                           12\n"
        "ingest.rejected                           -\n"
        "janitor.last_pass                         -\n"
        "{\"ingest\":{\"received\":12,\"rejected\":{}},\"janitor\":{\"last_pass\":null}}\n");
    free (text);
    msgpack_unpacked_destroy (&unpacked);
    msgpack_sbuffer_destroy (&buffer);
}

Test (reply, errors_and_nonsense)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    s_pack_error_reply (&buffer, "forbidden", "not your org");
    ctl_reply_t *reply = ctl_reply_new (buffer.data, buffer.size);
    cr_assert_not_null (reply);
    cr_expect_not (ctl_reply_ok (reply));
    char code [32], message [64];
    ctl_reply_error (reply, code, sizeof code, message, sizeof message);
    cr_expect_str_eq (code, "forbidden");
    cr_expect_str_eq (message, "not your org");
    ctl_reply_destroy (&reply);
    cr_expect_null (ctl_reply_new ("\x93\x01\x02\x03", 4), "an array is no reply");
    cr_expect_null (ctl_reply_new ("\x81\xa2ok", 4), "truncated");
    cr_expect_null (ctl_reply_new ("\x80\x80", 2), "trailing bytes");
    msgpack_sbuffer_destroy (&buffer);
}

//  ---------------------------------------------------------------------
//  A scripted stand-in for the query worker

#define S_SCRIPT_MAX 8

typedef struct {
    char endpoint [64];
    msgpack_sbuffer replies [S_SCRIPT_MAX];     //  after these: silence
    size_t reply_count;
    msgpack_unpacked requests [S_SCRIPT_MAX];   //  read after the actor ends
    size_t request_count;
} s_server_t;

static void
s_server_actor (zsock_t *pipe, void *arg)
{
    s_server_t *server = arg;
    zsock_t *socket = zsock_new_rep (server->endpoint);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, socket, NULL);
    while (zpoller_wait (poller, -1) == socket) {
        zframe_t *frame = zframe_recv (socket);
        size_t index = server->request_count++;
        msgpack_unpacked_init (&server->requests [index]);
        size_t offset = 0;
        msgpack_unpack_next (&server->requests [index],
                             s_copy (zframe_data (frame), zframe_size (frame)),
                             zframe_size (frame), &offset);
        zframe_destroy (&frame);
        if (index < server->reply_count)
            zsock_send (socket, "b", server->replies [index].data, server->replies [index].size);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&socket);
}

static s_server_t *
s_server_new (void)
{
    static int next = 0;
    s_server_t *server = calloc (1, sizeof *server);
    snprintf (server->endpoint, sizeof server->endpoint, "inproc://auditctl-%d-%d", getpid (), next++);
    for (size_t index = 0; index < S_SCRIPT_MAX; index++)
        msgpack_sbuffer_init (&server->replies [index]);
    return server;
}

static void
s_server_destroy (s_server_t **server_p)
{
    s_server_t *server = *server_p;
    for (size_t index = 0; index < S_SCRIPT_MAX; index++)
        msgpack_sbuffer_destroy (&server->replies [index]);
    for (size_t index = 0; index < server->request_count; index++)
        msgpack_unpacked_destroy (&server->requests [index]);
    free (server);
    *server_p = NULL;
}

//  {ok, format: csv, data: bin, rows, next_cursor}
static void
s_pack_chunk (msgpack_sbuffer *buffer, const char *csv, uint64_t rows, const char *cursor)
{
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 5);
    s_pk_str (&packer, "ok");
    msgpack_pack_true (&packer);
    s_pk_str (&packer, "format");
    s_pk_str (&packer, "csv");
    s_pk_str (&packer, "data");
    msgpack_pack_bin (&packer, strlen (csv));
    msgpack_pack_bin_body (&packer, csv, strlen (csv));
    s_pk_str (&packer, "rows");
    msgpack_pack_uint64 (&packer, rows);
    s_pk_str (&packer, "next_cursor");
    if (cursor)
        s_pk_str (&packer, cursor);
    else
        msgpack_pack_nil (&packer);
}

//  Export the scripted chunks into dir/out.csv in format (NULL: the
//  default); the exit code
static int
s_export_as (s_server_t *server, const char *dir, int timeout_ms, const char *format,
             uint64_t *rows)
{
    zactor_t *actor = zactor_new (s_server_actor, server);
    ctl_client_t *client = ctl_client_new (server->endpoint, timeout_ms);
    ctl_request_t *request = ctl_request_new ("export");
    ctl_request_set_str (request, "org_id", "acme");
    if (format)
        ctl_request_set_str (request, "format", format);
    ctl_request_set_str (request, "cursor", "stale");
    char path [512];
    snprintf (path, sizeof path, "%s/out.csv", dir);
    int rc = ctl_export_run (client, request, path, NULL, rows);
    ctl_request_destroy (&request);
    ctl_client_destroy (&client);
    zactor_destroy (&actor);
    return rc;
}

static int
s_export (s_server_t *server, const char *dir, int timeout_ms, uint64_t *rows)
{
    return s_export_as (server, dir, timeout_ms, NULL, rows);
}

static bool
s_exists (const char *dir, const char *name)
{
    char path [512];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    return access (path, F_OK) == 0;
}

#define S_HEADER "timestamp,event_type\r\n"

Test (export, complete_file_from_every_chunk)
{
    char *dir = test_tmpdir_new ("auditctl-export");
    s_server_t *server = s_server_new ();
    s_pack_chunk (&server->replies [0], S_HEADER "a,1\r\nb,2\r\n", 2, "c1");
    s_pack_chunk (&server->replies [1], "c,3\r\n", 1, NULL);
    server->reply_count = 2;
    uint64_t rows;
    cr_assert_eq (s_export (server, dir, 2000, &rows), CTL_EXIT_OK);
    cr_expect_eq (rows, 3u);
    cr_expect_not (s_exists (dir, "out.csv.tmp"));
    char path [512], content [256] = "";
    snprintf (path, sizeof path, "%s/out.csv", dir);
    FILE *file = fopen (path, "r");
    cr_assert_not_null (file);
    content [fread (content, 1, sizeof content - 1, file)] = 0;
    fclose (file);
    cr_expect_str_eq (content, S_HEADER "a,1\r\nb,2\r\nc,3\r\n");
    //  The first request starts over (no stale cursor) and asks for CSV;
    //  the second carries the first reply's cursor
    cr_assert_eq (server->request_count, 2u);
    cr_expect_null (ctl_reply_field (&server->requests [0].data, "cursor"));
    s_expect_str (&server->requests [0].data, "format", "csv");
    s_expect_str (&server->requests [1].data, "cursor", "c1");
    test_tmpdir_destroy (&dir);
    s_server_destroy (&server);
}

Test (export, ndjson_is_asked_for_and_written_as_it_comes)
{
    char *dir = test_tmpdir_new ("auditctl-export");
    s_server_t *server = s_server_new ();
    s_pack_chunk (&server->replies [0], "{\"a\":1}\n", 1, "c1");
    s_pack_chunk (&server->replies [1], "{\"b\":2}\n", 1, NULL);
    server->reply_count = 2;
    uint64_t rows;
    cr_assert_eq (s_export_as (server, dir, 2000, "ndjson", &rows), CTL_EXIT_OK);
    cr_expect_eq (rows, 2u);
    char path [512], content [256] = "";
    snprintf (path, sizeof path, "%s/out.csv", dir);
    FILE *file = fopen (path, "r");
    cr_assert_not_null (file);
    content [fread (content, 1, sizeof content - 1, file)] = 0;
    fclose (file);
    cr_expect_str_eq (content, "{\"a\":1}\n{\"b\":2}\n");
    cr_assert_eq (server->request_count, 2u);
    s_expect_str (&server->requests [0].data, "format", "ndjson");
    s_expect_str (&server->requests [1].data, "format", "ndjson");
    test_tmpdir_destroy (&dir);
    s_server_destroy (&server);
}

Test (export, refused_chunk_leaves_no_file)
{
    char *dir = test_tmpdir_new ("auditctl-export");
    s_server_t *server = s_server_new ();
    s_pack_chunk (&server->replies [0], S_HEADER "a,1\r\n", 1, "c1");
    s_pack_error_reply (&server->replies [1], "bad_request", "cursor does not fit");
    server->reply_count = 2;
    uint64_t rows;
    cr_expect_eq (s_export (server, dir, 2000, &rows), CTL_EXIT_REFUSED);
    cr_expect_not (s_exists (dir, "out.csv"));
    cr_expect_not (s_exists (dir, "out.csv.tmp"));
    test_tmpdir_destroy (&dir);
    s_server_destroy (&server);
}

Test (export, silence_leaves_no_file)
{
    char *dir = test_tmpdir_new ("auditctl-export");
    s_server_t *server = s_server_new ();
    s_pack_chunk (&server->replies [0], S_HEADER "a,1\r\n", 1, "c1");
    server->reply_count = 1;
    uint64_t rows;
    cr_expect_eq (s_export (server, dir, 200, &rows), CTL_EXIT_NO_ANSWER);
    cr_expect_not (s_exists (dir, "out.csv"));
    cr_expect_not (s_exists (dir, "out.csv.tmp"));
    test_tmpdir_destroy (&dir);
    s_server_destroy (&server);
}

Test (export, unwritable_place_is_a_usage_error)
{
    s_server_t *server = s_server_new ();
    uint64_t rows;
    cr_expect_eq (s_export (server, "/nonexistent/dir", 200, &rows), CTL_EXIT_USAGE);
    cr_expect_eq (server->request_count, 0u, "nothing asked before the file can be written");
    s_server_destroy (&server);
}

Test (export, dash_is_standard_output)
{
    char *dir = test_tmpdir_new ("auditctl-export");
    s_server_t *server = s_server_new ();
    s_pack_chunk (&server->replies [0], S_HEADER "a,1\r\n", 1, "c1");
    s_pack_chunk (&server->replies [1], "b,2\r\n", 1, NULL);
    server->reply_count = 2;
    zactor_t *actor = zactor_new (s_server_actor, server);
    ctl_client_t *client = ctl_client_new (server->endpoint, 2000);
    ctl_request_t *request = ctl_request_new ("export");
    char *cwd = getcwd (NULL, 0);
    cr_assert_eq (chdir (dir), 0);              //  where a file named "-" would appear
    uint64_t rows;
    s_capture_t capture;
    s_capture_start (&capture, STDOUT_FILENO);
    int rc = ctl_export_run (client, request, "-", NULL, &rows);
    const char *out = s_capture_end (&capture);
    cr_expect_eq (rc, CTL_EXIT_OK);
    cr_expect_eq (rows, 2u);
    cr_expect_str_eq (out, S_HEADER "a,1\r\nb,2\r\n");
    cr_expect_not (s_exists (dir, "-"));
    cr_expect_not (s_exists (dir, "-.tmp"));
    cr_assert_eq (chdir (cwd), 0);
    free (cwd);
    ctl_request_destroy (&request);
    ctl_client_destroy (&client);
    zactor_destroy (&actor);
    s_server_destroy (&server);
    test_tmpdir_destroy (&dir);
}

Test (export, summary_says_row_or_rows_and_where)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    ctl_export_summary (out, "-", 1, false);
    ctl_export_summary (out, "out.csv", 2, false);
    ctl_export_summary (out, "-", 1, true);
    fclose (out);
    cr_expect_str_eq (text, "1 row written to standard output\n2 rows written to out.csv\n"
                            "{\"rows\":1,\"file\":\"-\"}\n");
    free (text);
}

Test (query, list_all_follows_cursors)
{
    s_server_t *server = s_server_new ();
    s_pack_list_reply (&server->replies [0], "k1", 2);
    s_pack_list_reply (&server->replies [1], NULL, 1);
    server->reply_count = 2;
    zactor_t *actor = zactor_new (s_server_actor, server);
    ctl_args_t args;
    char line [256];
    snprintf (line, sizeof line, "list --json --all --token T --org acme --endpoint %s", server->endpoint);
    cr_assert_eq (s_parse (&args, line), CTL_ARGS_OK);
    ctl_client_t *client = ctl_client_new (args.endpoint, 2000);
    char *text = NULL, *notes = NULL;
    size_t size = 0, notes_size = 0;
    FILE *out = open_memstream (&text, &size), *err = open_memstream (&notes, &notes_size);
    cr_expect_eq (ctl_query_run (&args, client, out, err), CTL_EXIT_OK);
    fclose (out);
    fclose (err);
    size_t lines = 0;
    for (const char *at = text; (at = strchr (at, '\n')); at++)
        lines++;
    cr_expect_eq (lines, 3u, "%s", text);
    cr_expect_str_eq (notes, "", "no cursor note after the last page");
    ctl_client_destroy (&client);
    ctl_args_destroy (&args);
    zactor_destroy (&actor);
    cr_assert_eq (server->request_count, 2u);
    s_expect_str (&server->requests [1].data, "cursor", "k1");
    free (text);
    free (notes);
    s_server_destroy (&server);
}

Test (query, one_page_notes_the_cursor_and_errors_exit_1)
{
    s_server_t *server = s_server_new ();
    s_pack_list_reply (&server->replies [0], "k1", 1);
    s_pack_error_reply (&server->replies [1], "forbidden", "no");
    server->reply_count = 2;
    zactor_t *actor = zactor_new (s_server_actor, server);
    ctl_args_t args;
    char line [256];
    snprintf (line, sizeof line, "list --token T --org acme --endpoint %s", server->endpoint);
    cr_assert_eq (s_parse (&args, line), CTL_ARGS_OK);
    ctl_client_t *client = ctl_client_new (args.endpoint, 2000);
    char *text = NULL, *notes = NULL;
    size_t size = 0, notes_size = 0;
    FILE *out = open_memstream (&text, &size), *err = open_memstream (&notes, &notes_size);
    cr_expect_eq (ctl_query_run (&args, client, out, err), CTL_EXIT_OK);
    cr_expect_eq (ctl_query_run (&args, client, out, err), CTL_EXIT_REFUSED);
    fclose (out);
    fclose (err);
    cr_expect_str_eq (notes, "next cursor: k1\n");
    cr_expect (strncmp (text, "INDEX", 5) == 0);
    ctl_client_destroy (&client);
    ctl_args_destroy (&args);
    zactor_destroy (&actor);
    free (text);
    free (notes);
    s_server_destroy (&server);
}

//  With --json the cursor is the output's last line, and a refusal is a
//  JSON line too (issue 14)
Test (query, json_carries_the_cursor_and_the_error, .init = cr_redirect_stderr)
{
    s_server_t *server = s_server_new ();
    s_pack_list_reply (&server->replies [0], "k1", 1);
    s_pack_error_reply (&server->replies [1], "forbidden", "list needs \"org_admin\"");
    server->reply_count = 2;
    zactor_t *actor = zactor_new (s_server_actor, server);
    ctl_args_t args;
    char line [256];
    snprintf (line, sizeof line, "list --json --token T --org acme --endpoint %s", server->endpoint);
    cr_assert_eq (s_parse (&args, line), CTL_ARGS_OK);
    ctl_client_t *client = ctl_client_new (args.endpoint, 2000);
    ctl_client_set_json (client, true);
    char *text = NULL, *notes = NULL;
    size_t size = 0, notes_size = 0;
    FILE *out = open_memstream (&text, &size), *err = open_memstream (&notes, &notes_size);
    cr_expect_eq (ctl_query_run (&args, client, out, err), CTL_EXIT_OK);
    cr_expect_eq (ctl_query_run (&args, client, out, err), CTL_EXIT_REFUSED);
    fclose (out);
    fclose (err);
    cr_expect_str_eq (notes, "", "nothing beside the JSON");
    const char *last = strstr (text, "{\"next_cursor\":\"k1\"}\n");
    cr_expect (last && last [strlen (last) - 1] == '\n' && strchr (last, '\n') [1] == 0,
               "the cursor is the last line: %s", text);
    fflush (stderr);
    static char errors [4096];
    size_t got = fread (errors, 1, sizeof errors - 1, cr_get_redirected_stderr ());
    errors [got] = 0;
    cr_expect_str_eq (errors, "{\"error\":{\"code\":\"forbidden\",\"message\":"
                              "\"list needs \\\"org_admin\\\"\"}}\n");
    ctl_client_destroy (&client);
    ctl_args_destroy (&args);
    zactor_destroy (&actor);
    free (text);
    free (notes);
    s_server_destroy (&server);
}

//  ---------------------------------------------------------------------
//  Words: one or many, a or an

Test (words, a_or_an_before_the_role)
{
    char *token = NULL;
    s_capture_t capture;
    s_capture_start (&capture, STDERR_FILENO);
    cr_expect_eq (ctl_token_mint (NULL, "org_admin", NULL, NULL, NULL, 60, &token), -1);
    cr_expect_str_eq (s_capture_end (&capture), "auditctl: an org_admin token needs --org\n");
    s_capture_start (&capture, STDERR_FILENO);
    cr_expect_eq (ctl_token_mint (NULL, "device", NULL, NULL, NULL, 60, &token), -1);
    cr_expect_str_eq (s_capture_end (&capture), "auditctl: a device token needs --org\n");
}

Test (words, kept_one_day_and_one_row_one_chunk)
{
    s_server_t *server = s_server_new ();
    msgpack_packer packer;
    msgpack_packer_init (&packer, &server->replies [0], msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 3);
    s_pk_str (&packer, "ok");
    msgpack_pack_true (&packer);
    s_pk_str (&packer, "org_id");
    s_pk_str (&packer, "acme");
    s_pk_str (&packer, "retention_days");
    msgpack_pack_uint64 (&packer, 1);
    s_pack_chunk (&server->replies [1], S_HEADER "a,1\r\n", 1, NULL);
    server->reply_count = 2;
    zactor_t *actor = zactor_new (s_server_actor, server);
    ctl_args_t args;
    char line [256];
    snprintf (line, sizeof line, "retention get --token T --org acme --endpoint %s", server->endpoint);
    cr_assert_eq (s_parse (&args, line), CTL_ARGS_OK);
    ctl_client_t *client = ctl_client_new (args.endpoint, 2000);
    char *text = NULL, *progress = NULL;
    size_t size = 0, progress_size = 0;
    FILE *out = open_memstream (&text, &size);
    cr_expect_eq (ctl_query_run (&args, client, out, stderr), CTL_EXIT_OK);
    fclose (out);
    cr_expect_str_eq (text, "acme: audit events kept 1 day\n");
    char *dir = test_tmpdir_new ("auditctl-words"), path [512];
    snprintf (path, sizeof path, "%s/out.csv", dir);
    uint64_t rows;
    out = open_memstream (&progress, &progress_size);
    cr_expect_eq (ctl_export_run (client, args.request, path, out, &rows), CTL_EXIT_OK);
    fclose (out);
    cr_expect (strstr (progress, "export: 1 row, 1 chunk,"), "%s", progress);
    test_tmpdir_destroy (&dir);
    ctl_client_destroy (&client);
    ctl_args_destroy (&args);
    zactor_destroy (&actor);
    free (text);
    free (progress);
    s_server_destroy (&server);
}

//  A stand-in for the ingest worker: a SUB bound at the endpoint and a
//  ROUTER at the endpoint + "-ack" that answers the hello and acks each
//  event as it comes, rejecting seq 2 (bad_field, user_id)
static void
s_fake_ack (zsock_t *router, zframe_t *peer, const char *producer, uint64_t seq, bool reject)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 5);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "op", "ack");
    test_pack_kv_str (pack, "producer_id", producer);
    test_pack_kv_uint (pack, "seq", seq);
    test_pack_str (pack, "rejected");
    msgpack_pack_array (&pack->packer, reject ? 1 : 0);
    if (reject) {
        test_pack_map (pack, 4);
        test_pack_kv_uint (pack, "seq", seq);
        test_pack_str (pack, "event_id");
        msgpack_pack_nil (&pack->packer);
        test_pack_kv_str (pack, "reason", "bad_field");
        test_pack_kv_str (pack, "field", "user_id");
    }
    zframe_t *to = zframe_dup (peer);
    zframe_send (&to, router, ZFRAME_MORE);
    zmq_send (zsock_resolve (router), test_pack_data (pack), test_pack_size (pack), 0);
    test_pack_destroy (&pack);
}

static void
s_fake_hello (zsock_t *router, zframe_t **peer, char *producer, size_t size)
{
    zmsg_t *msg = zmsg_recv (router);
    zframe_destroy (peer);
    *peer = zmsg_pop (msg);
    zframe_t *body = zmsg_pop (msg);
    msgpack_unpacked hello;
    msgpack_unpacked_init (&hello);
    msgpack_unpack_next (&hello, (const char *) zframe_data (body), zframe_size (body), NULL);
    const msgpack_object *id = test_obj_get (&hello.data, "producer_id");
    if (id && id->type == MSGPACK_OBJECT_STR)
        snprintf (producer, size, "%.*s", (int) id->via.str.size, id->via.str.ptr);
    s_fake_ack (router, *peer, producer, 0, false);
    msgpack_unpacked_destroy (&hello);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
}

static void
s_fake_event (zsock_t *sub, zsock_t *router, zframe_t *peer, const char *producer)
{
    zmsg_t *msg = zmsg_recv (sub);
    zframe_t *topic = zmsg_pop (msg), *body = zmsg_pop (msg);
    static audit_event_t event;
    audit_decode_info_t info;
    if (peer && body && audit_decode_event (zframe_data (body), zframe_size (body),
                                            audit_time_now_ms (), &event, &info) == 0)
        s_fake_ack (router, peer, producer, event.seq, event.seq == 2);
    zframe_destroy (&topic);
    zframe_destroy (&body);
    zmsg_destroy (&msg);
}

static void
s_ingest_actor (zsock_t *pipe, void *endpoint)
{
    zsock_t *sub = zsock_new (ZMQ_SUB), *router = zsock_new (ZMQ_ROUTER);
    zsock_set_subscribe (sub, "");
    zsock_bind (sub, "%s", (const char *) endpoint);
    zsock_bind (router, "%s-ack", (const char *) endpoint);
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, sub, router, NULL);
    zframe_t *peer = NULL;
    char producer [256] = "";
    void *which;
    while ((which = zpoller_wait (poller, -1)) != NULL && which != pipe) {
        if (which == router)
            s_fake_hello (router, &peer, producer, sizeof producer);
        else
            s_fake_event (sub, router, peer, producer);
    }
    zframe_destroy (&peer);
    zpoller_destroy (&poller);
    zsock_destroy (&sub);
    zsock_destroy (&router);
}

//  publish --demo N --wait through the library: what was acknowledged,
//  stored and rejected, and the exit code
static int
s_publish_demo (int count, char *said, size_t size)
{
    char endpoint [64], line [512];
    snprintf (endpoint, sizeof endpoint, "inproc://auditctl-publish-%d", getpid ());
    char *dir = test_tmpdir_new ("ctl-publish");
    zactor_t *ingest = zactor_new (s_ingest_actor, endpoint);
    ctl_args_t args;
    snprintf (line, sizeof line, "publish --demo %d --wait --timeout 5000 --endpoint %s"
              " --ack-endpoint %s-ack --outbox %s/outbox.db", count, endpoint, endpoint, dir);
    cr_assert_eq (s_parse (&args, line), CTL_ARGS_OK);
    s_capture_t capture;
    s_capture_start (&capture, STDOUT_FILENO);
    int rc = ctl_publish_run (&args);
    snprintf (said, size, "%s", s_capture_end (&capture));
    ctl_args_destroy (&args);
    zactor_destroy (&ingest);
    test_tmpdir_destroy (&dir);
    return rc;
}

Test (words, publish_wait_says_acknowledged_and_stored)
{
    char said [1024], expected [512];
    cr_expect_eq (s_publish_demo (1, said, sizeof said), CTL_EXIT_OK);
    snprintf (expected, sizeof expected, "published 1 event to inproc://auditctl-publish-%d:"
              " 1 acknowledged (1 stored or duplicate, 0 rejected)\n", getpid ());
    cr_expect_str_eq (said, expected);
}

Test (words, publish_wait_says_rejected_with_reasons_and_fails)
{
    char said [1024], expected [512];
    cr_expect_eq (s_publish_demo (2, said, sizeof said), CTL_EXIT_REFUSED);
    snprintf (expected, sizeof expected, "published 2 events to inproc://auditctl-publish-%d:"
              " 2 acknowledged (1 stored or duplicate, 1 rejected: bad_field 1)\n", getpid ());
    cr_expect_str_eq (said, expected);
}

//  --------------------------------------------------------------------------
//  tail: pages followed by next_index, kept in --state

static void
s_pack_tail_reply (msgpack_sbuffer *buffer, int events, uint64_t next)
{
    msgpack_packer packer;
    s_pack_events_reply (&packer, buffer, events);
    s_pk_str (&packer, "next_index");
    msgpack_pack_uint64 (&packer, next);
}

//  Run one tail command line against server; its standard output lines
static size_t
s_tail_lines (const char *line)
{
    ctl_args_t args;
    cr_assert_eq (s_parse (&args, line), CTL_ARGS_OK);
    ctl_client_t *client = ctl_client_new (args.endpoint, 2000);
    char *text = NULL;
    size_t size = 0, lines = 0;
    FILE *out = open_memstream (&text, &size);
    cr_expect_eq (ctl_tail_run (&args, client, out), CTL_EXIT_OK);
    fclose (out);
    for (const char *at = text; (at = strchr (at, '\n')); at++)
        lines++;
    free (text);
    ctl_client_destroy (&client);
    ctl_args_destroy (&args);
    return lines;
}

Test (query, tail_follows_next_index_and_keeps_it_in_the_state_file)
{
    char *dir = test_tmpdir_new ("auditctl-tail");
    char state [600], line [1024];
    snprintf (state, sizeof state, "%s/tail.state", dir);
    s_server_t *server = s_server_new ();
    s_pack_tail_reply (&server->replies [0], 2, 2);
    s_pack_tail_reply (&server->replies [1], 1, 5);     //  3 and 4 skipped by a filter
    s_pack_tail_reply (&server->replies [2], 0, 5);
    s_pack_tail_reply (&server->replies [3], 0, 5);
    server->reply_count = 4;
    zactor_t *actor = zactor_new (s_server_actor, server);
    snprintf (line, sizeof line, "tail --json --token T --org acme --from-index 0 --state %s"
              " --endpoint %s", state, server->endpoint);
    cr_expect_eq (s_tail_lines (line), 3, "one JSON line per event");
    uint64_t kept = 0;
    cr_expect_eq (ctl_tail_state_read (state, &kept), 0);
    cr_expect_eq (kept, 5);
    //  A second run starts where the state file says, not at --from-index
    cr_expect_eq (s_tail_lines (line), 0);
    zactor_destroy (&actor);
    cr_assert_eq (server->request_count, 4u);
    s_expect_uint (&server->requests [0].data, "from_index", 0);
    s_expect_uint (&server->requests [0].data, "wait_ms", 0);
    s_expect_uint (&server->requests [1].data, "from_index", 2);
    s_expect_uint (&server->requests [2].data, "from_index", 5);
    s_expect_uint (&server->requests [3].data, "from_index", 5);
    s_server_destroy (&server);
    test_tmpdir_destroy (&dir);
}

Test (query, a_state_file_must_hold_one_number)
{
    char *dir = test_tmpdir_new ("auditctl-tail-state");
    char path [600];
    snprintf (path, sizeof path, "%s/state", dir);
    uint64_t index = 7;
    cr_expect_eq (ctl_tail_state_read (path, &index), 1, "no file: start as asked");
    cr_assert_eq (ctl_tail_state_write (path, 123456789012ULL), 0);
    cr_expect_eq (ctl_tail_state_read (path, &index), 0);
    cr_expect_eq (index, 123456789012ULL);
    const char *bad [] = { "", "-1\n", "12x\n", "1 2\n", "\n" };
    for (size_t at = 0; at < sizeof bad / sizeof *bad; at++) {
        FILE *file = fopen (path, "w");
        fputs (bad [at], file);
        fclose (file);
        cr_expect_eq (ctl_tail_state_read (path, &index), -1, "'%s' is refused", bad [at]);
    }
    test_tmpdir_destroy (&dir);
}

//  --------------------------------------------------------------------------
//  whoami: the claims, read from the token

Test (query, whoami_reads_the_claims_and_says_they_are_not_verified, .init = cr_redirect_stderr)
{
    char *token = test_token ("a-secret-of-at-least-thirty-two-bytes", "device", "acme", "phone-7", 600);
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream (&text, &size);
    int64_t now = test_now_ms ();
    cr_assert_eq (ctl_whoami_print (token, false, now, out), CTL_EXIT_OK);
    fclose (out);
    cr_expect (strstr (text, "role      device\n"), "%s", text);
    cr_expect (strstr (text, "org       acme\n"));
    cr_expect (strstr (text, "device    phone-7\n"));
    cr_expect (strstr (text, "(in 6"), "about 600 s left: %s", text);
    cr_expect (strstr (text, "not verified"));
    free (text);
    out = open_memstream (&text, &size);
    cr_assert_eq (ctl_whoami_print (token, true, now, out), CTL_EXIT_OK);
    fclose (out);
    cr_expect (text [0] == '{' && strstr (text, "\"device\":\"phone-7\""), "%s", text);
    free (text);
    out = open_memstream (&text, &size);
    cr_expect_eq (ctl_whoami_print ("not-a-token", false, now, out), CTL_EXIT_USAGE);
    cr_expect_eq (ctl_whoami_print ("a.!!!.b", false, now, out), CTL_EXIT_USAGE);
    fclose (out);
    free (text);
    free (token);
}
