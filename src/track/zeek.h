/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zeek.h - what zeekcompat.c and zeekrow.c share (private to the track layer).
 */
#ifndef TCPSTATE_TRACK_ZEEK_H
#define TCPSTATE_TRACK_ZEEK_H

#include <stdint.h>

#include "tcpstate/zeekcompat.h"

/* Zeek's timer defaults (init-bare): all 5 s except the session re-check. */
#define SEC                  TCPST_NS_PER_SEC
#define ATTEMPT_DELAY        (5 * SEC)   /* tcp_attempt_delay */
#define CLOSE_DELAY          (5 * SEC)   /* tcp_close_delay */
#define RESET_DELAY          (5 * SEC)   /* tcp_reset_delay */
#define CONNECTION_LINGER    (5 * SEC)   /* tcp_connection_linger */
#define SYN_TIMEOUT          (5 * SEC)   /* tcp_SYN_timeout: first session check */
#define SESSION_TIMER        (6 * SEC)   /* tcp_session_timer */
#define HANDSHAKE_INACTIVITY (60 * SEC)  /* udp_inactivity_timeout, used until a handshake ends */
#define TCP_INACTIVITY       (300 * SEC) /* tcp_inactivity_timeout */

/* Bytes side e has sent, as Zeek counts them (sequence space from its start). */
uint64_t tcpst__zeek_ep_size(const tcpst_zeek *z, unsigned e);

#endif
