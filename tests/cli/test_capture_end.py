#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every stuck state of the anomaly catalogue, on real Linux TCP, captured five ways.

Two network namespaces joined by a veth pair (198.18.44.1 client, 198.18.44.2 server). Seven
connections, one per port, are left stuck the way real services and networks leave them: a
server that never closes after the client's FIN (CLOSE_WAIT, and the client in FIN_WAIT_2), a
FIN never acknowledged (FIN_WAIT_1), a last FIN never acknowledged (LAST_ACK), a handshake
whose final ACK is lost (SYN_RECEIVED), a SYN that nothing answers (SYN_SENT), a receiver that
stops reading (a zero window) and a client whose data is never acknowledged (half-open,
talking into silence). Packets are lost with iptables inside the namespaces, before the
capture point, as a network would lose them.

The same traffic is captured at once, on the client's veth, five ways:
  (a) tcpdump -U -w a.pcap, then tcpstate --capture-end <when tcpdump was stopped> (the
      recipe of docs/ci.md); and a buffered tcpdump -w, whose last write is at its exit,
      with --capture-end mtime;
  (b) dumpcap -w b.pcapng (Interface Statistics Blocks), then tcpstate with no flag;
  (c) tcpstate -i DEV -w c.pcapng, then tcpstate c.pcapng with no flag;
  (d) tcpdump -U -w - | tcpstate -   (a live stream);
  (e) tcpstate -i DEV.
All are stopped a few seconds after the last leak, at the moment `ss -tan` reads the kernel's
own socket states in both namespaces. Every way must report the same stuck findings, on the
endpoints the kernel shows stuck, with durations that agree within the capture's own timing,
and the live run's verdict must be what its own -w file gives offline.

It skips (exit 77) when not root or when ip netns, iptables, tcpdump or dumpcap cannot be used.
usage: test_capture_end.py TCPSTATE_BIN SOURCE_DIR   (KEEP_WORK=1 keeps the files)
       test_capture_end.py --helper server|client   (run inside a namespace by the test)
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from clitest import check, failed, finish, note
from netnslab import Skip, VethLab, cleanup_on_sigterm, out, recv_exact, run, why_not

C_ADDR = "198.18.44.1"
S_ADDR = "198.18.44.2"
REQ = 200
HOLD = 5.0  # seconds every stuck state lasts before the captures stop (> --stuck-after 3)
TOLERANCE = 1.0  # seconds the five ways' durations may differ (they stop one after another)
SKIP = 77

# port -> (what is left stuck, {finding type: endpoint}, {endpoint: kernel state})
SCENARIOS = {
    7001: ("the server never closes after the client's FIN",
           {"close_wait_stuck": "server", "fin_wait_2_stuck": "client"},
           {"client": "FIN_WAIT_2", "server": "CLOSE_WAIT"}),
    7002: ("the client's FIN is never acknowledged",
           {"fin_wait_1_stuck": "client"}, {"client": "FIN_WAIT_1"}),
    7003: ("the server's last FIN is never acknowledged",
           {"last_ack_stuck": "server"}, {"server": "LAST_ACK"}),
    7004: ("the handshake's final ACK is lost",
           {"handshake_incomplete": "server"}, {"server": "SYN_RECEIVED"}),
    7005: ("nothing answers the SYN",
           {"syn_unanswered": "client"}, {"client": "SYN_SENT"}),
    7006: ("the receiver stops reading",
           {"zero_window_stall": "server"}, {}),
    7007: ("the client talks into silence (the server's replies are lost)",
           {"half_open": "client"}, {"client": "ESTABLISHED"}),
}
STUCK_TYPES = {t for _, f, _ in SCENARIOS.values() for t in f} | {"half_open"}
# Losses, set inside the namespaces before anything is sent (iptables, nf_tables backend).
RULES = {
    "s": [["-A", "OUTPUT", "-p", "tcp", "--sport", "7002", "--tcp-flags", "SYN", "NONE",
           "-j", "DROP"],  # all but the SYN-ACK: the server's ACK of the FIN is lost
          ["-A", "INPUT", "-p", "tcp", "--dport", "7005", "-j", "DROP"],
          ["-A", "OUTPUT", "-p", "tcp", "--sport", "7007", "--tcp-flags", "SYN", "NONE",
           "-j", "DROP"]],  # all but the SYN-ACK: the client's data is never acknowledged
    "c": [["-A", "OUTPUT", "-p", "tcp", "--dport", "7003", "--tcp-flags", "ALL", "ACK",
           "-j", "DROP"],  # bare ACKs: the last one, of the server's FIN
          ["-A", "OUTPUT", "-p", "tcp", "--dport", "7004", "--tcp-flags", "ALL", "ACK",
           "-j", "DROP"]],  # the handshake's final ACK
}
SS_TO_RFC = {
    "ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECEIVED",
    "FIN-WAIT-1": "FIN_WAIT_1", "FIN-WAIT-2": "FIN_WAIT_2", "TIME-WAIT": "TIME_WAIT",
    "CLOSE-WAIT": "CLOSE_WAIT", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING",
}

# ---------------------------------------------------------------- helpers run in a namespace


def server():
    held = []

    def listener(port, rcvbuf=None):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        ls.bind((S_ADDR, port))
        ls.listen(8)
        held.append(ls)
        return ls

    def serve(port, rcvbuf=None):
        ls = listener(port, rcvbuf)
        while True:
            s, _ = ls.accept()
            held.append(s)
            s.settimeout(30)
            if port == 7001:  # reads to the FIN, then forgets to close
                recv_exact(s, REQ)
                while s.recv(4096):
                    pass
                out("eof 7001")
            elif port == 7003:  # reads to the FIN and closes: its FIN is never acked
                recv_exact(s, REQ)
                while s.recv(4096):
                    pass
                s.close()
                out("closed 7003")
            # 7002, 7007: hold; 7006: never reads

    for port, buf in ((7001, None), (7002, None), (7003, None), (7006, 2048), (7007, None)):
        threading.Thread(target=serve, args=(port, buf), daemon=True).start()
    listener(7004)  # the kernel answers; the handshake never completes, nothing to accept
    listener(7005)  # the SYNs are dropped before they reach it
    out("ready")
    while True:
        time.sleep(60)


def client():
    held = []
    req = b"q" * REQ

    def conn(port, blocking=True):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        held.append(s)
        if port == 7006:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        if not blocking:
            s.setblocking(False)
            s.connect_ex((S_ADDR, port))
            return s
        s.settimeout(10)
        s.connect((S_ADDR, port))
        return s

    s = conn(7001)
    s.sendall(req)
    s.shutdown(socket.SHUT_WR)  # FIN, and the socket kept: FIN_WAIT_2 for as long as it lives
    s = conn(7002)
    time.sleep(0.2)
    s.close()  # FIN_WAIT_1: the FIN is retransmitted, never acknowledged
    s = conn(7003)
    s.sendall(req)
    s.close()
    conn(7004)  # the client believes it is established
    conn(7005, blocking=False)
    s = conn(7007)
    s.sendall(req)  # retransmitted with backoff, never acknowledged
    s = conn(7006)
    s.setblocking(False)
    try:
        while True:
            s.send(b"z" * 4096)
    except BlockingIOError:
        pass  # the receiver's window is closed
    out("done")
    while True:
        time.sleep(60)


def helper(argv):
    {"server": server, "client": client}[argv[0]]()

# ---------------------------------------------------------------- the test


class Lab(VethLab):
    def __init__(self, tmp):
        super().__init__("ce", __file__, C_ADDR, S_ADDR)
        self.tmp = tmp

    def up(self):
        super().up()
        for side, rules in RULES.items():
            ns = self.ns_c if side == "c" else self.ns_s
            for r in rules:
                p = run(["ip", "netns", "exec", ns, "iptables"] + r)
                if p.returncode != 0:
                    raise Skip(f"iptables in a namespace: {p.stderr.strip()}")

    def bg(self, args, name, ns=None, stdin=None, stdout=None):
        err = open(os.path.join(self.tmp, name + ".err"), "w+")
        p = subprocess.Popen(["ip", "netns", "exec", ns or self.ns_c] + args, stdin=stdin,
                             stdout=stdout if stdout is not None else subprocess.DEVNULL,
                             stderr=err)
        p.errfile = err
        self.procs.append(p)
        return p

    def wait_line(self, p, word, timeout=10):
        t = time.monotonic() + timeout
        while time.monotonic() < t:
            p.errfile.seek(0)
            if word in p.errfile.read():
                return
            if p.poll() is not None:
                break
            time.sleep(0.05)
        p.errfile.seek(0)
        raise RuntimeError(f"{p.args}: no '{word}': {p.errfile.read()[-400:]}")

    def ss(self):
        """{(server port, 'client'|'server'): RFC state} as the kernel has them now."""
        got = {}
        for ns, side in ((self.ns_c, "client"), (self.ns_s, "server")):
            p = run(["ip", "netns", "exec", ns, "ss", "-tanH"], timeout=10)
            for line in p.stdout.splitlines():
                f = line.split()
                if len(f) < 5 or f[0] not in SS_TO_RFC:
                    continue
                lport = int(f[3].rsplit(":", 1)[1])
                pport = int(f[4].rsplit(":", 1)[1])
                port = pport if side == "client" else lport
                if port in SCENARIOS:
                    got[(port, side)] = SS_TO_RFC[f[0]]
        return got


def tcpstate(args, timeout=60):
    return subprocess.run([BIN] + args, capture_output=True, text=True, timeout=timeout)


def stuck_findings(doc):
    """{(server port, type, endpoint): duration} of the stuck kinds, and the records' final
    states {(server port, endpoint): state}."""
    found, states = {}, {}
    for c in doc["connections"]:
        port = c["server"]["port"]
        if port not in SCENARIOS:
            continue
        for side in ("client", "server"):
            states[(port, side)] = c[side]["state"]
        for a in c["anomalies"]:
            if a["type"] in STUCK_TYPES:
                found[(port, a["type"], a["endpoint"])] = a.get("duration")
    return found, states


OPTS = ["--stuck-after", "3"]


def main():
    global BIN
    BIN, _src = os.path.abspath(sys.argv[1]), sys.argv[2]
    why = why_not(["tcpdump", "dumpcap", "iptables", "ss"],
                  "tcpdump, wireshark-common (dumpcap), iptables and iproute2",
                  "creates network namespaces")
    if why:
        print(f"skip: {why}")
        return SKIP
    cleanup_on_sigterm()
    tmp = tempfile.mkdtemp(prefix="tcpstate-end-")
    lab = Lab(tmp)
    try:
        lab.up()
        dev = lab.dev_c
        f = lambda n: os.path.join(tmp, n)  # noqa: E731
        # The five captures, all on the client's veth, all started before any traffic.
        cap_a = lab.bg(["tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-w", f("a.pcap"),
                        "tcp"], "a")
        cap_a2 = lab.bg(["tcpdump", "-i", dev, "-n", "-w", f("a2.pcap"), "tcp"], "a2")
        cap_b = lab.bg(["dumpcap", "-q", "-i", dev, "-f", "tcp", "-w", f("b.pcapng")], "b")
        live_c = lab.bg([BIN, "-i", dev, "--filter", "tcp", "-w", f("c.pcapng"), "-o",
                         f("c-live.json")] + OPTS, "c")
        with open(f("d.json"), "w") as d_out:
            cap_d = lab.bg(["tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-w", "-",
                            "tcp"], "d-tcpdump", stdout=subprocess.PIPE)
            stream_d = subprocess.Popen([BIN, "-"] + OPTS, stdin=cap_d.stdout, stdout=d_out,
                                        stderr=open(f("d.err"), "w"))
            cap_d.stdout.close()
            lab.procs.append(stream_d)
        # (d) again with NDJSON read as it comes: a stuck state must be announced while the
        # stream is silent, not only when it ends.
        cap_d2 = lab.bg(["tcpdump", "-i", dev, "-n", "-U", "--immediate-mode", "-w", "-",
                         "tcp"], "d2-tcpdump", stdout=subprocess.PIPE)
        stream_d2 = subprocess.Popen([BIN, "--format", "ndjson", "-"] + OPTS,
                                     stdin=cap_d2.stdout, stdout=subprocess.PIPE,
                                     stderr=open(f("d2.err"), "w"))
        cap_d2.stdout.close()
        lab.procs.append(stream_d2)
        announced = []

        def read_ndjson():
            for line in stream_d2.stdout:
                ev = json.loads(line)
                if ev.get("type") == "anomaly":
                    announced.append((time.time(), ev))

        reader = threading.Thread(target=read_ndjson, daemon=True)
        reader.start()
        live_e = lab.bg([BIN, "-i", dev, "--filter", "tcp", "-o", f("e.json")] + OPTS, "e")
        lab.wait_line(cap_a, "listening on")
        lab.wait_line(cap_a2, "listening on")
        lab.wait_line(cap_d, "listening on")
        lab.wait_line(cap_d2, "listening on")
        lab.wait_line(cap_b, "Capturing on")
        time.sleep(1.0)  # tcpstate -i says nothing when it is ready: give it its second

        srv = lab.spawn(lab.ns_s, "server")
        if srv.stdout.readline().decode().strip() != "ready":
            raise RuntimeError("server did not start")
        cli = lab.spawn(lab.ns_c, "client")
        if cli.stdout.readline().decode().strip() != "done":
            raise RuntimeError("client did not finish its connections")
        time.sleep(HOLD)

        # The moment the capture ends: the kernel's states, then every capture stopped.
        kernel = lab.ss()
        stop_at = time.time()
        early = [ev for t, ev in announced if t < stop_at]
        for p in (cap_a, cap_a2, cap_b, live_c, cap_d, cap_d2, live_e):
            p.send_signal(signal.SIGINT)
        rcs = {}
        for name, p in (("a", cap_a), ("a2", cap_a2), ("b", cap_b), ("c", live_c), ("d", cap_d),
                        ("d-tcpstate", stream_d), ("d2", cap_d2), ("d2-tcpstate", stream_d2),
                        ("e", live_e)):
            rcs[name] = p.wait(timeout=20)
            lab.procs.remove(p)
        note(f"stopped at {stop_at:.6f}; exits {rcs}")
        check("the captures and live runs stopped cleanly on SIGINT",
              all(rc == 0 for rc in rcs.values()), rcs)

        reader.join(timeout=10)
        kinds = sorted({ev["anomaly"]["type"] if "anomaly" in ev else ev.get("kind", "?")
                        for ev in early})
        note(f"announced on the NDJSON stream before it ended: {kinds}")
        check("d tcpdump | tcpstate --format ndjson -: close_wait_stuck announced while the "
              "stream was silent, before it ended", "close_wait_stuck" in kinds, announced[:3])

        # The kernel's ground truth for each leak.
        for port, (what, _, want) in SCENARIOS.items():
            for side, state in want.items():
                check(f"kernel: {port} ({what}): {side} in {state}",
                      kernel.get((port, side)) == state, kernel)

        ways = {}
        ways["a --capture-end T"] = tcpstate(OPTS + ["--capture-end", f"{stop_at:.6f}",
                                                     f("a.pcap")])
        ways["a buffered, --capture-end mtime"] = tcpstate(OPTS + ["--capture-end", "mtime",
                                                                   f("a2.pcap")])
        ways["b dumpcap pcapng"] = tcpstate(OPTS + [f("b.pcapng")])
        ways["c tcpstate -w pcapng"] = tcpstate(OPTS + [f("c.pcapng")])
        docs = {}
        for name, p in ways.items():
            check(f"{name}: exit 0", p.returncode == 0, p.stderr)
            docs[name] = json.loads(p.stdout) if p.returncode == 0 else None
        for name, path in (("c tcpstate -i -w (live)", "c-live.json"),
                           ("d tcpdump | tcpstate -", "d.json"), ("e tcpstate -i", "e.json")):
            with open(f(path)) as fh:
                text = fh.read()
            docs[name] = json.loads(text) if text else None
            check(f"{name}: a report", docs[name] is not None)
        if failed():
            return 1

        want_source = {"a --capture-end T": "option", "a buffered, --capture-end mtime": "option",
                       "b dumpcap pcapng": "pcapng-isb", "c tcpstate -w pcapng": "pcapng-isb",
                       "c tcpstate -i -w (live)": "live", "d tcpdump | tcpstate -": "stream",
                       "e tcpstate -i": "live"}
        results = {}
        for name, doc in docs.items():
            capsum = doc["summary"]["capture"]
            check(f"{name}: end_source {want_source[name]}, end within {TOLERANCE} s of the stop",
                  capsum["end_source"] == want_source[name] and
                  abs(capsum["end"] - stop_at) <= TOLERANCE, capsum)
            results[name] = stuck_findings(doc)

        base_name = "a --capture-end T"
        base, base_states = results[base_name]
        for port, (what, findings, want) in SCENARIOS.items():
            for t, who in findings.items():
                check(f"{base_name}: {port} ({what}): {t} on the {who}",
                      (port, t, who) in base, sorted(base))
            for side, state in want.items():
                check(f"{base_name}: {port}: {side} ends in {state}, as the kernel says",
                      base_states.get((port, side)) == state, base_states)
        for name, (found, states) in results.items():
            if name == base_name:
                continue
            check(f"{name}: the same stuck findings as {base_name}",
                  sorted(found) == sorted(base), (sorted(found), sorted(base)))
            far = {k: (found[k], base[k]) for k in found.keys() & base.keys()
                   if found[k] is not None and base[k] is not None and
                   abs(found[k] - base[k]) > TOLERANCE}
            check(f"{name}: stuck durations within {TOLERANCE} s of {base_name}", not far, far)
            diff = {k: (states.get(k), v) for k, v in base_states.items() if states.get(k) != v}
            check(f"{name}: the same final states", not diff, diff)
        live, saved = docs["c tcpstate -i -w (live)"], docs["c tcpstate -w pcapng"]
        check("the live run's -w pcapng gives offline exactly the live verdict and findings",
              live["verdict"] == saved["verdict"] and
              [c["anomalies"] for c in live["connections"]] ==
              [c["anomalies"] for c in saved["connections"]])
        # Without an end, the last packet is all a pcap file says: the recipe's old gap.
        old = tcpstate(OPTS + ["--capture-end", "last-packet", f("a.pcap")])
        old_found, _ = stuck_findings(json.loads(old.stdout))
        note(f"measured to the last packet only: {len(old_found)} of {len(base)} stuck findings")
        check("--capture-end last-packet measures less than the end of the capture does",
              len(old_found) <= len(base) and
              all(old_found[k] <= base[k] + 1e-6 for k in old_found.keys() & base.keys()
                  if old_found[k] is not None and base[k] is not None))
    except Skip as e:
        print(f"skip: {e}")
        return SKIP
    finally:
        lab.close()
        if os.environ.get("KEEP_WORK") == "1":
            note(f"work files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--helper":
        helper(sys.argv[2:])
    else:
        sys.exit(main())
