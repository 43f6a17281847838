/*  proto/PROTOCOL.md and the catalogue table in code say the same thing:
    every row of the document's catalogue is read back and compared with
    audit_events.def, field by field, in both directions. */

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "audit_proto.h"

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
