/*  =========================================================================
    audit_orglog - the next log_index and the latest ts of each
    organisation, and the events found fresh, per transaction

    An open-addressing table from org row id to its next index; a batch
    touches at most as many organisations as it has events, and usually a
    few hundred, so the table grows by doubling and is cleared, not freed,
    between transactions.

    Beside it, the fingerprints of the events this transaction found
    fresh (audit_orglog_fresh): 64 bits of (org, ts, event_id) each, in an
    open-addressing set that grows the same way (at most half full: 16-32
    bytes an event; 512 KiB for a 32,768-event batch, kept for the next).
    Two events that share a fingerprint only cost the second a look in
    the store; a duplicate is never missed.
    ========================================================================= */

#include "audit_orglog.h"
#include "audit_log.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define s_INITIAL_SLOTS 1024            //  a power of two
//  The newest of an organisation without events: older than any ts
#define s_NO_EVENT      INT64_MIN

typedef struct {
    int64_t org;                        //  0: a free slot (row ids start at 1)
    uint64_t next;
    int64_t newest;                     //  the latest ts it held when first read
    bool taken;                         //  an index taken in this transaction
    void *user;                         //  the caller's, for this transaction
} s_slot_t;

struct _audit_orglog_t {
    sqlite3 *conn;
    sqlite3_stmt *select;
    sqlite3_stmt *newest;
    sqlite3_stmt *update;
    s_slot_t *slots;
    size_t capacity;                    //  slots, a power of two
    size_t used;
    uint64_t *prints;                   //  0: free; the fresh events' fingerprints
    size_t print_capacity;              //  a power of two
    size_t prints_used;
};

audit_orglog_t *
audit_orglog_new (sqlite3 *conn)
{
    assert (conn);
    audit_orglog_t *self = (audit_orglog_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->conn = conn;
    self->capacity = s_INITIAL_SLOTS;
    self->slots = (s_slot_t *) calloc (self->capacity, sizeof *self->slots);
    self->print_capacity = s_INITIAL_SLOTS;
    self->prints = (uint64_t *) calloc (self->print_capacity, sizeof *self->prints);
    if (!self->slots || !self->prints
    ||  sqlite3_prepare_v2 (conn, "SELECT next_index FROM org WHERE id = ?1", -1,
                            &self->select, NULL) != SQLITE_OK
    ||  sqlite3_prepare_v2 (conn, "SELECT max (ts) FROM event WHERE org = ?1", -1,
                            &self->newest, NULL) != SQLITE_OK
    ||  sqlite3_prepare_v2 (conn, "UPDATE org SET next_index = ?2 WHERE id = ?1", -1,
                            &self->update, NULL) != SQLITE_OK) {
        audit_log_error ("msg=\"cannot prepare statement\" file=audit.db reason=\"%s\"",
                         sqlite3_errmsg (conn));
        audit_orglog_destroy (&self);
    }
    return self;
}

void
audit_orglog_destroy (audit_orglog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_orglog_t *self = *self_p;
    sqlite3_finalize (self->select);
    sqlite3_finalize (self->newest);
    sqlite3_finalize (self->update);
    free (self->slots);
    free (self->prints);
    free (self);
    *self_p = NULL;
}

static size_t
s_hash (int64_t org, size_t capacity)
{
    uint64_t h = (uint64_t) org * 0x9E3779B97F4A7C15ULL;
    return (size_t) (h >> 32) & (capacity - 1);
}

//  The slot of org, or the free slot where it belongs
static s_slot_t *
s_find (s_slot_t *slots, size_t capacity, int64_t org)
{
    size_t at = s_hash (org, capacity);
    while (slots [at].org != 0 && slots [at].org != org)
        at = (at + 1) & (capacity - 1);
    return &slots [at];
}

//  Keep the table at most half full. 0 or -1.
static int
s_grow (audit_orglog_t *self)
{
    if (2 * (self->used + 1) <= self->capacity)
        return 0;
    size_t capacity = self->capacity * 2;
    s_slot_t *slots = (s_slot_t *) calloc (capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t at = 0; at < self->capacity; at++)
        if (self->slots [at].org)
            *s_find (slots, capacity, self->slots [at].org) = self->slots [at];
    free (self->slots);
    self->slots = slots;
    self->capacity = capacity;
    return 0;
}

//  org.next_index of a row interned in this or an earlier transaction,
//  and the latest ts of its events (one descent of the primary key)
static int
s_read (audit_orglog_t *self, int64_t org, uint64_t *next, int64_t *newest)
{
    sqlite3_bind_int64 (self->select, 1, org);
    int rc = sqlite3_step (self->select);
    int64_t value = rc == SQLITE_ROW? sqlite3_column_int64 (self->select, 0): -1;
    sqlite3_reset (self->select);
    if (value < 0)
        return -1;
    *next = (uint64_t) value;
    sqlite3_bind_int64 (self->newest, 1, org);
    rc = sqlite3_step (self->newest);
    if (rc == SQLITE_ROW)
        *newest = sqlite3_column_type (self->newest, 0) == SQLITE_NULL
                ? s_NO_EVENT: sqlite3_column_int64 (self->newest, 0);
    sqlite3_reset (self->newest);
    return rc == SQLITE_ROW? 0: -1;
}

//  The slot of org in this transaction, read on first use; NULL on error
static s_slot_t *
s_slot (audit_orglog_t *self, int64_t org)
{
    if (s_grow (self) != 0)
        return NULL;
    s_slot_t *slot = s_find (self->slots, self->capacity, org);
    if (slot->org)
        return slot;
    uint64_t next = 0;
    int64_t newest = s_NO_EVENT;
    if (s_read (self, org, &next, &newest) != 0)
        return NULL;
    *slot = (s_slot_t) { org, next, newest, false, NULL };
    self->used++;
    return slot;
}

//  64 bits of (org, ts, id), never 0 (the free mark): the two halves of
//  the id (random in a version-4 id, the time first in a version-7 one)
//  and the two keys, mixed by multiplication and a final xor-shift
static uint64_t
s_print (int64_t org, int64_t ts, const uint8_t *id)
{
    uint64_t low, high;
    memcpy (&low, id, sizeof low);
    memcpy (&high, id + sizeof low, sizeof high);
    uint64_t h = low * 0x9E3779B97F4A7C15ULL ^ (high + (uint64_t) ts) * 0xC2B2AE3D27D4EB4FULL
               ^ (uint64_t) org * 0x165667B19E3779F9ULL;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
    return h? h: 1;
}

//  The slot of print, or the free slot where it belongs
static uint64_t *
s_print_find (uint64_t *prints, size_t capacity, uint64_t print)
{
    size_t at = (size_t) (print >> 32) & (capacity - 1);
    while (prints [at] && prints [at] != print)
        at = (at + 1) & (capacity - 1);
    return &prints [at];
}

//  Keep the set at most half full. 0 or -1.
static int
s_prints_grow (audit_orglog_t *self)
{
    if (2 * (self->prints_used + 1) <= self->print_capacity)
        return 0;
    size_t capacity = self->print_capacity * 2;
    uint64_t *prints = (uint64_t *) calloc (capacity, sizeof *prints);
    if (!prints)
        return -1;
    for (size_t at = 0; at < self->print_capacity; at++)
        if (self->prints [at])
            *s_print_find (prints, capacity, self->prints [at]) = self->prints [at];
    free (self->prints);
    self->prints = prints;
    self->print_capacity = capacity;
    return 0;
}

int
audit_orglog_fresh (audit_orglog_t *self, int64_t org, int64_t ts, const uint8_t *id)
{
    assert (self);
    assert (org > 0);
    assert (id);
    s_slot_t *slot = s_slot (self, org);
    if (!slot)
        return -1;
    if (ts <= slot->newest)
        return 0;                       //  the store may hold it: ask
    uint64_t print = s_print (org, ts, id);
    if (*s_print_find (self->prints, self->print_capacity, print))
        return 0;                       //  found fresh before, or its print's twin
    //  Grown only for a print it keeps, then its place found again
    if (s_prints_grow (self) != 0)
        return -1;
    *s_print_find (self->prints, self->print_capacity, print) = print;
    self->prints_used++;
    return 1;
}

int
audit_orglog_take (audit_orglog_t *self, int64_t org, uint64_t *index, void ***user)
{
    assert (self);
    assert (org > 0);
    s_slot_t *slot = s_slot (self, org);
    if (!slot)
        return -1;
    *index = slot->next++;
    slot->taken = true;
    if (user)
        *user = &slot->user;
    return 0;
}

int
audit_orglog_flush (audit_orglog_t *self)
{
    assert (self);
    int rc = 0;
    for (size_t at = 0; rc == 0 && at < self->capacity; at++) {
        if (!self->slots [at].org || !self->slots [at].taken)
            continue;
        sqlite3_bind_int64 (self->update, 1, self->slots [at].org);
        sqlite3_bind_int64 (self->update, 2, (int64_t) self->slots [at].next);
        rc = sqlite3_step (self->update) == SQLITE_DONE
          && sqlite3_changes (self->conn) == 1? 0: -1;
        sqlite3_reset (self->update);
    }
    audit_orglog_forget (self);
    return rc;
}

void
audit_orglog_forget (audit_orglog_t *self)
{
    assert (self);
    if (self->used)
        memset (self->slots, 0, self->capacity * sizeof *self->slots);
    if (self->prints_used)
        memset (self->prints, 0, self->print_capacity * sizeof *self->prints);
    self->used = 0;
    self->prints_used = 0;
}
