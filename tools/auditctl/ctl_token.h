/*  =========================================================================
    ctl_token - auditctl token: mint a development token from the local
    secret, the same way the platform's auth service would (HS256, aud,
    exp), so that a developer can try every op without the platform.
    ========================================================================= */

#ifndef CTL_TOKEN_H_INCLUDED
#define CTL_TOKEN_H_INCLUDED

#include <stddef.h>
#include <stdint.h>

#include "ctl_args.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CTL_TOKEN_TTL_DEFAULT_S  3600

//  Mint the token args describe and print it on stdout. Returns an exit
//  code: 0, or 2 when the role's claims are missing or there is no secret.
int
    ctl_token_run (const ctl_args_t *args);

//  Mint into *token_out (heap, caller frees) from the secret in file (NULL:
//  AUDIT_JWT_SECRET_FILE, then AUDIT_JWT_SECRET) for audience (NULL:
//  AUDIT_JWT_AUDIENCE or its default). 0, or -1 with a line on stderr.
int
    ctl_token_mint (const char *secret_file, const char *role, const char *org,
                    const char *device, const char *sub, int64_t ttl_s, char **token_out);

#ifdef __cplusplus
}
#endif

#endif
