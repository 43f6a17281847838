/*  =========================================================================
    bench_worker - the real audit-ingest as the benchmarks run it
    ========================================================================= */

#include "bench_worker.h"

#include <msgpack.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "audit_time.h"

pid_t
bench_worker_start (const char *dir, const char *endpoint, const char *ack_endpoint, long batch,
                    int flush_ms)
{
    pid_t pid = fork ();
    if (pid == 0) {
        char log [700], size [32], flush [32];
        snprintf (log, sizeof log, "%s/ingest.log", dir);
        snprintf (size, sizeof size, "%ld", batch);
        snprintf (flush, sizeof flush, "%d", flush_ms);
        if (!freopen (log, "a", stderr))
            _exit (127);
        if (flush_ms > 0)
            execl (AUDIT_BIN_DIR "/audit-ingest", "audit-ingest", "--data-dir", dir,
                   "--ingest-endpoint", endpoint, "--ack-endpoint", ack_endpoint,
                   "--ingest-batch", size, "--ingest-flush-ms", flush, "--log-level", "warn",
                   (char *) NULL);
        else
            execl (AUDIT_BIN_DIR "/audit-ingest", "audit-ingest", "--data-dir", dir,
                   "--ingest-endpoint", endpoint, "--ack-endpoint", ack_endpoint,
                   "--ingest-batch", size, "--log-level", "warn", (char *) NULL);
        _exit (127);
    }
    return pid;
}

int
bench_worker_stop (pid_t pid)
{
    int status;
    if (pid <= 0 || kill (pid, SIGTERM) != 0 || waitpid (pid, &status, 0) != pid)
        return -1;
    return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

int64_t
bench_worker_cpu_ms (pid_t pid)
{
    char path [64], text [1024];
    snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
    FILE *file = fopen (path, "r");
    size_t size = file ? fread (text, 1, sizeof text - 1, file) : 0;
    if (file)
        fclose (file);
    text [size] = 0;
    //  utime and stime are fields 14 and 15, counted after the ")" that
    //  closes field 2 (the command, which may hold spaces)
    char *at = strrchr (text, ')');
    unsigned long long user = 0, system = 0;
    if (!at || sscanf (at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                       &user, &system) != 2)
        return -1;
    return (int64_t) ((user + system) * 1000 / (unsigned long long) sysconf (_SC_CLK_TCK));
}

int64_t
bench_worker_scalar (const char *dir, const char *file, const char *sql)
{
    char path [1200];
    snprintf (path, sizeof path, "%s/%s", dir, file);
    sqlite3 *db = NULL;
    int64_t value = -1;
    struct stat info;
    if (stat (path, &info) == 0
    &&  sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *stmt;
        sqlite3_busy_timeout (db, 1000);
        if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
            value = sqlite3_column_int64 (stmt, 0);
        sqlite3_finalize (stmt);
    }
    sqlite3_close (db);
    return value;
}

int64_t
bench_worker_stored (const char *dir)
{
    return bench_worker_scalar (dir, "audit.db", "SELECT coalesce (sum (next_index), 0) FROM org");
}

//  One ops record (a topic the worker stores without acks)
static void
s_pack_probe (msgpack_sbuffer *buffer, const char *path)
{
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (audit_time_now_ms (), now);
    msgpack_sbuffer_clear (buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 6);
    msgpack_pack_str_with_body (&packer, "v", 1);
    msgpack_pack_uint8 (&packer, 1);
    const char *pairs [] = { "timestamp", now, "client_ip", "127.0.0.1", "method", "GET",
                             "path", path };
    for (int at = 0; at < 8; at++)
        msgpack_pack_str_with_body (&packer, pairs [at], strlen (pairs [at]));
    msgpack_pack_str_with_body (&packer, "status", 6);
    msgpack_pack_uint16 (&packer, 200);
}

void
bench_worker_probe (zsock_t *pub, const char *path, msgpack_sbuffer *buffer)
{
    s_pack_probe (buffer, path);
    zmq_send (zsock_resolve (pub), "ops", 3, ZMQ_SNDMORE);
    zmq_send (zsock_resolve (pub), buffer->data, buffer->size, 0);
}

int
bench_worker_wait_connected (zsock_t *pub, const char *dir)
{
    const char *count = "SELECT count(*) FROM ops";
    int64_t before = bench_worker_scalar (dir, "ops.db", count);
    if (before < 0)
        before = 0;             //  a new store: ops.db is not made yet
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    int rc = -1;
    for (int attempt = 0; attempt < 500 && rc != 0; attempt++) {
        bench_worker_probe (pub, "/probe", &buffer);
        zclock_sleep (20);
        if (bench_worker_scalar (dir, "ops.db", count) > before)
            rc = 0;
    }
    msgpack_sbuffer_destroy (&buffer);
    return rc;
}
