/*
 * conn.h - one TCP connection: two endpoints, their RFC 9293 states and timelines.
 *
 * Endpoint 0 is the client (sender of the first bare SYN), endpoint 1 the
 * server; without a SYN the roles are inferred (see conn.c).  Each segment
 * goes through tcpst_conn_update() in a fixed order: sender's own segment
 * first (observed transitions), then what the receiver must have done on
 * receiving it (inferred transitions), then counters and the Zeek summary.
 * This module knows nothing of hashing, pools or output.
 */
#ifndef TCPSTATE_CONN_H
#define TCPSTATE_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/anomaly.h"
#include "tcpstate/decode.h"
#include "tcpstate/limits.h"
#include "tcpstate/transfer.h"
#include "tcpstate/types.h"
#include "tcpstate/zeekcompat.h"

/* RFC 9293 section 3.3.2 state names, verbatim. */
#define TCPST_STATE_MAP(X)                                                                         \
    X(CLOSED)                                                                                      \
    X(LISTEN)                                                                                      \
    X(SYN_SENT)                                                                                    \
    X(SYN_RECEIVED)                                                                                \
    X(ESTABLISHED)                                                                                 \
    X(FIN_WAIT_1)                                                                                  \
    X(FIN_WAIT_2)                                                                                  \
    X(CLOSE_WAIT)                                                                                  \
    X(CLOSING)                                                                                     \
    X(LAST_ACK)                                                                                    \
    X(TIME_WAIT)

typedef enum tcpst_state {
#define TCPST_X_STATE(name) TCPST_##name,
    TCPST_STATE_MAP(TCPST_X_STATE)
#undef TCPST_X_STATE
        TCPST_STATE__COUNT
} tcpst_state;

const char *tcpst_state_name(tcpst_state s);
/* Parse an upper-snake state name; returns -1 if unknown. */
int tcpst_state_parse(const char *name);

/* What caused a transition. */
typedef enum tcpst_cause {
    TCPST_CAUSE_SEGMENT = 0, /* a captured segment (its own, or the peer's) */
    TCPST_CAUSE_MIDSTREAM,   /* first sight of a connection already open */
    TCPST_CAUSE_TIMER,       /* TIME_WAIT expiry after 2*MSL */
    TCPST_CAUSE_ACK_IMPLIED  /* a peer's ACK proves a segment we never captured */
} tcpst_cause;

const char *tcpst_cause_name(tcpst_cause c);

typedef struct tcpst_transition {
    tcpst_time ts;
    uint64_t frame;         /* 0 for timer transitions */
    uint32_t seq, ack, len; /* the causing segment (wire values) */
    uint16_t flags;
    /* Bit-fields keep a transition at 32 bytes (20 of them in every record). */
    unsigned from : 4, to : 4; /* tcpst_state */
    unsigned inferred : 1;     /* 0: the endpoint's own segment shows it; 1: deduced */
    unsigned cause : 3;        /* tcpst_cause */
} tcpst_transition;

/* Endpoint fact bits (tcpst_endpoint.has). */
enum tcpst_ephas {
    TCPST_EP_ISN = 1u << 0,          /* isn valid */
    TCPST_EP_ISN_INFERRED = 1u << 1, /* isn deduced from the peer's ACK */
    TCPST_EP_NEXT = 1u << 2,         /* next_seq valid */
    TCPST_EP_ACK = 1u << 3,          /* last_ack valid */
    TCPST_EP_FIN = 1u << 4,          /* sent a FIN: fin_seq valid */
    TCPST_EP_RST = 1u << 5,          /* sent an accepted RST */
    TCPST_EP_PASSIVE = 1u << 6,      /* opened passively (SYN-ACK in reply to a SYN) */
    TCPST_EP_WSCALE = 1u << 7,       /* window scale option on its SYN */
    TCPST_EP_SACKPERM = 1u << 8,
    TCPST_EP_TS = 1u << 9,
    TCPST_EP_MSS = 1u << 10,
    TCPST_EP_TFO = 1u << 11,
    TCPST_EP_SENT = 1u << 12 /* has sent at least one segment */
};

typedef struct tcpst_endpoint {
    tcpst_addr addr;
    uint16_t port;
    uint8_t state; /* tcpst_state */
    uint8_t wscale;
    uint16_t has; /* tcpst_ephas */
    uint16_t mss;
    uint32_t isn;
    uint32_t next_seq;            /* one past the highest sequence sent (SYN and FIN count) */
    uint32_t fin_seq;             /* sequence number occupied by its FIN */
    uint32_t last_ack;            /* highest acknowledgement it sent */
    uint32_t window;              /* last advertised window, raw */
    tcpst_time first_ts, last_ts; /* of its own segments */
    tcpst_time state_since;
    uint64_t packets, bytes, payload_bytes;
    uint64_t retrans_bytes;
    uint32_t retrans_segments;
    uint32_t keepalives;
    uint32_t syns, fins, rsts;
    uint32_t fin_retrans;                /* FIN segments that repeated an earlier FIN */
    uint32_t unanswered;                 /* segments sent since the peer last sent anything */
    uint64_t bytes_after_peer_fin;       /* payload sent while in CLOSE_WAIT */
    tcpst_time syn_last_ts, syn_max_gap; /* bare SYN (or SYN-ACK) timing: back-off */
    uint64_t syn_last_frame;
    uint16_t tl_count, tl_dropped;
    tcpst_transition tl[TCPST_TIMELINE_MAX];
} tcpst_endpoint;

/* Why a record was written out. */
typedef enum tcpst_end_reason {
    TCPST_END_NONE = 0,
    TCPST_END_CLOSED,      /* terminated and lingered */
    TCPST_END_IDLE,        /* idle timeout while open */
    TCPST_END_EVICTED,     /* table full: least recently seen */
    TCPST_END_REUSED,      /* a new connection took over its 4-tuple */
    TCPST_END_CAPTURE_END, /* still tracked when the input ended */
    TCPST_END_ZEEK         /* --split zeek: Zeek would start a new conn.log row here */
} tcpst_end_reason;

const char *tcpst_end_reason_name(tcpst_end_reason r);

typedef struct tcpst_conn_config {
    tcpst_time time_wait; /* 2*MSL */
    /* An endpoint that stays in state S at least stuck_after[S] is "stuck" (anomalies). */
    tcpst_time stuck_after[TCPST_STATE__COUNT];
    tcpst_xfer_config xfer;
} tcpst_conn_config;

typedef struct tcpst_conn {
    uint64_t id;          /* 1-based, in order of first packet */
    tcpst_endpoint ep[2]; /* [0] client, [1] server */
    uint8_t ip_version;
    uint8_t roles_inferred;
    uint8_t end_reason; /* tcpst_end_reason, set when written out */
    uint8_t nvlan;
    uint16_t vlan[TCPST_MAX_VLAN];
    uint8_t nencap; /* encapsulation of its first segment, outermost first */
    tcpst_encap encap[TCPST_ENCAP_MAX];
    uint32_t key_ctx; /* part of the table key (decode.h) */
    /* (type * 3 + who) bits of findings already announced as they happened (engine.c) */
    uint64_t announced[2];
    tcpst_time first_ts, last_ts;
    tcpst_time end_ts; /* clock when written out (capture end, expiry time) */
    uint64_t first_frame, last_frame;
    uint32_t rst_not_accepted;
    uint32_t events; /* tcpst_epevent bits seen so far */
    tcpst_zeek zeek;
    tcpst_findings findings;
    tcpst_xfer xfer;
} tcpst_conn;

/* What names a connection in verdicts and JUnit: its id and 4-tuple. */
typedef struct tcpst_conn_ref {
    uint64_t id;
    tcpst_addr caddr, saddr;
    uint16_t cport, sport;
} tcpst_conn_ref;

tcpst_conn_ref tcpst_conn_ref_of(const tcpst_conn *c);

/*
 * Start a record from its first segment: decides roles.  `seg` is then fed
 * through tcpst_conn_update() by the caller.
 */
void tcpst_conn_init(tcpst_conn *c, uint64_t id, const tcpst_segment *seg);

/* Which endpoint sent `seg` (0 or 1); the caller has matched the 4-tuple. */
unsigned tcpst_conn_dir(const tcpst_conn *c, const tcpst_segment *seg);

/* Feed one segment sent by endpoint `from`. */
void tcpst_conn_update(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                       uint64_t frame, const tcpst_conn_config *cfg);

/* Apply timers (TIME_WAIT -> CLOSED) up to `now`. */
void tcpst_conn_advance(tcpst_conn *c, tcpst_time now, const tcpst_conn_config *cfg);

/* Both sides terminated (each CLOSED, TIME_WAIT or only LISTEN-ing). */
bool tcpst_conn_terminated(const tcpst_conn *c);

/* Does a bare SYN `seg` from endpoint `from` start a new connection on this tuple? */
bool tcpst_conn_syn_starts_new(const tcpst_conn *c, unsigned from, const tcpst_segment *seg);

#endif
