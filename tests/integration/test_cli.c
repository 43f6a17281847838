/*  auditctl against the real audit-ingest and audit-query, as a first user
    runs it (issue 14): --max caps the total across pages, --since takes
    the times people type, and retention set on a terminal says how many
    events the next pass deletes and asks (--yes, or no terminal, skips
    the question). */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_time.h"
#include "test_keys.h"
#include "test_service.h"
#include "test_support.h"

static test_service_t *s;
static char *s_admin;
static int s_published;

static void
s_setup (void)
{
    s = test_service_start ("cli", true);
    s_admin = test_token (TEST_SECRET, "org_admin", "org-a", NULL, 600);
    s_published = 0;
}

static void
s_teardown (void)
{
    test_service_destroy (&s);
    free (s_admin);
}

TestSuite (cli, .init = s_setup, .fini = s_teardown, .timeout = 120);

//  count user_logins of org-a, days_ago days before now, stored
static void
s_publish (int count, int64_t days_ago)
{
    int64_t ms = audit_time_now_ms () - days_ago * AUDIT_MS_PER_DAY;
    for (int at = 0; at < count; at++) {
        char id [40];
        snprintf (id, sizeof id, "0190a1b2-c3d4-7e5f-8a9b-%012d", s_published++);
        test_pack_t *pack = test_pack_login (id, "org-a", "actor-1", ms + at);
        test_service_publish (s, "audit", pack);
        test_pack_destroy (&pack);
    }
    cr_assert_eq (test_service_wait_count (s, "audit.db", "SELECT count(*) FROM event",
                                           s_published, 10000), s_published);
}

//  The shell command that runs auditctl WORDS against the service
static void
s_command (char *command, size_t size, const char *words)
{
    const char *env [3] = { NULL };
    char keys [1200] = "";
    int count = test_keys_env ("auditctl", env);
    for (int at = 0; at < count; at++)
        snprintf (keys + strlen (keys), sizeof keys - strlen (keys), "'%s' ", env [at]);
    snprintf (command, size, "env %sAUDIT_TOKEN='%s' %s/auditctl %s --endpoint %s", keys,
              s_admin, AUDIT_BIN_DIR, words, s->query_endpoint);
}

//  Run auditctl WORDS with no terminal; its stdout lines, by kind, and
//  its exit status
typedef struct {
    int events, cursors, status;
} s_lines_t;

static s_lines_t
s_run (const char *words)
{
    char command [4096];
    s_command (command, sizeof command, words);
    FILE *pipe = popen (command, "r");
    cr_assert_not_null (pipe);
    s_lines_t lines = { 0, 0, 0 };
    char line [4096];
    while (fgets (line, sizeof line, pipe))
        if (strstr (line, "\"next_cursor\""))
            lines.cursors++;
        else
        if (strstr (line, "\"event_id\""))
            lines.events++;
    int status = pclose (pipe);
    lines.status = WIFEXITED (status)? WEXITSTATUS (status): -1;
    return lines;
}

Test (cli, max_caps_the_total_across_pages)
{
    s_publish (12, 0);
    s_lines_t lines = s_run ("list --org org-a --limit 5 --max 7 --json");
    cr_expect_eq (lines.status, 0);
    cr_expect_eq (lines.events, 7, "7 of 12 events, over two pages and a short third");
    cr_expect_eq (lines.cursors, 1, "the cursor to go on from");
    lines = s_run ("list --org org-a --limit 5 --max 50 --json");
    cr_expect_eq (lines.events, 12, "every event when there are fewer than --max");
    cr_expect_eq (lines.cursors, 0, "nothing to go on from");
    lines = s_run ("tail --org org-a --from-index 0 --limit 5 --max 9 --json");
    cr_expect_eq (lines.events, 9, "tail stops at --max");
}

Test (cli, since_takes_the_times_people_type)
{
    s_publish (2, 40);
    s_publish (3, 10);
    s_publish (4, 0);
    cr_expect_eq (s_run ("list --org org-a --since 1w --json").events, 4);
    cr_expect_eq (s_run ("list --org org-a --since 2w --json").events, 7);
    cr_expect_eq (s_run ("list --org org-a --since yesterday --json").events, 4);
    char words [200], date [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (audit_time_now_ms () - 20 * AUDIT_MS_PER_DAY, date);
    snprintf (words, sizeof words, "list --org org-a --since %.10s --json", date);
    cr_expect_eq (s_run (words).events, 7, "%s", words);
    cr_expect_eq (s_run ("list --org org-a --since 1w --from 2w").status, 2, "one or the other");
}

//  Run auditctl WORDS on a terminal; answer (NULL: none) once it asks.
//  What it wrote in said; its exit status.
static int
s_run_on_tty (const char *words, const char *answer, char *said, size_t size)
{
    char command [4096];
    s_command (command, sizeof command, words);
    int master;
    pid_t pid = forkpty (&master, NULL, NULL, NULL);
    cr_assert_geq (pid, 0);
    if (pid == 0) {
        execl ("/bin/sh", "sh", "-c", command, (char *) NULL);
        _exit (127);
    }
    size_t used = 0;
    struct pollfd wait = { master, POLLIN, 0 };
    while (used + 1 < size && poll (&wait, 1, 15000) > 0) {
        ssize_t got = read (master, said + used, size - used - 1);
        if (got <= 0)
            break;                  //  EIO: the child closed the terminal
        said [used += (size_t) got] = 0;
        if (answer && strstr (said, "[y/N]")) {
            cr_assert_eq (write (master, answer, strlen (answer)), (ssize_t) strlen (answer));
            answer = NULL;
        }
    }
    said [used] = 0;
    close (master);
    int status;
    cr_assert_eq (waitpid (pid, &status, 0), pid);
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

static uint64_t
s_retention (void)
{
    char command [4096], line [512] = "";
    s_command (command, sizeof command, "retention get --org org-a");
    FILE *pipe = popen (command, "r");
    cr_assert_not_null (pipe);
    char *got = fgets (line, sizeof line, pipe);
    pclose (pipe);
    char *days = got? strstr (line, "kept "): NULL;
    cr_assert_not_null (days, "retention get says: %s", line);
    return strtoull (days + 5, NULL, 10);
}

Test (cli, retention_set_on_a_terminal_says_what_goes_and_asks)
{
    s_publish (3, 40);
    s_publish (2, 0);
    char said [4096];
    int status = s_run_on_tty ("retention set --org org-a --days 30", "n\n", said, sizeof said);
    cr_expect (strstr (said, "deletes 3 events"), "it says how many: %s", said);
    cr_expect (strstr (said, "not changed"), "%s", said);
    cr_expect_eq (status, 1, "a no is not a success");
    cr_expect_eq (s_retention (), 365);
    status = s_run_on_tty ("retention set --org org-a --days 30", "y\n", said, sizeof said);
    cr_expect_eq (status, 0, "%s", said);
    cr_expect_eq (s_retention (), 30);
    status = s_run_on_tty ("retention set --org org-a --days 20 --yes", NULL, said, sizeof said);
    cr_expect_eq (status, 0, "%s", said);
    cr_expect (!strstr (said, "[y/N]"), "--yes asks nothing: %s", said);
    cr_expect_eq (s_retention (), 20);
    cr_expect_eq (s_run ("retention set --org org-a --days 10").status, 0, "no terminal, no question");
    cr_expect_eq (s_retention (), 10);
}
