/*  =========================================================================
    audit_decode - one pass from MessagePack bytes to a validated record

    Every rule of the contract's "Publishing" section is applied here and
    nowhere else. A key the type does not allow is dropped: its name is
    reported (sanitised) so the caller can count it, and its value is never
    copied anywhere. When several rules are broken the reason of highest
    precedence wins (malformed > bad_version > unknown_type > reserved_type
    > missing_field > bad_field > bad_timestamp); the whole body is walked,
    so the event_id and producer_id are learnt for the log line whenever
    they parse, even in an event rejected for another field.
    ========================================================================= */

#ifndef AUDIT_DECODE_H_INCLUDED
#define AUDIT_DECODE_H_INCLUDED

#include "audit_ident.h"
#include "audit_record.h"

#ifdef __cplusplus
extern "C" {
#endif

//  How many dropped key names one message reports (more are still counted
//  in dropped_total, and reported as the name AUDIT_DECODE_KEY_OTHER)
#define AUDIT_DECODE_DROPPED_MAX   16
//  Longest key name reported as itself. A dropped key is reported as itself
//  only when it is shaped like a field name (an ASCII letter or '_', then
//  letters, digits, '_' or '-', at most this long); any other key, a value
//  put in key position say, is reported as AUDIT_DECODE_KEY_OTHER so that
//  no content hides in a key
#define AUDIT_DECODE_KEY_NAME_MAX  64
#define AUDIT_DECODE_KEY_OTHER     "(other)"

//  What the decoder learnt besides the record, for counters and the log
typedef struct {
    audit_reason_t reason;                  //  set when decode returns -1
                                            //  (AUDIT_REASON_COUNT on success)
    char event_id [AUDIT_UUID_TEXT_LEN + 1];//  "" unless it parsed as a UUID
    audit_ident_t producer_id;              //  "" unless it parsed
    uint64_t seq;                           //  the producer's seq, when has_seq
    bool has_seq;
    const char *field;                      //  the key that broke the rule the
                                            //  reason names (a static key name
                                            //  of the proto tables, never a
                                            //  value), NULL when none does
    uint32_t dropped_total;                 //  keys dropped, all of them
    uint32_t dropped_count;                 //  names in dropped[]
    char dropped [AUDIT_DECODE_DROPPED_MAX][AUDIT_DECODE_KEY_NAME_MAX + 1];
} audit_decode_info_t;

//  Decode and validate an audit event body. now_ms is the clock against
//  which the timestamp window (1 h ahead, 12 months back) is checked.
//  Returns 0 and fills *event, or -1 with info->reason set.
int
    audit_decode_event (const void *data, size_t size, int64_t now_ms,
                        audit_event_t *event, audit_decode_info_t *info);

//  Decode and validate an operational record body; as audit_decode_event.
int
    audit_decode_ops (const void *data, size_t size, int64_t now_ms,
                      audit_ops_t *ops, audit_decode_info_t *info);

//  Decode and validate an undelivered message body; mq->payload borrows
//  from data, and info->event_id names the message_id. As audit_decode_event.
int
    audit_decode_mq (const void *data, size_t size, int64_t now_ms,
                     audit_mq_t *mq, audit_decode_info_t *info);

//  Decode a body by topic kind into record->u, setting record->kind.
//  received_ms is left to the caller.
int
    audit_decode_record (audit_topic_kind_t kind, const void *data, size_t size,
                         int64_t now_ms, audit_record_t *record,
                         audit_decode_info_t *info);

#ifdef __cplusplus
}
#endif

#endif
