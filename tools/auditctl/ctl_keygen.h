/*  =========================================================================
    ctl_keygen - auditctl keygen: a CURVE certificate in CZMQ's zcert
    format (contract: "Transport security"), the service's or a
    producer's, its secret file readable by its owner only.
    ========================================================================= */

#ifndef CTL_KEYGEN_H_INCLUDED
#define CTL_KEYGEN_H_INCLUDED

#include "ctl_args.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Write the certificate args describe (--output, --producer, --orgs) and
//  print its public key. An exit code: 0, or 2 when it cannot be written.
int
    ctl_keygen_run (const ctl_args_t *args);

//  Write a new keypair as path (public) and path "_secret" (mode 0600),
//  with producer_id and orgs metadata when not NULL; neither file may
//  exist. 0 and the public key in key_out (41 bytes), or -1 with a line
//  on stderr.
int
    ctl_keygen_write (const char *path, const char *producer_id, const char *orgs,
                      char *key_out);

#ifdef __cplusplus
}
#endif

#endif
