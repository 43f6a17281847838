/*  =========================================================================
    bench_monitor - what the ingest worker has committed, and how late
    ========================================================================= */

#include "bench_monitor.h"

#include <czmq.h>
#include <sqlite3.h>

#include "audit_time.h"
#include "bench_wal.h"

long
bench_monitor_status_kib (pid_t pid, const char *field)
{
    char path [64], line [256];
    snprintf (path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    long value = -1;
    while (file && fgets (line, sizeof line, file))
        if (strncmp (line, field, strlen (field)) == 0)
            value = strtol (line + strlen (field) + 1, NULL, 10);
    if (file)
        fclose (file);
    return value;
}

static void
s_monitor_sample (bench_monitor_t *self)
{
    int64_t wal = bench_wal_file_size (self->dir, "audit.db-wal");
    if (wal > atomic_load (&self->wal_peak))
        atomic_store (&self->wal_peak, wal);
    long rss = bench_monitor_status_kib (self->worker, "VmRSS:");
    if (rss > atomic_load (&self->rss_peak_kib))
        atomic_store (&self->rss_peak_kib, rss);
}

//  Every organisation's next_index into now_index; their sum
static int64_t
s_monitor_orgs (bench_monitor_t *self, sqlite3_stmt *orgs)
{
    int64_t total = 0;
    while (sqlite3_step (orgs) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64 (orgs, 0), next = sqlite3_column_int64 (orgs, 1);
        if (id >= self->org_room) {
            int64_t room = id * 2 + 64;
            self->last = realloc (self->last, (size_t) room * sizeof (int64_t));
            self->now_index = realloc (self->now_index, (size_t) room * sizeof (int64_t));
            for (int64_t at = self->org_room; at < room; at++)
                self->last [at] = self->now_index [at] = 0;
            self->org_room = room;
        }
        self->now_index [id] = next;
        total += next;
    }
    sqlite3_reset (orgs);
    return total;
}

//  The timestamps of the rows that organisations gained since the last read
static void
s_monitor_rows (bench_monitor_t *self, sqlite3_stmt *rows, int64_t now)
{
    for (int64_t id = 0; id < self->org_room; id++) {
        if (self->now_index [id] > self->last [id] && atomic_load (&self->mode) == BENCH_MONITOR_ROWS) {
            sqlite3_bind_int64 (rows, 1, id);
            sqlite3_bind_int64 (rows, 2, self->last [id]);
            sqlite3_bind_int64 (rows, 3, self->now_index [id]);
            sqlite3_bind_int64 (rows, 4, now - BENCH_MONITOR_LOOKBACK_MS);
            while (sqlite3_step (rows) == SQLITE_ROW) {
                long count = atomic_load (&self->latency_count);
                if (count < self->latency_capacity)
                    self->latency [count] = now - sqlite3_column_int64 (rows, 0);
                atomic_store (&self->latency_count, count + 1);
            }
            sqlite3_reset (rows);
        }
        self->last [id] = self->now_index [id];
    }
}

static void
s_monitor_seen (bench_monitor_t *self, int64_t total, int64_t now)
{
    long seen = (long) (total - self->base_total);
    if (seen != atomic_load (&self->seen))
        atomic_store (&self->last_seen_ms, now);
    atomic_store (&self->seen, seen);
    long window = (seen - self->window_base) / BENCH_MONITOR_WINDOW;
    for (long at = window; atomic_load (&self->windows_on) && at > 0 && at < BENCH_MONITOR_WINDOWS_MAX
                        && self->window_ms [at] == 0; at--)
        self->window_ms [at] = now;
}

static void *
s_monitor_run (void *arg)
{
    bench_monitor_t *self = (bench_monitor_t *) arg;
    char path [700];
    snprintf (path, sizeof path, "%s/audit.db", self->dir);
    sqlite3 *db;
    sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_busy_timeout (db, 1000);
    sqlite3_stmt *orgs, *rows;
    sqlite3_prepare_v2 (db, "SELECT id, next_index FROM org", -1, &orgs, NULL);
    //  Schema 7 has neither a leaf table nor an index on log_index: the
    //  new rows are found through the key (org, ts), from ts ten seconds
    //  back (an event is published with its own time as ts), then by their
    //  log_index. A latency over ten seconds would go unseen, and show as
    //  stored rows missing from the count.
    sqlite3_prepare_v2 (db, "SELECT ts FROM event WHERE org = ?1 AND ts >= ?4"
                        " AND log_index >= ?2 AND log_index < ?3", -1, &rows, NULL);
    self->base_total = s_monitor_orgs (self, orgs);
    s_monitor_rows (self, rows, 0);
    while (!atomic_load (&self->stop)) {
        bool by_rows = atomic_load (&self->mode) == BENCH_MONITOR_ROWS;
        sqlite3_exec (db, "BEGIN", NULL, NULL, NULL);
        int64_t total = s_monitor_orgs (self, orgs), now = audit_time_now_ms ();
        s_monitor_rows (self, rows, now);
        sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
        s_monitor_seen (self, total, now);
        s_monitor_sample (self);
        zclock_sleep (by_rows? BENCH_MONITOR_ROWS_MS: BENCH_MONITOR_COUNT_MS);
    }
    sqlite3_finalize (orgs);
    sqlite3_finalize (rows);
    sqlite3_close (db);
    return NULL;
}

double
bench_monitor_slowest (bench_monitor_t *monitor, int64_t start)
{
    double slowest = 0;
    int64_t previous = start;
    for (long at = 1; at < BENCH_MONITOR_WINDOWS_MAX && monitor->window_ms [at]; at++) {
        double rate = BENCH_MONITOR_WINDOW * 1000.0 / (double) (monitor->window_ms [at] - previous + 1);
        slowest = slowest == 0 || rate < slowest? rate: slowest;
        previous = monitor->window_ms [at];
    }
    return slowest;
}

void
bench_monitor_wait (bench_monitor_t *self, long want)
{
    while (atomic_load (&self->seen) < want
       &&  audit_time_now_ms () - atomic_load (&self->last_seen_ms) < 5000)
        zclock_sleep (2);
}

void
bench_monitor_start (bench_monitor_t *self)
{
    pthread_create (&self->thread, NULL, s_monitor_run, self);
}

void
bench_monitor_stop (bench_monitor_t *self)
{
    atomic_store (&self->stop, true);
    pthread_join (self->thread, NULL);
}
