/*
 * transfer.h - data-transfer analysis of one connection: retransmissions
 * (fast / spurious / timeout), out-of-order segments, capture gaps kept apart
 * from real loss, ACKs of data never captured, zero windows and zero-window
 * stalls with their probes (Linux probes: zero bytes at SND.NXT-1 while the
 * peer's window is 0), window shrinking, keep-alives, segments outside the
 * receiver's window, and TCP timestamp regressions.
 *
 * Fed every segment of the connection before the state machines run, so the
 * endpoint records still describe what was known before this segment.
 * Findings go into the connection's tcpst_findings; no allocation.  The rules
 * are documented in docs/anomalies.md (transfer section).
 */
#ifndef TCPSTATE_TRANSFER_H
#define TCPSTATE_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpstate/anomaly.h"
#include "tcpstate/decode.h"
#include "tcpstate/types.h"

struct tcpst_endpoint;

/* A zero window held this long is a stall when the configuration says 0. */
#define TCPST_XFER_DEFAULT_ZERO_WINDOW_STALL (30 * TCPST_NS_PER_SEC)
/* Reordering window when no handshake RTT was measured (Wireshark's default). */
#define TCPST_XFER_DEFAULT_REORDER (3 * TCPST_NS_PER_SEC / 1000)
/* The handshake RTT, used as reordering window, is capped here (TCP_RTO_MIN of Linux). */
#define TCPST_XFER_MAX_REORDER (200 * TCPST_NS_PER_SEC / 1000)
/* RFC 5681 3.2 DupThresh: this many duplicate ACKs trigger fast retransmit. */
#define TCPST_XFER_DUPTHRESH 3

/*
 * Per-direction bookkeeping (private to transfer.c).  d[i] describes what
 * endpoint i sent (its data, its ACKs and the window it advertised).  Kept at
 * 96 bytes: the connection table holds two per connection.
 */
typedef struct tcpst_xfer_dir {
    tcpst_time last_ts;    /* its latest segment that occupied sequence space */
    tcpst_time hole_ts[2]; /* when each hole was first seen */
    tcpst_time zw_ts;      /* zero-window episode: start */
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
    uint16_t flags;        /* XD_* bits in transfer.c */
    uint8_t dupacks;       /* duplicate ACKs it sent for its current ACK number (saturating) */
    uint8_t last_ctl;      /* SYN/FIN bits of the segment at last_ts */
} tcpst_xfer_dir;

typedef struct tcpst_xfer {
    tcpst_xfer_dir d[2]; /* indexed by the sending endpoint: 0 client, 1 server */
    tcpst_time rtt;      /* handshake RTT at the capture point (SYN -> final ACK); 0 unknown */
} tcpst_xfer;

typedef struct tcpst_xfer_config {
    tcpst_time zero_window_stall; /* a zero window lasting this long is a stall; 0 = 30 s */
} tcpst_xfer_config;

void tcpst_xfer_init(tcpst_xfer *x);

/*
 * Segment `seg` sent by endpoint `from` (whose record is `e`; the peer's is
 * `p`), at (ts, frame).  Called before the state machines and the sequence
 * bookkeeping of conn.c see the segment.
 */
void tcpst_xfer_segment(tcpst_xfer *x, tcpst_findings *fs, unsigned from,
                        const struct tcpst_endpoint *e, const struct tcpst_endpoint *p,
                        const tcpst_segment *seg, tcpst_time ts, uint64_t frame,
                        const tcpst_xfer_config *cfg);

/*
 * The record is being written out at `end_ts`: close episodes still open
 * (a zero window that never reopened), marking still_at_end when
 * `at_capture_end`.  Calling it twice adds nothing the second time.
 */
/* Is a zero-window episode open (so a stall may become due)? */
bool tcpst_xfer_zero_window_open(const tcpst_xfer *x);

void tcpst_xfer_finish(tcpst_xfer *x, tcpst_findings *fs, tcpst_time end_ts, bool at_capture_end,
                       const tcpst_xfer_config *cfg);

#endif
