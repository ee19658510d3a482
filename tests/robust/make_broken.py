#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make_broken.py - write a corpus of damaged and hostile captures for tests/cli/test_broken.py.

Every file is built here from bytes with struct (Ethernet/IPv4/IPv6/TCP, correct checksums
unless a case damages them on purpose); nothing is captured, nothing is sent. Deterministic:
the same bytes on every run, so the test can assert exact counts. Only the Python standard
library is used. The corpus is generated at test time into a scratch directory, not committed.

What it does not do: decide the expected outcome of a case; test_broken.py asserts those.

Usage: python3 tests/robust/make_broken.py OUTDIR
"""

import os
import struct
import sys

C4, S4 = bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2])
C6 = bytes.fromhex("20010db8000000000000000000000001")
S6 = bytes.fromhex("20010db8000000000000000000000002")
CMAC, SMAC = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")
T0 = 1767225600  # 2026-01-01 00:00:00 UTC
FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20


def csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_seg(src, dst, sport, dport, seq, ack, flags, opts=b"", payload=b"", win=65535,
            doff=None, proto=6):
    """TCP header + payload with a correct checksum over the pseudo-header of src/dst.
    flags may use all 9 bits (NS is the low bit of byte 12). doff overrides the data offset."""
    if len(opts) % 4:
        opts += b"\0" * (4 - len(opts) % 4)
    off = (20 + len(opts)) // 4 if doff is None else doff
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (off << 4) | ((flags >> 8) & 1), flags & 0xFF, win, 0, 0) + opts + payload
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(tcp))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(tcp), proto)
    return tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]


def ipv4(src, dst, payload, ihl=5, total=None, proto=6, ip_id=1, opts=b""):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total if total is not None else
                      20 + len(opts) + len(payload), ip_id, 0x4000, 64, proto, 0, src, dst) + opts
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, payload, nh=6):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64, src, dst) + payload


def eth(l3, ethertype=0x0800, from_client=True):
    s, d = (CMAC, SMAC) if from_client else (SMAC, CMAC)
    return d + s + struct.pack("!H", ethertype) + l3


def frame4(sport, dport, seq, ack, flags, payload=b"", opts=b"", rev=False, **kw):
    src, dst = (S4, C4) if rev else (C4, S4)
    return eth(ipv4(src, dst, tcp_seg(src, dst, sport, dport, seq, ack, flags, opts, payload,
                                      **kw)), from_client=not rev)


def pcap_header(linktype=1, snaplen=65535, nano=False, magic=None):
    m = magic if magic is not None else (0xA1B23C4D if nano else 0xA1B2C3D4)
    return struct.pack("<IHHiIII", m, 2, 4, 0, 0, snaplen, linktype)


def record(sec, frac, data, caplen=None, wirelen=None):
    caplen = len(data) if caplen is None else caplen
    wirelen = len(data) if wirelen is None else wirelen
    return struct.pack("<IIII", sec & 0xFFFFFFFF, frac & 0xFFFFFFFF, caplen, wirelen) + data


def pcap(frames, linktype=1, snaplen=65535, t0=T0, step_us=1000):
    """frames: list of bytes; one record each, step_us apart."""
    out = [pcap_header(linktype, snaplen)]
    for i, f in enumerate(frames):
        us = i * step_us
        out.append(record(t0 + us // 1000000, us % 1000000, f))
    return b"".join(out)


def session(cport, sport=80, isn_c=1000, isn_s=5000, data=b"hello", rev_data=b"world"):
    """A clean connection: handshake, one request, one response, FIN from each side."""
    c, s = isn_c, isn_s
    f = [frame4(cport, sport, c, 0, SYN),
         frame4(sport, cport, s, c + 1, SYN | ACK, rev=True),
         frame4(cport, sport, c + 1, s + 1, ACK)]
    c += 1
    s += 1
    f.append(frame4(cport, sport, c, s, PSH | ACK, data))
    c += len(data)
    f.append(frame4(sport, cport, s, c, PSH | ACK, rev_data, rev=True))
    s += len(rev_data)
    f.append(frame4(cport, sport, c, s, FIN | ACK))
    c += 1
    f.append(frame4(sport, cport, s, c, FIN | ACK, rev=True))
    s += 1
    f.append(frame4(cport, sport, c, s, ACK))
    return f


def good_frames():
    """Four clean sessions, 32 frames."""
    return [fr for i in range(4) for fr in session(40000 + i, isn_c=1000 * (i + 1))]


def write(outdir, name, data):
    with open(os.path.join(outdir, name), "wb") as fh:
        fh.write(data)


def generate(outdir):
    os.makedirs(outdir, exist_ok=True)
    good = good_frames()
    full = pcap(good)
    write(outdir, "good.pcap", full)

    # --- file-level damage
    write(outdir, "empty.pcap", b"")
    write(outdir, "header_truncated.pcap", full[:13])
    write(outdir, "wrong_magic.pcap", b"\xde\xad\xbe\xef" + full[4:])
    # Records 0..K-1 intact, record K cut inside its data / inside its 16-byte header.
    k = 13
    offs = [24]
    for fr in good:
        offs.append(offs[-1] + 16 + len(fr))
    write(outdir, "prefix.pcap", full[:offs[k]])
    write(outdir, "truncated_mid_data.pcap", full[:offs[k] + 16 + 10])
    write(outdir, "truncated_mid_rechdr.pcap", full[:offs[k] + 7])

    # --- record-level oddities, each between two clean sessions
    a, b = session(41000), session(41001, isn_c=77)
    syn = frame4(41002, 80, 9, 0, SYN)
    hdr = pcap_header(snaplen=64)
    # caplen > snaplen (but below libpcap's hard limit), with the bytes present
    big = frame4(41002, 80, 9, 0, SYN, payload=b"x" * 100)
    recs = [record(T0, i * 1000, f) for i, f in enumerate(a)]
    recs.append(record(T0 + 1, 0, big))
    recs += [record(T0 + 2, i * 1000, f) for i, f in enumerate(b)]
    write(outdir, "caplen_gt_snaplen.pcap", hdr + b"".join(recs))
    # caplen 0 records (wire length 54)
    recs = [record(T0, i * 1000, f) for i, f in enumerate(a)]
    recs += [record(T0 + 1, j, b"", 0, 54) for j in range(3)]
    recs += [record(T0 + 2, i * 1000, f) for i, f in enumerate(b)]
    write(outdir, "caplen_zero.pcap", pcap_header() + b"".join(recs))
    # caplen > wire length (captured bytes claim more than was on the wire)
    recs = [record(T0, i * 1000, f) for i, f in enumerate(a)]
    recs.append(record(T0 + 1, 0, syn + b"\0" * 20, None, len(syn)))
    recs += [record(T0 + 2, i * 1000, f) for i, f in enumerate(b)]
    write(outdir, "caplen_gt_wirelen.pcap", pcap_header() + b"".join(recs))
    # caplen absurdly large after two good sessions: the rest of the file is unreadable
    recs = [record(T0, i * 1000, f) for i, f in enumerate(a + b)]
    recs.append(struct.pack("<IIII", T0 + 3, 0, 0x7FFFFFF0, 54) + syn)
    write(outdir, "caplen_huge.pcap", pcap_header() + b"".join(recs))

    # --- timestamps
    def timed(stamps, nano=False):
        frames = session(42000) + session(42001, isn_c=5)
        return pcap_header(nano=nano) + b"".join(
            record(s, f, fr) for (s, f), fr in zip(stamps, frames))
    n = 16
    write(outdir, "ts_2106.pcap", timed([(0xFFFFFFFF, 999999 - 16 + i) for i in range(n)]))
    write(outdir, "ts_zero.pcap", timed([(0, 0)] * n))
    # nanosecond pcap: sec 0x80000000+ (negative as int32) and fractions >= 1e9
    write(outdir, "ts_negative_ns.pcap",
          timed([(0x80000000 + i, 999999999 + i) for i in range(n)], nano=True))
    write(outdir, "ts_backwards.pcap", timed([(T0 + 100 - i, 0) for i in range(n)]))
    write(outdir, "ts_usec_overflow.pcap", timed([(T0, 5000000 + i) for i in range(n)]))

    # --- link types
    write(outdir, "link_eth.pcap", pcap(session(43000)))
    raw = [fr[14:] for fr in session(43001)]
    write(outdir, "link_raw.pcap", pcap(raw, linktype=101, t0=T0 + 0))
    write(outdir, "link_unsupported.pcap", pcap(session(43002), linktype=189))  # USB_LINUX

    # --- IP/TCP header damage: one bad frame each, amid two clean sessions
    def amid(name, bad_frames):
        write(outdir, name, pcap(session(44000) + bad_frames + session(44001, isn_c=3)))
    tcp = tcp_seg(C4, S4, 44002, 80, 1, 0, SYN)
    hdr4 = bytearray(ipv4(C4, S4, tcp))
    amid("ipv4_ihl_lt5.pcap", [eth(bytes(_ihl(hdr4, i))) for i in (0, 1, 4)])
    amid("ipv4_ihl_beyond.pcap", [eth(bytes(_ihl(hdr4, 15)))])
    # IPv6: 40 extension headers (hop-by-hop then destination options) before TCP
    t6 = tcp_seg(C6, S6, 44003, 80, 1, 0, SYN)
    chain = b""
    nxt = 6
    for i in range(40):
        chain = struct.pack("!BB6x", nxt, 0) + chain
        nxt = 60 if i < 39 else 0
    amid("ipv6_ext_loop.pcap", [eth(ipv6(C6, S6, chain + t6, nh=0), 0x86DD)])
    # TCP data offset < 5 and beyond the segment
    amid("tcp_doff_lt5.pcap", [eth(ipv4(C4, S4, tcp_seg(C4, S4, 44004, 80, 1, 0, SYN, doff=d)))
                               for d in (0, 4)])
    amid("tcp_doff_beyond.pcap", [eth(ipv4(C4, S4, tcp_seg(C4, S4, 44005, 80, 1, 0, SYN,
                                                           doff=15)))])

    # --- malformed TCP options on an otherwise clean connection (port 45000)
    f = session(45000)
    bad_opts = [b"\x08\x00\x00\x00",          # kind 8 with length 0
                b"\x08\x01\x00\x00",          # length 1
                b"\x08\x28" + b"\0" * 6]      # length 40 overflows an 8-byte option area
    bad = [frame4(45000, 80, 1006, 5006, ACK, opts=o) for o in bad_opts]
    write(outdir, "tcp_options_bad.pcap", pcap(f[:5] + bad + f[5:]))

    # --- every value of the 9 flag bits on one connection (port 46000)
    f = session(46000)
    flagged = [frame4(46000, 80, 1006, 5006, fl) for fl in range(512)]
    write(outdir, "flags_all.pcap", pcap(f[:5] + flagged + f[5:]))

    # --- sequence numbers wrapping through 2^32 in a clean connection
    frames = []
    c, s = 0xFFFFF000, 0xFFFFFF00
    frames += [frame4(47000, 80, c, 0, SYN), frame4(80, 47000, s, c + 1, SYN | ACK, rev=True),
               frame4(47000, 80, c + 1, s + 1, ACK)]
    c, s = c + 1, s + 1
    for i in range(12):  # 12 x 1000 bytes: client wraps after ~4 segments
        frames.append(frame4(47000, 80, c, s, PSH | ACK, bytes([65 + i]) * 1000))
        c += 1000
        frames.append(frame4(80, 47000, s, c, PSH | ACK, b"ok" * 20, rev=True))
        s += 40
    frames += [frame4(47000, 80, c, s, FIN | ACK), frame4(80, 47000, s, c + 1, FIN | ACK, rev=True),
               frame4(47000, 80, c + 1, s + 1, ACK)]
    write(outdir, "seq_wrap.pcap", pcap(frames))

    # --- 65,536 segments on one 4-tuple: handshake, then every client segment a
    # retransmission, with illegal flags (null scan, FIN without ACK, Xmas: no SYN/RST, so
    # the record is never split) every 97th segment to pile up findings and evidence.
    f = session(48000)[:4]
    out = [pcap_header()]
    us = 0
    for fr in f:
        out.append(record(T0 + us // 1000000, us % 1000000, fr))
        us += 1000
    for i in range(65536 - 4):
        if i % 97 == 0:
            fl = (0, FIN | PSH | URG, 0x100)[(i // 97) % 3]
            fr = frame4(48000, 80, 1006, 5006, fl)
        elif i % 2:
            fr = frame4(80, 48000, 5006, 1006, ACK, rev=True)
        else:
            fr = frame4(48000, 80, 1001, 5001, PSH | ACK, b"hello")
        out.append(record(T0 + us // 1000000, us % 1000000, fr))
        us += 100
    write(outdir, "one_tuple_65536.pcap", b"".join(out))


def _ihl(hdr, ihl):
    h = bytearray(hdr)
    h[0] = 0x40 | ihl
    h[10:12] = b"\0\0"
    h[10:12] = struct.pack("!H", csum(bytes(h[:20])))
    return h


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_broken.py OUTDIR")
    generate(sys.argv[1])
