#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make-linktypes.py - samples/linktype-<name>.pcap: close-wait.pcap's frames in other link types.

close-wait.pcap is a kernel-made Ethernet capture (2 ARP + 7 TCP frames) whose truth is
close-wait.kernel.json; its link layer does not change what the kernel's sockets did, so each
linktype-<name>.pcap keeps that truth (linktype-<name>.kernel.json links to it).  For every
link type below each frame's payload (IP, or ARP where the link carries it) gets that link
type's header, the frames keep their timestamps, and text2pcap (Wireshark) writes the file
(but for ERF, see write()):

  ieee802-11    IEEE802_11 (105): plain data frames; the server's frames come over a
                wireless distribution system (four addresses)
  radiotap      IEEE802_11_RADIO (127): radiotap (TSFT, Flags, Rate, Channel, signal), QoS
                data with their FCS, one with HT control; plus a beacon, a protected frame
                and a QoS null frame, none of them IP
  ppi           PPI (192): 802.11-Common field with FCS present, plain data frames
  prism         PRISM_HEADER (119): the 144-byte Prism monitor header
  avs           IEEE802_11_RADIO_AVS (163): AVS version 1 header
  pflog         PFLOG (117): the 61-byte pflog header (padded to 64), IP only
  enc           ENC (109): OpenBSD enc(4) header, IP only
  arcnet        ARCNET_LINUX (129): RFC 1201 framing; ARP rewritten for ARCnet addresses
  juniper-ether JUNIPER_ETHER (178): "MGC" header with extension TLVs, then the Ethernet frame
  ipoib         IPOIB (242): 40-byte pseudo-header, RFC 4391 header; ARP rewritten for IPoIB
  erf           ERF (197): Ethernet records with their FCS; the server's with an extension header

Deterministic: the same close-wait.pcap gives the same files.  Needs text2pcap (Debian's
wireshark-common).  usage: samples/make-linktypes.py [SAMPLES_DIR]
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import zlib

SAMPLES = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
SOURCE = "close-wait"
BSSID = bytes.fromhex("020000000aaa")
WDS_PEER = bytes.fromhex("020000000bbb")  # the far end of the wireless distribution system
BCAST = b"\xff" * 6


def read_pcap(path):
    """(ts_sec, ts_usec, frame) of a microsecond pcap file in either byte order."""
    b = open(path, "rb").read()
    e = "<" if b[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off, out = 24, []
    while off + 16 <= len(b):
        sec, usec, cl, _ = struct.unpack(e + "IIII", b[off:off + 16])
        out.append((sec, usec, b[off + 16:off + 16 + cl]))
        off += 16 + cl
    return out


def junk(n, seed):
    """n bytes that look random and are the same on every run."""
    out = b""
    while len(out) < n:
        out += hashlib.sha256(seed + len(out).to_bytes(4, "big")).digest()
    return out[:n]


def fcs(frame):
    return struct.pack("<I", zlib.crc32(frame))


class Frame:
    """One Ethernet frame of the source capture, taken apart."""

    def __init__(self, sec, usec, raw):
        self.sec, self.usec, self.raw = sec, usec, raw
        self.dst, self.src = raw[0:6], raw[6:12]
        self.etype = struct.unpack(">H", raw[12:14])[0]
        self.payload = raw[14:]
        if self.etype == 0x0800:  # IP total length: drop Ethernet padding
            self.payload = self.payload[:struct.unpack(">H", self.payload[2:4])[0]]
        self.ip = self.etype in (0x0800, 0x86DD)

    def ts(self, d_usec=0):
        t = self.sec * 1000000 + self.usec + d_usec
        return t // 1000000, t % 1000000


# ---- 802.11 ----------------------------------------------------------------------------

def snap(etype, payload):
    return b"\xaa\xaa\x03\x00\x00\x00" + struct.pack(">H", etype) + payload


def wlan(fr, client, seq, qos=False, htc=False, wds=False):
    """A data frame: the client's go to the AP (ToDS), the server's come from it (FromDS), or
    over a wireless distribution system with four addresses."""
    flags = 0x01 if fr.src == client else 0x02
    if fr.src == client:
        addrs = BSSID + fr.src + fr.dst
    elif wds:
        flags = 0x03
        addrs = BSSID + WDS_PEER + fr.dst + fr.src  # receiver, transmitter, DA, SA
    else:
        addrs = fr.dst + BSSID + fr.src
    fc = 0x88 if qos else 0x08
    if htc:
        flags |= 0x80  # Order: HT control follows QoS control
    addrs = addrs[:18] + struct.pack("<H", seq << 4) + addrs[18:]
    hdr = bytes([fc, flags]) + struct.pack("<H", 44) + addrs
    if qos:
        hdr += b"\x00\x00" + (b"\x00\x00\x00\x00" if htc else b"")
    return hdr + snap(fr.etype, fr.payload)


def beacon(seq, tsf):
    body = struct.pack("<QHH", tsf, 100, 0x0411)
    body += b"\x00\x0ctcpstate-lab"
    body += b"\x01\x08\x82\x84\x8b\x96\x0c\x12\x18\x24"
    body += b"\x03\x01\x06"
    body += bytes.fromhex("30140100000fac040100000fac040100000fac020000")  # RSN: CCMP, PSK
    return bytes([0x80, 0x00, 0, 0]) + BCAST + BSSID + BSSID + struct.pack("<H", seq << 4) + body


def protected(client, server, seq):
    """A QoS data frame with the Protected bit: CCMP header, ciphertext, MIC."""
    hdr = bytes([0x88, 0x41, 44, 0]) + BSSID + client + server + struct.pack("<H", seq << 4)
    hdr += b"\x00\x00"
    ccmp = bytes([0x07, 0x00, 0x00, 0x20, 0, 0, 0, 0])
    return hdr + ccmp + junk(96, b"ciphertext") + junk(8, b"mic")


def qos_null(client, seq):
    return bytes([0xc8, 0x11, 44, 0]) + BSSID + client + BSSID + struct.pack("<H", seq << 4) + \
        b"\x00\x00"


def radiotap(tsf, with_fcs):
    """TSFT, Flags, Rate, Channel (2437 MHz, 2 GHz OFDM), antenna signal: 23 bytes."""
    present = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 5)
    return struct.pack("<BBHI", 0, 0, 23, present) + struct.pack(
        "<QBBHHb", tsf, 0x10 if with_fcs else 0, 108, 2437, 0x00c0, -41)


def ppi(tsf):
    common = struct.pack("<QHHHHBBbb", tsf, 0x0001, 108, 2437, 0x00c0, 0, 0, -41, -95)
    return struct.pack("<BBHI", 0, 0, 8 + 4 + len(common), 105) + struct.pack(
        "<HH", 2, len(common)) + common


def prism(tsf, frmlen):
    hdr = struct.pack("<II", 0x44, 144) + b"wlan0".ljust(16, b"\0")
    items = [(1, tsf & 0xFFFFFFFF), (2, tsf & 0xFFFFFFFF), (3, 6), (4, 56), (5, 0), (6, 56),
             (7, 0), (8, 108), (9, 0), (10, frmlen)]
    for did, val in items:
        hdr += struct.pack("<IHHI", (did << 16) | 0x44, 0, 4, val)
    return hdr


def avs(tsf):
    return struct.pack(">IIQQIIIIIIiiII", 0x80211001, 64, tsf, tsf, 4, 6, 540, 0, 0, 2,
                       -41, -95, 0, 1)


def build_80211(frames, lt, client, server):
    out, seq = [], 1
    tsf0 = 1_000_000
    for i, fr in enumerate(frames):
        tsf = tsf0 + (fr.sec * 1000000 + fr.usec) % 1000000
        if lt == "ieee802-11":
            out.append((fr.ts(), wlan(fr, client, seq, wds=True)))
        elif lt == "radiotap":
            if i == 0:  # the AP's beacon, just before the first frame
                b = beacon(seq + 100, tsf - 500)
                out.append((fr.ts(-500), radiotap(tsf - 500, True) + b + fcs(b)))
            w = wlan(fr, client, seq, qos=True, htc=(i == 5))
            out.append((fr.ts(), radiotap(tsf, True) + w + fcs(w)))
            if i == 6:  # a station of the same BSS sends something we cannot read
                p = protected(bytes.fromhex("02000000cccc"), server, 7)
                out.append((fr.ts(5), radiotap(tsf + 5, True) + p + fcs(p)))
            if i == 7:  # the client tells the AP it is still there
                n = qos_null(client, seq + 50)
                out.append((fr.ts(5), radiotap(tsf + 5, True) + n + fcs(n)))
        elif lt == "ppi":
            w = wlan(fr, client, seq)
            out.append((fr.ts(), ppi(tsf) + w + fcs(w)))
        elif lt == "prism":
            w = wlan(fr, client, seq)
            out.append((fr.ts(), prism(tsf, len(w)) + w))
        elif lt == "avs":
            out.append((fr.ts(), avs(tsf) + wlan(fr, client, seq)))
        seq += 1
    return out


# ---- the others -----------------------------------------------------------------------

def arp_rewrite(payload, htype, hw):
    """An Ethernet ARP packet with the hardware addresses of another link (hw maps MACs)."""
    op = payload[6:8]
    sha, spa, tha, tpa = payload[8:14], payload[14:18], payload[18:24], payload[24:28]
    h = hw(sha)
    return struct.pack(">HHBB", htype, 0x0800, len(h), 4) + op + h + spa + hw(tha) + tpa


def build_other(frames, lt, client):
    out = []
    arc_addr = {client: b"\x01"}
    ib_qpn = {client: 0x48}

    def arc(mac):
        return arc_addr.get(mac, b"\x02" if mac != b"\0" * 6 else b"\x00")

    def ib(mac):
        qpn = ib_qpn.get(mac, 0x49 if mac != b"\0" * 6 else 0)
        return struct.pack(">I", qpn) + bytes.fromhex("fe800000000000000002c903000a") + mac[4:6]

    for i, fr in enumerate(frames):
        inbound = fr.src == client  # as a box in front of the server sees it
        if lt == "pflog":
            if not fr.ip:
                continue
            hdr = struct.pack(">BBBB16s16sIIIiIIB3x", 61, 2, 0, 0, b"vio0", b"", 3, 0xFFFFFFFF,
                              0xFFFFFFFF, -1, 0, 0, 1 if inbound else 2)
            out.append((fr.ts(), hdr + fr.payload))
        elif lt == "enc":
            if not fr.ip:
                continue
            out.append((fr.ts(), struct.pack(">III", 2, 0x1000 + (0 if inbound else 1), 0x0c00)
                        + fr.payload))
        elif lt == "arcnet":
            src, dst = arc(fr.src), arc(fr.dst) if fr.dst != BCAST else b"\x00"
            if fr.ip:
                body = b"\xd4\x00" + struct.pack(">H", i + 1) + fr.payload
            else:
                body = b"\xd5\x00" + struct.pack(">H", i + 1) + arp_rewrite(fr.payload, 7, arc)
            out.append((fr.ts(), src + dst + b"\x00\x00" + body))
        elif lt == "juniper-ether":
            tlvs = struct.pack("<BBI", 1, 4, 7) + struct.pack("<BBB", 3, 1, 1) + \
                struct.pack("<BBB", 5, 1, 0)
            hdr = b"MGC" + bytes([0x80 | (1 if inbound else 0)]) + struct.pack(">H", len(tlvs))
            out.append((fr.ts(), hdr + tlvs + fr.raw))
        elif lt == "ipoib":
            pseudo = b"\0" * 20 + ib(fr.dst if fr.dst != BCAST else b"\0" * 6)
            payload = fr.payload if fr.ip else arp_rewrite(fr.payload, 32, ib)
            out.append((fr.ts(), pseudo + struct.pack(">HH", fr.etype, 0) + payload))
        elif lt == "erf":
            eth = fr.raw + fcs(fr.raw)
            ext = b"" if inbound else struct.pack(">BB6s", 0x11, 1, bytes.fromhex("0000c0ffee01"))  # host ID
            rlen = 16 + len(ext) + 2 + len(eth)
            ts = (fr.sec << 32) | (fr.usec << 32) // 1000000
            rec = struct.pack("<Q", ts) + struct.pack(
                ">BBHHH", 0x02 | (0x80 if ext else 0), 0x04 | (0 if inbound else 1), rlen, 0,
                len(eth))
            out.append((fr.ts(), rec + ext + b"\x00\x00" + eth))
    return out


LINKTYPES = {  # name: (LINKTYPE number, builder)
    "ieee802-11": (105, build_80211), "radiotap": (127, build_80211), "ppi": (192, build_80211),
    "prism": (119, build_80211), "avs": (163, build_80211), "pflog": (117, build_other),
    "enc": (109, build_other), "arcnet": (129, build_other),
    "juniper-ether": (178, build_other), "ipoib": (242, build_other), "erf": (197, build_other),
}


def write_pcap(path, lt, records):
    """A classic microsecond pcap file, little-endian, snaplen 262144 as text2pcap's."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, lt))
        for (sec, usec), data in records:
            fh.write(struct.pack("<IIII", sec, usec, len(data), len(data)) + data)


def write(path, lt, records):
    """text2pcap writes the file: one line a frame, its time and its bytes.  Not for ERF:
    Wireshark's pcap writer puts an ERF header of its own (from the record's metadata, all
    zeros here) before each record's bytes."""
    if lt == 197:
        write_pcap(path, lt, records)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        for (sec, usec), data in records:
            fh.write("%d.%06d %s\n" % (sec, usec, data.hex()))
        txt = fh.name
    try:
        subprocess.run(["text2pcap", "-q", "-F", "pcap", "-l", str(lt), "-t", "%s.%f", "-r",
                        r"^(?<time>\d+\.\d+) (?<data>[0-9a-f]+)$", txt, path],
                       check=True, env=dict(os.environ, TZ="UTC"), stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    finally:
        os.unlink(txt)


def main():
    frames = [Frame(*r) for r in read_pcap(os.path.join(SAMPLES, SOURCE + ".pcap"))]
    first_tcp = next(f for f in frames if f.ip)
    client = first_tcp.src  # the SYN's sender
    server = first_tcp.dst
    for name, (lt, builder) in LINKTYPES.items():
        if builder is build_80211:
            records = build_80211(frames, name, client, server)
        else:
            records = build_other(frames, name, client)
        path = os.path.join(SAMPLES, "linktype-%s.pcap" % name)
        write(path, lt, records)
        truth = os.path.join(SAMPLES, "linktype-%s.kernel.json" % name)
        if not os.path.lexists(truth):
            os.symlink(SOURCE + ".kernel.json", truth)
        print("%s: %d frames, %d bytes" % (os.path.basename(path), len(records),
                                           os.path.getsize(path)))


if __name__ == "__main__":
    main()
