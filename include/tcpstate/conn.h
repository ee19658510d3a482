/* SPDX-License-Identifier: BSD-3-Clause */
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
#include "tcpstate/endpoint.h"
#include "tcpstate/limits.h"
#include "tcpstate/transfer.h"
#include "tcpstate/types.h"
#include "tcpstate/zeekcompat.h"

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

/* Why the states a record was open in at the end of the capture cannot be trusted: the
 * capture lost packets, or an input was cut short, so a FIN or RST may be missing. */
typedef enum tcpst_undecidable {
    TCPST_UNDEC_NONE = 0,
    TCPST_UNDEC_PACKETS_DROPPED, /* the capture's own drop counters are not zero */
    TCPST_UNDEC_INPUT_TRUNCATED  /* an input ends in damage or mid-record */
} tcpst_undecidable;

/* "packets_dropped", "input_truncated"; NULL for TCPST_UNDEC_NONE. */
const char *tcpst_undecidable_name(tcpst_undecidable u);

typedef struct tcpst_conn_config {
    tcpst_time time_wait; /* 2*MSL */
    /* An endpoint that stays in state S at least stuck_after[S] is "stuck" (anomalies). */
    tcpst_time stuck_after[TCPST_STATE__COUNT];
    tcpst_xfer_config xfer;
    /* `-- COMMAND` runs (docs/ci.md): at the end of the capture a side still in a state that
     * means "never finished" (CLOSE_WAIT, FIN_WAIT_1/2, LAST_ACK, SYN_SENT, SYN_RECEIVED) is
     * reported whatever its age; stuck_after still judges the intervals it left. */
    bool end_any_age;
} tcpst_conn_config;

/*
 * The host's own view of one endpoint (live captures: hostsock.h), set by the engine's host
 * hook when the record is written out or a stuck state is found.  Kept small: a record's
 * size sets the table's.
 */
typedef struct tcpst_hostview {
    uint32_t pid;   /* owning process; 0: unknown */
    uint32_t uid;   /* the socket's uid, with TCPST_HV_KSTATE and a socket */
    uint8_t flags;  /* TCPST_HV_* */
    uint8_t kstate; /* tcpst_state the kernel has it in, with TCPST_HV_KSTATE */
} tcpst_hostview;

enum tcpst_hostview_flags {
    TCPST_HV_ASKED = 1u << 0,   /* the run looks at the host: the report has the fields */
    TCPST_HV_LOCAL = 1u << 1,   /* the endpoint's address is this host's */
    TCPST_HV_KSTATE = 1u << 2,  /* a snapshot newer than the record's last packet saw it */
    TCPST_HV_SETTLED = 1u << 3, /* ... taken TCPST_HOST_SETTLE after it: states comparable */
    TCPST_HV_SOCKET = 1u << 4   /* the kernel had a socket for it */
};

/*
 * An accepted-looking RST whose receiver may yet show that it ignored it (conn.c): what is
 * needed to tell, and to take it back.  Once proven (or decided at once by its TSecr) it
 * stays, with TCPST_RW_PROVEN set, for the detectors to report.  Its time is that of the
 * receiver's latest transition, which it caused (16 bytes: a record's size sets the table's).
 */
typedef struct tcpst_rst_watch {
    uint64_t frame;       /* the RST; 0: none */
    uint32_t sender_next; /* its sender's SND.NXT then (valid: TCPST_RW_SENDER_NEXT) */
    uint8_t to;           /* the endpoint it was sent to */
    uint8_t state;        /* that endpoint's state before it (tcpst_state) */
    uint8_t reason;       /* enum tcpst_rst_not_accepted_reason (anomaly.h) */
    uint8_t flags;        /* TCPST_RW_* */
} tcpst_rst_watch;

_Static_assert(sizeof(tcpst_rst_watch) == 16, "tcpst_rst_watch stays 16 bytes");

enum tcpst_rst_watch_flags {
    TCPST_RW_SENDER_NEXT = 1u << 0, /* sender_next valid */
    TCPST_RW_HAD_FIN = 1u << 1,     /* the receiver had sent its FIN before the RST */
    TCPST_RW_PROVEN = 1u << 2       /* the receiver did not take it */
};

typedef struct tcpst_conn {
    uint64_t id;          /* 1-based, in order of first packet */
    tcpst_endpoint ep[2]; /* [0] client, [1] server */
    uint8_t ip_version;
    uint8_t roles_inferred;
    uint8_t end_reason;      /* tcpst_end_reason, set when written out */
    uint8_t end_undecidable; /* tcpst_undecidable: open at the end of a lossy capture */
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
    uint32_t rst_not_accepted; /* RSTs not acceptable, or proven ignored by their receiver */
    uint32_t events;           /* tcpst_epevent bits seen so far */
    tcpst_rst_watch rst;
    tcpst_zeek zeek;
    tcpst_findings findings;
    tcpst_xfer xfer;
    /* Asymmetric encapsulation (docs/encapsulations.md): the segments of endpoint
     * joined - 1 carry key_alt and the layers encap_alt; the other endpoint's those of
     * the first segment above.  joined is 0 for every other record. */
    uint8_t joined;
    uint8_t nencap_alt;
    uint32_t key_alt;
    tcpst_encap encap_alt[TCPST_ENCAP_MAX];
    tcpst_hostview host[2]; /* all zero unless a host hook ran (engine.h) */
} tcpst_conn;

/* conn.announced holds a bit per (type, endpoint): room for every type of the catalogue. */
_Static_assert(TCPST_A__COUNT * 3 <= 64 * sizeof(((tcpst_conn *)0)->announced) / sizeof(uint64_t),
               "tcpst_conn.announced has a bit for every (anomaly type, who)");

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

/*
 * Feed one segment sent by endpoint `from`: timers up to `ts` (tcpst_conn_advance), the
 * counters, both machines, the sequence bookkeeping and the Zeek summary.  `rp` is what the
 * transfer detectors judged the segment to be; the retransmission, keep-alive and copy
 * counters count that verdict.  Returns what the segment revealed (tcpst_epevent bits),
 * for the detectors the engine runs next.
 */
unsigned tcpst_conn_update(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                           uint64_t frame, tcpst_repeat rp, const tcpst_conn_config *cfg);

/*
 * A bare SYN from endpoint `from` starts a new connection on c's 4-tuple (c is about to be
 * written out): a side in TIME_WAIT has left it.  The sender observed (a new SYN of its
 * own), the receiver inferred when it accepts such a SYN (a higher sequence number or a
 * newer timestamp, RFC 6191).  The transition is at the SYN, cause "new_syn".
 */
void tcpst_conn_taken_over(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                           uint64_t frame);

/* Apply timers (TIME_WAIT -> CLOSED) up to `now`. */
void tcpst_conn_advance(tcpst_conn *c, tcpst_time now, const tcpst_conn_config *cfg);

/* Both sides terminated (each CLOSED, TIME_WAIT or only LISTEN-ing). */
bool tcpst_conn_terminated(const tcpst_conn *c);
/* Still open when the capture ended: it ended there, not terminated, and not with both
 * sides CLOSED (a lone RST or stray segments never opened anything). */
bool tcpst_conn_open_at_end(const tcpst_conn *c);

/* Does a bare SYN `seg` from endpoint `from` start a new connection on this tuple? */
bool tcpst_conn_syn_starts_new(const tcpst_conn *c, unsigned from, const tcpst_segment *seg);

/*
 * Is `seg`, whose key differs from c's, the other direction of c's connection (join.c)?
 * Yes when c is one-sided (only the peer of seg's sender has sent, and c is not joined)
 * and the sequence numbers fit, with nothing against it: a SYN-ACK acks the SYN's ISN + 1,
 * any other ACK lies within what the peer sent, seg's sequence number lies near what the
 * peer acknowledged; at least one of these must hold.
 */
bool tcpst_conn_join_fits(const tcpst_conn *c, const tcpst_segment *seg);

/* Take seg's direction into c (tcpst_conn_join_fits said yes): its sender's segments carry
 * seg's key and layers.  The table learns the key separately (tcpst_flowtab_add_key). */
void tcpst_conn_join(tcpst_conn *c, const tcpst_segment *seg);

/* The layers on the segments endpoint `who` sent (the first segment's for a record that was
 * not joined); returns how many, *out points at them. */
unsigned tcpst_conn_layers_of(const tcpst_conn *c, unsigned who, const tcpst_encap **out);

#endif
