/*  =========================================================================
    pg_schema - the PostgreSQL store's tables, and their migrations

    The three stores are three schemas of one database (contract: "Data
    directory"): audit (events, organisations, their log, counters,
    producers, the workers' heartbeats), ops (operational records) and
    queue (undelivered messages). Every table is keyed by org_id first
    where it has one, so that a sharding extension (Citus) can distribute
    on it; ops carries no identity at all, so it has none (README).

    audit.event is partitioned by the month of ts (native declarative
    partitioning, a partition per UTC calendar month, made on demand by
    pg_schema_partitions before a batch that needs it), so that retention
    drops whole months once every organisation's retention passed them.

    One list of steps migrates the database; audit.meta 'schema_version'
    is the length of the list run so far. Each step runs in a transaction
    under an advisory lock, so that workers that start together run it
    once. A step is never edited once released.
    ========================================================================= */

#ifndef PG_SCHEMA_H_INCLUDED
#define PG_SCHEMA_H_INCLUDED

#include "pg_conn.h"
#include "audit_store.h"

#ifdef __cplusplus
extern "C" {
#endif

//  The advisory lock keys of the engine (pg_advisory_xact_lock): the
//  migrations, the making of a partition, the one janitor at a time, the
//  one walk of the checkpoints due at a time (pg_log.c)
#define PG_SCHEMA_LOCK_MIGRATE      0x41554401
#define PG_SCHEMA_LOCK_PARTITION    0x41554402
#define PG_SCHEMA_LOCK_JANITOR      0x41554403
#define PG_SCHEMA_LOCK_SIGN         0x41554404

//  The schema version this build writes and reads.
int
    pg_schema_version (void);

//  Bring the database to this build's version (a WRITER or MAINTAINER);
//  a READER only checks that it is there. 0, or -1 logged.
int
    pg_schema_migrate (pg_conn_t *conn, audit_store_mode_t mode);

//  Whether the database already holds the audit store (any version).
//  1 yes, 0 no, -1 when it cannot be told.
int
    pg_schema_exists (pg_conn_t *conn);

//  The partition of audit.event that holds ts exists after this (made,
//  in its own short transaction, when missing); months already seen by
//  this process are remembered in *known (bits of months since 1970,
//  a small cache the caller owns). 0 or -1. Outside any transaction.
typedef struct {
    int64_t months [64];                //  months since 1970-01 made or seen
    int count;
} pg_schema_months_t;

int
    pg_schema_partition (pg_conn_t *conn, int64_t ts_ms, pg_schema_months_t *known);

//  The month (since 1970-01, UTC) of a time in ms, and the first ms of a
//  month: partition bounds.
int64_t
    pg_schema_month (int64_t ts_ms);
int64_t
    pg_schema_month_start (int64_t month);

#ifdef __cplusplus
}
#endif

#endif
