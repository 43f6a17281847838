/*  =========================================================================
    ctl_args - auditctl's command line: which subcommand, its flags, and
    the request they make
    ========================================================================= */

#include "ctl_args.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "audit_config.h"
#include "audit_ident.h"
#include "audit_proto.h"
#include "audit_time.h"
#include "audit_token.h"
#include "ctl_time.h"

typedef enum {
    S_FLAG, S_UINT, S_IDENT, S_TIME, S_TYPE, S_CATEGORY, S_ORDER, S_FORMAT, S_ROLE, S_RATE,
    S_TEXT
} s_kind_t;

typedef struct {
    const char *flag;
    int shrt;
    const char *hint;
    s_kind_t kind;
    const char *key;
    uint64_t min, max;
    const char *help;
} s_option_t;

static const s_option_t s_options [CTL_OPT_COUNT] = {
#define CTL_OPTION(NAME, flag, shrt, hint, kind, key, min, max, help) \
    [CTL_OPT_##NAME] = { flag, shrt, hint, S_##kind, key, min, max, help },
#include "ctl_options.def"
#undef CTL_OPTION
};

typedef enum { S_ENDPOINT_NONE, S_ENDPOINT_QUERY, S_ENDPOINT_INGEST } s_endpoint_t;

typedef struct {
    const char *words;
    const char *op;
    s_endpoint_t endpoint;
    bool token;
    uint64_t options;
    uint64_t required;
    const char *rest;
    const char *purpose;
    const char *notes;
} s_command_t;

#define O(NAME) ((uint64_t) 1 << CTL_OPT_##NAME)
_Static_assert (CTL_OPT_COUNT <= 64, "a 64-bit mask holds every option");
#define S_GLOBALS (O (ENDPOINT) | O (TOKEN) | O (TIMEOUT) | O (JSON) | O (HELP))

static const s_command_t s_commands [CTL_COMMAND_COUNT] = {
#define CTL_COMMAND(NAME, words, op, endpoint, token, options, required, rest, purpose, notes) \
    [CTL_COMMAND_##NAME] = { words, op, S_ENDPOINT_##endpoint, token, \
                             (options) | S_GLOBALS, required, rest, purpose, notes },
#include "ctl_commands.def"
#undef CTL_COMMAND
};

const char *
ctl_args_command_words (ctl_command_t command)
{
    return s_commands [command].words;
}

void
ctl_args_usage (FILE *out)
{
    fprintf (out, "Usage: auditctl [GLOBAL OPTIONS] COMMAND [OPTIONS]\n"
                  "The command-line client of the Semafore audit service.\n\nCommands:\n");
    for (int command = 0; command < CTL_COMMAND_COUNT; command++)
        fprintf (out, "  %-15s %s\n", s_commands [command].words, s_commands [command].purpose);
    fprintf (out, "\nGlobal options: --endpoint E, --token T, --timeout MS, --json, --help\n"
                  "Run 'auditctl COMMAND --help' for a command's options.\n"
                  "Exit codes: 0 ok, 1 the service refused (error: code: message),"
                  " 2 usage error, 3 no answer within the timeout.\n");
}

static void
s_print_option (FILE *out, ctl_option_t option)
{
    const s_option_t *row = &s_options [option];
    char flag [48];
    if (row->shrt)
        snprintf (flag, sizeof flag, "-%c, --%s%s%s", row->shrt, row->flag,
                  row->hint ? " " : "", row->hint ? row->hint : "");
    else
        snprintf (flag, sizeof flag, "--%s%s%s", row->flag, row->hint ? " " : "",
                  row->hint ? row->hint : "");
    fprintf (out, "  %-24s %s\n", flag, row->help);
}

static void
s_print_help (FILE *out, ctl_command_t command)
{
    const s_command_t *row = &s_commands [command];
    fprintf (out, "Usage: auditctl %s [OPTIONS]%s\n%s\n\nOptions:\n", row->words,
             row->rest ? " ID..." : "", row->purpose);
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        if ((row->options & ~S_GLOBALS) & ((uint64_t) 1 << option))
            s_print_option (out, (ctl_option_t) option);
    if (row->required & ~S_GLOBALS) {
        fprintf (out, "\nRequired:");
        for (int option = 0; option < CTL_OPT_COUNT; option++)
            if (row->required & ((uint64_t) 1 << option))
                fprintf (out, " --%s", s_options [option].flag);
        fputc ('\n', out);
    }
    if (row->notes)
        fprintf (out, "\n%s", row->notes);
    fprintf (out, "\nGlobal options:\n");
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        if (S_GLOBALS & ((uint64_t) 1 << option))
            s_print_option (out, (ctl_option_t) option);
}

int
ctl_args_connectable (const char *bind, char *out, size_t size)
{
    static const char *wildcards [] = { "*", "0.0.0.0", "[::]", NULL };
    const char *host = strstr (bind, "://");
    const char *port = host ? strrchr (host + 3, ':') : NULL;
    int written = -1;
    if (host && port && strncmp (bind, "tcp", 3) == 0)
        for (const char **wildcard = wildcards; *wildcard; wildcard++)
            if ((size_t) (port - host - 3) == strlen (*wildcard)
            &&  memcmp (host + 3, *wildcard, strlen (*wildcard)) == 0)
                written = snprintf (out, size, "%.*s%s%s", (int) (host + 3 - bind), bind,
                                    **wildcard == '[' ? "[::1]" : "127.0.0.1", port);
    if (written < 0)
        written = snprintf (out, size, "%s", bind);
    return written < 0 || (size_t) written >= size ? -1 : 0;
}

static int
s_check_uint (const char *text, const s_option_t *row, uint64_t *value)
{
    size_t len = strlen (text);
    if (len == 0 || len > 20 || strspn (text, "0123456789") != len)
        return -1;
    errno = 0;
    unsigned long long parsed = strtoull (text, NULL, 10);
    if (errno || parsed < row->min || parsed > row->max)
        return -1;
    *value = parsed;
    return 0;
}

//  "N" or "N/s"
static int
s_check_rate (const char *text, const s_option_t *row, uint64_t *value)
{
    char digits [24];
    size_t len = strlen (text);
    if (len > 2 && strcmp (text + len - 2, "/s") == 0)
        len -= 2;
    if (len >= sizeof digits)
        return -1;
    memcpy (digits, text, len);
    digits [len] = 0;
    return s_check_uint (digits, row, value);
}

//  Check a value by its kind; *normal gets the text to send (a TIME is
//  sent in the canonical UTC form, so "24h" means the same to the server)
static int
s_check_value (const s_option_t *row, const char *value, uint64_t *number,
               char *normal, size_t size)
{
    int64_t ms;
    size_t len = strlen (value);
    snprintf (normal, size, "%s", value);
    switch (row->kind) {
        case S_FLAG: return 0;
        case S_UINT: return s_check_uint (value, row, number);
        case S_IDENT: return audit_ident_is_valid (value, len) ? 0 : -1;
        case S_TYPE: {
            audit_event_type_t type;
            return audit_proto_event_lookup (value, len, &type);
        }
        case S_CATEGORY: {
            audit_category_t category;
            return audit_proto_category_lookup (value, len, &category);
        }
        case S_ORDER: return strcmp (value, "asc") && strcmp (value, "desc") ? -1 : 0;
        case S_FORMAT: return strcmp (value, "csv") && strcmp (value, "ndjson") ? -1 : 0;
        case S_ROLE:
            return strcmp (value, "org_admin") && strcmp (value, "platform_ops")
                && strcmp (value, "device") ? -1 : 0;
        case S_TIME:
            if (ctl_time_parse (value, audit_time_now_ms (), &ms))
                return -1;
            audit_time_format (ms, normal);
            return 0;
        case S_RATE: return s_check_rate (value, row, number);
        case S_TEXT: return len ? 0 : -1;
    }
    return -1;
}

//  "one of a, b or c": the names a ROLE or CATEGORY value may take
static void
s_allowed_names (s_kind_t kind, char *text, size_t size)
{
    int count = kind == S_ROLE ? AUDIT_ROLE_OTHER : AUDIT_CATEGORY_COUNT;
    size_t used = (size_t) snprintf (text, size, "one of ");
    for (int index = 0; index < count && used < size; index++) {
        const char *name = kind == S_ROLE ? audit_token_role_name ((audit_role_t) index)
                                          : audit_proto_category_name ((audit_category_t) index);
        const char *glue = index == 0 ? "" : index + 1 == count ? " or " : ", ";
        used += (size_t) snprintf (text + used, size - used, "%s%s", glue, name);
    }
}

//  What an option accepts, in words, for the line that refuses a value
static void
s_allowed (const s_option_t *row, char *text, size_t size)
{
    switch (row->kind) {
        case S_UINT:
        case S_RATE:
            snprintf (text, size, "a whole number from %" PRIu64 " to %" PRIu64 "%s", row->min,
                      row->max, row->kind == S_RATE ? ", optionally followed by /s" : "");
            return;
        case S_ROLE:
        case S_CATEGORY: s_allowed_names (row->kind, text, size); return;
        case S_IDENT:
            snprintf (text, size, "an identifier: 1 to %d printable ASCII characters, no space",
                      AUDIT_IDENT_MAX);
            return;
        case S_TIME:
            snprintf (text, size, "%s", CTL_TIME_FORMS);
            return;
        case S_TYPE: snprintf (text, size, "an event type (auditctl catalog lists them)"); return;
        case S_ORDER: snprintf (text, size, "asc or desc"); return;
        case S_FORMAT: snprintf (text, size, "csv or ndjson"); return;
        case S_TEXT: snprintf (text, size, "a non-empty value"); return;
        case S_FLAG: snprintf (text, size, "no value"); return;
    }
}

//  Record one flag and, when it stands for a request argument, set it
static int
s_apply (ctl_args_t *self, ctl_option_t option, const char *value)
{
    const s_option_t *row = &s_options [option];
    char normal [2 * AUDIT_IDENT_MAX];      //  longer values fail their check anyway
    value = value ? value : "";
    if (s_check_value (row, value, &self->number [option], normal, sizeof normal)) {
        char allowed [256];
        s_allowed (row, allowed, sizeof allowed);
        fprintf (stderr, "auditctl: invalid value for --%s (%.64s%s): %s\n", row->flag,
                 *value ? value : "empty", strlen (value) > 64 ? "..." : "", allowed);
        return -1;
    }
    self->given [option] = true;
    self->text [option] = value;
    if (!row->key)
        return 0;
    int rc;
    if (row->kind == S_TYPE || row->kind == S_CATEGORY)
        rc = ctl_request_append (self->request, row->key, normal);
    else
    if (row->kind == S_UINT)
        rc = ctl_request_set_uint (self->request, row->key, self->number [option]);
    else
        rc = ctl_request_set_str (self->request, row->key, row->kind == S_TEXT ? value : normal);
    return rc;
}

//  The getopt tables of a command: its flags and the global ones
static void
s_getopt_tables (ctl_command_t command, struct option *longs, char *shorts)
{
    size_t count = 0, used = 0;
    for (int option = 0; option < CTL_OPT_COUNT; option++) {
        const s_option_t *row = &s_options [option];
        if (!(s_commands [command].options & ((uint64_t) 1 << option)))
            continue;
        int has_arg = row->kind == S_FLAG ? no_argument : required_argument;
        longs [count++] = (struct option) { row->flag, has_arg, NULL, 256 + option };
        if (row->shrt) {
            shorts [used++] = (char) row->shrt;
            if (has_arg == required_argument)
                shorts [used++] = ':';
        }
    }
    longs [count] = (struct option) { NULL, 0, NULL, 0 };
    shorts [used] = 0;
}

static ctl_option_t
s_option_of (int opt)
{
    if (opt >= 256)
        return (ctl_option_t) (opt - 256);
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        if (s_options [option].shrt == opt)
            return (ctl_option_t) option;
    return CTL_OPT_COUNT;
}

static ctl_args_result_t
s_parse_flags (ctl_args_t *self, int argc, char **argv)
{
    struct option longs [CTL_OPT_COUNT + 1];
    char shorts [2 * CTL_OPT_COUNT + 1];
    s_getopt_tables (self->command, longs, shorts);
    optind = 0;                             //  glibc: start over (tests parse many times)
    int opt;
    while ((opt = getopt_long (argc, argv, shorts, longs, NULL)) != -1) {
        ctl_option_t option = s_option_of (opt);
        if (option == CTL_OPT_COUNT)
            return CTL_ARGS_USAGE;          //  getopt printed the reason
        if (option == CTL_OPT_HELP) {
            s_print_help (stdout, self->command);
            return CTL_ARGS_HELP;
        }
        if (s_apply (self, option, optarg))
            return CTL_ARGS_USAGE;
    }
    const char *rest = s_commands [self->command].rest;
    if (optind < argc && !rest) {
        fprintf (stderr, "auditctl: unexpected argument '%s' (see --help)\n", argv [optind]);
        return CTL_ARGS_USAGE;
    }
    for (; optind < argc; optind++)
        if (ctl_request_append (self->request, rest, argv [optind]))
            return CTL_ARGS_USAGE;
    return CTL_ARGS_OK;
}

//  Words at argv [at] naming a command: *command and how many words (1
//  or 2); 0 when none does
static int
s_match_command (int argc, char **argv, int at, ctl_command_t *command)
{
    for (int index = 0; index < CTL_COMMAND_COUNT; index++) {
        const char *words = s_commands [index].words;
        const char *space = strchr (words, ' ');
        size_t first = space ? (size_t) (space - words) : strlen (words);
        if (strlen (argv [at]) != first || strncmp (argv [at], words, first) != 0)
            continue;
        if (!space) {
            *command = (ctl_command_t) index;
            return 1;
        }
        if (at + 1 < argc && strcmp (argv [at + 1], space + 1) == 0) {
            *command = (ctl_command_t) index;
            return 2;
        }
    }
    return 0;
}

//  Index of the command word, past any global flags before it
static int
s_command_index (int argc, char **argv)
{
    int at = 1;
    while (at < argc && argv [at][0] == '-' && strcmp (argv [at], "--help") != 0
    &&     strcmp (argv [at], "-h") != 0 && strcmp (argv [at], "--version") != 0) {
        bool takes_value = strcmp (argv [at], "--endpoint") == 0
                        || strcmp (argv [at], "--token") == 0
                        || strcmp (argv [at], "--timeout") == 0;
        at += takes_value ? 2 : 1;
    }
    return at;
}

//  True when word is the first of two-word commands ("retention"): then
//  says which second words it takes, and what was given instead
static bool
s_needs_subcommand (const char *word, const char *given)
{
    char list [128] = "";
    size_t used = 0, len = strlen (word);
    for (int index = 0; index < CTL_COMMAND_COUNT && used < sizeof list; index++) {
        const char *words = s_commands [index].words;
        const char *space = strchr (words, ' ');
        if (space && (size_t) (space - words) == len && strncmp (words, word, len) == 0)
            used += (size_t) snprintf (list + used, sizeof list - used, "%s%s",
                                       used ? "|" : "", space + 1);
    }
    if (used == 0)
        return false;
    if (given)
        fprintf (stderr, "auditctl: unknown command '%s %s': %s takes a subcommand: %s %s"
                         " (see auditctl --help)\n", word, given, word, word, list);
    else
        fprintf (stderr, "auditctl: %s needs a subcommand: %s %s (see auditctl --help)\n",
                 word, word, list);
    return true;
}

//  "retention --help": the help of each of word's subcommands; false
//  when word takes none
static bool
s_group_help (const char *word)
{
    size_t len = strlen (word);
    bool any = false;
    for (int index = 0; index < CTL_COMMAND_COUNT; index++) {
        const char *words = s_commands [index].words;
        const char *space = strchr (words, ' ');
        if (space && (size_t) (space - words) == len && strncmp (words, word, len) == 0) {
            if (any)
                fputc ('\n', stdout);
            s_print_help (stdout, (ctl_command_t) index);
            any = true;
        }
    }
    return any;
}

static bool
s_is_help (const char *word)
{
    return strcmp (word, "--help") == 0 || strcmp (word, "-h") == 0;
}

//  No command, "help", "--help", "--version", or an unknown word
static ctl_args_result_t
s_no_command (int argc, char **argv, int at)
{
    ctl_command_t command;
    if (at >= argc) {
        ctl_args_usage (stderr);
        return CTL_ARGS_USAGE;
    }
    if (strcmp (argv [at], "--version") == 0 || strcmp (argv [at], "version") == 0) {
        printf ("auditctl %s\n", AUDIT_VERSION);
        return CTL_ARGS_HELP;
    }
    if (at + 1 < argc && s_is_help (argv [at + 1]) && s_group_help (argv [at]))
        return CTL_ARGS_HELP;
    if (strcmp (argv [at], "help") == 0 && at + 1 < argc
    &&  s_match_command (argc, argv, at + 1, &command)) {
        s_print_help (stdout, command);
        return CTL_ARGS_HELP;
    }
    if (strcmp (argv [at], "help") == 0 || strcmp (argv [at], "--help") == 0
    ||  strcmp (argv [at], "-h") == 0) {
        ctl_args_usage (stdout);
        return CTL_ARGS_HELP;
    }
    const char *next = at + 1 < argc && argv [at + 1][0] != '-' ? argv [at + 1] : NULL;
    if (!s_needs_subcommand (argv [at], next))
        fprintf (stderr, "auditctl: unknown command '%s%s%s' (see auditctl --help)\n", argv [at],
                 next ? " " : "", next ? next : "");
    return CTL_ARGS_USAGE;
}

//  The default endpoint of a command, from the worker's bind setting
static int
s_default_endpoint (ctl_args_t *self)
{
    static audit_config_t config;       //  13 KiB: not on the stack
    s_endpoint_t kind = s_commands [self->command].endpoint;
    if (kind == S_ENDPOINT_NONE)
        return 0;
    audit_setting_t setting = kind == S_ENDPOINT_QUERY ? AUDIT_SET_QUERY_ENDPOINT
                                                       : AUDIT_SET_INGEST_ENDPOINT;
    char *argv [] = { (char *) "auditctl", NULL };
    if (audit_config_load (&config, 1, argv, "auditctl", "", &setting, 1) != AUDIT_CONFIG_OK)
        return -1;
    return ctl_args_connectable (audit_config_str (&config, setting),
                                 self->endpoint, sizeof self->endpoint);
}

//  Flags auditctl fills in when they are not given: endpoint, token, timeout
static ctl_args_result_t
s_defaults (ctl_args_t *self)
{
    const s_command_t *row = &s_commands [self->command];
    self->timeout_ms = self->given [CTL_OPT_TIMEOUT] ? (int) self->number [CTL_OPT_TIMEOUT]
                                                     : CTL_TIMEOUT_DEFAULT_MS;
    self->json = self->given [CTL_OPT_JSON];
    if (self->given [CTL_OPT_ENDPOINT])
        snprintf (self->endpoint, sizeof self->endpoint, "%s", self->text [CTL_OPT_ENDPOINT]);
    else
    if (s_default_endpoint (self)) {
        fprintf (stderr, "auditctl: the endpoint in the environment is not usable\n");
        return CTL_ARGS_USAGE;
    }
    self->token = self->given [CTL_OPT_TOKEN] ? self->text [CTL_OPT_TOKEN] : getenv ("AUDIT_TOKEN");
    if (!row->token)
        return CTL_ARGS_OK;
    if (!self->token) {
        fprintf (stderr, "auditctl: %s needs a token: --token T or env AUDIT_TOKEN"
                         " (for development: auditctl token --help)\n", row->words);
        return CTL_ARGS_USAGE;
    }
    return ctl_request_set_token (self->request, self->token) ? CTL_ARGS_USAGE : CTL_ARGS_OK;
}

//  Two flags that set the same argument (--from and --since): which one
//  meant it is not for auditctl to guess
static ctl_args_result_t
s_check_same_key (const ctl_args_t *self)
{
    for (int one = 0; one < CTL_OPT_COUNT; one++)
        for (int other = one + 1; other < CTL_OPT_COUNT; other++)
            if (self->given [one] && self->given [other] && s_options [one].key
            &&  s_options [other].key && strcmp (s_options [one].key, s_options [other].key) == 0
            &&  s_options [one].kind != S_TYPE && s_options [one].kind != S_CATEGORY) {
                fprintf (stderr, "auditctl: --%s and --%s say the same thing; give one\n",
                         s_options [one].flag, s_options [other].flag);
                return CTL_ARGS_USAGE;
            }
    return CTL_ARGS_OK;
}

static ctl_args_result_t
s_check_required (ctl_args_t *self)
{
    const s_command_t *row = &s_commands [self->command];
    for (int option = 0; option < CTL_OPT_COUNT; option++)
        if ((row->required & ((uint64_t) 1 << option)) && !self->given [option]) {
            fprintf (stderr, "auditctl: %s needs --%s (see --help)\n", row->words,
                     s_options [option].flag);
            return CTL_ARGS_USAGE;
        }
    if (row->rest && !ctl_request_has (self->request, row->rest)) {
        fprintf (stderr, "auditctl: %s needs at least one ID\n", row->words);
        return CTL_ARGS_USAGE;
    }
    if (self->command == CTL_COMMAND_PUBLISH
    &&  self->given [CTL_OPT_FILE] == self->given [CTL_OPT_DEMO]) {
        fprintf (stderr, "auditctl: publish needs either --file F or --demo N\n");
        return CTL_ARGS_USAGE;
    }
    return s_check_same_key (self);
}

//  argv without the command words, so getopt sees flags on both sides
static char **
s_flags_argv (int argc, char **argv, int at, int words, int *count)
{
    char **flags = calloc ((size_t) argc + 1, sizeof *flags);
    if (!flags)
        return NULL;
    *count = 0;
    for (int index = 0; index < argc; index++)
        if (index < at || index >= at + words)
            flags [(*count)++] = argv [index];
    return flags;
}

int
ctl_args_cap_page (const ctl_args_t *self, uint64_t printed)
{
    if (!self->given [CTL_OPT_MAX])
        return 0;
    uint64_t page = self->given [CTL_OPT_LIMIT]? self->number [CTL_OPT_LIMIT]
                                               : ctl_args_page_max ();
    uint64_t left = self->number [CTL_OPT_MAX] - printed;
    return ctl_request_set_uint (self->request, "limit", left < page? left: page);
}

uint64_t
ctl_args_page_max (void)
{
    return s_options [CTL_OPT_LIMIT].max;
}

bool
ctl_args_at_max (const ctl_args_t *self, uint64_t printed)
{
    return self->given [CTL_OPT_MAX] && printed >= self->number [CTL_OPT_MAX];
}

ctl_args_result_t
ctl_args_parse (ctl_args_t *self, int argc, char **argv)
{
    memset (self, 0, sizeof *self);
    int at = s_command_index (argc, argv);
    int words = at < argc ? s_match_command (argc, argv, at, &self->command) : 0;
    if (words == 0)
        return s_no_command (argc, argv, at);
    const s_command_t *row = &s_commands [self->command];
    int count = 0;
    char **flags = s_flags_argv (argc, argv, at, words, &count);
    self->request = ctl_request_new (row->op ? row->op : row->words);
    if (!flags || !self->request) {
        free (flags);
        return CTL_ARGS_USAGE;
    }
    ctl_args_result_t rc = s_parse_flags (self, count, flags);
    free (flags);
    if (rc == CTL_ARGS_OK)
        rc = s_check_required (self);
    if (rc == CTL_ARGS_OK)
        rc = s_defaults (self);
    return rc;
}

void
ctl_args_destroy (ctl_args_t *self)
{
    ctl_request_destroy (&self->request);
}
