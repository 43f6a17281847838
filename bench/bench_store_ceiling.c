/*  =========================================================================
    bench-store-ceiling - how fast can audit.db take events, and how close
    does audit_store_write come to that?

    1. Preload N0 realistic events (bench_events: 100 orgs, mixed types,
       ~1000 actors per org) through audit_store_write into a fresh data directory, then
       close it and copy it twice, so that both runs below start from the
       same files.
    2. The ceiling: M more events inserted by a bare loop, two prepared
       INSERTs (the event's key into event_key, the row into event) with
       pre-resolved integer ids, in transactions of
       B rows, on a plain connection with the store's pragmas and SQLite's
       default automatic checkpoint.
    3. The store: the same M events through audit_store_write (interning,
       duplicate detection, counters, its own checkpoint control).

    It prints rows/s for both, their ratio, the slowest window of each
    (sustained rate), the WAL size at the end and its peak, and peak RSS.
    Other processes on the machine make single runs noisy.

    Usage: bench-store-ceiling [-n N0] [-m M] [-b B] [-d DIR] [-x INDEX]...
                               [-p PAGE_SIZE]
      -x drops an index from both copies before the timed runs, to measure
         what it costs, and -s runs SQL on both (e.g. CREATE INDEX ...); -p creates audit.db with another page size than the
         store's own, to compare; -c sets the page cache (KiB) of both
         runs; -o runs only the bare loop or only the store. With -d, a preload already in DIR/base is
         reused (same -n), and the directory is kept.
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "bench_wal.h"
#include "audit_time.h"
#include "bench_events.h"

#define s_ORGS              100
#define s_STEP_MS           10          //  event n is s_STEP_MS after event n-1
#define s_WINDOW_ROWS       50000       //  sustained rate: slowest such window
#define s_DROP_MAX          8

typedef struct {
    long preload, rows, batch, page_size;
    const char *dir;
    const char *drops [s_DROP_MAX];
    int drop_count;
    const char *sql;                    //  run on both copies, after the drops
    char only;                          //  'b' bare loop only, 's' store only
    long cache_kib;                     //  page cache of both runs, 0: the store's
} s_options_t;

//  Timing of one run
typedef struct {
    double seconds, slowest_window;     //  rows/s of the slowest window
    double window_seconds;
    long window_rows;
} s_timing_t;


//  Deterministic per event index, so both runs see the same rows
static bench_events_t s_events = { s_ORGS, 0, 0, s_STEP_MS };

//  --------------------------------------------------------------------------
//  Measurements

static double
s_now (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

//  Peak RSS since the last reset, KiB (VmHWM); reset writes 5 to clear_refs
static long
s_peak_rss_kib (bool reset)
{
    if (reset) {
        FILE *file = fopen ("/proc/self/clear_refs", "w");
        if (file) {
            fputs ("5", file);
            fclose (file);
        }
        return 0;
    }
    FILE *file = fopen ("/proc/self/status", "r");
    char line [256];
    long kib = 0;
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, "VmHWM:", 6) == 0)
            kib = strtol (line + 6, NULL, 10);
    if (file)
        fclose (file);
    return kib;
}

static void
s_timing_batch (s_timing_t *timing, const char *dir, long rows, double seconds)
{
    timing->seconds += seconds;
    timing->window_seconds += seconds;
    timing->window_rows += rows;
    if (timing->window_rows >= s_WINDOW_ROWS) {
        double rate = (double) timing->window_rows / timing->window_seconds;
        if (timing->slowest_window == 0 || rate < timing->slowest_window)
            timing->slowest_window = rate;
        timing->window_rows = 0;
        timing->window_seconds = 0;
    }
    (void) dir;
}

//  --------------------------------------------------------------------------
//  Through the store

//  Writes events [first, first + rows) in batches, with the ingest
//  worker's counters. Returns 0 or -1.
static int
s_store_run (audit_store_t *store, const char *dir, long first, long rows,
             long batch, s_timing_t *timing)
{
    audit_record_t *records = (audit_record_t *) calloc ((size_t) batch, sizeof *records);
    audit_store_outcome_t *outcomes = (audit_store_outcome_t *) calloc ((size_t) batch, sizeof *outcomes);
    audit_counters_t *counters = audit_counters_new ();
    int rc = records && outcomes && counters? 0: -1;
    for (long done = 0; rc == 0 && done < rows; done += batch) {
        long count = rows - done < batch? rows - done: batch;
        for (long index = 0; index < count; index++)
            bench_events_record (&s_events, first + done + index, &records [index]);
        double start = s_now ();
        audit_counters_count (counters, AUDIT_COUNTER_INGEST_RECEIVED, count);
        audit_counters_count_in (counters, AUDIT_COUNTER_FAMILY_INGEST_GAPS, "producer-1", 0);
        rc = audit_store_write (store, records, (size_t) count, outcomes, counters);
        long stored = 0;
        for (long index = 0; index < count; index++)
            stored += outcomes [index] == AUDIT_STORE_STORED;
        audit_counters_count (counters, AUDIT_COUNTER_INGEST_STORED, stored);
        if (stored != count)
            fprintf (stderr, "unexpected duplicates: %ld of %ld\n", count - stored, count);
        s_timing_batch (timing, dir, count, s_now () - start);
    }
    if (rc == 0)
        rc = audit_store_counters_flush (store, counters);
    audit_counters_destroy (&counters);
    free (outcomes);
    free (records);
    return rc;
}

//  --------------------------------------------------------------------------
//  The bare loop

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *insert, *key_insert, *begin, *commit, *lookup;
    int64_t *org_ids, *user_ids, *device_ids, *group_ids, *role_ids;
    int64_t next_unique_id;
} s_bare_t;

static int64_t
s_lookup (s_bare_t *self, sqlite3_stmt *stmt, const char *name)
{
    sqlite3_bind_text (stmt, 1, name, -1, SQLITE_TRANSIENT);
    int64_t id = sqlite3_step (stmt) == SQLITE_ROW? sqlite3_column_int64 (stmt, 0)
                                                  : self->next_unique_id++;
    sqlite3_reset (stmt);
    return id;
}

//  Resolves every pool name to its id before the clock starts
static void
s_bare_resolve (s_bare_t *self)
{
    sqlite3_stmt *org_stmt, *ident_stmt;
    sqlite3_prepare_v2 (self->db, "SELECT id FROM org WHERE name = ?1", -1, &org_stmt, NULL);
    sqlite3_prepare_v2 (self->db, "SELECT id FROM ident WHERE name = ?1", -1, &ident_stmt, NULL);
    char name [BENCH_EVENTS_NAME_SIZE];
    bench_event_t row = { 0 };
    for (row.org = 0; row.org < s_ORGS; row.org++) {
        bench_events_org_name (row.org, name);
        self->org_ids [row.org] = s_lookup (self, org_stmt, name);
        for (row.user = 0; row.user < BENCH_EVENTS_USERS_PER_ORG; row.user++) {
            bench_events_name (AUDIT_FIELD_USER_ID, &row, name);
            self->user_ids [row.org * BENCH_EVENTS_USERS_PER_ORG + row.user] = s_lookup (self, ident_stmt, name);
        }
        for (row.device = 0; row.device < BENCH_EVENTS_DEVICES_PER_ORG; row.device++) {
            bench_events_name (AUDIT_FIELD_DEVICE_ID, &row, name);
            self->device_ids [row.org * BENCH_EVENTS_DEVICES_PER_ORG + row.device] = s_lookup (self, ident_stmt, name);
        }
        for (row.group = 0; row.group < BENCH_EVENTS_GROUPS_PER_ORG; row.group++) {
            bench_events_name (AUDIT_FIELD_GROUP_ID, &row, name);
            self->group_ids [row.org * BENCH_EVENTS_GROUPS_PER_ORG + row.group] = s_lookup (self, ident_stmt, name);
        }
    }
    for (row.role = 0; row.role < BENCH_EVENTS_ROLES; row.role++) {
        bench_events_name (AUDIT_FIELD_ROLE, &row, name);
        self->role_ids [row.role] = s_lookup (self, ident_stmt, name);
    }
    sqlite3_finalize (org_stmt);
    sqlite3_finalize (ident_stmt);
}

static int
s_bare_open (s_bare_t *self, const char *dir)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/audit.db", dir);
    if (sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return -1;
    //  The store's pragmas, but SQLite's own checkpointing
    sqlite3_exec (self->db, "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"
                  " PRAGMA cache_size = -24576; PRAGMA journal_mode = WAL;", NULL, NULL, NULL);
    sqlite3_prepare_v2 (self->db, "BEGIN IMMEDIATE", -1, &self->begin, NULL);
    sqlite3_prepare_v2 (self->db, "COMMIT", -1, &self->commit, NULL);
    sqlite3_prepare_v2 (self->db, "INSERT INTO event_key (uuid) VALUES (?1)", -1,
                        &self->key_insert, NULL);
    int rc = sqlite3_prepare_v2 (self->db, "INSERT INTO event (org, ts, received, type, actor,"
        " user, device, grp, role, broadcast, recipient_count, file_ref, file_size,"
        " retention_days, uuid) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
        " ?11, ?12, ?13, ?14, ?15)", -1, &self->insert, NULL);
    self->org_ids = calloc (s_ORGS, sizeof (int64_t));
    self->user_ids = calloc (s_ORGS * BENCH_EVENTS_USERS_PER_ORG, sizeof (int64_t));
    self->device_ids = calloc (s_ORGS * BENCH_EVENTS_DEVICES_PER_ORG, sizeof (int64_t));
    self->group_ids = calloc (s_ORGS * BENCH_EVENTS_GROUPS_PER_ORG, sizeof (int64_t));
    self->role_ids = calloc (BENCH_EVENTS_ROLES, sizeof (int64_t));
    sqlite3_stmt *max_id;
    sqlite3_prepare_v2 (self->db, "SELECT max (id) + 1 FROM ident", -1, &max_id, NULL);
    sqlite3_step (max_id);
    self->next_unique_id = sqlite3_column_int64 (max_id, 0);
    sqlite3_finalize (max_id);
    s_bare_resolve (self);
    return rc == SQLITE_OK? 0: -1;
}

static void
s_bare_close (s_bare_t *self)
{
    sqlite3_finalize (self->insert);
    sqlite3_finalize (self->key_insert);
    sqlite3_finalize (self->begin);
    sqlite3_finalize (self->commit);
    sqlite3_close (self->db);
    free (self->org_ids);
    free (self->user_ids);
    free (self->device_ids);
    free (self->group_ids);
    free (self->role_ids);
}

//  Binds the ids (or, for broadcast and file, the text) of a field the
//  row's type has, NULL otherwise
static void
s_bare_bind_field (s_bare_t *self, const bench_event_t *row, audit_field_mask_t present,
                   audit_field_t field)
{
    int param = 6 + (int) field;
    if (!(present & AUDIT_FIELD_BIT (field))) {
        sqlite3_bind_null (self->insert, param);
        return;
    }
    if (field == AUDIT_FIELD_BROADCAST_ID || field == AUDIT_FIELD_FILE_REF) {
        char name [BENCH_EVENTS_NAME_SIZE];
        bench_events_name (field, row, name);
        sqlite3_bind_text (self->insert, param, name, -1, SQLITE_TRANSIENT);
        return;
    }
    int64_t value;
    switch (field) {
        case AUDIT_FIELD_USER_ID:   value = self->user_ids [row->org * BENCH_EVENTS_USERS_PER_ORG + row->user]; break;
        case AUDIT_FIELD_DEVICE_ID: value = self->device_ids [row->org * BENCH_EVENTS_DEVICES_PER_ORG + row->device]; break;
        case AUDIT_FIELD_GROUP_ID:  value = self->group_ids [row->org * BENCH_EVENTS_GROUPS_PER_ORG + row->group]; break;
        case AUDIT_FIELD_ROLE:      value = self->role_ids [row->role]; break;
        case AUDIT_FIELD_RETENTION_DAYS: value = 30; break;
        default:                    value = (int64_t) row->number; break;
    }
    sqlite3_bind_int64 (self->insert, param, value);
}

static int
s_bare_insert (s_bare_t *self, long index)
{
    bench_event_t row;
    bench_events_make (&s_events, index, &row);
    const audit_event_info_t *info = audit_proto_event_info ((audit_event_type_t) row.type);
    audit_field_mask_t present = info->required | info->optional;
    sqlite3_bind_blob (self->key_insert, 1, row.uuid, AUDIT_UUID_SIZE, SQLITE_STATIC);
    int key = sqlite3_step (self->key_insert);
    sqlite3_reset (self->key_insert);
    if (key != SQLITE_DONE)
        return -1;
    sqlite3_bind_int64 (self->insert, 1, self->org_ids [row.org]);
    sqlite3_bind_int64 (self->insert, 2, row.ts);
    sqlite3_bind_int64 (self->insert, 3, row.ts + 3);
    sqlite3_bind_int (self->insert, 4, row.type);
    sqlite3_bind_int64 (self->insert, 5, self->user_ids [row.org * BENCH_EVENTS_USERS_PER_ORG + row.actor]);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        s_bare_bind_field (self, &row, present, (audit_field_t) field);
    sqlite3_bind_blob (self->insert, 15, row.uuid, AUDIT_UUID_SIZE, SQLITE_STATIC);
    int rc = sqlite3_step (self->insert);
    sqlite3_reset (self->insert);
    return rc == SQLITE_DONE? 0: -1;
}

static int
s_step_reset (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? 0: -1;
}

static int
s_bare_run (s_bare_t *self, const char *dir, long first, long rows, long batch,
            s_timing_t *timing)
{
    int rc = 0;
    for (long done = 0; rc == 0 && done < rows; done += batch) {
        long count = rows - done < batch? rows - done: batch;
        double start = s_now ();
        rc = s_step_reset (self->begin);
        for (long index = 0; rc == 0 && index < count; index++)
            rc = s_bare_insert (self, first + done + index);
        rc = rc? rc: s_step_reset (self->commit);
        s_timing_batch (timing, dir, count, s_now () - start);
    }
    if (rc != 0)
        fprintf (stderr, "bare loop failed: %s\n", sqlite3_errmsg (self->db));
    return rc;
}

//  --------------------------------------------------------------------------
//  Main

static int
s_copy_dir (const char *from, const char *to)
{
    char *command = zsys_sprintf ("rm -rf '%s' && cp -r '%s' '%s'", to, from, to);
    int rc = system (command);
    zstr_free (&command);
    return rc == 0? 0: -1;
}

static int
s_drop_indexes (const char *dir, const s_options_t *options)
{
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    int rc = store? 0: -1;
    for (int index = 0; rc == 0 && index <= options->drop_count; index++) {
        char sql [1024];
        if (index < options->drop_count)
            snprintf (sql, sizeof sql, "DROP INDEX %s", options->drops [index]);
        else
            snprintf (sql, sizeof sql, "%s", options->sql? options->sql: "");
        rc = sqlite3_exec (audit_store_db (store, AUDIT_DB_AUDIT), sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
            fprintf (stderr, "%s: %s\n", sql, sqlite3_errmsg (audit_store_db (store, AUDIT_DB_AUDIT)));
    }
    if (store)
        audit_store_checkpoint (store, AUDIT_DB_AUDIT);
    audit_store_destroy (&store);
    return rc;
}

//  An empty audit.db with another page size; the store's migration keeps it
static int
s_page_size_force (const char *base, long page_size)
{
    char *path = zsys_sprintf ("%s/audit.db", base);
    char *sql = zsys_sprintf ("PRAGMA page_size = %ld; PRAGMA auto_vacuum = INCREMENTAL;"
                              " PRAGMA journal_mode = WAL;", page_size);
    sqlite3 *db = NULL;
    int rc = mkdir (base, 0700) == 0 && sqlite3_open (path, &db) == SQLITE_OK
          && sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK? 0: -1;
    sqlite3_close (db);
    zstr_free (&sql);
    zstr_free (&path);
    return rc;
}

static int
s_preload (const s_options_t *options, const char *base)
{
    if (options->page_size && s_page_size_force (base, options->page_size) != 0)
        return -1;
    audit_store_t *store = audit_store_new (base, AUDIT_STORE_WRITER);
    if (!store)
        return -1;
    s_timing_t timing = { 0 };
    int rc = s_store_run (store, base, 0, options->preload, options->batch, &timing);
    audit_store_checkpoint (store, AUDIT_DB_AUDIT);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2 (audit_store_db (store, AUDIT_DB_AUDIT), "PRAGMA page_size", -1, &stmt, NULL);
    long page_size = sqlite3_step (stmt) == SQLITE_ROW? (long) sqlite3_column_int64 (stmt, 0): 0;
    sqlite3_finalize (stmt);
    audit_store_destroy (&store);
    printf ("preload      %9ld rows  %8.0f rows/s  (through the store, from empty)\n",
            options->preload, (double) options->preload / timing.seconds);
    printf ("audit.db     %9.1f MiB after preload, page size %ld\n",
            (double) bench_wal_file_size (base, "audit.db") / 1048576.0, page_size);
    return rc;
}

//  The slowest window's rate, or the overall rate of a run shorter than one
static double
s_sustained (const s_timing_t *timing, long rows)
{
    return timing->slowest_window > 0? timing->slowest_window
                                      : (double) rows / timing->seconds;
}

static void
s_report (const char *name, long rows, const s_timing_t *timing, const char *dir,
          int64_t wal_peak, long rss_kib)
{
    printf ("%-12s %9ld rows  %8.0f rows/s  slowest %ld-row window %8.0f rows/s"
            "  WAL end %5.1f MiB peak %5.1f MiB  peak RSS %5.1f MiB\n",
            name, rows, (double) rows / timing->seconds, (long) s_WINDOW_ROWS,
            s_sustained (timing, rows), (double) bench_wal_file_size (dir, "audit.db-wal") / 1048576.0,
            (double) wal_peak / 1048576.0, (double) rss_kib / 1024.0);
}

static void
s_cache_set (sqlite3 *db, long cache_kib)
{
    char sql [64];
    snprintf (sql, sizeof sql, "PRAGMA cache_size = -%ld", cache_kib);
    if (cache_kib > 0)
        sqlite3_exec (db, sql, NULL, NULL, NULL);
}

static int
s_run_bare (const s_options_t *options, const char *dir, s_timing_t *timing)
{
    s_bare_t bare = { 0 };
    if (s_bare_open (&bare, dir) != 0)
        return -1;
    s_cache_set (bare.db, options->cache_kib);
    bench_wal_t watch;
    bench_wal_start (&watch, dir);
    s_peak_rss_kib (true);
    int rc = s_bare_run (&bare, dir, options->preload, options->rows, options->batch, timing);
    long rss = s_peak_rss_kib (false);
    s_report ("bare loop", options->rows, timing, dir, bench_wal_stop (&watch), rss);
    s_bare_close (&bare);
    return rc;
}

static int
s_run_store (const s_options_t *options, const char *dir, s_timing_t *timing)
{
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    if (!store)
        return -1;
    s_cache_set (audit_store_db (store, AUDIT_DB_AUDIT), options->cache_kib);
    bench_wal_t watch;
    bench_wal_start (&watch, dir);
    s_peak_rss_kib (true);
    int rc = s_store_run (store, dir, options->preload, options->rows, options->batch, timing);
    long rss = s_peak_rss_kib (false);
    s_report ("audit_store", options->rows, timing, dir, bench_wal_stop (&watch), rss);
    audit_store_destroy (&store);
    return rc;
}

static int
s_run_both (const s_options_t *options, const char *ceiling_dir, const char *store_dir)
{
    s_timing_t ceiling = { 0 }, mine = { 0 };
    int rc = options->only == 's'? 0: s_run_bare (options, ceiling_dir, &ceiling);
    if (rc == 0 && options->only != 'b')
        rc = s_run_store (options, store_dir, &mine);
    if (rc == 0 && !options->only)
        printf ("ratio        %9.1f %% of the bare loop (sustained: %.1f %%)\n",
                100.0 * ceiling.seconds / mine.seconds,
                100.0 * s_sustained (&mine, options->rows)
                      / s_sustained (&ceiling, options->rows));
    return rc;
}

static int
s_options_parse (int argc, char **argv, s_options_t *options)
{
    int option;
    while ((option = getopt (argc, argv, "n:m:b:d:x:p:s:o:c:h")) != -1) {
        switch (option) {
            case 'n': options->preload = atol (optarg); break;
            case 'm': options->rows = atol (optarg); break;
            case 'b': options->batch = atol (optarg); break;
            case 'd': options->dir = optarg; break;
            case 'p': options->page_size = atol (optarg); break;
            case 's': options->sql = optarg; break;
            case 'o': options->only = optarg [0]; break;
            case 'c': options->cache_kib = atol (optarg); break;
            case 'x':
                if (options->drop_count < s_DROP_MAX)
                    options->drops [options->drop_count++] = optarg;
                break;
            default:
                fprintf (stderr, "usage: %s [-n preload] [-m rows] [-b batch] [-d dir]"
                         " [-x index]... [-p page_size] [-s sql] [-o bare|store] [-c cache_kib]\n", argv [0]);
                return -1;
        }
    }
    return options->preload >= 0 && options->rows > 0 && options->batch > 0? 0: -1;
}

int
main (int argc, char **argv)
{
    s_options_t options = { 1000000, 500000, 4096, 0, NULL, { NULL }, 0, NULL, 0, 0 };
    if (s_options_parse (argc, argv, &options) != 0)
        return 2;
    setvbuf (stdout, NULL, _IOLBF, 0);  //  progress shows when piped to a file
    char temp [] = "/tmp/bench-store-XXXXXX";
    const char *dir = options.dir? options.dir: mkdtemp (temp);
    if (!dir || (options.dir && mkdir (dir, 0700) != 0 && errno != EEXIST))
        return 1;
    zsys_init ();
    s_events.epoch_ms = audit_time_now_ms () - 300 * AUDIT_MS_PER_DAY;
    printf ("bench-store-ceiling: preload %ld, rows %ld, batch %ld, dir %s\n",
            options.preload, options.rows, options.batch, dir);
    char *base = zsys_sprintf ("%s/base", dir);
    char *ceiling = zsys_sprintf ("%s/ceiling", dir);
    char *store = zsys_sprintf ("%s/store", dir);
    //  A kept directory's preload is reused: experiments need not repeat it
    bool reuse = options.dir && bench_wal_file_size (base, "audit.db") > 0;
    int rc = reuse? 0: s_preload (&options, base);
    rc = rc? rc: s_copy_dir (base, ceiling) || s_copy_dir (base, store);
    rc = rc? rc: s_drop_indexes (ceiling, &options) || s_drop_indexes (store, &options);
    rc = rc? rc: s_run_both (&options, ceiling, store);
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    printf ("process      peak RSS (ru_maxrss) %.1f MiB\n", (double) usage.ru_maxrss / 1024.0);
    if (!options.dir) {
        char *command = zsys_sprintf ("rm -rf '%s'", dir);
        if (system (command) != 0)
            rc = -1;
        zstr_free (&command);
    }
    zstr_free (&base);
    zstr_free (&ceiling);
    zstr_free (&store);
    return rc? 1: 0;
}
