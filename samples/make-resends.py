#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make-resends.py - write samples/resends-vs-copies.pcap: segments sent twice, told apart.

A segment that repeats the latest one is either a copy the network or the capture made
(a SPAN port mirroring both directions of a switch, two taps merged) or the sender sending
it again.  Only the headers can tell: a copy is byte-identical and comes within
TCPST_XFER_COPY_WINDOW (3 ms); a resend has a new IPv4 ID, a newer TSval or the ACK the
sender has now.  One connection per case, server port 9100+N (client port 50100+N), built
with the frame builder of make-crafted.py (same addresses, ISN scheme and determinism):

  9100 copy         the response again 40 us later, byte for byte: a capture copy
                    (server `duplicates` 1, no retransmission)
  9101 new_ip_id    the response again 1 ms later with the next IPv4 ID: a retransmission
  9102 new_tsval    the response again 1 ms later with the same IP ID but a newer TSval
                    (TCP timestamps on both SYNs): a retransmission
  9103 fin_new_ack  the client's FIN (ACK 1279 relative) sent again 0.5 ms later with ACK
                    1280, after one more byte of the response arrived: a retransmission
  9104 slow_rtt     handshake round trip 150 ms, then the request sent again 20 ms later
                    with a new IP ID: a retransmission (the round trip does not matter)
  9105 fast_rtt     the same pattern with a 4 ms handshake: a retransmission too
  9106 late_copy    the response again 20 ms later, byte for byte: too late for a copy,
                    a retransmission

Usage: python3 samples/make-resends.py [OUTPUT]   (default: resends-vs-copies.pcap here).
"""

from crafted_lib import crafted

Conn, Capture, request, response = crafted.Conn, crafted.Capture, crafted.request, crafted.response
opt_mss, opt_ts = crafted.opt_mss, crafted.opt_ts

BASE = 100  # scenario i gets n = BASE + i: server port 9000 + n


def again(cap, dt_us):
    """The latest frame once more, dt_us later: what a SPAN port or a second tap records."""
    t, frame = cap.records[-1]
    cap.t = t + dt_us
    cap.records.append((cap.t, frame))


def opened(cap, n, rtt=None):
    k = Conn(cap, n)
    k.handshake()
    if rtt is not None:
        # The SYN-ACK comes late (a distant server): the client's ACK, 2 ms after it,
        # closes a handshake round trip of rtt.
        syn_t = cap.records[-3][0]
        cap.records[-2] = (syn_t + round(rtt * 1000000) - 2000, cap.records[-2][1])
        cap.t = syn_t + round(rtt * 1000000)
        cap.records[-1] = (cap.t, cap.records[-1][1])
    return k


def copied(cap, n, dt_us):
    k = opened(cap, n)
    k.c("PA", request(k.port["s"]))
    k.s("PA", response(k.port["s"], 300))
    again(cap, dt_us)
    k.c("A")
    k.client_close()


def copy(cap, n):
    copied(cap, n, 40)


def new_ip_id(cap, n):
    k = opened(cap, n)
    k.c("PA", request(k.port["s"]))
    seq = k.nxt["s"]
    body = response(k.port["s"], 300)
    k.s("PA", body)
    k.s("PA", body, seq=seq, dt=0.001)  # the builder gives each frame the next IP ID
    k.c("A")
    k.client_close()


def new_tsval(cap, n):
    k = Conn(cap, n)
    k.c("S", opts=opt_mss() + opt_ts(1000, 0))
    k.s("SA", opts=opt_mss() + opt_ts(5000, 1000))
    k.c("A", opts=opt_ts(1004, 5000))
    k.c("PA", request(k.port["s"]), opts=opt_ts(1004, 5000))
    seq = k.nxt["s"]
    body = response(k.port["s"], 300)
    k.s("PA", body, opts=opt_ts(5006, 1004))
    cap.ip_id["s"] -= 1  # the same IP ID: only the TSval shows it was sent again
    k.s("PA", body, seq=seq, opts=opt_ts(5007, 1004), dt=0.001)
    k.c("A", opts=opt_ts(1010, 5007))
    k.c("FA", opts=opt_ts(1012, 5007))
    k.s("FA", opts=opt_ts(5010, 1012))
    k.c("A", opts=opt_ts(1014, 5010))


def fin_new_ack(cap, n):
    k = opened(cap, n)
    k.c("PA", request(k.port["s"]))
    body = response(k.port["s"], 300)
    k.s("PA", body[:299])
    fin_seq = k.nxt["c"]
    k.c("FA")  # ACK of 299 bytes
    k.s("PA", body[299:], dt=0.0003)
    k.c("FA", seq=fin_seq, dt=0.0005)  # the same FIN, now acknowledging the last byte too
    k.s("FA")
    k.c("A")


def resent_request(cap, n, rtt):
    k = opened(cap, n, rtt=rtt)
    seq = k.nxt["c"]
    k.c("PA", request(k.port["s"]))
    k.c("PA", request(k.port["s"]), seq=seq, dt=0.020)
    k.s("PA", response(k.port["s"]))
    k.c("A")
    k.client_close()


def slow_rtt(cap, n):
    resent_request(cap, n, 0.150)


def fast_rtt(cap, n):
    resent_request(cap, n, None)


def late_copy(cap, n):
    copied(cap, n, 20000)


SCENARIOS = [copy, new_ip_id, new_tsval, fin_new_ack, slow_rtt, fast_rtt, late_copy]


if __name__ == "__main__":
    crafted.write(SCENARIOS, "resends-vs-copies.pcap", first_n=BASE)
