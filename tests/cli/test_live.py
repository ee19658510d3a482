#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""End-to-end test of live capture (-i) and streaming output (--format ndjson).

Two network namespaces joined by a veth pair (198.18.43.1 client, 198.18.43.2 server). tcpstate
runs inside the client namespace on the client's end of the veth while real Linux connections go
through it, made by small python socket programs run in the namespaces by this script:
  normal   request/response, the client closes first, the server closes after the client's FIN
  leak     the same, but the server never closes: it sits in CLOSE-WAIT (RFC 9293 section 3.6)
  refused  a SYN to a port without a listener: the server's kernel answers RST (connection refused)
  abort    request/response, then the client closes with SO_LINGER {on, 0}: an RST abort

Scenario A (stopped with SIGINT, -f 'tcp or icmp', --timeout-closed 1) and scenario B (stopped by
--duration) assert:
  - every stdout line is one JSON object, "type" first, one of connection | anomaly | stats |
    summary, valid against docs/ndjson.schema.json (when python3-jsonschema is importable); the
    summary line is last; stats.stop is "signal" / "duration", stats.interface the veth; exit 0;
  - lines are streamed: the close_wait_stuck anomaly line (with the leaking connection's id, its
    ports, endpoint "server") is read from the pipe while tcpstate still runs, between
    stuck-after and stuck-after + 2 s after the server saw the FIN, although no packet at all
    reached tcpstate in that time (checked on the -w file: no packet between the connection's last
    packet and the anomaly's ts) - the wall clock drives the stuck-state timer (measured: 2.94 s
    for --stuck-after close_wait=2, as durations are checked once per second of clock);
  - connection_rejected and connection_reset anomaly lines, with the client and server ports of
    the refused and the aborted connection, arrive within 1 s of the event, before the stop;
    in A (--timeout-closed 1) the records of those two terminated connections are streamed
    before the stop as well, ahead of the record of the leak (id 1), written at the stop;
  - stats lines come every --stats-interval of wall clock (also while idle), count the open
    connections by state (a stats line shows the leaking connection as client FIN_WAIT_2 /
    server CLOSE_WAIT) and carry libpcap's counters (no drops; received >= analyzed);
  - one connection line per connection made, ids 1..n, the ports the programs used;
  - each endpoint's final state equals the kernel's socket state from `ss -tan` in its namespace,
    taken after the traffic and right before the stop (a socket the kernel no longer has must be
    CLOSED or LISTEN in the report): normal client TIME_WAIT / server CLOSED; leak client
    FIN_WAIT_2 / server CLOSE_WAIT; refused and abort CLOSED / CLOSED (or LISTEN);
  - the -w identity: `tcpstate FILE` offline on the saved packets gives the same connections.
    Compared per id: the 4-tuple, both final states, per endpoint the packet count and the
    transitions (from, to, frame), first_frame and last_frame, the set of (anomaly type,
    endpoint); and the totals analyzed and tcp_segments. Not compared: times and durations
    (live, still-open connections end at the stop, offline at the last packet, so stuck
    durations differ), end_reason (live, --timeout-closed expires records on the wall clock,
    offline only when a later packet moves the clock), and anything about the capture itself.
    The leak connection is made first and the others only after its anomaly, so that offline
    the capture also lasts longer than --stuck-after past the FIN and close_wait_stuck is found.
Also:
  - C: --format json -o FILE stopped by SIGINT: while running only a temporary file exists;
    after it a complete report (schema-valid) with stop "signal", interrupted, the interface;
  - Z: -Z nobody as root: while capturing the process runs as uid/gid nobody without
    capabilities; the report and the -w file in a world-writable directory belong to nobody;
  - -D lists the veth; a nonexistent interface: exit 2, one line naming it; as user nobody
    (setpriv): exit 2, one line with "permission denied" and "CAP_NET_RAW";
  - a second signal ends the process at once: SIGINT and SIGTERM delivered together (queued
    while the process is stopped with SIGSTOP, then SIGCONT) kill it by the signal, without a
    summary line; SIGINT sent twice back to back ends it within 2 s (exit 0 or killed).

Run time about 18 s. Everything stays inside the two namespaces and a temporary directory; all
addresses are in 198.18.0.0/15; namespaces and processes are removed in all cases (also on
SIGTERM). Skips (exit 77) when not root or when ip netns / veth cannot be used.

usage: test_live.py TCPSTATE_BIN SOURCE_DIR   (KEEP_WORK=1: keep the files of a failed run)
       test_live.py --helper server|client|probe ...   (run inside a namespace by the test)
"""
import glob
import json
import os
import re
import pwd
import select
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

from clitest import check, note, failed, finish
from netnslab import Skip, VethLab, cleanup_on_sigterm, out, recv_exact, run, why_not

C_ADDR = "198.18.43.1"
S_ADDR = "198.18.43.2"
P_NORMAL, P_LEAK, P_ABORT, P_REFUSED = 8080, 9090, 7070, 6060  # 6060: nobody listens
REQ_SIZE = 300
RESP_SIZE = 3000
STUCK = 2.0  # --stuck-after close_wait=STUCK
DURATION = 10.0  # scenario B's --duration (its traffic takes about 7 s)
SKIP = 77

SS_TO_RFC = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECEIVED",
    "FIN-WAIT-1": "FIN_WAIT_1", "FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT",
    "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING",
    "CLOSED": "CLOSED", "LISTEN": "LISTEN", "UNCONN": "CLOSED",
}

# ---------------------------------------------------------------- helpers run in a namespace


BANNER = re.compile(r"^tcpstate: listening on \S+, link-type \S+ \(.*\), snapshot length \d+ bytes$")


def no_banner(err):
    """stderr without the start banner (checked once in its own test)."""
    return "\n".join(line for line in err.splitlines() if not BANNER.match(line))

def handle(s, kind, held):
    peer = s.getpeername()[1]
    s.settimeout(60)
    recv_exact(s, REQ_SIZE)  # all of it: unread data would make close() send a RST
    s.sendall(b"r" * RESP_SIZE)
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        out("reset %d" % peer)  # abort: the client's RST
        s.close()
        return
    if kind == "leak":
        # The bug the test stands for: the server never closes, so its side stays in
        # CLOSE-WAIT until this process goes away (after the capture has stopped).
        held.append(s)
        out("eof %d" % peer)
    else:
        s.close()
        out("closed %d" % peer)


def serve():
    held = []
    listeners = []
    for port, kind in ((P_NORMAL, "normal"), (P_LEAK, "leak"), (P_ABORT, "abort")):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((S_ADDR, port))
        ls.listen(16)
        listeners.append((ls, kind))

    def loop(ls, kind):
        while True:
            s, _ = ls.accept()
            threading.Thread(target=handle, args=(s, kind, held), daemon=True).start()

    for ls, kind in listeners:
        threading.Thread(target=loop, args=(ls, kind), daemon=True).start()
    out("ready")
    while True:
        time.sleep(3600)


def client(kind, port):
    """One connection of the given kind; prints the client port first (bound before connect,
    so it is known even when the connection is refused)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((C_ADDR, 0))
    out("port %d" % s.getsockname()[1])
    if kind == "refused":
        try:
            s.connect((S_ADDR, port))
        except ConnectionRefusedError:
            out("refused")
            return 0
        out("connected?!")
        return 1
    s.connect((S_ADDR, port))
    s.sendall(b"q" * REQ_SIZE)
    recv_exact(s, RESP_SIZE)
    if kind == "abort":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    out("done")
    return 0


def probe():
    """UDP datagrams to a closed port (ICMP port unreachable comes back) until killed: traffic
    that shows the capture is running, without making a TCP connection."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    while True:
        s.sendto(b"probe", (S_ADDR, 9))
        time.sleep(0.05)


def helper(argv):
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if argv[0] == "server":
        serve()
    elif argv[0] == "client":
        return client(argv[1], int(argv[2]))
    elif argv[0] == "probe":
        probe()
    return 0


# ---------------------------------------------------------------- the test

BIN = SRC = None
class Lines:
    """Line reader on a child's stdout pipe with a deadline (no blocking readline); keeps every
    line with the monotonic time it was read."""

    def __init__(self, proc, parse_json=False):
        self.proc, self.buf, self.parse = proc, b"", parse_json
        self.lines = []  # (time read, text, parsed object or None)
        self.eof = False

    def _take(self):
        now = time.monotonic()
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            text = line.decode(errors="replace")
            obj = None
            if self.parse:
                try:
                    obj = json.loads(text)
                except ValueError:
                    obj = None
            self.lines.append((now, text, obj))

    def _read(self, timeout):
        if self.eof:
            return False
        fd = self.proc.stdout.fileno()
        r, _, _ = select.select([fd], [], [], max(timeout, 0))
        if not r:
            return False
        chunk = os.read(fd, 65536)
        if not chunk:
            self.eof = True
            if self.buf:
                self.buf += b"\n"  # an unterminated last line is still a line (and a problem)
                self.unterminated = True
            self._take()
            return False
        self.buf += chunk
        self._take()
        return True

    def pump(self):
        """Read whatever is in the pipe now."""
        while self._read(0):
            pass

    def wait_for(self, pred, timeout, what):
        """The first line so far or to come (within timeout) for which pred is true."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for entry in self.lines[seen:]:
                if pred(entry):
                    return entry
            seen = len(self.lines)
            left = deadline - time.monotonic()
            if left <= 0 or self.eof:
                raise RuntimeError(f"{'end of output' if self.eof else 'timed out'} waiting "
                                   f"for {what} from {self.proc.args[3:5]}")
            self._read(left)

    def to_eof(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self._read(deadline - time.monotonic())
        return self.eof


class Lab(VethLab):
    """The two namespaces, the server in one, tcpstate and clients in the other."""

    def __init__(self, tmp):
        super().__init__("lv", __file__, C_ADDR, S_ADDR)
        self.tmp = tmp
        self.server = None

    def up(self):
        super().up()
        self.server = self.spawn(self.ns_s, "server")
        self.server_lines = Lines(self.server)
        self.server_lines.wait_for(lambda e: e[1] == "ready", 10, "server ready")

    def stop(self, p):
        if p.poll() is None:
            p.terminate()
        p.wait(timeout=5)
        if p in self.procs:
            self.procs.remove(p)

    def client(self, kind, port):
        """One connection; returns its client port and when the client program was done."""
        p = run(self.helper_argv(self.ns_c, "client", kind, port))
        lines = p.stdout.split("\n")
        want = "refused" if kind == "refused" else "done"
        if p.returncode != 0 or want not in lines:
            raise RuntimeError(f"client {kind}: {p.stdout.strip()} {p.stderr.strip()}")
        return int(lines[0].split()[1]), time.monotonic()

    def server_saw(self, word, cport, timeout=10):
        e = self.server_lines.wait_for(lambda e: e[1] == f"{word} {cport}", timeout,
                                       f"server '{word} {cport}'")
        return e[0]

    def tcpstate(self, args, errfile, ns=None):
        """tcpstate in the client namespace (ip netns exec execs it: the pid is tcpstate's)."""
        err = open(errfile, "w+")
        p = subprocess.Popen(["ip", "netns", "exec", ns or self.ns_c, BIN] + args,
                             stdout=subprocess.PIPE, stderr=err, bufsize=0)
        p.errfile = err
        self.procs.append(p)
        return p

    def reap(self, p):
        """Wait (5 s at most) for a process from tcpstate(): (exit status or None, its stderr,
        when it was reaped)."""
        try:
            rc = p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            rc = None
        t_end = time.monotonic()
        self.procs.remove(p)
        p.errfile.seek(0)
        err = p.errfile.read()
        p.errfile.close()
        return rc, err, t_end

    def ss(self):
        """{(local addr, local port, peer addr, peer port): RFC state} over both namespaces."""
        socks = {}
        for ns in (self.ns_c, self.ns_s):
            p = run(["ip", "netns", "exec", ns, "ss", "-tanH"], timeout=10)
            if p.returncode != 0:
                raise RuntimeError(f"ss: {p.stderr.strip()}")
            for line in p.stdout.splitlines():
                f = line.split()
                if len(f) < 5 or f[0] == "LISTEN":
                    continue
                la, lp = f[3].rsplit(":", 1)
                pa, pp = f[4].rsplit(":", 1)
                socks[(la, int(lp), pa, int(pp))] = SS_TO_RFC[f[0]]
        return socks


def read_pcap(path):
    """[(ts in ns, frame bytes)] of a pcap file (either byte order, us or ns timestamps)."""
    with open(path, "rb") as fh:
        data = fh.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError(f"{path}: not a pcap file (magic {magic.hex()})")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    pkts, off = [], 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        pkts.append((sec * 10**9 + (frac if nano else frac * 1000),
                     data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return pkts


def ns_of(ts):
    return round(ts * 1e6) * 1000


def load_validators():
    """Per line type validators from docs/ndjson.schema.json (refers into report.schema.json),
    and the document one; None when python3-jsonschema is not importable."""
    try:
        import schemas
    except ImportError:
        return None
    return schemas.load_validators(SRC)


VALIDATORS = None


def schema_errors(kind, obj):
    if VALIDATORS is None:
        return []
    return [f"{kind}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in VALIDATORS[kind].iter_errors(obj)]


def tuple_of(c):
    return (c["client"]["addr"], c["client"]["port"], c["server"]["addr"], c["server"]["port"])


def state_checks(name, conns, socks):
    """Every endpoint's final state against the kernel's socket (or no socket: CLOSED/LISTEN)."""
    bad = []
    for c in conns:
        for me, peer in (("client", "server"), ("server", "client")):
            e, p = c[me], c[peer]
            want = socks.get((e["addr"], e["port"], p["addr"], p["port"]))
            ok = e["state"] == want if want else e["state"] in ("CLOSED", "LISTEN")
            if not ok:
                bad.append(f"#{c['id']} {me} {e['addr']}:{e['port']}: tcpstate {e['state']}, "
                           f"kernel {want or 'no socket'}")
    check(f"{name}: every endpoint's final state = the kernel's (ss -tan at the stop)",
          not bad and conns, bad)


def comparable(c):
    """What a live record and the offline record of the same -w file must share (see top)."""
    ends = {}
    for s in ("client", "server"):
        e = c[s]
        ends[s] = (e["addr"], e["port"], e["state"], e["packets"],
                   [(t["from"], t["to"], t["frame"]) for t in e["transitions"]])
    return dict(tuple=tuple_of(c), ends=ends, first_frame=c["first_frame"],
                last_frame=c["last_frame"],
                anomalies=sorted({(a["type"], a["endpoint"]) for a in c["anomalies"]}))


def offline_identity(name, pcap, opts, live_conns, live_stats):
    p = run([BIN] + opts + [pcap], timeout=30)
    try:
        rep = json.loads(p.stdout)
    except ValueError:
        check(f"{name}: offline run on the -w file", False, f"exit {p.returncode}: {p.stderr}")
        return
    check(f"{name}: offline run on the -w file exits 0, stop end_of_input",
          p.returncode == 0 and rep["stats"]["stop"] == "end_of_input", (p.returncode, p.stderr))
    live = {c["id"]: comparable(c) for c in live_conns}
    off = {c["id"]: comparable(c) for c in rep["connections"]}
    diff = [(i, live.get(i), off.get(i)) for i in sorted(set(live) | set(off))
            if live.get(i) != off.get(i)]
    check(f"{name}: -w identity: offline = live for ids, 4-tuples, final states, packets, "
          f"transitions, frames, anomaly types ({len(live)} connections)",
          not diff and live, diff)
    check(f"{name}: -w identity: offline analyzed and tcp_segments = live",
          (rep["stats"]["analyzed"], rep["stats"]["tcp_segments"]) ==
          (live_stats["analyzed"], live_stats["tcp_segments"]),
          (rep["stats"]["analyzed"], rep["stats"]["tcp_segments"], live_stats["analyzed"],
           live_stats["tcp_segments"]))


def stream_checks(name, rd, want_stop, lab):
    """Framing, types, schema, summary last; returns (objects, summary) or (None, None)."""
    objs = [e[2] for e in rd.lines]
    bad = [e[1][:200] for e in rd.lines if not isinstance(e[2], dict)]
    check(f"{name}: every line is one JSON object, the output ends with a newline",
          not bad and objs and not getattr(rd, "unterminated", False), bad[:3])
    if bad or not objs:
        return None, None
    types = [o.get("type") for o in objs]
    check(f"{name}: every line's first key is \"type\", one of connection|anomaly|stats|summary",
          all(next(iter(o)) == "type" for o in objs) and
          set(types) <= {"connection", "anomaly", "stats", "summary"}, set(types))
    check(f"{name}: exactly one summary line, the last",
          types.count("summary") == 1 and types[-1] == "summary", types[-3:])
    if VALIDATORS is not None:
        errs = []
        for o in objs:
            if o.get("type") in ("connection", "anomaly", "stats", "summary"):
                errs += schema_errors(o["type"], o)
        check(f"{name}: every line validates against docs/ndjson.schema.json ({len(objs)} lines)",
              not errs, errs[:5])
    summ = objs[-1] if types[-1] == "summary" else None
    if summ:
        st = summ["stats"]
        check(f"{name}: summary stats: stop \"{want_stop}\", interface {lab.dev_c}, "
              f"interrupted {want_stop == 'signal'}",
              st.get("stop") == want_stop and st.get("interface") == lab.dev_c and
              st.get("interrupted") == (want_stop == "signal"),
              {k: st.get(k) for k in ("stop", "interface", "interrupted")})
        cc = st.get("capture", {})
        check(f"{name}: summary: libpcap counters, nothing dropped, received >= analyzed",
              cc.get("dropped") == 0 and cc.get("if_dropped") == 0 and
              cc.get("received", -1) >= st["analyzed"] > 0, (cc, st["analyzed"]))
        check(f"{name}: summary inputs: one, named after the interface, format live",
              len(summ["inputs"]) == 1 and summ["inputs"][0]["name"] == lab.dev_c and
              summ["inputs"][0]["format"] == "live", summ["inputs"])
    return objs, summ


def stats_checks(name, rd, t_from, t_to, interval):
    """Stats lines every `interval` of wall clock."""
    stats = [(t, o) for t, _, o in rd.lines if isinstance(o, dict) and o.get("type") == "stats"]
    ts = [o["ts"] for _, o in stats]
    gaps = [b - a for a, b in zip(ts, ts[1:])]
    span = t_to - t_from
    check(f"{name}: stats lines every {interval:g} s of wall clock while running ({len(stats)} "
          f"over {span:.1f} s; gaps {min(gaps or [0]):.2f}..{max(gaps or [0]):.2f} s)",
          len(stats) >= span / interval - 2 and all(g >= interval - 0.01 for g in gaps) and
          gaps and statistics.median(gaps) <= interval * 1.3, (len(stats), gaps))
    check(f"{name}: every stats line has open connections by state and libpcap counters",
          stats and all("open" in o and "capture" in o and
                        {"received", "dropped"} <= set(o["capture"]) for _, o in stats),
          [o for _, o in stats][:2])
    return stats


def start_ndjson(lab, name, args):
    """tcpstate --format ndjson in the client namespace, probed until a stats line shows that
    packets are being analysed. Returns (proc, reader, time started)."""
    proc = lab.tcpstate(args, os.path.join(lab.tmp, f"{name}.err"))
    t0 = time.monotonic()
    rd = Lines(proc, parse_json=True)
    pr = lab.spawn(lab.ns_c, "probe")
    try:
        rd.wait_for(lambda e: isinstance(e[2], dict) and e[2].get("type") == "stats" and
                    e[2].get("analyzed", 0) > 0, 10, "a stats line with packets")
    finally:
        lab.stop(pr)
    return proc, rd, t0


def is_anomaly(kind, cport=None, sport=None):
    def pred(e):
        o = e[2]
        return (isinstance(o, dict) and o.get("type") == "anomaly" and
                o["anomaly"]["type"] == kind and
                (cport is None or o["client"]["port"] == cport) and
                (sport is None or o["server"]["port"] == sport))
    return pred


def is_conn(cport):
    return lambda e: isinstance(e[2], dict) and e[2].get("type") == "connection" and \
        e[2]["client"]["port"] == cport


def scenario(lab, name, stop):
    """A (stop "signal") or B (stop "duration"); see the top of the file."""
    pcap = os.path.join(lab.tmp, f"{name}.pcap")
    common = ["--stuck-after", f"close_wait={STUCK:g}"]
    if stop == "signal":
        common += ["--timeout-closed", "1"]
        extra = ["-f", "tcp or icmp"]
    else:
        extra = ["--duration", f"{DURATION:g}"]
    args = ["-i", lab.dev_c, "--format", "ndjson", "--stats-interval", "1", "-w", pcap] + \
        common + extra
    proc, rd, t0 = start_ndjson(lab, name, args)

    # 1. The leak: afterwards nothing is sent until the anomaly line has been read.
    leak_port, _ = lab.client("leak", P_LEAK)
    t_eof = lab.server_saw("eof", leak_port)
    t_an, _, an = rd.wait_for(is_anomaly("close_wait_stuck"), STUCK + 6,
                              "the close_wait_stuck anomaly line")
    late = t_an - t_eof
    note(f"{name}: close_wait_stuck line read {late:.2f} s after the server saw the FIN")
    check(f"{name}: close_wait_stuck line streamed {late:.2f} s after the FIN, in "
          f"[{STUCK - 0.2:g}, {STUCK + 2:g}] s, while tcpstate runs",
          STUCK - 0.2 <= late <= STUCK + 2 and proc.poll() is None, late)
    where = {k: an[k] and {"addr": an[k]["addr"], "port": an[k]["port"]}
             for k in ("client", "server")}
    check(f"{name}: it names the leaking connection's ports and the server endpoint",
          where["client"] == {"addr": C_ADDR, "port": leak_port} and
          where["server"] == {"addr": S_ADDR, "port": P_LEAK} and
          an["anomaly"]["endpoint"] == "server", an)
    # tcpstate runs in the client's namespace: only the client is local, and the kernel
    # there has it in FIN_WAIT_2 (orphaned: no owning process) as the finding is raised.
    check(f"{name}: the host view: client kernel_state FIN_WAIT_2, server not local",
          an["client"].get("kernel_state") == "FIN_WAIT_2" and
          an["client"].get("process") is None and
          an["server"].get("kernel_state") is None and an["server"].get("process") is None, an)

    # 2. The rest.
    normal = [lab.client("normal", P_NORMAL)[0] for _ in range(2)]
    for cp in normal:
        lab.server_saw("closed", cp)
    refused, t_ref = lab.client("refused", P_REFUSED)
    t_rej, _, rej = rd.wait_for(is_anomaly("connection_rejected", refused, P_REFUSED), 5,
                                "connection_rejected")
    abort, t_ab = lab.client("abort", P_ABORT)
    lab.server_saw("reset", abort)
    t_rst, _, rst = rd.wait_for(is_anomaly("connection_reset", abort, P_ABORT), 5,
                                "connection_reset")
    check(f"{name}: connection_rejected ({refused}->{P_REFUSED}) and connection_reset "
          f"({abort}->{P_ABORT}) lines streamed within 1 s (after {t_rej - t_ref:.2f} s, "
          f"{t_rst - t_ab:.2f} s)",
          t_rej - t_ref < 1 and t_rst - t_ab < 1 and proc.poll() is None)
    if stop == "signal":
        # --timeout-closed 1: terminated records leave the table on the wall clock.
        for cp in (refused, abort):
            rd.wait_for(is_conn(cp), 5, f"the connection line of client port {cp}")
        check(f"{name}: records of the refused and aborted connections streamed before the stop",
              proc.poll() is None)
    ports = {leak_port: P_LEAK, refused: P_REFUSED, abort: P_ABORT}
    ports.update({cp: P_NORMAL for cp in normal})

    # 3. Stop, with the kernel's view taken right before.
    if stop == "signal":
        time.sleep(0.3)  # the last ACKs
        socks = lab.ss()
        rd.pump()
        n_before = len(rd.lines)
        t_stop = time.monotonic()
        proc.send_signal(signal.SIGINT)
    else:
        wake = t0 + DURATION - 0.8
        note(f"{name}: traffic done {time.monotonic() - t0:.1f} s after the start")
        if time.monotonic() > wake - 0.3:
            raise RuntimeError(f"traffic took too long for --duration {DURATION:g}")
        time.sleep(wake - time.monotonic())
        socks = lab.ss()
        rd.pump()
        n_before = len(rd.lines)
        t_stop = t0 + DURATION
    eof = rd.to_eof(10 if stop == "signal" else DURATION + 10)
    rc, err, t_end = lab.reap(proc)
    if stop == "signal":
        check(f"{name}: SIGINT: exit 0 within 2 s ({t_end - t_stop:.2f} s), stderr empty but the banner",
              eof and rc == 0 and t_end - t_stop < 2 and no_banner(err) == "", (rc, err))
    else:
        check(f"{name}: --duration {DURATION:g}: exit 0 after {t_end - t0:.2f} s (in "
              f"[{DURATION:g}, {DURATION + 2:g}]), stderr empty",
              eof and rc == 0 and DURATION <= t_end - t0 <= DURATION + 2 and no_banner(err) == "",
              (rc, err, t_end - t0))

    banner = [line for line in err.splitlines() if BANNER.match(line)]
    check(f"{name}: stderr's one other line is tcpdump's banner, naming the interface",
          len(banner) == 1 and "listening on " in banner[0] and "link-type EN10MB (Ethernet)"
          in banner[0], err)

    objs, summ = stream_checks(name, rd, stop, lab)
    if objs is None:
        return
    stats = stats_checks(name, rd, t0 + 1.5, t_stop, 1.0)
    conns = [o for o in objs if o["type"] == "connection"]
    anoms = [o for o in objs if o["type"] == "anomaly"]
    by_port = {c["client"]["port"]: c for c in conns}
    check(f"{name}: one connection line per connection made, ids 1..{len(ports)}, the ports used",
          len(conns) == len(ports) and sorted(c["id"] for c in conns) ==
          list(range(1, len(ports) + 1)) and
          all(c["client"]["addr"] == C_ADDR and c["server"]["addr"] == S_ADDR and
              ports.get(c["client"]["port"]) == c["server"]["port"] for c in conns),
          [tuple_of(c) for c in conns])
    if summ:
        check(f"{name}: summary counts the same connections",
              summ["stats"]["connections"] == len(conns) ==
              summ["stats"]["connections_written"], summ["stats"])
    leak = by_port.get(leak_port)
    if not check(f"{name}: every connection has its record", set(by_port) == set(ports)):
        return
    check(f"{name}: the anomaly line's connection id is the leaking connection's record id",
          an["connection"] == leak["id"] and rej["connection"] == by_port[refused]["id"] and
          rst["connection"] == by_port[abort]["id"],
          (an["connection"], leak["id"], rej["connection"], rst["connection"]))
    fin = [t for t in leak["server"]["transitions"] if t["to"] == "CLOSE_WAIT"]
    check(f"{name}: the anomaly's clock time is >= {STUCK:g} s after the FIN (ts "
          f"{an['ts'] - fin[0]['ts'] if fin else '?'} s later)",
          fin and STUCK <= an["ts"] - fin[0]["ts"] < STUCK + 2, (an["ts"], fin))
    pk = read_pcap(pcap)
    # Times in records are rounded to the microsecond: 1 us of margin.
    quiet = [t for t, _ in pk if ns_of(leak["last_ts"]) + 1000 < t < ns_of(an["ts"])]
    check(f"{name}: no packet reached tcpstate between the leak's last packet and the anomaly "
          f"(-w file: {len(pk)} packets, all analysed)",
          not quiet and summ and len(pk) == summ["stats"]["analyzed"], (len(quiet), len(pk)))
    leak_open = [o for _, o in stats if o["open"]["server"].get("CLOSE_WAIT") == 1 and
                 o["open"]["client"].get("FIN_WAIT_2") == 1]
    check(f"{name}: stats lines count the open leak as client FIN_WAIT_2 / server CLOSE_WAIT "
          f"({len(leak_open)} lines)", len(leak_open) >= 2, [o["open"] for _, o in stats])
    cw = [a for a in leak["anomalies"] if a["type"] == "close_wait_stuck"]
    check(f"{name}: the leak's record: close_wait_stuck on the server, still at the stop",
          len(cw) == 1 and cw[0]["endpoint"] == "server" and cw[0]["still_at_capture_end"] and
          leak["open_at_end"], cw)
    expect = {leak_port: ("FIN_WAIT_2", "CLOSE_WAIT"), refused: ("CLOSED", None),
              abort: ("CLOSED", "CLOSED")}
    expect.update({cp: ("TIME_WAIT", "CLOSED") for cp in normal})
    got = {cp: (by_port[cp]["client"]["state"], by_port[cp]["server"]["state"]) for cp in ports}
    check(f"{name}: final states: leak FIN_WAIT_2/CLOSE_WAIT, normal TIME_WAIT/CLOSED, "
          f"refused and abort client CLOSED",
          all(got[cp][0] == w[0] and (w[1] is None or got[cp][1] == w[1])
              for cp, w in expect.items()), got)
    state_checks(name, conns, socks)
    # Every announced finding is in its record, and was announced before the record was written.
    order = {id(o): i for i, o in enumerate(objs)}
    pos = {c["id"]: order[id(c)] for c in conns}
    missing = [(a["connection"], a["anomaly"]["type"]) for a in anoms
               if not any(f["type"] == a["anomaly"]["type"] and
                          f["endpoint"] == a["anomaly"]["endpoint"]
                          for f in next((c for c in conns if c["id"] == a["connection"]),
                                        {"anomalies": []})["anomalies"])
               or order[id(a)] > pos.get(a["connection"], -1)]
    check(f"{name}: every anomaly line precedes its connection's record, which lists it",
          not missing, missing)
    if stop == "signal":
        # Records come as connections end: the aborted and refused ones (higher ids) before the
        # leak (id 1), which is still open at the stop.
        check(f"{name}: records in the order connections ended, not by id",
              pos[by_port[abort]["id"]] < pos[leak["id"]] and
              pos[by_port[refused]["id"]] < pos[leak["id"]] and leak["id"] == 1,
              [c["id"] for c in conns])
    before = {id(e[2]) for e in rd.lines[:n_before]}
    check(f"{name}: the three anomaly lines were read before the stop",
          all(id(o) in before for o in (an, rej, rst)))
    offline = ["--stuck-after", f"close_wait={STUCK:g}"] + \
        (["--timeout-closed", "1"] if stop == "signal" else [])
    if summ:
        offline_identity(name, pcap, offline, conns, summ["stats"])


def json_scenario(lab, name, zuser=None):
    """--format json -o FILE stopped by SIGINT (C), or the same with -Z (Z)."""
    d = tempfile.mkdtemp(prefix=f"tcpstate-live-{name}-")
    lab.extra_dirs.append(d)
    if zuser:
        os.chmod(d, 0o777)  # the dropped user must be able to create files here
    report, pcap = os.path.join(d, "report.json"), os.path.join(d, "saved.pcap")
    args = ["-i", lab.dev_c, "--format", "json", "-o", report, "-w", pcap]
    if zuser:
        args += ["-Z", zuser]
    proc = lab.tcpstate(args, os.path.join(lab.tmp, f"{name}.err"))
    # The report's temporary file is created after the interface is open (and after -Z).
    deadline = time.monotonic() + 10
    while not glob.glob(report + ".tmp.*") and proc.poll() is None and \
            time.monotonic() < deadline:
        time.sleep(0.02)
    if not glob.glob(report + ".tmp.*"):
        proc.errfile.seek(0)
        raise RuntimeError(f"{name}: no temporary report file; exit {proc.poll()}: "
                           f"{proc.errfile.read().strip()}")
    check(f"{name}: while running only the temporary report exists (atomic commit)",
          not os.path.exists(report))
    if zuser:
        with open(f"/proc/{proc.pid}/status") as fh:
            status = dict(l.split(":", 1) for l in fh.read().splitlines() if ":" in l)
        pw = pwd.getpwnam(zuser)
        uids = status["Uid"].split()
        gids = status["Gid"].split()
        check(f"{name}: -Z {zuser}: the capturing process runs as uid/gid {pw.pw_uid}/"
              f"{pw.pw_gid}, no capabilities, not root's groups",
              uids == [str(pw.pw_uid)] * 4 and gids == [str(pw.pw_gid)] * 4 and
              int(status["CapEff"], 16) == 0 and int(status["CapPrm"], 16) == 0 and
              "0" not in status["Groups"].split(),
              {k: status.get(k, "").strip() for k in ("Uid", "Gid", "Groups", "CapEff")})
        check(f"{name}: -Z {zuser}: empty capability bounding set, no_new_privs set "
              "(nothing it runs can regain privileges)",
              int(status["CapBnd"], 16) == 0 and status.get("NoNewPrivs", "").strip() == "1",
              {k: status.get(k, "").strip() for k in ("CapBnd", "NoNewPrivs")})
    cport, _ = lab.client("normal", P_NORMAL)
    lab.server_saw("closed", cport)
    time.sleep(0.3)
    socks = lab.ss()
    t_stop = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rc, err, t_end = lab.reap(proc)
    check(f"{name}: SIGINT: exit 0 within 2 s ({t_end - t_stop:.2f} s), stderr empty",
          rc == 0 and t_end - t_stop < 2 and no_banner(err) == "", (rc, err))
    try:
        with open(report) as fh:
            rep = json.load(fh)
    except (OSError, ValueError) as e:
        check(f"{name}: complete, parseable report", False, e)
        return
    check(f"{name}: no temporary file left", not glob.glob(report + ".tmp.*"))
    if VALIDATORS is not None:
        errs = [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                for e in VALIDATORS["document"].iter_errors(rep)]
        check(f"{name}: the report validates against docs/report.schema.json", not errs, errs[:5])
    st = rep["stats"]
    check(f"{name}: stats: stop \"signal\", interrupted, interface {lab.dev_c}, counters",
          st.get("stop") == "signal" and st.get("interrupted") is True and
          st.get("interface") == lab.dev_c and st.get("capture", {}).get("dropped") == 0, st)
    conns = rep["connections"]
    check(f"{name}: the one connection, client TIME_WAIT / server CLOSED",
          [(c["client"]["port"], c["server"]["port"], c["client"]["state"],
            c["server"]["state"]) for c in conns] ==
          [(cport, P_NORMAL, "TIME_WAIT", "CLOSED")], [tuple_of(c) for c in conns])
    state_checks(name, conns, socks)
    if zuser:
        uid = pwd.getpwnam(zuser).pw_uid
        owners = {os.path.basename(f): os.stat(f).st_uid for f in (report, pcap)}
        check(f"{name}: -Z {zuser}: the report and the -w file belong to {zuser} ({uid})",
              owners == {"report.json": uid, "saved.pcap": uid}, owners)
    p = run([BIN, pcap])
    try:
        off = json.loads(p.stdout)["connections"]
    except (ValueError, KeyError):
        off = None
    check(f"{name}: the -w file holds the connection",
          off is not None and [comparable(c) for c in off] == [comparable(c) for c in conns],
          p.stderr)


def text_scenario(lab):
    """--format text live: the header at once, each connection's row as it ends (before any
    signal), then Ctrl-C: the totals and the verdict, and the verdict's exit status."""
    args = ["-i", lab.dev_c, "--format", "text", "--fail-on", "connection_rejected",
            "--timeout-closed", "1"]
    proc = lab.tcpstate(args, os.path.join(lab.tmp, "T.err"))
    rd = Lines(proc)
    rd.wait_for(lambda e: e[1].lstrip().startswith("ID "), 10, "the table's header")
    refused, _ = lab.client("refused", P_REFUSED)
    row = rd.wait_for(lambda e: f":{refused} " in e[1] and "connection_rejected" in e[1], 10,
                      "the refused connection's row")
    check("T: text live: the header at once, a connection's row as it ends, before any signal",
          row is not None and proc.poll() is None, [t for _, t, _ in rd.lines])
    proc.send_signal(signal.SIGINT)
    rd.to_eof(10)
    rc, err, _ = lab.reap(proc)
    text = "\n".join(t for _, t, _ in rd.lines)
    check("T: Ctrl-C: the totals and the verdict follow, exit status the verdict's (1)",
          rc == 1 and "verdict: FAIL" in text and "connection" in text.split("\n\n")[-1], (rc, text, err))


def second_signal(lab):
    """A second signal exits at once."""
    args = ["-i", lab.dev_c, "--format", "ndjson", "--stats-interval", "0.2"]
    # SIGINT and SIGTERM pending together: the handler of one sees the other already taken.
    proc = lab.tcpstate(args, os.path.join(lab.tmp, "sig2.err"))
    rd = Lines(proc, parse_json=True)
    rd.wait_for(lambda e: isinstance(e[2], dict) and e[2].get("type") == "stats", 10,
                "a stats line")
    proc.send_signal(signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(f"/proc/{proc.pid}/stat") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "T":
                break
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGTERM)
    t = time.monotonic()
    proc.send_signal(signal.SIGCONT)
    rd.to_eof(5)
    try:
        rc = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    dt = time.monotonic() - t
    lab.procs.remove(proc)
    types = [e[2].get("type") for e in rd.lines if isinstance(e[2], dict)]
    check(f"second signal: SIGINT+SIGTERM together kill it by the signal at once ({dt:.2f} s, "
          f"status {rc}), no summary written",
          rc in (-signal.SIGINT, -signal.SIGTERM) and dt < 2 and "summary" not in types,
          (rc, types[-3:]))

    proc = lab.tcpstate(args, os.path.join(lab.tmp, "sig2b.err"))
    rd = Lines(proc, parse_json=True)
    rd.wait_for(lambda e: isinstance(e[2], dict) and e[2].get("type") == "stats", 10,
                "a stats line")
    t = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    rd.to_eof(3)
    try:
        rc = proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        rc = None
    dt = time.monotonic() - t
    lab.procs.remove(proc)
    check(f"second signal: SIGINT twice back to back ends it within 2 s ({dt:.2f} s, status "
          f"{rc})", rc in (0, -signal.SIGINT) and dt < 2, rc)


def error_checks(lab):
    p = run(["ip", "netns", "exec", lab.ns_c, BIN, "-D"])
    names = [l.split(".", 1)[1].split()[0] for l in p.stdout.splitlines() if "." in l]
    check(f"-D: exit 0, lists {lab.dev_c} (in its namespace)",
          p.returncode == 0 and lab.dev_c in names, (p.returncode, p.stdout, p.stderr))

    p = run(["ip", "netns", "exec", lab.ns_c, BIN, "-i", "tcpstnoif0"])
    lines = p.stderr.splitlines()
    check("nonexistent interface: exit 2, one line naming it, nothing on stdout",
          p.returncode == 2 and len(lines) == 1 and lines[0].startswith("tcpstate: ") and
          "tcpstnoif0" in lines[0] and "no such interface" in lines[0] and p.stdout == "",
          (p.returncode, p.stderr))

    # Not root: the binary must be reachable by nobody (a build tree may be private).
    binary = BIN
    if run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN,
            "--version"]).returncode != 0:
        d = tempfile.mkdtemp(prefix="tcpstate-live-bin-")
        lab.extra_dirs.append(d)
        os.chmod(d, 0o755)
        binary = os.path.join(d, "tcpstate")
        shutil.copy2(BIN, binary)
    p = run(["ip", "netns", "exec", lab.ns_c, "setpriv", "--reuid=nobody", "--regid=nogroup",
             "--clear-groups", binary, "-i", lab.dev_c])
    lines = p.stderr.splitlines()
    check("as user nobody: exit 2, one line with 'permission denied' and 'CAP_NET_RAW'",
          p.returncode == 2 and len(lines) == 1 and lines[0].startswith("tcpstate: ") and
          "permission denied" in lines[0] and "CAP_NET_RAW" in lines[0] and p.stdout == "",
          (p.returncode, p.stderr))


def main():
    global BIN, SRC, VALIDATORS
    if len(sys.argv) > 1 and sys.argv[1] == "--helper":
        return helper(sys.argv[2:])
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[-1], file=sys.stderr)
        return 2
    BIN, SRC = os.path.abspath(sys.argv[1]), sys.argv[2]
    t_start = time.monotonic()
    why = why_not(("ip", "ss", "setpriv"), "iproute2 / util-linux",
                  "creates network namespaces, captures")
    if why:
        print(f"skip: {why}")
        return SKIP
    VALIDATORS = load_validators()
    if VALIDATORS is None:
        note("python3-jsonschema not importable: lines are checked without the schema")

    cleanup_on_sigterm()
    tmp = tempfile.mkdtemp(prefix="tcpstate-live-")
    lab = Lab(tmp)
    lab.extra_dirs = []
    try:
        lab.up()
        for label, fn in (("A", lambda: scenario(lab, "A", "signal")),
                          ("B", lambda: scenario(lab, "B", "duration")),
                          ("C", lambda: json_scenario(lab, "C")),
                          ("Z", lambda: json_scenario(lab, "Z", "nobody")),
                          ("T", lambda: text_scenario(lab)),
                          ("signals", lambda: second_signal(lab)),
                          ("errors", lambda: error_checks(lab))):
            t = time.monotonic()
            try:
                fn()
            except (RuntimeError, OSError, ValueError, KeyError, TypeError,
                    subprocess.TimeoutExpired) as e:
                check(f"{label}: setup, traffic and capture", False, f"{type(e).__name__}: {e}")
                # A failed scenario may leave a capture running: end it before the next.
                for p in list(lab.procs):
                    if p is not lab.server and p.poll() is None:
                        p.kill()
                        p.wait(timeout=5)
                    if p is not lab.server:
                        lab.procs.remove(p)
            note(f"{label}: {time.monotonic() - t:.1f} s")
    except Skip as e:
        print(f"skip: {e}")
        return SKIP
    except Exception as e:  # a broken setup is a failure, with its reason
        check("test setup", False, f"{type(e).__name__}: {e}")
    finally:
        lab.close()
        keep = failed() and os.environ.get("KEEP_WORK") == "1"
        if keep:
            print(f"     work files kept in {tmp} {' '.join(lab.extra_dirs)}")
        else:
            for d in [tmp] + lab.extra_dirs:
                shutil.rmtree(d, ignore_errors=True)

    note(f"total time {time.monotonic() - t_start:.1f} s")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
