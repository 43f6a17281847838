/*  =========================================================================
    bench_keys - CURVE for the benchmarks: a service certificate and one
    producer certificate (bench_raw's producer_id) made in a directory,
    and the settings that turn CURVE on or off for every worker and client
    a benchmark starts after (the environment: AUDIT_CURVE_SECRET_FILE and
    AUDIT_PRODUCER_KEYS_DIR for workers, AUDIT_CURVE_SERVER_KEY and
    AUDIT_CURVE_CLIENT_CERT for clients, as in production)
    ========================================================================= */

#ifndef BENCH_KEYS_H_INCLUDED
#define BENCH_KEYS_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

//  Make dir/server.cert, dir/client.cert (producer_id producer) and its
//  public half in dir/producers, unless there. 0 or -1.
int
    bench_keys_make (const char *dir, const char *producer);

//  on: set the four settings to dir's keys in this process's environment
//  (children inherit it); off: unset them.
void
    bench_keys_use (const char *dir, bool on);

//  Make socket a CURVE client as the environment says (before it
//  connects); nothing when AUDIT_CURVE_SERVER_KEY is unset. 0 or -1.
int
    bench_keys_apply (zsock_t *socket);

#ifdef __cplusplus
}
#endif

#endif
