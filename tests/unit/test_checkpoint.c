/*  audit_checkpoint: the C2SP tlog-checkpoint text of an organisation's
    tree. Written as the contract shows it, read back the same; each of
    its three lines parsed strictly, extension lines read past; and a
    checkpoint note signed and verified end to end. */

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "audit_checkpoint.h"
#include "audit_signer.h"

//  C2SP tlog-checkpoint's example root
#define ROOT_TEXT "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="

static audit_checkpoint_result_t
s_parse (const char *text, audit_checkpoint_t *checkpoint)
{
    return audit_checkpoint_parse (text, strlen (text), checkpoint);
}

Test (checkpoint, written_as_the_contract_shows_and_read_back)
{
    audit_merkle_hash_t root;
    audit_checkpoint_t checkpoint;
    cr_assert_eq (s_parse ("semafore-audit/x\n0\n" ROOT_TEXT "\n", &checkpoint), AUDIT_CHECKPOINT_OK);
    memcpy (root, checkpoint.root, sizeof root);
    char text [AUDIT_CHECKPOINT_TEXT_SIZE];
    int len = audit_checkpoint_format ("acme-corp", 20852163, root, text);
    cr_assert_str_eq (text, "semafore-audit/acme-corp\n20852163\n" ROOT_TEXT "\n");
    cr_assert_eq (len, (int) strlen (text));
    memset (&checkpoint, 0, sizeof checkpoint);
    cr_assert_eq (audit_checkpoint_parse (text, (size_t) len, &checkpoint), AUDIT_CHECKPOINT_OK);
    cr_assert_str_eq (checkpoint.org_id, "acme-corp");
    cr_assert_eq (checkpoint.size, 20852163);
    cr_assert_arr_eq (checkpoint.root, root, sizeof root);
}

Test (checkpoint, the_longest_fits)
{
    char org [AUDIT_IDENT_MAX + 1], text [AUDIT_CHECKPOINT_TEXT_SIZE];
    memset (org, '~', AUDIT_IDENT_MAX);
    org [AUDIT_IDENT_MAX] = 0;
    audit_merkle_hash_t root;
    memset (root, 0xff, sizeof root);
    int len = audit_checkpoint_format (org, UINT64_MAX, root, text);
    cr_assert_eq (len, AUDIT_CHECKPOINT_TEXT_SIZE - 1);
    audit_checkpoint_t checkpoint;
    cr_assert_eq (audit_checkpoint_parse (text, (size_t) len, &checkpoint), AUDIT_CHECKPOINT_OK);
    cr_assert_eq (checkpoint.size, UINT64_MAX);
    cr_assert_str_eq (checkpoint.org_id, org);
    cr_assert_eq (audit_checkpoint_format ("", 1, root, text), -1);
    cr_assert_eq (audit_checkpoint_format ("a b", 1, root, text), -1);
}

Test (checkpoint, extension_lines_are_read_past)
{
    audit_checkpoint_t checkpoint;
    cr_assert_eq (s_parse ("semafore-audit/acme\n7\n" ROOT_TEXT "\nextension\n\xC3\xA9t\xC3\xA9\n",
                           &checkpoint), AUDIT_CHECKPOINT_OK);
    cr_assert_eq (checkpoint.size, 7);
    cr_assert_eq (s_parse ("semafore-audit/acme\n7\n" ROOT_TEXT "\n\n", &checkpoint),
                  AUDIT_CHECKPOINT_MALFORMED, "extension lines are not empty");
    cr_assert_eq (s_parse ("semafore-audit/acme\n7\n" ROOT_TEXT "\nx\n\ny\n", &checkpoint),
                  AUDIT_CHECKPOINT_MALFORMED);
}

Test (checkpoint, each_line_is_strict)
{
    static const struct {
        const char *text;
        audit_checkpoint_result_t result;
    } cases [] = {
        { "", AUDIT_CHECKPOINT_MALFORMED },
        { "semafore-audit/acme\n7\n" ROOT_TEXT, AUDIT_CHECKPOINT_MALFORMED },
        { "semafore-audit/acme\n7\n", AUDIT_CHECKPOINT_MALFORMED },
        { "semafore-audit/acme\n7\n" ROOT_TEXT "\r\n", AUDIT_CHECKPOINT_MALFORMED },
        { "semafore-audit/acme\x01\n7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_MALFORMED },
        { "semafore-audit/acme\n7\n" ROOT_TEXT "\n\xff\n", AUDIT_CHECKPOINT_MALFORMED },
        { "semafore-audit/\n7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_ORIGIN_BAD },
        { "semafore-audit/a b\n7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_ORIGIN_BAD },
        { "semafore-audit\n7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_ORIGIN_BAD },
        { "example.com/log\n7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_ORIGIN_BAD },
        { "Semafore-audit/acme\n7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_ORIGIN_BAD },
        { "semafore-audit/acme\n07\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n00\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n+7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n-1\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n 7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n7 \n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n0x7\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n18446744073709551616\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n99999999999999999999\n" ROOT_TEXT "\n", AUDIT_CHECKPOINT_SIZE_BAD },
        { "semafore-audit/acme\n7\n\n", AUDIT_CHECKPOINT_ROOT_BAD },
        { "semafore-audit/acme\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n", AUDIT_CHECKPOINT_ROOT_BAD },
        { "semafore-audit/acme\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I==\n", AUDIT_CHECKPOINT_ROOT_BAD },
        //  Non-zero spare bits: the same 32 bytes in a second spelling
        { "semafore-audit/acme\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n", AUDIT_CHECKPOINT_ROOT_BAD },
        { "semafore-audit/acme\n7\nCsUYapGGPo4dkMgIAUqom_Xajj7h2fB2MPA3j2jxq2I=\n", AUDIT_CHECKPOINT_ROOT_BAD },
        { "semafore-audit/acme\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I= \n", AUDIT_CHECKPOINT_ROOT_BAD },
        { "semafore-audit/acme\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx2I=\n", AUDIT_CHECKPOINT_ROOT_BAD },
        { "semafore-audit/acme\n7\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2ICsUY\n", AUDIT_CHECKPOINT_ROOT_BAD },
    };
    for (size_t at = 0; at < sizeof cases / sizeof cases [0]; at++) {
        audit_checkpoint_t checkpoint = { .size = 12345 };
        cr_assert_eq (s_parse (cases [at].text, &checkpoint), cases [at].result, "case %zu", at);
        cr_assert_eq (checkpoint.size, 12345, "a refused text writes nothing");
    }
}

Test (checkpoint, a_signed_checkpoint_verifies_end_to_end)
{
    audit_signer_t *signer = audit_signer_new ("semafore-audit", NULL);
    cr_assert_not_null (signer);
    audit_merkle_hash_t root;
    audit_merkle_leaf_hash ("event", 5, root);
    char text [AUDIT_CHECKPOINT_TEXT_SIZE], note [AUDIT_CHECKPOINT_TEXT_SIZE + AUDIT_NOTE_SIGN_EXTRA];
    int len = audit_checkpoint_format ("acme", 1, root, text);
    long note_len = audit_signer_sign (signer, text, (size_t) len, note, sizeof note);
    cr_assert_gt (note_len, len);
    cr_assert_eq (strncmp (note + len, "\n\xE2\x80\x94 semafore-audit ", 20), 0, "%s", note);
    size_t text_len = 0;
    cr_assert_eq (audit_note_verify (audit_signer_verifier (signer), note, (size_t) note_len,
                                     &text_len), AUDIT_NOTE_OK);
    audit_checkpoint_t checkpoint;
    cr_assert_eq (audit_checkpoint_parse (note, text_len, &checkpoint), AUDIT_CHECKPOINT_OK);
    cr_assert_eq (checkpoint.size, 1);
    cr_assert_arr_eq (checkpoint.root, root, sizeof root);
    audit_signer_destroy (&signer);
}

Test (checkpoint, every_prefix_is_refused_and_read_within)
{
    const char *text = "semafore-audit/acme\n42\n" ROOT_TEXT "\next\n";
    size_t len = strlen (text);
    for (size_t prefix = 0; prefix < len; prefix++) {
        char *part = malloc (prefix? prefix: 1);
        cr_assert_not_null (part);
        memcpy (part, text, prefix);
        audit_checkpoint_t checkpoint;
        audit_checkpoint_result_t result = audit_checkpoint_parse (part, prefix, &checkpoint);
        bool whole_line = prefix == len - 4;    //  the three lines without the extension
        cr_assert_eq (result == AUDIT_CHECKPOINT_OK, whole_line, "prefix %zu", prefix);
        free (part);
    }
}
