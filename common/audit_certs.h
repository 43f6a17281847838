/*  =========================================================================
    audit_certs - the public certificates of a key directory, by key

    One zcert public file per client (AUDIT_PRODUCER_KEYS_DIR,
    AUDIT_QUERY_KEYS_DIR); files named "*_secret" and hidden files are
    skipped. A producer certificate names its producer in the metadata
    producer_id and may limit its organisations with orgs, a comma-
    separated list of org_ids. A file that is not such a certificate is
    counted and logged by name, never taken, never a crash; a load that
    cannot read the directory keeps the table as it was. Used by one
    thread (the one that answers ZAP and reads messages).
    ========================================================================= */

#ifndef AUDIT_CERTS_H_INCLUDED
#define AUDIT_CERTS_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#include "audit_curve.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Most certificates of one directory; more are bad
#define AUDIT_CERTS_MAX         100000

typedef struct {
    char key [AUDIT_CURVE_KEY_TEXT_SIZE];   //  public key, Z85
    audit_ident_t producer_id;              //  "" when the certificate names none
    char *orgs;                             //  ",a,b,": those only; NULL: any
} audit_certs_entry_t;

//  What one load found
typedef struct {
    size_t loaded;                  //  certificates now in the table
    size_t bad;                     //  files that are not one
    size_t added;                   //  keys new since the load before
    size_t removed;                 //  keys gone since the load before
} audit_certs_result_t;

typedef struct _audit_certs_t audit_certs_t;

//  An empty table; producers: every certificate must name a producer_id.
//  NULL on allocation failure.
audit_certs_t *
    audit_certs_new (bool producers);

//  Destroy; safe on NULL and twice.
void
    audit_certs_destroy (audit_certs_t **self_p);

//  Replace the table with the certificates in dir, logging each bad file
//  and each key added or removed. 0, or -1 when dir cannot be read (the
//  table is unchanged).
int
    audit_certs_load (audit_certs_t *self, const char *dir, audit_certs_result_t *result);

//  The entry of a public key (Z85), or NULL.
const audit_certs_entry_t *
    audit_certs_lookup (audit_certs_t *self, const char *key);

//  Certificates in the table.
size_t
    audit_certs_size (audit_certs_t *self);

//  true when entry may write for org_id.
bool
    audit_certs_allows_org (const audit_certs_entry_t *entry, const char *org_id);

#ifdef __cplusplus
}
#endif

#endif
