#!/usr/bin/python3
"""scenario.py - helper programs for samples/make-samples.sh.

Runs the small socket programs that drive each sample scenario (one process
per endpoint, each inside its own network namespace), and the bits of glue the
shell script needs: turning veth offloads off without ethtool, a delaying L2
relay for the simultaneous-close sample, converting `ss -tanH` output into the
.kernel.json ground truth, and checking a finished pcap.

It does not create namespaces, start tcpdump or decide timing; the shell
script does that. Only the Python standard library is used.

Synchronisation with the shell script is by marker files in a directory
(--marks): "<tag>.<role>.ready" (listening), "<tag>.<role>.armed" (waiting for
the "<tag>.go" barrier file) and "<tag>.<role>.done" (the end state the sample
is meant to show has been reached). After "done" a process keeps its sockets
and sleeps until killed, so closing happens only after the capture has ended.
"""

import argparse
import ctypes
import fcntl
import heapq
import json
import os
import select
import signal
import socket
import struct
import sys
import time

REQ_SIZE = 300  # bytes in a request (HTTP-like text, ends with a blank line)
RESP_SIZE = 400  # bytes in a normal response
BIG_RESP_SIZE = 8000  # bytes in the half-close response (several segments)
IO_TIMEOUT = 30.0  # no scenario step may block longer than this

# ---------------------------------------------------------------- payloads


def make_request(kind):
    head = b"GET /%s HTTP/1.0\r\nHost: 198.18.0.2\r\n" % kind.encode()
    head += b"User-Agent: tcpstate-samples\r\n"
    pad_len = REQ_SIZE - len(head) - len(b"X-Pad: \r\n\r\n")
    return head + b"X-Pad: " + b"a" * pad_len + b"\r\n\r\n"


def make_response(size):
    head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
    body = (b"tcpstate sample payload line\n" * (size // 29 + 1))[: size - len(head)]
    return head + body


# ---------------------------------------------------------------- markers


class Marks:
    def __init__(self, directory, tag, role):
        self.dir, self.tag, self.role = directory, tag, role

    def mark(self, what):
        path = os.path.join(self.dir, "%s.%s.%s" % (self.tag, self.role, what))
        with open(path, "w") as f:
            f.write("%.6f\n" % time.time())

    def wait_go(self):
        path = os.path.join(self.dir, "%s.go" % self.tag)
        deadline = time.monotonic() + IO_TIMEOUT
        while not os.path.exists(path):
            if time.monotonic() > deadline:
                die("timed out waiting for barrier %s" % path)
            time.sleep(0.0005)


def die(msg):
    sys.stderr.write("scenario.py: %s\n" % msg)
    sys.exit(1)


def hold_forever(*keep):
    """Keep sockets open and wait to be killed after the capture ended."""
    del keep  # referenced only to keep the objects (and their fds) alive
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        signal.pause()
    die("never killed")


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            die("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_until_eof(sock):
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return buf
        buf += chunk


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


# ---------------------------------------------------------------- endpoints


def run_server(kind, addr, port, marks):
    lst = socket.socket(family_of(addr), socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((addr, port))
    lst.listen(8)
    lst.settimeout(IO_TIMEOUT)
    marks.mark("ready")
    conn, _ = lst.accept()
    conn.settimeout(IO_TIMEOUT)
    # The listener stays open until the process is killed (a real server keeps
    # listening), so LISTEN lines appear in the kernel view too.

    if kind == "client-close":
        recv_exact(conn, REQ_SIZE)
        conn.sendall(make_response(RESP_SIZE))
        rest = recv_until_eof(conn)  # the client closes first
        if rest:
            die("unexpected %d bytes before EOF" % len(rest))
        conn.close()  # CLOSE-WAIT -> LAST-ACK -> CLOSED
        marks.mark("done")
        hold_forever(lst)
    elif kind == "server-close":
        recv_exact(conn, REQ_SIZE)
        conn.sendall(make_response(RESP_SIZE))
        conn.close()  # we close first: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT
        marks.mark("done")
        hold_forever(lst)
    elif kind == "close-wait":
        data = recv_until_eof(conn)  # request, then the client's FIN
        if len(data) != REQ_SIZE:
            die("close-wait: got %d bytes" % len(data))
        marks.mark("done")
        hold_forever(lst, conn)  # never close: stays in CLOSE-WAIT
    elif kind == "half-close":
        data = recv_until_eof(conn)  # request and FIN (client did SHUT_WR)
        if len(data) != REQ_SIZE:
            die("half-close: got %d bytes" % len(data))
        conn.sendall(make_response(BIG_RESP_SIZE))  # data after the peer's FIN
        conn.close()
        marks.mark("done")
        hold_forever(lst)
    elif kind == "rst-abort":
        recv_exact(conn, REQ_SIZE)
        conn.sendall(make_response(RESP_SIZE))
        try:
            extra = conn.recv(1)
            die("rst-abort: expected a reset, got %r" % extra)
        except ConnectionResetError:
            pass
        conn.close()
        marks.mark("done")
        hold_forever(lst)
    elif kind == "established":
        recv_exact(conn, REQ_SIZE)
        conn.sendall(make_response(RESP_SIZE))
        marks.mark("done")
        hold_forever(lst, conn)
    elif kind == "simultaneous-close":
        recv_exact(conn, REQ_SIZE)
        conn.sendall(make_response(RESP_SIZE))
        marks.mark("armed")
        marks.wait_go()
        conn.close()
        marks.mark("done")
        hold_forever(lst)
    else:
        die("unknown server kind %s" % kind)


def run_client(kind, addr, port, marks):
    sock = socket.socket(family_of(addr), socket.SOCK_STREAM)
    if kind == "syn-unanswered":
        # The end state (SYN-SENT) is reached the moment connect() starts; the
        # shell script times the capture end between two retransmissions.
        sock.settimeout(120)
        marks.mark("done")
        try:
            sock.connect((addr, port))
        except OSError as e:
            die("syn-unanswered: connect ended early: %s" % e)
        die("syn-unanswered: connect succeeded")
    sock.settimeout(IO_TIMEOUT)
    if kind == "refused":
        try:
            sock.connect((addr, port))
            die("refused: connect succeeded")
        except ConnectionRefusedError:
            pass
        sock.close()
        marks.mark("done")
        hold_forever()
    sock.connect((addr, port))
    req = make_request(kind)

    if kind == "client-close":
        sock.sendall(req)
        recv_exact(sock, RESP_SIZE)
        sock.close()  # we close first: ends in TIME-WAIT
        marks.mark("done")
    elif kind == "server-close":
        sock.sendall(req)
        data = recv_until_eof(sock)
        if len(data) != RESP_SIZE:
            die("server-close: got %d bytes" % len(data))
        sock.close()  # CLOSE-WAIT -> LAST-ACK -> CLOSED
        marks.mark("done")
    elif kind == "close-wait":
        sock.sendall(req)
        sock.close()  # orphaned, stays in FIN-WAIT-2 for tcp_fin_timeout
        marks.mark("done")
    elif kind == "half-close":
        sock.sendall(req)
        sock.shutdown(socket.SHUT_WR)
        data = recv_until_eof(sock)
        if len(data) != BIG_RESP_SIZE:
            die("half-close: got %d bytes" % len(data))
        sock.close()
        marks.mark("done")
    elif kind == "rst-abort":
        sock.sendall(req)
        recv_exact(sock, RESP_SIZE)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # linger {1, 0}: abortive close, sends RST
        marks.mark("done")
    elif kind == "established":
        sock.sendall(req)
        recv_exact(sock, RESP_SIZE)
        marks.mark("done")
        hold_forever(sock)
    elif kind == "simultaneous-close":
        sock.sendall(req)
        recv_exact(sock, RESP_SIZE)
        marks.mark("armed")
        marks.wait_go()
        sock.close()
        marks.mark("done")
    else:
        die("unknown client kind %s" % kind)
    hold_forever()


# ---------------------------------------------------------------- offloads

SIOCETHTOOL = 0x8946
# Legacy ethtool "set" commands taking struct ethtool_value {u32 cmd, data}.
ETHTOOL_SETTERS = [
    ("tx-checksum", 0x17),  # ETHTOOL_STXCSUM: else outgoing frames carry partial checksums
    ("scatter-gather", 0x19),  # ETHTOOL_SSG
    ("tso", 0x1F),  # ETHTOOL_STSO
    ("gso", 0x24),  # ETHTOOL_SGSO
    ("gro", 0x2C),  # ETHTOOL_SGRO
]


def offloads_off(dev):
    """Same as `ethtool -K dev tx off sg off tso off gso off gro off`."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    failed = []
    for name, cmd in ETHTOOL_SETTERS:
        val = ctypes.create_string_buffer(struct.pack("II", cmd, 0), 8)
        ifr = struct.pack("16sP", dev.encode(), ctypes.addressof(val)).ljust(40, b"\0")
        try:
            fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
        except OSError as e:
            failed.append("%s (%s)" % (name, e.strerror))
    s.close()
    if failed:
        sys.stderr.write("scenario.py: %s: could not disable %s\n" % (dev, ", ".join(failed)))
    # 1 = tx checksum offload was turned off, which is the one that matters
    return 0 if not any(f.startswith("tx-checksum") for f in failed) else 1


# ---------------------------------------------------------------- relay

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def relay(if_a, if_b, delay):
    """Forward every frame between two interfaces after a fixed delay.

    Runs in a namespace of its own between client and server, acting as a slow
    wire. veth alone delivers in microseconds, too fast for two FINs to cross.
    """
    socks = {}
    for name in (if_a, if_b):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((name, 0))
        socks[name] = s
    other = {if_a: socks[if_b], if_b: socks[if_a]}
    by_fd = {s.fileno(): n for n, s in socks.items()}
    queue = []  # (due, seq, out_socket, frame)
    seq = 0
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        ready, _, _ = select.select(list(socks.values()), [], [], timeout)
        for s in ready:
            frame, addr = s.recvfrom(65536)
            if addr[2] == PACKET_OUTGOING:  # our own forwarded frames
                continue
            seq += 1
            heapq.heappush(queue, (time.monotonic() + delay, seq, other[by_fd[s.fileno()]], frame))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, frame = heapq.heappop(queue)
            out.send(frame)


# ---------------------------------------------------------------- ss -> json


def split_endpoint(text):
    """'198.18.0.1:41234' / '[2001:db8::1]:80' / '*:*' -> (addr, port or None)."""
    addr, _, port = text.rpartition(":")
    if addr.startswith("[") and addr.endswith("]"):
        addr = addr[1:-1]
    if "%" in addr:  # link-local scope suffix, e.g. fe80::1%veth0
        addr = addr.split("%", 1)[0]
    return addr, (int(port) if port.isdigit() else None)


def ss_to_json(files):
    out = []
    for ns, path in files:
        with open(path) as f:
            for line in f:
                fields = line.split()
                if not fields:
                    continue
                if len(fields) < 5:
                    die("unexpected ss line: %r" % line)
                state, recv_q, send_q, local, peer = fields[:5]
                laddr, lport = split_endpoint(local)
                paddr, pport = split_endpoint(peer)
                out.append(
                    {
                        "ns": ns,
                        "state": state,
                        "local": local,
                        "peer": peer,
                        "local_addr": laddr,
                        "local_port": lport,
                        "peer_addr": paddr,
                        "peer_port": pport,
                        "recv_q": int(recv_q),
                        "send_q": int(send_q),
                    }
                )
    return out


# ---------------------------------------------------------------- pcap check

LINKTYPES = {
    1: "EN10MB (Ethernet)",
    113: "LINUX_SLL (Linux cooked v1)",
    276: "LINUX_SLL2 (Linux cooked v2)",
}


def pcap_check(path, before):
    """Print link type and packet count; fail if a packet is newer than `before`."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        die("%s: no pcap header" % path)
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        die("%s: not a pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    off, count, last = 24, 0, 0.0
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off : off + 16])
        last = sec + frac / (1e9 if nano else 1e6)
        off += 16 + incl
        count += 1
    if off != len(data):
        die("%s: truncated record at end" % path)
    name = LINKTYPES.get(linktype, "?")
    print("linktype=%d %s packets=%d last=%.6f" % (linktype, name, count, last))
    if before is not None and last >= before:
        die("%s: packet at %.6f is not before the ss reading at %.6f" % (path, last, before))
    return 0


# ---------------------------------------------------------------- verify


def read_pcap(path):
    """Yield (linktype, ts, frame) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[off : off + 16])
        yield linktype, sec + frac / (1e9 if nano else 1e6), data[off + 16 : off + 16 + incl]
        off += 16 + incl


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


class Seg:
    """One decoded TCP segment (only what the checks below need)."""

    FLAGS = "FSRPAU"

    def __init__(self, ts, src, sport, dst, dport, seq, ack, flags, plen, csum_ok):
        self.ts, self.src, self.sport, self.dst, self.dport = ts, src, sport, dst, dport
        self.seq, self.ack, self.flags, self.plen, self.csum_ok = seq, ack, flags, plen, csum_ok

    def has(self, letter):
        return bool(self.flags & (1 << self.FLAGS.index(letter)))

    def flagstr(self):
        return "".join(c for i, c in enumerate(self.FLAGS) if self.flags & (1 << i)) or "."


def decode(linktype, ts, frame):
    """Return (Seg or None, kind) where kind names non-TCP frames."""
    if linktype == 1:
        ethertype, l3 = struct.unpack("!H", frame[12:14])[0], frame[14:]
    elif linktype == 113:
        ethertype, l3 = struct.unpack("!H", frame[14:16])[0], frame[16:]
    elif linktype == 276:
        ethertype, l3 = struct.unpack("!H", frame[0:2])[0], frame[20:]
    else:
        return None, "linktype %d" % linktype
    if ethertype == 0x0800:
        ihl = (l3[0] & 0x0F) * 4
        total = struct.unpack("!H", l3[2:4])[0]
        if l3[9] != 6:
            return None, "ipv4 proto %d" % l3[9]
        src = socket.inet_ntop(socket.AF_INET, l3[12:16])
        dst = socket.inet_ntop(socket.AF_INET, l3[16:20])
        tcp = l3[ihl:total]
        pseudo = l3[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    elif ethertype == 0x86DD:
        if l3[6] != 6:
            return None, "ipv6 next header %d" % l3[6]
        plen = struct.unpack("!H", l3[4:6])[0]
        src = socket.inet_ntop(socket.AF_INET6, l3[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, l3[24:40])
        tcp = l3[40 : 40 + plen]
        pseudo = l3[8:40] + struct.pack("!IxxxB", len(tcp), 6)
    elif ethertype == 0x0806:
        return None, "arp"
    else:
        return None, "ethertype 0x%04x" % ethertype
    sport, dport, seq, ack, off_flags = struct.unpack("!HHIIH", tcp[:14])
    hlen = (off_flags >> 12) * 4
    csum_ok = checksum(pseudo + tcp) == 0xFFFF
    seg = Seg(ts, src, sport, dst, dport, seq, ack, off_flags & 0x3F, len(tcp) - hlen, csum_ok)
    return seg, "tcp"


CLIENT_ADDRS = ("198.18.0.1", "2001:db8::1")


def verify(name, pcap, kernel_path):
    """Check that a sample shows what its scenario is meant to show; print a summary."""
    segs, other = [], {}
    for linktype, ts, frame in read_pcap(pcap):
        seg, kind = decode(linktype, ts, frame)
        if seg:
            segs.append(seg)
        else:
            other[kind] = other.get(kind, 0) + 1
    with open(kernel_path) as f:
        kernel = json.load(f)
    errors = []

    def expect(cond, what):
        if not cond:
            errors.append(what)

    # Group by connection, oriented client -> server.
    flows = {}
    for s in segs:
        if s.src in CLIENT_ADDRS:
            key = (s.src, s.sport, s.dst, s.dport)
        else:
            key = (s.dst, s.dport, s.src, s.sport)
        flows.setdefault(key, []).append(s)
    for key, fs in sorted(flows.items(), key=lambda kv: kv[1][0].ts):
        seq = " ".join(
            ("c:" if s.src == key[0] else "s:") + s.flagstr() + ("+%d" % s.plen if s.plen else "")
            for s in fs
        )
        print("  %s:%d > %s:%d  %d pkts  %s" % (key[0], key[1], key[2], key[3], len(fs), seq))
    if other:
        print("  non-TCP frames: %s" % ", ".join("%s x%d" % kv for kv in sorted(other.items())))
    for e in kernel:
        print("  kernel %-6s %-11s %s -> %s" % (e["ns"], e["state"], e["local"], e["peer"]))
    bad = sum(1 for s in segs if not s.csum_ok)
    if bad:
        print("  WARNING: %d TCP segments with a wrong checksum (offloads still on?)" % bad)

    conns = [e for e in kernel if e["state"] != "LISTEN"]
    kstate = sorted((e["ns"], e["state"]) for e in conns)

    def one_flow():
        expect(len(flows) == 1, "expected exactly one connection, got %d" % len(flows))
        return next(iter(flows.items())) if flows else ((None,) * 4, [])

    def fins(fs, key, from_client):
        return [s for s in fs if s.has("F") and (s.src == key[0]) == from_client]

    def rsts(fs):
        return [s for s in fs if s.has("R")]

    single = ("client-close", "server-close", "half-close", "rst-abort", "ipv6-established")
    if name in single + ("simultaneous-close",):
        key, fs = one_flow()
        c_data = sum(s.plen for s in fs if s.src == key[0])
        s_data = sum(s.plen for s in fs if s.src != key[0])
        expect(c_data == REQ_SIZE, "client sent %d bytes, expected %d" % (c_data, REQ_SIZE))
        want = BIG_RESP_SIZE if name == "half-close" else RESP_SIZE
        expect(s_data == want, "server sent %d bytes, expected %d" % (s_data, want))
        biggest = max((s.plen for s in fs), default=0)
        expect(biggest <= 1460, "%d-byte segment: offloads still on?" % biggest)
    if name == "client-close":
        cf, sf = fins(fs, key, True), fins(fs, key, False)
        expect(len(cf) == 1 and len(sf) == 1, "expected one FIN each way")
        expect(cf and sf and cf[0].ts < sf[0].ts, "client FIN should come first")
        expect(not rsts(fs), "unexpected RST")
        expect(kstate == [("client", "TIME-WAIT")], "kernel: %s" % kstate)
    elif name == "server-close":
        cf, sf = fins(fs, key, True), fins(fs, key, False)
        expect(len(cf) == 1 and len(sf) == 1, "expected one FIN each way")
        expect(cf and sf and sf[0].ts < cf[0].ts, "server FIN should come first")
        expect(not rsts(fs), "unexpected RST")
        expect(kstate == [("server", "TIME-WAIT")], "kernel: %s" % kstate)
    elif name == "close-wait":
        key, fs = one_flow()
        expect(len(fins(fs, key, True)) == 1, "expected exactly one client FIN")
        expect(not fins(fs, key, False), "server must not send a FIN")
        expect(not rsts(fs), "unexpected RST")
        want = [("client", "FIN-WAIT-2"), ("server", "CLOSE-WAIT")]
        expect(kstate == want, "kernel: %s" % kstate)
    elif name == "half-close":
        cf = fins(fs, key, True)
        expect(len(cf) == 1, "expected one client FIN")
        after = sum(s.plen for s in fs if s.src != key[0] and cf and s.ts > cf[0].ts)
        expect(after == BIG_RESP_SIZE, "server data after the client FIN: %d bytes" % after)
        expect(len(fins(fs, key, False)) == 1, "expected one server FIN")
        expect(kstate == [("client", "TIME-WAIT")], "kernel: %s" % kstate)
    elif name == "rst-abort":
        r = rsts(fs)
        expect(len(r) == 1 and r[0].src == key[0], "expected one RST, from the client")
        expect(not any(s.has("F") for s in fs), "unexpected FIN")
        expect(kstate == [], "kernel: %s" % kstate)
    elif name == "refused":
        key, fs = one_flow()
        expect([s.flagstr() for s in fs] == ["S", "RA"], "expected SYN then RST+ACK")
        expect(kernel == [], "kernel: %s" % kernel)
    elif name == "syn-unanswered":
        key, fs = one_flow()
        expect(all(s.src == key[0] and s.flagstr() == "S" for s in fs), "only client SYNs expected")
        expect(len(fs) == 4, "expected 4 SYNs (3 retransmissions), got %d" % len(fs))
        expect(len({s.seq for s in fs}) == 1, "retransmitted SYNs must share the ISN")
        expect(kstate == [("client", "SYN-SENT")], "kernel: %s" % kstate)
    elif name == "ipv6-established":
        expect(":" in key[0], "expected IPv6")
        expect(not any(s.has("F") or s.has("R") for s in fs), "unexpected FIN/RST")
        expect(kstate == [("client", "ESTAB"), ("server", "ESTAB")], "kernel: %s" % kstate)
    elif name == "simultaneous-close":
        cf, sf = fins(fs, key, True), fins(fs, key, False)
        expect(len(cf) == 1 and len(sf) == 1, "expected one FIN each way")
        if len(cf) == 1 and len(sf) == 1:
            # Crossing: neither FIN acknowledges the other one.
            expect(cf[0].ack == sf[0].seq and sf[0].ack == cf[0].seq, "FINs did not cross")
        expect(kstate == [("client", "TIME-WAIT"), ("server", "TIME-WAIT")], "kernel: %s" % kstate)
    elif name == "all-in-one":
        expect(len(flows) == 4, "expected 4 connections, got %d" % len(flows))
        expect(
            kstate == [("client", "FIN-WAIT-2"), ("client", "TIME-WAIT"), ("server", "CLOSE-WAIT")],
            "kernel: %s" % kstate,
        )
    else:
        errors.append("no checks for %s" % name)
    for e in errors:
        print("  FAIL: %s" % e)
    print("  %s: %s" % (name, "ok" if not errors else "%d problem(s)" % len(errors)))
    return 1 if errors else 0


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for role in ("server", "client"):
        p = sub.add_parser(role)
        p.add_argument("kind")
        p.add_argument("--addr", required=True)
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--marks", required=True)
        p.add_argument("--tag", required=True)
    p = sub.add_parser("offloads-off")
    p.add_argument("dev")
    p = sub.add_parser("relay")
    p.add_argument("if_a")
    p.add_argument("if_b")
    p.add_argument("--delay", type=float, default=0.05)
    p = sub.add_parser("ssjson")
    p.add_argument("--client", required=True)
    p.add_argument("--server", required=True)
    p = sub.add_parser("verify")
    p.add_argument("name")
    p.add_argument("pcap")
    p.add_argument("kernel")
    p = sub.add_parser("pcapcheck")
    p.add_argument("pcap")
    p.add_argument("--before", type=float)
    a = ap.parse_args()

    if a.cmd in ("server", "client"):
        marks = Marks(a.marks, a.tag, a.cmd)
        (run_server if a.cmd == "server" else run_client)(a.kind, a.addr, a.port, marks)
        return 0
    if a.cmd == "offloads-off":
        return offloads_off(a.dev)
    if a.cmd == "relay":
        relay(a.if_a, a.if_b, a.delay)
        return 0
    if a.cmd == "ssjson":
        entries = ss_to_json([("client", a.client), ("server", a.server)])
        json.dump(entries, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if a.cmd == "verify":
        return verify(a.name, a.pcap, a.kernel)
    if a.cmd == "pcapcheck":
        return pcap_check(a.pcap, a.before)
    return 2


if __name__ == "__main__":
    sys.exit(main())
