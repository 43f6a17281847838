/*  =========================================================================
    bench-ingest - the ingest worker end to end, as producers see it

    1. Preload N0 events (default 1,000,000) into a fresh data directory
       through audit_store_write, so the run starts from a populated store.
    2. Start the real audit-ingest on 127.0.0.1 and connect a PUB socket.
    3. Throughput: publish M realistic events (mixed types, 100 orgs, a
       producer_id and seq) as fast as one publisher can, and time until
       every one is visible in audit.db. Loss = published - stored.
    4. Latency: publish at R events/s (default 10,000) for S seconds; each
       event's timestamp is its publish time, and a reader polling audit.db
       every 2 ms sees it committed: the difference is publish-to-stored.
    Throughout, the WAL size and the worker's RSS are sampled; the peak RSS
    is the kernel's VmHWM at the end.

    Usage: bench-ingest [-n N0] [-m M] [-r RATE] [-s SECONDS] [-d DIR]
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <msgpack.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit_decode.h"
#include "audit_store.h"
#include "sqlite_store.h"
#include "audit_time.h"

#define s_ORGS          100
#define s_ACTORS        1000        //  per organisation
#define s_POLL_MS       2
#define s_BATCH         4096

typedef struct {
    long preload, events, rate, seconds;
    char dir [512];
    bool decode_only;               //  -D
} s_options_t;

//  What the monitor thread sees
typedef struct {
    pthread_t thread;
    char dir [512];
    pid_t worker;
    atomic_bool stop;
    atomic_long seen;               //  rows committed since the start
    atomic_llong last_seen_ms;
    atomic_llong wal_peak;
    atomic_long rss_peak_kib;
    int64_t *latency;               //  ms, per row, in commit order
    long latency_capacity;
    int64_t base_id;                //  rows with larger ids are ours
} s_monitor_t;

static uint64_t s_seq;
static uint64_t s_run_salt;             //  differs per run: ids never repeat

//  splitmix64's finaliser: a bijection, so distinct n give distinct ids
static uint64_t
s_mix (uint64_t value)
{
    value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ull;
    value = (value ^ (value >> 27)) * 0x94d049bb133111ebull;
    return value ^ (value >> 31);
}

static void
s_pack_str (msgpack_packer *packer, const char *key, const char *value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_str_with_body (packer, value, strlen (value));
}

static void
s_pack_ts (msgpack_packer *packer, int64_t ms)
{
    uint64_t seconds = (uint64_t) (ms / 1000), nanos = (uint64_t) (ms % 1000) * 1000000;
    uint64_t packed = (nanos << 34) | seconds;
    uint8_t body [8];
    for (int index = 7; index >= 0; index--, packed >>= 8)
        body [index] = (uint8_t) packed;
    msgpack_pack_str_with_body (packer, "timestamp", 9);
    msgpack_pack_ext (packer, 8, -1);
    msgpack_pack_ext_body (packer, body, 8);
}

//  A value for a resource field of event number n
static void
s_field_value (audit_field_t field, uint64_t n, char *text, uint64_t *number)
{
    switch (field) {
        case AUDIT_FIELD_USER_ID:   snprintf (text, 64, "user-%04d", (int) (n * 7 % s_ACTORS)); break;
        case AUDIT_FIELD_DEVICE_ID: snprintf (text, 64, "dev-%05d", (int) (n * 13 % 20000)); break;
        case AUDIT_FIELD_GROUP_ID:  snprintf (text, 64, "grp-%02d", (int) (n % 50)); break;
        case AUDIT_FIELD_ROLE:      snprintf (text, 64, "member"); break;
        case AUDIT_FIELD_BROADCAST_ID: snprintf (text, 64, "bc-%llu", (unsigned long long) n); break;
        case AUDIT_FIELD_FILE_REF:  snprintf (text, 64, "file-%llu", (unsigned long long) n); break;
        default: *number = n % 5000 + 1; break;
    }
}

//  One realistic event into buffer: mixed types, 100 orgs
static void
s_pack_event (msgpack_sbuffer *buffer, uint64_t n, int64_t ms)
{
    msgpack_sbuffer_clear (buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    audit_event_type_t type = (audit_event_type_t) (n * 2654435761u % 18);
    const audit_event_info_t *info = audit_proto_event_info (type);
    char org [16], actor [16], id [40];
    snprintf (org, sizeof org, "org-%03d", (int) (n % s_ORGS));
    snprintf (actor, sizeof actor, "user-%04d", (int) (n * 31 % s_ACTORS));
    //  Random-looking like a real version 4 UUID, so the unique index takes
    //  inserts all over, as it does in production; unique per n and run
    uint64_t high = s_mix (n ^ s_run_salt), low = s_mix (high + n);
    snprintf (id, sizeof id, "%08x-%04x-4%03x-8%03x-%012llx", (unsigned) (high >> 32),
              (unsigned) ((high >> 16) & 0xffff), (unsigned) (high & 0xfff),
              (unsigned) (low >> 52), (unsigned long long) (low & 0xffffffffffffull));
    msgpack_pack_map (&packer, 8 + (uint32_t) __builtin_popcount (info->required));
    msgpack_pack_str_with_body (&packer, "v", 1);
    msgpack_pack_uint8 (&packer, 1);
    s_pack_str (&packer, "event_id", id);
    s_pack_str (&packer, "event_type", info->name);
    s_pack_ts (&packer, ms);
    s_pack_str (&packer, "org_id", org);
    s_pack_str (&packer, "actor_id", actor);
    s_pack_str (&packer, "producer_id", "bench");
    msgpack_pack_str_with_body (&packer, "seq", 3);
    msgpack_pack_uint64 (&packer, ++s_seq);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        if (!(info->required & AUDIT_FIELD_BIT (field)))
            continue;
        char text [64];
        uint64_t number = 0;
        s_field_value ((audit_field_t) field, n, text, &number);
        const char *key = audit_proto_field_info ((audit_field_t) field)->key;
        if (audit_proto_field_info ((audit_field_t) field)->kind == AUDIT_KIND_UINT) {
            msgpack_pack_str_with_body (&packer, key, strlen (key));
            msgpack_pack_uint64 (&packer, number);
        }
        else
            s_pack_str (&packer, key, text);
    }
}

static void
s_publish (zsock_t *pub, msgpack_sbuffer *buffer)
{
    zmq_send (zsock_resolve (pub), "audit", 5, ZMQ_SNDMORE);
    zmq_send (zsock_resolve (pub), buffer->data, buffer->size, 0);
}

//  Preload through the store itself: decode generated bodies, write batches
static int
s_preload (const char *dir, long count)
{
    audit_store_t *store = audit_store_new (dir, AUDIT_STORE_WRITER);
    if (!store)
        return -1;
    audit_record_t *records = calloc (s_BATCH, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (s_BATCH, sizeof *outcomes);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int64_t now = audit_time_now_ms ();
    int rc = 0;
    for (long done = 0; rc == 0 && done < count; ) {
        size_t fill = 0;
        for (; fill < s_BATCH && done < count; fill++, done++) {
            audit_decode_info_t info;
            s_pack_event (&buffer, (uint64_t) done, now - (count - done) * 10);
            records [fill].received_ms = now;
            if (audit_decode_record (AUDIT_TOPIC_KIND_AUDIT, buffer.data, buffer.size, now,
                                     &records [fill], &info) != 0)
                return -1;
        }
        rc = audit_store_write (store, records, fill, outcomes, NULL);
    }
    msgpack_sbuffer_destroy (&buffer);
    free (records);
    free (outcomes);
    audit_store_checkpoint (store, AUDIT_DB_AUDIT);
    audit_store_destroy (&store);
    return rc;
}

static long
s_status_kib (pid_t pid, const char *field)
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
s_monitor_sample (s_monitor_t *self)
{
    char path [600];
    snprintf (path, sizeof path, "%s/audit.db-wal", self->dir);
    struct stat info;
    if (stat (path, &info) == 0 && info.st_size > atomic_load (&self->wal_peak))
        atomic_store (&self->wal_peak, info.st_size);
    long rss = s_status_kib (self->worker, "VmRSS:");
    if (rss > atomic_load (&self->rss_peak_kib))
        atomic_store (&self->rss_peak_kib, rss);
}

//  Rows become visible when their transaction commits: note each one's age
static void *
s_monitor_run (void *arg)
{
    s_monitor_t *self = (s_monitor_t *) arg;
    char path [600];
    snprintf (path, sizeof path, "%s/audit.db", self->dir);
    sqlite3 *db;
    sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_busy_timeout (db, 1000);
    sqlite3_stmt *stmt;
    sqlite3_prepare_v2 (db, "SELECT id, ts FROM event WHERE id > ?1 ORDER BY id", -1, &stmt, NULL);
    int64_t last_id = self->base_id;
    while (!atomic_load (&self->stop)) {
        sqlite3_bind_int64 (stmt, 1, last_id);
        int64_t now = audit_time_now_ms ();
        while (sqlite3_step (stmt) == SQLITE_ROW) {
            last_id = sqlite3_column_int64 (stmt, 0);
            long seen = atomic_load (&self->seen);
            if (seen < self->latency_capacity)
                self->latency [seen] = now - sqlite3_column_int64 (stmt, 1);
            atomic_store (&self->seen, seen + 1);
            atomic_store (&self->last_seen_ms, now);
        }
        sqlite3_reset (stmt);
        s_monitor_sample (self);
        zclock_sleep (s_POLL_MS);
    }
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return NULL;
}

static int64_t
s_scalar (const char *dir, const char *file, const char *sql)
{
    char path [600];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    sqlite3 *db;
    int64_t value = -1;
    if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *stmt;
        if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
            value = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    sqlite3_close (db);
    return value;
}

static pid_t
s_start_worker (const char *dir, const char *endpoint)
{
    pid_t pid = fork ();
    if (pid == 0) {
        char log [600];
        snprintf (log, sizeof log, "%s/ingest.log", dir);
        if (!freopen (log, "a", stderr))
            _exit (127);
        execl (AUDIT_BIN_DIR "/audit-ingest", "audit-ingest", "--data-dir", dir,
               "--ingest-endpoint", endpoint, "--log-level", "warn", (char *) NULL);
        _exit (127);
    }
    return pid;
}

//  Wait until the subscription has reached the publisher: probe on ops
static void
s_wait_connected (zsock_t *pub, const char *dir)
{
    int64_t before = s_scalar (dir, "ops.db", "SELECT count(*) FROM ops");
    char now [AUDIT_TIME_TEXT_SIZE];
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    for (int attempt = 0; attempt < 500; attempt++) {
        audit_time_format (audit_time_now_ms (), now);
        msgpack_sbuffer_clear (&buffer);
        msgpack_packer packer;
        msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
        msgpack_pack_map (&packer, 6);
        msgpack_pack_str_with_body (&packer, "v", 1);
        msgpack_pack_uint8 (&packer, 1);
        s_pack_str (&packer, "timestamp", now);
        s_pack_str (&packer, "client_ip", "127.0.0.1");
        s_pack_str (&packer, "method", "GET");
        s_pack_str (&packer, "path", "/probe");
        msgpack_pack_str_with_body (&packer, "status", 6);
        msgpack_pack_uint16 (&packer, 200);
        zmq_send (zsock_resolve (pub), "ops", 3, ZMQ_SNDMORE);
        zmq_send (zsock_resolve (pub), buffer.data, buffer.size, 0);
        zclock_sleep (20);
        if (s_scalar (dir, "ops.db", "SELECT count(*) FROM ops") > before)
            break;
    }
    msgpack_sbuffer_destroy (&buffer);
}

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

static void
s_percentiles (const int64_t *values, long count, const char *label)
{
    if (count <= 0)
        return;
    int64_t *sorted = malloc ((size_t) count * sizeof *sorted);
    memcpy (sorted, values, (size_t) count * sizeof *sorted);
    qsort (sorted, (size_t) count, sizeof *sorted, s_compare);
    printf ("%s: p50 %lld ms, p99 %lld ms, max %lld ms (%ld events)\n", label,
            (long long) sorted [count / 2], (long long) sorted [count * 99 / 100],
            (long long) sorted [count - 1], count);
    free (sorted);
}

//  Wait until want rows are visible or nothing new came for 5 s
static void
s_wait_stored (s_monitor_t *monitor, long want)
{
    while (atomic_load (&monitor->seen) < want
       &&  audit_time_now_ms () - atomic_load (&monitor->last_seen_ms) < 5000)
        zclock_sleep (5);
}

static void
s_phase_throughput (zsock_t *pub, s_monitor_t *monitor, const s_options_t *options)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    long first = atomic_load (&monitor->seen);
    int64_t start = audit_time_now_ms ();
    atomic_store (&monitor->last_seen_ms, start);
    for (long index = 0; index < options->events; index++) {
        s_pack_event (&buffer, (uint64_t) (options->preload + index), audit_time_now_ms ());
        s_publish (pub, &buffer);
    }
    int64_t sent = audit_time_now_ms ();
    s_wait_stored (monitor, first + options->events);
    long stored = atomic_load (&monitor->seen) - first;
    double seconds = (double) (atomic_load (&monitor->last_seen_ms) - start) / 1000.0;
    printf ("throughput: %ld published in %.2f s, %ld stored in %.2f s: %.0f events/s stored, loss %ld\n",
            options->events, (double) (sent - start) / 1000.0, stored, seconds,
            (double) stored / seconds, options->events - stored);
    msgpack_sbuffer_destroy (&buffer);
}

//  Paced in 1 ms steps so the rate is even, not bursts once a second
static void
s_phase_latency (zsock_t *pub, s_monitor_t *monitor, const s_options_t *options)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    long first = atomic_load (&monitor->seen);
    long total = options->rate * options->seconds;
    int64_t start = audit_time_now_ms ();
    uint64_t base = (uint64_t) (options->preload + options->events);
    for (long index = 0; index < total; ) {
        long due = (long) ((audit_time_now_ms () - start) * options->rate / 1000);
        for (; index < due && index < total; index++) {
            s_pack_event (&buffer, base + (uint64_t) index, audit_time_now_ms ());
            s_publish (pub, &buffer);
        }
        zclock_sleep (1);
    }
    s_wait_stored (monitor, first + total);
    long stored = atomic_load (&monitor->seen) - first;
    printf ("latency phase: %ld events at %ld/s, %ld stored, loss %ld\n",
            total, options->rate, stored, total - stored);
    s_percentiles (monitor->latency + first, stored, "publish-to-stored at the paced rate");
    msgpack_sbuffer_destroy (&buffer);
}

//  -D: the decoder alone, on the bodies the other phases publish: the
//  share of an event's ingest cost spent validating it. Bodies are packed
//  first (a pool that fits in cache, as a burst does); each round decodes
//  them all, and the best of the rounds is reported.
#define s_DECODE_POOL    4096
#define s_DECODE_ROUNDS  5

static int
s_phase_decode (long count)
{
    msgpack_sbuffer *pool = calloc (s_DECODE_POOL, sizeof *pool);
    audit_record_t record;
    audit_decode_info_t info;
    int64_t now = audit_time_now_ms ();
    for (int index = 0; index < s_DECODE_POOL; index++) {
        msgpack_sbuffer_init (&pool [index]);
        s_pack_event (&pool [index], (uint64_t) index, now - 1000);
    }
    double best_ns = 0;
    int64_t refused = 0;
    for (int round = 0; round < s_DECODE_ROUNDS; round++) {
        int64_t start = zclock_usecs ();
        for (long done = 0; done < count; done++) {
            msgpack_sbuffer *body = &pool [done % s_DECODE_POOL];
            refused += audit_decode_record (AUDIT_TOPIC_KIND_AUDIT, body->data, body->size,
                                            now, &record, &info) != 0;
        }
        double ns = (double) (zclock_usecs () - start) * 1000.0 / (double) count;
        best_ns = round == 0 || ns < best_ns? ns: best_ns;
    }
    printf ("decode: %ld bodies x %d rounds, best %.0f ns/event (%.0f events/s on one core),"
            " refused %lld\n", count, s_DECODE_ROUNDS, best_ns, 1e9 / best_ns, (long long) refused);
    for (int index = 0; index < s_DECODE_POOL; index++)
        msgpack_sbuffer_destroy (&pool [index]);
    free (pool);
    return refused == 0? 0: 1;
}

static void
s_options (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { 1000000, 500000, 10000, 10, "", false };
    int opt;
    while ((opt = getopt (argc, argv, "n:m:r:s:d:D")) != -1)
        switch (opt) {
            case 'D': options->decode_only = true; break;
            case 'n': options->preload = atol (optarg); break;
            case 'm': options->events = atol (optarg); break;
            case 'r': options->rate = atol (optarg); break;
            case 's': options->seconds = atol (optarg); break;
            case 'd': snprintf (options->dir, sizeof options->dir, "%s", optarg); break;
            default:
                fprintf (stderr, "usage: bench-ingest [-n N0] [-m M] [-r RATE] [-s SECONDS] [-d DIR] [-D]\n");
                exit (2);
        }
    if (!options->dir [0] && !options->decode_only) {
        snprintf (options->dir, sizeof options->dir, "/tmp/bench-ingest-XXXXXX");
        if (!mkdtemp (options->dir))
            exit (1);
    }
}

int
main (int argc, char **argv)
{
    s_options_t options;
    s_options (argc, argv, &options);
    s_run_salt = (uint64_t) audit_time_now_ms () << 20;
    if (options.decode_only)
        return s_phase_decode (options.events);
    int64_t have = s_scalar (options.dir, "audit.db", "SELECT count(*) FROM event");
    if (have < options.preload) {
        printf ("preloading %ld events into %s ...\n", options.preload, options.dir);
        if (s_preload (options.dir, options.preload) != 0)
            return 1;
    }
    char endpoint [64];
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", 20000 + getpid () % 20000);
    static s_monitor_t monitor;
    snprintf (monitor.dir, sizeof monitor.dir, "%s", options.dir);
    monitor.base_id = s_scalar (options.dir, "audit.db", "SELECT coalesce (max (id), 0) FROM event");
    monitor.latency_capacity = options.events + options.rate * options.seconds + 1000;
    monitor.latency = calloc ((size_t) monitor.latency_capacity, sizeof *monitor.latency);
    monitor.worker = s_start_worker (options.dir, endpoint);
    zsock_t *pub = zsock_new (ZMQ_PUB);
    zsock_set_sndhwm (pub, 0);
    zsock_connect (pub, "%s", endpoint);
    s_wait_connected (pub, options.dir);
    printf ("store holds %lld events; audit-ingest pid %d\n",
            (long long) monitor.base_id, (int) monitor.worker);
    pthread_create (&monitor.thread, NULL, s_monitor_run, &monitor);
    s_phase_throughput (pub, &monitor, &options);
    s_phase_latency (pub, &monitor, &options);
    printf ("worker peak RSS (VmHWM) %ld KiB, largest RSS sampled %ld KiB\n",
            s_status_kib (monitor.worker, "VmHWM:"), (long) atomic_load (&monitor.rss_peak_kib));
    printf ("WAL peak %.1f MiB\n", (double) atomic_load (&monitor.wal_peak) / 1048576.0);
    atomic_store (&monitor.stop, true);
    pthread_join (monitor.thread, NULL);
    kill (monitor.worker, SIGTERM);
    int status;
    waitpid (monitor.worker, &status, 0);
    printf ("gaps counted by the worker (lost by seq): %lld; worker exit %d\n",
            (long long) s_scalar (options.dir, "audit.db",
                "SELECT coalesce (sum (value), 0) FROM counter WHERE name LIKE 'ingest.gaps.%'"),
            WIFEXITED (status) ? WEXITSTATUS (status) : -1);
    zsock_destroy (&pub);
    free (monitor.latency);
    return 0;
}
