/*  =========================================================================
    bench-query - list, DSAR, filtered pages and export at 5,000,000 events

    1. A store of N events (default 5,000,000; bench_events) over 1,000
       organisations, org_000 holding a tenth (500,000), the others about
       4,500 each, timestamps over the last 300 days, written straight
       through audit_store_write (schema 3) in large batches. With -d the
       directory is kept, and its DIR/bench-query.preload record says what
       it holds: a store of the same -n/-o/-w is reused (or completed, when
       cut short); any other audit.db, ops.db, queue.db there is deleted and
       built again.
    2. Latency, p50/p99/max over R requests (default 1,000, after 50 not
       counted), each on a random organisation (a typical one, and on its
       own line org_000), first in-process through query_worker_answer,
       then over one REQ socket kept open to the real audit-query on
       127.0.0.1 (as a portal keeps it):
         list     the newest 100 of the organisation
         DSAR     subject = an actor or user that exists there, first 100
         range    from/to spanning 30 days + the event_types of one
                  category, 100
    3. Export of org_000 following next_cursor, in csv and in ndjson,
       in-process and then over the socket: rows/s end to end, and the
       worker's peak RSS during the socket exports (VmHWM, reset before).
       Their ceiling, in the same run: the store's page walk alone over
       the same rows in pages of the chunk size, nothing rendered.
    4. Cold: the socket lines again, each on a freshly started worker,
       with the page cache dropped (sync; echo 3 > /proc/sys/vm/drop_caches,
       root only) after the line's warm-up; a line where that failed is
       labelled warm, on stderr and in the summary.
    The summary at the end is a block for bench/RESULTS.md.

    Usage: bench-query [-n EVENTS] [-o ORGS] [-w HEAVY_PER_MILLE]
                       [-r REQUESTS] [-d DIR] [-p PHASES] [-c CHUNK]
      PHASES: any of i (in-process pages), s (socket pages), e (exports),
      x (the in-process exports alone), c (cold socket pages); default
      isec. CHUNK: export rows per chunk
      (1 .. 50,000; default: the service's, 10,000).
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <msgpack.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_time.h"
#include "audit_token.h"
#include "bench_client.h"
#include "bench_events.h"
#include "bench_preload.h"

#define s_SPAN_DAYS     300
#define s_RANGE_DAYS    30
#define s_PAGE          100
#define s_WARMUP        50
#define s_RESULTS_MAX   32
#define s_TOKEN_TTL_S   3600            //  within the worker's jwt-max-age (a day)
//  Shared with the worker it starts, through AUDIT_JWT_SECRET
#define s_SECRET        "bench-query-secret-0123456789abcdef0123456789abcdef"

//  S_PING, a health request, is the floor of each transport: what the
//  round trip costs with no page to read
typedef enum { S_NEWEST, S_DSAR, S_RANGE, S_KIND_COUNT, S_PING = S_KIND_COUNT } s_kind_t;
static const char *s_kind_names [S_KIND_COUNT + 1] = {
    "list newest 100", "DSAR subject, first 100", "30 days + 1 category, 100",
    "health (the round trip alone)"
};

typedef struct {
    long events, requests, chunk;       //  chunk: export rows per chunk, 0: default
    int orgs, heavy;
    char dir [512];
    const char *phases;
} s_options_t;

typedef enum { S_CSV, S_NDJSON, S_FORMATS } s_format_t;
static const char *s_format_names [S_FORMATS] = { "csv", "ndjson" };

typedef struct {
    char label [80];
    double p50, p99, max;               //  ms
    long count, empty;
} s_result_t;

typedef struct {
    long rows, chunks;
    double seconds, mib;
} s_export_t;

typedef struct {
    s_options_t options;
    bench_events_t events;
    uint64_t rng;
    char **tokens;                      //  per organisation, minted on first use
    bench_client_t *client;
    msgpack_sbuffer body;
    s_result_t results [s_RESULTS_MAX];
    int result_count;
    s_export_t export_inproc [S_FORMATS], export_socket [S_FORMATS];
    s_export_t walk;                    //  the page walk alone: the ceiling
    long rss_export_kib, rss_life_kib;
    bool cold;                          //  the page cache is dropped before a line
    int cold_dropped;                   //  drops that worked, and failed
    int cold_failed;
    char load_start [64];
} s_bench_t;

//  --------------------------------------------------------------------------
//  Small helpers

static int64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static uint64_t
s_random (s_bench_t *self)
{
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return self->rng * 0x2545F4914F6CDD1DULL;
}

static int64_t
s_scalar (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    int64_t value = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

//  A line of a /proc file that starts with key, after the key
static void
s_proc_line (const char *path, const char *key, char *value, size_t size)
{
    FILE *file = fopen (path, "r");
    char line [512];
    snprintf (value, size, "?");
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, key, strlen (key)) == 0) {
            const char *start = line + strlen (key);
            start += strspn (start, " \t:");
            snprintf (value, size, "%.*s", (int) strcspn (start, "\n"), start);
            break;
        }
    if (file)
        fclose (file);
}

//  The 1, 5 and 15 minute load averages
static void
s_load_average (char *text, size_t size)
{
    double one = 0, five = 0, fifteen = 0;
    FILE *file = fopen ("/proc/loadavg", "r");
    if (!file || fscanf (file, "%lf %lf %lf", &one, &five, &fifteen) != 3)
        one = five = fifteen = -1;
    if (file)
        fclose (file);
    snprintf (text, size, "%.2f %.2f %.2f", one, five, fifteen);
}

static long
s_worker_kib (s_bench_t *self, const char *key)
{
    char path [64], value [64];
    snprintf (path, sizeof path, "/proc/%d/status", (int) bench_client_worker (self->client));
    s_proc_line (path, key, value, sizeof value);
    return atol (value);
}

//  --------------------------------------------------------------------------
//  The store

//  Reuse what the directory holds when its record matches; else start over
static int
s_store_ready (s_bench_t *self)
{
    self->events.step_ms = s_SPAN_DAYS * AUDIT_MS_PER_DAY / self->options.events;
    return bench_preload_ready (self->options.dir, &self->events, self->options.events,
                                audit_time_now_ms () - s_SPAN_DAYS * AUDIT_MS_PER_DAY);
}

//  --------------------------------------------------------------------------
//  Requests

static void
s_pack_str (msgpack_packer *packer, const char *key, const char *value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_str_with_body (packer, value, strlen (value));
}

static const char *
s_token (s_bench_t *self, int org)
{
    if (!self->tokens [org]) {
        audit_claims_t claims = { .role = AUDIT_ROLE_ORG_ADMIN };
        bench_events_org_name (org, claims.org);
        snprintf (claims.sub, sizeof claims.sub, "admin_%03d", org);
        audit_token_mint ((const uint8_t *) s_SECRET, strlen (s_SECRET), &claims, NULL,
                          s_TOKEN_TTL_S, audit_time_now_ms () / 1000, &self->tokens [org]);
    }
    return self->tokens [org] ? self->tokens [org] : "";
}

//  Start a request map of op for org with extra more pairs
static msgpack_packer
s_request_start (s_bench_t *self, const char *op, int org, uint32_t more)
{
    msgpack_sbuffer_clear (&self->body);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->body, msgpack_sbuffer_write);
    char org_id [BENCH_EVENTS_NAME_SIZE];
    bench_events_org_name (org, org_id);
    msgpack_pack_map (&packer, 4 + more);
    msgpack_pack_str_with_body (&packer, "v", 1);
    msgpack_pack_uint8 (&packer, 1);
    s_pack_str (&packer, "op", op);
    s_pack_str (&packer, "token", s_token (self, org));
    s_pack_str (&packer, "org_id", org_id);
    return packer;
}

//  A random event of org_000 (heavy) or of any other organisation
static void
s_pick (s_bench_t *self, bool heavy, bench_event_t *event)
{
    do
        bench_events_make (&self->events, (long) (s_random (self) % (uint64_t) self->options.events), event);
    while ((event->org == 0) != heavy);
}

//  The types of one category, drawn as a producer type is
static void
s_pack_category (s_bench_t *self, msgpack_packer *packer)
{
    audit_category_t category = audit_proto_event_info (
        (audit_event_type_t) (s_random (self) % BENCH_EVENTS_TYPES))->category;
    uint32_t count = 0;
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++)
        count += audit_proto_event_info ((audit_event_type_t) type)->category == category;
    msgpack_pack_str_with_body (packer, "event_types", 11);
    msgpack_pack_array (packer, count);
    for (int type = 0; type < AUDIT_EVENT_COUNT; type++) {
        const audit_event_info_t *info = audit_proto_event_info ((audit_event_type_t) type);
        if (info->category == category)
            msgpack_pack_str_with_body (packer, info->name, strlen (info->name));
    }
}

static void
s_pack_range (s_bench_t *self, msgpack_packer *packer)
{
    int64_t window = s_RANGE_DAYS * AUDIT_MS_PER_DAY;
    int64_t span = self->events.step_ms * self->options.events - window;
    int64_t from = self->events.epoch_ms + (int64_t) (s_random (self) % (uint64_t) span);
    char text [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (from, text);
    s_pack_str (packer, "from", text);
    audit_time_format (from + window, text);
    s_pack_str (packer, "to", text);
    s_pack_category (self, packer);
}

static void
s_pack_list (s_bench_t *self, s_kind_t kind, bool heavy)
{
    if (kind == S_PING) {
        msgpack_sbuffer_clear (&self->body);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &self->body, msgpack_sbuffer_write);
        msgpack_pack_map (&packer, 2);
        msgpack_pack_str_with_body (&packer, "v", 1);
        msgpack_pack_uint8 (&packer, 1);
        s_pack_str (&packer, "op", "health");
        return;
    }
    bench_event_t event;
    s_pick (self, heavy, &event);
    msgpack_packer packer = s_request_start (self, "list", event.org,
                                             kind == S_NEWEST ? 1 : kind == S_DSAR ? 2 : 4);
    msgpack_pack_str_with_body (&packer, "limit", 5);
    msgpack_pack_uint32 (&packer, s_PAGE);
    if (kind == S_DSAR) {
        //  the actor, or the event's user when it has one, half the time
        const audit_event_info_t *info = audit_proto_event_info ((audit_event_type_t) event.type);
        bool user = ((info->required | info->optional) & AUDIT_FIELD_BIT (AUDIT_FIELD_USER_ID))
                 && (s_random (self) & 1);
        char subject [BENCH_EVENTS_NAME_SIZE];
        bench_events_user_name (event.org, user ? event.user : event.actor, subject);
        s_pack_str (&packer, "subject", subject);
    }
    else
    if (kind == S_RANGE)
        s_pack_range (self, &packer);
}

//  --------------------------------------------------------------------------
//  Measurements

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

static void
s_result_add (s_bench_t *self, const char *label, int64_t *ns, long count, long empty)
{
    qsort (ns, (size_t) count, sizeof *ns, s_compare);
    s_result_t *result = &self->results [self->result_count++];
    snprintf (result->label, sizeof result->label, "%s", label);
    result->p50 = (double) ns [count / 2] / 1e6;
    result->p99 = (double) ns [count * 99 / 100] / 1e6;
    result->max = (double) ns [count - 1] / 1e6;
    result->count = count;
    result->empty = empty;
    printf ("  %-64s p50 %7.3f  p99 %7.3f  max %7.3f ms  (%ld, %ld empty)\n", label,
            result->p50, result->p99, result->max, count, empty);
}

//  sync; echo 3 > /proc/sys/vm/drop_caches (root only); 0 or -1
static int
s_drop_caches (s_bench_t *self)
{
    sync ();
    FILE *file = fopen ("/proc/sys/vm/drop_caches", "w");
    int rc = file && fputs ("3", file) >= 0? 0: -1;
    if (file && fclose (file) != 0)
        rc = -1;
    if (rc == 0)
        self->cold_dropped++;
    else {
        self->cold_failed++;
        fprintf (stderr, "bench-query: could not drop the page cache (%s): this line is WARM\n",
                 strerror (errno));
    }
    return rc;
}

static int
s_measure (s_bench_t *self, s_kind_t kind, bool heavy, bool socket)
{
    long count = self->options.requests, empty = 0;
    int64_t *ns = calloc ((size_t) count, sizeof *ns);
    int rc = ns ? 0 : -1;
    bool dropped = false;
    for (long index = -s_WARMUP; rc == 0 && index < count; index++) {
        if (index == 0 && self->cold)
            dropped = s_drop_caches (self) == 0;
        s_pack_list (self, kind, heavy);
        bench_answer_t answer;
        int64_t took;
        rc = bench_client_ask (self->client, socket, &self->body, &answer, &took);
        if (rc == 0 && index >= 0) {
            ns [index] = took;
            empty += kind != S_PING && answer.events == 0;
        }
    }
    char label [80];
    const s_options_t *options = &self->options;
    long heavy_rows = options->events / 1000 * options->heavy;
    long typical_rows = (options->events - heavy_rows) / (options->orgs - (options->heavy > 0));
    snprintf (label, sizeof label, kind == S_PING ? "%s | none (%ld) | %s"
                                 : heavy ? "%s | org_000 (%ld) | %s" : "%s | typical (~%ld) | %s",
              s_kind_names [kind], kind == S_PING ? 0 : heavy ? heavy_rows : typical_rows,
              !socket ? "in-process" : !self->cold ? "socket" : dropped ? "socket, cache dropped"
                                                                         : "socket, NOT dropped (warm)");
    if (rc == 0)
        s_result_add (self, label, ns, count, empty);
    else
        fprintf (stderr, "%s: a request failed\n", label);
    free (ns);
    return rc;
}

static int
s_measure_all (s_bench_t *self, bool socket)
{
    printf ("%s pages, %ld requests each:\n", socket ? "socket" : "in-process", self->options.requests);
    int rc = s_measure (self, S_PING, false, socket);
    for (int heavy = 0; rc == 0 && heavy <= (self->options.heavy > 0); heavy++)
        for (int kind = 0; rc == 0 && kind < S_KIND_COUNT; kind++)
            rc = s_measure (self, (s_kind_t) kind, heavy, socket);
    return rc;
}

static long
s_lines (const char *data, size_t size)
{
    long lines = 0;
    for (const char *at = data; at && (at = memchr (at, '\n', size - (size_t) (at - data))); at++)
        lines++;
    return lines;
}

//  Rows of org_000 now, from a connection of its own
static int64_t
s_org_rows (s_bench_t *self)
{
    char path [600];
    snprintf (path, sizeof path, "%s/audit.db", self->options.dir);
    sqlite3 *db = NULL;
    int64_t rows = -1;
    if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        rows = s_scalar (db, "SELECT count(*) FROM event"
                             " WHERE org = (SELECT id FROM org WHERE name = 'org_000')");
    sqlite3_close (db);
    return rows;
}

//  Every chunk of org_000 in format, following next_cursor. The rows are
//  counted in the data itself (lines; a CSV has its header line more) and
//  must be the organisation's (the export's own record is written after
//  its last chunk was read)
static int
s_export (s_bench_t *self, bool socket, s_format_t format, s_export_t *result)
{
    int64_t expected = s_org_rows (self);
    char cursor [AUDIT_CURSOR_TEXT_SIZE] = "";
    memset (result, 0, sizeof *result);
    int64_t start = s_now_ns ();
    long lines = 0;
    int rc = 0;
    do {
        uint32_t more = 1 + (cursor [0] ? 1 : 0) + (self->options.chunk ? 1 : 0);
        msgpack_packer packer = s_request_start (self, "export", 0, more);
        s_pack_str (&packer, "format", s_format_names [format]);
        if (cursor [0])
            s_pack_str (&packer, "cursor", cursor);
        if (self->options.chunk) {
            msgpack_pack_str_with_body (&packer, "limit", 5);
            msgpack_pack_uint32 (&packer, (uint32_t) self->options.chunk);
        }
        bench_answer_t answer;
        int64_t took;
        rc = bench_client_ask (self->client, socket, &self->body, &answer, &took);
        if (rc == 0) {
            result->rows += (long) answer.rows;
            result->chunks++;
            result->mib += (double) answer.data_size / 1048576.0;
            lines += s_lines (answer.data, answer.data_size);
            snprintf (cursor, sizeof cursor, "%s", answer.cursor);
        }
    } while (rc == 0 && cursor [0]);
    result->seconds = (double) (s_now_ns () - start) / 1e9;
    printf ("  export org_000 %-6s %-10s %ld rows (%ld lines) in %ld chunks, %.1f MiB, %.2f s:"
            " %.0f rows/s\n", s_format_names [format], socket ? "socket" : "in-process",
            result->rows, lines, result->chunks, result->mib, result->seconds,
            (double) result->rows / result->seconds);
    long header = format == S_CSV ? 1 : 0;
    if (rc == 0 && (lines != result->rows + header || result->rows != expected)) {
        fprintf (stderr, "export: %ld rows, %ld lines, %lld rows in the store\n",
                 result->rows, lines, (long long) expected);
        rc = -1;
    }
    return rc;
}

//  The export's ceiling: every row of org_000 through audit_page alone,
//  in pages of the chunk size, as an export steps them, nothing rendered
static int
s_walk (s_bench_t *self)
{
    audit_store_t *store = audit_store_new (self->options.dir, AUDIT_STORE_READER);
    if (!store)
        return -1;
    audit_page_filter_t filter = {
        .org_id = "org_000", .from_ms = INT64_MIN, .to_ms = INT64_MAX,
        .type_mask = (uint32_t) ((1ull << AUDIT_EVENT_COUNT) - 1),
        .order = AUDIT_CURSOR_ASC,
        .limit = (uint32_t) (self->options.chunk ? self->options.chunk : 10000)
    };
    s_export_t *result = &self->walk;
    memset (result, 0, sizeof *result);
    int64_t start = s_now_ns ();
    int rc = 0;
    bool more = true;
    while (rc == 0 && more) {
        audit_page_t *page = audit_page_new (store, &filter);
        audit_row_t row;
        while (page && (rc = audit_page_next (page, &row)) == 1)
            result->rows++;
        more = page && rc == 0 && audit_page_more (page, &filter.after);
        filter.has_after = true;
        rc = page ? rc : -1;
        result->chunks++;
        audit_page_destroy (&page);
    }
    result->seconds = (double) (s_now_ns () - start) / 1e9;
    audit_store_destroy (&store);
    printf ("  page walk org_000 (the export's ceiling) %ld rows in %ld pages, %.2f s: %.0f rows/s\n",
            result->rows, result->chunks, result->seconds, (double) result->rows / result->seconds);
    return rc;
}

static int
s_export_both (s_bench_t *self, bool socket)
{
    int rc = 0;
    for (int format = 0; rc == 0 && format < S_FORMATS; format++)
        rc = s_export (self, socket, (s_format_t) format,
                       socket ? &self->export_socket [format] : &self->export_inproc [format]);
    return rc;
}

static int
s_export_socket (s_bench_t *self)
{
    self->rss_life_kib = s_worker_kib (self, "VmHWM");
    char path [64];
    snprintf (path, sizeof path, "/proc/%d/clear_refs", (int) bench_client_worker (self->client));
    FILE *file = fopen (path, "w");
    if (file) {
        fputs ("5", file);          //  resets VmHWM to the RSS of now
        fclose (file);
    }
    int rc = s_export_both (self, true);
    self->rss_export_kib = s_worker_kib (self, "VmHWM");
    printf ("  audit-query VmHWM: %ld KiB during the exports, %ld KiB before them\n",
            self->rss_export_kib, self->rss_life_kib);
    return rc;
}

//  --------------------------------------------------------------------------
//  The summary, for bench/RESULTS.md

static void
s_summary_export (s_bench_t *self)
{
    if (self->walk.rows)
        printf ("| page walk of org_000 alone (the ceiling) | %ld rows, %ld pages | %.2f s |"
                " %.0f rows/s |\n", self->walk.rows, self->walk.chunks, self->walk.seconds,
                (double) self->walk.rows / self->walk.seconds);
    for (int socket = 0; socket < 2; socket++)
        for (int format = 0; format < S_FORMATS; format++) {
            const s_export_t *done = socket ? &self->export_socket [format]
                                            : &self->export_inproc [format];
            if (done->rows)
                printf ("| export org_000, %s, %s | %ld rows, %ld chunks, %.1f MiB | %.2f s |"
                        " **%.0f rows/s** |\n", s_format_names [format],
                        socket ? "socket" : "in-process", done->rows, done->chunks, done->mib,
                        done->seconds, (double) done->rows / done->seconds);
        }
    if (self->rss_export_kib)
        printf ("\naudit-query peak RSS (VmHWM) during the socket exports: %.1f MiB"
                " (before them, since start: %.1f MiB)\n",
                (double) self->rss_export_kib / 1024.0, (double) self->rss_life_kib / 1024.0);
    if (self->cold_dropped || self->cold_failed)
        printf ("page cache dropped before %d cold lines; %s\n", self->cold_dropped,
                self->cold_failed ? "COULD NOT drop it before some: those lines are warm"
                                  : "every drop worked");
}

static void
s_summary (s_bench_t *self)
{
    char cpu [128], load [64], path [600];
    s_proc_line ("/proc/cpuinfo", "model name", cpu, sizeof cpu);
    s_load_average (load, sizeof load);
    snprintf (path, sizeof path, "%s/audit.db", self->options.dir);
    struct stat info;
    double mib = stat (path, &info) == 0 ? (double) info.st_size / 1048576.0 : 0;
    printf ("\n----- summary (bench-query) -----\n");
    printf ("machine: %ld cores (nproc), %s; SQLite %s; load average at start %s, at end %s\n",
            sysconf (_SC_NPROCESSORS_ONLN), cpu, sqlite3_libversion (), self->load_start, load);
    printf ("store: %ld events, %d organisations (org_000: %d per mille, the rest ~%ld each),"
            " %d days; audit.db %.0f MiB\n", self->options.events, self->options.orgs,
            self->options.heavy, self->options.events * (1000 - self->options.heavy) / 1000
            / (self->options.orgs > 1 ? self->options.orgs - 1 : 1), s_SPAN_DAYS, mib);
    printf ("latency: %ld requests per line on random organisations, after %d not counted;"
            " ms from send to reply\n\n", self->options.requests, s_WARMUP);
    printf ("| query | organisation | transport | p50 ms | p99 ms | max ms | empty pages |\n");
    printf ("|---|---|---|---|---|---|---|\n");
    for (int index = 0; index < self->result_count; index++) {
        const s_result_t *result = &self->results [index];
        printf ("| %s | %.3f | %.3f | %.3f | %ld |\n", result->label,
                result->p50, result->p99, result->max, result->empty);
    }
    printf ("\n| export | size | time | rate |\n|---|---|---|---|\n");
    s_summary_export (self);
}

//  --------------------------------------------------------------------------
//  Main

static int
s_options_parse (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { 5000000, 1000, 0, 1000, 100, "", "isec" };
    int option;
    while ((option = getopt (argc, argv, "n:o:w:r:d:p:c:")) != -1)
        switch (option) {
            case 'c': options->chunk = atol (optarg); break;
            case 'n': options->events = atol (optarg); break;
            case 'o': options->orgs = atoi (optarg); break;
            case 'w': options->heavy = atoi (optarg); break;
            case 'r': options->requests = atol (optarg); break;
            case 'd': snprintf (options->dir, sizeof options->dir, "%s", optarg); break;
            case 'p': options->phases = optarg; break;
            default:
                fprintf (stderr, "usage: bench-query [-n events] [-o orgs] [-w heavy_per_mille]"
                         " [-r requests] [-d dir] [-p isec] [-c chunk_rows]\n");
                return -1;
        }
    bool fits = options->events >= 1000 && options->orgs >= 2 && options->orgs <= 1000
             && options->heavy >= 0 && options->heavy < 1000 && options->requests >= 100
             && options->chunk >= 0 && options->chunk <= 50000;
    return fits ? 0 : -1;
}

static int
s_worker_start (s_bench_t *self)
{
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", 40000 + getpid () % 20000);
    int rc = bench_client_start (self->client, AUDIT_BIN_DIR, endpoint);
    printf ("audit-query pid %d on %s: %s\n", (int) bench_client_worker (self->client), endpoint,
            rc ? "no answer" : "ready");
    return rc;
}

//  Each line on a worker started afresh (its own SQLite caches empty),
//  over a new REQ socket kept open for the line; after the line's warm-up
//  (which warms what a live worker would hold) the page cache is dropped
static int
s_measure_cold (s_bench_t *self)
{
    printf ("socket pages, the page cache dropped first, %ld requests each:\n",
            self->options.requests);
    self->cold = true;
    int rc = 0;
    for (int heavy = 0; rc == 0 && heavy <= (self->options.heavy > 0); heavy++)
        for (int kind = 0; rc == 0 && kind < S_KIND_COUNT; kind++) {
            bench_client_stop (self->client);
            rc = s_worker_start (self);
            rc = rc? rc: s_measure (self, (s_kind_t) kind, heavy, true);
        }
    self->cold = false;
    return rc;
}

static int
s_run (s_bench_t *self)
{
    const char *phases = self->options.phases;
    int rc = s_store_ready (self);
    if (rc == 0 && !(self->client = bench_client_new (self->options.dir, s_SECRET)))
        rc = -1;
    //  An export's last chunk signs the log: in-process and in the worker
    //  with one key, kept beside the store (else the worker would make
    //  ./secrets/log_signing_key wherever the bench was started)
    char key [600];
    snprintf (key, sizeof key, "%s/log_signing_key", self->options.dir);
    if (rc == 0 && !getenv ("AUDIT_SIGNING_KEY_FILE"))
        setenv ("AUDIT_SIGNING_KEY_FILE", key, 1);
    if (rc == 0)
        rc = bench_client_sign (self->client, getenv ("AUDIT_SIGNING_KEY_FILE"));
    if (rc == 0 && strchr (phases, 'i'))
        rc = s_measure_all (self, false);
    bool exports = strchr (phases, 'e') || strchr (phases, 'x');
    if (rc == 0 && exports && self->options.heavy > 0)
        rc = s_walk (self);
    if (rc == 0 && exports && self->options.heavy > 0)
        rc = s_export_both (self, false);
    if (rc == 0 && (strchr (phases, 's') || (strchr (phases, 'e') && self->options.heavy > 0)))
        rc = s_worker_start (self);
    if (rc == 0 && strchr (phases, 's'))
        rc = s_measure_all (self, true);
    if (rc == 0 && strchr (phases, 'e') && self->options.heavy > 0)
        rc = s_export_socket (self);
    if (rc == 0 && strchr (phases, 'c'))
        rc = s_measure_cold (self);
    bench_client_destroy (&self->client);
    return rc;
}

int
main (int argc, char **argv)
{
    static s_bench_t self;
    if (s_options_parse (argc, argv, &self.options) != 0)
        return 2;
    setvbuf (stdout, NULL, _IOLBF, 0);
    zsys_init ();
    zsys_set_logstream (stderr);
    bool keep = self.options.dir [0] != 0;
    if (!keep) {
        snprintf (self.options.dir, sizeof self.options.dir, "/tmp/bench-query-XXXXXX");
        if (!mkdtemp (self.options.dir))
            return 1;
    }
    else
    if (mkdir (self.options.dir, 0700) != 0 && errno != EEXIST)
        return 1;
    self.events = (bench_events_t) { self.options.orgs, self.options.heavy, 0, 1 };
    self.rng = 0x5EED5EED12345678ULL;
    self.tokens = calloc ((size_t) self.options.orgs, sizeof *self.tokens);
    msgpack_sbuffer_init (&self.body);
    s_load_average (self.load_start, sizeof self.load_start);
    int rc = self.tokens ? s_run (&self) : -1;
    if (rc == 0)
        s_summary (&self);
    for (int org = 0; self.tokens && org < self.options.orgs; org++)
        free (self.tokens [org]);
    free (self.tokens);
    msgpack_sbuffer_destroy (&self.body);
    char command [600];
    snprintf (command, sizeof command, "rm -rf '%s'", self.options.dir);
    if (!keep && system (command) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}
