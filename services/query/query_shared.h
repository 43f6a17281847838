/*  =========================================================================
    query_shared - what every worker thread of audit-query shares

    The token verifier, the cursor key (derived from the JWT secret, so
    that a cursor survives a restart and is good at every query process),
    the one maintainer store the few query-side writes go through, and the
    tally of error replies. audit-query's main and the query benchmark set
    it up the same way, here.
    ========================================================================= */

#ifndef QUERY_SHARED_H_INCLUDED
#define QUERY_SHARED_H_INCLUDED

#include <pthread.h>

#include "audit_cursor.h"
#include "audit_signer.h"
#include "audit_store.h"
#include "audit_token.h"
#include "query_tally.h"

#ifdef __cplusplus
extern "C" {
#endif

//  What the JWT secret gives: a SIGHUP may swap them for new ones while
//  requests run, so a request holds the pair it started with to its end
typedef struct {
    audit_token_t *verifier;
    audit_cursor_key_t *cursor_key;
    int holders;                    //  under keys_lock; the shared state is one
} query_keys_t;

//  Read-only after open but for the keys (under keys_lock), the writer,
//  which is used under writer_lock, and the tally, which has its own
typedef struct {
    const char *data_dir;
    const char *version;
    const char *audience;
    int64_t max_age_s;              //  of a token (AUDIT_JWT_MAX_AGE)
    query_keys_t *keys;
    pthread_mutex_t keys_lock;
    audit_store_t *writer;
    pthread_mutex_t writer_lock;
    query_tally_t *tally;
    audit_signer_t *signer;         //  the log's checkpoint key, owned; set after open
} query_shared_t;

//  Open everything in data_dir (borrowed, like version) with the JWT
//  secret (copied) and audience (NULL or "": the default). 0, or -1 with
//  the reason logged; close it either way.
int
    query_shared_open (query_shared_t *self, const char *data_dir, const char *version,
                       const uint8_t *secret, size_t len, const char *audience);

//  Set the longest token lifetime, in seconds, for the keys now and those
//  a SIGHUP makes; call before the server starts. 0, or -1 when out of range.
int
    query_shared_set_max_age (query_shared_t *self, int64_t max_age_s);

//  The keys now, held until query_shared_keys_release. Any thread.
const query_keys_t *
    query_shared_keys_hold (query_shared_t *self);

//  Let go of keys (NULL after); freed when a newer pair replaced them.
void
    query_shared_keys_release (query_shared_t *self, const query_keys_t **keys_p);

//  New keys from the JWT secret (copied); requests already running keep
//  theirs. 0, or -1 (the reason is logged) with the keys as they were.
int
    query_shared_rekey (query_shared_t *self, const uint8_t *secret, size_t len);

//  Write the last error counts, then free everything; safe twice.
void
    query_shared_close (query_shared_t *self);

#ifdef __cplusplus
}
#endif

#endif
