#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""make-crafted.py - write samples/crafted-anomalies.pcap, hand-made TCP anomalies.

Some anomalies of docs/anomalies.md cannot be produced on demand by a Linux stack (it never
sends a SYN+FIN, a SYN-ACK with a wrong ACK, data beyond its own FIN ...), so this script
builds the frames itself: one small TCP connection per scenario, each on its own server port,
in one classic pcap (Ethernet, microsecond timestamps). Every frame has correct IPv4 and TCP
checksums except the corrupted segment of the bad_checksum scenario.

It does not send anything, needs no privileges and uses only the Python standard library.
The output is deterministic (fixed capture times, ISNs, IP IDs, MAC addresses and payloads):
running it twice gives the same bytes, so golden reports built from the file stay valid.

Addresses: client 198.18.0.1, server 198.18.0.2 (RFC 2544 benchmarking range). The scenario
on server port 9000+N uses client port 50000+N. Inside a scenario packets are 2 ms apart
unless noted (so the handshake round trip, SYN to the client's first ACK, is 4 ms); each
scenario starts on a whole second, at least 1 s after the previous one ended.

Usage: python3 samples/make-crafted.py [OUTPUT]   (default: crafted-anomalies.pcap next to
this script). samples/README.md, "Crafted anomalies", lists what each port should raise.
"""

import os
import struct
import sys

CLIENT_IP = bytes([198, 18, 0, 1])
SERVER_IP = bytes([198, 18, 0, 2])
CLIENT_MAC = bytes.fromhex("020000000001")  # locally administered
SERVER_MAC = bytes.fromhex("020000000002")
BASE_TS = 1767225600  # 2026-01-01 00:00:00 UTC, capture time of the first scenario
STEP = 0.002  # seconds between two packets of a scenario unless stated otherwise

FIN, SYN, RST, PSH, ACK, URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
FLAG_LETTERS = {"F": FIN, "S": SYN, "R": RST, "P": PSH, "A": ACK, "U": URG}

CLIENT_WIN = 64240  # Linux's usual SYN window (unscaled)
SERVER_WIN = 65160

# ---------------------------------------------------------------- TCP options


def opt_mss(mss=1460):
    return struct.pack("!BBH", 2, 4, mss)


def opt_wscale(shift):
    return struct.pack("!BBBB", 1, 3, 3, shift)  # NOP + window scale (RFC 7323 2.2)


def opt_ts(tsval, tsecr):
    return struct.pack("!BBBBII", 1, 1, 8, 10, tsval, tsecr)  # NOP NOP + timestamps


# ---------------------------------------------------------------- frame building


def csum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_frame(src, dst, smac, dmac, sport, dport, seq, ack, flags, win, opts, payload, ip_id,
              urg=0, corrupt=False):
    """Ethernet + IPv4 (DF, TTL 64) + TCP. corrupt: flip a payload bit after the checksum."""
    if len(opts) % 4:
        opts += b"\0" * (4 - len(opts) % 4)  # EOL padding (RFC 9293 3.1)
    off = (20 + len(opts)) // 4
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, win, 0, urg) + opts + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    if corrupt:
        # A bit flipped in transit: the checksum no longer matches the payload.
        i = 20 + len(opts)
        tcp = tcp[:i] + bytes([tcp[i] ^ 0x04]) + tcp[i + 1:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp


class Capture:
    def __init__(self):
        self.records = []  # (microseconds, frame)
        self.ip_id = {"c": 0x1000, "s": 0x8000}
        self.t = BASE_TS * 1000000  # capture time in microseconds (integers: no drift)

    def write(self, path):
        out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # LINKTYPE_ETHERNET
        for usec, frame in self.records:
            out.append(struct.pack("<IIII", usec // 1000000, usec % 1000000, len(frame),
                                   len(frame)) + frame)
        data = b"".join(out)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return len(data)


def client_isn(n):
    return 0x0A004321 + (n << 24)  # fixed per scenario, easy to tell apart in a dump


def server_isn(n):
    return 0x5A008765 + (n << 24)


class Conn:
    """One TCP connection; tracks both sides' SND.NXT so defaults are the natural values."""

    def __init__(self, cap, n, cwin=CLIENT_WIN, swin=SERVER_WIN):
        self.cap = cap
        self.port = {"c": 50000 + n, "s": 9000 + n}
        self.nxt = {"c": client_isn(n), "s": server_isn(n)}
        self.win = {"c": cwin, "s": swin}
        self.first = True

    def send(self, side, flags, data=b"", seq=None, ack=None, win=None, opts=b"", dt=STEP,
             urg=0, corrupt=False):
        """Emit one segment from side 'c' or 's'; flags in tcpdump letters ("SA", "PA", "")."""
        peer = "s" if side == "c" else "c"
        fl = 0
        for ch in flags:
            fl |= FLAG_LETTERS[ch]
        if seq is None:
            seq = self.nxt[side]
        if ack is None:
            ack = self.nxt[peer] if fl & ACK else 0
        if win is None:
            win = self.win[side]
        if not self.first:
            self.cap.t += round(dt * 1000000)
        self.first = False
        cip = self.cap.ip_id
        src, dst = (CLIENT_IP, SERVER_IP) if side == "c" else (SERVER_IP, CLIENT_IP)
        smac, dmac = (CLIENT_MAC, SERVER_MAC) if side == "c" else (SERVER_MAC, CLIENT_MAC)
        frame = tcp_frame(src, dst, smac, dmac, self.port[side], self.port[peer], seq, ack, fl,
                          win, opts, data, cip[side], urg, corrupt)
        cip[side] = (cip[side] + 1) & 0xFFFF
        self.cap.records.append((self.cap.t, frame))
        if not fl & RST:
            end = (seq + len(data) + (1 if fl & SYN else 0) + (1 if fl & FIN else 0)) & 0xFFFFFFFF
            if ((end - self.nxt[side]) & 0xFFFFFFFF) < 0x80000000:
                self.nxt[side] = end

    def c(self, flags, data=b"", **kw):
        self.send("c", flags, data, **kw)

    def s(self, flags, data=b"", **kw):
        self.send("s", flags, data, **kw)

    def lost(self, side, nbytes):
        """Bytes the side sent that the capture did not see (only SND.NXT moves)."""
        self.nxt[side] = (self.nxt[side] + nbytes) & 0xFFFFFFFF

    def handshake(self, copts=None, sopts=None, cwin=None, swin=None):
        self.c("S", opts=opt_mss() if copts is None else copts, win=cwin or CLIENT_WIN)
        self.s("SA", opts=opt_mss() if sopts is None else sopts, win=swin or SERVER_WIN)
        self.c("A")

    def client_close(self):
        """Orderly close started by the client: FIN, FIN, ACK (RFC 9293 3.6 figure 12)."""
        self.c("FA")
        self.s("FA")
        self.c("A")


def request(n):
    return b"GET /%d HTTP/1.0\r\n\r\n" % (9000 + n)


def response(n, size=48):
    head = b"HTTP/1.0 200 OK\r\n\r\n"
    body = (b"port %d " % (9000 + n)) * (size // 10 + 1)
    return head + body[:size - len(head)]


# ---------------------------------------------------------------- scenarios
# Each takes the capture and its number N (server port 9000+N).


def clean(cap, n):
    """Handshake, request/response, client-initiated orderly close: must raise nothing."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    k.s("A")
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


def synack_wrong_ack(cap, n):
    """The SYN-ACK acknowledges an old duplicate SYN (RFC 9293 3.5 figure 9), not ISN+1: the
    client, in SYN-SENT, answers the unacceptable ACK with <SEQ=SEG.ACK><CTL=RST>."""
    k = Conn(cap, n)
    old = k.nxt["c"] - 0x00123456  # the ISN of an earlier incarnation's SYN
    k.c("S", opts=opt_mss())
    k.s("SA", opts=opt_mss(), ack=old + 1)
    k.c("R", seq=old + 1)


def synack_from_client(cap, n):
    """After the server's SYN-ACK the client sends a SYN-ACK of its own (its SYN again, with
    ACK) although the server never sent a bare SYN. The server answers with a challenge ACK
    (RFC 9293 3.10.7.4, RFC 5961 4) and the connection goes on normally."""
    k = Conn(cap, n)
    cisn = k.nxt["c"]
    k.c("S", opts=opt_mss())
    k.s("SA", opts=opt_mss())
    k.c("SA", seq=cisn, opts=opt_mss())
    k.s("A")
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


def final_ack_wrong(cap, n):
    """The ACK completing the handshake acknowledges more than the SYN-ACK; the server in
    SYN-RECEIVED answers the unacceptable ACK with <SEQ=SEG.ACK><CTL=RST>."""
    k = Conn(cap, n)
    sisn = k.nxt["s"]
    k.c("S", opts=opt_mss())
    k.s("SA", opts=opt_mss())
    k.c("A", ack=sisn + 1 + 0x10000)
    k.s("R", seq=sisn + 1 + 0x10000)


def simultaneous_open(cap, n):
    """RFC 9293 3.5 figure 8: both sides send a bare SYN, then each a SYN-ACK."""
    k = Conn(cap, n)
    cisn, sisn = k.nxt["c"], k.nxt["s"]
    k.c("S", opts=opt_mss())
    k.s("S", opts=opt_mss(), dt=0.0005)
    k.c("SA", seq=cisn, opts=opt_mss())
    k.s("SA", seq=sisn, opts=opt_mss(), dt=0.0005)
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


def data_before_established(cap, n):
    """The request rides on the SYN (no Fast Open option). The server queues it and its SYN-ACK
    acknowledges only the SYN (RFC 9293 3.10.7.2: RCV.NXT = SEG.SEQ+1); the data is
    acknowledged once the connection is established, so the client never resends it."""
    k = Conn(cap, n)
    cisn = k.nxt["c"]
    k.c("S", request(n), opts=opt_mss())
    k.s("SA", opts=opt_mss(), ack=cisn + 1)
    k.c("A")
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


def half_open(cap, n):
    """After one exchange the server reboots (nothing on the wire). The client's next request
    reaches a host without a connection, which answers <SEQ=SEG.ACK><CTL=RST>
    (RFC 9293 3.10.7.1): no ACK flag, at exactly the client's acknowledgement number."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.c("PA", request(n), dt=0.5)
    k.s("R", seq=k.nxt["s"])


def data_after_close(cap, n):
    """The client sends its FIN, then 30 more bytes beyond it. The server ignores them
    (RFC 9293 3.10.7.4, CLOSE-WAIT: 'ignore the segment text') and closes."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("FA")
    fin_ack = k.nxt["c"]
    k.s("A")
    k.c("PA", b"X-Late: sent after the FIN\r\n\r\n")
    k.s("FA", ack=fin_ack)
    k.c("A")


def syn_inside_connection(cap, n):
    """An established connection whose end the capture never shows, then a bare SYN with a new
    ISN on the same 4-tuple: the old record gets syn_inside_connection, the new one (which
    completes normally) port_reuse."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.nxt = {"c": client_isn(n) + 0x00800000, "s": server_isn(n) + 0x00800000}  # new ISNs
    k.c("S", opts=opt_mss(), dt=0.5)
    k.s("SA", opts=opt_mss())
    k.c("A")
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


def window_shrink(cap, n):
    """Window scale 7 on both SYNs. After the exchange the server sends a window update that
    moves the right edge of its window 309 * 128 bytes to the left (memory pressure):
    RFC 9293 3.8.6 says a receiver should not shrink its window."""
    k = Conn(cap, n, cwin=502, swin=509)
    k.handshake(copts=opt_mss() + opt_wscale(7), sopts=opt_mss() + opt_wscale(7))
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.s("A", win=200)
    k.win["s"] = 200
    k.client_close()


def out_of_window_segment(cap, n):
    """A small receiver (window scale 0, window 512) and a client that sends three segments
    at once: 256 + 256 bytes fill the window, the next 128 bytes start at its right edge. The
    server takes them anyway and acknowledges everything."""
    k = Conn(cap, n, cwin=502, swin=512)
    k.handshake(copts=opt_mss() + opt_wscale(7), sopts=opt_mss() + opt_wscale(0), swin=512)
    body = (b"0123456789abcdef" * 16)
    k.c("PA", b"POST /9010 HTTP/1.0\r\n\r\n" + body[:256 - 23])
    k.c("A", body, dt=0.0002)
    k.c("PA", body[:128], dt=0.0002)
    k.s("A")
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


def timestamp_regression(cap, n):
    """TCP timestamps on every segment (RFC 7323, 1 ms ticks); the client's second request
    carries a TSval 1150 ticks lower than its previous segment (e.g. a VM moved to another
    host), then its clock goes on as before. The server accepts it (no PAWS drop)."""
    k = Conn(cap, n)
    ct, st = 3000000, 8000000  # TSval clocks, 1 ms per tick

    def c(flags, data=b"", back=0, dt=STEP):
        nonlocal ct
        ct += round(dt * 1000)
        k.c(flags, data, opts=opt_ts(ct - back, st) if flags != "S" else opt_mss() +
            opt_ts(ct, 0), dt=dt)

    def s(flags, data=b"", dt=STEP):
        nonlocal st
        st += round(dt * 1000)
        k.s(flags, data, opts=opt_ts(st, ct) if flags != "SA" else opt_mss() + opt_ts(st, ct),
            dt=dt)

    c("S")
    s("SA")
    c("A")
    c("PA", request(n))
    s("PA", response(n))
    c("A")
    c("PA", request(n), back=1200, dt=0.05)
    s("PA", response(n))
    c("A")
    c("FA")
    s("FA")
    c("A")


def malformed_options(cap, n):
    """The client's SYN asks for window scale 15; RFC 7323 2.3 allows at most 14 (receivers
    use 14). Everything else is normal; both sides keep their windows constant."""
    k = Conn(cap, n, cwin=4, swin=509)
    k.handshake(copts=opt_mss() + opt_wscale(15), sopts=opt_mss() + opt_wscale(7))
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


def rst_with_data(cap, n):
    """The server rejects the request with a RST that carries a diagnostic text
    (RFC 9293 3.5.3 allows data on a RST)."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    k.s("RA", b"request refused by policy\n")


def illegal_syn_fin(cap, n):
    """A lone SYN+FIN probe (a scanner's); the listening server drops it silently."""
    k = Conn(cap, n)
    k.c("SF", win=1024)


def illegal_null(cap, n):
    """A lone segment with no flags at all (null scan); dropped silently."""
    k = Conn(cap, n)
    k.c("", win=1024)


def illegal_xmas(cap, n):
    """A lone FIN+PSH+URG segment without ACK (Xmas scan); dropped silently."""
    k = Conn(cap, n)
    k.c("FPU", win=1024)


def rst_out_of_window(cap, n):
    """A forged RST (blind reset attack) whose sequence number is 20000 bytes past RCV.NXT:
    inside the client's receive window (64240) but not at RCV.NXT, so the client answers with
    a challenge ACK (RFC 5961 3.2) and the connection goes on. The server's own window is
    8192, so the RST is outside that one."""
    k = Conn(cap, n, swin=8192)
    k.handshake(swin=8192)
    k.c("PA", request(n))
    k.s("PA", response(n))
    k.c("A")
    k.s("R", seq=k.nxt["s"] + 20000, dt=0.1)
    k.c("A")
    k.client_close()


def data_after_reset(cap, n):
    """The client aborts (RST+ACK) while the server's response is already on its way: the data
    crosses the RST, and the client, without a connection now, answers it with
    <SEQ=SEG.ACK><CTL=RST>."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    k.s("A")
    k.c("RA")
    k.s("PA", response(n), dt=0.0005)
    k.c("R", seq=k.nxt["c"])


def out_of_order(cap, n):
    """The server's response in two segments; the capture sees the second one 0.4 ms before
    the first (reordered on the way, well within the 4 ms handshake round trip)."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    first = k.nxt["s"]
    resp = response(n, 600)
    k.lost("s", 300)
    k.s("PA", resp[300:])
    k.s("A", resp[:300], seq=first, dt=0.0004)
    k.c("A")
    k.client_close()


def segment_not_captured(cap, n):
    """A 900-byte response in three segments; the capture misses the middle one, which the
    client acknowledges (it arrived)."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    resp = response(n, 900)
    k.s("A", resp[:300])
    k.lost("s", 300)
    k.s("PA", resp[600:], dt=0.0002)
    k.c("A")
    k.client_close()


def ack_of_unseen_data(cap, n):
    """A 450-byte response in two segments; the capture misses the last one, and the client's
    ACK acknowledges it. The connection stays open (persistent HTTP) until the capture ends."""
    k = Conn(cap, n)
    k.handshake()
    k.c("PA", request(n))
    k.s("A", response(n, 300))
    k.lost("s", 150)
    k.c("A", dt=0.0022)


def bad_checksum(cap, n):
    """The request arrives with a bit flipped in its payload (its TCP checksum no longer
    matches); the server drops it, and the client retransmits it after its 200 ms RTO."""
    k = Conn(cap, n)
    k.handshake()
    seq = k.nxt["c"]
    k.c("PA", request(n), corrupt=True)
    k.c("PA", request(n), seq=seq, dt=0.214)
    k.s("PA", response(n))
    k.c("A")
    k.client_close()


SCENARIOS = [
    clean,  # 9000
    synack_wrong_ack,  # 9001
    synack_from_client,  # 9002
    final_ack_wrong,  # 9003
    simultaneous_open,  # 9004
    data_before_established,  # 9005
    half_open,  # 9006
    data_after_close,  # 9007
    syn_inside_connection,  # 9008
    window_shrink,  # 9009
    out_of_window_segment,  # 9010
    timestamp_regression,  # 9011
    malformed_options,  # 9012
    rst_with_data,  # 9013
    illegal_syn_fin,  # 9014
    illegal_null,  # 9015
    illegal_xmas,  # 9016
    rst_out_of_window,  # 9017
    data_after_reset,  # 9018
    out_of_order,  # 9019
    segment_not_captured,  # 9020
    ack_of_unseen_data,  # 9021
    bad_checksum,  # 9022
]


def write(scenarios, default_name, first_n=0):
    """Run each scenario on a fresh whole second and write the capture (argv[1] or the
    default name next to this script)."""
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, default_name)
    cap = Capture()
    for n, scenario in enumerate(scenarios):
        if n:
            cap.t = (cap.t // 1000000 + 2) * 1000000  # a whole second, at least 1 s later
        scenario(cap, first_n + n)
    size = cap.write(path)
    print("%s: %d packets, %d connections, %d bytes" % (path, len(cap.records), len(scenarios),
                                                       size))


def main():
    write(SCENARIOS, "crafted-anomalies.pcap")


if __name__ == "__main__":
    main()
