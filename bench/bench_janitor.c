/*  =========================================================================
    bench-janitor - how fast does the janitor delete, and what does the
    ingest worker feel meanwhile?

    1. Build (once, into a template directory that later runs copy) a data
       directory with N expired audit events (older than 365 days) and L
       live ones, by audit_store_write, the ingest worker's own path:
       100 orgs, ~1000 actors each, mixed types, one-off broadcast and
       file identifiers.
    2. Copy the template to a fresh run directory. A thread plays the
       ingest worker: its own AUDIT_STORE_WRITER store, a batch every
       INTERVAL ms sized for RATE events/s, on an absolute schedule (a
       stalled commit is followed by back-to-back ones, so the rate it
       achieves is the rate it could sustain). It runs alone for a warm-up,
       then during the janitor's full pass (janitor_pass_full, as
       `audit-janitor --once` runs it, default limits), and records how
       long every audit_store_write took (its own work included) and how
       long it waited for the lock to begin or commit its transaction
       (audit_store_lock_waited_us: the store's busy handler adds up its
       sleeps), and apart from that, how long its own checkpoints after
       the commit waited (audit_store_checkpoint_waited_us).
    3. Reports rows deleted per second (purge phase, and whole pass), how
       long the janitor's batches held the lock (a histogram), the
       longest ingest write and how many took over 100 ms, the ingest
       rate achieved and how far it ever fell behind its schedule, the WAL's peak and its size after the pass, and the
       files' sizes before and after.

    Usage: bench-janitor [-n EXPIRED] [-l LIVE] [-r RATE] [-i INTERVAL_MS]
                         [-w WARMUP_S] [-s SECONDS] [-T TARGET_MS] [-t TEMPLATE_DIR]
                         [-d RUN_DIR] [-b] [-x] [-S]
      -r 0 runs the janitor alone
      -x runs the reference instead of the janitor: plain DELETEs
         in 10,000-event chunks from a second connection, SQLite's defaults
      -s stops the pass after that many seconds (quicker runs; rates still hold)
      -T sets the janitor's batch target (JANITOR_BATCH_TARGET_MS by default)
      -S gives the template's events timestamps in no order (a shuffled
         backfill) instead of about arrival order; its own template dir
      -b only builds the template (it is built when missing, and reused
         when it is of this build's schema and holds -n + -l rows)
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <sqlite3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "audit_store.h"
#include "sqlite_store.h"
#include "bench_events.h"
#include "bench_wal.h"
#include "audit_time.h"
#include "janitor_pass.h"

#define s_ORGS              100
#define s_ACTORS_PER_ORG    1000
#define s_DEVICES_PER_ORG   2000
#define s_PRODUCER_TYPES    18          //  the first 18 types are not reserved
#define s_BUILD_BATCH       10000
#define s_SLOW_US           100000      //  the target: no commit waits longer
#define s_DAY               AUDIT_MS_PER_DAY

typedef struct {
    long expired, live, rate, interval_ms, warmup_s, seconds, target_ms;
    const char *template_dir, *run_dir;
    bool build_only, naive, shuffled;
} s_options_t;

//  Ingest write durations of one phase
typedef struct {
    long batches, events, slow;
    int64_t max_us, sum_us;
    int64_t wait_max_us, wait_sum_us;   //  in the busy handler, for the lock
    int64_t checkpoint_max_us;          //  in it, in the writer's own checkpoint
    int64_t late_max_us;                //  a batch began this long after its time
    long waited;                        //  commits that waited at all
    int64_t *samples;
    size_t sample_count, sample_room;
    int64_t started_us, ended_us;
} s_phase_t;

typedef enum { s_WARMUP, s_DURING, s_PHASES } s_phase_id_t;

typedef struct {
    pthread_t thread;
    const s_options_t *options;
    int64_t now_ms;
    atomic_bool stop;
    atomic_int phase;
    s_phase_t phases [s_PHASES];
    int failures;
} s_ingest_t;


//  --------------------------------------------------------------------------
//  Generator

static void
s_text (audit_field_t field, int org, uint64_t seed, uint64_t index, char *text)
{
    switch (field) {
        case AUDIT_FIELD_USER_ID:   sprintf (text, "usr_%03d_%06d", org, (int) (seed % s_ACTORS_PER_ORG)); break;
        case AUDIT_FIELD_DEVICE_ID: sprintf (text, "dev_%03d_%06d", org, (int) (seed % s_DEVICES_PER_ORG)); break;
        case AUDIT_FIELD_GROUP_ID:  sprintf (text, "grp_%03d_%04d", org, (int) (seed % 50)); break;
        case AUDIT_FIELD_ROLE:      sprintf (text, "role_%d", (int) (seed % 5)); break;
        case AUDIT_FIELD_BROADCAST_ID: sprintf (text, "bc_%012" PRIu64, index); break;
        default:                    sprintf (text, "file_%012" PRIu64, index); break;
    }
}

//  Event number index (unique across the run) at time ts
static void
s_record_make (uint64_t index, int64_t ts, audit_record_t *record)
{
    uint64_t seed = bench_events_mix (index), more = bench_events_mix (seed);
    int org = (int) (seed % s_ORGS);
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = ts + 3;
    audit_event_t *event = &record->u.event;
    uint64_t halves [2] = { bench_events_mix (more), bench_events_mix (more + 1) };
    memcpy (event->event_id, halves, sizeof halves);
    event->type = (audit_event_type_t) ((seed >> 8) % s_PRODUCER_TYPES);
    event->timestamp_ms = ts;
    sprintf (event->org_id, "org_%03d", org);
    sprintf (event->actor_id, "usr_%03d_%06d", org, (int) ((seed >> 16) % s_ACTORS_PER_ORG));
    const audit_event_info_t *info = audit_proto_event_info (event->type);
    event->present = info->required | info->optional;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        if (!(event->present & AUDIT_FIELD_BIT (field)))
            continue;
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT)
            event->number [field] = field == AUDIT_FIELD_RETENTION_DAYS? 30: more % 100000;
        else
            s_text ((audit_field_t) field, org, more >> (field * 3), index, event->text [field]);
    }
}

//  --------------------------------------------------------------------------
//  Files

static int
s_copy (const char *from_dir, const char *to_dir, const char *file)
{
    char from [1024], to [1024];
    snprintf (from, sizeof from, "%s/%s", from_dir, file);
    snprintf (to, sizeof to, "%s/%s", to_dir, file);
    FILE *in = fopen (from, "rb"), *out = fopen (to, "wb");
    static char buffer [1 << 20];
    size_t size;
    int rc = in && out? 0: -1;
    while (rc == 0 && (size = fread (buffer, 1, sizeof buffer, in)) > 0)
        rc = fwrite (buffer, 1, size, out) == size? 0: -1;
    if (in)
        fclose (in);
    if (out && fclose (out) != 0)
        rc = -1;
    return rc;
}

static const char *s_files [AUDIT_DB_COUNT] = { "audit.db", "ops.db", "queue.db" };

//  The timestamp of template event n: expired ones over the 30 days before
//  366 days ago, live ones over the 270 days before 30 days ago. In about
//  the order of n, as the ingest worker stores a live feed (its events
//  arrive in about timestamp order: here within 5 s); with -S in no order
//  at all, like a backfill of shuffled history: with the table clustered
//  on (org, ts, log_index) an org's expired rows are still one range at
//  the front of its key, but the live ones were inserted between them
static int64_t
s_template_ts (const s_options_t *options, long n, int64_t now_ms)
{
    bool expired = n < options->expired;
    long first = expired? 0: options->expired;
    long count = expired? options->expired: options->live;
    int64_t start = expired? now_ms - 396 * s_DAY: now_ms - 300 * s_DAY;
    int64_t span = expired? 30 * s_DAY: 270 * s_DAY;
    if (options->shuffled)
        return start + (int64_t) (bench_events_mix ((uint64_t) n + 7) % (uint64_t) span);
    int64_t jitter = (int64_t) (bench_events_mix ((uint64_t) n + 7) % 10000) - 5000;
    int64_t ts = start + span * (n - first) / (count > 0? count: 1) + jitter;
    return ts < start? start: ts;
}

//  Fill the template: expired rows older than 365 days, live ones within
static int
s_template_build (const s_options_t *options, int64_t now_ms)
{
    audit_store_t *store = audit_store_new (options->template_dir, AUDIT_STORE_WRITER);
    audit_record_t *records = calloc (s_BUILD_BATCH, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (s_BUILD_BATCH, sizeof *outcomes);
    int rc = store && records && outcomes? 0: -1;
    long total = options->expired + options->live;
    int64_t start = zclock_mono ();
    for (long done = 0; rc == 0 && done < total; done += s_BUILD_BATCH) {
        long count = total - done < s_BUILD_BATCH? total - done: s_BUILD_BATCH;
        for (long index = 0; index < count; index++) {
            long n = done + index;
            int64_t ts = s_template_ts (options, n, now_ms);
            s_record_make ((uint64_t) n, ts, &records [index]);
        }
        rc = audit_store_write (store, records, (size_t) count, outcomes, NULL);
        if ((done / s_BUILD_BATCH) % 50 == 0)
            fprintf (stderr, "  template: %ld of %ld rows\n", done + count, total);
    }
    fprintf (stderr, "  template built in %.1f s\n", (zclock_mono () - start) / 1000.0);
    audit_store_destroy (&store);
    free (records);
    free (outcomes);
    return rc;
}

//  --------------------------------------------------------------------------
//  The ingest worker

static void
s_phase_add (s_phase_t *phase, long events, int64_t took_us, int64_t waited_us,
             int64_t checkpoint_us)
{
    if (checkpoint_us > phase->checkpoint_max_us)
        phase->checkpoint_max_us = checkpoint_us;
    phase->wait_sum_us += waited_us;
    phase->waited += waited_us > 0;
    if (waited_us > phase->wait_max_us)
        phase->wait_max_us = waited_us;
    phase->batches++;
    phase->events += events;
    phase->sum_us += took_us;
    phase->slow += took_us > s_SLOW_US;
    if (took_us > phase->max_us)
        phase->max_us = took_us;
    if (phase->sample_count == phase->sample_room) {
        phase->sample_room = phase->sample_room? phase->sample_room * 2: 1024;
        phase->samples = realloc (phase->samples, phase->sample_room * sizeof (int64_t));
    }
    phase->samples [phase->sample_count++] = took_us;
}

static void *
s_ingest_run (void *arg)
{
    s_ingest_t *self = (s_ingest_t *) arg;
    const s_options_t *options = self->options;
    audit_store_t *store = audit_store_new (options->run_dir, AUDIT_STORE_WRITER);
    long per_batch = options->rate * options->interval_ms / 1000;
    audit_record_t *records = calloc ((size_t) per_batch, sizeof *records);
    audit_store_outcome_t *outcomes = calloc ((size_t) per_batch, sizeof *outcomes);
    uint64_t next_index = 1ULL << 40;   //  clear of the template's events
    int64_t next_us = zclock_usecs ();
    while (store && !atomic_load (&self->stop)) {
        int64_t wait = next_us - zclock_usecs ();
        if (wait > 0)
            usleep ((useconds_t) wait);
        int64_t ts = audit_time_now_ms ();
        for (long index = 0; index < per_batch; index++)
            s_record_make (next_index++, ts, &records [index]);
        int phase = atomic_load (&self->phase);
        int64_t start = zclock_usecs ();
        if (phase < s_PHASES && start - next_us > self->phases [phase].late_max_us)
            self->phases [phase].late_max_us = start - next_us;
        audit_store_lock_waited_us (store);
        audit_store_checkpoint_waited_us (store);
        if (audit_store_write (store, records, (size_t) per_batch, outcomes, NULL) != 0)
            self->failures++;
        int64_t took = zclock_usecs () - start;
        if (phase < s_PHASES)
            s_phase_add (&self->phases [phase], per_batch, took, audit_store_lock_waited_us (store),
                         audit_store_checkpoint_waited_us (store));
        next_us += options->interval_ms * 1000;
    }
    audit_store_destroy (&store);
    free (records);
    free (outcomes);
    return NULL;
}

static void
s_phase_switch (s_ingest_t *self, int next)
{
    int64_t now = zclock_usecs ();
    int current = atomic_load (&self->phase);
    if (current < s_PHASES)
        self->phases [current].ended_us = now;
    if (next < s_PHASES)
        self->phases [next].started_us = now;
    atomic_store (&self->phase, next);
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return x < y? -1: x > y;
}

static void
s_phase_print (const char *name, s_phase_t *phase)
{
    double seconds = (phase->ended_us - phase->started_us) / 1e6;
    qsort (phase->samples, phase->sample_count, sizeof (int64_t), s_compare);
    int64_t p50 = phase->sample_count? phase->samples [phase->sample_count / 2]: 0;
    int64_t p99 = phase->sample_count? phase->samples [phase->sample_count * 99 / 100]: 0;
    printf ("  ingest %-6s %5.1f s %6.0f events/s, %4ld commits; lock wait: %ld commits"
            " waited, max %5.1f ms; its own checkpoints waited max %5.1f ms;"
            " whole write ms: p50 %5.1f p99 %5.1f max %5.1f"
            " (over 100 ms: %ld); writing %.0f%% of the time; furthest behind its"
            " schedule %.1f ms\n", name, seconds,
            seconds > 0? phase->events / seconds: 0, phase->batches, phase->waited,
            phase->wait_max_us / 1000.0, phase->checkpoint_max_us / 1000.0,
            p50 / 1000.0, p99 / 1000.0, phase->max_us / 1000.0,
            phase->slow, seconds > 0? phase->sum_us / seconds / 1e4: 0,
            phase->late_max_us / 1000.0);
}

//  --------------------------------------------------------------------------
//  The run

static void
s_sizes (const char *dir, const char *when)
{
    printf ("  files %-7s", when);
    for (int db = 0; db < AUDIT_DB_COUNT; db++) {
        char wal [64];
        snprintf (wal, sizeof wal, "%s-wal", s_files [db]);
        printf ("  %s %7.1f MiB (wal %5.1f)", s_files [db], bench_wal_file_size (dir, s_files [db]) / 1048576.0,
                bench_wal_file_size (dir, wal) / 1048576.0);
    }
    printf ("\n");
}

//  A template is reused only when it is of this build's schema and holds
//  the rows asked for (every stored event took its org's next log_index);
//  else it is built again, so that no run measures a migration
static bool
s_template_usable (const s_options_t *options)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/audit.db", options->template_dir);
    sqlite3 *db = NULL;
    int64_t version = -1, rows = -1;
    if (bench_wal_file_size (options->template_dir, "audit.db") > 0
    &&  sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *stmt = NULL;
        if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK
        &&  sqlite3_step (stmt) == SQLITE_ROW)
            version = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
        stmt = NULL;
        if (version == audit_schema_version (AUDIT_DB_AUDIT)
        &&  sqlite3_prepare_v2 (db, "SELECT coalesce (sum (next_index), 0) FROM org", -1,
                                &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
            rows = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    sqlite3_close (db);
    return rows == options->expired + options->live;
}

static int
s_template_ready (const s_options_t *options, int64_t now_ms)
{
    if (s_template_usable (options))
        return 0;
    char command [2048];
    snprintf (command, sizeof command, "rm -rf '%s'", options->template_dir);
    if (system (command) != 0 || mkdir (options->template_dir, 0700) != 0)
        return -1;
    fprintf (stderr, "  building the template in %s\n", options->template_dir);
    return s_template_build (options, now_ms);
}

static int
s_prepare_run (const s_options_t *options, int64_t now_ms)
{
    if (s_template_ready (options, now_ms) != 0)
        return -1;
    char command [2048];
    snprintf (command, sizeof command, "rm -rf '%s'", options->run_dir);
    if (system (command) != 0 || mkdir (options->run_dir, 0700) != 0)
        return -1;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        if (s_copy (options->template_dir, options->run_dir, s_files [db]) != 0)
            return -1;
    return 0;
}

static void
s_report (const janitor_report_t *report, int rc, bool naive)
{
    long deleted = (long) report->deleted [AUDIT_DB_AUDIT];
    printf ("  %s: rc %d, %ld rows deleted in %d slices, %ld batches"
            " (largest %ld rows, longest lock hold %.1f ms)\n",
            naive? "reference (plain DELETE, 10,000-row chunks)": "janitor full pass", rc, deleted, report->slices,
            (long) report->batches, (long) report->rows_max, report->hold_max_us / 1000.0);
    static const int bounds [JANITOR_HOLD_BUCKETS] = JANITOR_HOLD_BOUNDS_MS;
    printf ("  lock holds:");
    for (int bucket = 0; bucket < JANITOR_HOLD_BUCKETS - 1; bucket++)
        printf ("  <=%d ms %ld", bounds [bucket], (long) report->holds [bucket]);
    printf ("  longer %ld", (long) report->holds [JANITOR_HOLD_BUCKETS - 1]);
    printf ("\n");
    printf ("  janitor time in batches: %.1f s holding locks, %.1f s waiting for them,"
            " %.1f s in pauses and checkpoints\n", report->hold_us / 1e6, report->wait_us / 1e6,
            report->pause_us / 1e6);
    printf ("  purge %.1f s = %.0f rows/s;  sweep %.1f s (%ld idents, %ld orgs);"
            "  reclaim %.1f s (%ld pages);  whole pass %.1f s = %.0f rows/s\n",
            report->purge_ms / 1000.0, deleted * 1000.0 / (report->purge_ms? report->purge_ms: 1),
            report->sweep_ms / 1000.0, (long) report->idents_swept, (long) report->orgs_swept,
            report->reclaim_ms / 1000.0, (long) report->vacuumed_pages,
            report->elapsed_ms / 1000.0, deleted * 1000.0 / (report->elapsed_ms? report->elapsed_ms: 1));
}

//  The reference: plain DELETEs of 10,000 expired events, each chunk its
//  own transaction, back to back, SQLite's
//  automatic checkpoint and busy handler; secure_delete on, as privacy
//  needs it anyway
static int
s_naive_run (const s_options_t *options, int64_t now_ms, int64_t deadline,
             janitor_report_t *report)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/audit.db", options->run_dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *rows = NULL;
    int rc = sqlite3_open (path, &db) == SQLITE_OK? 0: -1;
    sqlite3_busy_timeout (db, AUDIT_STORE_BUSY_TIMEOUT_MS);
    sqlite3_exec (db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
    if (rc == 0 && sqlite3_prepare_v2 (db, "DELETE FROM event WHERE (org, ts, log_index) IN"
                                       " (SELECT org, ts, log_index FROM event WHERE ts < ?1"
                                       " LIMIT 10000)", -1, &rows, NULL))
        rc = -1;
    sqlite3_bind_int64 (rows, 1, now_ms - 365 * s_DAY);
    int64_t started = zclock_mono (), changes = 1;
    while (rc == 0 && changes > 0 && !(deadline && zclock_mono () >= deadline)) {
        int64_t start = zclock_usecs ();
        rc = sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK? 0: -1;
        rc = rc? rc: sqlite3_step (rows) == SQLITE_DONE? 0: -1;
        sqlite3_reset (rows);
        changes = rc == 0? sqlite3_changes (db): 0;
        rc = rc? rc: sqlite3_exec (db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK? 0: -1;
        int64_t held = zclock_usecs () - start;
        report->deleted [AUDIT_DB_AUDIT] += changes;
        report->batches++;
        report->hold_us += held;
        report->hold_max_us = held > report->hold_max_us? held: report->hold_max_us;
        report->rows_max = changes > report->rows_max? changes: report->rows_max;
    }
    report->purge_ms = report->elapsed_ms = zclock_mono () - started;
    report->slices = 1;
    sqlite3_finalize (rows);
    sqlite3_close (db);
    return rc;
}

static bool
s_deadline_passed (void *arg)
{
    return zclock_mono () >= *(int64_t *) arg;
}

//  The janitor's full pass (or the reference) with the WAL watched;
//  *wal_after gets the WAL's size right after it. The pass's return code.
static int
s_delete (const s_options_t *options, s_ingest_t *ingest, janitor_report_t *report,
          int64_t *wal_peak, int64_t *wal_after)
{
    bench_wal_t watch;
    bench_wal_start (&watch, options->run_dir);
    audit_store_t *store = audit_store_new (options->run_dir, AUDIT_STORE_MAINTAINER);
    janitor_limits_t limits;
    janitor_limits_default (&limits);
    limits.batch_target_ms = (int) options->target_ms;
    janitor_pass_t *pass = store? janitor_pass_new (store, &limits): NULL;
    int64_t deadline = options->seconds? zclock_mono () + options->seconds * 1000: 0;
    if (pass && deadline)
        janitor_pass_set_stop (pass, s_deadline_passed, &deadline);
    s_phase_switch (ingest, s_DURING);
    int rc = options->naive? s_naive_run (options, audit_time_now_ms (), deadline, report)
           : pass? janitor_pass_full (pass, audit_time_now_ms (), report): -1;
    s_phase_switch (ingest, s_PHASES);
    *wal_after = bench_wal_file_size (options->run_dir, "audit.db-wal");
    *wal_peak = bench_wal_stop (&watch);
    janitor_pass_destroy (&pass);
    audit_store_destroy (&store);
    return rc;
}

static int
s_run (const s_options_t *options)
{
    int64_t now_ms = audit_time_now_ms ();
    if (s_prepare_run (options, now_ms) != 0) {
        fprintf (stderr, "bench-janitor: cannot prepare %s\n", options->run_dir);
        return 1;
    }
    s_sizes (options->run_dir, "before");
    s_ingest_t ingest = { .options = options, .now_ms = now_ms };
    s_phase_switch (&ingest, s_WARMUP);
    bool with_ingest = options->rate > 0;
    if (with_ingest) {
        pthread_create (&ingest.thread, NULL, s_ingest_run, &ingest);
        zclock_sleep ((int) options->warmup_s * 1000);
    }
    janitor_report_t report = { .slices = 0 };
    int64_t wal_peak = 0, wal_after = 0;
    int rc = s_delete (options, &ingest, &report, &wal_peak, &wal_after);
    atomic_store (&ingest.stop, true);
    if (with_ingest)
        pthread_join (ingest.thread, NULL);
    s_report (&report, rc, options->naive);
    s_phase_print ("alone", &ingest.phases [s_WARMUP]);
    s_phase_print ("during", &ingest.phases [s_DURING]);
    printf ("  audit.db WAL: peak %.1f MiB during the pass, %.1f MiB right after it;"
            " ingest write failures %d\n", wal_peak / 1048576.0, wal_after / 1048576.0,
            ingest.failures);
    s_sizes (options->run_dir, "after");
    for (int phase = 0; phase < s_PHASES; phase++)
        free (ingest.phases [phase].samples);
    //  A pass stopped by -s is a sample, not a failure
    return rc == 0 || (options->seconds && rc == 1)? 0: 1;
}

int
main (int argc, char **argv)
{
    s_options_t options = { 2000000, 200000, 20000, 50, 2, 0, JANITOR_BATCH_TARGET_MS,
                            NULL, "/tmp/bench-janitor-run", false, false, false };
    int option;
    while ((option = getopt (argc, argv, "n:l:r:i:w:s:T:t:d:bxS")) != -1)
        switch (option) {
            case 'n': options.expired = atol (optarg); break;
            case 'l': options.live = atol (optarg); break;
            case 'r': options.rate = atol (optarg); break;
            case 'i': options.interval_ms = atol (optarg); break;
            case 'w': options.warmup_s = atol (optarg); break;
            case 's': options.seconds = atol (optarg); break;
            case 'T': options.target_ms = atol (optarg); break;
            case 't': options.template_dir = optarg; break;
            case 'd': options.run_dir = optarg; break;
            case 'b': options.build_only = true; break;
            case 'x': options.naive = true; break;
            case 'S': options.shuffled = true; break;
            default:
                fprintf (stderr, "usage: bench-janitor [-n EXPIRED] [-l LIVE] [-r RATE]"
                         " [-i INTERVAL_MS] [-w WARMUP_S] [-s SECONDS] [-T TARGET_MS] [-t TEMPLATE_DIR]"
                         " [-d RUN_DIR] [-b] [-x] [-S]\n");
                return 2;
        }
    if (!options.template_dir)
        options.template_dir = options.shuffled? "/tmp/bench-janitor-template-shuffled"
                                               : "/tmp/bench-janitor-template";
    zsys_init ();
    if (options.build_only)
        return s_template_ready (&options, audit_time_now_ms ()) == 0? 0: 1;
    printf ("bench-janitor: %ld expired + %ld live rows, ingest %ld events/s in batches"
            " every %ld ms, batch target %ld ms, timestamps %s\n", options.expired, options.live,
            options.rate, options.interval_ms, options.target_ms,
            options.shuffled? "shuffled (-S)": "in arrival order");
    return s_run (&options);
}
