#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bench_smoke.py - ctest smoke test of tcpstate-gen, tcpstate-floor and tcpstate on its output.

Usage: bench_smoke.py TCPSTATE_GEN TCPSTATE [TCPSTATE_FLOOR]

Checks that the generator is deterministic (same seed: byte-identical; other seed: different),
that its checksums are right (tcpstate --verify-checksums on a full-payload capture), and that
tcpstate sees, in a 20k-connection capture, exactly the connections and the anomalies the
generator says it injected.  The generator injects nothing by accident (unique 4-tuples, no
loss, no reordering), so every count is exact and no other warning may appear.  Also checks
that streaming the capture through a pipe (`tcpstate-gen -o - | tcpstate -`) gives the same
counts as reading the file.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def gen_summary(stderr):
    line = [l for l in stderr.decode().splitlines() if l.startswith("tcpstate-gen:")]
    if not line:
        sys.exit("no summary line from tcpstate-gen: %r" % stderr)
    return {k: float(v) if "." in v else int(v) for k, v in re.findall(r"(\w+)=([\d.]+)", line[-1])}


def run_gen(gen, args, out):
    p = subprocess.run([gen] + args + ["-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("tcpstate-gen %s failed: %s" % (args, p.stderr.decode()))
    return gen_summary(p.stderr)


def run_tcpstate(tcpstate, args, stdin=None):
    p = subprocess.run([tcpstate] + args, stdin=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    if p.returncode != 0:
        sys.exit("tcpstate %s failed (%d): %s" % (args, p.returncode, p.stderr.decode()))
    return json.loads(p.stdout)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    gen, tcpstate = sys.argv[1], sys.argv[2]
    floor = sys.argv[3] if len(sys.argv) > 3 else None
    with tempfile.TemporaryDirectory(prefix="bench_smoke.") as tmp:
        a, b, c = (os.path.join(tmp, n) for n in ("a.pcap", "b.pcap", "c.pcap"))

        # 1. Determinism, to a file and to standard output.
        args = ["--seed", "42", "--connections", "3000", "--concurrency", "300"]
        sa = run_gen(gen, args, a)
        with open(b, "wb") as f:
            p = subprocess.run([gen] + args + ["-o", "-"], stdout=f, stderr=subprocess.PIPE)
        check(p.returncode == 0, "tcpstate-gen -o - exits 0")
        with open(a, "rb") as fa, open(b, "rb") as fb:
            check(fa.read() == fb.read(), "same seed gives byte-identical output (file vs stdout)")
        run_gen(gen, ["--seed", "43", "--connections", "3000", "--concurrency", "300"], c)
        with open(a, "rb") as fa, open(c, "rb") as fc:
            check(fa.read() != fc.read(), "another seed gives another capture")
        check(os.path.getsize(a) == sa["file_bytes"], "file_bytes matches the file size")
        check(600 <= sa["bytes"] / sa["packets"] <= 800,
              "mean frame size ~700 B (got %.0f)" % (sa["bytes"] / sa["packets"]))

        # 2. Checksums: full payloads, all verifiable, none wrong.
        r = run_tcpstate(tcpstate, ["--verify-checksums", "--connections", "none", a])
        check(r["stats"]["bad_checksum"] == 0, "no bad checksums (got %d)" % r["stats"]["bad_checksum"])
        check(r["stats"]["checksum_unverifiable"] == 0, "full shape: every segment verifiable")
        check(r["inputs"][0]["nanosecond"] is True, "nanosecond pcap")
        check(r["inputs"][0]["link_type_id"] == 1, "LINKTYPE_ETHERNET")
        if floor:
            p = subprocess.run([floor, "--parse", a], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            check(p.returncode == 0, "tcpstate-floor --parse exits 0")
            fl = dict(re.findall(r"(\w+)=(\S+)", p.stdout.decode()))
            check(int(fl.get("packets", -1)) == sa["packets"], "floor counts every packet")
            check(int(fl.get("tcp", -1)) == sa["packets"], "floor parses every packet as TCP")
            check(int(fl.get("bytes", -1)) == sa["bytes"], "floor sums the original lengths")

        # 3. 20k connections, headers only: what was injected is what tcpstate reports.
        h = os.path.join(tmp, "h.pcap")
        args = ["--seed", "7", "--connections", "20000", "--concurrency", "1000",
                "--shape", "headers"]
        g = run_gen(gen, args, h)
        r = run_tcpstate(tcpstate, ["--verify-checksums", "--connections", "none", h])
        st, sm = r["stats"], r["summary"]
        an = sm["anomalies"]
        n = g["connections"]
        check(g["packets"] >= 400000, "20k connections give >= 400k packets (got %d)" % g["packets"])
        check(st["packets"] == g["packets"], "packets: %d vs %d" % (st["packets"], g["packets"]))
        check(st["tcp_segments"] == g["packets"], "every packet is a TCP segment")
        check(st["decode_problems"] == 0, "no decode problems: %s" % st["decode_problems_by_reason"])
        check(st["connections"] == n, "connections: %d vs %d generated" % (st["connections"], n))
        check(st["port_reuse_splits"] == 0 and st["evictions"] == 0, "no splits, no evictions")
        check(st["bad_checksum"] == 0, "no bad checksums in the headers capture")
        check(st["checksum_unverifiable"] > 0, "snapped segments are unverifiable")
        check(0.15 <= g["ipv6"] / n <= 0.25, "about 20%% IPv6 (got %d)" % g["ipv6"])

        expect = {
            "syn_unanswered": g["syn_unanswered"],
            "connection_reset": g["resets"],
            "close_wait_stuck": g["close_wait_stuck"],
            "fin_wait_2_stuck": g["close_wait_stuck"],  # the client waits for the FIN too
            "keepalive": g["close_wait_stuck"],  # the CLOSE_WAIT side's keep-alive
            "zero_window": g["zero_window"],
            # data tail losses per side, plus one SYN timeout retransmission per unanswered SYN
            "retransmission": g["retransmission_sides"] + g["syn_unanswered"],
        }
        shares = {"syn_unanswered": (0.01, 0.03), "connection_reset": (0.02, 0.04),
                  "close_wait_stuck": (0.005, 0.015), "zero_window": (0.002, 0.009)}
        for k, v in expect.items():
            check(v > 0, "generator injected some %s" % k)
            check(an.get(k, 0) == v, "%s: tcpstate %d, injected %d" % (k, an.get(k, 0), v))
            if k in shares:
                lo, hi = shares[k]
                check(lo <= v / n <= hi, "%s share %.4f in [%g, %g]" % (k, v / n, lo, hi))
        rate = g["retransmitted_segments"] / g["data_segments"]
        check(0.005 <= rate <= 0.02, "about 1%% of data segments retransmitted (got %.4f)" % rate)
        unexpected = sorted(set(an) - set(expect))
        check(not unexpected, "no other findings on clean generated traffic: %s" % unexpected)
        fs, zs = sm["final_states"], sm["conn_state"]
        check(fs.get("SYN_SENT/LISTEN", 0) == g["syn_unanswered"], "unanswered SYNs end in SYN_SENT")
        check(fs.get("FIN_WAIT_2/CLOSE_WAIT", 0) == g["close_wait_stuck"], "stuck CLOSE_WAIT")
        closed = sum(fs.get(k, 0) for k in ("CLOSED/CLOSED", "TIME_WAIT/CLOSED", "CLOSED/TIME_WAIT"))
        check(closed == n - g["syn_unanswered"] - g["close_wait_stuck"],
              "every other connection ends closed (TIME_WAIT at most): %s" % fs)
        check(zs.get("RSTO", 0) == g["resets_client"], "RSTO = client resets")
        check(zs.get("RSTR", 0) == g["resets_server"], "RSTR = server resets")
        check(zs.get("SF", 0) == g["client_close"] + g["server_close"], "SF = orderly closes")
        check(sm["capture"]["quality"] == "ok", "capture quality ok")

        # 4. Streaming: the same capture through a pipe gives the same counts.
        gp = subprocess.Popen([gen] + args + ["-o", "-"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
        r2 = run_tcpstate(tcpstate, ["--verify-checksums", "--connections", "none", "-"],
                          stdin=gp.stdout)
        gp.stdout.close()
        check(gp.wait() == 0, "tcpstate-gen -o - into a pipe exits 0")
        for key in ("packets", "connections", "closed", "open_at_end", "decode_problems"):
            check(r2["stats"][key] == st[key], "stdin %s: %s vs %s" % (key, r2["stats"][key], st[key]))
        check(r2["summary"] == sm, "stdin summary equals the file's")

    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        return 1
    print("bench_smoke: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
