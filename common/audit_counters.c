/*  =========================================================================
    audit_counters - named counter deltas, held in memory between flushes

    A zhashx from name to a heap-boxed int64. The set is owned by one thread
    (thread-compatible, not thread-safe). The names of the open families
    come from producers (producer ids, key names), so both their length and
    their number are capped, family by family: an overflowing name is folded
    into "<prefix>.(other)", and when even the folded names overflow a small
    reserve, folded again towards "<family>.(other)", which always has room.
    A family thus never holds more than AUDIT_COUNTERS_NAMES_MAX +
    s_FOLDED_RESERVE + 1 names, and the fixed names are never displaced.
    ========================================================================= */

#include "audit_counters.h"

#include <czmq.h>
#include <stdbool.h>
#include <string.h>

//  Folded names may go this far beyond AUDIT_COUNTERS_NAMES_MAX, so that
//  one producer's folded keys ("ingest.dropped_by_producer.p.(other)")
//  keep their own total while a hostile spread of producers still ends in
//  a bounded set
#define s_FOLDED_RESERVE 64
#define s_OTHER          "(other)"

static const char *s_names [AUDIT_COUNTER_COUNT] = {
#define AUDIT_COUNTER(NAME, text) [AUDIT_COUNTER_##NAME] = text,
#include "audit_counters.def"
#undef AUDIT_COUNTER
};

//  Each family's prefix with its trailing '.', and its cap (0: a fixed set)
static const struct {
    const char *prefix;
    size_t cap;
} s_families [AUDIT_COUNTER_FAMILY_COUNT] = {
#define AUDIT_COUNTER_FAMILY(NAME, prefix, cap) [AUDIT_COUNTER_FAMILY_##NAME] = { prefix ".", cap },
#define AUDIT_COUNTER_SET(NAME, prefix) [AUDIT_COUNTER_FAMILY_##NAME] = { prefix ".", 0 },
#include "audit_counters.def"
#undef AUDIT_COUNTER_SET
#undef AUDIT_COUNTER_FAMILY
};

//  A name is held in AUDIT_COUNTER_NAME_MAX bytes, so every fixed name and
//  prefix must fit with room for a suffix
#define AUDIT_COUNTER(NAME, text) \
    _Static_assert (sizeof (text) + 16 <= AUDIT_COUNTER_NAME_MAX, "counter name too long");
#define AUDIT_COUNTER_SET(NAME, prefix) AUDIT_COUNTER (NAME, prefix)
#define AUDIT_COUNTER_FAMILY(NAME, prefix, cap) AUDIT_COUNTER (NAME, prefix) \
    _Static_assert ((cap) > 0, "an open family needs a cap");
#include "audit_counters.def"
#undef AUDIT_COUNTER_FAMILY
#undef AUDIT_COUNTER_SET
#undef AUDIT_COUNTER

struct _audit_counters_t {
    zhashx_t *deltas;               //  name -> int64_t *
    size_t family_names [AUDIT_COUNTERS_FAMILIES];  //  names held per open family
};

static void
s_box_destroy (void **item_p)
{
    free (*item_p);
    *item_p = NULL;
}

audit_counters_t *
audit_counters_new (void)
{
    audit_counters_t *self = (audit_counters_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->deltas = zhashx_new ();
    if (!self->deltas) {
        free (self);
        return NULL;
    }
    zhashx_set_destructor (self->deltas, s_box_destroy);
    return self;
}

void
audit_counters_destroy (audit_counters_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    audit_counters_t *self = *self_p;
    zhashx_destroy (&self->deltas);
    free (self);
    *self_p = NULL;
}

const char *
audit_counters_name (audit_counter_t counter)
{
    return (int) counter >= 0 && counter < AUDIT_COUNTER_COUNT? s_names [counter]: NULL;
}

int
audit_counters_family (const char *name)
{
    for (int family = 0; family < AUDIT_COUNTERS_FAMILIES; family++) {
        const char *prefix = s_families [family].prefix;
        if (strncmp (name, prefix, strlen (prefix)) == 0)
            return family;
    }
    return -1;
}

const char *
audit_counters_family_prefix (int family)
{
    return family >= 0 && family < AUDIT_COUNTER_FAMILY_COUNT? s_families [family].prefix: NULL;
}

size_t
audit_counters_family_cap (int family)
{
    return family >= 0 && family < AUDIT_COUNTER_FAMILY_COUNT? s_families [family].cap: 0;
}

//  Index of the last '.' before end in name, 0 when there is none
static size_t
s_last_dot (const char *name, size_t end)
{
    while (end > 0 && name [--end] != '.')
        ;
    return end;
}

static bool
s_is_folded (const char *name)
{
    size_t len = strlen (name), other = strlen (s_OTHER);
    return len > other && strcmp (name + len - other, s_OTHER) == 0 && name [len - other - 1] == '.';
}

int
audit_counters_fold (const char *name, char *folded)
{
    int family = audit_counters_family (name);
    if (family < 0)
        return -1;
    size_t root = strlen (s_families [family].prefix) - 1;    //  the family's last '.'
    size_t end = strlen (name);
    //  A trailing "(other)" is no component of its own, so that folding a
    //  folded name climbs one level
    if (s_is_folded (name))
        end -= strlen (s_OTHER) + 1;
    if (end <= root)
        return -1;                      //  the family's own "(other)"
    end = s_last_dot (name, end);
    while (end > root && end + 1 + strlen (s_OTHER) > AUDIT_COUNTER_NAME_MAX)
        end = s_last_dot (name, end);
    snprintf (folded, AUDIT_COUNTER_NAME_MAX + 1, "%.*s.%s", (int) end, name, s_OTHER);
    return 0;
}

static int64_t *
s_box_new (audit_counters_t *self, int family, const char *name)
{
    int64_t *box = (int64_t *) calloc (1, sizeof *box);
    if (box && zhashx_insert (self->deltas, name, box) != 0) {
        free (box);
        return NULL;
    }
    if (box && family >= 0)
        self->family_names [family]++;
    return box;
}

//  The box to add to for name: its own, or that of the name it folds into.
//  A name of a fixed set always gets its own.
static int64_t *
s_box_for (audit_counters_t *self, const char *name)
{
    char current [AUDIT_COUNTER_NAME_MAX + 1];
    if (strlen (name) <= AUDIT_COUNTER_NAME_MAX)
        strcpy (current, name);
    else
    if (audit_counters_fold (name, current) != 0)
        strcpy (current, s_OTHER);      //  no fixed name is that long
    int family = audit_counters_family (current);
    int64_t *box;
    while (!(box = (int64_t *) zhashx_lookup (self->deltas, current))) {
        size_t room = (family < 0? 0: s_families [family].cap) + (s_is_folded (current)? s_FOLDED_RESERVE: 0);
        char folded [AUDIT_COUNTER_NAME_MAX + 1];
        if (family < 0 || self->family_names [family] < room
        ||  audit_counters_fold (current, folded) != 0)
            return s_box_new (self, family, current);
        strcpy (current, folded);
    }
    return box;
}

void
audit_counters_add (audit_counters_t *self, const char *name, int64_t delta)
{
    assert (self);
    assert (name);
    if (delta <= 0)
        return;                         //  counters only grow
    int64_t *box = s_box_for (self, name);
    if (box)
        *box = *box > INT64_MAX - delta? INT64_MAX: *box + delta;
}

void
audit_counters_count (audit_counters_t *self, audit_counter_t counter, int64_t delta)
{
    assert ((int) counter >= 0 && counter < AUDIT_COUNTER_COUNT);
    audit_counters_add (self, s_names [counter], delta);
}

void
audit_counters_count_in (audit_counters_t *self, audit_counter_family_t family,
                         const char *suffix, int64_t delta)
{
    assert ((int) family >= 0 && family < AUDIT_COUNTER_FAMILY_COUNT);
    assert (suffix);
    char name [AUDIT_COUNTER_NAME_MAX + 2];
    const char *prefix = s_families [family].prefix;
    int len = snprintf (name, sizeof name, "%s%s", prefix, suffix);
    //  A name too long to hold is folded by its prefix, as a long name is
    if (len < 0 || (size_t) len > AUDIT_COUNTER_NAME_MAX)
        snprintf (name, sizeof name, "%s%s", prefix, s_OTHER);
    audit_counters_add (self, name, delta);
}

int64_t
audit_counters_get (audit_counters_t *self, const char *name)
{
    assert (self);
    int64_t *box = (int64_t *) zhashx_lookup (self->deltas, name);
    return box? *box: 0;
}

void
audit_counters_each (audit_counters_t *self, audit_counters_fn *fn, void *arg)
{
    assert (self);
    for (int64_t *box = (int64_t *) zhashx_first (self->deltas); box;
         box = (int64_t *) zhashx_next (self->deltas))
        fn ((const char *) zhashx_cursor (self->deltas), *box, arg);
}

size_t
audit_counters_size (audit_counters_t *self)
{
    assert (self);
    return zhashx_size (self->deltas);
}

void
audit_counters_clear (audit_counters_t *self)
{
    assert (self);
    zhashx_purge (self->deltas);
    memset (self->family_names, 0, sizeof self->family_names);
}

static void
s_merge_one (const char *name, int64_t delta, void *arg)
{
    audit_counters_add ((audit_counters_t *) arg, name, delta);
}

void
audit_counters_merge (audit_counters_t *self, audit_counters_t *source)
{
    assert (self);
    assert (source);
    audit_counters_each (source, s_merge_one, self);
    audit_counters_clear (source);
}
