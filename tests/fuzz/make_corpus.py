#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""make_corpus.py - regenerate the fuzz seed corpus from samples/*.pcap.

Writes corpus/decode (link type byte + one frame, re-wrapped for every
supported link type), corpus/engine (fuzz_engine's framed format, one per
sample capture) and corpus/pcap (small whole captures, a pcapng rewrite,
truncated and damaged variants), and corpus/reasm (fuzz_reasm's fragment
sequences, built here, not from samples).  Deterministic; does not remove
inputs that fuzzing added (crash reproducers stay).
corpus/pcapng holds fuzz_pcapng's multi-interface, statistics and damaged pcapng files.
Usage: make_corpus.py [REPO_ROOT] [--only-reasm | --only-pcapng]
"""
import gzip
import hashlib
import os
import struct
import sys
import zlib

ARGS = [a for a in sys.argv[1:] if not a.startswith('--')]
ROOT = ARGS[0] if ARGS else os.path.join(os.path.dirname(__file__), '..', '..')
SAMPLES = os.path.join(ROOT, 'samples')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
# Same order as linktypes[] in fuzz_engine.c (which has room for 16: a nibble), and as the
# start of linktypes[] in fuzz_decode.c ...
ENGINE_LINKTYPES = [0, 1, 10, 12, 14, 101, 108, 113, 228, 229, 276, 147]
# ... whose rest are the PPP family, NFLOG, the 802.11 family, PFLOG, ENC, ARCnet, Juniper,
# IPoIB and ERF.
LINKTYPES = ENGINE_LINKTYPES + [9, 50, 51, 104, 239, 105, 127, 192, 119, 163, 117, 109, 129,
                                178, 242, 197]
# Shapes of IP packet each of those gets (the twelve get every one): the fuzzer mutates them.
SHAPES_PER_LINKTYPE = 6
WLAN = b'\x08\x01\x00\x00' + b'\x02' * 18 + b'\x00\x00'  # data frame to the AP


def snap(et):
    return b'\xaa\xaa\x03\x00\x00\x00' + et


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
    ppp = b'\x00\x57' if v6 else b'\x00\x21'
    if lt in (9, 50):
        return b'\xff\x03' + ppp + ip
    if lt == 51:
        return b'\x11\x00\x00\x01' + struct.pack('>H', len(ip) + 2) + ppp + ip
    if lt == 104:
        return b'\x0f\x00' + et + ip
    if lt == 239:
        return bytes([10 if v6 else 2, 0, 0, 5]) + struct.pack('<HH', len(ip) + 4, 9) + ip
    if lt == 105:
        return WLAN + snap(et) + ip
    if lt == 127:  # Flags: FCS at the end
        frame = WLAN + snap(et) + ip
        return struct.pack('<BBHIB', 0, 0, 9, 2, 0x10) + frame + struct.pack('<I', zlib.crc32(frame))
    if lt == 192:
        return struct.pack('<BBHI', 0, 0, 8, 105) + WLAN + snap(et) + ip
    if lt == 119:
        return struct.pack('<II', 0x44, 144) + bytes(136) + WLAN + snap(et) + ip
    if lt == 163:
        return struct.pack('>II', 0x80211001, 64) + bytes(56) + WLAN + snap(et) + ip
    if lt == 117:
        return bytes([61, 24 if v6 else 2]) + bytes(62) + ip
    if lt == 109:
        return struct.pack('<III', 24 if v6 else 2, 1, 0x0c00) + ip
    if lt == 129:
        return b'\x01\x02\x00\x00' + (b'\xc4' if v6 else b'\xd4') + b'\x00\x00\x01' + ip
    if lt == 178:
        return b'MGC\x80\x00\x03\x05\x01\x00' + b'\x02' * 6 + b'\x04' * 6 + et + ip
    if lt == 242:
        return bytes(40) + et + b'\x00\x00' + ip
    if lt == 197:
        return bytes(8) + struct.pack('>BBHHH', 2, 4, 32 + len(ip), 0, 14 + len(ip)) + \
            b'\x00\x00' + b'\x02' * 6 + b'\x04' * 6 + et + ip
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
                if fr is not None and (t in ENGINE_LINKTYPES or
                                       len(seen_ip) <= SHAPES_PER_LINKTYPE):
                    put('decode', bytes([idx]) + fr, 'lt%d' % t)
            put('decode', bytes([LINKTYPES.index(lt)]) + frame, 'orig-lt%d' % lt)
        if lt not in ENGINE_LINKTYPES:
            # Captures of the other link types (samples/linktype-*.pcap): every frame as it
            # is, beacons and protected frames among them; the engine target cannot take
            # them.
            for _, frame, _ in pkts:
                put('decode', bytes([LINKTYPES.index(lt)]) + frame, 'orig-lt%d' % lt)
        else:
            # engine: the whole capture in the framed format.
            idx = ENGINE_LINKTYPES.index(lt)
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
        if tag in ('close-wait', 'all-in-one'):  # gzip: the inflating stream, and cut short
            z = gzip.compress(raw, mtime=0)
            put('pcap', z, tag + '-gz')
            put('pcap', z[:len(z) // 2], tag + '-gz-cut')
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


# ---- corpus/pcapng: the pcapng reader's blocks, for fuzz_pcapng.c ---------

def opt(code, value):
    return struct.pack('<HH', code, len(value)) + value + b'\x00' * (-len(value) % 4)


def end_opts(*opts):
    return b''.join(opts) + struct.pack('<HH', 0, 0) if opts else b''


def t64(ns, tsresol=9):
    t = ns // (10**9 // 10**tsresol)
    return struct.pack('<II', t >> 32, t & 0xffffffff)


def pcapng_seeds():
    """Several interfaces with their own link type, resolution and snap length, statistics
    blocks, blocks the reader must skip, and damaged variants of them."""
    lt, pkts, _ = read_pcap(os.path.join(SAMPLES, 'close-wait.pcap'))
    shb = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1) +
                end_opts(opt(4, b'fuzz')))
    idb0 = block(1, struct.pack('<HHI', lt, 0, 262144) + end_opts(opt(9, b'\x09'),
                                                                   opt(2, b'veth0')))
    idb1 = block(1, struct.pack('<HHI', 101, 0, 96) + end_opts(opt(9, b'\x06')))  # raw IP, us
    idb2 = block(1, struct.pack('<HHI', 1, 0, 65535) + end_opts(opt(9, b'\x83')))  # 2^-3 s
    out = shb + idb0 + idb1 + idb2
    first, last = pkts[0][0], pkts[-1][0]
    for i, (ts, frame, wl) in enumerate(pkts):
        if i % 3 == 1 and lt == 113:  # the same IP packet on the raw-IP interface, snapped
            ip = frame[16:16 + 96]
            out += block(6, struct.pack('<I', 1) + t64(ts, 6) +
                         struct.pack('<II', len(ip), len(frame) - 16) + ip)
        out += block(6, struct.pack('<I', 0) + t64(ts) + struct.pack('<II', len(frame), wl) + frame)
        if i == 2:
            out += block(0x0BAD, b'unknown block type')  # skipped
            out += block(4, struct.pack('<HH', 1, 4) + b'\x7f\x00\x00\x01' + b'lo\x00\x00')  # NRB
        if i == 4:
            out += block(3, struct.pack('<I', len(frame)) + frame)  # Simple Packet Block
    isb = lambda iface, ts, *o: block(5, struct.pack('<I', iface) + t64(ts) + end_opts(*o))
    stats = out + isb(0, last + 5 * 10**9, opt(2, t64(first)), opt(3, t64(last + 5 * 10**9)),
                      opt(4, struct.pack('<Q', 99)), opt(5, struct.pack('<Q', 1)),
                      opt(7, struct.pack('<Q', 2))) + isb(1, last, opt(3, t64(last, 6)))
    put('pcapng', stats, 'three-interfaces-isb')
    put('pcapng', out, 'three-interfaces-no-isb')
    put('pcapng', stats + shb + idb1 + block(6, struct.pack('<I', 0) + t64(last) +
                                            struct.pack('<II', 20, 20) + bytes(20)),
        'second-section')
    # Big-endian section.
    be = block(0x0A0D0D0A, b'')[:0]
    body = struct.pack('>IHHq', 0x1A2B3C4D, 1, 0, -1)
    be = struct.pack('>II', 0x0A0D0D0A, len(body) + 12) + body + struct.pack('>I', len(body) + 12)
    ib = struct.pack('>HHI', lt, 0, 262144)
    be += struct.pack('>II', 1, len(ib) + 12) + ib + struct.pack('>I', len(ib) + 12)
    for ts, frame, wl in pkts[:4]:
        t = ts // 1000
        eb = struct.pack('>IIIII', 0, t >> 32, t & 0xffffffff, len(frame), wl) + frame
        eb += b'\x00' * (-len(eb) % 4)
        be += struct.pack('>II', 6, len(eb) + 12) + eb + struct.pack('>I', len(eb) + 12)
    put('pcapng', be, 'big-endian')
    # Damage: a cut block, lengths that disagree, an option running past its block, an
    # interface id never declared, a packet before any interface, caplen past the block.
    put('pcapng', stats[:len(stats) - 37], 'cut')
    bad = bytearray(stats)
    bad[len(shb) + len(idb0) + len(idb1) + len(idb2) + 4] ^= 0x40
    put('pcapng', bytes(bad), 'length-mismatch')
    put('pcapng', shb + block(1, struct.pack('<HHI', lt, 0, 0) + struct.pack('<HH', 9, 200)),
        'option-overrun')
    put('pcapng', shb + idb0 + block(6, struct.pack('<I', 7) + t64(first) +
                                     struct.pack('<II', 4, 4) + b'abcd'), 'undeclared-interface')
    put('pcapng', shb + block(6, struct.pack('<I', 0) + t64(first) + struct.pack('<II', 4, 4) +
                              b'abcd'), 'packet-before-idb')
    put('pcapng', shb + idb0 + block(6, struct.pack('<I', 0) + t64(first) +
                                     struct.pack('<II', 4000, 4000) + b'abcd'), 'caplen-past-block')
    put('pcapng', shb + idb0 + isb(0, first, opt(3, t64(first))), 'no-packets-isb')


# ---- corpus/reasm: fragment sequences for fuzz_reasm.c --------------------

def csum16(b):
    s = sum(struct.unpack('>%dH' % (len(b) // 2), b[:len(b) // 2 * 2]))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp_payload(n, seed):
    """A TCP header (ports 40000 -> 80, ACK|PSH) and n - 20 data bytes."""
    hdr = struct.pack('>HHIIBBHHH', 40000, 80, 1000 + seed, 2000, 0x50, 0x18, 65535, 0, 0)
    return hdr + bytes((seed * 7 + i * 13) & 0xff for i in range(n - 20))


def v4_frag(payload, off, n, more, ident=0x1234, proto=6, opts=b'', src=b'\xc0\x00\x02\x01'):
    hl = 20 + len(opts)
    fl = (0x2000 if more else 0) | (off // 8)
    h = struct.pack('>BBHHHBBH4s4s', 0x40 | hl // 4, 0, hl + n, ident, fl, 64, proto, 0, src,
                    b'\xc6\x33\x64\x07') + opts
    h = h[:10] + struct.pack('>H', csum16(h)) + h[12:]
    return h + payload[off:off + n]


V6_SRC = bytes.fromhex('20010db8000000000000000000000001')
V6_DST = bytes.fromhex('20010db8000000000000000000000002')


def v6_frag(rest, off, n, more, ident=0xcafe, ext=True, nh=6):
    """IPv6 [+ hop-by-hop + routing] + fragment header + rest[off:off+n]."""
    unfrag = b''
    first = 44
    if ext:
        first = 0
        unfrag = bytes([43, 0, 1, 4, 0, 0, 0, 0]) + bytes([44, 0, 253, 0, 0, 0, 0, 0])
    fh = struct.pack('>BBHI', nh, 0, off | (1 if more else 0), ident)
    body = unfrag + fh + rest[off:off + n]
    return struct.pack('>IHBB16s16s', 0x60000000, len(body), first, 64, V6_SRC, V6_DST) + body


def v4_split(payload, size, **kw):
    return [v4_frag(payload, o, min(size, len(payload) - o), o + size < len(payload), **kw)
            for o in range(0, len(payload), size)]


def v6_split(rest, size, **kw):
    return [v6_frag(rest, o, min(size, len(rest) - o), o + size < len(rest), **kw)
            for o in range(0, len(rest), size)]


def reasm_input(cfg, frags):
    """cfg byte, then [len][time step][ctx] + fragment per record."""
    out = bytearray([cfg])
    for f in frags:
        pkt, step, ctx = f if isinstance(f, tuple) else (f, 1, 0)
        out += struct.pack('>HBB', len(pkt), step, ctx) + pkt
    return bytes(out)


def reasm_seeds():
    cfg = (29 << 3) | 7  # timeout 30 s, 8 datagrams
    p = tcp_payload(300, 1)
    f = v4_split(p, 96)
    put('reasm', reasm_input(cfg, f), 'v4-in-order')
    put('reasm', reasm_input(cfg, f[::-1]), 'v4-reverse')
    put('reasm', reasm_input(cfg, [f[2], f[0], f[3], f[1]]), 'v4-shuffled')
    put('reasm', reasm_input(cfg, [f[1], f[1], f[0], f[3], f[2], f[0]]), 'v4-duplicates')
    opt = b'\x01\x01\x01\x00'
    put('reasm', reasm_input(cfg, [v4_frag(p, 0, 96, True, opts=opt)] +
                             v4_split(p, 96)[1:]), 'v4-options-first')
    ov = [v4_frag(p, 0, 64, True), v4_frag(p, 40, 104, True), v4_frag(p, 16, 16, True),
          v4_frag(p, 136, 164, False)]
    put('reasm', reasm_input(cfg, ov), 'v4-identical-overlap')
    bad = bytearray(p)
    bad[50] ^= 0xff
    put('reasm', reasm_input(cfg, [v4_frag(p, 0, 64, True), v4_frag(bytes(bad), 40, 104, True),
                                   v4_frag(p, 136, 164, False), v4_frag(p, 40, 104, True)]),
        'v4-conflict')
    put('reasm', reasm_input(cfg, [v4_frag(p, 96, 204, False), v4_frag(p, 96, 196, False),
                                   v4_frag(p, 0, 96, True)]), 'v4-two-ends')
    q = tcp_payload(200, 2)
    g = v4_split(q, 64, ident=7, proto=17)
    mixed = [(x, 1, 0) for pair in zip(f, g) for x in pair]
    mixed += [(x, 0, 9) for x in f]  # same datagram again in another ctx
    put('reasm', reasm_input(cfg, mixed), 'v4-interleaved-ctx')
    put('reasm', reasm_input((1 << 3) | 0, [(f[0], 1, 0), (f[1], 9, 0), (f[2], 0, 0),
                                            (f[3], 255, 0)]), 'v4-timeout')
    put('reasm', reasm_input(0, [f[0], g[0], f[1], g[1], g[2], f[2], f[3], g[3]]), 'v4-evict')
    big = tcp_payload(1480, 3) + bytes(65536)
    pod = [v4_frag(big, 0, 1480, True, ident=9), v4_frag(big, 65496, 20, False, ident=9)]
    put('reasm', reasm_input(cfg, pod), 'v4-too-big')
    whole = v4_frag(p, 0, 300, False)
    put('reasm', reasm_input(cfg, [whole + b'\0' * 6]), 'v4-whole-padded')
    r6 = tcp_payload(400, 4)
    h = v6_split(r6, 104)
    put('reasm', reasm_input(cfg, h), 'v6-ext-in-order')
    put('reasm', reasm_input(cfg, h[::-1] + [h[1]]), 'v6-ext-reverse')
    put('reasm', reasm_input(cfg, v6_split(r6, 64, ext=False)), 'v6-bare')
    put('reasm', reasm_input(cfg, [h[0], h[1], h[1], h[3], h[2]]), 'v6-exact-duplicate')
    put('reasm', reasm_input(cfg, [v6_frag(r6, 0, 104, True), v6_frag(r6, 96, 104, True)] + h[2:]),
        'v6-overlap')
    put('reasm', reasm_input(cfg, [h[0], v6_frag(r6, 0, len(r6), False, ident=5)] + h[1:]),
        'v6-atomic')
    put('reasm', reasm_input(cfg, [v6_frag(bytes(65535), 65528, 7, False, ident=1)]), 'v6-too-big')
    mal = [h[0][:50], h[0][:-1], v4_frag(p, 8, 12, True), v4_frag(p, 8, 0, True),
           h[0][:6] + b'\x06' + h[0][7:], b'\x45']
    put('reasm', reasm_input(cfg, mal), 'malformed')


if __name__ == '__main__':
    if '--only-pcapng' in sys.argv:
        pcapng_seeds()
        sys.exit(0)
    if '--only-reasm' not in sys.argv:
        main()
        pcapng_seeds()
    reasm_seeds()
