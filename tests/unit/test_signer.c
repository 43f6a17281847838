/*  audit_signer: the signing key and its file. A key file is created
    0600 and reloaded as the same key; a file others may read, of another
    name, or not a key is refused with a reason; workers racing to create
    it end with one key. Notes signed here verify with PyNaCl
    (tests/support/note_interop.py, from the C2SP text alone), and its notes
    verify here. Go's signer key text reads as Go reads it. */

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_signer.h"
#include "test_support.h"

#define NAME        "semafore-audit"
#define GO_SKEY     "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define INTEROP     "/usr/bin/python3 " AUDIT_SOURCE_DIR "/tests/support/note_interop.py"
#define CHECKPOINT  "semafore-audit/acme\n42\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

static char *s_dir;
static char s_path [512];
static char s_reason [256];

static void
s_setup (void)
{
    s_dir = test_tmpdir_new ("signer");
    cr_assert_not_null (s_dir);
    snprintf (s_path, sizeof s_path, "%s/signing.key", s_dir);
    s_reason [0] = 0;
}

static void
s_teardown (void)
{
    test_tmpdir_destroy (&s_dir);
}

TestSuite (signer, .init = s_setup, .fini = s_teardown);

static void
s_write (const char *path, const char *text, mode_t mode)
{
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq (fd, 0);
    cr_assert_eq (write (fd, text, strlen (text)), (ssize_t) strlen (text));
    cr_assert_eq (fchmod (fd, mode), 0);
    close (fd);
}

static void
s_verifier_text (const audit_signer_t *signer, char *text)
{
    cr_assert_gt (audit_note_verifier_format (audit_signer_verifier (signer), text), 0);
}

Test (signer, key_file_is_created_0600_and_reloaded)
{
    audit_signer_t *created = audit_signer_load (s_path, NAME, s_reason, sizeof s_reason);
    cr_assert_not_null (created, "%s", s_reason);
    struct stat info;
    cr_assert_eq (stat (s_path, &info), 0);
    cr_assert_eq (info.st_mode & 07777, 0600);
    audit_signer_t *loaded = audit_signer_load (s_path, NAME, s_reason, sizeof s_reason);
    cr_assert_not_null (loaded, "%s", s_reason);
    char first [AUDIT_NOTE_VERIFIER_TEXT_SIZE], second [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    s_verifier_text (created, first);
    s_verifier_text (loaded, second);
    cr_assert_str_eq (first, second, "the file holds the key");
    cr_assert_eq (strncmp (first, NAME "+", strlen (NAME) + 1), 0);
    //  The file is the signer key text, one line
    char text [AUDIT_SIGNER_TEXT_SIZE + 1], file [AUDIT_SIGNER_TEXT_SIZE + 8] = "";
    size_t len = audit_signer_text (loaded, text);
    FILE *stream = fopen (s_path, "r");
    cr_assert_not_null (stream);
    size_t got = fread (file, 1, sizeof file - 1, stream);
    fclose (stream);
    cr_assert_eq (got, len + 1);
    cr_assert_eq (strncmp (file, "PRIVATE+KEY+" NAME "+", 12 + strlen (NAME) + 1), 0);
    text [len] = '\n';
    cr_assert_eq (memcmp (file, text, len + 1), 0);
    //  No temporary file is left beside it
    DIR *dir = opendir (s_dir);
    cr_assert_not_null (dir);
    int entries = 0;
    for (struct dirent *entry; (entry = readdir (dir)); )
        entries += entry->d_name [0] != '.';
    closedir (dir);
    cr_assert_eq (entries, 1);
    audit_signer_destroy (&created);
    audit_signer_destroy (&loaded);
}

Test (signer, a_key_file_others_may_read_is_refused)
{
    audit_signer_t *signer = audit_signer_load (s_path, NAME, s_reason, sizeof s_reason);
    cr_assert_not_null (signer);
    audit_signer_destroy (&signer);
    const mode_t modes [] = { 0640, 0604, 0620, 0660, 0644 };
    for (size_t at = 0; at < sizeof modes / sizeof modes [0]; at++) {
        cr_assert_eq (chmod (s_path, modes [at]), 0);
        cr_assert_null (audit_signer_load (s_path, NAME, s_reason, sizeof s_reason));
        cr_assert (strstr (s_reason, "group or others"), "%s", s_reason);
        cr_assert (strstr (s_reason, "chmod 600"), "%s", s_reason);
    }
    cr_assert_eq (chmod (s_path, 0400), 0);
    signer = audit_signer_load (s_path, NAME, s_reason, sizeof s_reason);
    cr_assert_not_null (signer, "read-only to its owner is fine: %s", s_reason);
    audit_signer_destroy (&signer);
}

Test (signer, key_files_of_another_name_or_form_are_refused)
{
    s_write (s_path, GO_SKEY "\n", 0600);
    cr_assert_null (audit_signer_load (s_path, NAME, s_reason, sizeof s_reason));
    cr_assert (strstr (s_reason, "another key name"), "%s", s_reason);
    audit_signer_t *signer = audit_signer_load (s_path, "PeterNeumann", s_reason, sizeof s_reason);
    cr_assert_not_null (signer, "%s", s_reason);
    cr_assert_eq (audit_signer_verifier (signer)->key_id, 0xc74f20a3);
    audit_signer_destroy (&signer);
    const char *wrong [] = {
        "", "\n", "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n\n",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz\n",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
    };
    for (size_t at = 0; at < sizeof wrong / sizeof wrong [0]; at++) {
        s_write (s_path, wrong [at], 0600);
        cr_assert_null (audit_signer_load (s_path, "PeterNeumann", s_reason, sizeof s_reason),
                        "case %zu", at);
        cr_assert (strstr (s_reason, at == 3? "key id is not": "not a signer key"), "%s", s_reason);
    }
    cr_assert_null (audit_signer_load (s_dir, NAME, s_reason, sizeof s_reason));
    cr_assert (strstr (s_reason, "not a regular file"), "%s", s_reason);
    cr_assert_null (audit_signer_load (s_path, "bad name", s_reason, sizeof s_reason));
    char missing [600];
    snprintf (missing, sizeof missing, "%s/no/such/dir/key", s_dir);
    cr_assert_null (audit_signer_load (missing, NAME, s_reason, sizeof s_reason));
    cr_assert (strstr (s_reason, "cannot create it"), "%s", s_reason);
}

//  Go's TestNewSigner: no proper substring, no byte changed, is a key
Test (signer, mangled_signer_keys_are_refused)
{
    char key [] = GO_SKEY;
    size_t len = strlen (key);
    audit_signer_t *signer = audit_signer_from_text (key, len, "PeterNeumann");
    cr_assert_not_null (signer);
    audit_signer_destroy (&signer);
    for (size_t from = 0; from <= len; from++)
        for (size_t to = from + 1; to <= len; to++)
            if (from != 0 || to != len)
                cr_assert_null (audit_signer_from_text (key + from, to - from, "PeterNeumann"));
    for (size_t at = 0; at < len; at++) {
        key [at]++;
        cr_assert_null (audit_signer_from_text (key, len, "PeterNeumann"), "byte %zu", at);
        key [at]--;
    }
}

//  Workers starting together: each loads the absent file at once, all
//  end with one key
Test (signer, racing_creators_share_one_key)
{
    enum { WORKERS = 6 };
    int gate [2], results [2];
    cr_assert_eq (pipe (gate), 0);
    cr_assert_eq (pipe (results), 0);
    pid_t pids [WORKERS];
    for (int worker = 0; worker < WORKERS; worker++) {
        pids [worker] = fork ();
        cr_assert_geq (pids [worker], 0);
        if (pids [worker] == 0) {
            char byte, text [AUDIT_NOTE_VERIFIER_TEXT_SIZE] = "";
            close (gate [1]);
            (void) !read (gate [0], &byte, 1);    //  until the gate closes
            audit_signer_t *signer = audit_signer_load (s_path, NAME, s_reason, sizeof s_reason);
            if (signer)
                audit_note_verifier_format (audit_signer_verifier (signer), text);
            (void) !write (results [1], text, sizeof text);
            audit_signer_destroy (&signer);
            _exit (0);
        }
    }
    close (gate [0]);
    close (gate [1]);
    close (results [1]);
    char first [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    for (int worker = 0; worker < WORKERS; worker++) {
        char text [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
        cr_assert_eq (read (results [0], text, sizeof text), (ssize_t) sizeof text);
        cr_assert_neq (text [0], 0, "worker %d got no key", worker);
        if (worker == 0)
            memcpy (first, text, sizeof first);
        cr_assert_str_eq (text, first, "every worker has the one key");
    }
    for (int worker = 0; worker < WORKERS; worker++)
        cr_assert_eq (waitpid (pids [worker], NULL, 0), pids [worker]);
    close (results [0]);
}

Test (signer, sign_refuses_what_is_not_a_note_text)
{
    audit_signer_t *signer = audit_signer_new (NAME, NULL);
    cr_assert_not_null (signer);
    char note [sizeof CHECKPOINT + AUDIT_NOTE_SIGN_EXTRA];
    cr_assert_eq (audit_signer_sign (signer, "abc", 3, note, sizeof note), -1);
    cr_assert_eq (audit_signer_sign (signer, "", 0, note, sizeof note), -1);
    cr_assert_eq (audit_signer_sign (signer, "a\x01\n", 3, note, sizeof note), -1);
    cr_assert_eq (audit_signer_sign (signer, CHECKPOINT, strlen (CHECKPOINT), note,
                                     strlen (CHECKPOINT) + AUDIT_NOTE_SIGN_EXTRA - 1), -1);
    cr_assert_null (audit_signer_new ("a+b", NULL));
    cr_assert_null (audit_signer_new ("", NULL));
    audit_signer_destroy (&signer);
}

// ---------------------------------------------------------------------
//  PyNaCl

//  Run command; its exit status, its first output line into line
static int
s_run (const char *command, char *line, size_t size)
{
    FILE *pipe = popen (command, "r");
    cr_assert_not_null (pipe);
    line [0] = 0;
    if (fgets (line, (int) size, pipe))
        line [strcspn (line, "\n")] = 0;
    int status = pclose (pipe);
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

Test (signer, python_verifies_notes_signed_here)
{
    audit_signer_t *signer = audit_signer_load (s_path, NAME, s_reason, sizeof s_reason);
    cr_assert_not_null (signer, "%s", s_reason);
    char note [sizeof CHECKPOINT + AUDIT_NOTE_SIGN_EXTRA];
    long len = audit_signer_sign (signer, CHECKPOINT, strlen (CHECKPOINT), note, sizeof note);
    cr_assert_gt (len, 0);
    char note_path [600], vkey [AUDIT_NOTE_VERIFIER_TEXT_SIZE], command [2048], line [64];
    snprintf (note_path, sizeof note_path, "%s/note", s_dir);
    s_write (note_path, note, 0600);
    s_verifier_text (signer, vkey);
    snprintf (command, sizeof command, INTEROP " verify '%s' %s", vkey, note_path);
    cr_assert_eq (s_run (command, line, sizeof line), 0, "PyNaCl refused: %s", note);
    char id [9];
    snprintf (id, sizeof id, "%08x", (unsigned) audit_signer_verifier (signer)->key_id);
    cr_assert_str_eq (line, id, "Python's key id is ours");
    //  ... and it does check: one changed byte of the text and it refuses
    note [16] ^= 1;
    s_write (note_path, note, 0600);
    cr_assert_eq (s_run (command, line, sizeof line), 1);
    audit_signer_destroy (&signer);
}

Test (signer, notes_signed_by_python_verify_here)
{
    char text_path [600], note_path [600], command [2048], vkey [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    snprintf (text_path, sizeof text_path, "%s/text", s_dir);
    snprintf (note_path, sizeof note_path, "%s/note", s_dir);
    s_write (text_path, CHECKPOINT, 0600);
    snprintf (command, sizeof command, INTEROP " sign %s %s %s", NAME, text_path, note_path);
    cr_assert_eq (s_run (command, vkey, sizeof vkey), 0);
    audit_note_verifier_t verifier;
    cr_assert_eq (audit_note_verifier_parse (&verifier, vkey, strlen (vkey)), 0,
                  "Python's verifier key, its id computed there: %s", vkey);
    char note [sizeof CHECKPOINT + AUDIT_NOTE_SIGN_EXTRA] = "";
    FILE *stream = fopen (note_path, "r");
    cr_assert_not_null (stream);
    size_t len = fread (note, 1, sizeof note - 1, stream);
    fclose (stream);
    size_t text_len = 0;
    cr_assert_eq (audit_note_verify (&verifier, note, len, &text_len), AUDIT_NOTE_OK, "%s", note);
    cr_assert_eq (text_len, strlen (CHECKPOINT));
    note [3] ^= 1;
    cr_assert_eq (audit_note_verify (&verifier, note, len, NULL), AUDIT_NOTE_BAD_SIGNATURE);
}
