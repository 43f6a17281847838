/*  =========================================================================
    ctl_export - auditctl export: every chunk of an export (CSV or ndjson),
    into one file, atomically
    ========================================================================= */

#include "ctl_export.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_json.h"
#include "ctl_print.h"
#include "ctl_query.h"

typedef struct {
    const char *path;
    char *tmp_path;
    const char *name;               //  for messages: FILE.tmp or standard output
    bool to_stdout;                 //  path "-"
    int fd;
    uint64_t rows;
    uint64_t bytes;
    uint64_t chunks;
    char *checkpoint;               //  the final chunk's signed note, or NULL
} s_file_t;

static int
s_file_open (s_file_t *file, const char *path)
{
    memset (file, 0, sizeof *file);
    file->path = path;
    file->fd = -1;
    if (strcmp (path, "-") == 0) {
        //  Nothing to rename into place: the chunks go out as they come
        fflush (stdout);
        file->to_stdout = true;
        file->name = "standard output";
        file->fd = STDOUT_FILENO;
        return 0;
    }
    if (asprintf (&file->tmp_path, "%s.tmp", path) < 0) {
        file->tmp_path = NULL;
        return -1;
    }
    file->name = file->tmp_path;
    file->fd = open (file->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (file->fd < 0) {
        fprintf (stderr, "auditctl: cannot create %s: %s\n", file->tmp_path, strerror (errno));
        return -1;
    }
    return 0;
}

//  Throw the partial file away: FILE never appears
static void
s_file_abort (s_file_t *file)
{
    if (file->fd >= 0 && !file->to_stdout) {
        close (file->fd);
        unlink (file->tmp_path);
    }
    free (file->tmp_path);
    file->tmp_path = NULL;
    file->fd = -1;
}

static int
s_file_write (s_file_t *file, const void *data, size_t size)
{
    const char *bytes = data;
    while (size > 0) {
        ssize_t written = write (file->fd, bytes, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0) {
            fprintf (stderr, "error: io: cannot write %s: %s\n", file->name, strerror (errno));
            return -1;
        }
        bytes += written, size -= (size_t) written;
        file->bytes += (uint64_t) written;
    }
    return 0;
}

//  The rename is durable only once the directory entry is on disk too
static int
s_fsync_dir (const char *path)
{
    char *copy = strdup (path);
    if (!copy)
        return -1;
    int fd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free (copy);
    if (fd < 0)
        return -1;
    int rc = fsync (fd);
    close (fd);
    return rc;
}

static int
s_file_commit (s_file_t *file)
{
    if (file->to_stdout)
        return 0;
    if (fsync (file->fd) != 0 || close (file->fd) != 0) {
        fprintf (stderr, "error: io: cannot sync %s: %s\n", file->tmp_path, strerror (errno));
        file->fd = -2;                  //  closed (or lost): only unlink
        unlink (file->tmp_path);
        return -1;
    }
    file->fd = -1;
    if (rename (file->tmp_path, file->path) != 0) {
        fprintf (stderr, "error: io: cannot rename to %s: %s\n", file->path, strerror (errno));
        unlink (file->tmp_path);
        return -1;
    }
    if (s_fsync_dir (file->path) != 0)
        fprintf (stderr, "auditctl: warning: cannot sync the directory of %s\n", file->path);
    return 0;
}

//  One chunk's bytes and row count into the file
static int
s_chunk (s_file_t *file, const ctl_reply_t *reply)
{
    const msgpack_object *data = ctl_reply_get (reply, "data");
    uint64_t rows;
    if (!data || (data->type != MSGPACK_OBJECT_BIN && data->type != MSGPACK_OBJECT_STR)
    ||  ctl_reply_uint (ctl_reply_get (reply, "rows"), &rows)) {
        fprintf (stderr, "error: bad_reply: an export chunk needs data and rows\n");
        return CTL_EXIT_REFUSED;
    }
    const char *bytes = data->type == MSGPACK_OBJECT_BIN ? data->via.bin.ptr : data->via.str.ptr;
    size_t size = data->type == MSGPACK_OBJECT_BIN ? data->via.bin.size : data->via.str.size;
    if (s_file_write (file, bytes, size))
        return CTL_EXIT_REFUSED;
    file->rows += rows;
    file->chunks++;
    const msgpack_object *note = ctl_reply_get (reply, "checkpoint");
    if (note && note->type == MSGPACK_OBJECT_STR) {
        free (file->checkpoint);
        file->checkpoint = strndup (note->via.str.ptr, note->via.str.size);
    }
    return CTL_EXIT_OK;
}

static void
s_progress (FILE *progress, const s_file_t *file, bool done)
{
    if (!progress)
        return;
    fprintf (progress, "\rexport: %" PRIu64 " %s, %" PRIu64 " %s, %.1f MiB%s",
             file->rows, ctl_print_plural (file->rows, "row", "rows"),
             file->chunks, ctl_print_plural (file->chunks, "chunk", "chunks"),
             (double) file->bytes / (1024.0 * 1024.0), done ? "\n" : "");
    fflush (progress);
}

//  Every chunk until next_cursor is nil
static int
s_follow (ctl_client_t *client, ctl_request_t *request, s_file_t *file, FILE *progress)
{
    int rc;
    char *cursor = NULL;
    while (true) {
        ctl_reply_t *reply;
        rc = ctl_client_call (client, request, &reply);
        if (rc == CTL_EXIT_OK)
            rc = s_chunk (file, reply);
        if (rc == CTL_EXIT_OK && ctl_query_next_cursor (reply, &cursor)) {
            fprintf (stderr, "error: bad_reply: next_cursor is neither text nor nil\n");
            rc = CTL_EXIT_REFUSED;
        }
        ctl_reply_destroy (&reply);
        s_progress (progress, file, rc != CTL_EXIT_OK || !cursor);
        if (rc != CTL_EXIT_OK || !cursor)
            break;
        if (ctl_request_set_str (request, "cursor", cursor))
            rc = CTL_EXIT_REFUSED;
        free (cursor);
        cursor = NULL;
    }
    free (cursor);
    return rc;
}

int
ctl_export_run (ctl_client_t *client, ctl_request_t *request, const char *path,
                FILE *progress, uint64_t *rows_p)
{
    return ctl_export_run_signed (client, request, path, progress, rows_p, NULL);
}

int
ctl_export_run_signed (ctl_client_t *client, ctl_request_t *request, const char *path,
                       FILE *progress, uint64_t *rows_p, char **checkpoint)
{
    s_file_t file;
    *rows_p = 0;
    if (checkpoint)
        *checkpoint = NULL;
    //  An export starts at its beginning: only the first chunk has the header
    ctl_request_remove (request, "cursor");
    bool csv = !ctl_request_has (request, "format");
    if (s_file_open (&file, path) || (csv && ctl_request_set_str (request, "format", "csv"))) {
        s_file_abort (&file);
        return CTL_EXIT_USAGE;
    }
    int rc = s_follow (client, request, &file, progress);
    if (rc == CTL_EXIT_OK && s_file_commit (&file))
        rc = CTL_EXIT_REFUSED;
    *rows_p = file.rows;
    if (checkpoint && rc == CTL_EXIT_OK)
        *checkpoint = file.checkpoint, file.checkpoint = NULL;
    free (file.checkpoint);
    s_file_abort (&file);               //  after a commit: only frees the name
    return rc;
}

void
ctl_export_summary (FILE *out, const char *path, uint64_t rows, bool json)
{
    if (json) {
        fprintf (out, "{\"rows\":%" PRIu64 ",\"file\":", rows);
        ctl_json_write_str (out, path, strlen (path));
        fprintf (out, "}\n");
    }
    else
        fprintf (out, "%" PRIu64 " %s written to %s\n", rows,
                 ctl_print_plural (rows, "row", "rows"),
                 strcmp (path, "-") == 0 ? "standard output" : path);
}
