/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * detect.h - every detector entry point.  The engine (track/engine.c) is their one caller:
 * per segment it takes a snapshot, lets the transfer detectors judge the segment against
 * what came before it, applies it (tcpst_conn_update), then runs the lifecycle and header
 * detectors on what changed; when a record is written out it runs the duration detectors.
 *
 * Lifecycle and header detectors (detect.c), per segment: illegal flag combinations,
 * malformed options, RSTs with data, data before the handshake completed (TCP Fast Open
 * excepted), rejected and reset connections, RSTs not acceptable by RFC 5961, data after a
 * close or a reset, invalid handshakes, simultaneous open/close, peers that lost the
 * connection.  When a record is written out: states held too long (stuck), unanswered SYNs,
 * handshakes never completed, one side talking into silence.  Segments with a bad
 * checksum (bad_checksum).  A record joined across two connection keys
 * (asymmetric_encapsulation, asymmetric.c).
 *
 * Transfer detectors (transfer.c): retransmissions, reordering, capture gaps, windows,
 * keep-alives, timestamps; their state is in transfer.h.  Capture-wide judgements over all
 * records (floods, storms, capture quality) are in summary.h.
 */
#ifndef TCPSTATE_DETECT_H
#define TCPSTATE_DETECT_H

#include <stdbool.h>

#include "tcpstate/conn.h"

/* What the connection looked like just before a segment was applied. */
typedef struct tcpst_detect_pre {
    uint8_t state[2];
    uint16_t has[2];
    uint16_t ntl[2]; /* transitions so far (recorded + dropped) */
    uint32_t next_seq[2], last_ack[2], window[2];
    uint32_t events;
    tcpst_time tl_ts[2]; /* when each side's latest transition happened (0: none) */
} tcpst_detect_pre;

void tcpst_detect_snapshot(const tcpst_conn *c, tcpst_detect_pre *pre);

/*
 * The transfer detectors on segment `seg` sent by endpoint `from` of c, before
 * tcpst_conn_update() applies it, so that the endpoints still describe what was known
 * before it.  Findings go into c->findings.  Returns what the segment was, which
 * tcpst_conn_update() counts (one definition for findings and counters).
 */
tcpst_repeat tcpst_xfer_segment(tcpst_conn *c, unsigned from, const tcpst_segment *seg,
                                tcpst_time ts, uint64_t frame, const tcpst_xfer_config *cfg);

/* After tcpst_conn_update() applied `seg` from endpoint `from`. `ev` = its event bits. */
void tcpst_detect_segment(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                          uint64_t frame, const tcpst_detect_pre *pre, unsigned ev);

/* A segment of c from endpoint `from` failed its checksum (`cs`, decode.h); the receiver
 * drops it, so nothing else sees it. */
void tcpst_detect_bad_checksum(tcpst_conn *c, unsigned from, tcpst_csum cs, tcpst_time ts,
                               uint64_t frame);

/*
 * The record is being written out (c->end_ts, c->end_reason set): stuck states, unanswered
 * SYNs, silence, and the transfer episodes still open (a zero window that never reopened).
 * Calling it twice adds nothing the second time.
 */
void tcpst_detect_finish(tcpst_conn *c, const tcpst_conn_config *cfg);

/* After the host hook (engine.h) filled c->host: kernel_state_mismatch where the kernel's
 * own state of a local endpoint, read well after the record's last packet, is not the one
 * inferred.  Calling it twice adds nothing the second time. */
void tcpst_detect_host(tcpst_conn *c);

/* Could tcpst_detect_finish() find a duration (a stuck state, an unanswered SYN, a
 * zero-window stall) if c ended at `now`?  Cheap; false is certain, true is a maybe. */
bool tcpst_detect_duration_due(const tcpst_conn *c, tcpst_time now, const tcpst_conn_config *cfg);

/* The record a bare SYN is about to end (RFC boundaries), for port_reuse. */
typedef struct tcpst_reuse_info {
    uint64_t id;
    uint8_t sender_state; /* state the SYN's sender had in the old record */
    bool terminated;
    tcpst_time last_ts;
} tcpst_reuse_info;

/* Before `old` is written out: syn_inside_connection if it was established. */
void tcpst_detect_before_reuse(tcpst_conn *old, unsigned from, const tcpst_segment *seg,
                               tcpst_time ts, uint64_t frame, tcpst_reuse_info *info);

/* On the new record: port_reuse if the old one was open or ended less than 2*MSL ago. */
void tcpst_detect_after_reuse(tcpst_conn *fresh, const tcpst_reuse_info *info, tcpst_time ts,
                              uint64_t frame, const tcpst_conn_config *cfg);

/* Record c has just taken its other direction under another connection key
 * (tcpst_conn_join, at frame `frame`): asymmetric_encapsulation, with each side's key. */
void tcpst_detect_joined(tcpst_conn *c, tcpst_time ts, uint64_t frame);

/* Default stuck thresholds (limits.h) into cfg->stuck_after. */
void tcpst_detect_config_default(tcpst_conn_config *cfg);

#endif
