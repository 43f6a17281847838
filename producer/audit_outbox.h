/*  =========================================================================
    audit_outbox - the producer's durable outbox: every event published and
    not yet acknowledged, in seq order, in one SQLite file

    One transaction per audit_outbox_write: the events of a group commit
    go in, the acknowledged ones go out, and the file remembers the highest
    seq ever given out and the highest seq acknowledged, so that a run
    resumed on the same file continues its seq and resends what is left.
    The file is opened in exclusive locking mode and written at once, so a
    second process on the same outbox is refused at open instead of
    handing out the same seqs twice. journal_mode WAL, synchronous FULL:
    a write that returned 0 has been fsynced.

    Not thread-safe: one thread (the producer's background thread) owns it.
    The SQL of the producer lives here and nowhere else, as prepared
    statements made once at open.
    ========================================================================= */

#ifndef AUDIT_OUTBOX_H_INCLUDED
#define AUDIT_OUTBOX_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct _audit_outbox_t audit_outbox_t;

//  One held event: its seq, topic frame and body bytes (sent as they are)
typedef struct {
    uint64_t seq;
    const char *topic;
    const void *body;
    size_t size;
} audit_outbox_entry_t;

//  Called for each held event in seq order; return 0 to go on, -1 to stop
typedef int (audit_outbox_each_fn) (void *arg, const audit_outbox_entry_t *entry);

//  Open (creating when absent) the outbox at path for producer_id. NULL
//  with a one-line reason when it cannot be opened, belongs to another
//  producer_id, or another process holds it.
audit_outbox_t *
    audit_outbox_open (const char *path, const char *producer_id, char *reason, size_t size);

//  Close the file; safe twice. What was written stays.
void
    audit_outbox_destroy (audit_outbox_t **self_p);

//  Highest seq ever written (0 for a new outbox).
uint64_t
    audit_outbox_last_seq (audit_outbox_t *self);

//  Highest seq known acknowledged (0 for a new outbox).
uint64_t
    audit_outbox_acked_seq (audit_outbox_t *self);

//  Events held: written and not trimmed.
uint64_t
    audit_outbox_count (audit_outbox_t *self);

//  In one durable transaction: append entries (seqs above last_seq, in
//  order), and trim every event with seq <= acked_seq when it is above
//  the acked_seq known. 0, or -1 with nothing of it done.
int
    audit_outbox_write (audit_outbox_t *self, const audit_outbox_entry_t *entries,
                        size_t count, uint64_t acked_seq);

//  Hand fn the held events with seq > after_seq, in order, at most limit
//  of them; the entry's pointers are valid during the call only. Returns
//  how many were handed over, or -1 on a read error.
int
    audit_outbox_each (audit_outbox_t *self, uint64_t after_seq, size_t limit,
                       audit_outbox_each_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
