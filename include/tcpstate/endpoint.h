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

#include "tcpstate/conn.h"

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
    TCPST_EV_RST_REJECTED = 1u << 3 /* out of window (RFC 5961) or SYN+RST */
};

/* Segment `sc` sent by `e` to `peer`: both machines advance. Returns tcpst_epevent bits. */
unsigned tcpst_endpoint_process(tcpst_endpoint *e, tcpst_endpoint *peer, const tcpst_segctx *sc);

/* Would `peer` accept RST segment `seg` sent by `e` (RFC 9293 3.10.7, RFC 5961 3.2)? */
bool tcpst_endpoint_rst_acceptable(const tcpst_endpoint *e, const tcpst_endpoint *peer,
                                   const tcpst_segment *seg);

#endif
