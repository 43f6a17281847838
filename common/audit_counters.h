/*  =========================================================================
    audit_counters - named counters, kept as deltas in memory and added to
    the persistent totals in audit.db (table counter) by audit_store.

    Names are dotted paths that map onto the stats reply:
      ingest.received, ingest.stored, ingest.duplicate,
      ingest.rejected.<reason>, ingest.dropped_keys.<key>,
      ingest.dropped_by_producer.<producer>.<key>, ingest.gaps.<producer>,
      janitor.deleted.<audit|ops|queue>
    Several processes add to the same totals without coordination because
    each only ever adds its own deltas. The number of distinct names is
    capped so that a hostile producer cannot grow the table without bound.
    Counters only grow, and saturate at INT64_MAX (in memory and in the
    table alike), so that a cumulative count never wraps and goes down.
    ========================================================================= */

#ifndef AUDIT_COUNTERS_H_INCLUDED
#define AUDIT_COUNTERS_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Distinct names held between two flushes; further new names are folded
//  into "<prefix>.(other)" where prefix is the name up to its last '.'
#define AUDIT_COUNTERS_NAMES_MAX  1024
#define AUDIT_COUNTER_NAME_MAX    300

typedef struct _audit_counters_t audit_counters_t;

//  Called once per counter by audit_counters_each
typedef void (audit_counters_fn) (const char *name, int64_t delta, void *arg);

//  Create an empty set of deltas. NULL on allocation failure.
audit_counters_t *
    audit_counters_new (void);

//  Destroy; safe on NULL and twice.
void
    audit_counters_destroy (audit_counters_t **self_p);

//  Add delta (>= 0; anything else is ignored) to a counter name,
//  saturating at INT64_MAX.
void
    audit_counters_add (audit_counters_t *self, const char *name, int64_t delta);

//  Add delta to "prefix.suffix" (suffix is copied as is; callers pass only
//  names the contract allows in logs: reasons, key names, producer ids).
void
    audit_counters_add2 (audit_counters_t *self, const char *prefix,
                         const char *suffix, int64_t delta);

//  Delta held for a name, 0 when none.
int64_t
    audit_counters_get (audit_counters_t *self, const char *name);

//  Visit every held delta.
void
    audit_counters_each (audit_counters_t *self, audit_counters_fn *fn, void *arg);

//  Number of distinct names held.
size_t
    audit_counters_size (audit_counters_t *self);

//  Forget every delta (after they were written).
void
    audit_counters_clear (audit_counters_t *self);

//  Fold a name one level up, as the caps do: "a.b.c" -> "a.b.(other)",
//  "a.b.(other)" -> "a.(other)", "a" -> "(other)" (cutting further while
//  the result would be longer than AUDIT_COUNTER_NAME_MAX). folded holds
//  AUDIT_COUNTER_NAME_MAX + 1 bytes. Returns 0, or -1 when name is already
//  "(other)" and cannot fold further.
int
    audit_counters_fold (const char *name, char *folded);

//  Add every delta of source into self, then clear source.
void
    audit_counters_merge (audit_counters_t *self, audit_counters_t *source);

#ifdef __cplusplus
}
#endif

#endif
