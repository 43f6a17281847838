/*  proto/PROTOCOL.md and the tables in code say the same thing: every row
    of the document's catalogue is read back and compared with
    audit_events.def, field by field, in both directions; so are the
    arguments of list (query_ops.def, query_args.def and the filter fields
    of audit_fields.def) and the keys of the ops and mq bodies
    (audit_ops_fields.def, audit_mq_fields.def). */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "audit_proto.h"
#include "query_request.h"

//  Field mask of a cell like "`group_id`, `user_id`" or "— (written ...)"
static audit_field_mask_t
s_cell_fields (const char *cell)
{
    audit_field_mask_t mask = 0;
    const char *tick = cell;
    while ((tick = strchr (tick, '`'))) {
        const char *end = strchr (tick + 1, '`');
        if (!end)
            break;
        audit_field_t field;
        cr_assert_eq (audit_proto_field_lookup (tick + 1, (size_t) (end - tick - 1), &field), 0,
                      "unknown field in PROTOCOL.md: %.*s", (int) (end - tick - 1), tick + 1);
        mask |= AUDIT_FIELD_BIT (field);
        tick = end + 1;
    }
    return mask;
}

//  Split "| a | b | c | d |" into four cells; false for other lines
static bool
s_split_row (char *line, char *cells [4])
{
    if (line [0] != '|')
        return false;
    int count = 0;
    char *cursor = line + 1;
    char *bar;
    while (count < 4 && (bar = strchr (cursor, '|'))) {
        *bar = 0;
        cells [count++] = cursor;
        cursor = bar + 1;
    }
    return count == 4 && strstr (cells [1], "`") != NULL && strstr (cells [0], "`") == NULL;
}

static void
s_check_row (char *cells [4], bool *seen)
{
    char *start = strchr (cells [1], '`') + 1;
    char *end = strchr (start, '`');
    audit_event_type_t type;
    cr_assert_eq (audit_proto_event_lookup (start, (size_t) (end - start), &type), 0,
                  "PROTOCOL.md lists an unknown type %.*s", (int) (end - start), start);
    const audit_event_info_t *info = audit_proto_event_info (type);
    cr_assert (strstr (cells [0], audit_proto_category_name (info->category)), "%s", info->name);
    cr_assert_eq (s_cell_fields (cells [2]), info->required, "%s required", info->name);
    cr_assert_eq (s_cell_fields (cells [3]), info->optional, "%s optional", info->name);
    seen [type] = true;
}

Test (protocol_doc, catalogue_in_the_document_matches_the_code)
{
    FILE *doc = fopen (AUDIT_SOURCE_DIR "/proto/PROTOCOL.md", "r");
    cr_assert_not_null (doc);
    bool seen [AUDIT_EVENT_COUNT] = { false };
    char line [1024];
    bool in_catalogue = false;
    while (fgets (line, sizeof line, doc)) {
        if (strncmp (line, "Catalogue", 9) == 0)
            in_catalogue = true;
        char *cells [4];
        if (in_catalogue && s_split_row (line, cells))
            s_check_row (cells, seen);
    }
    fclose (doc);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        cr_assert (seen [type], "PROTOCOL.md does not list %s",
                   audit_proto_event_info ((audit_event_type_t) type)->name);
}

//  The whole document, NUL-terminated
static char s_doc [128 * 1024];

static void
s_read_doc (void)
{
    FILE *doc = fopen (AUDIT_SOURCE_DIR "/proto/PROTOCOL.md", "r");
    cr_assert_not_null (doc);
    size_t size = fread (s_doc, 1, sizeof s_doc - 1, doc);
    fclose (doc);
    cr_assert (size < sizeof s_doc - 1, "PROTOCOL.md outgrew the test's buffer");
    s_doc [size] = 0;
}

//  The text from `start` (after heading) to the next blank line, into out
static void
s_paragraph (const char *heading, const char *start, char *out, size_t size)
{
    const char *section = strstr (s_doc, heading);
    cr_assert_not_null (section, "PROTOCOL.md has no %s", heading);
    const char *from = strstr (section, start);
    cr_assert_not_null (from, "%s has no %s", heading, start);
    const char *end = strstr (from, "\n\n");
    size_t len = end ? (size_t) (end - from) : strlen (from);
    cr_assert (len < size);
    memcpy (out, from, len);
    out [len] = 0;
}

//  Whether `word` (with its backticks) is in text
static bool
s_mentions (const char *text, const char *word)
{
    char quoted [80];
    snprintf (quoted, sizeof quoted, "`%s`", word);
    return strstr (text, quoted) != NULL;
}

//  The argument whose key is word (len bytes), or -1
static int
s_arg_of (const char *word, size_t len)
{
    for (int arg = 0; arg < QUERY_ARG_COUNT; arg++) {
        const char *key = query_request_arg_key ((query_arg_t) arg);
        if (key && strlen (key) == len && memcmp (key, word, len) == 0)
            return arg;
    }
    return -1;
}

//  list's arguments in the document are the op table's, filter fields and
//  all, both ways: each one list takes is named, and each request key or
//  resource field named is one that list takes
Test (protocol_doc, list_arguments_in_the_document_match_the_tables)
{
    s_read_doc ();
    char text [4096];
    s_paragraph ("### `list`", "Arguments:", text, sizeof text);
    const query_op_info_t *list = query_request_op_info (QUERY_OP_LIST);
    query_arg_mask_t takes = list->required | list->optional;
    for (int arg = 0; arg < QUERY_ARG_COUNT; arg++) {
        const char *key = query_request_arg_key ((query_arg_t) arg);
        if (key && (takes & QUERY_ARG_BIT (arg)))
            cr_expect (s_mentions (text, key), "PROTOCOL.md's list does not name %s", key);
    }
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (audit_proto_field_info ((audit_field_t) field)->filter)
            cr_expect (takes & QUERY_ARG_FIELD_BIT (field), "list does not take filter field %s",
                       audit_proto_field_info ((audit_field_t) field)->key);
    const char *tick = text;
    while ((tick = strchr (tick, '`'))) {
        const char *end = strchr (tick + 1, '`');
        cr_assert_not_null (end);
        size_t len = (size_t) (end - tick - 1);
        int arg = s_arg_of (tick + 1, len);
        audit_field_t field;
        cr_expect (arg < 0 || (takes & QUERY_ARG_BIT (arg)),
                   "PROTOCOL.md's list names %.*s, which list does not take", (int) len, tick + 1);
        cr_expect (audit_proto_field_lookup (tick + 1, len, &field) != 0
                   || audit_proto_field_info (field)->filter,
                   "PROTOCOL.md's list names %.*s, which is no filter field", (int) len, tick + 1);
        tick = end + 1;
    }
}

//  How the document's type column says a body type
static const char *
s_type_word (audit_body_type_t type)
{
    switch (type) {
        case AUDIT_BODY_VERSION:
        case AUDIT_BODY_UINT:       return "uint";
        case AUDIT_BODY_TIMESTAMP:  return "as above";
        case AUDIT_BODY_PAYLOAD:    return "bin";
        case AUDIT_BODY_IDENT: case AUDIT_BODY_UUID: case AUDIT_BODY_IP:
        case AUDIT_BODY_METHOD: case AUDIT_BODY_PATH:
            return "str";
    }
    return "?";
}

typedef const audit_body_field_info_t *(s_info_fn) (int row);

//  The key table under heading: each key its row's type, every row once
static void
s_check_body (const char *heading, s_info_fn *info_of, int rows)
{
    char text [4096];
    s_paragraph (heading, "| key |", text, sizeof text);
    bool seen [64] = { false };
    cr_assert (rows <= 64);
    char *line = text;
    while (line && *line == '|') {
        char *next = strchr (line, '\n');
        if (next)
            *next++ = 0;
        char *cells [3] = { NULL };
        char *cursor = line + 1;
        for (int cell = 0; cell < 3 && cursor; cell++) {
            cells [cell] = cursor;
            char *bar = strchr (cursor, '|');
            if (bar)
                *bar = 0;
            cursor = bar ? bar + 1 : NULL;
        }
        for (char *tick = cells [0]; cells [1] && (tick = strchr (tick, '`')); ) {
            char *end = strchr (tick + 1, '`');
            cr_assert_not_null (end);
            *end = 0;
            int row = 0;
            while (row < rows && strcmp (info_of (row)->key, tick + 1) != 0)
                row++;
            cr_expect (row < rows, "%s names %s, which its table lacks", heading, tick + 1);
            if (row < rows) {
                seen [row] = true;
                const char *word = s_type_word (info_of (row)->type);
                cr_expect (strstr (cells [1], word), "%s: %s is %s", heading, tick + 1, word);
            }
            tick = end + 1;
        }
        line = next;
    }
    for (int row = 0; row < rows; row++)
        cr_expect (seen [row], "%s does not name %s", heading, info_of (row)->key);
}

static const audit_body_field_info_t *
s_ops_info (int row)
{
    return audit_proto_ops_field_info ((audit_ops_field_t) row);
}

static const audit_body_field_info_t *
s_mq_info (int row)
{
    return audit_proto_mq_field_info ((audit_mq_field_t) row);
}

Test (protocol_doc, ops_and_mq_body_keys_in_the_document_match_the_tables)
{
    s_read_doc ();
    s_check_body ("### Operational record body", s_ops_info, AUDIT_OPS_FIELD_COUNT);
    s_check_body ("### Undelivered message body", s_mq_info, AUDIT_MQ_FIELD_COUNT);
}

//  Every key and op of the acknowledgement channel (proto/audit_ack.def)
//  is in the document's hello and ack messages, spelled as in the table
Test (protocol_doc, acknowledgement_keys_in_the_document_match_the_table)
{
    s_read_doc ();
    char text [4096];
    s_paragraph ("## Acknowledgements", "- The producer sends", text, sizeof text);
    for (int key = 0; key < AUDIT_ACK_KEY_COUNT; key++) {
        char word [64];
        snprintf (word, sizeof word, "%s", audit_proto_ack_key ((audit_ack_key_t) key));
        cr_expect (strstr (text, word), "the hello and ack do not name %s", word);
    }
    for (int op = 0; op < AUDIT_ACK_OP_COUNT; op++) {
        char word [64];
        snprintf (word, sizeof word, "op: \"%s\"", audit_proto_ack_op ((audit_ack_op_t) op));
        cr_expect (strstr (text, word), "the document has no %s", word);
    }
    cr_expect (strstr (text, "at most 1,000"), "the limit of AUDIT_ACK_REJECTED_MAX");
    cr_expect_eq (AUDIT_ACK_REJECTED_MAX, 1000);
}
