/*  =========================================================================
    audit_counters - named counters, kept as deltas in memory and added to
    the persistent totals in audit.db (table counter) by audit_store.

    Names are dotted paths that map onto the stats reply, and every one
    of them comes from a row of audit_counters.def: a counter of its own
    (ingest.received, ...), a fixed set (ingest.rejected.<reason>,
    query.errors.<code>) or an open family (ingest.dropped_keys.<key>,
    ingest.dropped_by_producer.<producer>.<key>, ingest.gaps.<producer>).
    Workers name counters by enum, so that a misspelt name fails to compile.
    Several processes add to the same totals without coordination because
    each only ever adds its own deltas.

    Only three families take their last parts from producers (key names,
    producer ids): dropped_keys, dropped_by_producer and gaps. Only those
    are capped, each on its own, so that a hostile producer can grow
    neither the table nor one family at the cost of another (a flood of
    key names must not hide a new producer's gaps); beyond its cap a name
    folds into "<family>.(other)", which always has room. Every other
    counter has a fixed, small set of names (received, stored, reasons,
    stores, error codes) and never folds.
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

//  The cap the open families of audit_counters.def take: distinct names of
//  one open family held between two flushes; further new names fold into "<prefix>.(other)", prefix being the name up to its
//  last '.', and up towards "<family>.(other)"
#define AUDIT_COUNTERS_NAMES_MAX  1024
#define AUDIT_COUNTER_NAME_MAX    300

//  Counters of their own, one per AUDIT_COUNTER row of audit_counters.def
typedef enum {
#define AUDIT_COUNTER(NAME, text) AUDIT_COUNTER_##NAME,
#include "audit_counters.def"
#undef AUDIT_COUNTER
    AUDIT_COUNTER_COUNT
} audit_counter_t;

//  Families of names "prefix.suffix": the open ones (AUDIT_COUNTER_FAMILY
//  rows, suffixes from producers, capped) are numbered first, from 0 to
//  AUDIT_COUNTERS_FAMILIES - 1; the fixed sets (AUDIT_COUNTER_SET rows)
//  follow them
typedef enum {
#define AUDIT_COUNTER_FAMILY(NAME, prefix, cap) AUDIT_COUNTER_FAMILY_##NAME,
#include "audit_counters.def"
#undef AUDIT_COUNTER_FAMILY
    AUDIT_COUNTERS_FAMILIES,
    //  no family: it makes the first set AUDIT_COUNTERS_FAMILIES
    AUDIT_COUNTER_FAMILY_SETS_ = AUDIT_COUNTERS_FAMILIES - 1,
#define AUDIT_COUNTER_SET(NAME, prefix) AUDIT_COUNTER_FAMILY_##NAME,
#include "audit_counters.def"
#undef AUDIT_COUNTER_SET
    AUDIT_COUNTER_FAMILY_COUNT
} audit_counter_family_t;

typedef struct _audit_counters_t audit_counters_t;

//  Called once per counter by audit_counters_each
typedef void (audit_counters_fn) (const char *name, int64_t delta, void *arg);

//  Create an empty set of deltas. NULL on allocation failure.
audit_counters_t *
    audit_counters_new (void);

//  Destroy; safe on NULL and twice.
void
    audit_counters_destroy (audit_counters_t **self_p);

//  Add delta (>= 0; anything else is ignored) to a counter of its own,
//  saturating at INT64_MAX.
void
    audit_counters_count (audit_counters_t *self, audit_counter_t counter, int64_t delta);

//  Add delta to "prefix.suffix" of a family (suffix is copied as is;
//  callers pass only names the contract allows in logs: reasons, error
//  codes, key names, producer ids). An open family's names are capped.
void
    audit_counters_count_in (audit_counters_t *self, audit_counter_family_t family,
                             const char *suffix, int64_t delta);

//  Add delta to a name as it is (one read back from audit.db or from
//  another set); a worker counts with audit_counters_count or _count_in,
//  whose names come from the table.
void
    audit_counters_add (audit_counters_t *self, const char *name, int64_t delta);

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

//  The text of a counter of its own.
const char *
    audit_counters_name (audit_counter_t counter);

//  The open family of a name (0 .. AUDIT_COUNTERS_FAMILIES - 1), or -1
//  for a name of a fixed set, which is never capped nor folded.
int
    audit_counters_family (const char *name);

//  The prefix of a family (open or fixed set), with its trailing '.';
//  NULL for no family.
const char *
    audit_counters_family_prefix (int family);

//  Distinct names an open family holds between two flushes before it
//  folds; 0 for a fixed set or no family.
size_t
    audit_counters_family_cap (int family);

//  Fold a name of an open family one level up, as the caps do:
//  "f.p.k" -> "f.p.(other)" -> "f.(other)" (cutting further while the
//  result would be longer than AUDIT_COUNTER_NAME_MAX), where f is its
//  family's prefix. folded holds AUDIT_COUNTER_NAME_MAX + 1 bytes. Returns
//  0, or -1 when name is its family's "(other)" or of no open family.
int
    audit_counters_fold (const char *name, char *folded);

//  Add every delta of source into self, then clear source.
void
    audit_counters_merge (audit_counters_t *self, audit_counters_t *source);

#ifdef __cplusplus
}
#endif

#endif
