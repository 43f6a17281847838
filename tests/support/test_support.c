/*  =========================================================================
    test_support - helpers shared by the suites
    ========================================================================= */

#include "test_support.h"
#include "test_keys.h"
#include "audit_counters.h"
#include "sqlite_store.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit_time.h"
#include "audit_token.h"

#include <czmq.h>

test_pack_t *
test_pack_new (void)
{
    test_pack_t *self = calloc (1, sizeof *self);
    msgpack_sbuffer_init (&self->buffer);
    msgpack_packer_init (&self->packer, &self->buffer, msgpack_sbuffer_write);
    return self;
}

void
test_pack_destroy (test_pack_t **self_p)
{
    if (*self_p) {
        msgpack_sbuffer_destroy (&(*self_p)->buffer);
        free (*self_p);
        *self_p = NULL;
    }
}

void test_pack_map (test_pack_t *self, uint32_t pairs) { msgpack_pack_map (&self->packer, pairs); }

void
test_pack_str (test_pack_t *self, const char *text)
{
    size_t len = strlen (text);
    msgpack_pack_str (&self->packer, len);
    msgpack_pack_str_body (&self->packer, text, len);
}

void test_pack_uint (test_pack_t *self, uint64_t value) { msgpack_pack_uint64 (&self->packer, value); }

void
test_pack_kv_str (test_pack_t *self, const char *key, const char *value)
{
    test_pack_str (self, key);
    test_pack_str (self, value);
}

void
test_pack_kv_uint (test_pack_t *self, const char *key, uint64_t value)
{
    test_pack_str (self, key);
    test_pack_uint (self, value);
}

static void
s_put_be (uint8_t *out, uint64_t value, int bytes)
{
    for (int index = bytes - 1; index >= 0; index--, value >>= 8)
        out [index] = (uint8_t) value;
}

test_pack_t *
test_pack_login (const char *event_id, const char *org, const char *actor, int64_t ms)
{
    test_pack_t *pack = test_pack_new ();
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "event_id", event_id);
    test_pack_kv_str (pack, "event_type", "user_login");
    test_pack_kv_ts_ext (pack, "timestamp", ms, 12);
    test_pack_kv_str (pack, "org_id", org);
    test_pack_kv_str (pack, "actor_id", actor);
    return pack;
}

void
test_pack_kv_ts_ext (test_pack_t *self, const char *key, int64_t ms, int size)
{
    int64_t seconds = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    uint32_t nanos = (uint32_t) ((ms - seconds * 1000) * 1000000);
    uint8_t body [12];
    if (size == 4)
        s_put_be (body, (uint64_t) seconds, 4);
    else
    if (size == 8)
        s_put_be (body, ((uint64_t) nanos << 34) | (uint64_t) seconds, 8);
    else {
        s_put_be (body, nanos, 4);
        s_put_be (body + 4, (uint64_t) seconds, 8);
    }
    test_pack_str (self, key);
    msgpack_pack_ext (&self->packer, (size_t) size, -1);
    msgpack_pack_ext_body (&self->packer, body, (size_t) size);
}

const void *test_pack_data (test_pack_t *self) { return self->buffer.data; }
size_t test_pack_size (test_pack_t *self) { return self->buffer.size; }

void
test_record_login (audit_record_t *record, const char *org, const char *actor, uint32_t n,
                   int64_t ts_ms)
{
    memset (record, 0, sizeof *record);
    record->kind = AUDIT_TOPIC_KIND_AUDIT;
    record->received_ms = ts_ms;
    audit_event_t *event = &record->u.event;
    memset (event->event_id, 0x5a, AUDIT_UUID_SIZE);
    memcpy (event->event_id, &n, sizeof n);
    event->type = AUDIT_EVENT_USER_LOGIN;
    event->timestamp_ms = ts_ms;
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "%s", actor);
}

void
test_uuid (char *text)
{
    uint8_t bytes [16];
    if (getrandom (bytes, sizeof bytes, 0) != (ssize_t) sizeof bytes)
        abort ();
    bytes [6] = (uint8_t) ((bytes [6] & 0x0f) | 0x40);
    bytes [8] = (uint8_t) ((bytes [8] & 0x3f) | 0x80);
    snprintf (text, 37,
        "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
        bytes [0], bytes [1], bytes [2], bytes [3], bytes [4], bytes [5],
        bytes [6], bytes [7], bytes [8], bytes [9], bytes [10], bytes [11],
        bytes [12], bytes [13], bytes [14], bytes [15]);
}

//  A value for each resource field, so any type can be built complete
static void
s_pack_field (test_pack_t *self, audit_field_t field)
{
    const audit_field_info_t *info = audit_proto_field_info (field);
    if (info->kind == AUDIT_KIND_UINT)
        test_pack_kv_uint (self, info->key, info->min + 1);
    else {
        char value [64];
        snprintf (value, sizeof value, "%s-%d", info->key, rand () % 1000);
        test_pack_kv_str (self, info->key, value);
    }
}

test_pack_t *
test_pack_ops_probe (const char *path)
{
    test_pack_t *pack = test_pack_new ();
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms (), now);
    test_pack_map (pack, 6);
    test_pack_kv_uint (pack, "v", 1);
    test_pack_kv_str (pack, "timestamp", now);
    test_pack_kv_str (pack, "client_ip", "127.0.0.1");
    test_pack_kv_str (pack, "method", "GET");
    test_pack_kv_str (pack, "path", path);
    test_pack_kv_uint (pack, "status", 200);
    return pack;
}

test_pack_t *
test_pack_event (audit_event_type_t type, const char *org_id,
                 const char *actor_id, uint32_t extra_pairs, char *event_id)
{
    const audit_event_info_t *info = audit_proto_event_info (type);
    uint32_t required = (uint32_t) __builtin_popcount (info->required);
    test_pack_t *self = test_pack_new ();
    test_pack_map (self, 6 + required + extra_pairs);
    char uuid [37];
    test_uuid (uuid);
    if (event_id)
        memcpy (event_id, uuid, sizeof uuid);
    char now [AUDIT_TIME_TEXT_SIZE];
    audit_time_format (test_now_ms (), now);
    test_pack_kv_uint (self, "v", 1);
    test_pack_kv_str (self, "event_id", uuid);
    test_pack_kv_str (self, "event_type", info->name);
    test_pack_kv_str (self, "timestamp", now);
    test_pack_kv_str (self, "org_id", org_id);
    test_pack_kv_str (self, "actor_id", actor_id);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (info->required & AUDIT_FIELD_BIT (field))
            s_pack_field (self, (audit_field_t) field);
    return self;
}

char *
test_tmpdir_new (const char *tag)
{
    char *path = NULL;
    if (asprintf (&path, "/tmp/audit-test-%s-XXXXXX", tag) < 0)
        abort ();
    if (!mkdtemp (path))
        abort ();
    return path;
}

bool
test_log_holds (const char *path, const char *text, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    char line [2048];
    do {
        FILE *file = fopen (path, "r");
        while (file && fgets (line, sizeof line, file))
            if (strstr (line, text)) {
                fclose (file);
                return true;
            }
        if (file)
            fclose (file);
        zclock_sleep (20);
    } while (zclock_mono () < deadline);
    return false;
}

void
test_store_make (const char *data_dir)
{
    //  audit_store_new makes a missing directory; a database is not one
    if (test_pg_on () && mkdir (data_dir, 0700) != 0 && errno != EEXIST)
        abort ();
    audit_store_t *store = audit_store_new (test_store_location (data_dir), AUDIT_STORE_WRITER);
    if (!store)
        abort ();
    audit_store_destroy (&store);
}

void
test_tmpdir_destroy (char **path_p)
{
    if (*path_p) {
        test_store_location_drop (*path_p);
        char *command = NULL;
        //  and what tests keep beside it: worker logs, a signing key
        if (asprintf (&command, "rm -rf '%s' '%s'.*", *path_p, *path_p) >= 0) {
            if (system (command) != 0)
                fprintf (stderr, "could not remove %s\n", *path_p);
            free (command);
        }
        free (*path_p);
        *path_p = NULL;
    }
}

static bool
s_file_contains (const char *path, const void *needle, size_t size)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return false;
    fseek (file, 0, SEEK_END);
    long length = ftell (file);
    fseek (file, 0, SEEK_SET);
    bool found = false;
    if (length > 0) {
        char *data = malloc ((size_t) length);
        if (data && fread (data, 1, (size_t) length, file) == (size_t) length)
            found = memmem (data, (size_t) length, needle, size) != NULL;
        free (data);
    }
    fclose (file);
    return found;
}

bool
test_dir_contains (const char *dir, const void *needle, size_t size)
{
    //  On PostgreSQL the stores of dir are its database
    if (test_pg_dump_contains (dir, NULL, needle, size))
        return true;
    DIR *handle = opendir (dir);
    if (!handle)
        return false;
    bool found = false;
    struct dirent *entry;
    while (!found && (entry = readdir (handle))) {
        if (strcmp (entry->d_name, ".") == 0 || strcmp (entry->d_name, "..") == 0)
            continue;
        char path [4096];
        snprintf (path, sizeof path, "%s/%s", dir, entry->d_name);
        struct stat info;
        if (lstat (path, &info))
            continue;
        if (S_ISDIR (info.st_mode))
            found = test_dir_contains (path, needle, size);
        else
        if (S_ISREG (info.st_mode))
            found = s_file_contains (path, needle, size);
    }
    closedir (handle);
    return found;
}

//  The signing key the workers of test process pid share
static void
s_process_key (char *key, size_t size, pid_t pid)
{
    snprintf (key, size, "%s/audit-test-signing-%d.key",
              getenv ("TMPDIR")? getenv ("TMPDIR"): "/tmp", (int) pid);
}

//  At the test process's exit: its shared key goes too
static void
s_remove_process_key (void)
{
    char key [4200];
    s_process_key (key, sizeof key, getpid ());
    unlink (key);
}

//  A worker's log signing key, unless the test names one: beside its data
//  directory (outside it, as the service wants), else one per test process
static void
s_default_signing_key (const char *const *args)
{
    char key [4200];
    s_process_key (key, sizeof key, getppid ());
    for (const char *const *arg = args; arg && *arg; arg++)
        if (streq (*arg, "--data-dir") && arg [1]) {
            snprintf (key, sizeof key, "%s.signing.key", arg [1]);
            break;
        }
    setenv ("AUDIT_SIGNING_KEY_FILE", key, 0);
}

//  The data directory a worker is given: --data-dir's, else
//  AUDIT_DATA_DIR's in env; NULL when neither
static const char *
s_data_dir (const char *const *args, const char *const *env)
{
    for (const char *const *arg = args; arg && *arg; arg++)
        if (streq (*arg, "--data-dir") && arg [1])
            return arg [1];
    const char *name = "AUDIT_DATA_DIR=";
    for (const char *const *entry = env; entry && *entry; entry++)
        if (strncmp (*entry, name, strlen (name)) == 0)
            return *entry + strlen (name);
    return NULL;
}

pid_t
test_worker_start (const char *program, const char *const *args,
                   const char *const *env, const char *log_path)
{
    //  PostgreSQL: the directory's database, made here so that this
    //  process can read it and drop it with the directory
    const char *data_dir = test_pg_on ()? s_data_dir (args, env): NULL;
    const char *store = data_dir? test_store_location (data_dir): NULL;
    //  The CURVE mode's settings first, so that the caller's override them;
    //  made here, before the fork, so that the keys are this process's
    const char *keys [3] = { NULL };
    test_keys_env (program, keys);
    static pid_t s_cleaner;             //  the process that removes its key at exit
    if (s_cleaner != getpid () && atexit (s_remove_process_key) == 0)
        s_cleaner = getpid ();
    pid_t pid = fork ();
    if (pid != 0)
        return pid;
    //  A test that times out is killed without its teardown: its workers
    //  must not outlive it
    prctl (PR_SET_PDEATHSIG, SIGKILL);
    char path [4096];
    snprintf (path, sizeof path, "%s/%s", AUDIT_BIN_DIR, program);
    for (const char **entry = keys; *entry; entry++)
        putenv ((char *) *entry);
    s_default_signing_key (args);
    if (store)
        setenv ("AUDIT_DATABASE_URL", store, 1);
    for (const char *const *entry = env; entry && *entry; entry++)
        putenv ((char *) *entry);
    if (log_path) {
        int fd = open (log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0)
            dup2 (fd, 2);
    }
    const char *argv [64] = { path };
    int count = 1;
    for (const char *const *arg = args; arg && *arg && count < 63; arg++)
        argv [count++] = *arg;
    argv [count] = NULL;
    execv (path, (char *const *) argv);
    _exit (127);
}

int
test_worker_stop (pid_t pid, int sig, int timeout_ms)
{
    if (sig)
        kill (pid, sig);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        int status;
        pid_t done = waitpid (pid, &status, WNOHANG);
        if (done == pid)
            return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        usleep (10 * 1000);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    return -1;
}

int
test_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t len = sizeof address;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &address, sizeof address) == 0
    &&  getsockname (fd, (struct sockaddr *) &address, &len) == 0)
        port = ntohs (address.sin_port);
    close (fd);
    return port;
}

int64_t
test_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int
test_request (void *req, test_pack_t *request, msgpack_unpacked *reply)
{
    zframe_t *frame = zframe_new (test_pack_data (request), test_pack_size (request));
    if (zframe_send (&frame, req, 0) != 0)
        return -1;
    //  msgpack-c's objects point into the buffer they were read from, so
    //  the last answer lives until the next request replaces it
    static zframe_t *answer = NULL;
    zframe_destroy (&answer);
    answer = zframe_recv (req);
    if (!answer)
        return -1;
    msgpack_unpacked_destroy (reply);
    msgpack_unpacked_init (reply);
    size_t offset = 0;
    int rc = msgpack_unpack_next (reply, (const char *) zframe_data (answer),
                                  zframe_size (answer), &offset);
    return rc == MSGPACK_UNPACK_SUCCESS ? 0 : -1;
}

const msgpack_object *
test_obj_get (const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t len = strlen (key);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == len
        &&  memcmp (name->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

bool
test_obj_str_eq (const msgpack_object *object, const char *text)
{
    return object && object->type == MSGPACK_OBJECT_STR
        && object->via.str.size == strlen (text)
        && memcmp (object->via.str.ptr, text, object->via.str.size) == 0;
}

bool
test_unpack_frame (zframe_t *frame, msgpack_unpacked *reply)
{
    size_t offset = 0;
    return frame && msgpack_unpack_next (reply, (const char *) zframe_data (frame),
                                         zframe_size (frame), &offset) == MSGPACK_UNPACK_SUCCESS;
}

const char *
test_reply_code (const msgpack_unpacked *reply)
{
    static char code [64];
    code [0] = 0;
    const msgpack_object *error = test_obj_get (&reply->data, "error");
    const msgpack_object *value = test_obj_get (error, "code");
    if (value && value->type == MSGPACK_OBJECT_STR && value->via.str.size < sizeof code) {
        memcpy (code, value->via.str.ptr, value->via.str.size);
        code [value->via.str.size] = 0;
    }
    return code;
}

char *
test_token (const char *secret, const char *role, const char *org,
            const char *device, int64_t ttl_s)
{
    audit_claims_t claims;
    memset (&claims, 0, sizeof claims);
    snprintf (claims.sub, sizeof claims.sub, "sub-%s", role);
    claims.role = streq (role, "org_admin") ? AUDIT_ROLE_ORG_ADMIN
                : streq (role, "platform_ops") ? AUDIT_ROLE_PLATFORM_OPS : AUDIT_ROLE_DEVICE;
    snprintf (claims.org, sizeof claims.org, "%s", org ? org : "");
    snprintf (claims.device, sizeof claims.device, "%s", device ? device : "");
    char *token = NULL;
    audit_token_mint ((const uint8_t *) secret, strlen (secret), &claims, NULL, ttl_s,
                      test_now_ms () / 1000, &token);
    return token;
}

static void
s_counter_collect (const char *name, int64_t value, void *arg)
{
    audit_counters_add ((audit_counters_t *) arg, name, value);
}

int64_t
test_store_counter (audit_store_t *store, const char *name)
{
    audit_counters_t *totals = audit_counters_new ();
    int64_t value = -1;
    if (totals && audit_store_counters_read (store, s_counter_collect, totals) == 0)
        value = audit_counters_get (totals, name);
    audit_counters_destroy (&totals);
    return value;
}

int
test_store_login (audit_store_t *store, const char *org, int64_t ts, int64_t received_ms)
{
    static uint32_t serial;
    audit_record_t record;
    memset (&record, 0, sizeof record);
    record.kind = AUDIT_TOPIC_KIND_AUDIT;
    record.received_ms = received_ms;
    audit_event_t *event = &record.u.event;
    memset (event->event_id, 0x33, AUDIT_UUID_SIZE);
    serial++;
    memcpy (event->event_id + 12, &serial, sizeof serial);
    event->type = AUDIT_EVENT_USER_LOGIN;
    event->timestamp_ms = ts;
    snprintf (event->org_id, sizeof event->org_id, "%s", org);
    snprintf (event->actor_id, sizeof event->actor_id, "actor");
    audit_store_outcome_t outcome;
    return audit_store_write (store, &record, 1, &outcome, NULL) == 0
        && outcome == AUDIT_STORE_STORED? 0: -1;
}

int64_t
test_store_int (audit_store_t *store, audit_db_t db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2 (audit_store_db (store, db), sql, -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    int64_t value = sqlite3_step (stmt) == SQLITE_ROW? sqlite3_column_int64 (stmt, 0): -1;
    sqlite3_finalize (stmt);
    return value;
}
