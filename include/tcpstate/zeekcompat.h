/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zeekcompat.h - Zeek-compatible connection summary: conn_state and history.
 *
 * Zeek's conn.log does not use RFC 9293 states; it keeps a coarse per-side
 * state (inactive, SYN sent, SYN-ACK sent, partial, established, closed,
 * reset), a direction (originator/responder, with heuristic flips shown as
 * '^'), and a compact history string.  Users compare tools on these two fields
 * every day, so tcpstate reproduces them by Zeek's published definitions (see
 * docs/zeek-compat.md).  This module is a small per-connection sub-tracker fed
 * with every segment of the connection; it reads nothing else and never
 * allocates.
 *
 * Endpoint numbering: callers pass `from` = 0 or 1, the index of the sending
 * endpoint in the caller's connection record.  The module decides which of the
 * two Zeek calls the originator (z->orig) and maps letters accordingly.
 *
 * Record boundaries: Zeek removes a connection on its own timers (an
 * unanswered SYN after 5 s, a closed or reset connection 5 s after its last
 * activity, 5 min of inactivity) and on connection reuse (a new SYN).  Later
 * packets of the same 4-tuple then form a new row.  tcpst_zeek_check_split()
 * tells a caller that wants its records to line up with Zeek's rows when to
 * start a new record; it needs packet times, so such callers feed segments
 * through tcpst_zeek_update_ts().
 */
#ifndef TCPSTATE_ZEEKCOMPAT_H
#define TCPSTATE_ZEEKCOMPAT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/decode.h"
#include "tcpstate/types.h"

#define TCPST_ZEEK_HIST_MAX 40 /* longer histories are cut (rare: needs many seq changes) */

/* Payload blocks above a hole remembered per direction for content-gap (G) detection. */
#define TCPST_ZEEK_BLOCKS 6

/* Zeek's coarse endpoint states (values as in Zeek's init-bare). */
enum tcpst_zeek_state {
    TCPST_Z_INACTIVE = 0,
    TCPST_Z_SYN_SENT = 1,
    TCPST_Z_SYN_ACK_SENT = 2,
    TCPST_Z_PARTIAL = 3,
    TCPST_Z_ESTABLISHED = 4,
    TCPST_Z_CLOSED = 5,
    TCPST_Z_RESET = 6
};

/* Zeek's conn_state values (its conn.log), in the order the report's summary lists them. */
#define TCPST_ZEEK_CONN_STATE_MAP(X)                                                               \
    X(S0)                                                                                          \
    X(S1)                                                                                          \
    X(SF)                                                                                          \
    X(REJ)                                                                                         \
    X(S2)                                                                                          \
    X(S3)                                                                                          \
    X(RSTO)                                                                                        \
    X(RSTR)                                                                                        \
    X(RSTOS0)                                                                                      \
    X(RSTRH)                                                                                       \
    X(SH)                                                                                          \
    X(SHR)                                                                                         \
    X(OTH)

typedef enum tcpst_zeek_cs {
#define TCPST_X_ZCS(name) TCPST_ZCS_##name,
    TCPST_ZEEK_CONN_STATE_MAP(TCPST_X_ZCS)
#undef TCPST_X_ZCS
        TCPST_ZCS__COUNT
} tcpst_zeek_cs;

/* Why Zeek would end the current record before a segment (tcpst_zeek_check_split). */
typedef enum tcpst_zeek_split {
    TCPST_ZSPLIT_NONE = 0,
    TCPST_ZSPLIT_REUSE,      /* a new SYN on a closed record, or with a new ISN */
    TCPST_ZSPLIT_ATTEMPT,    /* unanswered SYN (or SYN-ACK) older than 5 s */
    TCPST_ZSPLIT_CLOSED,     /* closed or reset, 5 s after its last activity */
    TCPST_ZSPLIT_EXPIRE,     /* half-closed/reset record found idle by the 6 s session check */
    TCPST_ZSPLIT_INACTIVITY, /* idle for the inactivity timeout (1 min in handshake, 5 min) */
    TCPST_ZSPLIT_RESET_TIMER /* RST after its own FIN, 5 s later */
} tcpst_zeek_split;

/* One range of captured payload above the reassembly point (relative sequence space). */
typedef struct tcpst_zeek_block {
    uint64_t seq, upper;
} tcpst_zeek_block;

/* Per-endpoint bookkeeping, indexed by caller endpoint (private). */
typedef struct tcpst_zeek_ep {
    uint8_t prev_state;
    uint8_t did_close;          /* a close (FIN or RST) was reported for this side */
    uint8_t sent;               /* has sent at least one counted segment */
    uint8_t nblocks;            /* used entries of blocks[] */
    uint32_t fin_cnt, rst_cnt;  /* FIN / RST segments sent */
    int64_t start_seq;          /* initial sequence (or first seq - 1 mid-stream) */
    uint32_t last_seq, ack_seq; /* one past highest seq sent; highest ACK received */
    uint32_t seq_wraps, ack_wraps;
    int64_t hist_last[3];    /* relative seq of the last S/H, F, R recorded */
    uint64_t fin_seq;        /* relative seq one past its FIN */
    uint32_t cnt[4], thr[4]; /* C G T W occurrence counters and next thresholds */
    uint32_t pkts;           /* segments counted by Zeek's rules */
    uint64_t reasm_seq;      /* everything below was delivered or reported missing */
    uint64_t trim_seq;       /* everything below was acknowledged */
    tcpst_zeek_block blocks[TCPST_ZEEK_BLOCKS];
} tcpst_zeek_ep;

typedef struct tcpst_zeek {
    uint8_t orig;     /* caller endpoint index (0/1) Zeek calls the originator */
    uint8_t state[2]; /* tcpst_zeek_state, indexed by caller endpoint index */
    uint8_t seen;     /* any packet processed */
    uint8_t hlen;
    char hist[TCPST_ZEEK_HIST_MAX + 1];
    /* Implementation-private bookkeeping follows. */
    uint8_t is_partial; /* Zeek's "partial connection" flag (no clean SYN from each side) */
    uint8_t is_active;  /* Zeek's analyzer activity flag; its timers stop when it drops */
    uint32_t hist_seen; /* once-only letters: low 16 bits originator, high 16 responder */
    tcpst_zeek_ep ep[2];
    /* Record-boundary timers (packet time, ns); 0 = not pending. */
    tcpst_time last_time;    /* Zeek's last activity, frozen once both sides closed */
    tcpst_time attempt_at;   /* unanswered-attempt check */
    tcpst_time delete_at;    /* removal after a complete close */
    tcpst_time reset_at;     /* removal after RST-after-FIN */
    tcpst_time expire_at[3]; /* periodic session checks */
    tcpst_time inactivity;   /* current inactivity timeout */
} tcpst_zeek;

void tcpst_zeek_init(tcpst_zeek *z);

/*
 * Feed one segment sent by caller endpoint `from`, without packet time: all
 * history letters, states and counts, but no record-boundary timers.
 */
void tcpst_zeek_update(tcpst_zeek *z, unsigned from, const tcpst_segment *seg);

/* As tcpst_zeek_update(), with the packet time so that the timers run. */
void tcpst_zeek_update_ts(tcpst_zeek *z, unsigned from, const tcpst_segment *seg, tcpst_time ts);

/*
 * Would Zeek end this record before processing `seg` (sent by `from` at
 * `ts`)?  Returns TCPST_ZSPLIT_NONE if not; otherwise the caller should write
 * the record out and feed `seg` to a fresh tcpst_zeek.  Pure: changes nothing.
 * Only meaningful when every earlier segment went through tcpst_zeek_update_ts().
 */
tcpst_zeek_split tcpst_zeek_check_split(const tcpst_zeek *z, unsigned from,
                                        const tcpst_segment *seg, tcpst_time ts);

/* Stable name of a split reason ("none", "reuse", "attempt", ...). */
const char *tcpst_zeek_split_name(tcpst_zeek_split s);

/* conn_state per Zeek's decision list. */
tcpst_zeek_cs tcpst_zeek_conn_state_id(const tcpst_zeek *z);
/* Its name ("S0", "SF", ... "OTH"); static. */
const char *tcpst_zeek_cs_name(tcpst_zeek_cs cs);
/* Both at once: the name of z's conn_state. */
const char *tcpst_zeek_conn_state(const tcpst_zeek *z);

/* Originator / responder packet counts as Zeek counts them. */
uint32_t tcpst_zeek_orig_pkts(const tcpst_zeek *z);
uint32_t tcpst_zeek_resp_pkts(const tcpst_zeek *z);

/* Built-in "likely server port" table used for direction flips. */
bool tcpst_zeek_likely_server_port(uint16_t port);

#endif
