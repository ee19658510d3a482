/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * limits.h - every tunable with its default and the reason for it.
 *
 * First tier: settings users change through options.  Second tier: internal
 * caps that bound memory per connection.  Times are nanoseconds of packet time.
 */
#ifndef TCPSTATE_LIMITS_H
#define TCPSTATE_LIMITS_H

#include "tcpstate/types.h"

/* ---- user-settable (cli.c) ---- */

/* ---- begin: command-line bounds and defaults (cli.c option table) ---- */

/* --stats-interval: NDJSON's stats line every 10 s, often enough to watch a live run. */
#define TCPST_DEFAULT_STATS_INTERVAL (10 * TCPST_NS_PER_SEC)
/* --snaplen: 64 bytes hold Ethernet, a VLAN tag, IPv4 and TCP without options (58). */
#define TCPST_MIN_SNAPLEN 64
/* libpcap's MAXIMUM_SNAPLEN: it clamps larger values to this (the default, TCPST_LIVE_SNAPLEN). */
#define TCPST_MAX_SNAPLEN 262144
/* --buffer-size KIB: 1 GiB, so the size in bytes still fits libpcap's int. */
#define TCPST_MAX_BUFFER_KIB (1u << 20)
/* --threads: only 1 and 2+ differ today (read-ahead); the bound catches typos. */
#define TCPST_MAX_THREADS 1024
/* --memory MIB: 1 PiB keeps MiB << 20 within 64 bits; the table is capped long before. */
#define TCPST_MAX_MEMORY_MIB (UINT64_C(1) << 30)
/* Options in seconds: 10^9 s (31 years) times 10^9 ns still fits tcpst_time. */
#define TCPST_MAX_SECONDS 1e9
/* --stuck-after SPEC is copied to be split; 255 characters set every state at once. */
#define TCPST_MAX_STUCK_SPEC 255

/* ---- end: command-line bounds and defaults ---- */

/* TIME_WAIT lasts 2*MSL; Linux hard-codes 60 s (TCP_TIMEWAIT_LEN). */
#define TCPST_DEFAULT_TIME_WAIT (60 * TCPST_NS_PER_SEC)

/* Idle expiry per class.  Handshake: Linux gives up a SYN after ~127 s of
 * retries (tcp_syn_retries=6), so 300 s never cuts a live attempt short. */
#define TCPST_DEFAULT_TIMEOUT_HANDSHAKE (300 * TCPST_NS_PER_SEC)
/* Established or closing: idle connections are normal (keep-alive is 2 h by
 * default), so only memory pressure should end them early. */
#define TCPST_DEFAULT_TIMEOUT_ACTIVE (3600 * TCPST_NS_PER_SEC)
/* Terminated: keep the record for late retransmissions and RSTs that belong
 * to it, as long as TIME_WAIT would. */
#define TCPST_DEFAULT_TIMEOUT_CLOSED (60 * TCPST_NS_PER_SEC)

/* Connection table capacity; memory is touched only as it fills. */
#define TCPST_DEFAULT_MAX_CONNECTIONS (1u << 18)
#define TCPST_MAX_MAX_CONNECTIONS     (1u << 26)
/* --memory: the table's share of it follows from this estimate of the rest of the process
 * (libraries, stdio and libpcap buffers, the read-ahead ring, records waiting for a lower id,
 * the hash buckets, fragment reassembly), measured in docs/performance.md. */
#define TCPST_DEFAULT_MEMORY_MIB   64
#define TCPST_MEMORY_OVERHEAD_MIB  20
#define TCPST_MIN_SOFT_CONNECTIONS 1024

/* An endpoint held in a closing state (CLOSE_WAIT, FIN_WAIT_1/2, LAST_ACK)
 * this long is "stuck" (--stuck-after; per state: --stuck-after close_wait=60). */
#define TCPST_DEFAULT_STUCK_AFTER (30 * TCPST_NS_PER_SEC)
/* Handshake states: Linux retransmits an unanswered SYN after 1 s and again
 * after 3 s, so 3 s without an answer means at least two tries went unheard. */
#define TCPST_DEFAULT_STUCK_HANDSHAKE (3 * TCPST_NS_PER_SEC)
/* Streaming output: how often (clock time) duration findings are looked for. */
#define TCPST_SCAN_INTERVAL (1 * TCPST_NS_PER_SEC)

/* ---- detector thresholds (detect/) ---- */

/* half_open into_silence: one side sent at least this many segments (retransmissions
 * among them) since the other last sent anything, and for at least stuck_after. */
#define TCPST_SILENCE_MIN_SEGMENTS 3
/* Capture-wide findings (detect/summary.c): a server with this many unanswered SYNs is
 * listed under syn_flood_or_scan, a host that reset or refused this many connections under
 * rst_storm.  Twenty is well above what retries of a few clients give, and below what even
 * a slow scan does in a minute. */
#define TCPST_SYN_FLOOD_MIN 20
#define TCPST_RST_STORM_MIN 20
/* Hosts listed per capture-wide finding, most affected first. */
#define TCPST_SUMMARY_HOSTS_LISTED 20
/* Addresses tallied for them; beyond it they are counted as hosts_untracked. */
#define TCPST_SUMMARY_HOSTS_MAX 65536
/* Capture quality: with at least this many established connections, "one_sided" when half
 * or more of them show one direction only, "capture_loss" when a tenth or more show data
 * that was never captured. */
#define TCPST_QUALITY_MIN_ESTABLISHED 3

/* Transfer detectors (detect/transfer.c). */
/* A zero window held this long is a stall when the configuration says 0. */
#define TCPST_XFER_DEFAULT_ZERO_WINDOW_STALL (30 * TCPST_NS_PER_SEC)
/* Reordering window when no handshake RTT was measured (Wireshark's default). */
#define TCPST_XFER_DEFAULT_REORDER (3 * TCPST_NS_PER_SEC / 1000)
/* The handshake RTT, used as reordering window, is capped here (TCP_RTO_MIN of Linux). */
#define TCPST_XFER_MAX_REORDER (200 * TCPST_NS_PER_SEC / 1000)
/* A segment whose headers equal the latest one's, byte for byte, this soon after it is a
 * copy made by the network or the capture (SPAN, two taps), not sent again: no stack
 * resends that quickly (Linux: 2 ms at the least, with a new IP ID and TSval). */
#define TCPST_XFER_COPY_WINDOW (3 * TCPST_NS_PER_SEC / 1000)
/* RFC 5681 3.2 DupThresh: this many duplicate ACKs trigger fast retransmit. */
#define TCPST_XFER_DUPTHRESH 3

/* `-- COMMAND` (docs/ci.md): how long the capture goes on after COMMAND exited, so that
 * its last FINs and RSTs arrive (--grace). */
#define TCPST_DEFAULT_GRACE (1 * TCPST_NS_PER_SEC)
/* The host's socket table is read again at most this often while a live run goes on. */
#define TCPST_HOST_REFRESH (1 * TCPST_NS_PER_SEC)
/* A snapshot this long after a record's last packet compares its states: any sooner and a
 * segment the kernel has sent may not be in the capture yet. */
#define TCPST_HOST_SETTLE (200 * TCPST_NS_PER_SEC / 1000)

/* ---- internal caps ---- */

/* State changes kept per endpoint; a full lifecycle needs at most 7. */
#define TCPST_TIMELINE_MAX 10

#endif
