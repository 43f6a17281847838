/*  =========================================================================
    audit-query - answers the portal, platform operators and devices

    Thin, like Malamute's main: configuration, the shared state every
    worker thread reads (token verifier, cursor key, the one writer), the
    server actor, then wait for SIGTERM or SIGINT.
    ========================================================================= */

#include <czmq.h>

#include "audit_config.h"
#include "audit_log.h"
#include "audit_signals.h"
#include "query_server.h"

#define S_VERSION "1.0.0"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_QUERY_ENDPOINT, AUDIT_SET_DATA_DIR, AUDIT_SET_JWT_SECRET_FILE,
    AUDIT_SET_JWT_SECRET, AUDIT_SET_JWT_AUDIENCE, AUDIT_SET_QUERY_THREADS, AUDIT_SET_LOG_LEVEL
};

//  The secret: from the file when one is named, else from the variable
static int
s_load_secret (const audit_config_t *config, uint8_t **secret, size_t *len)
{
    const char *path = audit_config_str (config, AUDIT_SET_JWT_SECRET_FILE);
    const char *text = audit_config_str (config, AUDIT_SET_JWT_SECRET);
    if (*path)
        return audit_token_secret_from_file (path, secret, len);
    if (*text)
        return audit_token_secret_from_text (text, secret, len);
    return -1;
}

static void
s_shared_destroy (query_shared_t *shared)
{
    audit_token_destroy (&shared->verifier);
    audit_cursor_key_destroy (&shared->cursor_key);
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        audit_stmts_destroy (&shared->writer_stmts [db]);
    audit_store_destroy (&shared->writer);
    pthread_mutex_destroy (&shared->writer_lock);
}

//  Cursors are signed with a key derived from the JWT secret, so that a
//  cursor survives a restart and is good at every query process
static int
s_shared_init (query_shared_t *shared, const audit_config_t *config)
{
    memset (shared, 0, sizeof *shared);
    pthread_mutex_init (&shared->writer_lock, NULL);
    shared->data_dir = audit_config_str (config, AUDIT_SET_DATA_DIR);
    shared->version = S_VERSION;
    uint8_t *secret = NULL;
    size_t len = 0;
    if (s_load_secret (config, &secret, &len) != 0) {
        audit_log_error ("msg=cannot_start reason=\"no JWT secret: set AUDIT_JWT_SECRET_FILE or AUDIT_JWT_SECRET\"");
        return -1;
    }
    shared->verifier = audit_token_new (secret, len, audit_config_str (config, AUDIT_SET_JWT_AUDIENCE));
    shared->cursor_key = audit_cursor_key_new_from_bytes (secret, len);
    audit_token_secret_free (&secret, len);
    if (!shared->verifier || !shared->cursor_key) {
        audit_log_error ("msg=cannot_start reason=\"JWT secret or audience not usable\"");
        return -1;
    }
    shared->writer = audit_store_new (shared->data_dir, AUDIT_STORE_MAINTAINER);
    if (!shared->writer)
        return -1;
    for (int db = 0; db < AUDIT_DB_COUNT; db++)
        if (!(shared->writer_stmts [db] = audit_stmts_new (audit_store_db (shared->writer, (audit_db_t) db))))
            return -1;
    return 0;
}

int
main (int argc, char **argv)
{
    static audit_config_t config;
    int rc = audit_config_startup (&config, argc, argv, "audit-query", "query",
        "Answers list, export, retention, ops, stats and mq requests over ZeroMQ.",
        s_settings, sizeof s_settings / sizeof s_settings [0]);
    if (rc >= 0)
        return rc;
    int signal_fd = audit_signals_block ();
    static query_shared_t shared;
    if (s_shared_init (&shared, &config) != 0) {
        s_shared_destroy (&shared);
        return 1;
    }
    query_server_options_t options = {
        .endpoint = audit_config_str (&config, AUDIT_SET_QUERY_ENDPOINT),
        .workers = (int) audit_config_uint (&config, AUDIT_SET_QUERY_THREADS),
        .shared = &shared
    };
    zactor_t *server = query_server_new (&options);
    if (!server || query_server_start (server) != 0) {
        zactor_destroy (&server);
        s_shared_destroy (&shared);
        return 1;
    }
    int signo = audit_signals_wait (signal_fd, server, -1);
    audit_log_info ("msg=stopping signal=%d", signo);
    zactor_destroy (&server);
    s_shared_destroy (&shared);
    close (signal_fd);
    return 0;
}
