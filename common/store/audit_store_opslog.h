/*  =========================================================================
    audit_store_opslog - pages of the operational log (ops.db), newest
    first

    A page is keyset-paged: each record has a position (its timestamp and
    the store's own key for it), and the next page starts strictly after
    the last record's position, so rows that arrive meanwhile neither
    repeat nor push others out. A page is opened from a query, stepped
    record by record, and closed; one page at a time per store.
    ========================================================================= */

#ifndef AUDIT_STORE_OPSLOG_H_INCLUDED
#define AUDIT_STORE_OPSLOG_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Which records a page holds
typedef struct {
    int64_t from_ms, to_ms;             //  from_ms <= timestamp < to_ms
    int64_t after_ts_ms, after_id;      //  only records older than this
                                        //  position; INT64_MAX both: from the newest
    uint32_t status;                    //  0: any status
    const char *client_ip;              //  NULL or "": any client
    uint32_t limit;                     //  records in the page, at most
} audit_store_opslog_query_t;

//  One record, lent until the next step or the close
typedef struct {
    int64_t timestamp_ms;
    int64_t id;                         //  the store's key: a position is (timestamp_ms, id)
    const char *client_ip, *method, *path;  //  never NULL
    uint32_t status;
} audit_store_opslog_record_t;

typedef struct _audit_store_opslog_t audit_store_opslog_t;

//  Open the page of query (copied) on store, which must outlive it. NULL
//  when the store cannot be read (logged) or out of memory.
audit_store_opslog_t *
    audit_store_opslog_open (audit_store_t *store, const audit_store_opslog_query_t *query);

//  The page's next record into *record: 1 when there was one, 0 at the
//  end of the page, -1 when the store failed.
int
    audit_store_opslog_step (audit_store_opslog_t *self, audit_store_opslog_record_t *record);

//  After step returned 0: whether records past this page match the query.
bool
    audit_store_opslog_more (audit_store_opslog_t *self);

//  Close the page; safe on NULL and twice.
void
    audit_store_opslog_close (audit_store_opslog_t **self_p);

#ifdef __cplusplus
}
#endif

#endif
