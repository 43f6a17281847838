/*  =========================================================================
    test_support - what many suites need: temp directories, MessagePack
    builders for events, a byte search over every file of a directory, and
    starting and stopping the real workers.
    ========================================================================= */

#ifndef TEST_SUPPORT_H_INCLUDED
#define TEST_SUPPORT_H_INCLUDED

#include <czmq.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "audit_proto.h"
#include "audit_store.h"
#include "test_pg.h"

//  A MessagePack buffer being built
typedef struct {
    msgpack_sbuffer buffer;
    msgpack_packer packer;
} test_pack_t;

test_pack_t *test_pack_new (void);
void test_pack_destroy (test_pack_t **self_p);
void test_pack_map (test_pack_t *self, uint32_t pairs);
void test_pack_str (test_pack_t *self, const char *text);
void test_pack_uint (test_pack_t *self, uint64_t value);
void test_pack_kv_str (test_pack_t *self, const char *key, const char *value);
void test_pack_kv_uint (test_pack_t *self, const char *key, uint64_t value);
//  key + MessagePack timestamp ext of 4, 8 or 12 bytes for ms
void test_pack_kv_ts_ext (test_pack_t *self, const char *key, int64_t ms, int size);
const void *test_pack_data (test_pack_t *self);
size_t test_pack_size (test_pack_t *self);

//  A user_login of org by actor with event_id, at ms (a 12-byte timestamp
//  ext), as a producer without producer_id publishes it; to destroy.
test_pack_t *test_pack_login (const char *event_id, const char *org, const char *actor,
                              int64_t ms);

//  Pack a valid audit event of type with every required field set, a
//  random event_id (written into event_id when not NULL, 37 bytes), the
//  timestamp now as RFC 3339, org and actor as given, and extra_pairs
//  more key/value pairs for the caller to append (the map header counts
//  them). Returns the pack; the caller appends extras then sends.
//  An ops record of now (GET path, status 200), the probe a test publishes
//  to see that the ingest worker hears it and stores.
test_pack_t *test_pack_ops_probe (const char *path);

test_pack_t *test_pack_event (audit_event_type_t type, const char *org_id,
                              const char *actor_id, uint32_t extra_pairs,
                              char *event_id);

//  Record n of a store test: a user_login of org by actor at ts_ms (also
//  its received time), its event id 16 bytes 0x5a with n in the first
//  four. The caller adds fields, or changes its type or times.
void test_record_login (audit_record_t *record, const char *org, const char *actor,
                        uint32_t n, int64_t ts_ms);

//  A random canonical lower-case UUID v4 text (37 bytes)
void test_uuid (char *text);

//  Make a fresh directory under /tmp; returns a heap path to free.
char *test_tmpdir_new (const char *tag);
//  rm -rf the directory and free the path, and drop the PostgreSQL
//  databases of it and under it (test_pg); safe on NULL.
void test_tmpdir_destroy (char **path_p);
//  True once a line of the file at path (a worker's log) holds text,
//  looked at every 20 ms for timeout_ms (0: once).
bool test_log_holds (const char *path, const char *text, int timeout_ms);

//  Create (as the ingest worker does) the stores of data_dir, which may
//  not exist yet: a query worker or janitor starts only on them. On
//  PostgreSQL (test_pg) they are data_dir's database, and data_dir is
//  made too (the workers still want one).
void test_store_make (const char *data_dir);

//  True when needle occurs in any regular file under dir (recursively),
//  WAL and SHM files included.
bool test_dir_contains (const char *dir, const void *needle, size_t size);

//  Start one of the build's executables (e.g. "audit-ingest") with the
//  NULL-terminated argv tail and extra "NAME=value" environment entries.
//  On PostgreSQL a worker given a data directory (--data-dir, else
//  AUDIT_DATA_DIR in env) gets AUDIT_DATABASE_URL, its database's
//  (test_store_location), unless env names one. stderr goes to log_path
//  when not NULL. Returns the pid or -1.
pid_t test_worker_start (const char *program, const char *const *args,
                         const char *const *env, const char *log_path);
//  Send sig and wait up to timeout_ms; returns the exit status (0..255),
//  128+signal when killed, or -1 on timeout (then SIGKILLs it).
int test_worker_stop (pid_t pid, int sig, int timeout_ms);

//  The persistent total of counter name in store; -1 when it cannot be read
int64_t test_store_counter (audit_store_t *store, const char *name);

//  Store one user_login of org at ts (received at received_ms) with an
//  event_id no other call gave out. 0 when it was stored, else -1.
int test_store_login (audit_store_t *store, const char *org, int64_t ts, int64_t received_ms);

//  The first column of the first row of sql on one store's connection, or
//  -1 when there is no row or the SQL fails.
int64_t test_store_int (audit_store_t *store, audit_db_t db, const char *sql);

//  A free TCP port on 127.0.0.1, for a worker's endpoint
int test_free_port (void);

//  Milliseconds now, wall clock
int64_t test_now_ms (void);

#endif

//  --- Query clients -------------------------------------------------------

//  Send the packed request on a REQ socket and decode the reply into
//  *reply (msgpack_unpacked_init'ed by the caller, destroyed by it too).
//  The reply's strings point into the answer frame, which lives until the
//  next test_request. Returns 0, or -1 when no reply came in time.
int test_request (void *req, test_pack_t *request, msgpack_unpacked *reply);

//  The value of key in a map object, or NULL.
const msgpack_object *test_obj_get (const msgpack_object *map, const char *key);

//  True when object is a str equal to text.
bool test_obj_str_eq (const msgpack_object *object, const char *text);

//  Decode the msgpack value frame holds (a reply's last frame) into *reply
//  (msgpack_unpacked_init'ed by the caller). false when it does not decode.
bool test_unpack_frame (zframe_t *frame, msgpack_unpacked *reply);

//  The reply's error code ("" when ok or absent), as a static buffer copy.
const char *test_reply_code (const msgpack_unpacked *reply);

//  Mint an HS256 token for the test secret; org/device may be NULL.
//  The caller frees the text.
char *test_token (const char *secret, const char *role, const char *org,
                  const char *device, int64_t ttl_s);
