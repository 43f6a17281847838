/*  =========================================================================
    audit_reserve - spare space kept in the data directory
    ========================================================================= */

#include "audit_reserve.h"
#include "audit_log.h"
#include "audit_store.h"

#include <inttypes.h>

#include <fcntl.h>
#include <stdio.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void
s_path (const char *data_dir, char *path, size_t size)
{
    snprintf (path, size, "%s/%s", data_dir, AUDIT_RESERVE_FILE);
}

int64_t
audit_reserve_free_bytes (const char *data_dir)
{
    struct statvfs info;
    if (audit_store_is_url (data_dir) || statvfs (data_dir, &info) != 0)
        return -1;
    return (int64_t) info.f_bavail * (int64_t) info.f_frsize;
}

bool
audit_reserve_pressed (const char *data_dir)
{
    int64_t free_bytes = audit_reserve_free_bytes (data_dir);
    return free_bytes >= 0 && free_bytes < AUDIT_RESERVE_BYTES;
}

//  Allocated, not only sized: a sparse file would free nothing
int
audit_reserve_make (const char *data_dir)
{
    char path [4096];
    s_path (data_dir, path, sizeof path);
    if (audit_store_is_url (data_dir) || access (path, F_OK) == 0)
        return 0;
    if (audit_reserve_free_bytes (data_dir) < 2 * (int64_t) AUDIT_RESERVE_BYTES)
        return -1;
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return access (path, F_OK) == 0? 0: -1;    //  another worker made it
    int rc = posix_fallocate (fd, 0, AUDIT_RESERVE_BYTES) == 0? 0: -1;
    close (fd);
    if (rc != 0)
        unlink (path);
    return rc;
}

int
audit_reserve_release (const char *data_dir)
{
    char path [4096];
    s_path (data_dir, path, sizeof path);
    return unlink (path) == 0? 0: -1;
}

bool
audit_reserve_relieve (const char *data_dir, const char *why)
{
    if (!audit_reserve_pressed (data_dir) || audit_reserve_release (data_dir) != 0)
        return false;
    audit_log_warn ("msg=reserve_released reason=disk_full for=%s bytes=%d free_bytes=%" PRId64,
                    why, AUDIT_RESERVE_BYTES, audit_reserve_free_bytes (data_dir));
    return true;
}

bool
audit_reserve_degraded (const char *data_dir, const char **reason)
{
    char path [4096];
    s_path (data_dir, path, sizeof path);
    *reason = audit_store_is_url (data_dir)? NULL
            : audit_reserve_pressed (data_dir)? "disk_full"
            : access (path, F_OK) != 0? "reserve_released": NULL;
    return *reason != NULL;
}
