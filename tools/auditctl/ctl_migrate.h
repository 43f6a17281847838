/*  =========================================================================
    ctl_migrate - auditctl migrate: move an SQLite data directory into a
    PostgreSQL database, with the workers stopped

    Each organisation's log moves as it is: its stored leaves (those
    whose event retention deleted too) and its kept events, with their
    log_index and received time, a batch at a time (audit_store_import);
    then its retention and every signed checkpoint, whose notes stay
    valid because the roots are the same. That is checked: the target's
    root must be the source's at the log's size and at every signed
    size, or the organisation is named and the move stops. Then the
    producers' acknowledgement state, the counters, the operational
    records and the undelivered messages.

    The target must hold no organisation with events: a second move into
    the same database would duplicate nothing, it is refused.
    ========================================================================= */

#ifndef CTL_MIGRATE_H_INCLUDED
#define CTL_MIGRATE_H_INCLUDED

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Rows per batch when --batch is not given
#define CTL_MIGRATE_BATCH_DEFAULT   1000

//  Move the data directory from into the database of the URL to (never
//  printed with its password), batch rows at a time, a line per
//  organisation and a summary to out. An exit code: 0 moved and every
//  root matches; 1 a root differs or the move failed part way (the
//  organisation named: drop the target database before trying again);
//  2 from is no data directory, to no postgresql:// URL, a store cannot
//  be opened, or the target already holds events.
int
    ctl_migrate_run (const char *from, const char *to, size_t batch, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
