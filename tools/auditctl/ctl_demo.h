/*  =========================================================================
    ctl_demo - realistic audit events for auditctl publish --demo N

    Mixed catalogue types (logins more often than group changes, as in
    life), each with its required fields and some of its optional ones,
    five organisations demo-org-1..5 unless one is given, a handful of
    admins, users, devices and groups, timestamps up to 7 days back, and
    producer_id + seq so the ingest worker's gap counter has something to
    count. The catalogue itself comes from proto/, so a new event type is
    picked up without touching this file.
    ========================================================================= */

#ifndef CTL_DEMO_H_INCLUDED
#define CTL_DEMO_H_INCLUDED

#include <stdint.h>

#include "ctl_json.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CTL_DEMO_PRODUCER   "auditctl-demo"
#define CTL_DEMO_ORGS       5
#define CTL_DEMO_SPAN_MIN   (7 * 24 * 60)   //  timestamps reach this far back

typedef struct {
    uint64_t state;                 //  xorshift64*: repeatable for a seed
    const char *org;                //  NULL: demo-org-1..5
    const char *producer;
} ctl_demo_t;

//  Set up a generator. org and producer are borrowed (NULL for defaults).
void
    ctl_demo_init (ctl_demo_t *self, uint64_t seed, const char *org, const char *producer);

//  Build demo event number seq (1, 2, ...) into object (cleared first),
//  its timestamp before now_ms. 0, or -1 on allocation failure.
int
    ctl_demo_event (ctl_demo_t *self, uint64_t seq, int64_t now_ms, ctl_json_object_t *object);

//  A random canonical lower-case UUID v4 into text (37 bytes).
void
    ctl_demo_uuid (char *text);

#ifdef __cplusplus
}
#endif

#endif
