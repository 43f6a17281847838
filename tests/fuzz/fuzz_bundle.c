/*  =========================================================================
    fuzz_bundle - libFuzzer entry point for auditctl verify's bundle reader

    Every input is parsed as a proof bundle (ctl_bundle_parse: the scan for
    its big string members, jansson for the rest, the ranges and base64
    read here); what parses is walked to its root (ctl_bundle_root), which
    must end in 0 or -1, never read past the bundle's arrays.

    Build: as fuzz_rows.c; build-fuzz/bin/fuzz-bundle -max_total_time=60
    ========================================================================= */

#include <stdlib.h>
#include <string.h>

#include "ctl_bundle.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *copy = malloc (size + 1);
    memcpy (copy, data, size);
    char error [300];
    ctl_bundle_t *bundle = ctl_bundle_parse (copy, size, error, sizeof error);
    if (bundle && bundle->size <= (1u << 20)) {
        audit_merkle_hash_t root;
        int rc = ctl_bundle_root (bundle, root, error, sizeof error);
        if (rc != 0 && rc != -1)
            abort ();
    }
    ctl_bundle_destroy (&bundle);
    free (copy);
    return 0;
}
