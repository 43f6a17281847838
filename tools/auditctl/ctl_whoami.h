/*  =========================================================================
    ctl_whoami - auditctl whoami: what the token in use claims (subject,
    role, organisation, device, audience, expiry), read from the token
    itself and not verified: only the service holds the secret
    ========================================================================= */

#ifndef CTL_WHOAMI_H_INCLUDED
#define CTL_WHOAMI_H_INCLUDED

#include <stdio.h>

#include "ctl_args.h"

#ifdef __cplusplus
extern "C" {
#endif

//  Print the claims of token to out (lines, or with json the claims
//  object). CTL_EXIT_OK, or CTL_EXIT_USAGE when it is not a JWT.
int
    ctl_whoami_print (const char *token, bool json, int64_t now_ms, FILE *out);

//  whoami with args' token, now.
int
    ctl_whoami_run (const ctl_args_t *args);

#ifdef __cplusplus
}
#endif

#endif
