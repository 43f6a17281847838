/*  =========================================================================
    bench-pg - the PostgreSQL store (issue 15): ingest with 1, 2 and 4
    workers on one database, list p99 and export rows/s, at 5,000,000
    events preloaded

    1. The base: a database bench_pg_<N0> on the cluster of BASE_URL,
       holding N0 events (default 5,000,000; bench_feed: random version-4
       ids over 1,000 organisations), written through audit_store_write
       (a WRITER store on the database's URL) in 65,536-event batches, in
       time order over the last 120 days, so that five monthly partitions
       of audit.event exist. A base whose sum of audit.org.next_index is
       N0 is reused; any other is dropped and built again.
    2. The run's database, bench_pg_<N0>_run: a fresh copy of the base
       (CREATE DATABASE ... TEMPLATE, STRATEGY FILE_COPY), as bench-ingest
       copies its base directory; dropped at the end unless -k.
    3. For each W of -w (default 1,2,4): W audit-ingest workers on the run
       database (AUDIT_DATABASE_URL in their environment; each its own
       --data-dir for its log, its own 127.0.0.1 ingest and ack endpoints;
       one signing key file for all), W publisher threads, one PUB per
       worker, each publishing M/W events (default M 1,000,000 in all) as
       fast as it can, each a producer of its own; every publisher's
       events cover every organisation, so the workers contend for the
       same organisations, as producers behind a load balancer would
       (with -o each publisher has its own 1/W of them instead).
       From the first publish until the sum of next_index grew by M (or
       stood still for 60 s): events/s stored, loss = published - stored,
       the workers' CPU per event, and rate(W) / rate(1). Then exactness:
       every organisation's rows hold log_index 0 .. next_index - 1, each
       once (one query over audit.event and audit.org).
    4. One audit-query on the run database (AUDIT_JWT_SECRET in its
       environment, org_admin tokens minted with it): R (default 2,000)
       `list` newest 100 of a random organisation after 50 not counted,
       in-process (query_worker_answer on the database) and over one REQ
       socket kept open; health round trips beside them, the floor.
    5. Export of the E (default 50) largest organisations, csv then
       ndjson, following next_cursor, in-process and over the socket:
       rows/s end to end (each organisation's rows checked against its
       next_index and the lines of the data).
    The summary names the machine (cores, load), the server (SELECT
    version(), fsync, synchronous_commit, shared_buffers) and the figures.

    Usage: bench-pg [-u BASE_URL] [-n N0] [-m M] [-w 1,2,4] [-b BATCH]
                    [-r REQUESTS] [-e EXPORT_ORGS] [-d DIR] [-k] [-o]
      BASE_URL: any database of the cluster (default AUDIT_DATABASE_URL);
      the role needs CREATEDB. DIR: the workers' directories and the key
      (default /tmp/bench-pg-PID, removed after). -k keeps the run database.
      -o: each publisher (so each worker) its own organisations, 1/W of
      them: batches of different workers never touch the same org row.
    ========================================================================= */

#include <czmq.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "audit_decode.h"
#include "audit_logsign.h"
#include "audit_signer.h"
#include "audit_store.h"
#include "audit_time.h"
#include "audit_token.h"
#include "bench_client.h"
#include "bench_feed.h"
#include "bench_worker.h"

#define s_PRELOAD_BATCH  65536
#define s_SPAN_DAYS      120            //  five monthly partitions at least
#define s_WORKERS_MAX    16
#define s_PHASES_MAX     8
#define s_STALL_MS       60000          //  stored stood still this long: done (a batch
                                        //  of a loaded server may take many seconds)
#define s_POLL_MS        10
#define s_PAGE           100
#define s_WARMUP         50
#define s_TOKEN_TTL_S    3600           //  within the worker's jwt-max-age
#define s_SECRET         "bench-pg-secret-0123456789abcdef0123456789abcdef0123"

typedef struct {
    char base_url [512];
    long preload, events, batch, requests;
    int workers [s_PHASES_MAX], phases, export_orgs;
    char dir [400];
    bool keep_dir, keep_db, own_orgs;
} s_options_t;

typedef struct {
    int workers;
    long published, stored;
    double publish_s, store_s, rate, cpu_us;    //  cpu: the workers', per event
    bool exact;
    int64_t bad_orgs, rows, total;
} s_ingest_t;

typedef struct {
    double p50, p99, max;               //  ms
    long count, empty;
} s_latency_t;

typedef struct {
    long rows, chunks, orgs;
    double seconds, mib;
} s_export_t;

typedef struct {
    s_options_t options;
    char base_name [64], run_name [80];
    char base_db [700], run_db [700];   //  URLs
    char version [256], settings [256], load_start [64];
    double preload_s;                   //  0: reused
    int64_t base_events;
    s_ingest_t ingest [s_PHASES_MAX];
    s_latency_t list [2], health [2];   //  [socket]
    s_export_t export [2][2];           //  [socket][format]
    char **tokens;
    msgpack_sbuffer body;
    uint64_t rng;
    uint64_t salt;
} s_bench_t;

static const char *s_format_names [2] = { "csv", "ndjson" };

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

static void
s_load_average (char *text, size_t size)
{
    double load [3] = { -1, -1, -1 };
    if (getloadavg (load, 3) < 0)
        load [0] = -1;
    snprintf (text, size, "%.2f %.2f %.2f", load [0], load [1], load [2]);
}

static int
s_compare (const void *left, const void *right)
{
    int64_t a = *(const int64_t *) left, b = *(const int64_t *) right;
    return a < b ? -1 : a > b;
}

//  --------------------------------------------------------------------------
//  The databases: the bench's own SQL, for setup and counting only

//  base with its database name replaced by name: postgresql://AUTH/DB?QUERY
//  (AUTH and DB may be empty). -1 when base is not such a URL.
static int
s_url_with_db (const char *base, const char *name, char *url, size_t size)
{
    const char *scheme = strstr (base, "://");
    if (!scheme || !audit_store_is_url (base))
        return -1;
    const char *authority = scheme + 3;
    size_t auth_len = strcspn (authority, "/?");
    const char *rest = authority + auth_len;
    if (*rest == '/')
        rest += strcspn (rest, "?");            //  the old name, dropped
    int written = snprintf (url, size, "%.*s/%s%s", (int) (authority + auth_len - base), base,
                            name, rest);
    return written > 0 && (size_t) written < size ? 0 : -1;
}

//  The server's notices (DROP DATABASE IF EXISTS of none) are not figures
static void
s_quiet (void *arg, const char *message)
{
    (void) arg;
    (void) message;
}

static PGconn *
s_connect (const char *url)
{
    PGconn *conn = PQconnectdb (url);
    if (PQstatus (conn) != CONNECTION_OK) {
        fprintf (stderr, "bench-pg: cannot connect: %s", PQerrorMessage (conn));
        PQfinish (conn);
        return NULL;
    }
    PQsetNoticeProcessor (conn, s_quiet, NULL);
    return conn;
}

//  The first cell of sql's first row as a number; -1 on any error or NULL
static int64_t
s_scalar (PGconn *conn, const char *sql)
{
    PGresult *result = PQexec (conn, sql);
    int64_t value = -1;
    if (PQresultStatus (result) == PGRES_TUPLES_OK && PQntuples (result) > 0
    &&  !PQgetisnull (result, 0, 0))
        value = strtoll (PQgetvalue (result, 0, 0), NULL, 10);
    PQclear (result);
    return value;
}

static void
s_text (PGconn *conn, const char *sql, char *text, size_t size)
{
    PGresult *result = PQexec (conn, sql);
    snprintf (text, size, "%s", PQresultStatus (result) == PGRES_TUPLES_OK && PQntuples (result) > 0
                                ? PQgetvalue (result, 0, 0) : "?");
    PQclear (result);
}

static int
s_command (PGconn *conn, const char *sql)
{
    PGresult *result = PQexec (conn, sql);
    int rc = PQresultStatus (result) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc)
        fprintf (stderr, "bench-pg: %s: %s", sql, PQerrorMessage (conn));
    PQclear (result);
    return rc;
}

//  Events ever stored in the database at url: each took its organisation's
//  next log_index. -1 when there is no such database or store.
static int64_t
s_stored_at (const char *url)
{
    PGconn *conn = PQconnectdb (url);
    int64_t value = PQstatus (conn) == CONNECTION_OK
                  ? s_scalar (conn, "SELECT coalesce (sum (next_index), 0) FROM audit.org") : -1;
    PQfinish (conn);
    return value;
}

static const char *s_stored_sql = "SELECT coalesce (sum (next_index), 0) FROM audit.org";

//  --------------------------------------------------------------------------
//  1. The base

static int
s_preload (s_bench_t *self)
{
    long count = self->options.preload;
    audit_store_t *store = audit_store_new (self->base_db, AUDIT_STORE_WRITER);
    audit_record_t *records = calloc (s_PRELOAD_BATCH, sizeof *records);
    audit_store_outcome_t *outcomes = calloc (s_PRELOAD_BATCH, sizeof *outcomes);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int64_t now = audit_time_now_ms (), start = zclock_mono ();
    int64_t span = s_SPAN_DAYS * AUDIT_MS_PER_DAY, epoch = now - span;
    int rc = store && records && outcomes ? 0 : -1;
    for (long done = 0; rc == 0 && done < count; ) {
        size_t fill = 0;
        for (; rc == 0 && fill < s_PRELOAD_BATCH && done < count; fill++, done++) {
            bench_feed_t event;
            audit_decode_info_t info;
            bench_feed_make ((uint64_t) done, epoch + (int64_t) ((double) span * (double) done
                                                                 / (double) count), 0, &event);
            bench_feed_pack (&event, (uint64_t) done + 1, &buffer);
            rc = audit_decode_record (AUDIT_TOPIC_KIND_AUDIT, buffer.data, buffer.size, now,
                                      &records [fill], &info);
        }
        rc = rc ? rc : audit_store_write (store, records, fill, outcomes, NULL);
        if (done % 500000 < s_PRELOAD_BATCH || done == count)
            printf ("  preload %ld / %ld, %.0f events/s\n", done, count,
                    (double) done * 1000.0 / (double) (zclock_mono () - start + 1));
    }
    msgpack_sbuffer_destroy (&buffer);
    free (records);
    free (outcomes);
    audit_store_destroy (&store);
    return rc;
}

static int
s_base_ready (s_bench_t *self, PGconn *admin)
{
    int64_t have = s_stored_at (self->base_db);
    if (have == self->options.preload) {
        printf ("reusing database %s: %lld events\n", self->base_name, (long long) have);
        self->base_events = have;
        return 0;
    }
    printf ("preloading %ld events into database %s (it held %lld) ...\n", self->options.preload,
            self->base_name, (long long) (have < 0 ? 0 : have));
    char sql [256];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s", self->base_name);
    int rc = s_command (admin, sql);
    snprintf (sql, sizeof sql, "CREATE DATABASE %s", self->base_name);
    rc = rc ? rc : s_command (admin, sql);
    int64_t start = zclock_mono ();
    rc = rc ? rc : s_preload (self);
    self->preload_s = (double) (zclock_mono () - start) / 1000.0;
    self->base_events = s_stored_at (self->base_db);
    printf ("preload took %.1f s (%.0f events/s); the base holds %lld\n", self->preload_s,
            (double) self->options.preload / self->preload_s, (long long) self->base_events);
    return rc == 0 && self->base_events == self->options.preload ? 0 : -1;
}

//  A fresh copy of the base; FILE_COPY: one checkpoint and a copy of the
//  files, not the whole base through the WAL
static int
s_run_db_new (s_bench_t *self, PGconn *admin)
{
    char sql [512];
    snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s", self->run_name);
    int64_t start = zclock_mono ();
    int rc = s_command (admin, sql);
    snprintf (sql, sizeof sql, "CREATE DATABASE %s TEMPLATE %s STRATEGY FILE_COPY",
              self->run_name, self->base_name);
    rc = rc ? rc : s_command (admin, sql);
    printf ("database %s: a copy of %s made in %.1f s\n", self->run_name, self->base_name,
            (double) (zclock_mono () - start) / 1000.0);
    return rc;
}

//  --------------------------------------------------------------------------
//  2. Ingest with W workers

typedef struct {
    zsock_t *pub;
    pthread_barrier_t *go;
    uint64_t first, stride, count, salt;    //  events first + k * stride, k < count
    char producer [32];
    int64_t done_ms;
} s_publisher_t;

static void *
s_publisher_run (void *arg)
{
    s_publisher_t *self = (s_publisher_t *) arg;
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    pthread_barrier_wait (self->go);
    for (uint64_t index = 0; index < self->count; index++) {
        bench_feed_t event;
        bench_feed_make (self->first + index * self->stride, audit_time_now_ms (), self->salt,
                         &event);
        bench_feed_pack_as (&event, self->producer, index + 1, &buffer);
        zmq_send (zsock_resolve (self->pub), "audit", 5, ZMQ_SNDMORE);
        zmq_send (zsock_resolve (self->pub), buffer.data, buffer.size, 0);
    }
    self->done_ms = audit_time_now_ms ();
    msgpack_sbuffer_destroy (&buffer);
    return NULL;
}

//  Probe pub with ops records of a path of its own until one is stored:
//  the worker's subscription has then reached it (10 s at most). Its own
//  path: another worker's late probes must not count for this one.
static int
s_wait_connected (PGconn *conn, zsock_t *pub, const char *name)
{
    char path [64], sql [160];
    snprintf (path, sizeof path, "/probe/%s", name);
    snprintf (sql, sizeof sql, "SELECT count(*) FROM ops.request WHERE path = '%s'", path);
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int rc = -1;
    for (int attempt = 0; attempt < 200 && rc != 0; attempt++) {
        bench_worker_probe (pub, path, &buffer);
        zclock_sleep (50);
        if (s_scalar (conn, sql) > 0)
            rc = 0;
    }
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}

//  Every organisation's rows hold log_index 0 .. next_index - 1, each once
static int
s_exactness (PGconn *conn, s_ingest_t *result)
{
    const char *sql =
        "SELECT count(*) FILTER (WHERE coalesce (e.rows, 0) <> o.next_index"
        "   OR coalesce (e.low, 0) <> 0 OR coalesce (e.top, -1) <> o.next_index - 1"
        "   OR coalesce (e.distinct_rows, 0) <> coalesce (e.rows, 0)),"
        " coalesce (sum (e.rows), 0), coalesce (sum (o.next_index), 0),"
        " (SELECT count(*) FROM audit.event)"
        " FROM audit.org o LEFT JOIN (SELECT org_id, count(*) AS rows,"
        "   count(DISTINCT log_index) AS distinct_rows, min (log_index) AS low,"
        "   max (log_index) AS top FROM audit.event GROUP BY org_id) e USING (org_id)";
    int64_t start = zclock_mono ();
    PGresult *answer = PQexec (conn, sql);
    int rc = PQresultStatus (answer) == PGRES_TUPLES_OK && PQntuples (answer) == 1 ? 0 : -1;
    if (rc == 0) {
        result->bad_orgs = strtoll (PQgetvalue (answer, 0, 0), NULL, 10);
        result->rows = strtoll (PQgetvalue (answer, 0, 1), NULL, 10);
        result->total = strtoll (PQgetvalue (answer, 0, 2), NULL, 10);
        int64_t all_rows = strtoll (PQgetvalue (answer, 0, 3), NULL, 10);
        result->exact = result->bad_orgs == 0 && result->rows == result->total
                     && all_rows == result->rows;
        printf ("  exactness: %s: %lld organisations off, %lld rows (%lld in audit.event),"
                " sum of next_index %lld (%.1f s)\n", result->exact ? "HELD" : "BROKEN",
                (long long) result->bad_orgs, (long long) result->rows, (long long) all_rows,
                (long long) result->total, (double) (zclock_mono () - start) / 1000.0);
    }
    else
        fprintf (stderr, "bench-pg: exactness query: %s", PQerrorMessage (conn));
    PQclear (answer);
    return rc;
}

//  Wait until stored grew by want, or stood still for s_STALL_MS after
//  the publishers were done; *last_ms: when it last grew
static int64_t
s_wait_stored (PGconn *conn, int64_t base, long want, s_publisher_t *publishers, int count,
               int64_t start_ms, int64_t *last_ms)
{
    int64_t seen = 0;
    *last_ms = start_ms;
    while (seen < want) {
        zclock_sleep (s_POLL_MS);
        int64_t now = s_scalar (conn, s_stored_sql);
        int64_t at = audit_time_now_ms ();
        if (now - base > seen) {
            seen = now - base;
            *last_ms = at;
        }
        bool sent = true;
        for (int index = 0; index < count; index++)
            sent = sent && publishers [index].done_ms > 0;
        if (sent && at - *last_ms > s_STALL_MS)
            break;
    }
    return seen;
}

static int
s_ingest (s_bench_t *self, int phase, PGconn *conn)
{
    s_ingest_t *result = &self->ingest [phase];
    int workers = self->options.workers [phase];
    result->workers = workers;
    pid_t pids [s_WORKERS_MAX] = { 0 };
    s_publisher_t publishers [s_WORKERS_MAX];
    memset (publishers, 0, sizeof publishers);
    pthread_barrier_t go;
    pthread_barrier_init (&go, NULL, (unsigned) workers + 1);
    uint64_t share = (uint64_t) self->options.events / (uint64_t) workers;
    //  New event numbers each phase: the run's ids never repeat the base's
    uint64_t first = (uint64_t) self->options.preload + (uint64_t) phase * (uint64_t) self->options.events;
    int port = 20000 + (int) (getpid () % 1000) * 40 + phase * 2 * s_WORKERS_MAX;
    int rc = 0;
    for (int index = 0; rc == 0 && index < workers; index++) {
        char dir [600], endpoint [64], ack [64];
        snprintf (dir, sizeof dir, "%s/w%d-%d", self->options.dir, workers, index);
        mkdir (dir, 0700);
        snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port + 2 * index);
        snprintf (ack, sizeof ack, "tcp://127.0.0.1:%d", port + 2 * index + 1);
        pids [index] = bench_worker_start (dir, endpoint, ack, self->options.batch, 0);
        s_publisher_t *publisher = &publishers [index];
        publisher->pub = zsock_new (ZMQ_PUB);
        zsock_set_sndhwm (publisher->pub, 0);
        zsock_connect (publisher->pub, "%s", endpoint);
        publisher->go = &go;
        //  Event n is of organisation n % 1,000: a run of consecutive
        //  numbers covers them all; with -o, every W-th number from index
        //  covers the organisations of index only (W divides 1,000)
        publisher->first = self->options.own_orgs ? first + (uint64_t) index
                                                  : first + (uint64_t) index * share;
        publisher->stride = self->options.own_orgs ? (uint64_t) workers : 1;
        publisher->count = share;
        publisher->salt = self->salt;
        snprintf (publisher->producer, sizeof publisher->producer, "bench-pg-w%d-%d", workers, index);
        rc = pids [index] > 0 && s_wait_connected (conn, publisher->pub, publisher->producer) == 0 ? 0 : -1;
        if (rc)
            fprintf (stderr, "bench-pg: worker %d did not connect (see %s/ingest.log)\n", index, dir);
    }
    int64_t base = s_scalar (conn, s_stored_sql);
    int64_t cpu_before = 0;
    for (int index = 0; rc == 0 && index < workers; index++)
        cpu_before += bench_worker_cpu_ms (pids [index]);
    printf ("ingest, %d worker%s: the database holds %lld events; %llu events from each of %d"
            " publishers\n", workers, workers > 1 ? "s" : "", (long long) base,
            (unsigned long long) share, workers);
    pthread_t threads [s_WORKERS_MAX];
    int started = 0;
    for (; rc == 0 && started < workers; started++)
        pthread_create (&threads [started], NULL, s_publisher_run, &publishers [started]);
    if (rc == 0) {
        int64_t start = audit_time_now_ms (), last = start;
        pthread_barrier_wait (&go);
        result->published = (long) (share * (uint64_t) workers);
        result->stored = (long) s_wait_stored (conn, base, result->published, publishers, workers,
                                               start, &last);
        int64_t sent = start;
        for (int index = 0; index < started; index++) {
            pthread_join (threads [index], NULL);
            sent = publishers [index].done_ms > sent ? publishers [index].done_ms : sent;
        }
        int64_t cpu = 0;
        for (int index = 0; index < workers; index++)
            cpu += bench_worker_cpu_ms (pids [index]);
        result->publish_s = (double) (sent - start) / 1000.0;
        result->store_s = (double) (last - start) / 1000.0;
        result->rate = (double) result->stored / result->store_s;
        result->cpu_us = result->stored ? (double) (cpu - cpu_before) * 1000.0 / (double) result->stored : 0;
        printf ("  %ld published in %.2f s, %ld stored in %.2f s: %.0f events/s stored, loss %ld;"
                " workers' CPU %.1f us/event\n", result->published, result->publish_s,
                result->stored, result->store_s, result->rate, result->published - result->stored,
                result->cpu_us);
    }
    for (int index = 0; index < workers; index++) {
        int status = bench_worker_stop (pids [index]);
        if (status != 0)
            printf ("  worker %d exit %d\n", index, status);
        zsock_destroy (&publishers [index].pub);
    }
    pthread_barrier_destroy (&go);
    return rc ? rc : s_exactness (conn, result);
}

//  --------------------------------------------------------------------------
//  3. list, and 4. export, through audit-query

static const char *
s_token (s_bench_t *self, int org)
{
    if (!self->tokens [org]) {
        audit_claims_t claims = { .role = AUDIT_ROLE_ORG_ADMIN };
        bench_feed_org_name (org, claims.org);
        snprintf (claims.sub, sizeof claims.sub, "admin_%03d", org);
        audit_token_mint ((const uint8_t *) s_SECRET, strlen (s_SECRET), &claims, NULL,
                          s_TOKEN_TTL_S, audit_time_now_ms () / 1000, &self->tokens [org]);
    }
    return self->tokens [org] ? self->tokens [org] : "";
}

static void
s_pack_str (msgpack_packer *packer, const char *key, const char *value)
{
    msgpack_pack_str_with_body (packer, key, strlen (key));
    msgpack_pack_str_with_body (packer, value, strlen (value));
}

//  A request of op (NULL: health) for org with more pairs to follow
static msgpack_packer
s_request (s_bench_t *self, const char *op, int org, uint32_t more)
{
    msgpack_sbuffer_clear (&self->body);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &self->body, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, op ? 4 + more : 2);
    msgpack_pack_str_with_body (&packer, "v", 1);
    msgpack_pack_uint8 (&packer, 1);
    s_pack_str (&packer, "op", op ? op : "health");
    if (op) {
        char org_id [BENCH_FEED_TEXT];
        bench_feed_org_name (org, org_id);
        s_pack_str (&packer, "token", s_token (self, org));
        s_pack_str (&packer, "org_id", org_id);
    }
    return packer;
}

static int
s_measure (s_bench_t *self, bench_client_t *client, bool socket, bool list, s_latency_t *result)
{
    long count = self->options.requests;
    int64_t *ns = calloc ((size_t) count, sizeof *ns);
    int rc = ns ? 0 : -1;
    memset (result, 0, sizeof *result);
    for (long index = -s_WARMUP; rc == 0 && index < count; index++) {
        if (list) {
            msgpack_packer packer = s_request (self, "list", (int) (s_random (self) % BENCH_FEED_ORGS), 1);
            msgpack_pack_str_with_body (&packer, "limit", 5);
            msgpack_pack_uint32 (&packer, s_PAGE);
        }
        else
            s_request (self, NULL, 0, 0);
        bench_answer_t answer;
        int64_t took;
        rc = bench_client_ask (client, socket, &self->body, &answer, &took);
        if (rc == 0 && index >= 0) {
            ns [index] = took;
            result->empty += list && answer.events != s_PAGE;
        }
    }
    if (rc == 0) {
        qsort (ns, (size_t) count, sizeof *ns, s_compare);
        result->p50 = (double) ns [count / 2] / 1e6;
        result->p99 = (double) ns [count * 99 / 100] / 1e6;
        result->max = (double) ns [count - 1] / 1e6;
        result->count = count;
        printf ("  %-32s %-10s p50 %7.3f  p99 %7.3f  max %7.3f ms  (%ld, %ld short pages)\n",
                list ? "list newest 100, random org" : "health (the round trip alone)",
                socket ? "socket" : "in-process", result->p50, result->p99, result->max, count,
                result->empty);
    }
    else
        fprintf (stderr, "bench-pg: a %s request failed\n", list ? "list" : "health");
    free (ns);
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

//  Every chunk of org in format, following next_cursor, added to *result;
//  the rows must be the organisation's expected and the data's lines
static int
s_export_org (s_bench_t *self, bench_client_t *client, bool socket, int format, int org,
              int64_t expected, s_export_t *result)
{
    char cursor [AUDIT_CURSOR_TEXT_SIZE] = "";
    bench_answer_t answer;
    long rows = 0, lines = 0;
    int64_t start = s_now_ns ();
    int rc = 0;
    do {
        msgpack_packer packer = s_request (self, "export", org, cursor [0] ? 2 : 1);
        s_pack_str (&packer, "format", s_format_names [format]);
        if (cursor [0])
            s_pack_str (&packer, "cursor", cursor);
        int64_t took;
        rc = bench_client_ask (client, socket, &self->body, &answer, &took);
        if (rc == 0) {
            rows += (long) answer.rows;
            result->chunks++;
            result->mib += (double) answer.data_size / 1048576.0;
            lines += s_lines (answer.data, answer.data_size);
            snprintf (cursor, sizeof cursor, "%s", answer.cursor);
        }
    } while (rc == 0 && cursor [0]);
    if (rc)
        fprintf (stderr, "bench-pg: export of org-%03d in %s (%s): a reply was not ok (%s)\n",
                 org, s_format_names [format], socket ? "socket" : "in-process",
                 answer.error [0] ? answer.error : "no error code");
    result->seconds += (double) (s_now_ns () - start) / 1e9;
    result->rows += rows;
    result->orgs++;
    if (rc == 0 && (rows != expected || lines != rows + (format == 0 ? 1 : 0))) {
        fprintf (stderr, "bench-pg: export of org %d: %ld rows, %ld lines, %lld expected\n",
                 org, rows, lines, (long long) expected);
        rc = -1;
    }
    return rc;
}

//  The export_orgs largest organisations: their numbers and sizes
static int
s_largest (s_bench_t *self, PGconn *conn, int *orgs, int64_t *sizes)
{
    char sql [160];
    snprintf (sql, sizeof sql, "SELECT org_id, next_index FROM audit.org"
              " ORDER BY next_index DESC, org_id LIMIT %d", self->options.export_orgs);
    PGresult *result = PQexec (conn, sql);
    int count = PQresultStatus (result) == PGRES_TUPLES_OK ? PQntuples (result) : 0;
    for (int row = 0; row < count; row++) {
        orgs [row] = atoi (PQgetvalue (result, row, 0) + strlen ("org-"));
        sizes [row] = strtoll (PQgetvalue (result, row, 1), NULL, 10);
    }
    PQclear (result);
    return count;
}

static int
s_exports (s_bench_t *self, bench_client_t *client, PGconn *conn, bool socket)
{
    int orgs [BENCH_FEED_ORGS];
    int64_t sizes [BENCH_FEED_ORGS];
    int count = s_largest (self, conn, orgs, sizes);
    int rc = count > 0 ? 0 : -1;
    for (int format = 0; rc == 0 && format < 2; format++) {
        s_export_t *result = &self->export [socket][format];
        memset (result, 0, sizeof *result);
        for (int index = 0; rc == 0 && index < count; index++) {
            //  Each export adds its own record to the organisation, after
            //  its last chunk: what to expect is read afresh
            char sql [128];
            snprintf (sql, sizeof sql, "SELECT next_index FROM audit.org WHERE org_id = 'org-%03d'",
                      orgs [index]);
            sizes [index] = s_scalar (conn, sql);
            rc = s_export_org (self, client, socket, format, orgs [index], sizes [index], result);
        }
        printf ("  export %-6s %-10s %d organisations, %ld rows in %ld chunks, %.1f MiB, %.2f s:"
                " %.0f rows/s\n", s_format_names [format], socket ? "socket" : "in-process",
                count, result->rows, result->chunks, result->mib, result->seconds,
                (double) result->rows / result->seconds);
    }
    return rc;
}

static int
s_query (s_bench_t *self, PGconn *conn)
{
    char dir [600], endpoint [64];
    snprintf (dir, sizeof dir, "%s/query", self->options.dir);
    mkdir (dir, 0700);
    snprintf (endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", 40000 + getpid () % 20000);
    bench_client_t *client = bench_client_new_at (self->run_db, dir, s_SECRET);
    int rc = client ? bench_client_sign (client, getenv ("AUDIT_SIGNING_KEY_FILE")) : -1;
    printf ("query: %ld requests per line on random organisations, after %d not counted\n",
            self->options.requests, s_WARMUP);
    for (int socket = 0; rc == 0 && socket < 2; socket++) {
        if (socket && (rc = bench_client_start (client, AUDIT_BIN_DIR, endpoint)) != 0)
            fprintf (stderr, "bench-pg: audit-query did not answer (see %s/query.log)\n", dir);
        rc = rc ? rc : s_measure (self, client, socket, false, &self->health [socket]);
        rc = rc ? rc : s_measure (self, client, socket, true, &self->list [socket]);
        //  An export that fails is reported, and the other lines go on
        if (rc == 0 && s_exports (self, client, conn, socket) != 0)
            memset (self->export [socket], 0, sizeof self->export [socket]);
    }
    bench_client_destroy (&client);
    return rc;
}

//  --------------------------------------------------------------------------
//  The summary, for bench/RESULTS.md

static void
s_summary (s_bench_t *self)
{
    char load [64];
    s_load_average (load, sizeof load);
    const s_options_t *options = &self->options;
    printf ("\n----- summary (bench-pg) -----\n");
    printf ("machine: %ld cores (nproc); load average at start %s, at end %s;"
            " PostgreSQL on the same machine\n", sysconf (_SC_NPROCESSORS_ONLN), self->load_start, load);
    printf ("server: %s\nsettings: %s\n", self->version, self->settings);
    printf ("store: %lld events preloaded (%s), %d organisations, random version-4 ids, %d days;"
            " each phase %ld more, %s; --ingest-batch %ld\n\n", (long long) self->base_events,
            self->preload_s > 0 ? "built this run" : "reused", BENCH_FEED_ORGS, s_SPAN_DAYS,
            options->events, options->own_orgs ? "each publisher its own organisations (-o)"
                                               : "every publisher over every organisation",
            options->batch);
    printf ("| ingest workers | stored before | events/s stored | vs 1 worker | loss |"
            " published in | workers' CPU/event | exactness |\n|---|---|---|---|---|---|---|---|\n");
    double one = 0;
    for (int phase = 0; phase < options->phases; phase++)
        if (self->ingest [phase].workers == 1)
            one = self->ingest [phase].rate;
    for (int phase = 0; phase < options->phases; phase++) {
        const s_ingest_t *done = &self->ingest [phase];
        if (!done->workers)
            continue;
        printf ("| %d | %lld | **%.0f** | %s%.2fx | %ld | %.2f s | %.1f us | %s (%lld rows) |\n",
                done->workers, (long long) (done->total - done->stored), done->rate,
                one > 0 ? "" : "? ", one > 0 ? done->rate / one : 0, done->published - done->stored,
                done->publish_s, done->cpu_us, done->exact ? "held" : "BROKEN", (long long) done->rows);
    }
    printf ("\n| query | transport | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n");
    for (int socket = 0; socket < 2; socket++) {
        const char *transport = socket ? "socket" : "in-process";
        if (self->health [socket].count)
            printf ("| health (the round trip alone) | %s | %.3f | %.3f | %.3f |\n", transport,
                    self->health [socket].p50, self->health [socket].p99, self->health [socket].max);
        if (self->list [socket].count)
            printf ("| list newest 100, random organisation | %s | %.3f | **%.3f** | %.3f |\n",
                    transport, self->list [socket].p50, self->list [socket].p99,
                    self->list [socket].max);
    }
    printf ("\n| export | transport | size | time | rate |\n|---|---|---|---|---|\n");
    for (int socket = 0; socket < 2; socket++)
        for (int format = 0; format < 2; format++) {
            const s_export_t *done = &self->export [socket][format];
            if (done->rows)
                printf ("| %s, %ld largest organisations | %s | %ld rows, %ld chunks, %.1f MiB |"
                        " %.2f s | **%.0f rows/s** |\n", s_format_names [format], done->orgs,
                        socket ? "socket" : "in-process", done->rows, done->chunks, done->mib,
                        done->seconds, (double) done->rows / done->seconds);
        }
}

//  --------------------------------------------------------------------------
//  Main

static int
s_options_parse (int argc, char **argv, s_options_t *options)
{
    *options = (s_options_t) { "", 5000000, 1000000, 32768, 2000, { 1, 2, 4 }, 3, 50, "",
                               false, false, false };
    const char *url = getenv ("AUDIT_DATABASE_URL");
    snprintf (options->base_url, sizeof options->base_url, "%s", url ? url : "");
    int option;
    while ((option = getopt (argc, argv, "u:n:m:w:b:r:e:d:ko")) != -1)
        switch (option) {
            case 'u': snprintf (options->base_url, sizeof options->base_url, "%s", optarg); break;
            case 'n': options->preload = atol (optarg); break;
            case 'm': options->events = atol (optarg); break;
            case 'b': options->batch = atol (optarg); break;
            case 'r': options->requests = atol (optarg); break;
            case 'e': options->export_orgs = atoi (optarg); break;
            case 'd': snprintf (options->dir, sizeof options->dir, "%s", optarg); break;
            case 'k': options->keep_db = true; break;
            case 'o': options->own_orgs = true; break;
            case 'w':
                options->phases = 0;
                for (char *at = optarg; *at && options->phases < s_PHASES_MAX; ) {
                    options->workers [options->phases++] = (int) strtol (at, &at, 10);
                    at += *at == ',';
                }
                break;
            default:
                return -1;
        }
    bool fits = audit_store_is_url (options->base_url) && options->preload >= 0
             && options->events >= 1000 && options->batch >= 1 && options->batch <= 65536
             && options->requests >= 100 && options->export_orgs >= 1
             && options->export_orgs <= BENCH_FEED_ORGS && options->phases > 0;
    for (int phase = 0; phase < options->phases; phase++)
        fits = fits && options->workers [phase] >= 1 && options->workers [phase] <= s_WORKERS_MAX
            && (!options->own_orgs || BENCH_FEED_ORGS % options->workers [phase] == 0);
    return fits ? 0 : -1;
}

//  The environment every worker started after inherits: the database,
//  and one signing key for all (made here, so that no two workers race
//  to create it)
static int
s_environment (s_bench_t *self)
{
    char key [600];
    snprintf (key, sizeof key, "%s/log_signing_key", self->options.dir);
    audit_signer_t *signer = audit_logsign_signer (key);
    audit_signer_destroy (&signer);
    setenv ("AUDIT_SIGNING_KEY_FILE", key, 1);
    setenv ("AUDIT_DATABASE_URL", self->run_db, 1);
    unsetenv ("AUDIT_DATA_DIR");
    struct stat info;
    return stat (key, &info) == 0 ? 0 : -1;
}

static int
s_run (s_bench_t *self)
{
    snprintf (self->base_name, sizeof self->base_name, "bench_pg_%ld", self->options.preload);
    snprintf (self->run_name, sizeof self->run_name, "%s_run", self->base_name);
    PGconn *admin = s_connect (self->options.base_url);
    if (!admin
    ||  s_url_with_db (self->options.base_url, self->base_name, self->base_db, sizeof self->base_db)
    ||  s_url_with_db (self->options.base_url, self->run_name, self->run_db, sizeof self->run_db)) {
        PQfinish (admin);
        return -1;
    }
    s_text (admin, "SELECT version()", self->version, sizeof self->version);
    s_text (admin, "SELECT 'fsync ' || current_setting ('fsync') || ', synchronous_commit '"
                   " || current_setting ('synchronous_commit') || ', full_page_writes '"
                   " || current_setting ('full_page_writes') || ', shared_buffers '"
                   " || current_setting ('shared_buffers') || ', max_wal_size '"
                   " || current_setting ('max_wal_size')", self->settings, sizeof self->settings);
    printf ("server: %s\nsettings: %s\n", self->version, self->settings);
    int rc = s_base_ready (self, admin);
    rc = rc ? rc : s_run_db_new (self, admin);
    rc = rc ? rc : s_environment (self);
    PGconn *conn = rc ? NULL : s_connect (self->run_db);
    rc = rc ? rc : conn ? 0 : -1;
    for (int phase = 0; rc == 0 && phase < self->options.phases; phase++)
        rc = s_ingest (self, phase, conn);
    rc = rc ? rc : s_query (self, conn);
    PQfinish (conn);
    if (!self->options.keep_db) {
        char sql [160];
        snprintf (sql, sizeof sql, "DROP DATABASE IF EXISTS %s", self->run_name);
        s_command (admin, sql);
    }
    PQfinish (admin);
    return rc;
}

int
main (int argc, char **argv)
{
    static s_bench_t self;
    if (s_options_parse (argc, argv, &self.options) != 0) {
        fprintf (stderr, "usage: bench-pg [-u BASE_URL] [-n N0] [-m M] [-w 1,2,4] [-b BATCH]"
                 " [-r REQUESTS] [-e EXPORT_ORGS] [-d DIR] [-k] [-o]\n"
                 "  BASE_URL: a postgresql:// URL of the cluster (default AUDIT_DATABASE_URL)\n");
        return 2;
    }
    setvbuf (stdout, NULL, _IOLBF, 0);
    zsys_init ();
    zsys_set_logstream (stderr);
    self.options.keep_dir = self.options.dir [0] != 0;
    if (!self.options.keep_dir) {
        snprintf (self.options.dir, sizeof self.options.dir, "/tmp/bench-pg-XXXXXX");
        if (!mkdtemp (self.options.dir))
            return 1;
    }
    else
        mkdir (self.options.dir, 0700);
    self.rng = 0x5EED5EED12345678ULL;
    self.salt = (uint64_t) audit_time_now_ms () << 20;
    self.tokens = calloc (BENCH_FEED_ORGS, sizeof *self.tokens);
    msgpack_sbuffer_init (&self.body);
    s_load_average (self.load_start, sizeof self.load_start);
    int rc = self.tokens ? s_run (&self) : -1;
    if (rc == 0)
        s_summary (&self);
    for (int org = 0; self.tokens && org < BENCH_FEED_ORGS; org++)
        free (self.tokens [org]);
    free (self.tokens);
    msgpack_sbuffer_destroy (&self.body);
    char command [600];
    snprintf (command, sizeof command, "rm -rf '%s'", self.options.dir);
    if (!self.options.keep_dir && system (command) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}
