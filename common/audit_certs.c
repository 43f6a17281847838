/*  =========================================================================
    audit_certs - the public certificates of a key directory, by key
    ========================================================================= */

#include "audit_certs.h"
#include "audit_ident.h"
#include "audit_log.h"

#include <czmq.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

struct _audit_certs_t {
    bool producers;
    zhashx_t *entries;              //  key -> audit_certs_entry_t *
};

static void
s_entry_destroy (void **item)
{
    audit_certs_entry_t *entry = (audit_certs_entry_t *) *item;
    if (entry) {
        free (entry->orgs);
        free (entry);
        *item = NULL;
    }
}

static zhashx_t *
s_table_new (void)
{
    zhashx_t *table = zhashx_new ();
    if (table)
        zhashx_set_destructor (table, s_entry_destroy);
    return table;
}

audit_certs_t *
audit_certs_new (bool producers)
{
    audit_certs_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->producers = producers;
    self->entries = s_table_new ();
    if (!self->entries)
        audit_certs_destroy (&self);
    return self;
}

void
audit_certs_destroy (audit_certs_t **self_p)
{
    audit_certs_t *self = *self_p;
    if (self) {
        zhashx_destroy (&self->entries);
        free (self);
        *self_p = NULL;
    }
}

//  ",a,b," from "a, b": every member an identifier; NULL when one is not
static char *
s_orgs (const char *list)
{
    char *orgs = calloc (1, strlen (list) + 3);
    if (!orgs)
        return NULL;
    strcpy (orgs, ",");
    const char *at = list;
    while (*at) {
        at += strspn (at, " ");
        size_t len = strcspn (at, ",");
        size_t trimmed = len;
        while (trimmed && at [trimmed - 1] == ' ')
            trimmed--;
        if (!audit_ident_is_valid (at, trimmed)) {
            free (orgs);
            return NULL;
        }
        strncat (orgs, at, trimmed);
        strcat (orgs, ",");
        at += len + (at [len] == ',');
    }
    return orgs;
}

//  The entry a parsed certificate makes, or NULL with why
static audit_certs_entry_t *
s_entry_new (audit_certs_t *self, zconfig_t *root, const char **why)
{
    const char *key = zconfig_get (root, "curve/public-key", NULL);
    const char *producer = zconfig_get (root, "metadata/" AUDIT_CURVE_META_PRODUCER, "");
    const char *orgs = zconfig_get (root, "metadata/" AUDIT_CURVE_META_ORGS, NULL);
    audit_certs_entry_t *entry = NULL;
    if (audit_curve_key_check (key) != 0)
        *why = "no public key";
    else
    if ((*producer || self->producers) && !audit_ident_is_valid (producer, strlen (producer)))
        *why = "no producer_id, or not an identifier";
    else
    if (orgs && !*orgs)
        *why = "orgs is empty";
    else
    if ((entry = calloc (1, sizeof *entry))) {
        snprintf (entry->key, sizeof entry->key, "%s", key);
        snprintf (entry->producer_id, sizeof entry->producer_id, "%s", producer);
        if (orgs && !(entry->orgs = s_orgs (orgs))) {
            *why = "an org in orgs is not an identifier";
            s_entry_destroy ((void **) &entry);
        }
    }
    else
        *why = "out of memory";
    return entry;
}

//  Take the certificate at path into table; -1 with why when it is bad
static int
s_take (audit_certs_t *self, zhashx_t *table, const char *path, const char **why)
{
    struct stat info;
    if (stat (path, &info) != 0 || !S_ISREG (info.st_mode) || info.st_size > AUDIT_CURVE_FILE_MAX) {
        *why = "not a file, or larger than 64 KiB";
        return -1;
    }
    zconfig_t *root = audit_curve_config_load (path);
    audit_certs_entry_t *entry = NULL;
    if (!root)
        *why = "not a certificate";
    else
        entry = s_entry_new (self, root, why);
    zconfig_destroy (&root);
    if (!entry)
        return -1;
    if (zhashx_size (table) >= AUDIT_CERTS_MAX || zhashx_insert (table, entry->key, entry) != 0) {
        *why = zhashx_size (table) >= AUDIT_CERTS_MAX ? "too many certificates" : "a key twice";
        s_entry_destroy ((void **) &entry);
        return -1;
    }
    return 0;
}

//  A name that is a public certificate's: no secret file, nothing hidden
static bool
s_is_candidate (const char *name)
{
    size_t len = strlen (name);
    return name [0] != '.' && !(len >= 7 && streq (name + len - 7, "_secret"));
}

//  Every candidate file of dir into table; -1 when dir cannot be read
static int
s_read_dir (audit_certs_t *self, zhashx_t *table, const char *dir, size_t *bad)
{
    DIR *handle = opendir (dir);
    if (!handle)
        return -1;
    struct dirent *item;
    while ((item = readdir (handle))) {
        if (!s_is_candidate (item->d_name))
            continue;
        char path [4096];
        const char *why = "the path is too long";
        int len = snprintf (path, sizeof path, "%s/%s", dir, item->d_name);
        if (len < 0 || (size_t) len >= sizeof path || s_take (self, table, path, &why) != 0) {
            (*bad)++;
            audit_log_warn ("msg=bad_certificate file=%s reason=\"%s\"", item->d_name, why);
        }
    }
    closedir (handle);
    return 0;
}

//  Count and log what one table has that the other has not
static size_t
s_diff (zhashx_t *from, zhashx_t *to, const char *what)
{
    size_t count = 0;
    for (audit_certs_entry_t *entry = (audit_certs_entry_t *) zhashx_first (from); entry;
         entry = (audit_certs_entry_t *) zhashx_next (from))
        if (!zhashx_lookup (to, entry->key)) {
            count++;
            audit_log_info ("msg=%s key=%s producer=%s", what, entry->key,
                            entry->producer_id [0] ? entry->producer_id : "-");
        }
    return count;
}

int
audit_certs_load (audit_certs_t *self, const char *dir, audit_certs_result_t *result)
{
    memset (result, 0, sizeof *result);
    zhashx_t *table = s_table_new ();
    if (!table || s_read_dir (self, table, dir, &result->bad) != 0) {
        zhashx_destroy (&table);
        audit_log_error ("msg=cannot_read_keys dir=%s reason=\"%s\"", dir, strerror (errno));
        return -1;
    }
    result->added = s_diff (table, self->entries, "key_added");
    result->removed = s_diff (self->entries, table, "key_removed");
    result->loaded = zhashx_size (table);
    zhashx_destroy (&self->entries);
    self->entries = table;
    return 0;
}

const audit_certs_entry_t *
audit_certs_lookup (audit_certs_t *self, const char *key)
{
    return key ? (const audit_certs_entry_t *) zhashx_lookup (self->entries, key) : NULL;
}

size_t
audit_certs_size (audit_certs_t *self)
{
    return zhashx_size (self->entries);
}

bool
audit_certs_allows_org (const audit_certs_entry_t *entry, const char *org_id)
{
    if (!entry->orgs)
        return true;
    if (!*org_id || strchr (org_id, ','))
        return false;
    size_t len = strlen (org_id);
    for (const char *at = strstr (entry->orgs, org_id); at; at = strstr (at + 1, org_id))
        if (at [-1] == ',' && at [len] == ',')
            return true;
    return false;
}
