/*  =========================================================================
    audit-query - answers the portal, platform operators and devices

    Thin, like Malamute's main: the settings it reads, the JWT secret,
    and the shared state every worker thread reads (token verifier, cursor
    key, the one writer) under the server actor; audit_worker runs the
    rest.
    ========================================================================= */

#include <czmq.h>

#include "audit_log.h"
#include "audit_logsign.h"
#include "audit_worker.h"
#include "query_server.h"


static const audit_setting_t s_settings [] = {
    AUDIT_SET_QUERY_ENDPOINT, AUDIT_SET_DATA_DIR, AUDIT_SET_DATABASE_URL, AUDIT_SET_JWT_SECRET_FILE,
    AUDIT_SET_JWT_SECRET, AUDIT_SET_JWT_AUDIENCE, AUDIT_SET_JWT_MAX_AGE, AUDIT_SET_QUERY_THREADS,
    AUDIT_SET_QUERY_PEER_REQUESTS, AUDIT_SET_QUERY_PEER_BYTES, AUDIT_SET_MAX_CONNECTIONS,
    AUDIT_SET_MEMORY_GUARD_MIB, AUDIT_SET_CURVE_SECRET_FILE, AUDIT_SET_QUERY_KEYS_DIR, AUDIT_SET_ALLOW_PLAINTEXT,
    AUDIT_SET_SIGNING_KEY_FILE, AUDIT_SET_LOG_LEVEL
};

static audit_curve_t *s_curve;

//  The secret: from the file when one is named, else from the variable.
//  A named file that gives none is reported as itself: "no JWT secret"
//  would hide the operator's mistake behind the one they did not make.
//  At start a refusal is an error; at a reload a warning, as the secret
//  before stays in use
static int
s_load_secret (const audit_config_t *config, audit_log_level_t level, const char *msg,
               uint8_t **secret, size_t *len)
{
    const char *path = audit_config_str (config, AUDIT_SET_JWT_SECRET_FILE);
    const char *text = audit_config_str (config, AUDIT_SET_JWT_SECRET);
    char reason [AUDIT_TOKEN_REASON_MAX];
    if (*path) {
        if (audit_token_secret_from_file (path, secret, len, reason) == 0)
            return 0;
        audit_log (level, "msg=%s reason=\"cannot use the JWT secret file %s: %s\"",
                   msg, path, reason);
        return -1;
    }
    if (*text) {
        if (audit_token_secret_from_text (text, secret, len, reason) == 0)
            return 0;
        audit_log (level, "msg=%s reason=\"cannot use AUDIT_JWT_SECRET: %s\"", msg, reason);
        return -1;
    }
    audit_log (level, "msg=%s reason=\"no JWT secret: set AUDIT_JWT_SECRET_FILE or AUDIT_JWT_SECRET\"",
               msg);
    return -1;
}

static query_shared_t s_shared;
//  What the secret was, to tell whether a reload changed it (never logged)
static char s_secret_digest [64];

static void
s_digest (const uint8_t *secret, size_t len, char *digest, size_t size)
{
    zdigest_t *hash = zdigest_new ();
    if (hash)
        zdigest_update (hash, secret, len);
    snprintf (digest, size, "%s", hash ? zdigest_string (hash) : "");
    zdigest_destroy (&hash);
}

//  The shared state, then the server on it; NULL when either cannot be
static zactor_t *
s_actor_new (const audit_config_t *config)
{
    uint8_t *secret = NULL;
    size_t len = 0;
    if (audit_worker_curve (config, &s_curve) != 0
    ||  s_load_secret (config, AUDIT_LOG_ERROR, "cannot_start", &secret, &len) != 0)
        return NULL;
    s_digest (secret, len, s_secret_digest, sizeof s_secret_digest);
    int rc = query_shared_open (&s_shared, audit_worker_store (config),
                                AUDIT_VERSION, secret, len,
                                audit_config_str (config, AUDIT_SET_JWT_AUDIENCE));
    audit_token_secret_free (&secret, len);
    if (rc == 0)
        rc = query_shared_set_max_age (&s_shared, (int64_t) audit_config_uint (config,
                                                                 AUDIT_SET_JWT_MAX_AGE));
    if (rc != 0)
        return NULL;
    //  export's checkpoint, checkpoint and log_key need it
    s_shared.signer = audit_logsign_signer (audit_config_str (config, AUDIT_SET_SIGNING_KEY_FILE));
    if (!s_shared.signer)
        return NULL;
    query_server_options_t options = {
        .endpoint = audit_config_str (config, AUDIT_SET_QUERY_ENDPOINT),
        .workers = (int) audit_config_uint (config, AUDIT_SET_QUERY_THREADS),
        .shared = &s_shared, .curve = s_curve,
        .keys_dir = audit_config_str (config, AUDIT_SET_QUERY_KEYS_DIR),
        .allow_plaintext = audit_config_uint (config, AUDIT_SET_ALLOW_PLAINTEXT) == 1,
        .peer_requests = audit_config_uint (config, AUDIT_SET_QUERY_PEER_REQUESTS),
        .peer_bytes = audit_config_uint (config, AUDIT_SET_QUERY_PEER_BYTES),
        .max_connections = audit_config_uint (config, AUDIT_SET_MAX_CONNECTIONS),
        .memory_guard = audit_config_uint (config, AUDIT_SET_MEMORY_GUARD_MIB) << 20
    };
    return query_server_new (&options);
}

//  After the server: its workers read the shared state to the end
static void
s_release (void)
{
    query_shared_close (&s_shared);
    audit_curve_destroy (&s_curve);
}

//  SIGHUP: the JWT secret file again (the variable cannot change), then
//  the client keys; a secret that cannot be read leaves the one before
static int
s_reload (zactor_t *actor, const audit_config_t *config)
{
    uint8_t *secret = NULL;
    size_t len = 0;
    int rc = s_load_secret (config, AUDIT_LOG_WARN, "jwt_secret_not_reloaded", &secret, &len);
    if (rc == 0) {
        char digest [sizeof s_secret_digest];
        s_digest (secret, len, digest, sizeof digest);
        bool changed = strcmp (digest, s_secret_digest) != 0;
        rc = changed ? query_shared_rekey (&s_shared, secret, len) : 0;
        if (rc == 0 && changed)
            snprintf (s_secret_digest, sizeof s_secret_digest, "%s", digest);
        audit_log_info ("msg=jwt_secret_reloaded changed=%s", changed && rc == 0 ? "yes" : "no");
        audit_token_secret_free (&secret, len);
    }
    return audit_worker_reload (actor, config) == 0 ? rc : -1;
}

static const audit_worker_t s_worker = {
    .program = "audit-query", .service = "query",
    .purpose = "Answers list, export, retention, ops, stats and mq requests over ZeroMQ.",
    AUDIT_WORKER_SETTINGS (s_settings),
    .needs_store = true,
    .actor_new = s_actor_new, .release = s_release, .reload = s_reload
};

int
main (int argc, char **argv)
{
    return audit_worker_main (&s_worker, argc, argv);
}
