/*  =========================================================================
    ctl_confirm - the question auditctl asks before retention set deletes
    ========================================================================= */

#include "ctl_confirm.h"

#include <ctype.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "audit_time.h"
#include "ctl_print.h"
#include "ctl_query.h"

bool
ctl_confirm_wanted (const ctl_args_t *args, int in_fd, int out_fd)
{
    return args->command == CTL_COMMAND_RETENTION_SET && !args->given [CTL_OPT_YES]
        && isatty (in_fd) && isatty (out_fd);
}

//  A request of op about args' organisation, with args' token
static ctl_request_t *
s_request (const ctl_args_t *args, const char *op)
{
    ctl_request_t *request = ctl_request_new (op);
    if (request && (ctl_request_set_token (request, args->token)
                 || ctl_request_set_str (request, "org_id", args->text [CTL_OPT_ORG])))
        ctl_request_destroy (&request);
    return request;
}

//  The organisation's retention now, in *days
static int
s_current_days (const ctl_args_t *args, ctl_client_t *client, uint64_t *days)
{
    ctl_request_t *request = s_request (args, "retention_get");
    ctl_reply_t *reply = NULL;
    int rc = request? ctl_client_call (client, request, &reply): CTL_EXIT_REFUSED;
    if (rc == CTL_EXIT_OK && ctl_reply_uint (ctl_reply_get (reply, "retention_days"), days)) {
        fprintf (stderr, "error: bad_reply: the reply has no retention_days\n");
        rc = CTL_EXIT_REFUSED;
    }
    ctl_reply_destroy (&reply);
    ctl_request_destroy (&request);
    return rc;
}

//  One page of list; its events added to *count, its next cursor set in
//  request (*more false on the last page)
static int
s_count_page (ctl_client_t *client, ctl_request_t *request, uint64_t *count, bool *more)
{
    ctl_reply_t *reply = NULL;
    char *cursor = NULL;
    int rc = ctl_client_call (client, request, &reply);
    const msgpack_object *events = rc == CTL_EXIT_OK? ctl_reply_get (reply, "events"): NULL;
    if (rc == CTL_EXIT_OK && (!events || events->type != MSGPACK_OBJECT_ARRAY
                              || ctl_query_next_cursor (reply, &cursor))) {
        fprintf (stderr, "error: bad_reply: the list reply has no events or next_cursor\n");
        rc = CTL_EXIT_REFUSED;
    }
    if (rc == CTL_EXIT_OK)
        *count += events->via.array.size;
    *more = rc == CTL_EXIT_OK && cursor;
    if (*more && ctl_request_set_str (request, "cursor", cursor))
        rc = CTL_EXIT_REFUSED;
    free (cursor);
    ctl_reply_destroy (&reply);
    return rc;
}

//  How many of the organisation's events are older than cut, up to
//  CTL_CONFIRM_COUNT_MAX (*more then says there are more)
static int
s_count_older (const ctl_args_t *args, ctl_client_t *client, int64_t cut, uint64_t *count,
               bool *more)
{
    char to [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (cut, to);
    ctl_request_t *request = s_request (args, "list");
    int rc = request && ctl_request_set_str (request, "to", to) == 0
          && ctl_request_set_uint (request, "limit", ctl_args_page_max ()) == 0
           ? CTL_EXIT_OK: CTL_EXIT_REFUSED;
    *count = 0;
    *more = true;
    while (rc == CTL_EXIT_OK && *more && *count < CTL_CONFIRM_COUNT_MAX)
        rc = s_count_page (client, request, count, more);
    ctl_request_destroy (&request);
    return rc;
}

static bool
s_said_yes (FILE *in)
{
    char answer [16] = "";
    if (!fgets (answer, sizeof answer, in))
        return false;
    answer [strcspn (answer, "\r\n")] = 0;
    return strcasecmp (answer, "y") == 0 || strcasecmp (answer, "yes") == 0;
}

int
ctl_confirm_retention (const ctl_args_t *args, ctl_client_t *client, FILE *in, FILE *out)
{
    uint64_t now_days = 0, new_days = args->number [CTL_OPT_DAYS], count = 0;
    bool more = false;
    int rc = s_current_days (args, client, &now_days);
    if (rc != CTL_EXIT_OK || new_days >= now_days)
        return rc;          //  longer or the same: nothing more is deleted
    int64_t cut = audit_time_now_ms () - (int64_t) new_days * AUDIT_MS_PER_DAY;
    rc = s_count_older (args, client, cut, &count, &more);
    if (rc != CTL_EXIT_OK)
        return rc;
    char when [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (cut, when);
    fprintf (out, "%s: retention from %" PRIu64 " to %" PRIu64 " days. The next retention pass"
             " deletes %s%" PRIu64 " %s (those before %s), for good.\nContinue? [y/N] ",
             args->text [CTL_OPT_ORG], now_days, new_days, more? "more than ": "", count,
             ctl_print_plural (count, "event", "events"), when);
    fflush (out);
    if (s_said_yes (in))
        return CTL_EXIT_OK;
    fprintf (out, "not changed\n");
    return CTL_EXIT_REFUSED;
}
