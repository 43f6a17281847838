/*  =========================================================================
    janitor_round - one round of the audit purge: a bounded set of expired
    events, found without the write lock, then deleted in two orders

    An expired event lives in two places of audit.db: its row (event, with
    the event_org_ts index) and its key (event_key, ordered by event_id,
    which is random). Deleted together, every row costs a random event_key
    page; a batch of the janitor then dirties about as many pages as it
    has rows, and copying them (WAL, checkpoint) is what limits the rate.
    A round instead:

      1. collects up to a bound of expired events, org by org, along
         event_org_ts, as read-only statements (ingest keeps writing);
      2. sorts them by row id and reads their event_ids in that order;
         sorts the event_ids;
      3. deletes the keys in key order: consecutive deletes land on the
         same event_key page, so a batch dirties a page per ~100 keys;
      4. deletes the rows in row order, each only if it is still older
         than the cut it was collected under (a row id can be reused).

    Keys go first. A stop or a crash between 3 and 4 leaves expired rows
    without keys; the next round collects them again (their keys are then
    gone already) and deletes them. The other order could leave keys with
    no event, which nothing would ever find again. While a row waits
    without its key, a second copy of the same event would be stored; it
    is as expired as the first and goes in the next round.

    A round may span passes: its cuts are those of the retention read when
    it was collected, so a retention raised meanwhile applies from the
    next round on.
    ========================================================================= */

#ifndef JANITOR_ROUND_H_INCLUDED
#define JANITOR_ROUND_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "janitor_db.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _janitor_round_t janitor_round_t;

//  A round on audit (borrowed) that holds at most rows_max events
//  (32 bytes each while it lasts). NULL on failure.
janitor_round_t *
    janitor_round_new (janitor_db_t *audit, size_t rows_max);

//  Destroy; safe on NULL and twice.
void
    janitor_round_destroy (janitor_round_t **self_p);

//  Step 1, outside any transaction: add the events of org older than
//  cut_ms, oldest first, while there is room. *complete tells whether
//  every such event of org is in the round now. 0 or -1.
int
    janitor_round_collect (janitor_round_t *self, int64_t org, int64_t cut_ms,
                           bool *complete);

//  Step 2, outside any transaction: read the collected events' keys and
//  put both lists in order. 0 or -1 (the round is then emptied).
int
    janitor_round_seal (janitor_round_t *self);

//  Keys sealed and not yet deleted.
size_t
    janitor_round_keys_left (janitor_round_t *self);

//  Rows sealed and not yet deleted.
size_t
    janitor_round_rows_left (janitor_round_t *self);

//  True while events are collected but not sealed.
bool
    janitor_round_collecting (janitor_round_t *self);

//  Step 3, inside the caller's write transaction: delete the next keys,
//  at most size, and none after zclock_usecs () reaches until_us (looked
//  at every 64 keys: a batch whose pages are slower than usual still lets
//  go of the lock in time). *deleted gets how many went. 0 or -1.
int
    janitor_round_delete_keys (janitor_round_t *self, int size, int64_t until_us,
                               int64_t *deleted);

//  Step 4, the same for the next rows. When the last row is done the round
//  is empty and its memory is freed. 0 or -1.
int
    janitor_round_delete_rows (janitor_round_t *self, int size, int64_t until_us,
                               int64_t *deleted);

//  Forget whatever the round holds. After a batch that failed (and was
//  rolled back) the round must be cleared: the rows of keys deleted by
//  earlier batches are collected again by the next round.
void
    janitor_round_clear (janitor_round_t *self);

#ifdef __cplusplus
}
#endif

#endif
