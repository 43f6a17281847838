/*  audit_note: C2SP signed notes. Go's golang.org/x/mod/sumdb/note test
    vectors (sumdb/note/note_test.go, commit 02c99138: PeterNeumann's and
    EnochRoot's keys and signatures) verify here, their manglings do not;
    notes signed here verify, and every way a note can be wrong gives a
    result code. */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "audit_note.h"
#include "audit_signer.h"

#define PETER_VKEY  "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define ENOCH_VKEY  "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define TEXT        "If you think cryptography is the answer to your problem,\n" \
                    "then you don't know what your problem is.\n"
#define PETER_SIG   "\xE2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuG" \
                    "UgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
#define ENOCH_SIG   "\xE2\x80\x94 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp" \
                    "+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

static audit_note_verifier_t s_peter, s_enoch;

static void
s_setup (void)
{
    cr_assert_eq (audit_note_verifier_parse (&s_peter, PETER_VKEY, strlen (PETER_VKEY)), 0);
    cr_assert_eq (audit_note_verifier_parse (&s_enoch, ENOCH_VKEY, strlen (ENOCH_VKEY)), 0);
}

TestSuite (note, .init = s_setup);

//  A copy of len bytes in a heap block of exactly that size
static char *
s_exact (const char *text, size_t len)
{
    char *copy = malloc (len? len: 1);
    cr_assert_not_null (copy);
    memcpy (copy, text, len);
    return copy;
}

static audit_note_result_t
s_verify (const audit_note_verifier_t *verifier, const char *note)
{
    return audit_note_verify (verifier, note, strlen (note), NULL);
}

Test (note, verifier_keys_parse_and_format_as_go_does)
{
    char text [AUDIT_NOTE_VERIFIER_TEXT_SIZE];
    cr_assert_eq (s_peter.key_id, 0xc74f20a3);
    cr_assert_eq (s_peter.name_len, 12);
    cr_assert_str_eq (s_peter.name, "PeterNeumann");
    cr_assert_eq (audit_note_verifier_format (&s_peter, text), strlen (PETER_VKEY));
    cr_assert_str_eq (text, PETER_VKEY);
    cr_assert_eq (audit_note_key_id (s_enoch.name, s_enoch.name_len, s_enoch.public_key), 0xaf0cfe78);
}

//  Go's TestNewVerifier: no proper substring, no byte changed, parses
Test (note, mangled_verifier_keys_are_refused)
{
    char key [] = PETER_VKEY;
    size_t len = strlen (key);
    audit_note_verifier_t verifier;
    //  Each in a buffer of its own size: ASan sees a read past its end
    for (size_t from = 0; from <= len; from++)
        for (size_t to = from + 1; to <= len; to++)
            if (from != 0 || to != len) {
                char *part = s_exact (key + from, to - from);
                cr_assert_eq (audit_note_verifier_parse (&verifier, part, to - from), -1,
                              "substring [%zu, %zu)", from, to);
                free (part);
            }
    for (size_t at = 0; at < len; at++) {
        key [at]++;
        cr_assert_eq (audit_note_verifier_parse (&verifier, key, len), -1, "byte %zu changed", at);
        key [at]--;
    }
    //  Wrong key length and unknown algorithm, each with its id adjusted
    const char *other = "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==";
    cr_assert_eq (audit_note_verifier_parse (&verifier, other, strlen (other)), -1);
    other = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    cr_assert_eq (audit_note_verifier_parse (&verifier, other, strlen (other)), -1);
    cr_assert_eq (audit_note_verifier_parse (&verifier, "", 0), -1);
    cr_assert_eq (audit_note_verifier_parse (&verifier, "+c74f20a3+", 10), -1);
}

Test (note, go_notes_verify)
{
    size_t text_len = 0;
    const char *note = TEXT "\n" PETER_SIG ENOCH_SIG;
    cr_assert_eq (audit_note_verify (&s_peter, note, strlen (note), &text_len), AUDIT_NOTE_OK);
    cr_assert_eq (text_len, strlen (TEXT));
    cr_assert_eq (s_verify (&s_enoch, note), AUDIT_NOTE_OK, "the other key's line is skipped");
    cr_assert_eq (s_verify (&s_peter, TEXT "\n" ENOCH_SIG), AUDIT_NOTE_UNSIGNED);
    cr_assert_eq (s_verify (&s_peter, TEXT "\n" PETER_SIG PETER_SIG), AUDIT_NOTE_OK);
}

Test (note, notes_signed_here_verify_and_match_go)
{
    const char *key = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    audit_signer_t *signer = audit_signer_from_text (key, strlen (key), "PeterNeumann");
    cr_assert_not_null (signer);
    char note [sizeof TEXT + AUDIT_NOTE_SIGN_EXTRA];
    long len = audit_signer_sign (signer, TEXT, strlen (TEXT), note, sizeof note);
    cr_assert_eq (len, (long) strlen (TEXT "\n" PETER_SIG));
    cr_assert_str_eq (note, TEXT "\n" PETER_SIG, "Ed25519 is deterministic: Go's very note");
    cr_assert_eq (audit_note_verify (&s_peter, note, (size_t) len, NULL), AUDIT_NOTE_OK);
    audit_signer_destroy (&signer);
    audit_signer_destroy (&signer);
}

Test (note, tampered_notes_fail)
{
    char note [] = TEXT "\n" PETER_SIG;
    size_t len = strlen (note);
    //  Every byte but the last newline
    for (size_t at = 0; at < len - 1; at++) {
        char kept = note [at];
        note [at] = kept == 'A'? 'B': 'A';
        audit_note_result_t result = audit_note_verify (&s_peter, note, len, NULL);
        cr_assert_neq (result, AUDIT_NOTE_OK, "byte %zu changed", at);
        note [at] = kept;
    }
    cr_assert_eq (audit_note_verify (&s_peter, note, len, NULL), AUDIT_NOTE_OK);
    //  Go's "invalid signature": four more base64 characters in it
    char longer [sizeof note + 4];
    size_t sig_at = strlen (TEXT "\n") + 60;
    memcpy (longer, note, sig_at);
    memcpy (longer + sig_at, "ABCD", 4);
    strcpy (longer + sig_at + 4, note + sig_at);
    cr_assert_eq (s_verify (&s_peter, longer), AUDIT_NOTE_BAD_SIGNATURE);
    cr_assert_eq (s_verify (&s_peter, "If you think\n\n" PETER_SIG), AUDIT_NOTE_BAD_SIGNATURE);
    //  A bad signature of the key fails the note, whatever else it holds
    char both [sizeof longer + sizeof PETER_SIG];
    strcpy (both, longer);
    strcat (both, PETER_SIG);
    cr_assert_eq (s_verify (&s_peter, both), AUDIT_NOTE_BAD_SIGNATURE);
}

Test (note, a_key_is_its_name_and_its_id)
{
    //  The same signature under another name, or with another id, is another key's
    cr_assert_eq (s_verify (&s_peter, TEXT "\n\xE2\x80\x94 CarmenSandiego x08go/ZJkuBS9UG/SffcvIAQx"
                            "VBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
                  AUDIT_NOTE_UNSIGNED);
    cr_assert_eq (s_verify (&s_peter, TEXT "\n\xE2\x80\x94 PeterNeumann xxxxo/ZJkuBS9UG/SffcvIAQx"
                            "VBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"),
                  AUDIT_NOTE_UNSIGNED);
    //  A verifier of Peter's name with Enoch's key: the id differs, the line is skipped
    audit_note_verifier_t impostor;
    cr_assert_eq (audit_note_verifier_init (&impostor, "PeterNeumann", 12, s_enoch.public_key), 0);
    cr_assert_neq (impostor.key_id, s_peter.key_id);
    cr_assert_eq (s_verify (&impostor, TEXT "\n" PETER_SIG), AUDIT_NOTE_UNSIGNED);
    //  The right name and id with the wrong key: checked, and bad
    impostor.key_id = s_peter.key_id;
    cr_assert_eq (s_verify (&impostor, TEXT "\n" PETER_SIG), AUDIT_NOTE_BAD_SIGNATURE);
    cr_assert_eq (s_verify (&s_enoch, TEXT "\n" PETER_SIG), AUDIT_NOTE_UNSIGNED);
}

Test (note, malformed_notes_are_refused)
{
    const char *malformed [] = {
        TEXT,                                       //  no signatures
        TEXT "\n",
        TEXT "\n" ENOCH_SIG "\n",                   //  a blank line last
        "",
        "\n\n",
        "\x01" TEXT "\n" PETER_SIG,                 //  a control character
        "\xff" TEXT "\n" PETER_SIG,                 //  not UTF-8
        "\xC0\xAF" TEXT "\n" PETER_SIG,             //  an overlong form
        "\xED\xA0\x80" TEXT "\n" PETER_SIG,         //  a surrogate
        TEXT "\r\n" PETER_SIG,
        TEXT "\n\xE2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
            "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        TEXT "\n" PETER_SIG "Unexpected line.\n",
        TEXT "\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1"
            "FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",      //  a hyphen, not the dash
        TEXT "\n\xE2\x80\x94PeterNeumann x08go\n",
        TEXT "\n\xE2\x80\x94  x08go/ZJ\n",           //  no name
        TEXT "\n\xE2\x80\x94 Peter+Neumann x08go/ZJkuBS9U\n",
        TEXT "\n\xE2\x80\x94 PeterNeumann\n",
        TEXT "\n\xE2\x80\x94 PeterNeumann x08go/Z!\n",
        TEXT "\n\xE2\x80\x94 PeterNeumann x08g\n",   //  an id, no signature
        TEXT "\n\xE2\x80\x94 PeterNeumann x08go/ZJ=\n",
    };
    for (size_t at = 0; at < sizeof malformed / sizeof malformed [0]; at++)
        cr_assert_eq (s_verify (&s_peter, malformed [at]), AUDIT_NOTE_MALFORMED, "case %zu", at);
    const char *unended = TEXT "\n" PETER_SIG;
    cr_assert_eq (audit_note_verify (&s_peter, unended, strlen (unended) - 1, NULL),
                  AUDIT_NOTE_MALFORMED);
}

Test (note, signature_lines_are_bounded)
{
    //  Go's limit: 100 signature lines are a note, 101 are not
    static char note [sizeof TEXT + 101 * sizeof ENOCH_SIG];
    strcpy (note, TEXT "\n");
    for (int line = 0; line < 99; line++)
        strcat (note, ENOCH_SIG);
    strcat (note, PETER_SIG);
    cr_assert_eq (s_verify (&s_peter, note), AUDIT_NOTE_OK);
    strcat (note, ENOCH_SIG);
    cr_assert_eq (s_verify (&s_peter, note), AUDIT_NOTE_MALFORMED);
}

Test (note, texts_and_names)
{
    cr_assert (audit_note_text_is_valid ("a\n", 2));
    const char *empty_lines = "\xC3\xA8 subito sera\n\nlines\n";
    cr_assert (audit_note_text_is_valid (empty_lines, strlen (empty_lines)));
    cr_assert_not (audit_note_text_is_valid ("", 0));
    cr_assert_not (audit_note_text_is_valid ("abc", 3), "Go's short text: no newline");
    cr_assert_not (audit_note_text_is_valid ("a\tb\n", 4));
    cr_assert_not (audit_note_text_is_valid ("a\0b\n", 4));
    cr_assert_not (audit_note_text_is_valid ("\xE2\x80\n", 3));
    cr_assert (audit_note_name_is_valid ("semafore-audit", 14));
    cr_assert (audit_note_name_is_valid ("example.com/log42", 17));
    cr_assert_not (audit_note_name_is_valid ("", 0));
    cr_assert_not (audit_note_name_is_valid ("a+b", 3));
    cr_assert_not (audit_note_name_is_valid ("bad name", 8));
    cr_assert_not (audit_note_name_is_valid ("caf\xC3\xA9", 5));
    char long_name [AUDIT_NOTE_NAME_MAX + 1];
    memset (long_name, 'n', sizeof long_name);
    cr_assert (audit_note_name_is_valid (long_name, AUDIT_NOTE_NAME_MAX));
    cr_assert_not (audit_note_name_is_valid (long_name, AUDIT_NOTE_NAME_MAX + 1));
}

Test (note, every_prefix_is_refused_and_read_within)
{
    const char *note = TEXT "\n" PETER_SIG ENOCH_SIG;
    size_t len = strlen (note);
    for (size_t prefix = 0; prefix < len; prefix++) {
        char *part = s_exact (note, prefix);
        audit_note_result_t result = audit_note_verify (&s_peter, part, prefix, NULL);
        //  Cut after Peter's line it is a note Peter signed; else it is not one
        if (prefix == strlen (TEXT "\n" PETER_SIG))
            cr_assert_eq (result, AUDIT_NOTE_OK);
        else
            cr_assert_neq (result, AUDIT_NOTE_OK, "prefix %zu", prefix);
        free (part);
    }
    char *whole = s_exact (note, len);
    cr_assert_eq (audit_note_verify (&s_peter, whole, len, NULL), AUDIT_NOTE_OK);
    free (whole);
}
