/*  =========================================================================
    ctl_query - the subcommands that ask the query worker and show the
    answer
    ========================================================================= */

#include "ctl_query.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_print.h"

typedef void (s_header_fn) (FILE *out);
typedef void (s_item_fn) (FILE *out, const msgpack_object *item, bool json);

//  What a paged command prints: the array key of its replies and how
typedef struct {
    const char *items_key;
    s_header_fn *header;
    s_item_fn *item;
} s_pager_t;

static int
s_bad_reply (const char *what)
{
    fprintf (stderr, "error: bad_reply: the reply has no %s\n", what);
    return CTL_EXIT_REFUSED;
}

int
ctl_query_next_cursor (const ctl_reply_t *reply, char **cursor_p)
{
    const msgpack_object *next = ctl_reply_get (reply, "next_cursor");
    *cursor_p = NULL;
    if (ctl_reply_is_nil (next))
        return 0;
    if (next->type != MSGPACK_OBJECT_STR || next->via.str.size == 0)
        return -1;
    //  Exact bytes: a cursor is authenticated, so it must go back unchanged
    *cursor_p = strndup (next->via.str.ptr, next->via.str.size);
    return *cursor_p ? 0 : -1;
}

//  Print one page; *cursor_p gets its next cursor, *printed grows by its
//  items
static int
s_page (const ctl_args_t *args, const s_pager_t *pager, const ctl_reply_t *reply,
        bool first, FILE *out, char **cursor_p, uint64_t *printed)
{
    const msgpack_object *items = ctl_reply_get (reply, pager->items_key);
    if (!items || items->type != MSGPACK_OBJECT_ARRAY)
        return s_bad_reply (pager->items_key);
    if (ctl_query_next_cursor (reply, cursor_p))
        return s_bad_reply ("valid next_cursor");
    if (first && !args->json)
        pager->header (out);
    for (uint32_t index = 0; index < items->via.array.size; index++)
        pager->item (out, &items->via.array.ptr [index], args->json);
    *printed += items->via.array.size;
    fflush (out);
    return CTL_EXIT_OK;
}

//  Where the next page starts, for whoever goes on: with --json, in the
//  output a program reads, as its last line
static void
s_show_cursor (const ctl_args_t *args, const char *cursor, FILE *out, FILE *err)
{
    if (args->json) {
        fputs ("{\"next_cursor\":", out);
        ctl_json_write_str (out, cursor, strlen (cursor));
        fputs ("}\n", out);
    }
    else
        fprintf (err, "next cursor: %s\n", cursor);
}

//  list and ops: one page, or with --all or --max the pages that follow
static int
s_pages (const ctl_args_t *args, ctl_client_t *client, const s_pager_t *pager,
         FILE *out, FILE *err)
{
    bool follow = args->given [CTL_OPT_ALL] || args->given [CTL_OPT_MAX];
    uint64_t printed = 0;
    int rc = CTL_EXIT_OK;
    char *cursor = NULL;
    for (bool first = true; rc == CTL_EXIT_OK; first = false) {
        ctl_reply_t *reply = NULL;
        free (cursor);
        cursor = NULL;
        rc = ctl_args_cap_page (args, printed)? CTL_EXIT_REFUSED
                                              : ctl_client_call (client, args->request, &reply);
        if (rc == CTL_EXIT_OK)
            rc = s_page (args, pager, reply, first, out, &cursor, &printed);
        ctl_reply_destroy (&reply);
        if (rc != CTL_EXIT_OK || !cursor)
            break;
        if (!follow || ctl_args_at_max (args, printed)) {
            s_show_cursor (args, cursor, out, err);
            break;
        }
        if (ctl_request_set_str (args->request, "cursor", cursor))
            rc = CTL_EXIT_REFUSED;
    }
    free (cursor);
    return rc;
}

//  A one-shot op: call, then show with fn
typedef int (s_show_fn) (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out);

static int
s_once (const ctl_args_t *args, ctl_client_t *client, s_show_fn *show, FILE *out)
{
    ctl_reply_t *reply;
    int rc = ctl_client_call (client, args->request, &reply);
    if (rc == CTL_EXIT_OK)
        rc = show (args, reply, out);
    ctl_reply_destroy (&reply);
    return rc;
}

static void
s_show_json (const ctl_reply_t *reply, FILE *out)
{
    ctl_print_json (out, ctl_reply_root (reply));
    fputc ('\n', out);
}

static int
s_show_retention (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out)
{
    char org [256];
    uint64_t days;
    if (args->json)
        s_show_json (reply, out);
    else
    if (ctl_reply_uint (ctl_reply_get (reply, "retention_days"), &days) == 0) {
        if (ctl_reply_text (ctl_reply_get (reply, "org_id"), org, sizeof org))
            snprintf (org, sizeof org, "%s", ctl_request_str (args->request, "org_id"));
        fprintf (out, "%s: audit events kept %" PRIu64 " %s\n", org, days,
                 ctl_print_plural (days, "day", "days"));
    }
    else
        fprintf (out, "ok\n");
    return CTL_EXIT_OK;
}

static int
s_show_stats (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out)
{
    const msgpack_object *stats = ctl_reply_get (reply, "stats");
    ctl_print_stats (out, stats ? stats : ctl_reply_root (reply), args->json);
    return CTL_EXIT_OK;
}

static int
s_show_catalog (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out)
{
    ctl_print_catalog (out, ctl_reply_get (reply, "event_types"), args->json);
    return CTL_EXIT_OK;
}

static int
s_show_health (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out)
{
    char service [64], version [64];
    if (args->json) {
        s_show_json (reply, out);
        return CTL_EXIT_OK;
    }
    ctl_reply_text (ctl_reply_get (reply, "service"), service, sizeof service);
    ctl_reply_text (ctl_reply_get (reply, "version"), version, sizeof version);
    fprintf (out, "ok service=%s version=%s\n", *service ? service : "?", *version ? version : "?");
    return CTL_EXIT_OK;
}

static int
s_show_ack (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out)
{
    uint64_t deleted = 0;
    if (args->json)
        s_show_json (reply, out);
    else {
        ctl_reply_uint (ctl_reply_get (reply, "deleted"), &deleted);
        fprintf (out, "deleted %" PRIu64 "\n", deleted);
    }
    return CTL_EXIT_OK;
}

static int
s_show_messages (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out)
{
    const msgpack_object *messages = ctl_reply_get (reply, "messages");
    if (!messages || messages->type != MSGPACK_OBJECT_ARRAY)
        return s_bad_reply ("messages");
    if (!args->json)
        ctl_print_message_header (out);
    for (uint32_t index = 0; index < messages->via.array.size; index++)
        ctl_print_message (out, &messages->via.array.ptr [index], args->json);
    return CTL_EXIT_OK;
}

int
ctl_query_run (const ctl_args_t *args, ctl_client_t *client, FILE *out, FILE *err)
{
    static const s_pager_t events = { "events", ctl_print_event_header, ctl_print_event };
    static const s_pager_t records = { "records", ctl_print_record_header, ctl_print_record };
    switch (args->command) {
        case CTL_COMMAND_LIST: return s_pages (args, client, &events, out, err);
        case CTL_COMMAND_OPS: return s_pages (args, client, &records, out, err);
        case CTL_COMMAND_RETENTION_GET:
        case CTL_COMMAND_RETENTION_SET: return s_once (args, client, s_show_retention, out);
        case CTL_COMMAND_STATS: return s_once (args, client, s_show_stats, out);
        case CTL_COMMAND_CATALOG: return s_once (args, client, s_show_catalog, out);
        case CTL_COMMAND_HEALTH: return s_once (args, client, s_show_health, out);
        case CTL_COMMAND_MQ_FETCH: return s_once (args, client, s_show_messages, out);
        case CTL_COMMAND_MQ_ACK: return s_once (args, client, s_show_ack, out);
        default: return CTL_EXIT_USAGE;     //  not a query command
    }
}
