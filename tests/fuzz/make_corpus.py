#!/usr/bin/env python3
"""make_corpus.py - regenerate the fuzz seed corpus from samples/*.pcap.

Writes corpus/decode (link type byte + one frame, re-wrapped for every
supported link type), corpus/engine (fuzz_engine's framed format, one per
sample capture) and corpus/pcap (small whole captures, a pcapng rewrite,
truncated and damaged variants).  Deterministic; does not remove inputs that
fuzzing added (crash reproducers stay).  Usage: make_corpus.py [REPO_ROOT]
"""
import hashlib
import os
import struct
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
SAMPLES = os.path.join(ROOT, 'samples')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
# Same order as linktypes[] in fuzz_decode.c / fuzz_engine.c.
LINKTYPES = [0, 1, 10, 12, 14, 101, 108, 113, 228, 229, 276, 147]


def read_pcap(path):
    b = open(path, 'rb').read()
    magic = b[:4]
    e = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    nano = magic in (b'\x4d\x3c\xb2\xa1', b'\xa1\xb2\x3c\x4d')
    lt = struct.unpack(e + 'I', b[20:24])[0] & 0xffff
    off, pkts = 24, []
    while off + 16 <= len(b):
        s, frac, cl, wl = struct.unpack(e + 'IIII', b[off:off + 16])
        off += 16
        ts = s * 10**9 + (frac if nano else frac * 1000)
        pkts.append((ts, b[off:off + cl], wl))
        off += cl
    return lt, pkts, b


def ip_of(lt, frame):
    """The IP packet inside a frame of the sample link types (1, 113, 276)."""
    if lt == 1:
        et, off = struct.unpack('>H', frame[12:14])[0], 14
        while et in (0x8100, 0x88a8):
            et, off = struct.unpack('>H', frame[off + 2:off + 4])[0], off + 4
    elif lt == 113:
        et, off = struct.unpack('>H', frame[14:16])[0], 16
    elif lt == 276:
        et, off = struct.unpack('>H', frame[0:2])[0], 20
    else:
        return None
    return frame[off:] if et in (0x0800, 0x86dd) else None


def wrap(lt, ip):
    """The IP packet as a frame of link type lt."""
    v6 = (ip[0] >> 4) == 6
    et = b'\x86\xdd' if v6 else b'\x08\x00'
    if lt == 0:
        return struct.pack('<I', 30 if v6 else 2) + ip
    if lt == 108:
        return struct.pack('>I', 24 if v6 else 2) + ip
    if lt == 1:
        return b'\x02' * 6 + b'\x04' * 6 + b'\x81\x00\x00\x2a' + et + ip  # one VLAN tag
    if lt == 10:
        return b'\x50' + b'\x02' * 6 + b'\x04' * 6 + b'\xaa\xaa\x03\x00\x00\x00' + et + ip
    if lt == 113:
        return b'\x00\x00\x00\x01\x00\x06' + b'\x02' * 6 + b'\x00\x00' + et + ip
    if lt == 276:
        return et + b'\x00\x00' + b'\x00\x00\x00\x02' + b'\x00\x01\x00\x06' + b'\x02' * 8 + ip
    if lt == 228 and v6 or lt == 229 and not v6:
        return None
    return ip  # 12, 14, 101, 228, 229, unsupported


def put(sub, data, tag):
    d = os.path.join(OUT, sub)
    os.makedirs(d, exist_ok=True)
    name = '%s-%s' % (tag, hashlib.sha1(data).hexdigest()[:12])
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def time_byte(dt):
    """Nearest fuzz_engine time step for a delta in ns."""
    ms = dt // 10**6
    if dt < 0:
        return min(255, 239 + max(1, -dt // 10**9))
    if ms < 128:
        return ms
    if dt < 640 * 10**9:
        return 128 + dt // (10 * 10**9)
    return min(239, 192 + dt // (3600 * 10**9))


def main():
    names = sorted(n for n in os.listdir(SAMPLES) if n.endswith('.pcap'))
    seen_ip = set()
    for n in names:
        lt, pkts, raw = read_pcap(os.path.join(SAMPLES, n))
        tag = n[:-5]
        # decode: each distinct IP packet shape (first 3 per file), every link type.
        for i, (_, frame, _) in enumerate(pkts):
            ip = ip_of(lt, frame)
            if ip is None or i >= 3 or ip[:60] in seen_ip:
                continue
            seen_ip.add(ip[:60])
            for idx, t in enumerate(LINKTYPES):
                fr = wrap(t, ip)
                if fr is not None:
                    put('decode', bytes([idx]) + fr, 'lt%d' % t)
            put('decode', bytes([LINKTYPES.index(lt)]) + frame, 'orig-lt%d' % lt)
        # engine: the whole capture in the framed format.
        idx = LINKTYPES.index(lt)
        out, prev = bytearray([idx]), pkts[0][0] if pkts else 0
        for ts, frame, wl in pkts:
            extra = min(255, max(0, (wl - len(frame) + 3) // 4))
            out += struct.pack('>HBB', len(frame), time_byte(ts - prev), extra) + frame
            prev = ts
        if len(out) < 12000:
            put('engine', bytes(out), tag)
        # pcap: small whole captures and damaged variants.
        if len(raw) <= 5100:
            put('pcap', raw, tag)
        if n in ('close-wait.pcap', 'ipv6-established.pcap', 'all-in-one.pcap'):
            put('pcap', raw[:len(raw) * 2 // 3], tag + '-trunc')
            put('pcap', raw[:24], tag + '-header-only')
            bad = bytearray(raw)
            bad[24 + 8:24 + 12] = b'\xff\xff\x00\x00'  # caplen of record 1 huge
            put('pcap', bytes(bad), tag + '-badcaplen')
            swapped = bytearray(raw)
            swapped[0:4] = raw[0:4][::-1]  # claims the other byte order
            put('pcap', bytes(swapped), tag + '-swapped')
        if n == 'close-wait.pcap':
            put('pcap', pcapng(lt, pkts), tag + '-pcapng')
            put('pcap', pcapng(lt, pkts, tsresol=9), tag + '-pcapng-ns')
    put('pcap', b'\x00' * 40, 'garbage-zero')
    put('pcap', b'\n\r\r\n' + b'\x00' * 20, 'garbage-pcapng')


def block(btype, body):
    body += b'\x00' * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack('<II', btype, n) + body + struct.pack('<I', n)


def pcapng(lt, pkts, tsresol=6):
    shb = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
    opts = b''
    if tsresol != 6:
        opts = struct.pack('<HHB', 9, 1, tsresol) + b'\x00' * 3 + struct.pack('<HH', 0, 0)
    idb = block(1, struct.pack('<HHI', lt, 0, 262144) + opts)
    out = shb + idb
    for ts, frame, wl in pkts:
        t = ts // (10**9 // 10**tsresol)
        out += block(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(frame), wl) + frame)
    return out


if __name__ == '__main__':
    main()
