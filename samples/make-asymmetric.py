#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make-asymmetric.py - write the asymmetric-encapsulation samples.

  asymmetric-vlan.pcap    the client's frames tagged VLAN 3136, the server's untagged (a SPAN
                          port that sees one direction on a trunk)
  asymmetric-geneve.pcap  the client's frames in Geneve VNI 5001 (outer UDP 6081), the
                          server's plain
  encap-distinct.pcap     the same inner 4-tuple, with the same ISNs (cloned hosts), in Geneve
                          VNI 100 and VNI 200, both directions in each: two connections

In the two asymmetric samples the connection to port 8080 loses the server's first data
segment after the capture point: the client sends three duplicate ACKs and the server repairs
it, a retransmission that is `fast` only when the two directions are in one record (in two
one-sided records it would look like a timeout). The connection to port 8081 is clean. Both
must come out as one record each, flagged `asymmetric_encapsulation` (docs/encapsulations.md).

Frames come from the builder of make-crafted.py (Ethernet, IPv4, TCP with correct checksums,
fixed ISNs, IP ids and times), wrapped here in a VLAN tag or in outer Ethernet/IPv4/UDP/Geneve.
Standard library only, no privileges, deterministic: the same bytes on every run.
Addresses: inner client 198.18.0.1, server 198.18.0.2; tunnel endpoints 198.19.0.1 (client
side) and 198.19.0.2 (server side).

Usage: python3 samples/make-asymmetric.py [DIR]   (default: next to this script)
"""

import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


from crafted_lib import crafted  # noqa: E402

VTEP_IP = {"c": bytes([198, 19, 0, 1]), "s": bytes([198, 19, 0, 2])}
VTEP_MAC = {"c": bytes.fromhex("020000000011"), "s": bytes.fromhex("020000000012")}
GENEVE_PORT = 6081  # RFC 8926 3.3
TEB = 0x6558  # Geneve protocol type: Ethernet (transparent Ethernet bridging)


def plain(side, frame):
    return frame


def vlan(vid):
    """Insert an 802.1Q tag (PCP 0) after the MAC addresses."""
    def wrap(side, frame):
        return frame[:12] + struct.pack("!HH", 0x8100, vid & 0x0FFF) + frame[12:]
    return wrap


def geneve(vni):
    """The frame as the payload of Geneve (no options) in UDP in IPv4 between the VTEPs."""
    ip_id = {"c": 0x2000, "s": 0x9000}

    def wrap(side, frame):
        peer = "s" if side == "c" else "c"
        gen = struct.pack("!BBHI", 0, 0, TEB, vni << 8) + frame
        # Source port from the inner flow, as VTEPs do (RFC 8926 3.3); checksum 0 (IPv4).
        udp = struct.pack("!HHHH", 49152 + (vni % 1000), GENEVE_PORT, 8 + len(gen), 0) + gen
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), ip_id[side], 0x4000, 64, 17,
                         0, VTEP_IP[side], VTEP_IP[peer])
        ip = ip[:10] + struct.pack("!H", crafted.csum(ip)) + ip[12:]
        ip_id[side] = (ip_id[side] + 1) & 0xFFFF
        return VTEP_MAC[peer] + VTEP_MAC[side] + b"\x08\x00" + ip + udp
    return wrap


class Conn(crafted.Conn):
    """A connection of make-crafted.py whose frames each side wraps its own way."""

    def __init__(self, cap, n, server_port, wrap_c, wrap_s):
        super().__init__(cap, n)
        self.port = {"c": 50000 + n, "s": server_port}
        self.wrap = {"c": wrap_c, "s": wrap_s}

    def send(self, side, flags, data=b"", **kw):
        super().send(side, flags, data, **kw)
        t, frame = self.cap.records[-1]
        self.cap.records[-1] = (t, self.wrap[side](side, frame))


def payload(tag, size):
    return (b"%s " % tag * (size // (len(tag) + 1) + 1))[:size]


def lossy(k):
    """Request, four server segments of which the first never reaches the client, three
    duplicate ACKs, the repair (RFC 5681 3.2 fast retransmit), the rest acknowledged, close."""
    k.handshake()
    k.c("PA", b"GET /big HTTP/1.0\r\n\r\n")
    k.s("A")
    hole = k.nxt["s"]
    segs = [payload(b"part%d" % i, 1000) for i in range(4)]
    k.s("A", segs[0])  # captured, then lost on the way to the client
    for seg in segs[1:]:
        k.s("A", seg)
        k.c("A", ack=hole)  # duplicate ACK: the hole is still open
    k.s("A", segs[0], seq=hole)
    k.c("A")
    k.client_close()


def clean(k):
    k.handshake()
    k.c("PA", b"GET / HTTP/1.0\r\n\r\n")
    k.s("A")
    k.s("PA", b"HTTP/1.0 204 No Content\r\n\r\n")
    k.c("A")
    k.client_close()


def next_second(cap):
    cap.t = (cap.t // 1000000 + 1) * 1000000


def asymmetric(wrap_c):
    cap = crafted.Capture()
    lossy(Conn(cap, 1, 8080, wrap_c, plain))
    next_second(cap)
    clean(Conn(cap, 2, 8081, wrap_c, plain))
    return cap


def distinct():
    """The same client port and ISNs in two VNIs, the second opening while the first runs."""
    cap = crafted.Capture()
    a = Conn(cap, 3, 8080, geneve(100), geneve(100))
    b = Conn(cap, 3, 8080, geneve(200), geneve(200))
    a.handshake()
    a.c("PA", b"GET /a HTTP/1.0\r\n\r\n")
    b.first = False
    b.handshake()
    a.s("PA", b"HTTP/1.0 204 No Content\r\n\r\n")
    b.c("PA", b"GET /b HTTP/1.0\r\n\r\n")
    a.c("A")
    b.s("PA", b"HTTP/1.0 204 No Content\r\n\r\n")
    b.c("A")
    a.client_close()
    b.client_close()
    return cap


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else HERE
    for name, cap in (("asymmetric-vlan.pcap", asymmetric(vlan(3136))),
                      ("asymmetric-geneve.pcap", asymmetric(geneve(5001))),
                      ("encap-distinct.pcap", distinct())):
        path = os.path.join(out, name)
        size = cap.write(path)
        print("%s: %d packets, %d bytes" % (path, len(cap.records), size))


if __name__ == "__main__":
    main()
