/*  =========================================================================
    audit_store_mq - a device's undelivered messages in queue.db

    A message is addressed to one device of one organisation; only that
    device's own calls name the two, so no operation here can reach
    another's messages.
    ========================================================================= */

#ifndef AUDIT_STORE_MQ_H_INCLUDED
#define AUDIT_STORE_MQ_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  One stored message, lent to the visitor for the length of its call
typedef struct {
    uint8_t message_id [AUDIT_UUID_SIZE];
    bool id_valid;                      //  false: the store holds no usable id
    int64_t timestamp_ms;
    const void *payload;                //  the device's bytes, opaque
    size_t payload_size;
} audit_store_mq_message_t;

//  Called for each message in turn: 0 for the next, anything else stops
//  the fetch there (that message is seen, nothing after it)
typedef int (audit_store_mq_fn) (const audit_store_mq_message_t *message, void *arg);

//  Visit the messages of device of org, oldest first (by timestamp, then
//  arrival), at most limit of them. 0 when every message was visited or
//  the visitor stopped, -1 when the store could not be read.
int
    audit_store_mq_fetch (audit_store_t *self, const char *org, const char *device,
                          uint32_t limit, audit_store_mq_fn *fn, void *arg);

//  Delete, in one transaction, those of the count message ids (16 bytes
//  each) that belong to device of org; ids of other devices or unknown
//  ids delete nothing. *deleted gets how many went. Needs a store that
//  writes (the caller serializes its use). 0, or -1 with nothing deleted.
int
    audit_store_mq_ack (audit_store_t *self, const char *org, const char *device,
                        const uint8_t (*ids) [AUDIT_UUID_SIZE], size_t count,
                        uint64_t *deleted);

//  Receives one stored message of any device, with its addressee and when
//  the service received it: 0 for the next, anything else stops the walk
typedef int (audit_store_mq_each_fn) (const char *org, const char *device,
                                      int64_t received_ms,
                                      const audit_store_mq_message_t *message, void *arg);

//  Visit every stored message, of every device, in the order they
//  arrived: the whole queue, for an operator's move of a data directory
//  (auditctl migrate, with the workers stopped), never for a device's
//  calls; never the whole queue in memory at once. 0 when every message
//  was visited or the visitor stopped, -1 when the store could not be read.
int
    audit_store_mq_each (audit_store_t *self, audit_store_mq_each_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif
