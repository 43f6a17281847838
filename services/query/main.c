/*  =========================================================================
    audit-query - answers the portal, platform operators and devices

    Thin, like Malamute's main: configuration, the shared state every
    worker thread reads (token verifier, cursor key, the one writer), the
    server actor, then wait for SIGTERM or SIGINT.
    ========================================================================= */

#include <czmq.h>
#include <errno.h>
#include <sys/stat.h>

#include "audit_config.h"
#include "audit_log.h"
#include "audit_signals.h"
#include "query_server.h"

#define S_VERSION "1.0.0"

static const audit_setting_t s_settings [] = {
    AUDIT_SET_QUERY_ENDPOINT, AUDIT_SET_DATA_DIR, AUDIT_SET_JWT_SECRET_FILE,
    AUDIT_SET_JWT_SECRET, AUDIT_SET_JWT_AUDIENCE, AUDIT_SET_QUERY_THREADS, AUDIT_SET_LOG_LEVEL
};

//  Why a named secret file gave no secret: the system's reason, else
//  what is wrong with its size (its content is never shown)
static void
s_secret_file_problem (const char *path, char *reason, size_t size)
{
    struct stat info;
    FILE *file = NULL;
    if (stat (path, &info) != 0)
        snprintf (reason, size, "%s", strerror (errno));
    else
    if (S_ISDIR (info.st_mode))
        snprintf (reason, size, "%s", strerror (EISDIR));
    else
    if (!(file = fopen (path, "rb")))
        snprintf (reason, size, "%s", strerror (errno));
    else
    if (info.st_size <= 2)
        snprintf (reason, size, "it is empty (or only a line end)");
    else
    if (info.st_size > AUDIT_TOKEN_SECRET_MAX)
        snprintf (reason, size, "it is longer than %d bytes", AUDIT_TOKEN_SECRET_MAX);
    else
        snprintf (reason, size, "it cannot be read");
    if (file)
        fclose (file);
}

//  The secret: from the file when one is named, else from the variable.
//  A named file that gives none is reported as itself: "no JWT secret"
//  would hide the operator's mistake behind the one they did not make
static int
s_load_secret (const audit_config_t *config, uint8_t **secret, size_t *len)
{
    const char *path = audit_config_str (config, AUDIT_SET_JWT_SECRET_FILE);
    const char *text = audit_config_str (config, AUDIT_SET_JWT_SECRET);
    char reason [128];
    if (*path && audit_token_secret_from_file (path, secret, len) == 0)
        return 0;
    if (*path) {
        s_secret_file_problem (path, reason, sizeof reason);
        audit_log_error ("msg=cannot_start reason=\"cannot use the JWT secret file %s: %s\"",
                         path, reason);
        return -1;
    }
    if (*text && audit_token_secret_from_text (text, secret, len) == 0)
        return 0;
    audit_log_error ("msg=cannot_start reason=\"no JWT secret: set AUDIT_JWT_SECRET_FILE or AUDIT_JWT_SECRET\"");
    return -1;
}

static int
s_shared_init (query_shared_t *shared, const audit_config_t *config)
{
    uint8_t *secret = NULL;
    size_t len = 0;
    if (s_load_secret (config, &secret, &len) != 0)
        return -1;
    int rc = query_shared_open (shared, audit_config_str (config, AUDIT_SET_DATA_DIR), S_VERSION,
                                secret, len, audit_config_str (config, AUDIT_SET_JWT_AUDIENCE));
    audit_token_secret_free (&secret, len);
    return rc;
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
        query_shared_close (&shared);
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
        query_shared_close (&shared);
        return 1;
    }
    int signo = audit_signals_wait (signal_fd, server, -1);
    audit_log_info ("msg=stopping signal=%d", signo);
    zactor_destroy (&server);
    query_shared_close (&shared);
    audit_log_info ("msg=stopped");
    close (signal_fd);
    return 0;
}
