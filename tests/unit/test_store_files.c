/*  =========================================================================
    test_store_files - the data directory and its files are private to the
    service's user whatever the umask (issue 12), and workers that open a
    fresh directory together never fail on a lock
    ========================================================================= */

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_reserve.h"
#include "audit_store.h"
#include "test_support.h"

//  Rounds of three processes opening one fresh directory together
#define S_OPEN_ROUNDS   20

static char *s_dir;

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("store_files");
    cr_assert_not_null (s_dir);
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

TestSuite (store_files, .init = s_setup, .fini = s_teardown, .timeout = 120);

static mode_t
s_mode (const char *dir, const char *name)
{
    char path [600];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    struct stat info;
    cr_assert_eq (stat (path, &info), 0, "%s exists", path);
    return info.st_mode & 07777;
}

//  Every file the store made under dir is 0600, and dir is 0700
static void
s_expect_private (const char *dir)
{
    cr_expect_eq (s_mode (dir, "."), 0700, "the directory is 0%o", s_mode (dir, "."));
    const char *names [] = { "audit.db", "audit.db-wal", "audit.db-shm", "ops.db", "ops.db-wal",
                             "ops.db-shm", "queue.db", "queue.db-wal", "queue.db-shm" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++)
        cr_expect_eq (s_mode (dir, names [index]), 0600, "%s is 0%o", names [index],
                      s_mode (dir, names [index]));
}

Test (store_files, files_are_private_whatever_the_umask)
{
    const mode_t masks [] = { 022, 0, 077 };
    for (size_t index = 0; index < sizeof masks / sizeof masks [0]; index++) {
        char dir [512];
        snprintf (dir, sizeof dir, "%s/data%zu", s_dir, index);
        mode_t saved = umask (masks [index]);
        audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
        umask (saved);
        cr_assert_not_null (store);
        s_expect_private (dir);
        audit_store_destroy (&store);
    }
}

//  An older version's files (0644, a 0755 directory) are made private at
//  the next open, by any mode of the store
Test (store_files, older_files_open_to_others_are_made_private)
{
    char dir [512];
    snprintf (dir, sizeof dir, "%s/data", s_dir);
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    cr_assert_not_null (store);
    const char *names [] = { ".", "audit.db", "audit.db-wal", "ops.db-shm", "queue.db" };
    for (size_t index = 0; index < sizeof names / sizeof names [0]; index++) {
        char path [600];
        snprintf (path, sizeof path, "%s/%s", dir, names [index]);
        cr_assert_eq (chmod (path, index? 0644: 0755), 0);
    }
    audit_store_t *reader = audit_store_new (dir, AUDIT_STORE_READER);
    cr_assert_not_null (reader);
    s_expect_private (dir);
    audit_store_destroy (&reader);
    audit_store_destroy (&store);
}

Test (store_files, the_reserve_file_is_private)
{
    char dir [512];
    snprintf (dir, sizeof dir, "%s/data", s_dir);
    cr_assert_eq (mkdir (dir, 0700), 0);
    mode_t saved = umask (0);
    int rc = audit_reserve_make (dir);
    umask (saved);
    if (rc != 0)
        cr_skip_test ("no room for the reserve file here");
    cr_expect_eq (s_mode (dir, AUDIT_RESERVE_FILE), 0600);
}

//  A child: open dir in mode, exit 0 when it opened
static pid_t
s_opener (const char *dir, audit_store_mode_t mode)
{
    pid_t pid = fork ();
    cr_assert_geq (pid, 0);
    if (pid == 0) {
        audit_store_t *store = audit_store_new (dir, mode);
        bool opened = store != NULL;
        audit_store_destroy (&store);
        _exit (opened? 0: 1);
    }
    return pid;
}

//  "database is locked" in about 2 % of three-way opens, before: the
//  switch to WAL does not call the busy handler
Test (store_files, workers_opening_a_fresh_directory_together_all_open)
{
    int failed = 0;
    for (int round = 0; round < S_OPEN_ROUNDS; round++) {
        char dir [512];
        snprintf (dir, sizeof dir, "%s/round%d", s_dir, round);
        const audit_store_mode_t modes [] = {
            AUDIT_STORE_WRITER, AUDIT_STORE_MAINTAINER, AUDIT_STORE_MAINTAINER
        };
        pid_t pids [3];
        for (int index = 0; index < 3; index++)
            pids [index] = s_opener (dir, modes [index]);
        for (int index = 0; index < 3; index++) {
            int status = 0;
            cr_assert_eq (waitpid (pids [index], &status, 0), pids [index]);
            failed += !WIFEXITED (status) || WEXITSTATUS (status) != 0;
        }
    }
    cr_expect_eq (failed, 0, "%d of %d opens failed", failed, 3 * S_OPEN_ROUNDS);
}
