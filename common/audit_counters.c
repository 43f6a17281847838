/*  =========================================================================
    audit_counters - named counter deltas, held in memory between flushes

    A zhashx from name to a heap-boxed int64. The set is owned by one thread
    (thread-compatible, not thread-safe). Names come partly from producers
    (producer ids, key names), so both their length and their number are
    capped: an overflowing name is folded into "<prefix>.(other)", and when
    even the folded names overflow a small reserve, folded again towards
    "(other)", so that the set never holds more than
    AUDIT_COUNTERS_NAMES_MAX + s_FOLDED_RESERVE + (levels of a name) names.
    ========================================================================= */

#include "audit_counters.h"

#include <czmq.h>
#include <stdbool.h>
#include <string.h>

//  Folded names may go this far beyond AUDIT_COUNTERS_NAMES_MAX, so that
//  the common case ("ingest.gaps.(other)") keeps its own total while a
//  hostile spread of prefixes still ends in a bounded set
#define s_FOLDED_RESERVE 64
#define s_OTHER          "(other)"

struct _audit_counters_t {
    zhashx_t *deltas;               //  name -> int64_t *
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

//  Index of the last '.' before end in name, 0 when there is none
static size_t
s_last_dot (const char *name, size_t end)
{
    while (end > 0 && name [--end] != '.')
        ;
    return end;
}

int
audit_counters_fold (const char *name, char *folded)
{
    size_t end = strlen (name);
    size_t other = strlen (s_OTHER);
    //  A trailing "(other)" is no component of its own, so that folding a
    //  folded name climbs one level
    if (end >= other && strcmp (name + end - other, s_OTHER) == 0
    && (end == other || name [end - other - 1] == '.'))
        end -= end == other? other: other + 1;
    end = s_last_dot (name, end);
    while (end + 1 + other > AUDIT_COUNTER_NAME_MAX)
        end = s_last_dot (name, end);
    if (end == 0)
        strcpy (folded, s_OTHER);
    else
        snprintf (folded, AUDIT_COUNTER_NAME_MAX + 1, "%.*s.%s",
                  (int) end, name, s_OTHER);
    return strcmp (folded, name) == 0? -1: 0;
}

//  The box to add to for name: its own, or that of the name it folds into
static int64_t *
s_box_for (audit_counters_t *self, const char *name)
{
    char current [AUDIT_COUNTER_NAME_MAX + 1];
    if (strlen (name) > AUDIT_COUNTER_NAME_MAX)
        audit_counters_fold (name, current);
    else
        strcpy (current, name);
    size_t limit = AUDIT_COUNTERS_NAMES_MAX;
    while (true) {
        int64_t *box = (int64_t *) zhashx_lookup (self->deltas, current);
        if (box)
            return box;
        if (zhashx_size (self->deltas) < limit || strcmp (current, s_OTHER) == 0)
            break;
        char folded [AUDIT_COUNTER_NAME_MAX + 1];
        audit_counters_fold (current, folded);
        strcpy (current, folded);
        //  Each level up may take one more name, so that a spread of new
        //  prefixes ends at their common parent, not at "(other)"
        limit = limit < AUDIT_COUNTERS_NAMES_MAX + s_FOLDED_RESERVE
              ? AUDIT_COUNTERS_NAMES_MAX + s_FOLDED_RESERVE: limit + 1;
    }
    int64_t *box = (int64_t *) calloc (1, sizeof *box);
    if (box && zhashx_insert (self->deltas, current, box) != 0) {
        free (box);
        box = NULL;
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
audit_counters_add2 (audit_counters_t *self, const char *prefix,
                     const char *suffix, int64_t delta)
{
    char name [AUDIT_COUNTER_NAME_MAX + 2];
    int len = snprintf (name, sizeof name, "%s.%s", prefix, suffix);
    //  A name too long to hold is folded by its prefix, as a long name is
    if (len < 0 || (size_t) len > AUDIT_COUNTER_NAME_MAX)
        snprintf (name, sizeof name, "%s.%s", prefix, s_OTHER);
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
