#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make-rst-cases.py - write three samples of RSTs that did not end the connection they seem to.

Each sample is one TCP connection, built frame by frame with the frame builder of
make-crafted.py (Ethernet, IPv4, correct checksums, microsecond timestamps), between client
198.18.0.1 and server 198.18.0.2 (RFC 2544 benchmarking range):

  rst-synsent-stale-ack.pcap  The server still has an older connection on the same ports
      (the client lost it), so it answers the client's SYN with an ACK of that connection.
      The client, in SYN-SENT, answers the unacceptable ACK with <SEQ=SEG.ACK><CTL=RST> and
      stays in SYN-SENT (RFC 9293 3.10.7.3); the RST ends the server's stale connection.
      The client's SYN timer resends the SYN with the same ISN, and the handshake completes
      (RFC 9293 3.5.1 figure 10, half-open connection discovery). Port 9100.
  rst-paws-synsent.pcap  TCP timestamps on every segment. A RST+ACK that acknowledges the
      client's SYN but echoes a TSecr the client never sent (a RST of an earlier connection
      on these ports, delayed in the network) reaches the client in SYN-SENT. Linux drops it
      (PAWS check of SYN-SENT, before the RST bit is looked at) and the real SYN-ACK that
      follows completes the handshake: the client acknowledges it with ISN+1. Port 9101.
  rst-fin-ignored.pcap  Both sides close at once (the FINs cross). Then a RST arrives at the
      client with the sequence number of the server's FIN, which the client had already
      taken: its RCV.NXT is one past it, so an RFC 5961 3.2 receiver does not accept it. The
      client retransmits its FIN after its RTO, with an ACK covering the server's FIN; the
      server, which still has the connection, acknowledges it and both end in TIME_WAIT.
      Port 9102.

Deterministic (fixed times, ISNs, IP IDs, TSvals): running it twice gives the same bytes. No
privileges, Python standard library only. samples/README.md describes what each should raise.

Usage: python3 samples/make-rst-cases.py [DIR]   (default: the directory of this script)
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


from crafted_lib import crafted as mc  # noqa: E402


def exchange(k, n, c=None, s=None):
    """One request and its response, each acknowledged; c/s send a segment (default k.c/k.s)."""
    c = c or k.c
    s = s or k.s
    c("PA", mc.request(n))
    s("A")
    s("PA", mc.response(n))
    c("A")


def synsent_stale_ack(cap, n):
    """The server answers the SYN with an ACK of its older connection (SEQ 0x7E001000,
    ACK 0x3C002000: numbers of that connection); the client resets it at SEG.ACK and its
    SYN timer repeats the SYN 1 s later."""
    k = mc.Conn(cap, n)
    cisn = k.nxt["c"]
    stale_seq, stale_ack = 0x7E001000, 0x3C002000
    k.c("S", opts=mc.opt_mss())
    k.s("A", seq=stale_seq, ack=stale_ack)
    k.c("R", seq=stale_ack, dt=0.0001)
    k.c("S", seq=cisn, opts=mc.opt_mss(), dt=1.0)
    k.s("SA", opts=mc.opt_mss())
    k.c("A")
    exchange(k, n)
    k.client_close()


def paws_synsent(cap, n):
    """TSval clocks of 1 ms ticks. 0.3 ms after the SYN a RST+ACK acknowledges it, echoing
    TSecr 0x00100000 (the client's TSval clock is at 0x00A00000): not a TSval the client
    sent. Its own TSval, 0x20000000, is older than the server's clock now (0x30000000)."""
    k = mc.Conn(cap, n)
    ct, st = 0x00A00000, 0x30000000

    def c(flags, data=b"", dt=mc.STEP):
        nonlocal ct
        ct += round(dt * 1000)
        syn = mc.opt_mss() if "S" in flags else b""
        k.c(flags, data, opts=syn + mc.opt_ts(ct, 0 if flags == "S" else st), dt=dt)

    def s(flags, data=b"", dt=mc.STEP):
        nonlocal st
        st += round(dt * 1000)
        syn = mc.opt_mss() if "S" in flags else b""
        k.s(flags, data, opts=syn + mc.opt_ts(st, ct), dt=dt)

    c("S")
    k.s("RA", seq=0, opts=mc.opt_ts(0x20000000, 0x00100000), dt=0.0003)
    s("SA", dt=0.0017)
    c("A")
    exchange(k, n, c, s)
    c("FA")
    s("FA")
    c("A")


def fin_ignored(cap, n):
    """The FINs cross (0.5 ms apart, within the 4 ms round trip); 1 ms later a RST arrives
    with the sequence number of the server's FIN. The client's FIN is repeated 300 ms later
    (its RTO) with ACK = server FIN + 1; the server acknowledges it."""
    k = mc.Conn(cap, n)
    k.handshake()
    exchange(k, n)
    cfin = k.nxt["c"]
    k.c("FA")
    sfin = k.nxt["s"]
    k.s("FA", ack=cfin, dt=0.0005)
    k.s("R", seq=sfin, dt=0.001)
    k.c("FA", seq=cfin, ack=sfin + 1, dt=0.3)
    k.s("A", ack=cfin + 1)


SAMPLES = [
    ("rst-synsent-stale-ack.pcap", synsent_stale_ack, 100),
    ("rst-paws-synsent.pcap", paws_synsent, 101),
    ("rst-fin-ignored.pcap", fin_ignored, 102),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, scenario, n in SAMPLES:
        cap = mc.Capture()
        scenario(cap, n)
        path = os.path.join(out, name)
        size = cap.write(path)
        print("%s: %d packets, %d bytes" % (path, len(cap.records), size))


if __name__ == "__main__":
    main()
