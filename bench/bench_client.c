/*  =========================================================================
    bench_client - the query service as a benchmark talks to it
    ========================================================================= */

#include "bench_client.h"
#include "bench_keys.h"

#include <czmq.h>
#include <signal.h>
#include <sys/wait.h>

#include "audit_logsign.h"
#include "audit_store.h"
#include "query_worker.h"

//  A reply may take as long as the slowest page of a large organisation
#define s_REPLY_TIMEOUT_MS   120000
#define s_START_TIMEOUT_MS   10000

struct _bench_client_t {
    char *secret;
    const char *dir;                    //  the worker's --data-dir and log
    const char *url;                    //  the store's URL, NULL: dir's files
    query_shared_t shared;              //  as audit-query's main sets it up
    query_call_t call;
    query_request_t *request;
    query_reply_t reply;
    msgpack_unpacked unpacked;
    pid_t worker;
    zsock_t *req;
    zframe_t *frame;                    //  the last reply over the socket
};

static int64_t
s_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
}

static int
s_shared_open (bench_client_t *self, const char *dir)
{
    return query_shared_open (&self->shared, dir, "bench", (const uint8_t *) self->secret,
                              strlen (self->secret), NULL);
}

bench_client_t *
bench_client_new (const char *data_dir, const char *secret)
{
    return bench_client_new_at (data_dir, data_dir, secret);
}

bench_client_t *
bench_client_new_at (const char *store, const char *dir, const char *secret)
{
    bench_client_t *self = (bench_client_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = dir;
    self->url = audit_store_is_url (store)? store: NULL;
    self->secret = strdup (secret);
    query_reply_init (&self->reply);
    msgpack_unpacked_init (&self->unpacked);
    self->request = (query_request_t *) calloc (1, sizeof *self->request);
    bool ready = self->secret && self->request && s_shared_open (self, store) == 0;
    audit_store_t *reader = ready ? audit_store_new (store, AUDIT_STORE_READER) : NULL;
    ready = ready && query_worker_call_init (&self->call, &self->shared, &reader,
                                             &self->reply) == 0;
    if (!ready)
        bench_client_destroy (&self);
    return self;
}

int
bench_client_sign (bench_client_t *self, const char *path)
{
    audit_signer_destroy (&self->shared.signer);
    self->shared.signer = audit_logsign_signer (path);
    return self->shared.signer ? 0 : -1;
}

static void
s_worker_stop (bench_client_t *self)
{
    zframe_destroy (&self->frame);
    zsock_destroy (&self->req);
    if (self->worker > 0) {
        kill (self->worker, SIGTERM);
        waitpid (self->worker, NULL, 0);
        self->worker = 0;
    }
}

void
bench_client_destroy (bench_client_t **self_p)
{
    bench_client_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    s_worker_stop (self);
    query_worker_call_release (&self->call);
    query_shared_close (&self->shared);
    query_reply_release (&self->reply);
    msgpack_unpacked_destroy (&self->unpacked);
    free (self->request);
    free (self->secret);
    free (self);
    *self_p = NULL;
}

static pid_t
s_spawn (bench_client_t *self, const char *bin_dir, const char *endpoint)
{
    char program [600], log [600];
    snprintf (program, sizeof program, "%s/audit-query", bin_dir);
    snprintf (log, sizeof log, "%s/query.log", self->dir);
    pid_t pid = fork ();
    if (pid == 0) {
        setenv ("AUDIT_JWT_SECRET", self->secret, 1);
        if (self->url)
            setenv ("AUDIT_DATABASE_URL", self->url, 1);
        if (!freopen (log, "a", stderr))
            _exit (127);
        execl (program, "audit-query", "--data-dir", self->dir,
               "--query-endpoint", endpoint, "--log-level", "warn", (char *) NULL);
        _exit (127);
    }
    return pid;
}

int
bench_client_start (bench_client_t *self, const char *bin_dir, const char *endpoint)
{
    self->worker = s_spawn (self, bin_dir, endpoint);
    //  CURVE when the benchmark turned it on (bench_keys_use)
    self->req = zsock_new (ZMQ_REQ);
    if (self->worker <= 0 || !self->req || bench_keys_apply (self->req) != 0
    ||  zsock_connect (self->req, "%s", endpoint) != 0)
        return -1;
    //  The REQ socket holds the request until the worker has bound
    zsock_set_rcvtimeo (self->req, s_START_TIMEOUT_MS);
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &body, msgpack_sbuffer_write);
    msgpack_pack_map (&packer, 2);
    msgpack_pack_str_with_body (&packer, "v", 1);
    msgpack_pack_uint8 (&packer, 1);
    msgpack_pack_str_with_body (&packer, "op", 2);
    msgpack_pack_str_with_body (&packer, "health", 6);
    bench_answer_t answer;
    int64_t elapsed;
    int rc = bench_client_ask (self, true, &body, &answer, &elapsed);
    msgpack_sbuffer_destroy (&body);
    zsock_set_rcvtimeo (self->req, s_REPLY_TIMEOUT_MS);
    return rc;
}

void
bench_client_stop (bench_client_t *self)
{
    s_worker_stop (self);
}

pid_t
bench_client_worker (bench_client_t *self)
{
    return self->worker;
}

//  The reply's bytes, valid until the next call
static int
s_send_receive (bench_client_t *self, bool socket, const msgpack_sbuffer *body,
                const uint8_t **data, size_t *size)
{
    if (!socket) {
        query_worker_answer (&self->call, self->request, body->data, body->size);
        *data = (const uint8_t *) self->reply.buffer.data;
        *size = self->reply.buffer.size;
        return 0;
    }
    zframe_destroy (&self->frame);
    if (!self->req || zmq_send (zsock_resolve (self->req), body->data, body->size, 0) < 0)
        return -1;
    self->frame = zframe_recv (self->req);
    if (!self->frame)
        return -1;
    *data = zframe_data (self->frame);
    *size = zframe_size (self->frame);
    return 0;
}

static bool
s_is (const msgpack_object *key, const char *name)
{
    return key->via.str.size == strlen (name) && memcmp (key->via.str.ptr, name, key->via.str.size) == 0;
}

static void
s_answer_pair (const msgpack_object *key, const msgpack_object *value, bench_answer_t *answer)
{
    if (key->type != MSGPACK_OBJECT_STR)
        return;
    if (s_is (key, "ok") && value->type == MSGPACK_OBJECT_BOOLEAN)
        answer->ok = value->via.boolean;
    if (s_is (key, "events") && value->type == MSGPACK_OBJECT_ARRAY)
        answer->events = value->via.array.size;
    if (s_is (key, "rows") && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        answer->rows = value->via.u64;
    if (s_is (key, "data") && value->type == MSGPACK_OBJECT_BIN) {
        answer->data = value->via.bin.ptr;
        answer->data_size = value->via.bin.size;
    }
    if (s_is (key, "error") && value->type == MSGPACK_OBJECT_MAP)
        for (uint32_t index = 0; index < value->via.map.size; index++) {
            const msgpack_object *name = &value->via.map.ptr [index].key;
            const msgpack_object *text = &value->via.map.ptr [index].val;
            if (name->type == MSGPACK_OBJECT_STR && s_is (name, "code")
            &&  text->type == MSGPACK_OBJECT_STR)
                snprintf (answer->error, sizeof answer->error, "%.*s",
                          (int) text->via.str.size, text->via.str.ptr);
        }
    if (s_is (key, "next_cursor") && value->type == MSGPACK_OBJECT_STR
    &&  value->via.str.size < sizeof answer->cursor)
        snprintf (answer->cursor, sizeof answer->cursor, "%.*s",
                  (int) value->via.str.size, value->via.str.ptr);
}

int
bench_client_ask (bench_client_t *self, bool socket, const msgpack_sbuffer *body,
                  bench_answer_t *answer, int64_t *elapsed_ns)
{
    memset (answer, 0, sizeof *answer);
    const uint8_t *data;
    size_t size;
    int64_t start = s_now_ns ();
    int rc = s_send_receive (self, socket, body, &data, &size);
    *elapsed_ns = s_now_ns () - start;
    //  A bin is not copied by unpacking: data points into the reply
    msgpack_object *map = &self->unpacked.data;
    if (rc != 0
    ||  msgpack_unpack_next (&self->unpacked, (const char *) data, size, NULL) != MSGPACK_UNPACK_SUCCESS
    ||  map->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t index = 0; index < map->via.map.size; index++)
        s_answer_pair (&map->via.map.ptr [index].key, &map->via.map.ptr [index].val, answer);
    return answer->ok ? 0 : -1;
}
