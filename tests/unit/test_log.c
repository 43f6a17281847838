/*  audit_log's warn rate: past AUDIT_LOG_WARN_PER_SECOND in a second, warn
    lines are counted, not written, and one line tells how many; error
    lines always go out. stderr goes to a temp file, and the rate windows
    follow a clock the test sets, so nothing sleeps. Criterion runs each
    test in a process of its own, so each starts with fresh counts. */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#include "audit_log.h"
#include "test_support.h"

//  Threads that log at once, and warn lines each, in the threads test
#define S_THREADS   4
#define S_PER_THREAD 100

static char *s_dir;
static char s_path [512];
static int s_saved_stderr = -1;
static int64_t s_now_ms = 5000;

static int64_t
s_clock (void)
{
    return s_now_ms;
}

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("log");
    snprintf (s_path, sizeof s_path, "%s/stderr", s_dir);
    int fd = open (s_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq (fd, 0);
    fflush (stderr);
    s_saved_stderr = dup (STDERR_FILENO);
    dup2 (fd, STDERR_FILENO);
    close (fd);
    audit_log_init ("test", AUDIT_LOG_DEBUG);
    audit_log_clock_for_test (s_clock);
}

static void
s_teardown (void)
{
    audit_log_clock_for_test (NULL);
    fflush (stderr);
    dup2 (s_saved_stderr, STDERR_FILENO);
    close (s_saved_stderr);
    test_tmpdir_destroy (&s_dir);
}

TestSuite (log, .init = s_setup, .fini = s_teardown);

//  What was written so far, as a heap string
static char *
s_output (void)
{
    fflush (stderr);
    FILE *file = fopen (s_path, "rb");
    cr_assert_not_null (file);
    static char data [1024 * 1024];
    size_t size = fread (data, 1, sizeof data - 1, file);
    fclose (file);
    data [size] = 0;
    return strdup (data);
}

//  Lines of the output that contain needle (which may end in the newline)
static int
s_lines_with (const char *output, const char *needle)
{
    int count = 0;
    for (const char *line = output; *line; ) {
        const char *end = strchr (line, '\n');
        size_t len = end ? (size_t) (end - line) + 1 : strlen (line);
        if (memmem (line, len, needle, strlen (needle)))
            count++;
        line += len;
    }
    return count;
}

Test (log, warn_lines_past_the_rate_are_counted_then_reported)
{
    for (int index = 0; index < 250; index++)
        audit_log_warn ("msg=rejected index=%d", index);
    char *output = s_output ();
    cr_expect_eq (s_lines_with (output, "msg=rejected"), AUDIT_LOG_WARN_PER_SECOND);
    cr_expect_eq (s_lines_with (output, "log_suppressed"), 0, "not before a later window");
    free (output);
    //  Later in the same second: still held back, and no notice yet
    s_now_ms += 999;
    audit_log_info ("msg=same_second");
    s_now_ms += 1;
    audit_log_info ("msg=next_second");
    output = s_output ();
    cr_expect_eq (s_lines_with (output, "msg=rejected"), AUDIT_LOG_WARN_PER_SECOND);
    cr_expect_eq (s_lines_with (output, "level=warn svc=test msg=log_suppressed lines=150\n"), 1);
    const char *notice = strstr (output, "msg=log_suppressed");
    const char *same = strstr (output, "msg=same_second");
    const char *next = strstr (output, "msg=next_second");
    cr_assert (same && notice && next && same < notice && notice < next,
               "the notice comes just before the first line of the later window");
    free (output);
}

Test (log, the_rate_starts_over_each_second_and_the_notice_comes_once)
{
    for (int second = 0; second < 3; second++, s_now_ms += 1000)
        for (int index = 0; index < AUDIT_LOG_WARN_PER_SECOND + 10; index++)
            audit_log_warn ("msg=rejected");
    audit_log_warn ("msg=last");
    audit_log_warn ("msg=last");
    char *output = s_output ();
    cr_expect_eq (s_lines_with (output, "msg=rejected"), 3 * AUDIT_LOG_WARN_PER_SECOND);
    cr_expect_eq (s_lines_with (output, "msg=log_suppressed lines=10\n"), 3);
    cr_expect_eq (s_lines_with (output, "msg=last"), 2);
    free (output);
}

Test (log, error_lines_are_never_held_back)
{
    for (int index = 0; index < 150; index++) {
        audit_log_warn ("msg=rejected");
        if (index % 3 == 0)
            audit_log_error ("msg=store_failed");
    }
    char *output = s_output ();
    cr_expect_eq (s_lines_with (output, "msg=store_failed"), 50);
    cr_expect_eq (s_lines_with (output, "msg=rejected"), AUDIT_LOG_WARN_PER_SECOND);
    free (output);
    //  An error line in a later window neither waits for nor carries the notice
    s_now_ms += 1000;
    audit_log_error ("msg=later_error");
    output = s_output ();
    cr_expect_eq (s_lines_with (output, "log_suppressed"), 0);
    cr_expect_eq (s_lines_with (output, "msg=later_error"), 1);
    free (output);
    audit_log_info ("msg=later_info");
    output = s_output ();
    cr_expect_eq (s_lines_with (output, "msg=log_suppressed lines=50\n"), 1);
    free (output);
}

Test (log, info_lines_are_not_limited)
{
    for (int index = 0; index < 3 * AUDIT_LOG_WARN_PER_SECOND; index++)
        audit_log_info ("msg=pass");
    char *output = s_output ();
    cr_expect_eq (s_lines_with (output, "msg=pass"), 3 * AUDIT_LOG_WARN_PER_SECOND);
    free (output);
}

static void *
s_warn_thread (void *arg)
{
    (void) arg;
    for (int index = 0; index < S_PER_THREAD; index++)
        audit_log_warn ("msg=rejected");
    return NULL;
}

//  Threads share one rate: the query worker logs from several
Test (log, threads_share_the_rate)
{
    pthread_t threads [S_THREADS];
    for (int index = 0; index < S_THREADS; index++)
        cr_assert_eq (pthread_create (&threads [index], NULL, s_warn_thread, NULL), 0);
    for (int index = 0; index < S_THREADS; index++)
        pthread_join (threads [index], NULL);
    s_now_ms += 1000;
    audit_log_info ("msg=after");
    char *output = s_output ();
    cr_expect_eq (s_lines_with (output, "msg=rejected"), AUDIT_LOG_WARN_PER_SECOND);
    char notice [64];
    snprintf (notice, sizeof notice, "msg=log_suppressed lines=%d\n",
              S_THREADS * S_PER_THREAD - AUDIT_LOG_WARN_PER_SECOND);
    cr_expect_eq (s_lines_with (output, notice), 1);
    free (output);
}

//  A value cannot close its quotes, start a field or start a line
Test (log, a_quoted_value_is_escaped)
{
    audit_log_info ("msg=test reason=\"cannot read %s: %s\" after=1",
                    "x\" forged=1", "a\\b\nlevel=error\tz");
    char *output = s_output ();
    cr_expect_eq (s_lines_with (output, "\n"), 1, "one line: %s", output);
    cr_expect (strstr (output, "reason=\"cannot read x\\\" forged=1: a\\\\b\\nlevel=error\\tz\" after=1\n"),
               "escaped: %s", output);
    free (output);
}

Test (log, a_bare_value_that_needs_quotes_gets_them)
{
    audit_log_info ("msg=test dir=%s empty=%s plain=%s ctl=%s", "/tmp/my dir x=1", "",
                    "a-b_c:d=e", "\x01\x7f");
    char *output = s_output ();
    cr_expect (strstr (output, "dir=\"/tmp/my dir x=1\" empty=\"\" plain=a-b_c:d=e"
                               " ctl=\"\\x01\\x7F\"\n"), "quoted: %s", output);
    free (output);
}

Test (log, numbers_and_precision_format_as_printf_does)
{
    int64_t big = -1234567890123LL;
    audit_log_info ("msg=test d=%d u=%u zu=%zu lld=%lld i64=%" PRId64 " u64=%" PRIu64
                    " pad=%05d x=%x cut=%.*s pct=100%% g=%.2f c=%c",
                    -7, 7u, (size_t) 42, 99LL, big, (uint64_t) UINT64_MAX, 42, 255, 3, "abcdef",
                    1.5, 'q');
    char *output = s_output ();
    cr_expect (strstr (output, "msg=test d=-7 u=7 zu=42 lld=99 i64=-1234567890123"
                               " u64=18446744073709551615 pad=00042 x=ff cut=abc pct=100%"
                               " g=1.50 c=q\n"), "formatted: %s", output);
    free (output);
}

Test (log, a_long_line_is_cut_and_still_ends_in_a_line_end)
{
    char value [3000];
    memset (value, 'v', sizeof value - 1);
    value [sizeof value - 1] = 0;
    audit_log_info ("msg=test value=%s", value);
    audit_log_info ("msg=next");
    char *output = s_output ();
    cr_expect_eq (s_lines_with (output, "\n"), 2);
    char *end = strchr (output, '\n');
    cr_expect_eq ((size_t) (end - output), 1022, "cut at the line limit");
    free (output);
}
