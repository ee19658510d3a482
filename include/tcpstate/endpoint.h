/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * endpoint.h - one side's RFC 9293 state machine, driven passively.
 *
 * A passive observer sees segments, not the events inside each host.  Each
 * segment therefore drives two machines:
 *  - the sender's, from what it chose to send (an *observed* transition:
 *    sending a SYN-ACK proves SYN_RECEIVED, sending a FIN proves the close);
 *  - the receiver's, from what receiving that segment does per RFC 9293
 *    section 3.10.7 (an *inferred* transition, assuming it arrives).
 * RSTs are applied only when acceptable by RFC 5961 section 3 rules.
 */
#ifndef TCPSTATE_ENDPOINT_H
#define TCPSTATE_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/decode.h"
#include "tcpstate/limits.h"
#include "tcpstate/types.h"

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
    TCPST_CAUSE_ACK_IMPLIED, /* a peer's ACK proves a segment we never captured */
    TCPST_CAUSE_NEW_SYN      /* a new SYN on the 4-tuple ended TIME_WAIT (RFC 6191) */
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
    TCPST_EP_SENT = 1u << 12, /* has sent at least one segment */
    TCPST_EP_TSVAL = 1u << 13 /* tsval valid */
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
    uint32_t tsval;               /* TSval of its latest segment with timestamps */
    uint32_t syn_tsval;           /* TSval of its first SYN with timestamps (valid: TCPST_EP_TS) */
    tcpst_time first_ts, last_ts; /* of its own segments */
    tcpst_time state_since;
    uint64_t packets, bytes, payload_bytes;
    uint64_t retrans_bytes;
    uint32_t retrans_segments;
    uint32_t keepalives;
    uint32_t duplicates; /* segments the capture holds twice (copies, not sent again) */
    uint32_t syns, fins, rsts;
    uint32_t fin_retrans;                /* FIN segments that repeated an earlier FIN */
    uint32_t unanswered;                 /* segments sent since the peer last sent anything */
    uint64_t bytes_after_peer_fin;       /* payload sent while in CLOSE_WAIT */
    tcpst_time syn_last_ts, syn_max_gap; /* bare SYN (or SYN-ACK) timing: back-off */
    uint64_t syn_last_frame;
    uint16_t tl_count, tl_dropped;
    tcpst_transition tl[TCPST_TIMELINE_MAX];
} tcpst_endpoint;

/* The segment being processed and where it sits in the capture. */
typedef struct tcpst_segctx {
    const tcpst_segment *seg;
    tcpst_time ts;
    uint64_t frame;
} tcpst_segctx;

/* Record a state change in e's timeline (no-op if `to` equals the current state). */
void tcpst_endpoint_set_state(tcpst_endpoint *e, tcpst_state to, const tcpst_segctx *sc,
                              bool inferred, tcpst_cause cause);

/* Events a segment revealed (return bits of tcpst_endpoint_process). */
enum tcpst_epevent {
    TCPST_EV_SIMUL_OPEN = 1u << 0,  /* both sides sent a bare SYN */
    TCPST_EV_SIMUL_CLOSE = 1u << 1, /* the FINs crossed */
    TCPST_EV_RST_ACCEPTED = 1u << 2,
    TCPST_EV_RST_REJECTED = 1u << 3,  /* out of window (RFC 5961) or SYN+RST */
    TCPST_EV_ACK_NOT_TAKEN = 1u << 4, /* a SYN-ACK again after the ACK of the first one:
                                         the passive side dropped that ACK (full queue) */
    TCPST_EV_RST_STALE = 1u << 5,     /* a RST from SYN_SENT answering the peer's ACK that
                                         belongs to an older connection (RFC 9293 3.10.7.3) */
    TCPST_EV_RST_IGNORED = 1u << 6    /* a RST the receiver did not take: its TSecr shows it at
                                         once, or the receiver's later segments (conn.c) */
};

/* Segment `sc` sent by `e` to `peer`: both machines advance. Returns tcpst_epevent bits. */
unsigned tcpst_endpoint_process(tcpst_endpoint *e, tcpst_endpoint *peer, const tcpst_segctx *sc);

/* Sequence numbers a segment occupies: its payload, and one each for SYN and FIN
 * (RFC 9293 3.4). */
static inline uint32_t tcpst_seg_seqlen(const tcpst_segment *seg)
{
    return seg->payload_len + ((seg->flags & TCPST_SYN) ? 1u : 0u) +
           ((seg->flags & TCPST_FIN) ? 1u : 0u);
}

/*
 * What a segment's sequence space is to its sender, judged against what it had sent before
 * (so before the segment is applied).  This is the one definition of sequence space sent
 * again: the endpoint counters count it, and the transfer detectors (transfer.c) start from
 * it when they tell retransmissions, keep-alives, probes, reordering and duplicates apart.
 */
typedef enum tcpst_seqspace {
    TCPST_SPACE_NONE = 0, /* none (no payload, SYN or FIN), a RST, or no sequence known yet */
    TCPST_SPACE_NEW,      /* reaches past the highest sequence it sent */
    TCPST_SPACE_REPEAT,   /* all of it was sent before */
    TCPST_SPACE_KEEPALIVE /* a repeat of at most one byte just below SND.NXT (RFC 9293 3.8.4) */
} tcpst_seqspace;

tcpst_seqspace tcpst_endpoint_seqspace(const tcpst_endpoint *e, const tcpst_segment *seg);

/* The shift of the windows `adv` advertises to `other`: its window scale when both SYNs
 * carried the option (RFC 7323 2.2), at most 14 (RFC 7323 2.3); else 0. */
unsigned tcpst_endpoint_wshift(const tcpst_endpoint *adv, const tcpst_endpoint *other);

/*
 * Withdraw e's transitions caused by frame `frame` (an accepted-looking RST that the
 * connection proved ignored), if they are its latest ones and its timeline is complete.
 * Returns whether any was withdrawn.
 */
bool tcpst_endpoint_undo_frame(tcpst_endpoint *e, uint64_t frame);

/* Would `peer` accept RST segment `seg` sent by `e` (RFC 9293 3.10.7, RFC 5961 3.2)? */
bool tcpst_endpoint_rst_acceptable(const tcpst_endpoint *e, const tcpst_endpoint *peer,
                                   const tcpst_segment *seg);

#endif
