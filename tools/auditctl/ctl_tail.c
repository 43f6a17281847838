/*  =========================================================================
    ctl_tail - auditctl tail
    ========================================================================= */

#include "ctl_tail.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#include "ctl_print.h"

//  The longest a tail waits for its first event (contract: 30,000 ms)
#define s_WAIT_MAX_MS   30000

int
ctl_tail_state_read (const char *path, uint64_t *index)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return errno == ENOENT? 1: -1;
    char text [32] = "";
    size_t len = fread (text, 1, sizeof text - 1, file);
    fclose (file);
    text [len] = 0;
    if (len > 0 && text [len - 1] == '\n')
        text [--len] = 0;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull (text, &end, 10);
    if (len == 0 || errno || *end || text [0] == '-' || text [0] == '+')
        return -1;
    *index = (uint64_t) value;
    return 0;
}

int
ctl_tail_state_write (const char *path, uint64_t index)
{
    char tmp [4096];
    if (snprintf (tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp)
        return -1;
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    char text [32];
    int len = snprintf (text, sizeof text, "%" PRIu64 "\n", index);
    bool written = write (fd, text, (size_t) len) == len && fsync (fd) == 0;
    close (fd);
    return written && rename (tmp, path) == 0? 0: -1;
}

//  Print one reply's events; its next_index into *next
static int
s_print (const ctl_args_t *args, const ctl_reply_t *reply, FILE *out, uint32_t *count,
         uint64_t *next)
{
    const msgpack_object *events = ctl_reply_get (reply, "events");
    if (!events || events->type != MSGPACK_OBJECT_ARRAY
    ||  ctl_reply_uint (ctl_reply_get (reply, "next_index"), next) != 0) {
        fprintf (stderr, "error: bad_reply: the reply has no events or next_index\n");
        return CTL_EXIT_REFUSED;
    }
    for (uint32_t at = 0; at < events->via.array.size; at++)
        ctl_print_event (out, &events->via.array.ptr [at], args->json);
    *count = events->via.array.size;
    fflush (out);
    return ferror (out)? CTL_EXIT_REFUSED: CTL_EXIT_OK;
}

//  Where to start: --state's index, else --from-index, else the service's
//  (the next event committed)
static int
s_start (const ctl_args_t *args)
{
    const char *state = args->text [CTL_OPT_STATE];
    uint64_t index = 0;
    int rc = state? ctl_tail_state_read (state, &index): 1;
    if (rc < 0) {
        fprintf (stderr, "error: %s does not hold a log_index (one decimal number)\n", state);
        return CTL_EXIT_USAGE;
    }
    if (rc == 0)
        ctl_request_set_uint (args->request, "from_index", index);
    return CTL_EXIT_OK;
}

//  One call; *count events printed, the next index kept
static int
s_step (const ctl_args_t *args, ctl_client_t *client, FILE *out, uint32_t *count)
{
    ctl_reply_t *reply = NULL;
    uint64_t next = 0;
    int rc = ctl_client_call (client, args->request, &reply);
    if (rc == CTL_EXIT_OK)
        rc = s_print (args, reply, out, count, &next);
    ctl_reply_destroy (&reply);
    if (rc != CTL_EXIT_OK)
        return rc;
    ctl_request_set_uint (args->request, "from_index", next);
    const char *state = args->text [CTL_OPT_STATE];
    if (state && ctl_tail_state_write (state, next) != 0) {
        fprintf (stderr, "error: cannot keep the next log_index in %s: %s\n", state,
                 strerror (errno));
        return CTL_EXIT_REFUSED;
    }
    return CTL_EXIT_OK;
}

int
ctl_tail_run (const ctl_args_t *args, ctl_client_t *client, FILE *out)
{
    bool follow = args->given [CTL_OPT_FOLLOW];
    int wait = args->timeout_ms / 2 < s_WAIT_MAX_MS? args->timeout_ms / 2: s_WAIT_MAX_MS;
    ctl_request_set_uint (args->request, "wait_ms", follow? (uint64_t) wait: 0);
    int rc = s_start (args);
    if (rc == CTL_EXIT_OK && !args->json)
        ctl_print_event_header (out);
    uint64_t printed = 0;
    while (rc == CTL_EXIT_OK && !zsys_interrupted && !ctl_args_at_max (args, printed)) {
        uint32_t count = 0;
        rc = ctl_args_cap_page (args, printed)? CTL_EXIT_REFUSED: s_step (args, client, out, &count);
        printed += count;
        if (!follow && count == 0)
            break;
    }
    //  ^C on -f ends a follow as the user meant it, after its last reply
    return zsys_interrupted && rc != CTL_EXIT_USAGE? CTL_EXIT_OK: rc;
}
