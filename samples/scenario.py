#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""scenario.py - helper programs for samples/make-samples.sh.

Runs the small socket programs that drive each sample scenario (one process
per endpoint, each inside its own network namespace; for syn-flood-lite a raw
socket sending bare SYNs), and the bits of glue the shell script needs:
turning veth offloads off without ethtool, a delaying L2 relay for the
simultaneous-close sample, converting `ss -tanH` output into the .kernel.json
ground truth, and checking a finished pcap.

It does not create namespaces, start tcpdump, add iptables rules or decide
timing; the shell script does that. Only the Python standard library is used.

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
import random
import select
import signal
import socket
import struct
import sys
import termios
import time

REQ_SIZE = 300  # bytes in a request (HTTP-like text, ends with a blank line)
RESP_SIZE = 400  # bytes in a normal response
BIG_RESP_SIZE = 8000  # bytes in the half-close response (several segments)
IO_TIMEOUT = 30.0  # no scenario step may block longer than this

# Anomaly samples (see README.md, "Anomaly samples").
LATE_CHUNKS = 3  # close-wait-stuck: segments the server sends after the client's FIN ...
LATE_CHUNK_SIZE = 100  # ... of this many bytes each
ZW_RCVBUF = 2048  # zero-window: receiver SO_RCVBUF (the kernel doubles it)
ZW_SNDBUF = 4096  # zero-window: sender SO_SNDBUF, so send() soon runs into EAGAIN
RETRANS_RESP_SIZE = 150000  # retransmissions: bytes in the response (about 104 segments)
RST_CHUNK = 500  # rst-abort-unacked: the client sends this much every 50 ms ...
RST_UNREAD = 2000  # ... and the server resets once this much lies unread in its socket
REFUSED_TRIES = 3  # refused-retry: connection attempts to the closed port
FLOOD_SYNS = 30  # syn-flood-lite: SYNs from distinct source ports ...
FLOOD_SPREAD = 0.9  # ... sent within this many seconds

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


ANOMALY_SERVERS = ("listen-only", "close-wait-stuck", "zero-window", "retransmissions",
                   "rst-abort-unacked", "half-open-stale")
ANOMALY_CLIENTS = ("close-wait-stuck", "fin-wait-2-stuck", "fin-wait-1-stuck", "last-ack-stuck",
                   "syn-received", "zero-window", "retransmissions", "keepalive",
                   "rst-abort-unacked", "refused-retry", "syn-flood-lite", "half-open-stale")


def run_server(kind, addr, port, marks):
    if kind in ANOMALY_SERVERS:
        run_anomaly_server(kind, addr, port, marks)
        return
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
    if kind in ANOMALY_CLIENTS:
        run_anomaly_client(kind, addr, port, marks)
        return
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


# ---------------------------------------------------------------- anomaly endpoints
#
# Socket programs for the anomaly samples. Kinds that need no new program reuse the ones
# above (the make-samples.sh scenario functions say which). Some of these rely on iptables
# rules the shell script inserts in a namespace at a "<tag>.go" barrier.


def listener(addr, port, rcvbuf=None):
    lst = socket.socket(family_of(addr), socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf is not None:
        # Set before listen() so that accepted sockets inherit it and the window scale of the
        # SYN-ACK is chosen for it.
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    lst.bind((addr, port))
    lst.listen(8)
    lst.settimeout(IO_TIMEOUT)
    return lst


def accept(lst):
    conn, _ = lst.accept()
    conn.settimeout(IO_TIMEOUT)
    return conn


def late_chunk(i):
    text = b"late data %d after your FIN\n" % i
    return (text * (LATE_CHUNK_SIZE // len(text) + 1))[:LATE_CHUNK_SIZE]


def unread_bytes(sock):
    buf = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def run_anomaly_server(kind, addr, port, marks):
    if kind == "listen-only":
        # syn-received: the handshake never completes (the client's ACK is dropped), so there
        # is nothing to accept; the request socket sits in SYN-RECV.
        lst = listener(addr, port)
        marks.mark("ready")
        hold_forever(lst)
    lst = listener(addr, port, ZW_RCVBUF if kind == "zero-window" else None)
    marks.mark("ready")
    conn = accept(lst)
    if kind == "close-wait-stuck":
        data = recv_until_eof(conn)  # request, then the client's FIN (it did SHUT_WR)
        if len(data) != REQ_SIZE:
            die("close-wait-stuck: got %d bytes" % len(data))
        # A little more data after the peer's FIN, but never our own FIN.
        for i in range(LATE_CHUNKS):
            time.sleep(0.5 if i == 0 else 1.0)
            conn.sendall(late_chunk(i))
        marks.mark("done")
        hold_forever(lst, conn)  # CLOSE-WAIT until killed
    elif kind == "zero-window":
        marks.mark("done")  # never reads: the receive buffer fills, the window closes
        hold_forever(lst, conn)
    elif kind == "retransmissions":
        recv_exact(conn, REQ_SIZE)
        conn.sendall(make_response(RETRANS_RESP_SIZE))
        conn.close()  # server closes first: ends in TIME-WAIT
        marks.mark("done")
        hold_forever(lst)
    elif kind == "rst-abort-unacked":
        deadline = time.monotonic() + IO_TIMEOUT
        while unread_bytes(conn) < RST_UNREAD:
            if time.monotonic() > deadline:
                die("rst-abort-unacked: only %d bytes arrived" % unread_bytes(conn))
            time.sleep(0.005)
        # close() with unread data sends a RST instead of a FIN (RFC 2525 section 2.17; Linux
        # tcp_close()): what happens when a server process dies while the client sends.
        conn.close()
        marks.mark("done")
        hold_forever(lst)
    elif kind == "half-open-stale":
        # The first connection is never closed here: the client's abort (RST) is dropped in
        # its namespace, so this side stays ESTABLISHED until the client's RST answering the
        # challenge ACK ends it. The client's second connect, from the same port, is the
        # next accept.
        recv_exact(conn, REQ_SIZE)
        conn.sendall(make_response(RESP_SIZE))
        again = accept(lst)
        recv_exact(again, REQ_SIZE)
        again.sendall(make_response(RESP_SIZE))
        rest = recv_until_eof(again)
        if rest:
            die("half-open-stale: unexpected %d bytes before EOF" % len(rest))
        again.close()
        marks.mark("done")
        hold_forever(lst, conn)
    else:
        die("unknown server kind %s" % kind)


def run_anomaly_client(kind, addr, port, marks):
    if kind == "refused-retry":
        # An application retrying a refused connect(): each try is a new socket, so a new
        # ephemeral port and ISN.
        for i in range(REFUSED_TRIES):
            if i:
                time.sleep(0.2)
            sock = socket.socket(family_of(addr), socket.SOCK_STREAM)
            sock.settimeout(IO_TIMEOUT)
            try:
                sock.connect((addr, port))
                die("refused-retry: connect succeeded")
            except ConnectionRefusedError:
                pass
            sock.close()
        marks.mark("done")
        hold_forever()
    if kind == "syn-flood-lite":
        syn_flood(addr, port)
        marks.mark("done")
        hold_forever()
    if kind == "half-open-stale":
        half_open_stale_client(addr, port, marks)
    sock = socket.socket(family_of(addr), socket.SOCK_STREAM)
    sock.settimeout(IO_TIMEOUT)
    if kind == "zero-window":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, ZW_SNDBUF)
    elif kind == "keepalive":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
    sock.connect((addr, port))
    req = make_request(kind)

    if kind == "close-wait-stuck":
        sock.sendall(req)
        sock.shutdown(socket.SHUT_WR)  # FIN-WAIT-1 -> FIN-WAIT-2, can still receive
        recv_exact(sock, LATE_CHUNKS * LATE_CHUNK_SIZE)
        marks.mark("done")
        hold_forever(sock)  # not orphaned: FIN-WAIT-2 has no timeout
    elif kind == "fin-wait-2-stuck":
        sock.sendall(req)
        sock.shutdown(socket.SHUT_WR)
        marks.mark("done")
        hold_forever(sock)
    elif kind in ("fin-wait-1-stuck", "last-ack-stuck"):
        # The shell script adds the iptables rule between "armed" and "go".
        sock.sendall(req)
        recv_exact(sock, RESP_SIZE)
        marks.mark("armed")
        marks.wait_go()
        sock.close()
        marks.mark("done")
        hold_forever()
    elif kind == "syn-received":
        # connect() returned: this side is ESTABLISHED, but its ACK never left the namespace.
        # Send nothing, so no other segment can complete the server's handshake.
        marks.mark("done")
        hold_forever(sock)
    elif kind == "zero-window":
        sock.setblocking(False)
        sent = 0
        chunk = make_response(1000)
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                break  # send buffer full: the peer's window has closed
            if time.monotonic() > deadline:
                die("zero-window: send buffer never filled")
        sys.stderr.write("zero-window: %d bytes accepted by send()\n" % sent)
        marks.mark("done")
        hold_forever(sock)
    elif kind == "retransmissions":
        sock.sendall(req)
        data = recv_until_eof(sock)
        if len(data) != RETRANS_RESP_SIZE:
            die("retransmissions: got %d bytes" % len(data))
        sock.close()
        marks.mark("done")
        hold_forever()
    elif kind == "keepalive":
        sock.sendall(req)
        recv_exact(sock, RESP_SIZE)
        marks.mark("done")
        hold_forever(sock)  # idle: keep-alive probes every second
    elif kind == "rst-abort-unacked":
        chunk = (req * (RST_CHUNK // len(req) + 1))[:RST_CHUNK]
        for _ in range(200):
            try:
                sock.sendall(chunk)
            except (ConnectionResetError, BrokenPipeError):
                break
            time.sleep(0.05)
        else:
            die("rst-abort-unacked: never reset")
        sock.close()
        marks.mark("done")
        hold_forever()
    else:
        die("unknown client kind %s" % kind)


def half_open_stale_client(addr, port, marks):
    """One exchange, then an abort whose RST the shell script's iptables rule drops (the
    server keeps the connection: half-open); then, after "go", a new connect from the same
    local port. The server answers its SYN with a challenge ACK of the old connection, the
    kernel answers that with <SEQ=SEG.ACK><CTL=RST> and stays in SYN-SENT, and its SYN
    timer, re-armed to its minimum (TCP_TIMEOUT_MIN: "a previous RST might be ignored"),
    sends the SYN again a few milliseconds later, which completes the connection."""
    first = socket.socket(family_of(addr), socket.SOCK_STREAM)
    first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    first.settimeout(IO_TIMEOUT)
    first.connect((addr, port))
    local = first.getsockname()[:2]
    first.sendall(make_request("half-open-stale"))
    recv_exact(first, RESP_SIZE)
    # SO_LINGER 0: close() sends a RST and leaves no TIME-WAIT, so the port is free again.
    first.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    first.close()
    marks.mark("armed")
    marks.wait_go()
    sock = socket.socket(family_of(addr), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.settimeout(IO_TIMEOUT)
    sock.bind(local)
    sock.connect((addr, port))
    sock.sendall(make_request("half-open-stale"))
    recv_exact(sock, RESP_SIZE)
    sock.close()  # the client closes first: ends in TIME-WAIT
    marks.mark("done")
    hold_forever()



def ip_checksum(data):
    return ~checksum(data) & 0xFFFF


def syn_flood(addr, port):
    """Send FLOOD_SYNS bare SYNs from distinct source ports through a raw IPv4 socket.

    No TCP socket exists for them, so there are no retransmissions; the server namespace drops
    them, so nothing answers (a SYN-ACK would draw a RST from this kernel).
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.connect((addr, 9))  # only to learn the source address; sends nothing
    src = socket.inet_aton(probe.getsockname()[0])
    probe.close()
    dst = socket.inet_aton(addr)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # = IP_HDRINCL
    rng = random.SystemRandom()
    for i, sport in enumerate(rng.sample(range(32768, 61000), FLOOD_SYNS)):
        if i:
            time.sleep(FLOOD_SPREAD / (FLOOD_SYNS - 1))
        opts = struct.pack("!BBH", 2, 4, 1460)  # MSS 1460, as the kernel would send
        offset = (20 + len(opts)) // 4 << 4
        isn = rng.getrandbits(32)
        tcp = struct.pack("!HHIIBBHHH", sport, port, isn, 0, offset, 0x02, 64240, 0, 0) + opts
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", ip_checksum(pseudo + tcp)) + tcp[18:]
        # Version 4, IHL 5, DF, TTL 64; the kernel would fill in the checksum, but do it here.
        ip_id, proto = rng.getrandbits(16), socket.IPPROTO_TCP
        ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), ip_id, 0x4000, 64, proto, 0)
        ip += src + dst
        ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
        raw.sendto(ip + tcp, (addr, 0))
    raw.close()


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

    def __init__(self, ts, src, sport, dst, dport, seq, ack, flags, plen, csum_ok, win=0):
        self.ts, self.src, self.sport, self.dst, self.dport = ts, src, sport, dst, dport
        self.seq, self.ack, self.flags, self.plen, self.csum_ok = seq, ack, flags, plen, csum_ok
        self.win = win  # raw window field (not scaled)

    def has(self, letter):
        return bool(self.flags & (1 << self.FLAGS.index(letter)))

    def flagstr(self):
        return "".join(c for i, c in enumerate(self.FLAGS) if self.flags & (1 << i)) or "."


def decode(linktype, ts, frame):
    """Return (Seg or None, kind) where kind names non-TCP frames.

    Works on snapped frames too: the payload length comes from the IP header, and csum_ok
    is None when the segment was not captured whole.
    """
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
        tcp, tcp_len = l3[ihl:total], total - ihl
        pseudo = l3[12:20] + struct.pack("!BBH", 0, 6, tcp_len)
    elif ethertype == 0x86DD:
        if l3[6] != 6:
            return None, "ipv6 next header %d" % l3[6]
        plen = struct.unpack("!H", l3[4:6])[0]
        src = socket.inet_ntop(socket.AF_INET6, l3[8:24])
        dst = socket.inet_ntop(socket.AF_INET6, l3[24:40])
        tcp, tcp_len = l3[40 : 40 + plen], plen
        pseudo = l3[8:40] + struct.pack("!IxxxB", tcp_len, 6)
    elif ethertype == 0x0806:
        return None, "arp"
    else:
        return None, "ethertype 0x%04x" % ethertype
    sport, dport, seq, ack, off_flags, win = struct.unpack("!HHIIHH", tcp[:16])
    hlen = (off_flags >> 12) * 4
    csum_ok = checksum(pseudo + tcp) == 0xFFFF if len(tcp) == tcp_len else None
    flags = off_flags & 0x3F
    seg = Seg(ts, src, sport, dst, dport, seq, ack, flags, tcp_len - hlen, csum_ok, win)
    return seg, "tcp"


CLIENT_ADDRS = ("198.18.0.1", "2001:db8::1")


ANOMALY_PORT, NORMAL_PORT = 8080, 8081


def seq_after(a, b):
    """a > b in 32-bit sequence space (RFC 9293 section 3.4)."""
    return a != b and ((a - b) & 0xFFFFFFFF) < 0x80000000


def verify_anomaly(name, flows, kernel, max_caplen, expect):
    """Checks for the anomaly-* samples: the anomaly on port 8080, the normal one on 8081."""
    segs = sorted((s for fs in flows.values() for s in fs), key=lambda s: s.ts)
    last_ts = segs[-1].ts if segs else 0.0  # where an analyzer's capture ends
    main = {k: fs for k, fs in flows.items() if k[3] == ANOMALY_PORT}
    normal = {k: fs for k, fs in flows.items() if k[3] == NORMAL_PORT}
    expect(len(main) + len(normal) == len(flows), "connections on unexpected ports")

    def kstate(port):
        return sorted(
            (e["ns"], e["state"])
            for e in kernel
            if e["state"] != "LISTEN" and port in (e["local_port"], e["peer_port"])
        )

    # The normal connection: the client-close exchange, nothing repeated, nothing reset.
    expect(len(normal) == 1, "expected one normal connection on %d" % NORMAL_PORT)
    for key, fs in normal.items():
        flags = [("c:" if s.src == key[0] else "s:") + s.flagstr() for s in fs]
        expect(flags[:3] == ["c:S", "s:SA", "c:A"], "normal: handshake %s" % flags[:3])
        expect([f for f in flags if "F" in f] == ["c:FA", "s:FA"], "normal: not one FIN each")
        expect(flags[-1] == "c:A" and not [f for f in flags if "R" in f], "normal: bad ending")
        c_data = sum(s.plen for s in fs if s.src == key[0])
        s_data = sum(s.plen for s in fs if s.src != key[0])
        expect((c_data, s_data) == (REQ_SIZE, RESP_SIZE), "normal: %d/%d bytes" % (c_data, s_data))
        sent = [(s.src, s.seq, s.plen, s.flags) for s in fs if s.plen or s.flags & 3]
        expect(len(sent) == len(set(sent)), "normal: a segment was retransmitted")
    expect(kstate(NORMAL_PORT) == [("client", "TIME-WAIT")], "kernel, normal: %s" % kstate(8081))

    k = kstate(ANOMALY_PORT)
    if name in ("anomaly-refused-retry", "anomaly-syn-flood-lite"):
        n = REFUSED_TRIES if name == "anomaly-refused-retry" else FLOOD_SYNS
        want = ["S", "RA"] if name == "anomaly-refused-retry" else ["S"]
        expect(len(main) == n, "expected %d connections, got %d" % (n, len(main)))
        expect(len({key[1] for key in main}) == len(main), "client ports repeat")
        for key, fs in main.items():
            got = [s.flagstr() for s in fs]
            expect(got == want, "port %d: %s" % (key[1], " ".join(got)))
        firsts = sorted(fs[0].ts for fs in main.values())
        if firsts:
            print("  %d attempts within %.3f s; capture goes on %.3f s after the last"
                  % (len(firsts), firsts[-1] - firsts[0], last_ts - firsts[-1]))
        if name == "anomaly-syn-flood-lite" and firsts:
            expect(firsts[-1] - firsts[0] <= 1.5, "SYNs spread over more than 1.5 s")
            expect(last_ts - firsts[-1] >= 6.5, "capture ends too soon after the last SYN")
        expect(k == [], "kernel: %s" % k)
        return

    expect(len(main) == 1, "expected one connection on %d, got %d" % (ANOMALY_PORT, len(main)))
    if not main:
        return
    key, fs = next(iter(main.items()))
    cl = [s for s in fs if s.src == key[0]]
    sv = [s for s in fs if s.src != key[0]]
    cfin = [s for s in cl if s.has("F")]
    sfin = [s for s in sv if s.has("F")]
    rst = [s for s in fs if s.has("R")]
    c_end = max(((s.seq + s.plen) & 0xFFFFFFFF for s in cl if not s.has("S")), default=None)

    def held(since, what, at_least):
        span = last_ts - since
        print("  %s: %.3f s before the last packet" % (what, span))
        expect(span >= at_least, "%s only %.3f s (want >= %.1f)" % (what, span, at_least))

    if name in ("anomaly-close-wait-stuck", "anomaly-fin-wait-2-stuck"):
        expect(len(cfin) == 1 and not sfin and not rst, "expected one client FIN, no other FIN/RST")
        if cfin:
            after = sum(s.plen for s in sv if s.ts > cfin[0].ts)
            print("  server payload after the client's FIN: %d bytes" % after)
            want = LATE_CHUNKS * LATE_CHUNK_SIZE if name == "anomaly-close-wait-stuck" else 0
            expect(after == want, "server sent %d bytes after the FIN, want %d" % (after, want))
            fin_acked = [s for s in sv if s.ack == (cfin[0].seq + 1) & 0xFFFFFFFF]
            expect(fin_acked, "the client's FIN was not acknowledged")
            held(cfin[0].ts if "close-wait" in name else fin_acked[0].ts if fin_acked else 0,
                 "CLOSE-WAIT" if "close-wait" in name else "FIN-WAIT-2", 6.5)
        expect(k == [("client", "FIN-WAIT-2"), ("server", "CLOSE-WAIT")], "kernel: %s" % k)
    elif name == "anomaly-fin-wait-1-stuck":
        expect(len(cfin) >= 4 and len({s.seq for s in cfin}) == 1,
               "expected >= 4 copies of one client FIN, got %d" % len(cfin))
        expect(not sfin and not rst, "unexpected server FIN or RST")
        if cfin:
            expect(not [s for s in sv if s.ts > cfin[0].ts], "server segments after the FIN")
            print("  client FIN sent %d times" % len(cfin))
            held(cfin[0].ts, "FIN-WAIT-1", 6.5)
        expect(k == [("client", "FIN-WAIT-1"), ("server", "CLOSE-WAIT")], "kernel: %s" % k)
    elif name == "anomaly-last-ack-stuck":
        expect(len(cfin) == 1 and not rst, "expected one client FIN and no RST")
        expect(len(sfin) >= 4 and len({s.seq for s in sfin}) == 1,
               "expected >= 4 copies of one server FIN, got %d" % len(sfin))
        if cfin and sfin:
            expect(sfin[0].ack == (cfin[0].seq + 1) & 0xFFFFFFFF, "server FIN does not ack")
            expect(not [s for s in cl if s.ts > sfin[0].ts], "client segments after the FIN")
            print("  server FIN sent %d times" % len(sfin))
            held(sfin[0].ts, "LAST-ACK", 6.5)
        expect(k == [("client", "TIME-WAIT"), ("server", "LAST-ACK")], "kernel: %s" % k)
    elif name == "anomaly-syn-received":
        expect([s.flagstr() for s in cl] == ["S"], "client sent more than its SYN")
        expect(sv and all(s.flagstr() == "SA" for s in sv), "server sent more than SYN-ACKs")
        expect(len(sv) >= 3 and len({s.seq for s in sv}) == 1,
               "expected >= 3 copies of one SYN-ACK, got %d" % len(sv))
        if sv:
            print("  SYN-ACK sent %d times" % len(sv))
            held(sv[0].ts, "SYN-RECEIVED", 7.0)
        expect(k == [("client", "ESTAB"), ("server", "SYN-RECV")], "kernel: %s" % k)
    elif name == "anomaly-zero-window":
        zero = [s for s in sv if s.win == 0 and not s.has("S")]
        expect(len(zero) >= 3, "expected >= 3 zero-window segments, got %d" % len(zero))
        if zero and c_end is not None:
            later = [s for s in cl if s.ts > zero[0].ts]
            probes = [s for s in later if s.plen == 0 and s.seq == (c_end - 1) & 0xFFFFFFFF]
            expect(len(probes) >= 3, "expected >= 3 probes at SND.NXT-1, got %d" % len(probes))
            expect(len(probes) == len(later), "client sent other segments while window closed")
            expect(not any(s.plen for s in later), "data into the closed window")
            print("  %d bytes sent, %d zero-window segments, %d probes"
                  % (sum(s.plen for s in cl), len(zero), len(probes)))
            held(zero[0].ts, "window closed", 6.5)
        expect(not cfin and not sfin and not rst, "unexpected FIN or RST")
        expect(k == [("client", "ESTAB"), ("server", "ESTAB")], "kernel: %s" % k)
    elif name == "anomaly-retransmissions":
        expect(max_caplen <= 96, "frames of %d bytes: snaplen 96 expected" % max_caplen)
        top, ranges, rtx, fast = None, set(), 0, 0
        for i, s in enumerate(fs):
            if s.src == key[0] or not s.plen:
                continue
            ranges.add((s.seq, s.plen))
            end = (s.seq + s.plen) & 0xFFFFFFFF
            if top is not None and seq_after(top, s.seq):
                rtx += 1
                # Loss recovery driven by duplicate ACKs (fast retransmit, RFC 5681 section
                # 3.2; SACK/RACK-TLP on Linux) rather than by the retransmission timer: the
                # client had acknowledged up to the missing segment at least twice.
                dups = [p for p in fs[:i] if p.src == key[0] and not p.plen and p.ack == s.seq]
                fast += len(dups) >= 2
            if top is None or seq_after(end, top):
                top = end
        data = sum(n for _, n in ranges)
        print("  response: %d bytes, %d retransmitted segments" % (data, rtx))
        print("  %d of them after a duplicate ACK for their own sequence number" % fast)
        expect(data == RETRANS_RESP_SIZE, "response bytes %d" % data)
        expect(rtx >= 3, "only %d retransmissions" % rtx)
        expect(fast >= 1, "no fast retransmission")
        expect(len(cfin) == 1 and len(sfin) >= 1 and not rst, "expected an orderly close")
        expect(k == [("server", "TIME-WAIT")], "kernel: %s" % k)
    elif name == "anomaly-keepalive":
        exchange_end = max(s.ts for s in fs if s.plen) if any(s.plen for s in fs) else 0.0
        later = [s for s in fs if s.ts > exchange_end]
        probes = [s for s in later if s.src == key[0] and s.plen == 0
                  and c_end is not None and s.seq == (c_end - 1) & 0xFFFFFFFF]
        answers = [s for s in later if s.src != key[0] and s.ack == c_end]
        print("  %d keep-alives, %d answered" % (len(probes), len(answers)))
        expect(len(probes) >= 3, "expected >= 3 keep-alives, got %d" % len(probes))
        expect(len(answers) >= len(probes), "unanswered keep-alives")
        expect(len(probes) + len(answers) >= len(later) - 1, "other segments while idle")
        expect(not cfin and not sfin and not rst, "unexpected FIN or RST")
        expect(k == [("client", "ESTAB"), ("server", "ESTAB")], "kernel: %s" % k)
    elif name == "anomaly-half-open-stale":
        got = [("c:" if s.src == key[0] else "s:") + s.flagstr() for s in fs]
        expect(got[:6] == ["c:S", "s:A", "c:R", "c:S", "s:SA", "c:A"],
               "expected SYN, stale ACK, RST, SYN again, SYN-ACK, ACK: %s" % " ".join(got[:6]))
        if len(fs) >= 4:
            expect(fs[2].seq == fs[1].ack, "the RST is not at the stale ACK's number")
            expect(fs[3].seq == fs[0].seq, "the SYN again has another ISN")
            expect(seq_after(fs[1].ack, fs[0].seq + 1) or seq_after(fs[0].seq, fs[1].ack),
                   "the stale ACK acknowledges the new SYN")
        c_data = sum(s.plen for s in cl)
        s_data = sum(s.plen for s in sv)
        expect((c_data, s_data) == (REQ_SIZE, RESP_SIZE), "%d/%d bytes" % (c_data, s_data))
        expect(len(cfin) == 1 and len(rst) == 1, "expected one client FIN and one RST")
        expect(k == [("client", "TIME-WAIT")], "kernel: %s" % k)
    elif name == "anomaly-rst-abort-unacked":
        c_data = sum(s.plen for s in cl)
        expect(c_data >= RST_UNREAD, "client sent only %d bytes" % c_data)
        expect(not any(s.plen for s in sv), "server sent data")
        expect(len(rst) == 1 and rst[0].src != key[0] and rst[0].flagstr() == "RA",
               "expected one RST+ACK from the server")
        expect(not cfin and not sfin, "unexpected FIN")
        if rst:
            expect(rst[0] is fs[-1], "segments after the RST")
            expect(rst[0].ack == c_end, "RST does not ack all client data")
            print("  RST after %d client bytes (all acknowledged, never read)" % c_data)
        expect(k == [], "kernel: %s" % k)
    else:
        expect(False, "no checks for %s" % name)


def verify(name, pcap, kernel_path):
    """Check that a sample shows what its scenario is meant to show; print a summary."""
    segs, other, max_caplen = [], {}, 0
    for linktype, ts, frame in read_pcap(pcap):
        max_caplen = max(max_caplen, len(frame))
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
            for s in fs[:40]
        )
        if len(fs) > 40:
            seq += " ... (%d more)" % (len(fs) - 40)
        print("  %s:%d > %s:%d  %d pkts  %s" % (key[0], key[1], key[2], key[3], len(fs), seq))
    if other:
        print("  non-TCP frames: %s" % ", ".join("%s x%d" % kv for kv in sorted(other.items())))
    for e in kernel:
        print("  kernel %-6s %-11s %s -> %s" % (e["ns"], e["state"], e["local"], e["peer"]))
    bad = sum(1 for s in segs if s.csum_ok is False)
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
    elif name.startswith("anomaly-"):
        verify_anomaly(name, flows, kernel, max_caplen, expect)
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
