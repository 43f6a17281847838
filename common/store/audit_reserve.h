/*  =========================================================================
    audit_reserve - spare space kept in the data directory (issue 12)

    A preallocated file, .reserve, that no store uses. On a full disk it
    is released so that a worker can still open the stores (SQLite needs
    room for a WAL and its shared memory) and the janitor can purge and
    checkpoint, which free the space retention is for; it is made again
    once the disk has room for it and as much again. Engine-neutral: it
    is a file beside the stores, not inside them. A database location (a
    postgresql:// URL) has none: its server keeps its own disk, so free
    bytes are unknown (-1), never pressed, never degraded.
    ========================================================================= */

#ifndef AUDIT_RESERVE_H_INCLUDED
#define AUDIT_RESERVE_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AUDIT_RESERVE_FILE      ".reserve"
//  Enough for the WAL and -shm files of the three stores and a purge
//  batch of the janitor with its checkpoint
#define AUDIT_RESERVE_BYTES     (4 * 1024 * 1024)

//  Make the reserve when it is missing and the disk has room for twice
//  its size. 0 when it is there afterwards, -1 when not (no room).
int
    audit_reserve_make (const char *data_dir);

//  Remove the reserve. 0 when there was one to release, -1 when none.
int
    audit_reserve_release (const char *data_dir);

//  Bytes free to unprivileged writers on data_dir's filesystem, or -1.
int64_t
    audit_reserve_free_bytes (const char *data_dir);

//  True when the disk is short of space: less free than the reserve.
bool
    audit_reserve_pressed (const char *data_dir);

//  True when a worker on data_dir is degraded for space: the disk is short
//  ("disk_full") or the reserve is not there ("reserve_released"); *reason
//  is then that name, else NULL.
bool
    audit_reserve_degraded (const char *data_dir, const char **reason);

//  Under pressure, release the reserve and log it (one line, why). True
//  when it was released.
bool
    audit_reserve_relieve (const char *data_dir, const char *why);

#ifdef __cplusplus
}
#endif

#endif
