/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * transfer.h - what the transfer detectors (detect/transfer.c) keep in every connection
 * record: a little history per direction, and their configuration.  Types only: the
 * record carries them (conn.h), and only the detectors change them.  The detectors' entry
 * points (tcpst_xfer_segment, tcpst_xfer_finish) are in detect.h, called by the engine.
 *
 * The detectors tell retransmissions (fast / spurious / timeout) from out-of-order
 * segments, capture gaps from real loss, and find ACKs of data never captured, zero
 * windows and zero-window stalls with their probes (Linux probes: zero bytes at
 * SND.NXT-1 while the peer's window is 0), window shrinking, keep-alives, segments outside
 * the receiver's window and TCP timestamp regressions; docs/anomalies.md (transfer
 * section) gives the rules.
 */
#ifndef TCPSTATE_TRANSFER_H
#define TCPSTATE_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/limits.h"
#include "tcpstate/types.h"

/*
 * Per-direction bookkeeping (private to transfer.c).  d[i] describes what
 * endpoint i sent (its data, its ACKs and the window it advertised).  Kept at
 * 112 bytes: the connection table holds two per connection.
 */
typedef struct tcpst_xfer_dir {
    tcpst_time last_ts;    /* its latest segment that occupied sequence space */
    tcpst_time hole_ts[2]; /* when each hole was first seen */
    tcpst_time zw_ts;      /* zero-window episode: start */
    tcpst_time ack_ts;     /* its latest pure ACK */
    uint64_t zw_frame;     /* the segment that closed its window */
    uint32_t zw_probe[2];  /* first and latest probe sent to it, as frames after zw_frame */
    uint32_t hole[2][2];   /* uncaptured gaps [lo, hi) of its data, oldest first */
    uint32_t tsval;        /* highest TSval it sent */
    uint32_t recover;      /* RFC 6582 recovery point of its loss recovery */
    uint32_t redge;        /* right edge of its latest window (ack + scaled window) */
    uint32_t redge_max;    /* highest right edge it ever advertised */
    uint32_t last_end;     /* end of the segment at last_ts */
    uint32_t zw_probes;    /* probes sent to it in the episode */
    uint32_t sack_hi;      /* highest right edge of the SACK blocks it sent */
    uint32_t last_fp;      /* header fingerprint of the segment at last_ts (a copy has it too) */
    uint32_t ack_fp;       /* header fingerprint of its latest pure ACK, sent at ack_ts */
    uint16_t flags;        /* XD_* bits in transfer.c */
    uint8_t dupacks;       /* duplicate ACKs it sent for its current ACK number (saturating) */
    uint8_t last_ctl;      /* SYN/FIN bits of the segment at last_ts */
} tcpst_xfer_dir;

/*
 * What a segment was, as the transfer detectors judged it (tcpst_xfer_segment's answer):
 * the one definition that both the findings and the endpoint's counters (conn.c) use.
 */
typedef enum tcpst_repeat {
    TCPST_RP_NONE = 0,       /* new sequence space, none at all, or not judged (a RST) */
    TCPST_RP_RETRANSMISSION, /* sent again by the sender: the `retransmission` finding */
    TCPST_RP_KEEPALIVE,      /* the `keepalive` finding (RFC 9293 3.8.4) */
    TCPST_RP_PROBE,          /* a zero-window probe (counted in the `zero_window` finding) */
    TCPST_RP_OUT_OF_ORDER,   /* the original of a hole, late: the `out_of_order` finding */
    TCPST_RP_COPY            /* the capture holds the latest segment twice: not reported */
} tcpst_repeat;

typedef struct tcpst_xfer {
    tcpst_xfer_dir d[2]; /* indexed by the sending endpoint: 0 client, 1 server */
    tcpst_time rtt;      /* handshake RTT at the capture point (SYN -> final ACK); 0 unknown */
} tcpst_xfer;

typedef struct tcpst_xfer_config {
    tcpst_time zero_window_stall; /* a zero window lasting this long is a stall; 0 = 30 s */
} tcpst_xfer_config;

#endif
