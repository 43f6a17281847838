/*  =========================================================================
    fuzz_decode - libFuzzer entry point for the ingest decoder

    Every input is decoded as all three topic kinds, against a fixed clock
    so that a crash reproduces. The decoder must return 0 or -1 for any
    bytes at all; what it fills in is checked for the invariants a caller
    relies on, so that a wrong answer is found as well as a crash.

    Build (not part of the default build):
      cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DAUDIT_FUZZ=ON \
        -DAUDIT_TESTS=ON && cmake --build build-fuzz --target fuzz-decode
      build-fuzz/bin/fuzz-decode -max_total_time=60
    or by hand:
      clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
        -Iproto -Icommon tests/fuzz/fuzz_decode.c common/audit_decode.c \
        common/audit_walk.c common/audit_ident.c common/audit_keys.c \
        common/audit_mp.c common/audit_time.c \
        proto/audit_proto.c -o fuzz_decode
    ========================================================================= */

#include <stdlib.h>
#include <string.h>

#include "audit_decode.h"

//  2026-11-26T09:47:19.123Z
#define FUZZ_NOW_MS 1795686439123LL

//  A dropped key is named only when shaped like a field name (a letter or
//  '_', then letters, digits, '_' or '-'); anything else is "(other)"
#define FUZZ_HEAD "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
#define FUZZ_TAIL FUZZ_HEAD "0123456789-"

static bool
s_name_is_safe (const char *name)
{
    if (strcmp (name, AUDIT_DECODE_KEY_OTHER) == 0)
        return true;
    return name [0] && strchr (FUZZ_HEAD, name [0])
        && strspn (name, FUZZ_TAIL) == strlen (name);
}

static void
s_check_info (const audit_decode_info_t *info, int rc)
{
    if (rc != 0 && rc != -1)
        abort ();
    if (rc == -1 && (int) info->reason >= AUDIT_REASON_COUNT)
        abort ();
    if (info->dropped_count > AUDIT_DECODE_DROPPED_MAX
    ||  info->dropped_count > info->dropped_total)
        abort ();
    if (strlen (info->event_id) != 0 && strlen (info->event_id) != AUDIT_UUID_TEXT_LEN)
        abort ();
    for (uint32_t index = 0; index < info->dropped_count; index++)
        if (strlen (info->dropped [index]) > AUDIT_DECODE_KEY_NAME_MAX
        ||  !s_name_is_safe (info->dropped [index]))
            abort ();
}

//  What an accepted record promises downstream
static void
s_check_record (const audit_record_t *record, const uint8_t *data, size_t size)
{
    if (record->kind == AUDIT_TOPIC_KIND_AUDIT) {
        const audit_event_t *event = &record->u.event;
        if (event->type >= AUDIT_EVENT_COUNT
        ||  !audit_ident_is_valid (event->org_id, strlen (event->org_id))
        ||  !audit_ident_is_valid (event->actor_id, strlen (event->actor_id)))
            abort ();
        const audit_event_info_t *info = audit_proto_event_info (event->type);
        if (info->reserved || (event->present & ~(info->required | info->optional))
        ||  (info->required & ~event->present))
            abort ();
    }
    else
    if (record->kind == AUDIT_TOPIC_KIND_OPS) {
        const audit_ops_t *ops = &record->u.ops;
        if (ops->path [0] != '/' || strpbrk (ops->path, "?#")
        ||  ops->status < 100 || ops->status > 599)
            abort ();
    }
    else {
        const audit_mq_t *mq = &record->u.mq;
        if (mq->payload_size < 1 || mq->payload < data
        ||  mq->payload + mq->payload_size > data + size)
            abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static audit_record_t record;
    static audit_decode_info_t info;
    const audit_topic_kind_t kinds [] = {
        AUDIT_TOPIC_KIND_AUDIT, AUDIT_TOPIC_KIND_OPS, AUDIT_TOPIC_KIND_MQ,
        AUDIT_TOPIC_KIND_UNKNOWN
    };
    for (size_t index = 0; index < sizeof kinds / sizeof kinds [0]; index++) {
        int rc = audit_decode_record (kinds [index], data, size, FUZZ_NOW_MS, &record, &info);
        s_check_info (&info, rc);
        if (rc == 0)
            s_check_record (&record, data, size);
    }
    return 0;
}
