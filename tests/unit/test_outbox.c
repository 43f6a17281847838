/*  test_outbox - the producer's durable outbox: what survives a crash
    between append and send and between send and ack, trimming, seq order,
    one owner at a time                                                  */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_outbox.h"
#include "test_support.h"

static char *s_dir;
static char s_path [512];

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("outbox");
    snprintf (s_path, sizeof s_path, "%s/outbox.db", s_dir);
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

TestSuite (outbox, .init = s_setup, .fini = s_teardown);

static audit_outbox_t *
s_open (void)
{
    char reason [256];
    audit_outbox_t *outbox = audit_outbox_open (s_path, "svc-1", reason, sizeof reason);
    cr_assert_not_null (outbox, "%s", reason);
    return outbox;
}

//  Write events first..last, body "event N"
static void
s_append (audit_outbox_t *outbox, uint64_t first, uint64_t last, uint64_t acked)
{
    audit_outbox_entry_t entries [16];
    char bodies [16][32];
    size_t count = 0;
    for (uint64_t seq = first; seq <= last; seq++, count++) {
        snprintf (bodies [count], sizeof bodies [count], "event %llu", (unsigned long long) seq);
        entries [count] = (audit_outbox_entry_t) { seq, "audit", bodies [count], strlen (bodies [count]) };
    }
    cr_assert_eq (audit_outbox_write (outbox, entries, count, acked), 0);
}

typedef struct {
    uint64_t seqs [32];
    char bodies [32][32];
    size_t count;
} s_seen_t;

static int
s_collect (void *arg, const audit_outbox_entry_t *entry)
{
    s_seen_t *seen = arg;
    seen->seqs [seen->count] = entry->seq;
    snprintf (seen->bodies [seen->count], 32, "%.*s", (int) entry->size, (const char *) entry->body);
    cr_assert_str_eq (entry->topic, "audit");
    seen->count++;
    return 0;
}

Test (outbox, new_is_empty)
{
    audit_outbox_t *outbox = s_open ();
    cr_assert_eq (audit_outbox_last_seq (outbox), 0);
    cr_assert_eq (audit_outbox_acked_seq (outbox), 0);
    cr_assert_eq (audit_outbox_count (outbox), 0);
    audit_outbox_destroy (&outbox);
    audit_outbox_destroy (&outbox);
    cr_assert_null (outbox);
}

//  It holds events the service has not filtered yet: the owner's alone,
//  whatever the umask, its WAL too
Test (outbox, a_new_outbox_is_private)
{
    mode_t was = umask (022);
    audit_outbox_t *outbox = s_open ();
    umask (was);
    s_append (outbox, 1, 2, 0);
    char wal [600];
    snprintf (wal, sizeof wal, "%s-wal", s_path);
    struct stat info;
    cr_assert_eq (stat (s_path, &info), 0);
    cr_expect_eq (info.st_mode & 0777, 0600, "the outbox is 0%o", info.st_mode & 0777);
    cr_assert_eq (stat (wal, &info), 0);
    cr_expect_eq (info.st_mode & 0777, 0600, "its WAL is 0%o", info.st_mode & 0777);
    audit_outbox_destroy (&outbox);
}

//  The process dies after the commit, before anything was sent: a child
//  writes and exits without closing; the events are all there, in order
Test (outbox, crash_between_append_and_send)
{
    pid_t pid = fork ();
    if (pid == 0) {
        char reason [256];
        audit_outbox_t *outbox = audit_outbox_open (s_path, "svc-1", reason, sizeof reason);
        audit_outbox_entry_t entry = { 1, "audit", "event 1", 7 };
        int rc = outbox ? audit_outbox_write (outbox, &entry, 1, 0) : -1;
        entry = (audit_outbox_entry_t) { 2, "audit", "event 2", 7 };
        rc |= outbox ? audit_outbox_write (outbox, &entry, 1, 0) : -1;
        _exit (rc ? 1 : 0);             //  no close: as a crash
    }
    int status;
    cr_assert_eq (waitpid (pid, &status, 0), pid);
    cr_assert_eq (WEXITSTATUS (status), 0);
    audit_outbox_t *outbox = s_open ();
    cr_assert_eq (audit_outbox_last_seq (outbox), 2);
    cr_assert_eq (audit_outbox_count (outbox), 2);
    s_seen_t seen = { .count = 0 };
    cr_assert_eq (audit_outbox_each (outbox, 0, 100, s_collect, &seen), 2);
    cr_assert_eq (seen.seqs [0], 1);
    cr_assert_str_eq (seen.bodies [1], "event 2");
    audit_outbox_destroy (&outbox);
}

//  Sent but never acknowledged (the acked seq stayed 2): after reopening,
//  everything above 2 is still there to resend, the same bytes
Test (outbox, crash_between_send_and_ack)
{
    audit_outbox_t *outbox = s_open ();
    s_append (outbox, 1, 5, 0);
    s_append (outbox, 6, 6, 2);
    audit_outbox_destroy (&outbox);
    outbox = s_open ();
    cr_assert_eq (audit_outbox_acked_seq (outbox), 2);
    cr_assert_eq (audit_outbox_last_seq (outbox), 6);
    cr_assert_eq (audit_outbox_count (outbox), 4);
    s_seen_t seen = { .count = 0 };
    cr_assert_eq (audit_outbox_each (outbox, audit_outbox_acked_seq (outbox), 100, s_collect, &seen), 4);
    cr_assert_eq (seen.seqs [0], 3);
    cr_assert_eq (seen.seqs [3], 6);
    cr_assert_str_eq (seen.bodies [0], "event 3");
    audit_outbox_destroy (&outbox);
}

Test (outbox, trim_and_limit)
{
    audit_outbox_t *outbox = s_open ();
    s_append (outbox, 1, 10, 0);
    cr_assert_eq (audit_outbox_write (outbox, NULL, 0, 7), 0);
    cr_assert_eq (audit_outbox_count (outbox), 3);
    cr_assert_eq (audit_outbox_write (outbox, NULL, 0, 4), 0, "an older ack changes nothing");
    cr_assert_eq (audit_outbox_acked_seq (outbox), 7);
    s_seen_t seen = { .count = 0 };
    cr_assert_eq (audit_outbox_each (outbox, 0, 2, s_collect, &seen), 2);
    cr_assert_eq (seen.seqs [0], 8);
    cr_assert_eq (audit_outbox_write (outbox, NULL, 0, 10), 0);
    cr_assert_eq (audit_outbox_count (outbox), 0);
    audit_outbox_destroy (&outbox);
    outbox = s_open ();                 //  the seq goes on after a full trim
    cr_assert_eq (audit_outbox_last_seq (outbox), 10);
    cr_assert_eq (audit_outbox_count (outbox), 0);
    audit_outbox_destroy (&outbox);
}

Test (outbox, seq_must_grow)
{
    audit_outbox_t *outbox = s_open ();
    s_append (outbox, 1, 3, 0);
    audit_outbox_entry_t entry = { 3, "audit", "again", 5 };
    cr_assert_eq (audit_outbox_write (outbox, &entry, 1, 0), -1);
    cr_assert_eq (audit_outbox_count (outbox), 3, "nothing of a failed write stays");
    cr_assert_eq (audit_outbox_last_seq (outbox), 3);
    audit_outbox_destroy (&outbox);
}

Test (outbox, one_owner)
{
    audit_outbox_t *outbox = s_open ();
    char reason [256] = "";
    cr_assert_null (audit_outbox_open (s_path, "svc-1", reason, sizeof reason));
    cr_assert (strstr (reason, "in use"), "%s", reason);
    audit_outbox_destroy (&outbox);
    cr_assert_null (audit_outbox_open (s_path, "svc-2", reason, sizeof reason));
    cr_assert (strstr (reason, "another producer_id"), "%s", reason);
}
