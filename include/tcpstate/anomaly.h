/*
 * anomaly.h - the anomaly catalogue and per-connection findings.
 *
 * Every anomaly type has a stable snake_case id (users grep, filter and gate
 * CI on it), a default severity and documentation in docs/anomalies.md.
 * Findings of one type are aggregated per connection: the first one opens a
 * record, later ones raise `count`, move `last_*` and add evidence frames up
 * to a cap.  Type-specific facts live in four numeric slots whose meaning is
 * given per type by tcpst_anomaly_fact_names().  Storage is inline in the
 * connection (no allocation); findings beyond the per-connection cap are
 * counted, never silently lost.
 */
#ifndef TCPSTATE_ANOMALY_H
#define TCPSTATE_ANOMALY_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/types.h"

typedef enum tcpst_severity {
    TCPST_SEV_INFO = 0,
    TCPST_SEV_WARNING,
    TCPST_SEV_ERROR
} tcpst_severity;

/* X(ENUM, "id", severity) - order is the report's order; append only. */
#define TCPST_ANOMALY_MAP(X)                                                                       \
    X(SYN_UNANSWERED, "syn_unanswered", WARNING)                                                   \
    X(CONNECTION_REJECTED, "connection_rejected", WARNING)                                         \
    X(HANDSHAKE_INCOMPLETE, "handshake_incomplete", WARNING)                                       \
    X(HANDSHAKE_INVALID, "handshake_invalid", ERROR)                                               \
    X(SIMULTANEOUS_OPEN, "simultaneous_open", INFO)                                                \
    X(SIMULTANEOUS_CLOSE, "simultaneous_close", INFO)                                              \
    X(DATA_BEFORE_ESTABLISHED, "data_before_established", WARNING)                                 \
    X(CLOSE_WAIT_STUCK, "close_wait_stuck", ERROR)                                                 \
    X(FIN_WAIT_2_STUCK, "fin_wait_2_stuck", WARNING)                                               \
    X(FIN_WAIT_1_STUCK, "fin_wait_1_stuck", WARNING)                                               \
    X(LAST_ACK_STUCK, "last_ack_stuck", WARNING)                                                   \
    X(HALF_OPEN, "half_open", ERROR)                                                               \
    X(CONNECTION_RESET, "connection_reset", WARNING)                                               \
    X(DATA_AFTER_CLOSE, "data_after_close", WARNING)                                               \
    X(DATA_AFTER_RESET, "data_after_reset", WARNING)                                               \
    X(RST_OUT_OF_WINDOW, "rst_out_of_window", WARNING)                                             \
    X(PORT_REUSE, "port_reuse", WARNING)                                                           \
    X(SYN_INSIDE_CONNECTION, "syn_inside_connection", WARNING)                                     \
    X(RETRANSMISSION, "retransmission", WARNING)                                                   \
    X(OUT_OF_ORDER, "out_of_order", WARNING)                                                       \
    X(SEGMENT_NOT_CAPTURED, "segment_not_captured", WARNING)                                       \
    X(ACK_OF_UNSEEN_DATA, "ack_of_unseen_data", WARNING)                                           \
    X(ZERO_WINDOW, "zero_window", WARNING)                                                         \
    X(ZERO_WINDOW_STALL, "zero_window_stall", ERROR)                                               \
    X(WINDOW_SHRINK, "window_shrink", WARNING)                                                     \
    X(KEEPALIVE, "keepalive", INFO)                                                                \
    X(OUT_OF_WINDOW_SEGMENT, "out_of_window_segment", WARNING)                                     \
    X(TIMESTAMP_REGRESSION, "timestamp_regression", WARNING)                                       \
    X(ILLEGAL_FLAGS, "illegal_flags", ERROR)                                                       \
    X(MALFORMED_OPTIONS, "malformed_options", WARNING)                                             \
    X(RST_WITH_DATA, "rst_with_data", WARNING)                                                     \
    X(BAD_CHECKSUM, "bad_checksum", WARNING)

typedef enum tcpst_anomaly_type {
#define TCPST_X_ATYPE(e, id, sev) TCPST_A_##e,
    TCPST_ANOMALY_MAP(TCPST_X_ATYPE)
#undef TCPST_X_ATYPE
        TCPST_A__COUNT
} tcpst_anomaly_type;

/* Which endpoint a finding is about. */
typedef enum tcpst_who { TCPST_WHO_CLIENT = 0, TCPST_WHO_SERVER = 1, TCPST_WHO_BOTH = 2 } tcpst_who;

#define TCPST_EVIDENCE_MAX 8 /* frame numbers kept per finding */
#define TCPST_FINDINGS_MAX 8 /* distinct (type, endpoint) findings per connection */
#define TCPST_FACTS        4

typedef struct tcpst_finding {
    uint8_t type; /* tcpst_anomaly_type */
    uint8_t who;  /* tcpst_who */
    uint8_t nevidence;
    uint8_t still_at_end; /* for duration findings: the condition held at capture end */
    uint32_t count;
    tcpst_time first_ts, last_ts;
    uint64_t first_frame, last_frame;
    uint64_t evidence[TCPST_EVIDENCE_MAX];
    int64_t fact[TCPST_FACTS]; /* meaning per type: tcpst_anomaly_fact_names() */
} tcpst_finding;

/*
 * Where a connection's findings live.  Most connections have none, so the room for
 * TCPST_FINDINGS_MAX of them (about 1 KB) is not part of the record: a block is taken from
 * a pool at the first finding and given back when the record is written out.  The engine's
 * pool has a block per table slot, reserved at start and touched only as used, so the
 * per-packet path never allocates.  Records not tracked by an engine (tests, tools) use a
 * process-wide pool that grows in slabs and keeps them.
 */
typedef union tcpst_finding_block {
    tcpst_finding f[TCPST_FINDINGS_MAX];
    union tcpst_finding_block *next_free;
} tcpst_finding_block;

typedef struct tcpst_finding_pool {
    tcpst_finding_block *area; /* cap blocks, handed out in order up to hwm */
    size_t cap, hwm;
    tcpst_finding_block *free; /* given back, reused first */
    bool grow;                 /* may allocate more slabs (the process-wide pool) */
} tcpst_finding_pool;

/* A pool of `cap` blocks reserved at once (calloc: pages are touched as blocks are used). */
int tcpst_finding_pool_init(tcpst_finding_pool *p, size_t cap);
void tcpst_finding_pool_fini(tcpst_finding_pool *p);

typedef struct tcpst_findings {
    uint8_t n;
    uint32_t dropped;          /* findings of new (type, who) beyond TCPST_FINDINGS_MAX */
    uint32_t evidence_dropped; /* evidence frames beyond TCPST_EVIDENCE_MAX */
    tcpst_finding *f;          /* n used entries of a block; NULL until the first */
    tcpst_finding_pool *pool;  /* where f came from; NULL: the process-wide pool */
} tcpst_findings;

/* Give the block back (the findings become empty); a no-op without one. */
void tcpst_findings_release(tcpst_findings *fs);

/* dst = src, with the entries copied into `room` (TCPST_FINDINGS_MAX of them): a copy
 * that outlives the original's block, or that may change without touching it. */
void tcpst_findings_copy_to(tcpst_findings *dst, const tcpst_findings *src, tcpst_finding *room);

const char *tcpst_anomaly_id(tcpst_anomaly_type t);
tcpst_severity tcpst_anomaly_severity(tcpst_anomaly_type t);
const char *tcpst_severity_name(tcpst_severity s);
/* Parse an id ("close_wait_stuck"); -1 if unknown. */
int tcpst_anomaly_parse(const char *id);

/*
 * Fact kinds: how a fact slot is written in the report.  A slot whose name is
 * NULL is unused for that type.
 */
typedef enum tcpst_factkind {
    TCPST_FACT_INT = 0, /* integer */
    TCPST_FACT_SECONDS, /* ns stored, seconds written */
    TCPST_FACT_STATE,   /* tcpst_state, written by name */
    TCPST_FACT_FLAGS,   /* TCP flags, written in tcpdump notation */
    TCPST_FACT_BOOL,
    TCPST_FACT_REASON, /* small code, written by name (tcpst_anomaly_reason) */
    TCPST_FACT_OPTBAD  /* TCPST_OPTBAD_* bits, written as a list of names */
} tcpst_factkind;

typedef struct tcpst_factdesc {
    const char *name;
    tcpst_factkind kind;
} tcpst_factdesc;

/* Name of a TCPST_FACT_REASON value of type t ("synack_wrong_ack", ...). */
const char *tcpst_anomaly_reason(tcpst_anomaly_type t, int64_t code);

/* Does this type measure a duration (and so report still_at_capture_end)? */
bool tcpst_anomaly_has_duration(tcpst_anomaly_type t);

/* The TCPST_FACTS slot descriptions of a type. */
const tcpst_factdesc *tcpst_anomaly_facts(tcpst_anomaly_type t);

/*
 * Record one occurrence at (ts, frame) and return the finding so the caller
 * can update its facts; NULL when the per-connection cap is reached (counted
 * in fs->dropped).  frame 0 = no packet (timer, end of capture).
 */
tcpst_finding *tcpst_findings_add(tcpst_findings *fs, tcpst_anomaly_type t, tcpst_who who,
                                  tcpst_time ts, uint64_t frame);

/* The finding of that type and endpoint, or NULL. */
tcpst_finding *tcpst_findings_get(tcpst_findings *fs, tcpst_anomaly_type t, tcpst_who who);

/* Highest severity among the findings; -1 if none. */
int tcpst_findings_max_severity(const tcpst_findings *fs);

#endif
