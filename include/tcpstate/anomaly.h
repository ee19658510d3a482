/* SPDX-License-Identifier: BSD-3-Clause */
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

/*
 * The catalogue: one row per anomaly type, in the report's order (append only).
 *   X(ENUM, "id", SEVERITY, DURATION|INSTANT, FACTS(F("name", KIND), ...), REASONS("name", ...))
 * DURATION: the finding measures how long a condition held, and says whether it still held
 * at the end of the capture.  FACTS: the type's fact slots in order (at most TCPST_FACTS),
 * each a name and how it is written (tcpst_factkind), or NONE.  REASONS: the names of the values of
 * its REASON fact, codes 1, 2, ... (the enums below).  docs/anomalies.md and the report
 * schema are checked against this table by a test (check_anomaly).
 */
#define TCPST_ANOMALY_MAP(X)                                                                       \
    X(SYN_UNANSWERED, "syn_unanswered", WARNING, DURATION,                                         \
      FACTS(F("attempts", INT), F("retries", INT), F("duration", SECONDS),                         \
            F("max_backoff", SECONDS)),                                                            \
      REASONS())                                                                                   \
    X(CONNECTION_REJECTED, "connection_rejected", WARNING, INSTANT,                                \
      FACTS(F("syn_retries_before", INT)), REASONS())                                              \
    X(HANDSHAKE_INCOMPLETE, "handshake_incomplete", WARNING, DURATION,                             \
      FACTS(F("duration", SECONDS), F("synack_retries", INT)), REASONS())                          \
    X(HANDSHAKE_INVALID, "handshake_invalid", ERROR, INSTANT,                                      \
      FACTS(F("reason", REASON), F("expected_ack", INT), F("ack", INT)),                           \
      REASONS("synack_wrong_ack", "synack_from_client", "final_ack_wrong"))                        \
    X(SIMULTANEOUS_OPEN, "simultaneous_open", INFO, INSTANT, FACTS(NONE), REASONS())               \
    X(SIMULTANEOUS_CLOSE, "simultaneous_close", INFO, INSTANT, FACTS(NONE), REASONS())             \
    X(DATA_BEFORE_ESTABLISHED, "data_before_established", WARNING, INSTANT,                        \
      FACTS(F("bytes", INT)), REASONS())                                                           \
    X(CLOSE_WAIT_STUCK, "close_wait_stuck", ERROR, DURATION,                                       \
      FACTS(F("duration", SECONDS), F("bytes_after_peer_fin", INT)), REASONS())                    \
    X(FIN_WAIT_2_STUCK, "fin_wait_2_stuck", WARNING, DURATION, FACTS(F("duration", SECONDS)),      \
      REASONS())                                                                                   \
    X(FIN_WAIT_1_STUCK, "fin_wait_1_stuck", WARNING, DURATION,                                     \
      FACTS(F("duration", SECONDS), F("fin_retransmissions", INT)), REASONS())                     \
    X(LAST_ACK_STUCK, "last_ack_stuck", WARNING, DURATION,                                         \
      FACTS(F("duration", SECONDS), F("fin_retransmissions", INT)), REASONS())                     \
    X(HALF_OPEN, "half_open", ERROR, INSTANT,                                                      \
      FACTS(F("reason", REASON), F("segments_into_silence", INT), F("duration", SECONDS)),         \
      REASONS("rst_to_data", "into_silence", "ack_to_syn"))                                        \
    X(CONNECTION_RESET, "connection_reset", WARNING, INSTANT,                                      \
      FACTS(F("state", STATE), F("peer_state", STATE), F("unacked_bytes", INT)), REASONS())        \
    X(DATA_AFTER_CLOSE, "data_after_close", WARNING, INSTANT, FACTS(F("bytes", INT)), REASONS())   \
    X(DATA_AFTER_RESET, "data_after_reset", WARNING, INSTANT, FACTS(F("bytes", INT)), REASONS())   \
    X(RST_OUT_OF_WINDOW, "rst_out_of_window", WARNING, INSTANT,                                    \
      FACTS(F("seq", INT), F("in_window", BOOL)), REASONS())                                       \
    X(PORT_REUSE, "port_reuse", WARNING, INSTANT,                                                  \
      FACTS(F("previous_state", STATE), F("since_previous_end", SECONDS), F("previous_id", INT)),  \
      REASONS())                                                                                   \
    X(SYN_INSIDE_CONNECTION, "syn_inside_connection", WARNING, INSTANT,                            \
      FACTS(F("state", STATE), F("seq", INT)), REASONS())                                          \
    X(RETRANSMISSION, "retransmission", WARNING, INSTANT,                                          \
      FACTS(F("timeout", INT), F("fast", INT), F("spurious", INT), F("bytes", INT)), REASONS())    \
    X(OUT_OF_ORDER, "out_of_order", WARNING, INSTANT, FACTS(F("bytes", INT)), REASONS())           \
    X(SEGMENT_NOT_CAPTURED, "segment_not_captured", WARNING, INSTANT,                              \
      FACTS(F("bytes", INT), F("capture_lost", INT), F("filled_later", INT)), REASONS())           \
    X(ACK_OF_UNSEEN_DATA, "ack_of_unseen_data", WARNING, INSTANT, FACTS(F("bytes", INT)),          \
      REASONS())                                                                                   \
    X(ZERO_WINDOW, "zero_window", WARNING, INSTANT,                                                \
      FACTS(F("duration", SECONDS), F("probes", INT)), REASONS())                                  \
    X(ZERO_WINDOW_STALL, "zero_window_stall", ERROR, DURATION,                                     \
      FACTS(F("duration", SECONDS), F("probes", INT)), REASONS())                                  \
    X(WINDOW_SHRINK, "window_shrink", WARNING, INSTANT, FACTS(F("bytes", INT)), REASONS())         \
    X(KEEPALIVE, "keepalive", INFO, INSTANT, FACTS(NONE), REASONS())                               \
    X(OUT_OF_WINDOW_SEGMENT, "out_of_window_segment", WARNING, INSTANT,                            \
      FACTS(F("bytes", INT), F("max_beyond", INT)), REASONS())                                     \
    X(TIMESTAMP_REGRESSION, "timestamp_regression", WARNING, INSTANT,                              \
      FACTS(F("max_decrease", INT)), REASONS())                                                    \
    X(ILLEGAL_FLAGS, "illegal_flags", ERROR, INSTANT, FACTS(F("flags", FLAGS)), REASONS())         \
    X(MALFORMED_OPTIONS, "malformed_options", WARNING, INSTANT, FACTS(F("reasons", OPTBAD)),       \
      REASONS())                                                                                   \
    X(RST_WITH_DATA, "rst_with_data", WARNING, INSTANT, FACTS(F("bytes", INT)), REASONS())         \
    X(BAD_CHECKSUM, "bad_checksum", WARNING, INSTANT, FACTS(F("layer", REASON)),                   \
      REASONS("ip", "tcp"))                                                                        \
    X(LISTEN_QUEUE_FULL, "listen_queue_full", WARNING, INSTANT,                                    \
      FACTS(F("synack_retransmissions", INT)), REASONS())                                          \
    X(ASYMMETRIC_ENCAPSULATION, "asymmetric_encapsulation", INFO, INSTANT,                         \
      FACTS(F("client_id", INT), F("server_id", INT)), REASONS())                                  \
    X(RST_NOT_ACCEPTED, "rst_not_accepted", WARNING, INSTANT,                                      \
      FACTS(F("reason", REASON), F("state", STATE)),                                               \
      REASONS("tsecr_not_sent", "fin_already_taken", "peer_went_on"))                              \
    X(KERNEL_STATE_MISMATCH, "kernel_state_mismatch", WARNING, INSTANT,                            \
      FACTS(F("state", STATE), F("kernel_state", STATE)), REASONS())

typedef enum tcpst_anomaly_type {
#define TCPST_X_ATYPE(e, id, sev, dur, facts, reasons) TCPST_A_##e,
    TCPST_ANOMALY_MAP(TCPST_X_ATYPE)
#undef TCPST_X_ATYPE
        TCPST_A__COUNT
} tcpst_anomaly_type;

/* Reason codes, in the order of the catalogue row's REASONS (anomaly.c checks it). */
enum tcpst_handshake_invalid_reason {
    TCPST_HSR_SYNACK_WRONG_ACK = 1,
    TCPST_HSR_SYNACK_FROM_CLIENT,
    TCPST_HSR_FINAL_ACK_WRONG
};
enum tcpst_half_open_reason {
    TCPST_HOR_RST_TO_DATA = 1,
    TCPST_HOR_INTO_SILENCE,
    TCPST_HOR_ACK_TO_SYN
};
enum tcpst_rst_not_accepted_reason {
    TCPST_RNA_TSECR_NOT_SENT = 1,
    TCPST_RNA_FIN_ALREADY_TAKEN,
    TCPST_RNA_PEER_WENT_ON
};
enum tcpst_bad_checksum_reason { TCPST_CKR_IP = 1, TCPST_CKR_TCP };

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
 * per-packet path never allocates.  A record must name its pool (tcpst_findings.pool)
 * before its first finding; tests and tools that build records themselves make one.
 */
typedef union tcpst_finding_block {
    tcpst_finding f[TCPST_FINDINGS_MAX];
    union tcpst_finding_block *next_free;
} tcpst_finding_block;

typedef struct tcpst_finding_pool {
    tcpst_finding_block *area; /* cap blocks, handed out in order up to hwm */
    size_t cap, hwm;
    tcpst_finding_block *free; /* given back, reused first */
} tcpst_finding_pool;

/* A pool of `cap` blocks reserved at once (calloc: pages are touched as blocks are used).
 * 0, or TCPST_ENOMEM. */
__attribute__((warn_unused_result)) int tcpst_finding_pool_init(tcpst_finding_pool *p, size_t cap);
void tcpst_finding_pool_fini(tcpst_finding_pool *p);

typedef struct tcpst_findings {
    uint8_t n;
    uint32_t dropped;          /* findings of new (type, who) beyond TCPST_FINDINGS_MAX */
    uint32_t evidence_dropped; /* evidence frames beyond TCPST_EVIDENCE_MAX */
    tcpst_finding *f;          /* n used entries of a block; NULL until the first */
    tcpst_finding_pool *pool;  /* where f comes from; NULL: nowhere (findings are dropped) */
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
/* The id closest to a mistyped one (a few edits away, "did you mean ...?"), or NULL. */
const char *tcpst_anomaly_suggest(const char *id);

/* For people (explain.c): what the type means in one line, what evidence its findings
 * list, and its usual causes.  --list-anomalies and --explain print them; `id` is the
 * type's own (unit_anomaly: the table is in catalogue order).  NULL out of range. */
typedef struct tcpst_anomaly_text {
    const char *id, *summary, *evidence, *causes;
} tcpst_anomaly_text;
const tcpst_anomaly_text *tcpst_anomaly_explain(tcpst_anomaly_type t);

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

/* How many reason names a type has (its REASON fact's codes run 1..n); 0 for most. */
unsigned tcpst_anomaly_reason_count(tcpst_anomaly_type t);

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

/*
 * Add evidence frame `frame` to finding f of fs: the one way evidence is added.  Frame 0
 * (no packet) and a frame already listed add nothing; past TCPST_EVIDENCE_MAX frames the
 * frame is counted in fs->evidence_dropped instead.
 */
void tcpst_finding_add_evidence(tcpst_findings *fs, tcpst_finding *f, uint64_t frame);

/* Withdraw the finding of that type and endpoint (a later segment proved its cause wrong);
 * the others keep their order.  Returns whether there was one. */
bool tcpst_findings_remove(tcpst_findings *fs, tcpst_anomaly_type t, tcpst_who who);

/* The finding of that type and endpoint, or NULL. */
tcpst_finding *tcpst_findings_get(tcpst_findings *fs, tcpst_anomaly_type t, tcpst_who who);

/* Highest severity among the findings; -1 if none. */
int tcpst_findings_max_severity(const tcpst_findings *fs);

#endif
