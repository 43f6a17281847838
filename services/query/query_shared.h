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
#include "audit_store.h"
#include "audit_token.h"
#include "query_tally.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Read-only after open but for the writer, which is used under
//  writer_lock, and the tally, which has its own
typedef struct {
    const char *data_dir;
    const char *version;
    audit_token_t *verifier;
    audit_cursor_key_t *cursor_key;
    audit_store_t *writer;
    pthread_mutex_t writer_lock;
    query_tally_t *tally;
} query_shared_t;

//  Open everything in data_dir (borrowed, like version) with the JWT
//  secret (copied) and audience (NULL or "": the default). 0, or -1 with
//  the reason logged; close it either way.
int
    query_shared_open (query_shared_t *self, const char *data_dir, const char *version,
                       const uint8_t *secret, size_t len, const char *audience);

//  Write the last error counts, then free everything; safe twice.
void
    query_shared_close (query_shared_t *self);

#ifdef __cplusplus
}
#endif

#endif
