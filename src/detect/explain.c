/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * explain.c - what each anomaly type means for a person: a one-line summary, the evidence
 * a finding lists, and the usual causes (tcpstate --list-anomalies, --explain ID).  The
 * full definitions are docs/anomalies.md; unit_anomaly checks that every type has an
 * entry here, in catalogue order.
 */
#include <stddef.h>

#include "tcpstate/anomaly.h"

static const tcpst_anomaly_text table[] = {
    {"syn_unanswered", "a client's SYN got no answer at all",
     "the first and last SYN of the attempt",
     "the server host is down or unreachable; a firewall drops the SYN silently; a wrong "
     "address or port; the SYN-ACK is lost on an asymmetric path"},
    {"connection_rejected", "the server answered the SYN with a RST: nothing listens there",
     "the RST",
     "no process listens on the port; the service crashed or is restarting; a "
     "firewall rejects with a RST"},
    {"handshake_incomplete", "the server sent a SYN-ACK but the handshake never completed",
     "the SYN-ACK(s)",
     "the client gave up or crashed; the final ACK is lost or filtered; a "
     "SYN flood or scan that never completes handshakes"},
    {"handshake_invalid", "a SYN-ACK or final ACK acknowledges the wrong sequence number",
     "the offending segment",
     "a middlebox rewriting sequence numbers; a stale or spoofed "
     "segment; a broken TCP stack"},
    {"simultaneous_open", "both sides sent a bare SYN (RFC 9293 simultaneous open)", "the two SYNs",
     "peer-to-peer NAT traversal; two hosts connecting to each other at once"},
    {"simultaneous_close", "the two FINs crossed in flight", "the two FINs",
     "both applications closed at about the same time: normal, and rare"},
    {"data_before_established", "payload from a side not yet synchronized",
     "the segment with the data",
     "data on a SYN without TCP Fast Open; a crafted or broken "
     "stack; a capture that missed the handshake's end"},
    {"close_wait_stuck", "a side received the peer's FIN and never closed its own side",
     "the peer's FIN, and the time in CLOSE_WAIT",
     "the application never calls close() on the "
     "socket: a leaked connection, a missing close in an error path, a pool that keeps dead "
     "connections"},
    {"fin_wait_2_stuck", "a side's FIN was acknowledged but the peer never sent its own",
     "the side's FIN and its ACK",
     "the peer application leaks the connection (its side is "
     "in CLOSE_WAIT); a half-close the peer ignores"},
    {"fin_wait_1_stuck", "a side's FIN was never acknowledged", "the FIN and its copies",
     "the peer is gone or unreachable; the FIN or its ACK is lost; the peer's receive window "
     "is closed"},
    {"last_ack_stuck",
     "a side answered the peer's FIN with its own, which was never "
     "acknowledged",
     "the FIN and its copies",
     "the peer vanished after sending its FIN; the "
     "final ACK is lost or filtered"},
    {"half_open", "one side still holds a connection the other has lost",
     "the RST or the segments sent into silence",
     "a host rebooted or its process died "
     "without closing; a NAT or firewall forgot the flow; a long idle connection timed out "
     "in a middlebox"},
    {"connection_reset", "an acceptable RST ended a started connection", "the RST",
     "an application aborted (SO_LINGER 0, a crash, closing with unread data); a proxy or "
     "firewall reset the flow; a timeout in the peer"},
    {"data_after_close", "new data after the sender's own FIN, or after its connection ended",
     "the segments",
     "a broken stack; segments from an older connection on the same ports; a "
     "capture merged out of order"},
    {"data_after_reset", "payload after an accepted RST", "the segments",
     "data crossing the RST in flight; a peer that lost the connection and goes on sending"},
    {"rst_out_of_window", "a RST outside the acceptable window (RFC 5961): it changes nothing",
     "the RST",
     "a blind reset attack; a late RST of an older connection; a middlebox "
     "guessing sequence numbers"},
    {"port_reuse", "a new connection on a 4-tuple whose previous one was open or in TIME_WAIT",
     "the new SYN",
     "a client reusing ports too quickly (SO_REUSEADDR, a small ephemeral "
     "range, tcp_tw_reuse); NAT port exhaustion"},
    {"syn_inside_connection", "a SYN with a new ISN inside an established connection", "the SYN",
     "the client restarted and reused the port; NAT port reuse; an attack"},
    {"retransmission", "a side sent data (or a SYN or FIN) again", "the retransmitted segments",
     "packet loss on the path; congestion; a receiver that is "
     "slow to acknowledge; a spurious timeout"},
    {"out_of_order", "a segment arrived before earlier data of its direction", "the early segments",
     "reordering on the path (parallel links, load balancing); a capture "
     "point that sees the directions through different queues"},
    {"segment_not_captured", "data the receiver acknowledged never appeared in the capture",
     "the first segment after the gap",
     "the capture dropped packets (a full buffer, a "
     "snaplen or filter issue); an asymmetric capture point"},
    {"ack_of_unseen_data", "an acknowledgement for data the capture never saw",
     "the acknowledging segment",
     "capture loss; the capture started mid-stream; an "
     "asymmetric path"},
    {"zero_window", "a side advertised a zero receive window", "the zero-window segments",
     "the receiving application reads too slowly; a full socket buffer; a stalled consumer"},
    {"zero_window_stall", "a zero window lasted long enough to stall the transfer",
     "the zero-window segments and probes",
     "the receiving application stopped reading: "
     "blocked, deadlocked or overloaded"},
    {"window_shrink",
     "a side moved the right edge of its window back (RFC 9293 discourages "
     "it)",
     "the shrinking segment",
     "a stack under memory pressure; a middlebox rewriting "
     "windows"},
    {"keepalive", "keep-alive probes on an idle connection", "the probes",
     "SO_KEEPALIVE or an application heartbeat on an idle connection: normal"},
    {"out_of_window_segment", "a segment outside the receiver's window", "the segments",
     "a sender ignoring the window; a capture missing window updates; an attack"},
    {"timestamp_regression", "a side's TCP timestamp went backwards", "the segments",
     "a host reboot on the same ports; NAT merging hosts; PAWS will drop these segments"},
    {"illegal_flags", "a flag combination no TCP sends (SYN+FIN, SYN+RST, no flags...)",
     "the segments", "a scan (Xmas, null, FIN scans); a crafted or corrupted packet"},
    {"malformed_options", "TCP options with bad lengths or values", "the segments",
     "a broken stack or middlebox; corruption; a crafted packet"},
    {"rst_with_data", "a RST carrying payload", "the RST",
     "a diagnostic text some stacks send (RFC 1122 allows it); a middlebox; an attack"},
    {"bad_checksum", "a segment whose IPv4 or TCP checksum is wrong (--verify-checksums)",
     "the segments",
     "checksum offloading on the capturing host (most often: not a real "
     "error); corruption on the path"},
    {"listen_queue_full",
     "the server re-sent its SYN-ACK after the client's ACK: it dropped "
     "the ACK",
     "the repeated SYN-ACKs",
     "the listening socket's accept queue is full "
     "(ListenOverflows): the application accepts too slowly or its backlog is too small"},
    {"asymmetric_encapsulation", "the two directions carry different VLAN or tunnel layers",
     "the first segment of each direction",
     "asymmetric routing or tagging: a capture point "
     "that sees one direction tagged and the other not"},
    {"rst_not_accepted", "a RST its receiver did not take: the connection went on",
     "the RST and the segment that proves it",
     "a stale or forged RST; a RST racing a FIN; "
     "a stack stricter than the acceptability rules"},
    {"kernel_state_mismatch",
     "the kernel's socket state differs from the inferred one "
     "(live capture)",
     "the record's last packet",
     "packets the capture did not see (a "
     "filter, loss, offloading); a state change without packets (a timer)"},
};

_Static_assert(sizeof table / sizeof table[0] == TCPST_A__COUNT,
               "one explanation per anomaly type");

const tcpst_anomaly_text *tcpst_anomaly_explain(tcpst_anomaly_type t)
{
    return (unsigned)t < TCPST_A__COUNT ? &table[t] : NULL;
}
