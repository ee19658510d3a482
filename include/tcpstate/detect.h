/*
 * detect.h - lifecycle and header anomaly detectors (the transfer ones are
 * in transfer.h).
 *
 * Per segment: illegal flag combinations, malformed options, RSTs with data,
 * data before the handshake completed (TCP Fast Open excepted), rejected and
 * reset connections, RSTs not acceptable by RFC 5961, data after a close or
 * a reset, invalid handshakes, simultaneous open/close, peers that lost the
 * connection.  When a record is written out: states held too long (stuck),
 * unanswered SYNs, handshakes never completed, one side talking into silence.
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
} tcpst_detect_pre;

void tcpst_detect_snapshot(const tcpst_conn *c, tcpst_detect_pre *pre);

/* After tcpst_conn_update() applied `seg` from endpoint `from`. `ev` = its event bits. */
void tcpst_detect_segment(tcpst_conn *c, unsigned from, const tcpst_segment *seg, tcpst_time ts,
                          uint64_t frame, const tcpst_detect_pre *pre, unsigned ev);

/* The record is being written out (c->end_ts, c->end_reason set). */
void tcpst_detect_finish(tcpst_conn *c, const tcpst_conn_config *cfg);

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

/* Default stuck thresholds (limits.h) into cfg->stuck_after. */
void tcpst_detect_config_default(tcpst_conn_config *cfg);

#endif
