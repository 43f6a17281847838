/*  =========================================================================
    bench_client - the query service as a benchmark talks to it: in-process
    through query_worker_answer (set up as audit-query's main sets it up),
    or over a REQ socket to a real audit-query started on 127.0.0.1

    The worker gets the secret through AUDIT_JWT_SECRET, so tokens minted
    with it are good on both paths. Its stderr goes to DIR/query.log.
    ========================================================================= */

#ifndef BENCH_CLIENT_H_INCLUDED
#define BENCH_CLIENT_H_INCLUDED

#include <msgpack.h>
#include <stdbool.h>
#include <sys/types.h>

#include "audit_cursor.h"

#ifdef __cplusplus
extern "C" {
#endif

//  What one reply said; data points into the reply, valid until the next
//  bench_client_ask
typedef struct {
    bool ok;
    uint32_t events;                //  list: events on the page
    const char *data;               //  export: the CSV chunk
    size_t data_size;
    uint64_t rows;                  //  export: rows in the chunk
    char cursor [AUDIT_CURSOR_TEXT_SIZE];   //  "" when next_cursor is nil
    char error [64];                //  the reply's error.code, "" when none
} bench_answer_t;

typedef struct _bench_client_t bench_client_t;

//  In-process answers on the stores in data_dir (which must outlive the
//  client); NULL when they cannot be opened.
bench_client_t *
    bench_client_new (const char *data_dir, const char *secret);

//  The same on store, a data directory or a postgresql:// URL (the worker
//  gets a URL as AUDIT_DATABASE_URL), with the worker's --data-dir and
//  its query.log in dir; store and dir must outlive the client.
//  bench_client_new (dir, secret) is bench_client_new_at (dir, dir, secret).
bench_client_t *
    bench_client_new_at (const char *store, const char *dir, const char *secret);

//  Sign in-process with the key file at path, as the worker signs with
//  AUDIT_SIGNING_KEY_FILE (an export's last chunk signs the log; without
//  a key it is answered unavailable). 0 or -1.
int
    bench_client_sign (bench_client_t *self, const char *path);

//  Stop the worker (SIGTERM, wait) and close everything; safe on NULL
//  and twice.
void
    bench_client_destroy (bench_client_t **self_p);

//  Start bin_dir/audit-query on endpoint and wait until it answers
//  health. 0 or -1.
int
    bench_client_start (bench_client_t *self, const char *bin_dir, const char *endpoint);

//  Stop the worker started by bench_client_start and close its socket;
//  in-process answers go on. Nothing when none was started.
void
    bench_client_stop (bench_client_t *self);

//  The worker's process id, 0 before bench_client_start.
pid_t
    bench_client_worker (bench_client_t *self);

//  Send body (in-process, or over the socket) and read the reply into
//  *answer. *elapsed_ns is the time from send to the reply's last byte,
//  without the parsing. 0, or -1 when there was no reply or it was not ok.
int
    bench_client_ask (bench_client_t *self, bool socket, const msgpack_sbuffer *body,
                      bench_answer_t *answer, int64_t *elapsed_ns);

#ifdef __cplusplus
}
#endif

#endif
