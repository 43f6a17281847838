/*  =========================================================================
    audit_page - one page of an organisation's audit events, from a filter

    One SQL shape per order and set of filter terms, each built once (when
    first needed) from the field table: a new filter field is a row of
    audit_fields.def (filter 1), never a new parameter number here. The
    parameters are named.
    ========================================================================= */

#include "sqlite_store.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_log.h"
#include "audit_idcache.h"
#include "audit_store_sql.h"
#include "audit_subjects.h"

#define s_SQL_MAX       2048
#define s_COL_FIELDS    5                   //  the first resource field's column
#define s_COL_UUID      (s_COL_FIELDS + AUDIT_FIELD_COUNT)

//  A shape is the set of terms a filter needs, so that a row is tested
//  only for what the request asks: every "(:x IS NULL OR ...)" term costs
//  each row of a scan its opcodes (measured: a subject page of a typical
//  organisation, which reads its whole range). Bits, from the lowest:
//  ascending, subject, actor, each filter field, event types, cursor.
#define AUDIT_FIELD(NAME, key, kind, min, max, csv, column, stored, filter) + (filter)
enum { s_FILTER_FIELDS = 0
#include "audit_fields.def"
};
#undef AUDIT_FIELD
#define s_BIT_ASC       (1u << 0)
#define s_BIT_SUBJECT   (1u << 1)
#define s_BIT_ACTOR     (1u << 2)
#define s_BIT_FIELD0    3
#define s_BIT_TYPES     (1u << (s_BIT_FIELD0 + s_FILTER_FIELDS))
#define s_BIT_AFTER     (1u << (s_BIT_FIELD0 + s_FILTER_FIELDS + 1))
#define s_BIT_LOG       (1u << (s_BIT_FIELD0 + s_FILTER_FIELDS + 2))
//  A subject, actor or user so frequent that its page scans (s_runs_dense)
#define s_BIT_DENSE     (1u << (s_BIT_FIELD0 + s_FILTER_FIELDS + 3))
#define s_SHAPES        (1 << (s_BIT_FIELD0 + s_FILTER_FIELDS + 4))
_Static_assert (s_BIT_FIELD0 + s_FILTER_FIELDS + 4 <= 16, "a shape's bits fit the table");

//  Each shape's text is built the first time a page needs it (a worker
//  meets a few of them), under s_sql_lock, and kept for the process;
//  its statement is prepared once per connection, as every other is
static _Atomic (char *) s_sql [s_SHAPES];
static pthread_mutex_t s_sql_lock = PTHREAD_MUTEX_INITIALIZER;
static int s_field_bit [AUDIT_FIELD_COUNT];  //  0: not a filter

static void
s_append (char *sql, const char *format, ...)
{
    size_t used = strlen (sql);
    va_list args;
    va_start (args, format);
    int len = vsnprintf (sql + used, s_SQL_MAX - used, format, args);
    va_end (args);
    assert (len >= 0 && (size_t) len < s_SQL_MAX - used);
    (void) len;
}

//  True when shape's page may read the subject runs (audit_subjects): it
//  names a subject, an actor or a user, in time order. Log order reads a
//  window of tiles at a time already.
static bool
s_names_someone (unsigned shape)
{
    unsigned user = 1u << s_field_bit [AUDIT_FIELD_USER_ID];
    return !(shape & s_BIT_LOG) && (shape & (s_BIT_SUBJECT | s_BIT_ACTOR | user));
}

//  True when shape's page reads the subject runs: it names someone who is
//  not so frequent that a scan finds a page sooner
static bool
s_by_runs (unsigned shape)
{
    return s_names_someone (shape) && !(shape & s_BIT_DENSE);
}

//  The keys of the events that may match :key: the entries of the
//  organisation's runs (:runs, a JSON array of their ids), one seek
//  each, and the events of the last, incomplete tile, found in its range
//  of ts. The terms on e then test each of them as any page does.
//  The entries of :key in the runs :runs (a JSON array of their ids) of
//  organisation :org, one seek each: the page's and s_runs_dense's
#define s_SQL_RUN_SEEK  " FROM json_each (:runs) AS j CROSS JOIN subject_run AS d" \
                        " ON d.org = :org AND d.run = j.value CROSS JOIN subject_entry AS r" \
                        " ON r.seq = d.seq AND r.subject = :key"

static void
s_build_runs (char *sql, unsigned shape)
{
    const char *user = audit_proto_field_info (AUDIT_FIELD_USER_ID)->column;
    //  The time range and the cursor bound each run's seek, so that a page
    //  looks up the events of its range only
    s_append (sql, " FROM (SELECT r.ts, r.log_index" s_SQL_RUN_SEEK
              " AND r.ts >= :from AND r.ts < :to");
    if (shape & s_BIT_AFTER)
        s_append (sql, " AND (r.ts, r.log_index) %s (:after_ts, :after_index)",
                  shape & s_BIT_ASC? ">": "<");
    s_append (sql, " UNION ALL SELECT x.ts, x.log_index FROM event AS x WHERE x.org = :org"
              " AND x.ts >= :tail_min AND x.ts <= :tail_max AND x.log_index >= :tail_first"
              " AND (x.actor = :key OR x.%s = :key)) AS k"
              " CROSS JOIN event AS e ON e.ts = k.ts AND e.log_index = k.log_index"
              " WHERE e.org = :org", user);
}

//  What goes before e.ts and e.log_index in a time term: a page by subject
//  runs tests its time range on each match, and a unary + keeps SQLite
//  from pushing it into the last tile's arm as that arm's range, in place
//  of the tile's own (measured: the first DSAR page of org_000 then
//  scanned its whole range, 45 ms)
static const char *
s_ts_plus (unsigned shape)
{
    return s_by_runs (shape)? "+": "";
}

//  The terms that reject most rows come first: SQLite tests the terms it
//  does not seek on in the order written and stops at the first that
//  fails (measured: the first DSAR page of a 500,000-event organisation
//  took half the time it took with the range terms first)
static void
s_build_where (char *sql, unsigned shape)
{
    //  :subject is compared with actor and user in one parameter, so both
    //  columns must hold text, as actor always does
    assert (audit_proto_field_info (AUDIT_FIELD_USER_ID)->stored == AUDIT_STORED_TEXT);
    const char *user = audit_proto_field_info (AUDIT_FIELD_USER_ID)->column;
    //  In log order a window of tiles at a time: their events are the
    //  organisation's rows in the tiles' range of ts (audit_tree), sorted
    if (shape & s_BIT_LOG)
        s_append (sql, " FROM event AS e WHERE e.org = :org AND e.ts >= :span_min"
                  " AND e.ts <= :span_max AND e.log_index >= :from_index"
                  " AND e.log_index < :to_index");
    else
    if (s_by_runs (shape))
        s_build_runs (sql, shape);
    else
        s_append (sql, " FROM event AS e WHERE e.org = :org");
    if (shape & s_BIT_SUBJECT)
        s_append (sql, " AND (e.actor = :subject OR e.%s = :subject)", user);
    if (shape & s_BIT_ACTOR)
        s_append (sql, " AND e.actor = :actor");
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        if (s_field_bit [field] && (shape & (1u << s_field_bit [field])))
            s_append (sql, " AND e.%s = :%s", info->column, info->key);
    }
    if (shape & s_BIT_TYPES)
        s_append (sql, " AND ((:types >> e.type) & 1)");
    if (!(shape & s_BIT_LOG))
        s_append (sql, " AND %se.ts >= :from AND %se.ts < :to", s_ts_plus (shape),
                  s_ts_plus (shape));
}

static void
s_build_shape (unsigned shape, char *sql)
{
    bool asc = shape & s_BIT_ASC;
    strcpy (sql, "SELECT e.log_index, e.ts, e.received, e.type, e.actor");
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        s_append (sql, ", e.%s", audit_proto_field_info ((audit_field_t) field)->column);
    s_append (sql, ", e.uuid");
    s_build_where (sql, shape);
    if (shape & s_BIT_LOG) {
        s_append (sql, " ORDER BY e.log_index LIMIT :limit");
        return;
    }
    if (shape & s_BIT_AFTER)
        s_append (sql, " AND (%se.ts, %se.log_index) %s (:after_ts, :after_index)",
                  s_ts_plus (shape), s_ts_plus (shape), asc? ">": "<");
    const char *dir = asc? "ASC": "DESC";
    s_append (sql, " ORDER BY e.ts %s, e.log_index %s LIMIT :limit", dir, dir);
}

//  The filter fields' bits, before any worker thread runs
__attribute__ ((constructor)) static void
s_build_bits (void)
{
    int bit = s_BIT_FIELD0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (audit_proto_field_info ((audit_field_t) field)->filter)
            s_field_bit [field] = bit++;
}

//  The SQL of shape, built when first asked for; NULL without memory
static const char *
s_shape_sql (unsigned shape)
{
    char *sql = atomic_load_explicit (&s_sql [shape], memory_order_acquire);
    if (sql)
        return sql;
    pthread_mutex_lock (&s_sql_lock);
    sql = atomic_load_explicit (&s_sql [shape], memory_order_relaxed);
    if (!sql && (sql = (char *) calloc (1, s_SQL_MAX))) {
        s_build_shape (shape, sql);
        atomic_store_explicit (&s_sql [shape], sql, memory_order_release);
    }
    pthread_mutex_unlock (&s_sql_lock);
    return sql;
}

static bool
s_given (const char *text)
{
    return text && text [0];
}

//  The bits of filter's match terms
static unsigned
s_shape_filters (const audit_page_filter_t *filter)
{
    unsigned shape = s_given (filter->subject)? s_BIT_SUBJECT: 0;
    shape |= s_given (filter->actor_id)? s_BIT_ACTOR: 0;
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++)
        if (s_field_bit [field] && s_given (filter->field [field]))
            shape |= 1u << s_field_bit [field];
    uint32_t every = (uint32_t) ((1ull << AUDIT_EVENT_COUNT) - 1);
    shape |= (filter->type_mask & every) != every? s_BIT_TYPES: 0;
    return shape;
}

//  The shape of filter's terms
static unsigned
s_shape_of (const audit_page_filter_t *filter)
{
    if (filter->log_order)              //  one order, no time range, no cursor
        return s_BIT_LOG | s_shape_filters (filter);
    unsigned shape = filter->order == AUDIT_CURSOR_ASC? s_BIT_ASC: 0;
    shape |= s_shape_filters (filter);
    shape |= filter->has_after? s_BIT_AFTER: 0;
    return shape;
}

typedef struct {
    audit_page_t base;                //  the engine's table: first

    audit_store_t *store;
    audit_stmts_t *stmts;               //  the store's, for audit.db
    audit_idcache_t *idcache;           //  the store's, names and ids both ways
    audit_page_filter_t filter;
    sqlite3_stmt *stmt;                 //  NULL: nothing (more) to read
    bool in_transaction;
    bool empty;                         //  a name the store has never seen
    uint32_t returned;
    uint64_t window_end;                //  log order: the indices read so far end here
    audit_tree_reader_t *tree;          //  log order: the tiles' ranges of ts
    //  by subject runs (s_runs_read): their ids as a JSON array, and the
    //  first index and range of ts of the events past them
    char *runs;
    int64_t tail_first, tail_min, tail_max;
} s_page_t;

//  Tiles a window of log order reads at most: enough for a page without
//  filters, and small enough that the sort of its rows stays short
#define s_WINDOW_TILES  4

//  --------------------------------------------------------------------------
//  The read transaction

static int
s_exec (s_page_t *self, const char *sql)
{
    sqlite3_stmt *stmt = audit_stmts_get (self->stmts, sql);
    return stmt && audit_store_sql_step (stmt) == 0? 0: -1;
}

static int
s_begin (s_page_t *self)
{
    //  A transaction left open would pin an old snapshot for good
    if (!sqlite3_get_autocommit (audit_store_db (self->store, AUDIT_DB_AUDIT)))
        s_exec (self, "ROLLBACK");
    if (s_exec (self, "BEGIN") != 0)
        return -1;
    self->in_transaction = true;
    return audit_idcache_begin (self->idcache);
}

static void
s_end (s_page_t *self)
{
    if (self->in_transaction && s_exec (self, "COMMIT") != 0)
        s_exec (self, "ROLLBACK");
    self->in_transaction = false;
}

//  --------------------------------------------------------------------------
//  Opening: names to ids, then the statement and its bindings

//  Bind one identifier filter by name: its ident id (or its text, for a
//  column that holds text); an absent one is no term. -1 on a store error.
static int
s_bind_ident (s_page_t *self, const char *param, const char *name,
              audit_field_stored_t stored)
{
    if (!s_given (name))
        return 0;                       //  not a term of the shape
    int index = sqlite3_bind_parameter_index (self->stmt, param);
    if (stored == AUDIT_STORED_TEXT)
        return sqlite3_bind_text (self->stmt, index, name, -1, SQLITE_STATIC) == SQLITE_OK? 0: -1;
    int64_t id = 0;
    int rc = audit_idcache_find (self->idcache, AUDIT_IDCACHE_IDENT, name, &id);
    self->empty |= rc == 1;
    sqlite3_bind_int64 (self->stmt, index, id);
    return rc < 0? -1: 0;
}

static int
s_bind_idents (s_page_t *self)
{
    const audit_page_filter_t *filter = &self->filter;
    int rc = s_bind_ident (self, ":subject", filter->subject, AUDIT_STORED_TEXT)
          | s_bind_ident (self, ":actor", filter->actor_id, AUDIT_STORED_TEXT);
    for (int field = 0; field < AUDIT_FIELD_COUNT; field++) {
        const audit_field_info_t *info = audit_proto_field_info ((audit_field_t) field);
        char param [64];
        snprintf (param, sizeof param, ":%s", info->key);
        if (info->filter)
            rc |= s_bind_ident (self, param, filter->field [field], info->stored);
    }
    return rc? -1: 0;
}

static void
s_bind_int (sqlite3_stmt *stmt, const char *param, int64_t value)
{
    int index = sqlite3_bind_parameter_index (stmt, param);
    if (index > 0)                      //  0: not a term of the shape
        sqlite3_bind_int64 (stmt, index, value);
}

//  The time range the search starts and ends at, narrowed by the cursor.
//  SQLite seeks the primary key with the ts bounds and tests the row value
//  (ts, log_index) on the rows: without the narrowing, page k of a walk
//  would first step over the k pages before it. (ts, i) > (t, j) implies
//  ts >= t, and < implies ts <= t, that is ts < t + 1.
static void
s_bind_range (s_page_t *self)
{
    const audit_page_filter_t *filter = &self->filter;
    bool asc = filter->order == AUDIT_CURSOR_ASC;
    int64_t from = filter->from_ms, to = filter->to_ms;
    int64_t after_ts = asc? INT64_MIN: INT64_MAX, after_index = asc? INT64_MIN: INT64_MAX;
    if (filter->has_after) {
        after_ts = filter->after.ts_ms;
        after_index = (int64_t) filter->after.log_index;
        if (asc && after_ts > from)
            from = after_ts;
        if (!asc && after_ts < to)
            to = after_ts + 1;
    }
    s_bind_int (self->stmt, ":from", from);
    s_bind_int (self->stmt, ":to", to);
    s_bind_int (self->stmt, ":after_ts", after_ts);
    s_bind_int (self->stmt, ":after_index", after_index);
}

//  In log order: where the log ends in this page's snapshot, so that the
//  next page starts past every index this one skipped
static int
s_log_size (s_page_t *self, int64_t org)
{
    sqlite3_stmt *stmt = audit_stmts_get (self->stmts, "SELECT next_index FROM org WHERE id = ?1");
    if (!stmt)
        return -1;
    sqlite3_bind_int64 (stmt, 1, org);
    int64_t size = 0;
    int rc = audit_stmts_int (stmt, &size);
    self->base.log_size = rc == 0 && size > 0? (uint64_t) size: 0;
    return rc < 0? -1: 0;
}

//  Bind the next window of log order, from index first: its tiles'
//  range of ts and their indices (none left: the statement is done)
static int
s_window (s_page_t *self, uint64_t first)
{
    uint64_t tile = first / AUDIT_TREE_TILE_LEAVES;
    uint64_t end = (tile + s_WINDOW_TILES) * AUDIT_TREE_TILE_LEAVES;
    end = end < self->base.log_size? end: self->base.log_size;
    end = end > first? end: first;
    int64_t min = INT64_MAX, max = INT64_MIN;
    if (end > first && audit_tree_span (self->tree, first, end, &min, &max) != 0)
        return -1;
    self->window_end = end;
    s_bind_int (self->stmt, ":span_min", min);
    s_bind_int (self->stmt, ":span_max", max);
    s_bind_int (self->stmt, ":from_index", (int64_t) (first > INT64_MAX? INT64_MAX: first));
    s_bind_int (self->stmt, ":to_index", (int64_t) (end > INT64_MAX? INT64_MAX: end));
    return 0;
}

//  In log order: where the log ends, and the first window
static int
s_log_window (s_page_t *self, int64_t org, uint64_t from)
{
    if (s_log_size (self, org) != 0)
        return -1;
    self->tree = (audit_tree_reader_t *) calloc (1, sizeof *self->tree);
    if (!self->tree || sqlite_tree_reader (self->store, org, self->filter.org_id, self->tree))
        return -1;
    return s_window (self, from);
}

//  Log order: the statement went past its window; the next one, while
//  the log goes on. 1 when a window is bound, 0 at the end, -1.
static int
s_window_next (s_page_t *self)
{
    if (!self->filter.log_order || self->window_end >= self->base.log_size)
        return 0;
    sqlite3_reset (self->stmt);
    return s_window (self, self->window_end) == 0? 1: -1;
}

//  The subject runs' bounds in this page's snapshot: the complete tiles,
//  those merged, and the last tile's range of ts (any ts when its row has
//  none: a range not known)
#define s_SQL_RUNS      "SELECT next_index, subject_merged, tail_min_ts, tail_max_ts" \
                        " FROM org WHERE id = ?1"

//  The ids of the runs of tiles complete tiles, merged of them merged, as
//  a JSON array (20 digits and a comma each); NULL without memory
static char *
s_runs_text (uint64_t merged, uint64_t tiles)
{
    size_t count = audit_subjects_runs (merged, tiles, NULL, 0);
    int64_t *ids = (int64_t *) malloc ((count? count: 1) * sizeof *ids);
    size_t size = count * 21 + 3;
    char *text = ids? (char *) malloc (size): NULL;
    if (text) {
        audit_subjects_runs (merged, tiles, ids, count);
        size_t used = (size_t) snprintf (text, size, "[");
        for (size_t at = 0; at < count; at++)
            used += (size_t) snprintf (text + used, size - used, "%s%lld", at? ",": "",
                                       (long long) ids [at]);
        snprintf (text + used, size - used, "]");
    }
    free (ids);
    return text;
}

//  The name a page by subject runs seeks in them
static const char *
s_runs_key (const audit_page_filter_t *filter)
{
    return s_given (filter->subject)? filter->subject
         : s_given (filter->actor_id)? filter->actor_id: filter->field [AUDIT_FIELD_USER_ID];
}

//  The org row's bounds of the runs, in this page's snapshot; *size, the
//  log's. A last tile without events has no range to scan; one whose
//  range is not written yet, any ts.
static int
s_runs_read (s_page_t *self, int64_t org, int64_t *size)
{
    sqlite3_stmt *runs = audit_stmts_get (self->stmts, s_SQL_RUNS);
    if (!runs)
        return -1;
    sqlite3_bind_int64 (runs, 1, org);
    if (sqlite3_step (runs) != SQLITE_ROW) {
        sqlite3_reset (runs);
        return -1;
    }
    *size = sqlite3_column_int64 (runs, 0);
    uint64_t tiles = (uint64_t) *size / AUDIT_TREE_TILE_LEAVES;
    uint64_t merged = (uint64_t) sqlite3_column_int64 (runs, 1);
    bool known = sqlite3_column_type (runs, 2) != SQLITE_NULL;
    bool empty = *size % AUDIT_TREE_TILE_LEAVES == 0;
    self->tail_first = (int64_t) (tiles * AUDIT_TREE_TILE_LEAVES);
    self->tail_min = empty? INT64_MAX: known? sqlite3_column_int64 (runs, 2): INT64_MIN;
    self->tail_max = empty? INT64_MIN: known? sqlite3_column_int64 (runs, 3): INT64_MAX;
    sqlite3_reset (runs);
    free (self->runs);
    self->runs = s_runs_text (merged, tiles);
    return self->runs? 0: -1;
}

//  The integer square root of value, rounded down
static uint64_t
s_isqrt (uint64_t value)
{
    uint64_t root = 0;
    for (uint64_t bit = 1ull << 62; bit; bit >>= 2)
        if (value >= root + bit) {
            value -= root + bit;
            root = (root >> 1) + bit;
        }
        else
            root >>= 1;
    return root;
}

//  True when the runs hold so many entries of key that a scan finds the
//  page sooner. The runs cost a random read per entry a page looks up;
//  a scan reads the organisation's rows in order, about 32 to a page,
//  until it has the page: limit * size / entries rows. The two meet near
//  entries = sqrt (limit * size / 32), which the count stops at.
#define s_SQL_DENSE     "SELECT count (*) FROM (SELECT 1" s_SQL_RUN_SEEK " LIMIT :cap)"

//  Bind the run seek's :runs and :key in stmt. 0 or -1.
static int
s_bind_run_seek (s_page_t *self, sqlite3_stmt *stmt)
{
    int rc = sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":runs"),
                                self->runs, -1, SQLITE_STATIC)
           | sqlite3_bind_text (stmt, sqlite3_bind_parameter_index (stmt, ":key"),
                                s_runs_key (&self->filter), -1, SQLITE_STATIC);
    return rc == SQLITE_OK? 0: -1;
}

static int
s_runs_dense (s_page_t *self, int64_t org, int64_t size, bool *dense)
{
    int64_t cap = (int64_t) s_isqrt ((uint64_t) self->filter.limit * (uint64_t) size / 32);
    cap = cap < 16? 16: cap;
    sqlite3_stmt *stmt = audit_stmts_get (self->stmts, s_SQL_DENSE);
    if (!stmt)
        return -1;
    s_bind_int (stmt, ":org", org);
    s_bind_int (stmt, ":cap", cap);
    int64_t count = 0;
    int rc = s_bind_run_seek (self, stmt) == 0? audit_stmts_int (stmt, &count): -1;
    *dense = rc == 0 && count >= cap;
    return rc < 0? -1: 0;
}

static int
s_bind_runs (s_page_t *self)
{
    s_bind_int (self->stmt, ":tail_first", self->tail_first);
    s_bind_int (self->stmt, ":tail_min", self->tail_min);
    s_bind_int (self->stmt, ":tail_max", self->tail_max);
    return s_bind_run_seek (self, self->stmt);
}

//  The shape of a page that names someone: by the runs, unless they are
//  dense (s_runs_dense)
static int
s_runs_shape (s_page_t *self, int64_t org, unsigned *shape)
{
    int64_t size = 0;
    bool dense = false;
    if (s_runs_read (self, org, &size) != 0 || s_runs_dense (self, org, size, &dense) != 0)
        return -1;
    *shape |= dense? s_BIT_DENSE: 0;
    return 0;
}

static int
s_prepare (s_page_t *self)
{
    const audit_page_filter_t *filter = &self->filter;
    int64_t org = 0;
    int rc = audit_idcache_find (self->idcache, AUDIT_IDCACHE_ORG, filter->org_id, &org);
    if (rc != 0 || filter->type_mask == 0)
        return rc < 0? -1: 0;           //  no such organisation, or no type: empty
    unsigned shape = s_shape_of (filter);
    if (s_names_someone (shape) && s_runs_shape (self, org, &shape) != 0)
        return -1;
    const char *sql = s_shape_sql (shape);
    self->stmt = sql? audit_stmts_get (self->stmts, sql): NULL;
    if (!self->stmt || s_bind_idents (self) != 0)
        return -1;
    if (s_by_runs (shape) && s_bind_runs (self) != 0)
        return -1;
    s_bind_int (self->stmt, ":org", org);
    s_bind_int (self->stmt, ":types", filter->type_mask);
    if (filter->log_order && s_log_window (self, org, filter->from_index) != 0)
        return -1;
    s_bind_range (self);
    //  One row past the page tells whether there is a next page
    s_bind_int (self->stmt, ":limit", (int64_t) filter->limit + 1);
    if (self->empty)
        self->stmt = NULL;              //  reset by the next audit_stmts_get
    return 0;
}

audit_page_t *
sqlite_page_new (audit_store_t *store, const audit_page_filter_t *filter)
{
    assert (store);
    assert (filter && filter->org_id && filter->limit > 0);
    s_page_t *self = (s_page_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->base.ops = *(const audit_store_ops_t *const *) store;
    self->store = store;
    self->filter = *filter;
    self->base.from_index = filter->from_index;
    self->stmts = audit_store_stmts (store, AUDIT_DB_AUDIT);
    self->idcache = audit_store_idcache (store);
    if (s_begin (self) != 0 || s_prepare (self) != 0) {
        audit_log_error ("msg=\"page not opened\" file=audit.db reason=\"%s\"",
                         sqlite3_errmsg (audit_store_db (store, AUDIT_DB_AUDIT)));
        audit_page_t *page = &self->base;
        sqlite_page_destroy (&page);
        return NULL;
    }
    return &self->base;
}

//  --------------------------------------------------------------------------
//  Rows

//  One resource field of the row. A text column is read in one call (its
//  NULL is a NULL pointer), any other through its value: each column call
//  costs a lookup and a check of the statement's state, and an export
//  makes fifteen of them a row.
static int
s_read_field (s_page_t *self, audit_field_t field, audit_row_t *row)
{
    int column = s_COL_FIELDS + (int) field;
    row->text [field] = NULL;
    row->has_number [field] = false;
    audit_field_stored_t stored = audit_proto_field_info (field)->stored;
    if (stored == AUDIT_STORED_TEXT) {
        row->text [field] = (const char *) sqlite3_column_text (self->stmt, column);
        return 0;
    }
    sqlite3_value *value = sqlite3_column_value (self->stmt, column);
    if (sqlite3_value_type (value) == SQLITE_NULL)
        return 0;
    if (stored == AUDIT_STORED_NAME)
        return audit_idcache_name (self->idcache, AUDIT_IDCACHE_IDENT,
                                   sqlite3_value_int64 (value), &row->text [field]);
    row->has_number [field] = true;
    row->number [field] = (uint64_t) sqlite3_value_int64 (value);
    return 0;
}

static int
s_read_row (s_page_t *self, audit_row_t *row)
{
    sqlite3_stmt *stmt = self->stmt;
    row->log_index = (uint64_t) sqlite3_column_int64 (stmt, 0);
    row->timestamp_ms = sqlite3_column_int64 (stmt, 1);
    row->received_ms = sqlite3_column_int64 (stmt, 2);
    row->type = (audit_event_type_t) sqlite3_column_int (stmt, 3);
    row->org_id = self->filter.org_id;
    audit_idcache_row (self->idcache);
    row->actor_id = (const char *) sqlite3_column_text (stmt, 4);
    int rc = 0;
    for (int field = 0; rc == 0 && field < AUDIT_FIELD_COUNT; field++)
        rc = s_read_field (self, (audit_field_t) field, row);
    sqlite3_value *value = sqlite3_column_value (stmt, s_COL_UUID);
    const void *uuid = sqlite3_value_blob (value);
    if (uuid && sqlite3_value_bytes (value) == AUDIT_UUID_SIZE)
        memcpy (row->event_id, uuid, AUDIT_UUID_SIZE);
    else
        memset (row->event_id, 0, AUDIT_UUID_SIZE);
    if (!row->actor_id)
        row->actor_id = "";
    return rc;
}

int
sqlite_page_next (audit_page_t *handle, audit_row_t *row)
{
    s_page_t *self = (s_page_t *) handle;
    assert (self);
    if (!self->stmt)
        return 0;
    int rc = sqlite3_step (self->stmt);
    int next;
    while (rc == SQLITE_DONE && (next = s_window_next (self)) != 0)
        rc = next > 0? sqlite3_step (self->stmt): SQLITE_ERROR;
    if (rc == SQLITE_ROW && self->returned == self->filter.limit) {
        self->base.more = true;              //  the probe row: it belongs to the next page
        rc = SQLITE_DONE;
    }
    if (rc == SQLITE_ROW && s_read_row (self, row) == 0) {
        self->base.last = (audit_page_pos_t) { row->timestamp_ms, row->log_index };
        self->returned++;
        return 1;
    }
    if (rc != SQLITE_DONE)
        audit_log_error ("msg=\"page not read\" file=audit.db reason=\"%s\"",
                         sqlite3_errmsg (sqlite3_db_handle (self->stmt)));
    sqlite3_reset (self->stmt);
    self->stmt = NULL;
    return rc == SQLITE_DONE? 0: -1;
}

void
sqlite_page_destroy (audit_page_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_page_t *self = (s_page_t *) *self_p;
    if (self->stmt)
        sqlite3_reset (self->stmt);
    s_end (self);
    free (self->tree);
    free (self->runs);
    free (self);
    *self_p = NULL;
}

int
sqlite_page_shape_count (void)
{
    return s_SHAPES;
}

const char *
sqlite_page_shape_sql (int shape)
{
    return shape >= 0 && shape < s_SHAPES? s_shape_sql ((unsigned) shape): NULL;
}
